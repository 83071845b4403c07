"""A hypothesis state machine: the real lease store (real files, real flock, real holder
processes) against a simple model of who holds the tree, over acquire / refresh / release /
clock steps / holder kills. A holder verified alive keeps its lease past the ttl; the ttl
frees only a lease whose holder cannot be verified (session s3 names no holder process)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from worktree_guard.core.identity import process_id
from worktree_guard.core.lease import Caller, LeaseStore, Result
from worktree_guard.core.record import LeaseRecord

TTL = 10_000
SESSIONS = ("s0", "s1", "s2", "s3")
UNVERIFIED = "s3"  # no holder process: its liveness cannot be verified, so the ttl applies
KEY = "0123456789ab"


@dataclass
class ModelLease:
    session: str
    last_active: int
    holder_dead: bool = False
    verified: bool = True  # the holder process is known, so liveness can be checked


class LeaseMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.mkdtemp(prefix="guard-model-")
        self.now = 1_700_000_000_000
        self.store = LeaseStore(self.dir, TTL, 2_000, clock=lambda: self.now)
        self.model: ModelLease | None = None
        self.generation = 0
        # One real holder process per session; killing it makes the holder dead.
        self.procs = {s: subprocess.Popen(["sleep", "600"]) for s in SESSIONS
                      if s != UNVERIFIED}
        self.callers = {s: Caller(s, process_id(p.pid), "claude-code")
                        for s, p in self.procs.items()}
        self.callers[UNVERIFIED] = Caller(UNVERIFIED, None, "claude-code")

    def teardown(self) -> None:
        for proc in self.procs.values():
            proc.kill()
            proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    # ---- the model's view ----------------------------------------------------------------

    def state_for(self, session: str) -> str:
        """free / own / expired / dead / other, as `session` finds the lease."""
        m = self.model
        if m is None:
            return "free"
        expired = self.now - m.last_active >= TTL or m.last_active - self.now > TTL
        if m.session == session:
            return "own"  # nobody took it meanwhile: still the caller's, expired or not
        if m.verified:
            return "dead" if m.holder_dead else "other"  # alive: the ttl does not free it
        return "expired" if expired else "other"

    # ---- rules ---------------------------------------------------------------------------

    @rule(session=st.sampled_from(SESSIONS))
    def acquire(self, session: str) -> None:
        state = self.state_for(session)
        outcome = self.store.acquire(KEY, self.callers[session], "/repo", "main")
        if state == "other":
            assert outcome.result is Result.BUSY
            return
        if state == "own":
            assert outcome.result is Result.HELD
            assert self.model is not None
            self.model.last_active = self.now
            return
        assert outcome.result in (Result.ACQUIRED, Result.TOOK_OVER)
        assert (outcome.result is Result.ACQUIRED) == (self.model is None)
        self.generation += 1
        assert isinstance(outcome.record, LeaseRecord)
        assert outcome.record.generation == self.generation
        proc = self.procs.get(session)
        self.model = ModelLease(session, self.now, proc is not None and proc.poll() is not None,
                                verified=proc is not None)

    @rule(session=st.sampled_from(SESSIONS))
    def refresh(self, session: str) -> None:
        outcome = self.store.refresh(KEY, session, "main", holder=self.callers[session].holder)
        if self.state_for(session) == "own":
            assert outcome.result is Result.REFRESHED
            assert self.model is not None
            self.model.last_active = self.now
        else:
            assert outcome.result is Result.NOT_HOLDER

    @rule(session=st.sampled_from(SESSIONS))
    def release(self, session: str) -> None:
        outcome = self.store.release(KEY, session, holder=self.callers[session].holder)
        if self.model is not None and self.model.session == session:
            assert outcome.result is Result.RELEASED
            self.model = None
        else:
            assert outcome.result in (Result.NOT_HOLDER, Result.NOT_FOUND)

    @rule(ms=st.sampled_from([1, 500, TTL // 2, TTL - 1, TTL, 3 * TTL]))
    def clock_forward(self, ms: int) -> None:
        self.now += ms

    @rule(ms=st.sampled_from([1_000, 2 * TTL]))
    def clock_back(self, ms: int) -> None:
        self.now -= ms

    @precondition(lambda self: any(p.poll() is None for p in self.procs.values()))
    @rule(session=st.sampled_from([s for s in SESSIONS if s != UNVERIFIED]))
    def kill_holder_process(self, session: str) -> None:
        proc = self.procs[session]
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if self.model is not None and self.model.session == session:
            self.model.holder_dead = True

    # ---- invariants ----------------------------------------------------------------------

    @invariant()
    def file_matches_model(self) -> None:
        view = self.store.read(KEY)
        if self.model is None:
            assert view is None
        else:
            assert isinstance(view, LeaseRecord)
            assert view.session_id == self.model.session
            assert view.last_active_at == self.model.last_active


LeaseMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
TestLeaseModel = LeaseMachine.TestCase

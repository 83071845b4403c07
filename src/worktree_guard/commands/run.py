"""`guard run -- CMD`: hold the working tree's lease for the whole run of a program.

Like flock(1): the guard process is the holder (its death frees the tree), a heartbeat
keeps the lease fresh while the program runs, and the lease is released when it ends.
Signals sent to guard reach the program; signals the terminal sends to the whole
foreground group are not sent a second time.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from worktree_guard.core import events
from worktree_guard.core.agents import CLAUDE
from worktree_guard.core.config import Settings
from worktree_guard.core.decide import describe_holder, holder_facts
from worktree_guard.core.identity import ProcessId, find_agent, process_id
from worktree_guard.core.lease import Caller, LeaseStore, LeaseStoreError, Outcome, Result, now_ms
from worktree_guard.core.printable import printable
from worktree_guard.core.record import LeaseRecord
from worktree_guard.core.workspace import Workspace, current_branch

EXIT_BUSY = 75  # EX_TEMPFAIL: the tree is held; try again later
EXIT_GUARD_FAILED = 125  # guard itself failed before the command ran
EXIT_CANNOT_EXECUTE = 126
EXIT_NOT_FOUND = 127

FORWARDED_SIGNALS = frozenset(
    {signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGUSR1, signal.SIGUSR2}
)
_SI_KERNEL = 0x80  # si_code of a signal the kernel (the terminal) sent to a process group
_WAIT_POLL_S = 0.5


@dataclass(frozen=True)
class RunSession:
    session_id: str
    agent: str
    owns_lease: bool  # release at the end; False inside an agent's session (it owns it)
    nested: str | None  # which variable made this a nested run


def plan_session(env: dict[str, str] | os._Environ[str], new_id: Callable[[], str]) -> RunSession:
    """A session of its own, or the enclosing one: an agent's `guard run -- make` must not
    block the agent that runs it, nor release that agent's lease when make ends."""
    wrapped = env.get("GUARD_SESSION_ID", "").strip()
    if wrapped:
        return RunSession(wrapped, "guard-run", False, "GUARD_SESSION_ID")
    claude = env.get("CLAUDE_CODE_SESSION_ID", "").strip()
    if claude:
        return RunSession(claude, CLAUDE, False, "CLAUDE_CODE_SESSION_ID")
    return RunSession(new_id(), "guard-run", True, None)


def heartbeat_interval_s(ttl_ms: int) -> float:
    """A third of the ttl, so two beats can be missed before the lease expires."""
    return max(0.2, min(ttl_ms / 3000, 30.0))


def exit_code_of(returncode: int) -> int:
    """A child killed by signal N exits the way a shell reports it: 128 + N."""
    return 128 - returncode if returncode < 0 else returncode


class Runner:
    def __init__(self, settings: Settings, ws: Workspace, session: RunSession) -> None:
        self.settings = settings
        self.ws = ws
        self.session = session
        self.store = LeaseStore(settings.lock_dir, settings.ttl_ms, settings.lock_timeout_ms)
        self.lease_lost = False
        self.owns_lease = session.owns_lease

    def log(self, event: str, **fields: Any) -> None:
        events.append_event(self.settings.lock_dir, event, self.settings.log_max_bytes,
                            session=self.session.session_id, key=self.ws.key,
                            workspace=self.ws.toplevel, via="guard run", **fields)  # fmt: skip

    def _holder(self) -> ProcessId | None:
        """Who keeps the lease alive: this guard process, or the enclosing session's."""
        if self.session.nested == "CLAUDE_CODE_SESSION_ID":
            return find_agent()
        if self.session.nested == "GUARD_SESSION_ID":
            view = self.store.read(self.ws.key)
            if isinstance(view, LeaseRecord) and view.session_id == self.session.session_id:
                return None  # the outer `guard run` holds it: keep its pid on the record
        return process_id(os.getpid())

    def acquire(self, wait_s: float, say: Callable[[str], None]) -> Outcome:
        deadline = time.monotonic() + wait_s
        told = False
        while True:
            caller = Caller(self.session.session_id, self._holder(), self.session.agent)
            outcome = self.store.acquire(self.ws.key, caller, self.ws.toplevel,
                                         current_branch(self.ws))  # fmt: skip
            if outcome.result is not Result.BUSY:
                return outcome
            left = deadline - time.monotonic()
            if left <= 0:
                return outcome
            if not told:
                facts = describe_holder(holder_facts(outcome.record, now_ms()))
                where = printable(self.ws.toplevel)
                say(f"guard run: {where} is held by {facts}; waiting up to {wait_s:g}s")
                told = True
            time.sleep(min(_WAIT_POLL_S, left))

    def beat(self, say: Callable[[str], None]) -> None:
        """Refresh the lease. Never raises: the command runs on whatever the store says, and
        an error here must not orphan it; the next beat tries again."""
        try:
            outcome = self.store.refresh(self.ws.key, self.session.session_id,
                                         current_branch(self.ws))
        except (LeaseStoreError, OSError) as exc:
            say(f"guard run: could not refresh the lease ({exc}); will try again")
            self.log("error", error=f"heartbeat: {exc}")
            return
        if outcome.result is Result.NOT_HOLDER and not self.lease_lost:
            self.lease_lost = True
            say(f"guard run: the lease on {printable(self.ws.toplevel)} is no longer this run's "
                "(released, or freed with --force); the command goes on unguarded")  # fmt: skip
            self.log("lease_lost")

    def release(self, exit_code: int | None) -> None:
        if not self.owns_lease or self.lease_lost:
            return
        outcome = self.store.release(self.ws.key, self.session.session_id)
        if outcome.result is Result.RELEASED:
            self.log("released", exit_code=exit_code)


def _spawn(argv: list[str], env: dict[str, str], child_mask: set[int | signal.Signals] | None,
           ) -> subprocess.Popen[bytes]:  # fmt: skip
    def restore_mask() -> None:
        if child_mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, child_mask)

    return subprocess.Popen(argv, env=env, preexec_fn=restore_mask)


def supervise(argv: list[str], env: dict[str, str], interval_s: float,
              beat: Callable[[], None]) -> int:  # fmt: skip
    """Run `argv` to its end with a heartbeat every `interval_s`; its exit code."""
    if not hasattr(signal, "sigtimedwait"):
        return _supervise_with_handlers(argv, env, interval_s, beat)
    watched = set(FORWARDED_SIGNALS) | {signal.SIGCHLD}
    # Blocked before the spawn, so no SIGCHLD or forwarded signal can slip past the wait.
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, watched)
    try:
        proc = _spawn(argv, env, old_mask)
        next_beat = time.monotonic() + interval_s
        while proc.poll() is None:
            timeout = next_beat - time.monotonic()
            if timeout <= 0:
                beat()
                next_beat = time.monotonic() + interval_s
                continue
            info = signal.sigtimedwait(watched, timeout)
            if info is None or info.si_signo == signal.SIGCHLD:
                continue
            if info.si_code == _SI_KERNEL:
                continue  # from the terminal to the whole foreground group: the child has it
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(info.si_signo)
        return exit_code_of(proc.returncode)
    finally:
        while signal.sigtimedwait(watched, 0) is not None:
            pass  # drop what came in at the very end, so unblocking cannot kill guard now
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)


def _supervise_with_handlers(argv: list[str], env: dict[str, str], interval_s: float,
                             beat: Callable[[], None]) -> int:  # fmt: skip
    """Where sigtimedwait is missing (macOS): forward every signal guard receives."""
    proc = _spawn(argv, env, None)

    def forward(signum: int, frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in FORWARDED_SIGNALS}
    try:
        while True:
            try:
                return exit_code_of(proc.wait(timeout=interval_s))
            except subprocess.TimeoutExpired:
                beat()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run(settings: Settings, ws: Workspace, argv: list[str], wait_s: float,
        say: Callable[[str], None]) -> int:  # fmt: skip
    session = plan_session(os.environ, lambda: str(uuid.uuid4()))
    runner = Runner(settings, ws, session)
    outcome = runner.acquire(wait_s, say)
    if outcome.result is Result.BUSY:
        facts = describe_holder(holder_facts(outcome.record, now_ms()))
        say(f"guard run: {printable(ws.toplevel)} is held by {facts}.\n"
            "Wait for it (`guard run --wait SECONDS -- ...`), or work in another worktree: "
            "`git worktree add ../<name> -b <branch>`.")  # fmt: skip
        runner.log("denied", holder=getattr(outcome.record, "session_id", None))
        return EXIT_BUSY
    if outcome.result in (Result.ACQUIRED, Result.TOOK_OVER):
        # Nested in another `guard run` that no longer held the tree: this run took it anew.
        runner.owns_lease = runner.owns_lease or session.nested == "GUARD_SESSION_ID"
        event = "acquired" if outcome.result is Result.ACQUIRED else "taken_over"
        previous = outcome.previous
        runner.log(event, agent=session.agent, holder_pid=os.getpid(),
                   previous_state=outcome.previous_state.value if previous else None,
                   previous_session=getattr(previous, "session_id", None))  # fmt: skip
    env = {**os.environ, "GUARD_SESSION_ID": session.session_id}
    code: int | None = None
    try:
        code = supervise(argv, env, heartbeat_interval_s(settings.ttl_ms),
                         lambda: runner.beat(say))  # fmt: skip
        return code
    except FileNotFoundError:
        say(f"guard run: command not found: {printable(argv[0])}")
        code = EXIT_NOT_FOUND
        return code
    except OSError as exc:  # permission denied, not an executable format...
        say(f"guard run: cannot execute {printable(argv[0])}: {exc.strerror}")
        code = EXIT_CANNOT_EXECUTE
        return code
    finally:
        runner.release(code)


def say_stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)

"""A branch leased across machines through the git remote: two clones of one bare remote,
each with its own HOME, lock folder and guard's hooks, real agent sessions on each, real
`git push` over file:// and over a loopback `git daemon`."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import GUARD, AgentShell
from tests.git.remote_world import (
    LEASES,
    Remote,
    backdated_lease,
    make_machine,
    make_remote,
    out,
    start_daemon,
    stop_daemon,
)

A, B = "aaaaaaaa-on-laptop", "bbbbbbbb-in-cloud"
TTL_S = 3600  # the default remote ttl (core/remote_decide.py)


class Two:
    def __init__(self, tmp: Path, url: str, bare: Path, agent_shell: Any) -> None:
        self.remote = Remote(bare, url)
        self.one = make_machine(tmp, "one", url)
        self.two = make_machine(tmp, "two", url)
        self.a: AgentShell = agent_shell(self.one.env, self.one.clone, A)
        self.b: AgentShell = agent_shell(self.two.env, self.two.clone, B)

    def work(self, shell: AgentShell, message: str, branch: str | None = None) -> str:
        switch = f"git checkout -q -B {branch} && " if branch else ""
        done = shell.run(f"{switch}echo {message} >> {message}.txt && git add -A && "
                         f"git commit -q -m {message} && git rev-parse HEAD")
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def a_leases_feature(self) -> str:
        """A commits on `feature` on machine one and pushes it: A leases `feature`."""
        sha = self.work(self.a, "a-work", "feature")
        done = self.a.run("git push -q origin feature")
        assert done.returncode == 0, done.stderr
        assert self.remote.sha("refs/heads/feature") == sha
        assert f"session: {A}" in self.remote.lease_text("feature")
        return sha

    def b_on_feature(self, message: str = "b-work") -> str:
        assert self.b.run("git fetch -q origin && git checkout -q -B feature origin/feature"
                          ).returncode == 0
        return self.work(self.b, message)


@pytest.fixture
def two(tmp_path: Path, agent_shell: Any) -> Two:
    bare = make_remote(tmp_path)
    return Two(tmp_path, f"file://{bare}", bare, agent_shell)


@pytest.fixture
def daemon_two(tmp_path: Path, agent_shell: Any) -> Iterator[Two]:
    served = tmp_path / "served"
    served.mkdir()
    bare = make_remote(served)
    proc, base = start_daemon(served)
    try:
        yield Two(tmp_path, f"{base}/remote.git", bare, agent_shell)
    finally:
        stop_daemon(proc)


def assert_refused_naming_a(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode != 0
    assert "leased on the remote origin" in done.stderr, done.stderr
    assert f"session {A[:8]}" in done.stderr and "on machine " in done.stderr
    assert "branch of your own" in done.stderr


def test_b_push_of_a_leased_branch_is_refused_and_never_lands(two: Two) -> None:
    """Catches: pre-push not asking the remote lease (the one call in git/hook.py), a HELD
    lease read as free (state_of), or the refusal not stopping git."""
    a_sha = two.a_leases_feature()
    b_sha = two.b_on_feature()
    done = two.b.run("git push origin feature")
    assert_refused_naming_a(done)
    assert two.remote.sha("refs/heads/feature") == a_sha
    assert out(two.remote.bare, "branch", "--contains", a_sha, "--list", "feature")
    assert git_has_not(two.remote.bare, b_sha)
    denied = two.two.events("remote_denied")[-1]
    assert denied["holder"] == A and denied["branch"] == "feature"
    assert two.one.events("remote_acquired")[-1]["branch"] == "feature"


def git_has_not(bare: Path, sha: str) -> bool:
    """No ref of the remote holds `sha` (the object itself is not even there, or orphaned)."""
    if subprocess.run(["git", "cat-file", "-e", sha], cwd=bare).returncode != 0:
        return True
    return out(bare, "for-each-ref", "--contains", sha) == ""


def test_b_push_of_another_branch_and_a_renewal_pass(two: Two) -> None:
    """Catches: a lease of one branch refusing another's push; a holder's own push refused
    by its own lease (MINE read as HELD)."""
    two.a_leases_feature()
    b_sha = two.work(two.b, "b-own", "b-topic")
    done = two.b.run("git push -q origin b-topic")
    assert done.returncode == 0, done.stderr
    assert two.remote.sha("refs/heads/b-topic") == b_sha
    assert f"session: {B}" in two.remote.lease_text("b-topic")
    a_sha = two.work(two.a, "a-more")
    done = two.a.run("git push -q origin feature")
    assert done.returncode == 0, done.stderr
    assert two.remote.sha("refs/heads/feature") == a_sha
    assert f"tip: {a_sha}" in two.remote.lease_text("feature")
    assert two.one.events("remote_renewed")[-1]["branch"] == "feature"


def test_after_a_session_end_b_push_passes(two: Two) -> None:
    """Catches: SessionEnd not giving the remote lease up (agents' release call, or
    release_session's owner check)."""
    two.a_leases_feature()
    ended = two.a.hook({"session_id": A, "cwd": str(two.one.clone),
                        "hook_event_name": "SessionEnd", "reason": "exit"})
    assert ended.returncode == 0
    assert two.remote.sha(LEASES + "feature") == ""
    assert two.one.events("remote_released")[-1]["branch"] == "feature"
    b_sha = two.b_on_feature()
    done = two.b.run("git push -q origin feature")
    assert done.returncode == 0, done.stderr
    assert two.remote.sha("refs/heads/feature") == b_sha
    assert f"session: {B}" in two.remote.lease_text("feature")


def test_another_sessions_end_leaves_the_lease(two: Two) -> None:
    """Catches: SessionEnd releasing leases of other sessions."""
    two.a_leases_feature()
    other = two.a.hook({"session_id": "zzzz-someone-else", "cwd": str(two.one.clone),
                        "hook_event_name": "SessionEnd", "reason": "exit"})
    assert other.returncode == 0
    assert f"session: {A}" in two.remote.lease_text("feature")


@pytest.mark.parametrize(("age_s", "passes"), [(TTL_S + 60, True), (TTL_S - 60, False)])
def test_after_the_lease_expires_b_push_passes(two: Two, age_s: int, passes: bool) -> None:
    """A holder that stopped renewing (a machine that went away): its lease's stamp, written
    `age_s` ago. Catches: the ttl not freeing a lease, or freeing it early."""
    two.a_leases_feature()
    old = two.remote.sha(LEASES + "feature")
    stale = backdated_lease(two.one, "feature", age_s)
    moved = two.one.git("push", "-q", "--no-verify", "origin", f"+{stale}:{LEASES}feature")
    assert moved.returncode == 0 and two.remote.sha(LEASES + "feature") != old
    b_sha = two.b_on_feature()
    done = two.b.run("git push origin feature")
    if passes:
        assert done.returncode == 0, done.stderr
        assert two.remote.sha("refs/heads/feature") == b_sha
        taken = two.two.events("remote_acquired")[-1]
        assert taken["previous_session"] == A and taken["previous_state"] == "expired"
    else:
        assert_refused_naming_a(done)


def test_over_a_loopback_git_daemon(daemon_two: Two) -> None:
    """The same lease over git:// on 127.0.0.1, a network transport: its receive-pack does
    the swap. Catches what the file:// refusal test catches (seen red with a held lease read
    as expired)."""
    two = daemon_two
    a_sha = two.a_leases_feature()
    two.b_on_feature()
    assert_refused_naming_a(two.b.run("git push origin feature"))
    assert two.remote.sha("refs/heads/feature") == a_sha
    assert two.b.run("git push -q origin HEAD:refs/heads/b-own").returncode == 0


def test_a_stale_view_of_the_remote_is_checked_before_refusing(two: Two) -> None:
    """B saw A's lease once; A then ended. B's push asks the remote again instead of
    refusing on what it saw. Catches: a refusal decided on refs/guard/seen alone."""
    two.a_leases_feature()
    two.b_on_feature()
    assert two.b.run("git push origin feature").returncode != 0  # B has now seen A's lease
    assert out(two.two.clone, "for-each-ref", "refs/guard/seen/origin/feature")
    two.a.hook({"session_id": A, "cwd": str(two.one.clone), "hook_event_name": "SessionEnd"})
    done = two.b.run("git push -q origin feature")
    assert done.returncode == 0, done.stderr


def test_status_and_list_show_the_remote_lease(two: Two) -> None:
    """Catches: status reading the network without --remote, or not showing the lease."""
    two.a_leases_feature()
    two.b_on_feature()
    env = two.two.env
    before = subprocess.run([GUARD, "status"], cwd=two.two.clone, env=env, text=True,
                            capture_output=True, timeout=120)
    assert "no lease seen on origin" in before.stdout, before.stdout
    asked = subprocess.run([GUARD, "status", "--remote"], cwd=two.two.clone, env=env,
                           text=True, capture_output=True, timeout=120)
    assert f"leased on origin: session {A[:8]}" in asked.stdout, asked.stdout
    listed = subprocess.run([GUARD, "list", "--remote", "origin"], cwd=two.two.clone, env=env,
                            text=True, capture_output=True, timeout=120)
    assert "feature: held" in listed.stdout and A[:8] in listed.stdout, listed.stdout
    mine = subprocess.run([GUARD, "status"], cwd=two.one.clone,
                          env={**two.one.env, "CLAUDE_CODE_SESSION_ID": A}, text=True,
                          capture_output=True, timeout=120)
    assert "yours on origin" in mine.stdout, mine.stdout


def test_a_remote_refusing_guards_refs_lets_the_push_go_on_with_one_warning(two: Two) -> None:
    """A host that forbids custom refs (a pre-receive hook here). Catches: the push stopped
    by it, a warning per branch, or doctor not saying so."""
    hook = two.remote.bare / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\nwhile read old new ref; do case $ref in refs/guard/*) "
                    "echo custom refs are not allowed >&2; exit 1;; esac; done\n")
    hook.chmod(0o755)
    sha = two.work(two.a, "a-work", "feature")
    done = two.a.run("git push -q origin feature HEAD:refs/heads/second")
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("warning") == 1, done.stderr
    assert "did not take guard's branch lease" in done.stderr
    assert two.remote.sha("refs/heads/feature") == sha
    doctor = subprocess.run([GUARD, "doctor"], cwd=two.one.clone, env=two.one.env, text=True,
                            capture_output=True, timeout=120)
    line = next(x for x in doctor.stdout.splitlines() if "remote lease" in x)
    assert line.startswith("warn") and "without a branch lease" in line, doctor.stdout


def test_guard_remote_lease_false_takes_none(two: Two) -> None:
    """Catches: the guard.remoteLease switch ignored."""
    assert two.one.git("config", "guard.remoteLease", "false").returncode == 0
    two.work(two.a, "a-work", "feature")
    assert two.a.run("git push -q origin feature").returncode == 0
    assert two.remote.sha(LEASES + "feature") == ""


ROUNDS = 12


def test_two_clones_racing_for_one_branch_exactly_one_wins(two: Two, tmp_path: Path) -> None:
    """Both clones have seen no lease; both sessions push a new branch at once, each
    released by a line on its own FIFO (no sleeps): every round exactly one push lands and
    the lease names its session. Catches: a lease written without an expected value."""
    for n in range(ROUNDS):
        branch = f"race-{n}"
        shas = {A: two.work(two.a, f"a-{n}", branch), B: two.work(two.b, f"b-{n}", branch)}
        fifos = {who: tmp_path / f"go-{who}-{n}" for who in (A, B)}
        for fifo in fifos.values():
            os.mkfifo(fifo)
        with ThreadPoolExecutor(2) as pool:
            runs = {who: pool.submit(shell.run, f"read go < {fifos[who]} && "
                                     f"git push -q origin {branch}")
                    for who, shell in ((A, two.a), (B, two.b))}
            for fifo in fifos.values():  # opening blocks until its reader is there
                with open(fifo, "w") as fh:
                    fh.write("go\n")
            done = {who: run.result(timeout=300) for who, run in runs.items()}
        winners = [who for who, d in done.items() if d.returncode == 0]
        assert len(winners) == 1, (n, {who: d.stderr for who, d in done.items()})
        winner = winners[0]
        loser = done[B if winner == A else A]
        assert "leased on the remote origin" in loser.stderr, loser.stderr
        assert two.remote.sha(f"refs/heads/{branch}") == shas[winner]
        assert f"session: {winner}" in two.remote.lease_text(branch)


def test_a_naive_read_then_write_lease_can_be_lost(two: Two) -> None:
    """The control: read the lease ref, and write it when free, without an expected value.
    Both readers see it free before either writes, and both believe they won."""
    naive = ('test -z "$(git ls-remote origin refs/naive/lease)" && echo free && read go && '
             'git push -q origin "+$(git commit-tree -m lease HEAD^{tree}):refs/naive/lease" '
             "&& echo won")
    procs = [subprocess.Popen(["sh", "-c", naive], cwd=m.clone, env=m.env,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
             for m in (two.one, two.two)]
    for proc in procs:  # both have read "free"
        assert proc.stdout is not None and proc.stdout.readline() == "free\n"
    answers = [proc.communicate("go\n", timeout=300)[0] for proc in procs]
    assert answers == ["won\n", "won\n"]  # two winners of one lease


def git_processes(trace: Path) -> list[str]:
    lines = trace.read_text().splitlines() if trace.exists() else []
    trace.unlink(missing_ok=True)
    return [line.partition("trace: built-in: git ")[2].split(" ", 1)[0]
            for line in lines if "trace: built-in: git " in line]


def test_a_renewal_costs_one_extra_round_trip(two: Two, tmp_path: Path) -> None:
    """The holder's next push: one more `git push` (the swap), no fetch, no ls-remote.
    Catches: a read of the remote before every swap (a second round trip)."""
    two.a_leases_feature()
    two.work(two.a, "a-more")
    trace = tmp_path / "trace"
    done = two.a.run(f"GIT_TRACE={trace} git push -q origin feature")
    assert done.returncode == 0, done.stderr
    network = [p for p in git_processes(trace) if p in ("push", "fetch", "ls-remote")]
    assert network == ["push", "push"]  # the user's push and the lease's swap
    assert two.one.events("remote_renewed")


def test_a_copilot_session_leases_and_gives_up_through_the_shared_release(
    tmp_path: Path, agent_shell: Any,
) -> None:
    """Copilot CLI's shell runs git's hooks: its push takes the lease under its own session
    label, and its sessionEnd (the shared release path of the other agents) gives it up.
    Catches: the release call missing from agents/common.py's Guard.release."""
    bare = make_remote(tmp_path)
    one = make_machine(tmp_path, "one", f"file://{bare}")
    remote = Remote(bare, f"file://{bare}")
    pilot: AgentShell = agent_shell(one.env, one.clone, "cccccccc-copilot", agent="copilot")
    done = pilot.run("git checkout -q -b feature && echo c > c.txt && git add c.txt && "
                     "git commit -q -m c && git push -q origin feature")
    assert done.returncode == 0, done.stderr
    assert "session: cccccccc-copilot" in remote.lease_text("feature")
    assert "agent: copilot" in remote.lease_text("feature")
    end = json.dumps({"sessionId": "cccccccc-copilot", "timestamp": 2, "cwd": str(one.clone),
                      "reason": "complete"})
    ended = pilot.run('"$GUARD_BIN" hook --agent copilot sessionEnd', stdin=end)
    assert ended.returncode == 0, ended.stderr
    assert remote.sha(LEASES + "feature") == ""


def test_status_json_shows_the_remote_lease_when_asked(two: Two) -> None:
    """Catches: `--json --remote` without the lease, or plain `--json` changed."""
    two.a_leases_feature()
    two.b_on_feature()
    plain = subprocess.run([GUARD, "status", "--json"], cwd=two.two.clone, env=two.two.env,
                           text=True, capture_output=True, timeout=120)
    assert "remote_lease" not in json.loads(plain.stdout)
    asked = subprocess.run([GUARD, "status", "--json", "--remote"], cwd=two.two.clone,
                           env=two.two.env, text=True, capture_output=True, timeout=120)
    lease = json.loads(asked.stdout)["remote_lease"]
    assert (lease["state"], lease["session"], lease["branch"]) == ("held", A, "feature")


def test_list_of_a_remote_that_cannot_be_asked_says_why(two: Two) -> None:
    """Catches: a failed fetch listed as a remote without leases."""
    done = subprocess.run([GUARD, "list", "--remote", "nowhere"], cwd=two.one.clone,
                          env=two.one.env, text=True, capture_output=True, timeout=120)
    assert done.returncode == 1 and done.stdout == ""
    assert "the remote nowhere could not be asked" in done.stderr


def test_a_push_of_two_branches_leases_both_or_neither(two: Two) -> None:
    """Catches: a push of several branches leasing the free ones while refusing the push
    (a partial grab), or leasing only the first."""
    two.a_leases_feature()
    two.b_on_feature()
    done = two.b.run("git push origin feature HEAD:refs/heads/b-free")
    assert_refused_naming_a(done)
    assert two.remote.sha(LEASES + "b-free") == "" and two.remote.sha("refs/heads/b-free") == ""
    both = two.b.run("git push -q origin HEAD:refs/heads/b-one HEAD:refs/heads/b-two")
    assert both.returncode == 0, both.stderr
    for branch in ("b-one", "b-two"):
        assert f"session: {B}" in two.remote.lease_text(branch)

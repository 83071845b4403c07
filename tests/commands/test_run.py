"""`guard run -- CMD`: the real guard process holding a real repository's lease."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import GUARD, lease_files, pre_tool, read_lease, read_log

SAFETY_S = 60.0  # how long a test waits for a process to get somewhere; never asserted on


def run(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([GUARD, "run", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=SAFETY_S * 2, stdin=subprocess.DEVNULL)  # fmt: skip


def start(cwd: Path, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([GUARD, "run", *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)


def wait_for(path: Path, proc: subprocess.Popen[str] | None = None) -> None:
    deadline = time.monotonic() + SAFETY_S
    while not path.exists():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"exited {proc.returncode} early: {proc.communicate()}")
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def read_line(proc: subprocess.Popen[str], stream: str) -> str:
    """One line of a child's output, or a failure instead of a hang."""
    pipe = getattr(proc, stream)
    ready, _, _ = select.select([pipe], [], [], SAFETY_S)
    assert ready, f"no output on {stream} within the safety net"
    return str(pipe.readline())


def holding(tmp_path: Path, name: str = "holder") -> tuple[list[str], Path, Path]:
    """A command that says it runs (ready file), then waits for a go file."""
    ready, go = tmp_path / f"{name}.ready", tmp_path / f"{name}.go"
    script = f'touch "{ready}"; while [ ! -e "{go}" ]; do sleep 0.05; done'
    return ["sh", "-c", script], ready, go


def test_exit_code_passes_through_and_lease_is_released(
    repo: Path, guard_env: dict[str, str], lock_dir: Path
) -> None:
    assert run(repo, guard_env, "--", "sh", "-c", "exit 7").returncode == 7
    assert run(repo, guard_env, "--", "true").returncode == 0
    assert run(repo, guard_env, "false").returncode == 1
    assert lease_files(lock_dir) == []
    events = [e["event"] for e in read_log(lock_dir)]
    assert events.count("acquired") == 3 and events.count("released") == 3


def test_session_id_exported_and_guard_is_the_holder(
    repo: Path, guard_env: dict[str, str], lock_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "seen.json"
    script = (f'printf "{{\\"session\\": \\"%s\\", \\"ppid\\": %s}}" "$GUARD_SESSION_ID" "$PPID" '
              f'> "{out}"; cp "{lock_dir}"/session-lock-*.json "{tmp_path}/lease.json"')
    done = run(repo, guard_env, "--", "sh", "-c", script)
    assert done.returncode == 0, done.stderr
    seen = json.loads(out.read_text())
    lease = json.loads((tmp_path / "lease.json").read_text())
    assert seen["session"] and lease["session_id"] == seen["session"]
    assert lease["pid"] == seen["ppid"]  # the guard process, parent of the command
    assert lease["agent"] == "guard-run"
    assert lease["workspace"] == str(repo.resolve())


def test_busy_tree_exits_75_at_once(
    repo: Path, guard_env: dict[str, str], lock_dir: Path, tmp_path: Path
) -> None:
    cmd, ready, go = holding(tmp_path)
    holder = start(repo, guard_env, "--", *cmd)
    try:
        wait_for(ready, holder)
        busy = run(repo, guard_env, "--", "touch", str(tmp_path / "never"))
        assert busy.returncode == 75
        assert "held by" in busy.stderr and "Traceback" not in busy.stderr
        assert not (tmp_path / "never").exists()
    finally:
        go.touch()
        assert holder.wait(timeout=SAFETY_S) == 0
    assert lease_files(lock_dir) == []
    assert run(repo, guard_env, "--", "true").returncode == 0


def test_wait_takes_the_tree_when_it_is_freed(
    repo: Path, guard_env: dict[str, str], tmp_path: Path
) -> None:
    cmd, ready, go = holding(tmp_path)
    holder = start(repo, guard_env, "--", *cmd)
    wait_for(ready, holder)
    marker = tmp_path / "second-ran"
    waiter = start(repo, guard_env, "--wait", "120", "--", "touch", str(marker))
    try:
        # The waiter says it waits (stderr) and has not run its command while the tree is held.
        assert "waiting up to 120s" in read_line(waiter, "stderr")
        assert not marker.exists()
    finally:
        go.touch()
    assert holder.wait(timeout=SAFETY_S) == 0
    assert waiter.wait(timeout=SAFETY_S) == 0
    assert marker.exists()


def test_wait_gives_up_with_75(repo: Path, guard_env: dict[str, str], tmp_path: Path) -> None:
    cmd, ready, go = holding(tmp_path)
    holder = start(repo, guard_env, "--", *cmd)
    try:
        wait_for(ready, holder)
        assert run(repo, guard_env, "--wait", "0.3", "--", "true").returncode == 75
    finally:
        go.touch()
        holder.wait(timeout=SAFETY_S)


def test_signals_are_forwarded(repo: Path, guard_env: dict[str, str], tmp_path: Path,
                               lock_dir: Path) -> None:  # fmt: skip
    ready, got = tmp_path / "ready", tmp_path / "got"
    script = (f'trap \'echo "$0" > "{got}"; exit 9\' TERM; touch "{ready}"; '
              "while :; do sleep 0.05; done")
    proc = start(repo, guard_env, "--", "sh", "-c", script, "term")
    wait_for(ready, proc)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=SAFETY_S) == 9  # the command's own exit code, after its trap
    assert got.read_text().strip() == "term"
    assert lease_files(lock_dir) == []


def test_killed_command_exits_128_plus_signal(repo: Path, guard_env: dict[str, str]) -> None:
    done = run(repo, guard_env, "--", "sh", "-c", "kill -KILL $$")
    assert done.returncode == 128 + signal.SIGKILL


def test_a_killed_guard_leaves_a_lease_others_can_take(
    repo: Path, guard_env: dict[str, str], lock_dir: Path, tmp_path: Path
) -> None:
    cmd, ready, go = holding(tmp_path)
    holder = start(repo, guard_env, "--", *cmd)
    wait_for(ready, holder)
    holder.kill()  # SIGKILL: no release; the dead holder process frees the tree
    holder.wait(timeout=SAFETY_S)
    go.touch()  # let the orphaned command finish
    assert run(repo, guard_env, "--", "true").returncode == 0
    assert "taken_over" in [e["event"] for e in read_log(lock_dir)]


def test_heartbeat_keeps_the_lease_past_its_ttl(
    repo: Path, guard_env: dict[str, str], lock_dir: Path, tmp_path: Path
) -> None:
    """The beats restamp the same holding until it has lived past its first expiry. The test
    waits for stamps, not for a duration: two beats in a row may come late by seconds."""
    ttl = 6000  # a beat every two seconds
    env = {**guard_env, "GUARD_TTL_MS": str(ttl)}
    command, ready, go = holding(tmp_path)
    proc = start(repo, env, "--", *command)
    try:
        wait_for(ready, proc)
        first = read_lease(lock_dir)
        deadline = time.monotonic() + SAFETY_S
        while (lease := read_lease(lock_dir))["last_active_at"] < first["acquired_at"] + ttl:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the heartbeat never kept the lease past its ttl"
            time.sleep(0.1)
        assert (lease["token"], lease["acquired_at"]) == (first["token"], first["acquired_at"])
        # Past the ttl, a second, independent run still finds the tree held.
        assert run(repo, env, "--", "true").returncode == 75
    finally:
        go.touch()
        proc.communicate(timeout=SAFETY_S)
    assert proc.returncode == 0


def test_nested_run_reuses_the_session(
    repo: Path, guard_env: dict[str, str], tmp_path: Path
) -> None:
    status = tmp_path / "status.json"
    script = f'"{GUARD}" run -- true && "{GUARD}" status --json > "{status}"'
    done = run(repo, guard_env, "--", "sh", "-c", script)
    assert done.returncode == 0, done.stderr
    lease: dict[str, Any] = json.loads(status.read_text())["lease"]
    assert lease["state"] == "held" and lease["held_by_you"]  # the inner run did not release


def test_run_inside_a_claude_session_does_not_block_it(
    repo: Path, guard_env: dict[str, str], lock_dir: Path, agent_shell: Any
) -> None:
    session = "c1a0de00-0000-4000-8000-000000000001"
    claude = agent_shell(guard_env, repo, session)
    assert not claude.hook(pre_tool(session, repo)).denied
    # The agent's own `guard run`, in its own process tree.
    assert claude.run(f"{GUARD} run -- true").returncode == 0
    lease = read_lease(lock_dir)
    assert lease["session_id"] == session and lease["pid"] == claude.pid  # still the session's
    assert run(repo, guard_env, "--", "true").returncode == 75  # others are still kept out
    # The session's id borrowed outside its tree is no way in.
    borrowed = {**guard_env, "CLAUDE_CODE_SESSION_ID": session}
    assert run(repo, borrowed, "--", "true").returncode == 75


def test_command_not_found_and_outside_a_repo(
    repo: Path, guard_env: dict[str, str], lock_dir: Path, tmp_path: Path
) -> None:
    missing = run(repo, guard_env, "--", "no-such-command-anywhere")
    assert missing.returncode == 127 and "command not found" in missing.stderr
    assert lease_files(lock_dir) == []
    outside = tmp_path / "plain"
    outside.mkdir()
    done = run(outside, guard_env, "--", "true")
    assert done.returncode == 125 and "not inside a git working tree" in done.stderr
    assert "Traceback" not in done.stderr
    assert run(repo, guard_env).returncode == 2  # no command: a usage error
    assert run(repo, guard_env, "--bogus", "x").returncode == 2


def test_help_lists_exit_codes() -> None:
    done = subprocess.run([GUARD, "run", "--help"], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "NO_COLOR": "1"})  # fmt: skip
    assert done.returncode == 0
    assert "75" in done.stdout and "Examples:" in done.stdout


@pytest.mark.guard_fails  # a heartbeat that cannot lock logs an error
def test_a_failed_heartbeat_never_orphans_the_command(
    repo: Path, guard_env: dict[str, str], lock_dir: Path, tmp_path: Path
) -> None:
    """The lease lock held elsewhere makes a heartbeat fail: guard says so and keeps
    supervising; the command's own exit code still comes back."""
    import fcntl

    from worktree_guard.core.workspace import workspace_key

    env = {**guard_env, "GUARD_TTL_MS": "3000", "GUARD_LOCK_TIMEOUT_MS": "200"}
    command, ready, go = holding(tmp_path)
    proc = start(repo, env, "--", "sh", "-c", f'{command[2]}; exit 5')
    wait_for(ready, proc)
    key = workspace_key(os.path.realpath(repo))
    fd = os.open(lock_dir / f"session-lock-{key}.lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # the next beat times out, whenever it comes
        said = read_line(proc, "stderr")
    finally:
        os.close(fd)
    assert "could not refresh the lease" in said
    assert proc.poll() is None, "guard gave up on its command"
    go.touch()
    _, err = proc.communicate(timeout=SAFETY_S)
    assert proc.returncode == 5
    assert "Traceback" not in said + err


CHILD_SEES = """
import glob, json, os, sys
lock_dir, out = sys.argv[1], sys.argv[2]
(lease,) = glob.glob(os.path.join(lock_dir, "session-lock-*.json"))
with open(lease) as fh, open(out, "w") as dump:
    json.dump({"env": dict(os.environ), "lease": json.load(fh)}, dump)
"""


def test_the_command_gets_the_callers_environment_and_the_runs_session_only(
    repo: Path, guard_env: dict[str, str], lock_dir: Path, tmp_path: Path
) -> None:
    """What guard passes to its child: the caller's environment as it was, plus one
    GUARD_SESSION_ID naming the lease the run holds (the child's git and Claude hooks act as
    the run). Nothing of guard's own settings or state is added, nothing is dropped."""
    import sys

    out = tmp_path / "child.json"
    env = {**guard_env, "SOME_SETTING": "kept as is", "GUARD_TTL_MS": "300000"}
    done = run(repo, env, "--", sys.executable, "-c", CHILD_SEES, str(lock_dir), str(out))
    assert done.returncode == 0, done.stderr
    seen = json.loads(out.read_text())
    child = dict(seen["env"])
    session = child.pop("GUARD_SESSION_ID")
    assert child == env
    assert session == seen["lease"]["session_id"] and seen["lease"]["pid"] != os.getpid()
    # Nested in a Claude Code session, the child acts as that session: no second session id.
    nested = {**env, "CLAUDE_CODE_SESSION_ID": "c1a0de00-0000-4000-8000-000000000002"}
    done = run(repo, nested, "--", sys.executable, "-c", CHILD_SEES, str(lock_dir), str(out))
    assert done.returncode == 0, done.stderr
    seen = json.loads(out.read_text())
    assert seen["env"]["GUARD_SESSION_ID"] == nested["CLAUDE_CODE_SESSION_ID"]
    assert {k: v for k, v in seen["env"].items() if k != "GUARD_SESSION_ID"} == nested

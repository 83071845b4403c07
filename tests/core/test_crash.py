"""A hook process killed at each step of a write: never two holders, never a stuck lease.

An audit hook (sys.addaudithook) in the real `guard hook` process SIGKILLs it at the N-th
file-system step it takes (open, flock, rename, unlink, truncate), for every N until a run
completes. After each kill the lease file holds a whole record or none, the lock is free
at once, and another session gets an answer (never a hang) and the tree once one ttl has
passed (the record's stamps backdated past a ttl of minutes, not slept through).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import backdate_leases, lease_files, pre_tool, run_hook

KILL_AT_STEP = """
import os, signal, sys
target = int(sys.argv[1])
steps = 0
def hook(event, args):
    global steps
    if event in ("open", "fcntl.flock", "os.rename", "os.remove", "os.truncate"):
        path = str(args[0]) if args and isinstance(args[0], (str, bytes, os.PathLike)) else ""
        if event == "fcntl.flock" or "session-lock-" in path:
            steps += 1
            if steps == target:
                os.kill(os.getpid(), signal.SIGKILL)
sys.addaudithook(hook)
from worktree_guard.entry import main
sys.exit(main(["hook"]))
"""


def hook_killed_at(step: int, payload: dict[str, object], env: dict[str, str]) -> int:
    done = subprocess.run(
        [sys.executable, "-c", KILL_AT_STEP, str(step)],
        input=json.dumps(payload).encode(), env=env, capture_output=True, timeout=60,
    )
    return done.returncode


def lease_is_whole_or_absent(lock_dir: Path) -> dict[str, object] | None:
    files = lease_files(lock_dir)
    if not files:
        return None
    record: dict[str, object] = json.loads(files[0].read_text())  # never half a record
    return record


@pytest.mark.parametrize("scenario", ["fresh acquire", "take over expired", "refresh", "release"])
def test_kill_at_every_step(scenario: str, repo: Path, guard_env: dict[str, str],
                            lock_dir: Path) -> None:
    # No holder process guard can check (the hooks run from this test, no agent above):
    # only the ttl frees a lease, and a ttl passes by backdating the record past it.
    ttl = 300_000
    env = {**guard_env, "GUARD_TTL_MS": str(ttl), "GUARD_REFRESH_INTERVAL_MS": "0",
           "GUARD_LOCK_TIMEOUT_MS": "3000"}
    kills = 0
    for step in range(1, 50):
        for path in lock_dir.glob("session-lock-*.json"):
            path.unlink()
        if scenario == "take over expired":
            run_hook(pre_tool("old", repo), env)
            backdate_leases(lock_dir, ttl + 60_000)
        elif scenario in ("refresh", "release"):
            run_hook(pre_tool("victim", repo), env)
        before = lease_is_whole_or_absent(lock_dir)
        payload: dict[str, object] = pre_tool("victim", repo)
        if scenario == "refresh":
            payload = {**payload, "hook_event_name": "PostToolUse"}
        elif scenario == "release":
            payload = {"session_id": "victim", "cwd": str(repo), "hook_event_name": "SessionEnd"}
        code = hook_killed_at(step, payload, env)
        after = lease_is_whole_or_absent(lock_dir)
        if code == 0:
            break  # the run finished before step N: every step has been cut
        assert code == -9
        kills += 1
        holders = {r["session_id"] for r in (before, after) if r is not None}
        assert after is None or after["session_id"] in holders | {"victim"}
        # Another session gets an answer at once, and the tree within one ttl.
        answer = run_hook(pre_tool("next", repo), env)
        assert answer.returncode == 0 and "Traceback" not in answer.stderr
        if answer.denied:
            assert after is not None and after["session_id"] != "next"
            backdate_leases(lock_dir, ttl + 60_000)
            assert not run_hook(pre_tool("next", repo), env).denied
        final = lease_is_whole_or_absent(lock_dir)
        assert final is not None and final["session_id"] == "next"
    assert kills >= 2, f"{scenario}: the audit hook never cut a write"

"""The failure policy on real processes: a lease lock held elsewhere never hangs the hook.

Another process keeps the side lock file flocked; the hook gives up at its lock deadline
(an internal error: allowed, one stderr line, an `error` event; denied under
GUARD_FAIL_CLOSED=1), or at its overall SIGALRM deadline when the lock wait is longer.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import pre_tool, read_log, run_hook
from worktree_guard.core.workspace import workspace_key

pytestmark = pytest.mark.guard_fails  # every test here is of a failure


@pytest.fixture
def lock_held_elsewhere(repo: Path, lock_dir: Path) -> Iterator[None]:
    lock_dir.mkdir(mode=0o700, exist_ok=True)
    key = workspace_key(os.path.realpath(repo))
    fd = os.open(lock_dir / f"session-lock-{key}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        os.close(fd)


@pytest.mark.usefixtures("lock_held_elsewhere")
def test_lock_timeout_fails_open(repo: Path, guard_env: dict[str, str], lock_dir: Path) -> None:
    env = {**guard_env, "GUARD_LOCK_TIMEOUT_MS": "300"}
    answer = run_hook(pre_tool("s1", repo), env)
    assert answer.returncode == 0 and answer.stdout == ""
    assert "timed out after 300 ms locking" in answer.stderr
    assert answer.stderr.count("\n") == 1
    assert read_log(lock_dir)[-1]["event"] == "error"


@pytest.mark.usefixtures("lock_held_elsewhere")
def test_lock_timeout_fails_closed_when_asked(repo: Path, guard_env: dict[str, str]) -> None:
    env = {**guard_env, "GUARD_LOCK_TIMEOUT_MS": "300", "GUARD_FAIL_CLOSED": "1"}
    answer = run_hook(pre_tool("s1", repo), env)
    assert answer.returncode == 0 and answer.denied
    assert "GUARD_FAIL_CLOSED" in answer.reason
    assert "timed out after 300 ms locking" in answer.reason  # the lock: not another error


@pytest.mark.usefixtures("lock_held_elsewhere")
def test_the_whole_hook_has_a_deadline(repo: Path, guard_env: dict[str, str],
                                       lock_dir: Path) -> None:
    env = {**guard_env, "GUARD_LOCK_TIMEOUT_MS": "60000"}  # longer than the hook may take
    answer = run_hook(pre_tool("s1", repo), env)
    assert answer.returncode == 0 and answer.stdout == ""
    assert "timed out" in answer.stderr and "Traceback" not in answer.stderr
    assert read_log(lock_dir)[-1]["error"] == "timed out"

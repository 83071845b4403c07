"""The status line is never "free" while guard cannot guard: a lock folder the hooks cannot
use (every hook fails open there) or hooks that failed open since the last acknowledgement."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import GUARD


def _statusline(repo: Path, env: dict[str, str]) -> str:
    payload = json.dumps({"session_id": "s1", "cwd": str(repo)})
    done = subprocess.run([GUARD, "statusline"], input=payload, env={**env, "NO_COLOR": "1"},
                          cwd=repo, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.parametrize("where", ["under-a-file", "a-file"])
def test_unusable_lock_folder_is_off_not_free(where: str, repo: Path, guard_env: dict[str, str],
                                              tmp_path: Path) -> None:
    """A GUARD_LOCK_DIR that cannot be created (its parent is a file) or that is a file.
    Catches: the lock_folder_problem check in statusline.render (it said "guard: free")."""
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder\n")
    lock_dir = blocker / "locks" if where == "under-a-file" else blocker
    line = _statusline(repo, {**guard_env, "GUARD_LOCK_DIR": str(lock_dir)})
    assert line == "guard: OFF, lock folder unusable (guard doctor)"


@pytest.mark.guard_fails
def test_failed_open_hooks_are_not_free(repo: Path, guard_env: dict[str, str]) -> None:
    """A hook that failed open (an event guard could not read) is shown until acknowledged,
    in place of "free". Catches: the free-and-failed branch (it said "guard: free | ...")."""
    assert _statusline(repo, guard_env) == "guard: free"
    subprocess.run([GUARD, "hook"], input="", env=guard_env, cwd=repo, capture_output=True,
                   timeout=60)
    line = _statusline(repo, guard_env)
    assert line.startswith("guard failed open 1 time since") and "free" not in line
    subprocess.run([GUARD, "doctor", "--ack"], env=guard_env, cwd=repo, capture_output=True,
                   timeout=60)
    assert _statusline(repo, guard_env) == "guard: free"

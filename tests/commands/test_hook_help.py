"""`guard hook` and `guard git-hook` asked for help by a person: help on stdout, exit 0, and
nothing judged or recorded (a help request is not guard failing open)."""

from __future__ import annotations

import os
import pty
import subprocess
from pathlib import Path

import pytest

from tests.conftest import GUARD


def _run(argv: list[str], env: dict[str, str], cwd: Path, stdin: int | None = None
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([GUARD, *argv], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL if stdin is None else stdin)


def _recorded(lock_dir: Path) -> list[str]:
    return sorted(p.name for p in lock_dir.iterdir()) if lock_dir.exists() else []


@pytest.mark.parametrize("argv", [["hook", "--help"], ["hook", "-h"],
                                  ["hook", "--agent", "codex", "--help"],
                                  ["git-hook", "--help"], ["git-hook"]])
def test_help_is_help_and_records_nothing(argv: list[str], repo: Path, guard_env: dict[str, str],
                                          lock_dir: Path) -> None:
    """Catches: the --help check in entry.main (`guard hook --help` was read as a malformed
    event and recorded as guard failing open; `guard git-hook --help` said "unknown git
    hook")."""
    done = _run(argv, guard_env, repo)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith("Usage: guard " + argv[0])
    assert _recorded(lock_dir) == []
    doctor = _run(["doctor"], guard_env, repo)
    assert "FAIL  failed open" not in doctor.stdout


def test_hook_typed_at_a_terminal_prints_help(repo: Path, guard_env: dict[str, str],
                                              lock_dir: Path) -> None:
    """A person who types `guard hook` has a terminal on stdin; an agent always pipes the event.
    Catches: the isatty check (guard waited for an event, then recorded a fail-open)."""
    leader, follower = pty.openpty()
    try:
        done = _run(["hook"], guard_env, repo, stdin=follower)
    finally:
        os.close(follower)
        os.close(leader)
    assert done.returncode == 0 and done.stdout.startswith("Usage: guard hook")
    assert _recorded(lock_dir) == []


@pytest.mark.guard_fails
def test_an_empty_event_on_a_pipe_is_still_judged(repo: Path, guard_env: dict[str, str],
                                                  lock_dir: Path) -> None:
    """The help path stops at a terminal only: a pipe with no event is guard's failure, and
    recorded as one. Catches: a help check that also swallows an agent's empty stdin."""
    done = subprocess.run([GUARD, "hook"], env=guard_env, cwd=repo, input="",
                          capture_output=True, text=True, timeout=60)
    assert not done.stdout.startswith("Usage")
    assert _recorded(lock_dir) != []

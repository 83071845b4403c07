"""The wrappers' option table, read as getopt_long reads options (shell/runners.py).

The pushes behind these wrappers are shown to rewrite a real remote in
tests/agents/test_hookless_pushes.py; here, the reading rules one at a time.
"""

from __future__ import annotations

import pytest

from worktree_guard.shell.runners import RUNNERS, unwrap
from worktree_guard.shell.targets import git_subcommands


@pytest.mark.parametrize(("wrapper", "args", "start"), [
    # Catches: a value-taking option read as a flag (`-u FOO` taken for the command).
    ("env", ["-u", "FOO", "git"], 2),
    ("env", ["-uFOO", "git"], 1),
    ("env", ["-iu", "FOO", "git"], 2),  # a cluster whose last letter takes the next word
    ("env", ["--unset=FOO", "A=1", "git"], 2),
    # Catches: an abbreviation not resolved to its option (getopt takes unique prefixes).
    ("env", ["--uns", "FOO", "git"], 2),
    # Catches: timeout's duration taken for the command.
    ("timeout", ["-s", "KILL", "5", "git"], 3),
    # Catches: options read after the operand (these wrappers stop there, as `+` getopt).
    ("timeout", ["5", "-k", "1", "git"], 1),
    ("nice", ["-5", "git"], 1),
    ("nice", ["-n-5", "git"], 1),
    ("flock", ["-w", "3", "lk", "git"], 3),
    ("chrt", ["-f", "10", "git"], 2),
    ("sudo", ["-E", "-u", "x", "HOME=/h", "git"], 4),
])
def test_where_the_command_starts(wrapper: str, args: list[str], start: int) -> None:
    read = unwrap(RUNNERS[wrapper], args)
    assert read.problem is None, read.problem
    assert read.start == start


def test_what_cannot_be_read_is_a_problem_not_a_guess() -> None:
    """Catches: an unknown or ambiguous option skipped as if it were a flag."""
    assert unwrap(RUNNERS["env"], ["--i", "git"]).problem  # --ignore-environment or -signal
    assert unwrap(RUNNERS["timeout"], ["--frobnicate", "5", "git"]).problem
    assert unwrap(RUNNERS["env"], ["-u", "$X", "git"], [False, True, False]).problem
    assert unwrap(RUNNERS["command"], ["-v", "git"]).describes


def test_code_and_files_a_wrapper_holds() -> None:
    read = unwrap(RUNNERS["flock"], ["lk", "-c", "git push -f"])
    assert read.code == ["git push -f"]
    assert unwrap(RUNNERS["time"], ["-o", "out", "ls"]).writes == ["out"]


@pytest.mark.parametrize("line", [
    "env -u FOO git push --force origin main",
    "timeout -s KILL 5 git push -f origin main",
    "command -p git push -f origin main",
    "env -S 'git push -f origin main'",
    "watch -n 5 git push -f origin main",
    "sudo -u dev git push -f origin main",
    "nohup nice -n 5 git push -f origin main",
    "env --frobnicate git push -f origin main",  # unreadable options: a git word still counts
])
def test_the_git_reader_sees_the_push_behind_every_wrapper(line: str) -> None:
    assert ("push", ["-f" if " -f " in line else "--force", "origin", "main"]) in (
        git_subcommands(line) or [])


def test_a_wrapper_that_runs_no_command_runs_no_git() -> None:
    assert git_subcommands("command -v git push -f") == []
    assert git_subcommands("taskset -p 1 git push -f") == []

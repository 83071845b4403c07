"""Pushes from the shells of agents that run git without its hooks (Gemini CLI, Codex CLI).

git's pre-push never runs there, so the hook refuses, before the line runs, every push that
may rewrite or delete a remote branch, for the holder too. Each refused line is also run in
a scratch copy, as that shell would run it (hooks off), to show it does rewrite the remote;
a plain push, which git itself refuses unless it is a fast-forward, goes through.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.agents.test_codex import codex_hook
from tests.agents.test_codex import denied_reason as codex_denied
from tests.agents.test_codex import pre_tool as codex_pre_tool
from tests.agents.test_gemini import before_tool, gemini_hook
from tests.agents.test_gemini import denied_reason as gemini_denied
from tests.conftest import git, make_bare
from worktree_guard.shell.pushes import history_rewriting_push

REWRITING = [
    "git push -f origin main",
    "git push --force origin main",
    "git push --force-with-lease origin main",
    "git push origin +main",
    "git push -fu origin main",
    "f=--force; git push $f origin main",
    "git push --mirror origin",
    "git push origin :side",
    "git push --delete origin side",
    "bash -lc 'git push -f origin main'",
    # Behind wrappers, read by their one option table (shell/runners.py). Catches: a reader
    # that skips a wrapper's options by a rule of its own (`-u FOO` taken for the command).
    "env -u FOO git push --force origin main",
    "env --uns=FOO git push --force origin main",  # a unique prefix of --unset
    "timeout -s KILL 5 git push -f origin main",
    "command -p git push -f origin main",
    "ionice -c 2 -n 7 git push -f origin main",
    "setsid -w git push -f origin main",
    "flock lockfile -c 'git push -f origin main'",
]


def _world(tmp_path: Path) -> tuple[Path, Path]:
    """A repository whose main was rewritten after it was pushed, and its bare origin (with
    a second branch `side`): a forced push or a delete changes the remote; a plain one not."""
    remote, repo = tmp_path / "origin.git", tmp_path / "repo"
    make_bare(remote)
    git(tmp_path, "init", "-q", "-b", "main", str(repo))
    git(repo, "config", "user.email", "dev@example.invalid")
    git(repo, "config", "user.name", "Dev")
    git(repo, "remote", "add", "origin", str(remote))
    (repo / "f.txt").write_text("one\n")
    git(repo, "add", "f.txt")
    git(repo, "commit", "-qm", "one")
    git(repo, "push", "-q", "origin", "main", "main:side")
    git(repo, "commit", "-q", "--amend", "-m", "rewritten")
    return repo, remote


def _remote_refs(remote: Path) -> str:
    return git(remote, "for-each-ref", "--format=%(refname) %(objectname)")


def _run_hookless(line: str, repo: Path) -> None:
    """As Gemini CLI's shell runs it: git's hooks switched off."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(repo.parent), "GIT_CONFIG_GLOBAL": "/dev/null",
           "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "core.hooksPath",
           "GIT_CONFIG_VALUE_0": ""}
    subprocess.run(["bash", "-c", line], cwd=repo, env=env, capture_output=True, timeout=60,
                   check=False)


@pytest.mark.parametrize("line", REWRITING)
def test_a_push_that_rewrites_the_remote_is_refused_even_to_the_holder(
    tmp_path: Path, guard_env: dict[str, str], line: str
) -> None:
    repo, remote = _world(tmp_path)
    # The holder: its first change took the tree.
    assert gemini_denied(gemini_hook(before_tool("g1", repo), guard_env)) is None
    reason = gemini_denied(gemini_hook(
        before_tool("g1", repo, "run_shell_command", command=line), guard_env))
    # Refused as a push that rewrites, or (an option from a variable) as a possible switch.
    assert reason is not None and ("rewrite or delete a remote branch" in reason
                                   or "switches git hooks off" in reason), reason
    codex = codex_denied(codex_hook(codex_pre_tool("c1", repo, "Bash", command=line),
                                    guard_env))
    assert codex is not None and ("git without its hooks" in codex
                                  or "switches git hooks off" in codex), codex
    # Without guard, the same line changes the remote.
    scratch = tmp_path / "scratch"
    shutil.copytree(tmp_path / "repo", scratch / "repo", symlinks=True)
    shutil.copytree(remote, scratch / "origin.git", symlinks=True)
    git(scratch / "repo", "remote", "set-url", "origin", str(scratch / "origin.git"))
    before = _remote_refs(scratch / "origin.git")
    _run_hookless(line, scratch / "repo")
    assert _remote_refs(scratch / "origin.git") != before, f"{line!r} left the remote alone"


def test_a_plain_push_goes_through_and_git_refuses_a_non_fast_forward(
    tmp_path: Path, guard_env: dict[str, str]
) -> None:
    repo, remote = _world(tmp_path)
    assert gemini_denied(gemini_hook(before_tool("g1", repo), guard_env)) is None
    line = "git push origin main"
    answer: Any = gemini_hook(before_tool("g1", repo, "run_shell_command", command=line),
                              guard_env)
    assert gemini_denied(answer) is None
    before = _remote_refs(remote)
    _run_hookless(line, repo)
    assert _remote_refs(remote) == before  # not a fast-forward: git itself said no


def test_pushes_are_read_where_the_shell_reads_them() -> None:
    assert history_rewriting_push("git push origin main") is None
    assert history_rewriting_push("git push -u origin feature") is None
    assert history_rewriting_push("git status && echo push") is None
    assert history_rewriting_push('git push origin "$(git branch --show-current)"')
    assert history_rewriting_push("git -C ../x push --prune origin")

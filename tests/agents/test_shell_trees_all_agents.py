"""Gemini's, Codex's and Copilot's shell calls are judged by every tree they can change.

Their shells run with git hooks off (Gemini: `core.hooksPath=''`; Codex: `.git` read-only in
a sandbox), so the pre-tool hook is the only judge: the same rules as Claude Code's Bash
(tests/agents/test_cross_tree.py). Each case asks the real `guard hook --agent NAME` process
about session B's line while session A (of the same agent) holds tree A, then runs the line
for real, without guard, in the same trees: a denied line must change A, an allowed one not.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.agents import test_codex as codex
from tests.agents import test_copilot as copilot
from tests.agents import test_gemini as gemini
from tests.agents.test_cross_tree import _snapshot
from tests.conftest import git, make_repo
from tests.guard_failures import holder_of

Ask = Callable[[str, Path, dict[str, str], str], str | None]
Hold = Callable[[str, Path, dict[str, str]], str | None]


def _gemini(session: str, cwd: Path, env: dict[str, str], line: str) -> str | None:
    payload = gemini.before_tool(session, cwd, "run_shell_command", command=line)
    return gemini.denied_reason(gemini.gemini_hook(payload, env))


def _gemini_write(session: str, cwd: Path, env: dict[str, str]) -> str | None:
    return gemini.denied_reason(gemini.gemini_hook(gemini.before_tool(session, cwd), env))


def _codex(session: str, cwd: Path, env: dict[str, str], line: str) -> str | None:
    return codex.denied_reason(codex.codex_hook(codex.pre_tool(session, cwd, "Bash",
                                                               command=line), env))


def _codex_argv(session: str, cwd: Path, env: dict[str, str], line: str) -> str | None:
    # The argv form of Codex's shell tool: the line it runs, through `bash -lc`.
    payload = codex.pre_tool(session, cwd, "shell", command=["bash", "-lc", line])
    return codex.denied_reason(codex.codex_hook(payload, env))


def _codex_write(session: str, cwd: Path, env: dict[str, str]) -> str | None:
    payload = codex.pre_tool(session, cwd, "apply_patch", command=codex.patch("held.txt"))
    return codex.denied_reason(codex.codex_hook(payload, env))


def _copilot(session: str, cwd: Path, env: dict[str, str], line: str) -> str | None:
    payload = copilot.pre_tool(session, cwd, "bash", {"command": line})
    return copilot.denied_reason(copilot.copilot_hook(payload, env))


def _copilot_write(session: str, cwd: Path, env: dict[str, str]) -> str | None:
    payload = copilot.pre_tool(session, cwd, "create",
                               {"path": str(cwd / "held.txt"), "file_text": "x"})
    return copilot.denied_reason(copilot.copilot_hook(payload, env))


# (shell of session B, the file tool session A takes its tree with)
AGENTS: dict[str, tuple[Ask, Hold]] = {
    "gemini": (_gemini, _gemini_write),
    "codex": (_codex, _codex_write),
    "codex-argv": (_codex_argv, _codex_write),
    "copilot": (_copilot, _copilot_write),
}

DENIED_FROM_B = [
    "git -C {A} commit -qam sneaky",
    "cd {A} && git reset -q --hard",
    "sed -i s/hello/bye/ {A}/README",
    "git update-ref refs/heads/main HEAD",  # main is checked out in A: A's branch
    "git worktree add -q {A}/inner",  # a new tree, but inside A
]


def _setup(tmp_path: Path, env: dict[str, str], hold: Hold) -> tuple[Path, Path]:
    """A (main, tracked README with uncommitted work) held by session A; a linked worktree
    B one commit ahead of main on b-branch."""
    a = make_repo(tmp_path / "a")  # README "hello" committed on main
    git(a, "worktree", "add", "-q", "../b", "-b", "b-branch")
    b = tmp_path / "b"
    git(b, "commit", "-q", "--allow-empty", "-m", "b's work")
    (a / "README").write_text("hello\nwork in progress\n")
    assert hold("session-a", a, env) is None
    (a / "held.txt").unlink(missing_ok=True)  # the holder's own file: not part of the cases
    return a, b


def _run_without_guard(line: str, cwd: Path, env: dict[str, str], a: Path) -> bool:
    """Run `line` for real (no git hooks in these repositories): did it change A?"""
    before = _snapshot(a)
    shell_env = {k: v for k, v in env.items() if not k.startswith("GIT_")}
    subprocess.run(["bash", "-c", line], cwd=cwd, env=shell_env, capture_output=True,
                   timeout=60)
    return _snapshot(a) != before


@pytest.mark.parametrize("agent", sorted(AGENTS))
@pytest.mark.parametrize("command", DENIED_FROM_B)
def test_a_line_from_bs_tree_that_changes_held_a_is_denied(
        tmp_path: Path, guard_env: dict[str, str], agent: str, command: str) -> None:
    ask, hold = AGENTS[agent]
    a, b = _setup(tmp_path, guard_env, hold)
    line = command.format(A=a)
    reason = ask("session-b", b, guard_env, line)
    assert reason is not None, f"{agent} allowed {line!r}"
    assert str(a) in reason and "worktree-guard" in reason, reason
    assert _run_without_guard(line, b, guard_env, a), f"{line!r} does not change A: weak case"


@pytest.mark.parametrize("agent", sorted(AGENTS))
def test_committing_into_ones_own_tree_from_as_folder_is_allowed(
        tmp_path: Path, guard_env: dict[str, str], agent: str) -> None:
    ask, hold = AGENTS[agent]
    a, b = _setup(tmp_path, guard_env, hold)
    line = "git -C ../b commit -q --allow-empty -m mine"
    assert ask("session-b", a, guard_env, line) is None
    # What allowing means: B is session B's now, A still session A's.
    lock_dir = guard_env["GUARD_LOCK_DIR"]
    assert (holder_of(lock_dir, str(b)), holder_of(lock_dir, str(a))) == ("session-b",
                                                                           "session-a")
    assert not _run_without_guard(line, a, guard_env, a), "the allowed line changed A"
    assert git(b, "log", "-1", "--format=%s").strip() == "mine"  # it did its work in B
    # The way out a deny offers: a new tree beside A, made from A's folder.
    line = "git worktree add -q ../c -b c-branch"
    assert ask("session-b", a, guard_env, line) is None
    assert not _run_without_guard(line, a, guard_env, a), "the allowed line changed A"
    assert (a.parent / "c" / "README").exists()


@pytest.mark.parametrize("agent", sorted(AGENTS))
def test_a_branch_checked_out_in_held_a_cannot_be_moved_from_b(
        tmp_path: Path, guard_env: dict[str, str], agent: str) -> None:
    ask, hold = AGENTS[agent]
    a, b = _setup(tmp_path, guard_env, hold)
    for line in ("git branch -f main HEAD", "git update-ref refs/heads/main HEAD",
                 "git -C . update-ref refs/heads/main b-branch"):
        reason = ask("session-b", b, guard_env, line)
        assert reason is not None and "main is checked out in" in reason, (line, reason)
        assert str(a) in reason
    # B's own branch is B's to move: allowed, and B taken for it.
    assert holder_of(guard_env["GUARD_LOCK_DIR"], str(b)) is None
    assert ask("session-b", b, guard_env, "git branch -f b2 HEAD") is None
    assert holder_of(guard_env["GUARD_LOCK_DIR"], str(b)) == "session-b"
    # update-ref would move A's branch (git refuses `branch -f` of a checked-out branch
    # itself, but not update-ref); once A is free the same line goes through.
    assert _run_without_guard("git update-ref refs/heads/main HEAD", b, guard_env, a)


def test_the_same_lines_from_bs_tree_are_allowed_once_a_is_free(
        tmp_path: Path, guard_env: dict[str, str]) -> None:
    """Control: the denies above are the lease of A, not the look of the line."""
    a, b = _setup(tmp_path, guard_env, _gemini_write)
    end = {"session_id": "session-a", "cwd": str(a), "hook_event_name": "SessionEnd"}
    assert gemini.gemini_hook(end, guard_env).returncode == 0
    assert holder_of(guard_env["GUARD_LOCK_DIR"], str(a)) is None
    for command in DENIED_FROM_B:
        assert _gemini("session-b", b, guard_env, command.format(A=a)) is None, command
    # Allowed because A was free: session B holds it now (and B, its own).
    assert holder_of(guard_env["GUARD_LOCK_DIR"], str(a)) == "session-b"


def test_a_line_that_may_reach_held_a_is_denied(tmp_path: Path, guard_env: dict[str, str]
                                                ) -> None:
    a, b = _setup(tmp_path, guard_env, _codex_write)
    reason = _codex("session-b", b, guard_env, 'rm -rf "$TARGET"')
    assert reason is not None and "$TARGET" in reason and str(a) in reason
    assert _codex("session-b", b, guard_env, f"rm -f {b}/*.tmp") is None
    assert holder_of(guard_env["GUARD_LOCK_DIR"], str(b)) == "session-b"


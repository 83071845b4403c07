"""The contract every agent's hook keeps: the same cases, for all four agents, through each
agent's real hook command as `guard install` writes it (the launcher, `hook` for Claude Code's
settings files, `hook --agent NAME [EVENT]` for the others' hook files).

Each case is one rule of the one pipeline (agents/pipeline.py); a rule kept for one agent only
turns its row red here. Sessions a and b are two sessions of the same agent; trees A and B are
two worktrees of one repository, A on `main`, B on `feature`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.agents.conftest import Driver
from tests.conftest import git, read_log
from worktree_guard.core.agents import AGENTS, BY_NAME

# ---- protected paths ------------------------------------------------------------------------

PROTECTED = [
    ".git/hooks/pre-commit",
    ".git/hooks/pre-push",
    ".git/config",
    *(path for row in AGENTS for path in row.hook_files),
]


@pytest.mark.parametrize("target", PROTECTED)
def test_no_agent_writes_a_protected_path(agent: Driver, target: str, trees: tuple[Path, Path],
                                          guard_env: dict[str, str]) -> None:
    """The holder itself may not write git's hooks folder, git's config or any agent's hook
    files, with any agent's file tools (create and edit forms).
    Catches: the protected-path step of the pipeline skipped for an agent (it was Claude's
    only), or an agent's hook file missing from the agent table."""
    a, _ = trees
    assert agent.ask(agent.write("a", a, a / "ordinary.txt"), guard_env) is None  # the holder
    path = a / target
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x\n")
    for edit in (False, True):
        reason = agent.ask(agent.write("a", a, path, edit), guard_env)
        assert reason is not None and "switch" in reason, (target, edit)
    assert path.read_text() == "x\n"


# ---- cross-tree writes -----------------------------------------------------------------------

def test_a_tree_held_by_another_session_is_refused(agent: Driver, trees: tuple[Path, Path],
                                                    guard_env: dict[str, str]) -> None:
    """Session a holds A: b's file tool and b's shell line into A are denied, b's own tree
    is b's.
    Catches: the file call's trees not taken (acquire_all skipped), or a shell line judged by
    its cwd only (shell_trees skipped)."""
    a, b = trees
    assert agent.ask(agent.write("a", a, a / "mine.txt"), guard_env) is None
    reason = agent.ask(agent.write("b", b, a / "README"), guard_env)
    assert reason is not None and str(a) in reason
    reason = agent.ask(agent.shell("b", b, f"sed -i s/x/y/ {a}/README"), guard_env)
    assert reason is not None and str(a) in reason
    assert agent.ask(agent.write("b", b, b / "own.txt"), guard_env) is None
    assert agent.ask(agent.shell("b", b, "touch own2.txt"), guard_env) is None


# ---- pushes ----------------------------------------------------------------------------------

@pytest.mark.parametrize("line", ["git push --force origin main", "git push origin +main",
                                  "git push --delete origin main"])
def test_a_history_rewriting_push_is_refused_where_git_hooks_do_not_run(
        agent: Driver, line: str, trees: tuple[Path, Path], guard_env: dict[str, str]) -> None:
    """A push that may rewrite a remote branch is refused, the holder's too, exactly for the
    agents whose shells run git without its hooks (the agent table says which); where git's
    pre-push runs, that hook judges it and the pre-tool hook lets it through.
    Catches: the push step keyed to a list of agent names beside the table, or skipped."""
    a, _ = trees
    assert agent.ask(agent.write("a", a, a / "mine.txt"), guard_env) is None
    reason = agent.ask(agent.shell("a", a, line), guard_env)
    if BY_NAME[agent.name].shell_runs_git_hooks:
        assert reason is None
    else:
        assert reason is not None and "without its hooks" in reason


# ---- branch moves ----------------------------------------------------------------------------

def test_a_branch_checked_out_in_a_held_tree_is_not_moved(
        agent: Driver, trees: tuple[Path, Path], guard_env: dict[str, str]) -> None:
    """b, in its own tree B, may not move `main` (checked out in A, held by a), nor check it
    out; its own branch it may move.
    Catches: the branch-ownership step (judge_branches) skipped."""
    a, b = trees
    assert agent.ask(agent.write("a", a, a / "mine.txt"), guard_env) is None
    for line in ("git update-ref refs/heads/main HEAD", "git branch -f main HEAD"):
        reason = agent.ask(agent.shell("b", b, line), guard_env)
        assert reason is not None and "main" in reason, line
    assert agent.ask(agent.shell("b", b, "git branch -f feature HEAD"), guard_env) is None


# ---- hijack ----------------------------------------------------------------------------------

def test_a_switch_of_the_holders_tree_by_someone_else_is_reported(
        agent: Driver, trees: tuple[Path, Path], guard_env: dict[str, str],
        lock_dir: Path) -> None:
    """a holds A on main; someone else switches A to another branch: a's next change is
    stopped once with the reason, then a may go on (it has been told).
    Catches: the hijack rule in acquire_all skipped, or told more than once."""
    a, _ = trees
    assert agent.ask(agent.write("a", a, a / "mine.txt"), guard_env) is None
    git(a, "checkout", "-q", "-b", "elsewhere")
    reason = agent.ask(agent.write("a", a, a / "mine.txt"), guard_env)
    assert reason is not None and "elsewhere" in reason and "main" in reason
    assert any(e["event"] == "hijack" for e in read_log(lock_dir))
    assert agent.ask(agent.write("a", a, a / "mine.txt"), guard_env) is None


# ---- the failure policy ------------------------------------------------------------------------

@pytest.mark.guard_fails
@pytest.mark.parametrize("raw", [b"", b"garbage", b"[]", b'{"cwd": 5}'])
def test_an_unreadable_payload_allows_with_one_line_or_denies_when_asked(
        agent: Driver, raw: bytes, guard_env: dict[str, str]) -> None:
    """Bad input: exit 0 always (a non-zero exit denies every call under Copilot), no deny,
    one `internal error` line; under GUARD_FAIL_CLOSED=1 a deny in the agent's own form.
    Catches: an adapter with a failure policy of its own, or the fail-closed deny written in
    another agent's form (Gemini ignores Claude's)."""
    opened = agent.run(raw, guard_env)
    assert opened.stdout == "" and opened.stderr.count("internal error") == 1
    closed = agent.run(raw, {**guard_env, "GUARD_FAIL_CLOSED": "1"})
    reason = agent.denied(closed)
    assert reason is not None and "could not decide" in reason


def test_an_unreadable_shell_line_still_takes_its_tree(
        agent: Driver, trees: tuple[Path, Path], guard_env: dict[str, str]) -> None:
    """A shell call whose line is not a string may do anything in its folder: b's is denied
    in A while a holds it.
    Catches: a shell call without a readable line allowed as if it changed nothing."""
    a, _ = trees
    assert agent.ask(agent.write("a", a, a / "mine.txt"), guard_env) is None
    payload = agent.shell("b", a, "x")
    key = "toolArgs" if agent.name == "copilot" else "tool_input"
    payload[key] = {"command": ["not", "a", "string"]} if agent.name != "codex" else {
        "command": 5}
    assert agent.ask(payload, guard_env) is not None

"""The default install leaves out reference-transaction (strict only). What that check did
for agent sessions is still done: git refuses another agent's commits of every kind through
pre-commit and prepare-commit-msg, and the Claude Code hook denies the branch moves that
only reference-transaction saw, before git runs. What stays strict-only is named in the
README and docs/git-hooks.md: branch moves by an agent whose own client runs no hooks."""

from __future__ import annotations

import pytest

from tests.conftest import pre_tool, run_hook
from tests.git.conftest import A, B, World


@pytest.fixture
def default_world(world: World) -> World:
    (world.repo / ".git" / "hooks" / "reference-transaction").unlink()
    assert world.commit("A holds the tree", A).returncode == 0
    assert world.git("branch", "spare", session=A).returncode == 0
    (world.repo / "file.txt").write_text("theirs\n")
    return world


COMMITS = {
    "commit": ["commit", "-q", "-a", "-m", "theirs"],
    "commit --no-verify": ["commit", "-q", "-a", "-m", "theirs", "--no-verify"],
    "commit --amend --no-verify": ["commit", "-q", "--amend", "-m", "x", "--no-verify"],
    "cherry-pick": ["cherry-pick", "spare~0", "--allow-empty", "--keep-redundant-commits"],
    "revert --no-edit": ["revert", "--no-edit", "HEAD"],
}


@pytest.mark.parametrize("what", sorted(COMMITS))
def test_git_still_refuses_another_agents_commits(default_world: World, what: str) -> None:
    world = default_world
    if what == "revert --no-edit":
        world.git("checkout", "--", "file.txt")
    before = world.refs()
    done = world.git(*COMMITS[what], session=B)
    assert done.returncode != 0, done.stderr
    assert "refused" in done.stderr and A[:8] in done.stderr
    world.git("cherry-pick", "--abort")
    world.git("revert", "--abort")
    assert world.refs() == before


BRANCH_MOVES = [
    "git update-ref refs/heads/main HEAD~1",
    "git branch -f spare HEAD~1",
    "git branch feature",
    "git reset --soft HEAD~1",
    "git checkout -b feature",
    "git branch -D spare",
    "git rebase spare",
    "git merge spare",
]


@pytest.mark.parametrize("command", BRANCH_MOVES)
def test_the_claude_hook_denies_the_branch_moves_only_strict_git_sees(
    default_world: World, command: str
) -> None:
    world = default_world
    answer = run_hook(pre_tool(B, world.repo, "Bash", command=command, description=command),
                      world.env)
    assert answer.denied and A[:8] in answer.reason


def test_without_the_strict_hook_git_itself_lets_a_branch_move_pass(
    default_world: World,
) -> None:
    """The named limit of the default install: an agent that runs no pre-tool hook
    (`claude --bare`) can move a branch in a held tree; `guard install --strict` refuses it
    (tests/git/test_hooks.py runs the strict shims)."""
    world = default_world
    done = world.git("branch", "-f", "spare", "HEAD~1", session=B)
    assert done.returncode == 0 and "worktree-guard" not in done.stderr

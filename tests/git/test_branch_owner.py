"""A branch belongs to the tree that has it checked out: real git, real worktrees.

Session A holds the main tree (on `main`); session B works in its own linked worktree.
Every command of B that would move A's branch, check it out a second time or put a tree
inside A's is refused and A's branch does not move; B's own branch work goes through.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.git.conftest import A, B, World


@pytest.fixture
def two(world: World) -> tuple[World, Path]:
    assert world.commit("second", session=A).returncode == 0
    assert world.commit("third", session=A).returncode == 0
    assert world.holder() == A
    world.out("branch", "old", "HEAD~1")
    other = world.tmp / "b"
    assert world.git("worktree", "add", "-q", str(other), "-b", "b-branch").returncode == 0
    assert world.commit("b's own", session=B, cwd=other).returncode == 0
    assert world.holder(other) == B
    return world, other


MOVES_A_BRANCH = [
    ["update-ref", "refs/heads/main", "HEAD~2"],
    ["update-ref", "-d", "refs/heads/main"],
    ["update-ref", "--stdin"],
    ["branch", "-f", "main", "HEAD~1"],
    ["branch", "-M", "b-branch", "main"],
    ["worktree", "add", "-q", "-f", "-B", "main", "../x3", "HEAD~1"],
    ["worktree", "add", "-q", "-f", "../x2", "main"],
    ["fetch", "-q", "-u", ".", "+old:main"],
    ["push", "-q", ".", "+old:main"],
    ["reset", "-q", "--soft", "main~1"],  # B's own branch: the control below shows it passes
]


@pytest.mark.parametrize("argv", MOVES_A_BRANCH[:-1], ids=" ".join)
def test_every_move_of_as_branch_from_bs_worktree_is_refused(
    two: tuple[World, Path], argv: list[str]
) -> None:
    world, other = two
    before = world.refs()
    head_file = (world.repo / ".git" / "HEAD").read_text()
    stdin = None
    if argv[-1] == "--stdin":
        old = world.out("rev-parse", "old")
        stdin = f"update refs/heads/main {old}\n"
    done = world.git(*argv, session=B, cwd=other, input=stdin)
    assert done.returncode != 0, done.stderr
    assert world.refs() == before, "A's branch moved"
    assert (world.repo / ".git" / "HEAD").read_text() == head_file
    assert world.holder() == A


def test_guard_itself_refuses_a_move_git_would_allow(two: tuple[World, Path]) -> None:
    """`update-ref` checks nothing about worktrees, and its old value is zero (unchecked):
    the refusal is guard's, and it names the tree the branch belongs to."""
    world, other = two
    done = world.git("update-ref", "refs/heads/main", "HEAD~2", session=B, cwd=other)
    assert done.returncode != 0
    assert "checked out in" in done.stderr and str(world.repo.resolve()) in done.stderr
    assert "branch main" in done.stderr
    # The same command as a person (no session) is git's business: it moves.
    main = world.out("rev-parse", "main")
    assert world.git("update-ref", "refs/heads/main", "HEAD~2", cwd=other).returncode == 0
    assert world.out("rev-parse", "main") != main


def test_a_second_checkout_of_as_branch_leaves_no_tree_on_it(two: tuple[World, Path]) -> None:
    world, other = two
    done = world.git("worktree", "add", "-q", "-f", "../x2", "main", session=B, cwd=other)
    assert done.returncode != 0 and "a second time" in done.stderr
    listed = world.out("worktree", "list", "--porcelain")
    assert "branch refs/heads/main" in listed and listed.count("refs/heads/main") == 1


def test_a_worktree_inside_a_held_tree_is_refused(two: tuple[World, Path]) -> None:
    world, other = two
    done = world.git("worktree", "add", "-q", str(world.repo / "inner"), "-b", "inner",
                     session=B, cwd=other)
    assert done.returncode != 0 and "lies inside" in done.stderr
    assert "inner" not in world.out("worktree", "list")


def test_bs_own_branch_work_in_its_worktree_goes_through(two: tuple[World, Path]) -> None:
    world, other = two
    main = world.out("rev-parse", "main")
    for argv in (["branch", "b2", "HEAD~1"], ["branch", "-f", "b2", "HEAD"],
                 ["update-ref", "refs/heads/b-branch", "HEAD~1"], ["checkout", "-q", "-b", "b3"],
                 ["worktree", "add", "-q", "../c", "-b", "c-branch"],
                 ["reset", "-q", "--hard", "main"], ["fetch", "-q", ".", "main:b4"]):
        done = world.git(*argv, session=B, cwd=other)
        assert done.returncode == 0, (argv, done.stderr)
    assert world.commit("more of b's", session=B, cwd=other).returncode == 0
    assert world.out("rev-parse", "main") == main


def test_a_branch_of_a_free_tree_may_be_moved(two: tuple[World, Path]) -> None:
    """The rule follows the lease: once A's tree is free, its branch is nobody's."""
    world, other = two
    for lease in world.lock_dir.glob("session-lock-*.json"):
        if '"aaaaaaaa-holder"' in lease.read_text():
            lease.unlink()
    main = world.out("rev-parse", "main")
    assert world.git("update-ref", "refs/heads/main", "HEAD~2", session=B, cwd=other) \
        .returncode == 0
    assert world.out("rev-parse", "main") != main


def test_a_client_worktree_inside_the_held_tree_is_the_way_out(two: tuple[World, Path]) -> None:
    """Claude Code's EnterWorktree makes <project>/.claude/worktrees/<name> (with git hooks
    off); B's own commits there are not a nested tree to refuse."""
    world, _ = two
    inner = world.repo / ".claude" / "worktrees" / "mine"
    assert world.git("worktree", "add", "-q", str(inner), "-b", "worktree-mine").returncode == 0
    assert world.commit("in my client worktree", session=B, cwd=inner).returncode == 0
    assert world.holder(inner) == B

"""The default install leaves out prepare-commit-msg and reference-transaction (strict only:
git runs them per rebased commit and per fetched ref, see git/shims.py). What they did for
agent sessions is still done: git refuses another agent's plain commit through pre-commit,
and the agents' pre-tool hooks deny, before git runs, the commits only prepare-commit-msg
saw (`--no-verify`, cherry-pick, revert, rebase) and the branch moves only
reference-transaction saw. Each dropped check is shown dropped (git lets the command
through without it) and kept by the strict install. What stays strict-only is named in the
README and docs/git-hooks.md: those commands by an agent whose own client runs no hooks."""

from __future__ import annotations

import pytest

from tests.agents import test_copilot as copilot
from tests.conftest import pre_tool, run_hook
from tests.git.conftest import A, B, World
from worktree_guard.git.shims import STRICT_ONLY


def _commit_setup(world: World) -> World:
    assert world.commit("A holds the tree", A).returncode == 0
    assert world.git("branch", "spare", session=A).returncode == 0
    (world.repo / "file.txt").write_text("theirs\n")
    return world


@pytest.fixture
def default_world(world: World) -> World:
    for name in STRICT_ONLY:
        (world.repo / ".git" / "hooks" / name).unlink()
    return _commit_setup(world)


@pytest.fixture
def strict_world(world: World) -> World:
    return _commit_setup(world)


def test_the_default_install_leaves_out_exactly_the_per_commit_and_per_ref_hooks() -> None:
    assert {"prepare-commit-msg", "reference-transaction"} == STRICT_ONLY


PLAIN_COMMIT = ["commit", "-q", "-a", "-m", "theirs"]
# Commits that pre-commit never sees: git refuses them only with prepare-commit-msg (strict).
UNSEEN_COMMITS = {
    "commit --no-verify": ["commit", "-q", "-a", "-m", "theirs", "--no-verify"],
    "commit --amend --no-verify": ["commit", "-q", "--amend", "-m", "x", "--no-verify"],
    "cherry-pick": ["cherry-pick", "spare~0", "--allow-empty", "--keep-redundant-commits"],
    "revert --no-edit": ["revert", "--no-edit", "HEAD"],
    # Another committer: the same commit made again in the same second would be the same.
    "rebase --force-rebase": ["-c", "user.name=Another", "rebase", "-q", "--force-rebase",
                              "HEAD~1"],
}


def _try_commit(world: World, args: list[str]) -> tuple[bool, str]:
    """Run B's commit for real: (whether a ref moved, git's stderr); the tree is put back."""
    if "revert" in args or "rebase" in args:
        world.git("checkout", "--", "file.txt")
    before = world.refs()
    done = world.git(*args, session=B)
    for what in ("cherry-pick", "revert", "rebase"):
        world.git(what, "--abort")
    return world.refs() != before, done.stderr


def test_git_refuses_another_agents_plain_commit_in_the_default_install(
    default_world: World,
) -> None:
    moved, stderr = _try_commit(default_world, PLAIN_COMMIT)
    assert not moved and "refused" in stderr and A[:8] in stderr


@pytest.mark.parametrize("what", sorted(UNSEEN_COMMITS))
def test_strict_git_refuses_another_agents_commits_pre_commit_never_sees(
    strict_world: World, what: str
) -> None:
    moved, stderr = _try_commit(strict_world, UNSEEN_COMMITS[what])
    assert not moved and "refused" in stderr and A[:8] in stderr


@pytest.mark.parametrize("what", sorted(UNSEEN_COMMITS))
def test_the_agents_hooks_deny_the_commits_only_strict_git_sees(
    default_world: World, what: str
) -> None:
    """Claude Code's and Copilot CLI's pre-tool hooks deny B's command before git runs
    (Gemini CLI's and Codex's shells run git with its hooks off: for them the pre-tool hook
    was always the only judge, tests/agents/test_shell_trees_all_agents.py). The control:
    in the default install git itself lets the same command through."""
    world = default_world
    command = "git " + " ".join(UNSEEN_COMMITS[what])
    # `--no-verify` is refused to every session, the holder too; the rest name the holder.
    why = "skips git hooks" if "--no-verify" in command else A[:8]
    answer = run_hook(pre_tool(B, world.repo, "Bash", command=command, description=command),
                      world.env)
    assert answer.denied and why in answer.reason, answer.reason
    payload = copilot.pre_tool(B, world.repo, "bash", {"command": command})
    reason = copilot.denied_reason(copilot.copilot_hook(payload, world.env))
    assert reason is not None and why in reason, reason
    moved, _ = _try_commit(world, UNSEEN_COMMITS[what])
    assert moved, f"{command!r} moved no ref without prepare-commit-msg: a weak case"


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

"""`git symbolic-ref HEAD refs/heads/<branch>` is a branch switch without a checkout.

The holder's own one (its Bash call, then its PostToolUse) makes that branch its own, so its
next commit passes pre-commit; the same move made by someone else is still a hijack, and the
holder's commit there is refused.
"""

from __future__ import annotations

from tests.conftest import event, pre_tool, run_hook
from tests.git.conftest import A, World


def _holders_bash(world: World, line: list[str]) -> None:
    """One Bash call of the holder, as Claude Code makes it: PreToolUse, the command (with
    the holder's session variable), PostToolUse."""
    command = " ".join(line)
    assert not run_hook(pre_tool(A, world.repo, "Bash", command=command), world.env).denied
    assert world.git(*line[1:], session=A).returncode == 0
    post = event(A, world.repo, "PostToolUse", tool_name="Bash", tool_input={"command": command})
    assert run_hook(post, world.env).returncode == 0


def test_the_holders_own_symbolic_ref_switch_is_no_hijack(world: World) -> None:
    """Catches: symbolic-ref left out of the holder's own branch switches (pre-commit then
    refused the holder's commit on its own new branch as a hijack of its own tree)."""
    assert not run_hook(pre_tool(A, world.repo), world.env).denied  # A takes the tree
    _holders_bash(world, ["git", "branch", "feature"])
    _holders_bash(world, ["git", "symbolic-ref", "HEAD", "refs/heads/feature"])
    assert world.lease_branch() == "feature"
    done = world.commit("on feature", A)
    assert done.returncode == 0, done.stderr
    assert world.out("log", "-1", "--format=%s", "feature") == "on feature"


def test_someone_elses_symbolic_ref_switch_is_still_a_hijack(world: World) -> None:
    """Control: the same move made by a person is not the holder's."""
    assert not run_hook(pre_tool(A, world.repo), world.env).denied
    _holders_bash(world, ["git", "branch", "feature"])
    assert world.git("symbolic-ref", "HEAD", "refs/heads/feature").returncode == 0
    assert world.lease_branch() == "main"
    done = world.commit("onto feature", A)
    assert done.returncode != 0 and "feature" in done.stderr

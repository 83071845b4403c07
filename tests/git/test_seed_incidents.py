"""The two ways the seed incident (a deploy-branch hijack) still happened, replayed with the
real hook processes, real git with guard's shims, and a real bare remote; and a live holder
across a long call with a short ttl.

(a) B switches A's tree to `deploy` while A runs a long command whose text mentions git:
    A's PostToolUse must not take `deploy` as A's own branch.
(b) Once A is told, the hijack is not one-shot: A's commits onto deploy and pushes of it
    stay refused, with the reason, until A switches back or switches there itself.
"""

from __future__ import annotations

from typing import Any

from tests.conftest import pre_tool, run_hook
from tests.git.conftest import A, World


def post_tool(session: str, world: World, command: str) -> dict[str, Any]:
    return {**pre_tool(session, world.repo, "Bash", command=command),
            "hook_event_name": "PostToolUse", "tool_response": {}}


def _hijacked(world: World, long_command: str) -> dict[str, str]:
    env = {**world.env, "GUARD_REFRESH_INTERVAL_MS": "0"}
    world.out("branch", "deploy")
    assert world.git("push", "-q", "origin", "deploy").returncode == 0
    assert not run_hook(pre_tool(A, world.repo), env).denied  # A holds its tree, on main
    assert not run_hook(pre_tool(A, world.repo, "Bash", command=long_command), env).denied
    assert world.holder() == A
    # Meanwhile someone else switches A's tree (a person: an agent would be refused first).
    assert world.git("checkout", "-q", "deploy").returncode == 0
    run_hook(post_tool(A, world, long_command), env)
    return env


def test_a_long_command_mentioning_git_does_not_adopt_the_switch(world: World) -> None:
    env = _hijacked(world, "sleep 2; git log -1")
    assert world.lease_branch() == "main", "A's PostToolUse took deploy as A's own branch"
    told = run_hook(pre_tool(A, world.repo), env)
    assert told.denied and "from branch main to deploy" in told.reason


def test_after_the_report_commits_and_pushes_of_the_other_branch_stay_refused(
    world: World,
) -> None:
    env = _hijacked(world, "sleep 2; git log -1")
    deploy = world.out("rev-parse", "deploy")
    remote_deploy = world.out("ls-remote", "origin", "refs/heads/deploy")
    assert run_hook(pre_tool(A, world.repo), env).denied  # told once
    assert not run_hook(pre_tool(A, world.repo), env).denied  # other work goes on
    # The Claude hook stops the commit and the push...
    for line in ("git commit -qam fix", "git push origin HEAD", "cd . && git merge main",
                 "env git -c x.y=1 commit -m x", "bash -c 'git reset --hard HEAD~1'"):
        answer = run_hook(pre_tool(A, world.repo, "Bash", command=line), env)
        assert answer.denied and "switched there by someone else" in answer.reason, line
    # ...and git refuses them too, however they are spelled (no Claude hook in the way).
    refused = world.commit("onto deploy", session=A)
    assert refused.returncode != 0 and "HEAD is on deploy" in refused.stderr
    no_verify = world.commit("again", A, None, "--no-verify")
    assert no_verify.returncode != 0
    assert world.out("rev-parse", "deploy") == deploy
    # Whoever switched commits there (a person: warned, not stopped); A's push of it is not
    # a fast-forward problem, yet it stays refused: it is not A's branch.
    assert world.commit("the switcher's own").returncode == 0
    push = world.git("push", "-q", "origin", "HEAD", session=A)
    assert push.returncode != 0 and "HEAD is on deploy" in push.stderr
    assert world.out("ls-remote", "origin", "refs/heads/deploy") == remote_deploy
    # Switching back ends it; A's work on main goes on.
    assert world.git("checkout", "-q", "main", session=A).returncode == 0
    assert world.git("stash", "-q").returncode in (0, 1)
    assert world.commit("on main", session=A).returncode == 0


def test_switching_to_the_other_branch_itself_makes_it_the_holders(world: World) -> None:
    env = _hijacked(world, "make test")
    assert run_hook(pre_tool(A, world.repo), env).denied
    # A decides deploy is what it means to work on, with its own command.
    command = "git checkout deploy"
    assert not run_hook(pre_tool(A, world.repo, "Bash", command=command), env).denied
    assert world.git("checkout", "-q", "deploy", session=A).returncode == 0
    run_hook(post_tool(A, world, command), env)
    assert world.lease_branch() == "deploy"
    assert world.commit("deliberately on deploy", session=A).returncode == 0
    assert not run_hook(pre_tool(A, world.repo, "Bash", command="git push origin HEAD"),
                        env).denied
    assert world.git("push", "-q", "origin", "HEAD", session=A).returncode == 0


def test_a_live_holder_keeps_its_tree_across_a_long_call_with_a_short_ttl(
    world: World, agent_shell: Any
) -> None:
    """ttl 1 ms: every stamp is stale by the next call, no sleeping needed. The holder's
    process lives, so its tree stays its own, and B is told it is alive."""
    env = {**world.env, "GUARD_TTL_MS": "1", "GUARD_REFRESH_INTERVAL_MS": "0"}
    holder = agent_shell(env, world.repo, A)
    assert not holder.hook(pre_tool(A, world.repo, "Bash", command="make long-test")).denied
    other = run_hook(pre_tool("bbbbbbbb-other", world.repo), env)
    assert other.denied and "alive, idle" in other.reason
    refused = world.commit("B's commit", session="bbbbbbbb-other", env=env)
    assert refused.returncode != 0 and world.holder() == A
    # Its own next call (from the same, still living, process) finds the tree its own.
    assert not holder.hook(pre_tool(A, world.repo)).denied and world.holder() == A
    holder.kill()
    assert not run_hook(pre_tool("bbbbbbbb-other", world.repo), env).denied

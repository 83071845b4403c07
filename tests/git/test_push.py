"""pre-push, run by real `git push` to a real bare remote: holder, fast-forward, protected."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import GUARD
from tests.git.conftest import A, B, World, install_shims


def remote_sha(w: World, ref: str) -> str:
    done = w.git("rev-parse", "-q", "--verify", ref, cwd=w.remote)
    return done.stdout.strip()


def rewrite_last_commit(w: World, session: str | None = A) -> None:
    """Make local main diverge from origin/main (a push of it is not a fast-forward)."""
    assert w.commit("to be rewritten", session).returncode == 0
    assert w.git("push", "-q", "origin", "main", session=session).returncode == 0
    assert w.commit("rewritten", session, None, "--amend", "--no-edit").returncode == 0


def test_the_holder_pushes_a_fast_forward(world: World) -> None:
    assert world.commit("holder's work", A).returncode == 0
    done = world.git("push", "-q", "origin", "main", session=A)
    assert done.returncode == 0 and done.stderr == ""
    assert remote_sha(world, "main") == world.out("rev-parse", "HEAD")


def test_another_agents_push_is_refused_naming_the_refs(world: World) -> None:
    assert world.commit("holder's work", A).returncode == 0
    before = remote_sha(world, "main")
    done = world.git("push", "-q", "origin", "main", "HEAD:refs/heads/other", session=B)
    assert done.returncode != 0
    assert "push of refs/heads/main, refs/heads/other refused" in done.stderr
    assert A[:8] in done.stderr and "git worktree add" in done.stderr
    assert remote_sha(world, "main") == before and remote_sha(world, "other") == ""


def test_a_force_push_to_main_is_refused_even_for_the_holder(world: World) -> None:
    rewrite_last_commit(world)
    world.git("config", "guard.allowForcePush", "holder")  # protected branches stay protected
    before = remote_sha(world, "main")
    done = world.git("push", "-q", "--force", "origin", "main", session=A)
    assert done.returncode != 0
    assert "refs/heads/main: not a fast-forward" in done.stderr
    assert "main is a protected branch" in done.stderr
    assert remote_sha(world, "main") == before
    assert world.events("denied")[-1]["refs"] == ["refs/heads/main"]


def test_a_force_push_elsewhere_is_for_the_holder_only_when_allowed(world: World) -> None:
    assert world.git("checkout", "-q", "-b", "topic", session=A).returncode == 0
    rewrite_last_commit_on(world, "topic")
    refused = world.git("push", "-q", "--force", "origin", "topic", session=A)
    assert refused.returncode != 0 and "guard.allowForcePush=never" in refused.stderr
    world.git("config", "guard.allowForcePush", "holder")
    done = world.git("push", "-q", "--force", "origin", "topic", session=A)
    assert done.returncode == 0, done.stderr
    assert remote_sha(world, "topic") == world.out("rev-parse", "HEAD")
    # still refused for a session that does not hold the tree
    assert world.commit("more", A, None, "--amend", "--no-edit").returncode == 0
    assert world.git("push", "-q", "--force", "origin", "topic", session=B).returncode != 0


def rewrite_last_commit_on(w: World, branch: str) -> None:
    assert w.commit(f"on {branch}", A).returncode == 0
    assert w.git("push", "-q", "origin", branch, session=A).returncode == 0
    assert w.commit(f"on {branch}, rewritten", A, None, "--amend", "--no-edit").returncode == 0


def test_a_remote_commit_not_present_here_is_not_a_fast_forward(
    world: World, tmp_path: Path
) -> None:
    other = tmp_path / "elsewhere"
    cloned = world.run(["git", "clone", "-q", str(world.remote), str(other)], tmp_path)
    assert cloned.returncode == 0
    world.git("config", "user.email", "o@example.invalid", cwd=other)
    world.git("config", "user.name", "Other", cwd=other)
    (other / "theirs.txt").write_text("pushed from elsewhere\n")
    world.git("add", ".", cwd=other)
    world.git("commit", "-q", "-m", "elsewhere", cwd=other)
    world.git("push", "-q", "origin", "main", cwd=other)
    world.git("push", "-q", "origin", "main:topic", cwd=other)
    unknown = remote_sha(world, "main")
    assert world.git("cat-file", "-e", unknown).returncode != 0  # never fetched here
    assert world.commit("local work", A).returncode == 0
    for branch, allow in (("topic", "never"), ("main", "holder")):
        world.git("config", "guard.allowForcePush", allow)
        done = world.git("push", "-q", "--force", "origin", f"HEAD:{branch}", session=A)
        assert done.returncode != 0
        assert "does not have" in done.stderr and f"refs/heads/{branch}" in done.stderr
        assert remote_sha(world, branch) == unknown
    # counted as a force push, the holder may make it where force pushes are allowed
    done = world.git("push", "-q", "--force", "origin", "HEAD:topic", session=A)
    assert done.returncode == 0, done.stderr


def test_deleting_a_protected_branch_is_refused_and_another_is_allowed(world: World) -> None:
    assert world.commit("holder's", A).returncode == 0
    for branch in ("deploy-prod", "scratch"):
        assert world.git("push", "-q", "origin", f"HEAD:{branch}", session=A).returncode == 0
    refused = world.git("push", "-q", "origin", "--delete", "deploy-prod", session=A)
    assert refused.returncode != 0 and "deletes protected branch deploy-prod" in refused.stderr
    assert remote_sha(world, "deploy-prod") != ""
    done = world.git("push", "-q", "origin", ":scratch", session=A)
    assert done.returncode == 0, done.stderr
    assert remote_sha(world, "scratch") == ""


def test_new_branches_and_annotated_tags(world: World) -> None:
    assert world.commit("holder's", A).returncode == 0
    # a new branch is a fast-forward of nothing, even under a protected pattern
    assert world.git("push", "-q", "origin", "HEAD:release-2", session=A).returncode == 0
    assert world.git("tag", "-a", "-m", "one", "v1", session=A).returncode == 0
    assert world.git("push", "-q", "origin", "v1", session=A).returncode == 0
    tag_object = remote_sha(world, "refs/tags/v1")
    assert world.out("cat-file", "-t", tag_object) == "tag"
    # moving the annotated tag forward: peeled to commits, a fast-forward
    assert world.commit("later", A).returncode == 0
    assert world.git("tag", "-f", "-a", "-m", "two", "v1", session=A).returncode == 0
    forward = world.git("push", "-q", "--force", "origin", "v1", session=A)
    assert forward.returncode == 0, forward.stderr
    # moving it to a commit off its history is a rewrite
    assert world.git("checkout", "-q", "--orphan", "elsewhere", session=A).returncode == 0
    assert world.git("commit", "-q", "-m", "unrelated", session=A).returncode == 0
    assert world.git("tag", "-f", "-a", "-m", "three", "v1", session=A).returncode == 0
    before = remote_sha(world, "refs/tags/v1")
    back = world.git("push", "-q", "--force", "origin", "v1", session=A)
    assert back.returncode != 0 and "refs/tags/v1: not a fast-forward" in back.stderr
    assert remote_sha(world, "refs/tags/v1") == before


def test_head_colon_branch(world: World) -> None:
    assert world.commit("holder's", A).returncode == 0
    assert world.git("push", "-q", "origin", "HEAD:feature", session=A).returncode == 0
    assert world.git("push", "-q", "origin", "HEAD:main", session=A).returncode == 0
    assert world.git("checkout", "-q", "--detach", "HEAD~1", session=A).returncode == 0
    done = world.git("push", "-q", "--force", "origin", "HEAD:main", session=A)
    assert done.returncode != 0 and "refs/heads/main: not a fast-forward" in done.stderr


def test_protected_branches_come_from_git_config(world: World) -> None:
    world.git("config", "guard.protectedBranches", "trunk stable/*")
    world.git("config", "guard.allowForcePush", "holder")
    rewrite_last_commit(world)
    assert world.git("push", "-q", "--force", "origin", "main", session=A).returncode == 0
    assert world.git("push", "-q", "origin", "HEAD:stable/1", session=A).returncode == 0
    assert world.commit("more", A, None, "--amend", "--no-edit").returncode == 0
    done = world.git("push", "-q", "--force", "origin", "HEAD:stable/1", session=A)
    assert done.returncode != 0 and "stable/1 is a protected branch" in done.stderr


@pytest.mark.parametrize("policy", ["warn", "deny", "allow"])
def test_a_person_is_warned_for_what_an_agent_would_be_refused(
    world: World, policy: str
) -> None:
    world.git("config", "guard.humanPolicy", policy)
    rewrite_last_commit(world, session=None)
    done = world.git("push", "-q", "--force", "origin", "main")
    assert done.returncode == 0
    assert "warning: an agent would be refused this push: refs/heads/main" in done.stderr
    assert remote_sha(world, "main") == world.out("rev-parse", "HEAD")
    # while a session holds the tree, the policy decides
    assert world.commit("A holds", A).returncode == 0
    held = world.git("push", "-q", "origin", "main")
    if policy == "deny":
        assert held.returncode != 0 and "humanPolicy=deny" in held.stderr
    else:
        assert held.returncode == 0
        assert ("holds this working tree" in held.stderr) == (policy == "warn")


def test_a_linked_worktree_pushes_under_its_own_lease(world: World) -> None:
    assert world.commit("A holds the main tree", A).returncode == 0
    linked = world.tmp / "linked"
    added = world.git("worktree", "add", "-q", str(linked), "-b", "b-side", session=B)
    assert added.returncode == 0, added.stderr
    assert world.commit("B's work", B, linked).returncode == 0
    done = world.git("push", "-q", "origin", "b-side", session=B, cwd=linked)
    assert done.returncode == 0, done.stderr
    refused = world.git("push", "-q", "origin", "b-side:b-copy", session=A, cwd=linked)
    assert refused.returncode != 0 and B[:8] in refused.stderr


def test_a_bare_repository_inside_a_held_tree_is_not_that_tree(world: World) -> None:
    assert world.commit("A holds the tree", A).returncode == 0
    inner = world.repo / "inner.git"
    assert world.git("clone", "-q", "--bare", str(world.remote), str(inner)).returncode == 0
    install_shims(inner)
    done = world.git("push", "-q", str(world.remote), "main:from-bare", session=B, cwd=inner)
    assert done.returncode == 0, done.stderr
    assert remote_sha(world, "from-bare") != ""


def test_pre_commit_framework_push_without_stdin_is_judged_from_its_variables(
    world: World,
) -> None:
    """The pre-commit framework runs pre-push with no stdin and PRE_COMMIT_* variables."""
    rewrite_last_commit(world)
    guard = GUARD
    framework = {
        **world.env,
        "PRE_COMMIT_TO_REF": world.out("rev-parse", "HEAD"),
        "PRE_COMMIT_FROM_REF": remote_sha(world, "main"),
        "PRE_COMMIT_LOCAL_BRANCH": "refs/heads/main",
        "PRE_COMMIT_REMOTE_BRANCH": "refs/heads/main",
        "PRE_COMMIT_REMOTE_NAME": "origin",
    }
    done = world.run([guard, "git-hook", "pre-push", "origin", str(world.remote)],
                     cwd=world.repo, session=A, input="", env=framework)
    assert done.returncode != 0 and "main is a protected branch" in done.stderr
    plain = world.run([guard, "git-hook", "pre-push", "origin", str(world.remote)],
                      cwd=world.repo, session=A, input="", env=world.env)
    assert plain.returncode == 0, "no stdin and no variables: nothing is pushed"

"""pre-push as `guard install` writes it (the launcher shims, the default set of hooks),
run by real `git push` to a real bare remote: every protection of a push, and the git
questions each kind of push costs (git's own trace of the processes the hook starts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import installed_launcher
from tests.git.conftest import A, B, World
from tests.git.test_push import remote_sha, rewrite_last_commit, rewrite_last_commit_on
from tests.test_hot_path import SLOW_STDLIB, imported_modules
from worktree_guard.git.shims import DEFAULT_HOOK_NAMES, HOOK_NAMES, shim_text

# The git commands pre-push may ask; git's trace names every git process of a push.
QUESTIONS = ("config", "cat-file", "merge-base")


@pytest.fixture
def installed(world: World) -> World:
    """The shims `guard install` writes: guard's interpreter started directly, no PATH."""
    hooks = world.repo / ".git" / "hooks"
    launcher = installed_launcher()
    for name in HOOK_NAMES:
        (hooks / name).unlink()
    for name in DEFAULT_HOOK_NAMES:
        (hooks / name).write_text(shim_text(name, launcher.executable, launcher.package_dir))
        (hooks / name).chmod(0o755)
    return world


def asked(world: World, trace: Path) -> list[str]:
    """The git questions the hook asked since the last call, in order."""
    lines = trace.read_text().splitlines() if trace.exists() else []
    trace.unlink(missing_ok=True)
    found = []
    for line in lines:
        _, marker, command = line.partition("trace: built-in: git ")
        if marker and command.split(" ", 1)[0] in QUESTIONS:
            found.append(command.split(" ", 1)[0])
    return found


@pytest.fixture
def trace(installed: World, tmp_path: Path) -> Path:
    path = tmp_path / "git-trace"
    installed.env["GIT_TRACE"] = str(path)
    return path


def test_a_fast_forward_asks_git_one_question(installed: World, trace: Path) -> None:
    """The common push: no `git config`, no `cat-file`; one `merge-base` per ref."""
    world = installed
    assert world.commit("a person's").returncode == 0
    asked(world, trace)
    done = world.git("push", "-q", "origin", "main")
    assert done.returncode == 0 and done.stderr == ""
    assert asked(world, trace) == ["merge-base"]
    assert world.commit("the agent's, taking the tree", A).returncode == 0
    asked(world, trace)
    done = world.git("push", "-q", "origin", "main", session=A)
    assert done.returncode == 0 and done.stderr == ""
    # and the config once, for the branch lease on the remote (guard.remoteLease*)
    assert asked(world, trace) == ["merge-base", "config"]
    assert remote_sha(world, "main") == world.out("rev-parse", "HEAD")
    assert world.git("push", "-q", "origin", "HEAD:new", session=A).returncode == 0
    assert asked(world, trace) == ["config"]  # a new branch: only the lease's config


def test_config_is_read_once_when_a_decision_needs_it(installed: World, trace: Path) -> None:
    world = installed
    assert world.git("checkout", "-q", "-b", "topic", session=A).returncode == 0
    rewrite_last_commit_on(world, "topic")
    made = world.git("push", "-q", "origin", "origin/topic:refs/heads/other", session=A)
    assert made.returncode == 0, made.stderr
    asked(world, trace)
    # two rewrites in one push: one read of the config for both
    refused = world.git("push", "-q", "--force", "origin", "topic", "HEAD:other", session=A)
    assert refused.returncode != 0 and "guard.allowForcePush=never" in refused.stderr
    assert asked(world, trace) == ["merge-base", "merge-base", "config"]
    # a deletion: the protected patterns come from the config
    assert world.git("push", "-q", "origin", ":other", session=A).returncode == 0
    assert asked(world, trace) == ["config"]
    # a person in a held tree: the policy comes from the config
    world.git("config", "guard.humanPolicy", "deny")
    asked(world, trace)
    held = world.git("push", "-q", "origin", "HEAD:mine")
    assert held.returncode != 0 and "humanPolicy=deny" in held.stderr
    assert asked(world, trace) == ["config"]
    assert remote_sha(world, "mine") == ""


def test_the_holder_pushes_and_another_agent_is_refused(installed: World) -> None:
    world = installed
    assert world.commit("holder's work", A).returncode == 0
    done = world.git("push", "-q", "origin", "main", session=A)
    assert done.returncode == 0, done.stderr
    assert world.commit("more", A).returncode == 0
    before = remote_sha(world, "main")
    refused = world.git("push", "-q", "origin", "main", "HEAD:refs/heads/other", session=B)
    assert refused.returncode != 0
    assert "push of refs/heads/main, refs/heads/other refused" in refused.stderr
    assert A[:8] in refused.stderr
    assert remote_sha(world, "main") == before and remote_sha(world, "other") == ""


def test_protected_branches_are_never_rewritten_or_deleted_by_an_agent(
    installed: World,
) -> None:
    world = installed
    rewrite_last_commit(world)
    made = world.git("push", "-q", "origin", "origin/main:refs/heads/release-1")
    assert made.returncode == 0, made.stderr
    world.git("config", "guard.allowForcePush", "holder")  # not for protected branches
    before = remote_sha(world, "main")
    for target in ("main", "HEAD:release-1"):
        done = world.git("push", "-q", "--force", "origin", target, session=A)
        assert done.returncode != 0 and "is a protected branch" in done.stderr
    assert remote_sha(world, "main") == before
    deleted = world.git("push", "-q", "origin", "--delete", "release-1", session=A)
    assert deleted.returncode != 0 and "deletes protected branch release-1" in deleted.stderr
    assert remote_sha(world, "release-1") != ""


def test_the_holders_rewrite_elsewhere_is_refused_unless_allowed(installed: World) -> None:
    world = installed
    assert world.git("checkout", "-q", "-b", "topic", session=A).returncode == 0
    rewrite_last_commit_on(world, "topic")
    before = remote_sha(world, "topic")
    refused = world.git("push", "-q", "--force", "origin", "topic", session=A)
    assert refused.returncode != 0 and "not a fast-forward" in refused.stderr
    assert remote_sha(world, "topic") == before
    world.git("config", "guard.allowForcePush", "holder")
    done = world.git("push", "-q", "--force", "origin", "topic", session=A)
    assert done.returncode == 0, done.stderr
    assert remote_sha(world, "topic") == world.out("rev-parse", "HEAD")


def test_a_person_is_warned_for_what_an_agent_would_be_refused(installed: World) -> None:
    world = installed
    rewrite_last_commit(world, session=None)
    done = world.git("push", "-q", "--force", "origin", "main")
    assert done.returncode == 0
    assert "warning: an agent would be refused this push: refs/heads/main" in done.stderr
    assert world.commit("A holds", A).returncode == 0
    held = world.git("push", "-q", "origin", "main")
    assert held.returncode == 0 and "holds this working tree" in held.stderr


@pytest.mark.parametrize("session", [None, A], ids=["person", "holder"])
def test_a_fast_forward_push_imports_no_costly_module(installed: World,
                                                      session: str | None) -> None:
    """Catches: the protected-branch match importing fnmatch (and with it `re`, `enum`,
    `functools`: about an interpreter start) for a push whose answer does not depend on it."""
    world = installed
    old = world.out("rev-parse", "HEAD")
    assert world.commit("next", A).returncode == 0
    line = f"refs/heads/main {world.out('rev-parse', 'HEAD')} refs/heads/main {old}\n"
    env = dict(world.env)
    if session is not None:
        env["CLAUDE_CODE_SESSION_ID"] = session
    loaded = imported_modules(["git-hook", "pre-push", "origin", str(world.remote)],
                              line.encode(), env, world.repo)
    assert "worktree_guard.git.facts" in loaded
    # the holder's push also takes the branch lease on the remote, on the same budget
    assert ("worktree_guard.core.remote_lease" in loaded) is (session is not None)
    assert not loaded & (SLOW_STDLIB | {"fnmatch"}), loaded & (SLOW_STDLIB | {"fnmatch"})


def test_a_chained_pre_push_hook_gets_the_same_stdin_after_guard_agrees(
    installed: World,
) -> None:
    """Without a chained hook guard reads git's stdin itself; with one, the shim keeps a
    copy for both, runs it only when guard agrees, and its verdict counts."""
    world = installed
    hooks = world.repo / ".git" / "hooks"
    record, fail = world.tmp / "foreign", world.tmp / "fail-foreign"
    foreign = hooks / "pre-push.pre-guard"
    foreign.write_text(f'#!/bin/sh\n{{ echo "$*"; cat; }} >>"{record}"\n[ ! -e "{fail}" ]\n')
    foreign.chmod(0o755)
    assert world.commit("holder's", A).returncode == 0
    sha = world.out("rev-parse", "HEAD")
    done = world.git("push", "-q", "origin", "main", session=A)
    assert done.returncode == 0, done.stderr
    assert record.read_text().startswith(
        f"origin {world.remote}\nrefs/heads/main {sha} refs/heads/main ")
    record.unlink()
    assert world.commit("more", A).returncode == 0
    refused = world.git("push", "-q", "origin", "main", session=B)
    assert refused.returncode != 0 and A[:8] in refused.stderr
    assert not record.exists()  # guard said no: the chained hook never ran
    fail.write_text("")
    before = remote_sha(world, "main")
    vetoed = world.git("push", "-q", "origin", "main", session=A)
    assert vetoed.returncode != 0 and remote_sha(world, "main") == before
    assert record.exists()


def test_without_guard_a_push_warns_once_and_a_chained_hook_still_runs(
    installed: World, tmp_path: Path
) -> None:
    world = installed
    hooks = world.repo / ".git" / "hooks"
    launcher = installed_launcher()
    gone = str(tmp_path / "moved-venv")
    (hooks / "pre-push").write_text(shim_text("pre-push", launcher.executable, gone))
    assert world.commit("next").returncode == 0
    done = world.git("push", "-q", "origin", "main")
    assert done.returncode == 0 and done.stderr.count("not found") == 1, done.stderr
    record = world.tmp / "foreign"
    foreign = hooks / "pre-push.pre-guard"
    foreign.write_text(f'#!/bin/sh\ncat >"{record}"\nexit 3\n')
    foreign.chmod(0o755)
    assert world.commit("later").returncode == 0
    vetoed = world.git("push", "-q", "origin", "main")
    assert vetoed.returncode != 0 and vetoed.stderr.count("not found") == 1
    assert f"refs/heads/main {world.out('rev-parse', 'HEAD')} refs/heads/main " in (
        record.read_text())

"""The git hook shims and `guard git-hook`, run by real git in real repositories.

Agents are git processes with CLAUDE_CODE_SESSION_ID (or GUARD_SESSION_ID) in their
environment; a person has neither. The shims are copied verbatim from git-hooks/ into the
repository's hooks folder, with the real `guard` on PATH.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import GUARD, pre_tool, run_hook
from tests.git.conftest import SHIMS, A, B, C, World
from worktree_guard.core.identity import process_id
from worktree_guard.core.workspace import workspace_key
from worktree_guard.git.shims import HOOK_NAMES, shim_text


@pytest.fixture
def counted(world: World, tmp_path: Path) -> Iterator[Path]:
    """Put a `guard` first on PATH that notes each start in a file, then runs the real one."""
    folder = tmp_path / "counting-bin"
    folder.mkdir()
    log = tmp_path / "guard-starts"
    wrapper = folder / "guard"
    wrapper.write_text(f'#!/bin/sh\necho "$*" >>"{log}"\nexec "{GUARD}" "$@"\n')
    wrapper.chmod(0o755)
    world.env["PATH"] = f"{folder}{os.pathsep}{world.env['PATH']}"
    yield log


def starts(log: Path) -> list[str]:
    lines = log.read_text().splitlines() if log.exists() else []
    log.unlink(missing_ok=True)
    return lines


# ---- the shims ------------------------------------------------------------------------------


def test_git_hooks_folder_is_what_the_generator_writes() -> None:
    assert sorted(p.name for p in SHIMS.iterdir()) == sorted(HOOK_NAMES)
    for name in HOOK_NAMES:
        path = SHIMS / name
        assert path.read_text() == shim_text(name), "regenerate: python -m worktree_guard.git.shims"
        assert os.access(path, os.X_OK)


def test_shims_are_posix_sh() -> None:
    for name in HOOK_NAMES:
        done = subprocess.run(["sh", "-n", str(SHIMS / name)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr


def test_shims_pass_shellcheck() -> None:
    """In CI (CI=true) a missing shellcheck fails this test: `.ci/run` installs it."""
    if not shutil.which("shellcheck"):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("shellcheck is not installed; .ci/run installs it (Debian: shellcheck)")
        pytest.skip("shellcheck is not installed (apt-get install shellcheck); CI runs it")
    done = subprocess.run(["shellcheck", "-s", "sh", *map(str, sorted(SHIMS.iterdir()))],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def path_without_guard(tmp_path: Path) -> str:
    """A PATH with git and cat, but no guard."""
    bare = tmp_path / "bare-bin"
    bare.mkdir()
    for tool in ("git", "cat"):
        found = shutil.which(tool)
        assert found
        (bare / tool).symlink_to(found)
    return str(bare)


def test_without_guard_each_git_command_warns_once_and_goes_on(
    world: World, tmp_path: Path
) -> None:
    env = {**world.env, "PATH": path_without_guard(tmp_path)}
    for session in (None, A):
        done = world.commit(f"unguarded {session}", session, env=env)
        assert done.returncode == 0, done.stderr
        assert done.stderr.count("worktree-guard:") == 1 and "not found" in done.stderr
        assert world.git("branch", f"b{session}", session=session, env=env).stderr == ""
    push = world.git("push", "-q", "origin", "main", env=env)
    assert push.returncode == 0 and push.stderr.count("not found") == 1
    checkout = world.git("checkout", "-q", f"b{A}", env=env)
    assert checkout.returncode == 0 and checkout.stderr.count("not found") == 1
    assert world.lease() is None


def test_shims_with_guards_absolute_path_work_without_guard_on_path(
    world: World, tmp_path: Path
) -> None:
    """What `guard install` writes: the absolute path of the installed executable."""
    hooks = world.repo / ".git" / "hooks"
    for name in HOOK_NAMES:
        (hooks / name).write_text(shim_text(name, GUARD))
    env = {**world.env, "PATH": path_without_guard(tmp_path)}
    assert world.commit("A, by absolute path", A, env=env).returncode == 0
    before = world.refs()
    refused = world.commit("B, by absolute path", B, None, "--no-verify", env=env)
    assert refused.returncode != 0 and A[:8] in refused.stderr
    assert world.refs() == before


def test_a_foreign_hook_is_chained_with_the_same_arguments_and_stdin(world: World) -> None:
    hooks = world.repo / ".git" / "hooks"
    record = world.tmp / "foreign"
    for name in ("pre-push", "reference-transaction", "pre-commit"):
        foreign = hooks / f"{name}.pre-guard"
        foreign.write_text(f'#!/bin/sh\n{{ echo "{name} $*"; cat; }} >>"{record}"\n'
                           f'[ ! -e "{world.tmp}/fail-{name}" ]\n')
        foreign.chmod(0o755)
    assert world.commit("chained", A).returncode == 0
    text = record.read_text()
    sha = world.out("rev-parse", "HEAD")
    # the agent's own transaction reached guard (and passed), then the foreign hook, intact
    assert "pre-commit \n" in text
    assert "reference-transaction prepared\n" in text
    assert f" {sha} refs/heads/main\n" in text and f" {sha} HEAD\n" in text
    assert text.count("reference-transaction committed") == 1
    record.unlink()
    assert world.git("branch", "side", session=A).returncode == 0  # guard runs, then replays
    assert record.read_text().startswith(f"reference-transaction prepared\n{'0' * 40} {sha} "
                                         "refs/heads/side\n")
    record.unlink()
    assert world.git("push", "-q", "origin", "main", session=A).returncode == 0
    assert f"pre-push origin {world.remote}\nrefs/heads/main {sha} refs/heads/main " in (
        record.read_text())
    # the foreign hook's own verdict still counts
    (world.tmp / "fail-pre-commit").write_text("")
    before = world.refs()
    assert world.commit("refused by the foreign hook", A).returncode != 0
    assert world.refs() == before


# ---- commits and ref updates ------------------------------------------------------------------


def test_commands_that_move_nothing_pass_for_another_agent(world: World) -> None:
    """`stash` rewrites HEAD to itself after saving the work: refusing that no-op would leave
    the stash made and the command failed."""
    assert world.commit("holder's", A).returncode == 0
    (world.repo / "file.txt").write_text("B's change\n")
    before = world.refs()
    done = world.git("stash", "-q", session=B)
    assert done.returncode == 0, done.stderr
    stash = world.out("for-each-ref", "refs/stash")
    assert stash and world.refs() == before + "\n" + stash


def test_the_holder_commits_and_its_lease_records_the_branch(world: World) -> None:
    done = world.commit("by the holder", A)
    assert done.returncode == 0 and done.stderr == ""
    lease = world.lease()
    assert lease and lease["session_id"] == A and lease["branch"] == "main"
    assert lease["workspace"] == os.path.realpath(world.repo)
    assert [e["hook"] for e in world.events("acquired")] == ["pre-commit"]
    assert world.commit("again", A).returncode == 0
    assert world.holder() == A


REFUSED_COMMANDS = {
    "commit": ["commit", "-q", "-a", "-m", "theirs"],
    "commit --no-verify": ["commit", "-q", "-a", "-m", "theirs", "--no-verify"],
    "branch": ["branch", "feature"],
    "checkout -b": ["checkout", "-q", "-b", "feature"],
    "update-ref": ["update-ref", "refs/heads/main", "HEAD~1"],
    "reset --soft": ["reset", "-q", "--soft", "HEAD~1"],
    "commit --amend --no-verify": ["commit", "-q", "--amend", "-m", "x", "--no-verify"],
    "branch -D": ["branch", "-D", "spare"],
}


@pytest.mark.parametrize("what", sorted(REFUSED_COMMANDS))
def test_another_agent_is_refused_and_head_is_unchanged(world: World, what: str) -> None:
    assert world.commit("holder's", A).returncode == 0
    assert world.git("branch", "spare", session=A).returncode == 0
    assert world.git("pack-refs", "--all").returncode == 0  # a deletion's old value unknown
    (world.repo / "file.txt").write_text("theirs\n")
    before = world.refs()
    done = world.git(*REFUSED_COMMANDS[what], session=B)
    assert done.returncode != 0
    assert world.refs() == before
    message = done.stderr
    assert "refused" in message and A[:8] in message and "git worktree add" in message
    assert "guard release --force" in message
    assert world.holder() == A
    assert world.events("denied")[-1]["session"] == B


def test_with_the_lease_free_an_agents_commit_takes_it_and_a_third_is_refused(
    world: World,
) -> None:
    assert world.lease() is None
    assert world.commit("B takes the free tree", B).returncode == 0
    assert world.holder() == B
    before = world.refs()
    third = world.commit("C is refused", C)
    assert third.returncode != 0 and B[:8] in third.stderr
    assert world.refs() == before


def test_a_guard_run_session_is_an_agent_too(world: World) -> None:
    env = {**world.env, "GUARD_SESSION_ID": "run-session-1"}
    assert world.commit("wrapped", env=env).returncode == 0
    lease = world.lease()
    assert lease and lease["session_id"] == "run-session-1" and lease["agent"] == "guard-run"
    assert world.commit("claude is refused", B).returncode != 0


def test_a_person_is_warned_not_blocked(world: World) -> None:
    assert world.commit("holder's", A).returncode == 0
    done = world.commit("a person's")
    assert done.returncode == 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "warning" in lines[0] and A[:8] in lines[0]
    assert world.git("branch", "by-hand").returncode == 0  # ref updates: people pass
    assert world.events("warned")[-1]["action"] == "commit"


def test_human_policy_deny_refuses_a_persons_commit_and_allow_is_silent(world: World) -> None:
    assert world.commit("holder's", A).returncode == 0
    world.git("config", "guard.humanPolicy", "deny")
    before = world.refs()
    denied = world.commit("a person's")
    assert denied.returncode != 0 and "humanPolicy=deny" in denied.stderr
    assert "guard release --force" in denied.stderr
    assert world.refs() == before
    world.git("config", "guard.humanPolicy", "allow")
    allowed = world.commit("a person's, allowed")
    assert allowed.returncode == 0 and allowed.stderr == ""


def test_linked_worktrees_are_separate_trees_found_from_subfolders(world: World) -> None:
    assert world.commit("A holds the main tree", A).returncode == 0
    linked = world.tmp / "linked"
    assert world.git("worktree", "add", "-q", str(linked), "-b", "side").returncode == 0
    sub = linked / "deep" / "er"
    sub.mkdir(parents=True)
    (sub / "x.txt").write_text("x\n")
    world.git("add", ".", cwd=sub)
    done = world.git("commit", "-q", "-m", "B in its own tree", session=B, cwd=sub)
    assert done.returncode == 0, done.stderr
    lease = world.lease(linked)
    assert lease and lease["session_id"] == B and lease["branch"] == "side"
    assert lease["workspace"] == os.path.realpath(linked)
    # the hooks of a linked tree run with GIT_DIR set; a subfolder commit is the same tree
    (world.repo / "sub").mkdir()
    (world.repo / "sub" / "y.txt").write_text("y\n")
    world.git("add", ".", cwd=world.repo / "sub")
    refused = world.git("commit", "-q", "-m", "B in A's tree", session=B, cwd=world.repo / "sub")
    assert refused.returncode != 0 and A[:8] in refused.stderr
    assert world.holder() == A


def test_worktree_add_with_a_new_branch_is_the_way_out(world: World) -> None:
    assert world.commit("A holds the main tree", A).returncode == 0
    own = world.tmp / "own"
    done = world.git("worktree", "add", "-q", str(own), "-b", "b-work", session=B)
    assert done.returncode == 0, done.stderr
    assert world.out("symbolic-ref", "HEAD") == "refs/heads/main"
    assert world.holder(own) == B
    assert world.commit("B works in its own tree", B, own).returncode == 0
    # a plain new branch in A's tree is still refused
    assert world.git("branch", "b-other", session=B).returncode != 0


def test_the_holder_is_the_nearest_claude_ancestor_of_the_git_hook(
    world: World, tmp_path: Path
) -> None:
    folder = tmp_path / "claude-bin"
    folder.mkdir()
    claude = folder / "claude"  # git hook <- git <- sh <- claude, as from the Bash tool
    claude.write_text('#!/bin/sh\nsh -c "$1"\necho done >"$2"\nwhile :; do sleep 1; done\n')
    claude.chmod(0o755)
    (world.repo / "file.txt").write_text("by claude\n")
    env = {**world.env, "CLAUDE_CODE_SESSION_ID": A}
    flag = tmp_path / "committed"
    holder = subprocess.Popen([str(claude), "git commit -q -a -m via-claude", str(flag)],
                              cwd=world.repo, env=env, start_new_session=True)
    try:
        while not flag.exists():  # a wait for an event, not a timed assertion
            assert holder.poll() is None
            time.sleep(0.01)
        lease = world.lease()
        assert lease and lease["pid"] == holder.pid
        assert lease["holder_start_time"] == process_id(holder.pid).start_time
        assert world.commit("B while claude lives", B).returncode != 0
    finally:
        os.killpg(holder.pid, 9)
        holder.wait(timeout=30)
    # the holder process is gone: the next agent takes the tree over
    assert world.commit("B after claude died", B).returncode == 0
    assert world.holder() == B
    assert world.events("taken_over")[-1]["previous_state"] == "dead"


# ---- checkouts and the hijack ---------------------------------------------------------------


def test_a_persons_branch_switch_in_a_held_tree_is_announced_and_logged(world: World) -> None:
    assert world.git("branch", "deploy").returncode == 0
    assert world.commit("A holds", A).returncode == 0
    done = world.git("checkout", "-q", "deploy")
    assert done.returncode == 0  # post-checkout cannot undo
    assert "WARNING: HEAD is now on deploy" in done.stderr and "on branch main" in done.stderr
    assert "git checkout main" in done.stderr and A[:8] in done.stderr
    logged = world.events("checkout_while_held")[-1]
    assert logged["branch_seen"] == "main" and logged["branch_now"] == "deploy"
    assert world.lease_branch() == "main"
    # a file checkout leaves HEAD alone: nothing to say
    assert world.git("checkout", "-q", "--", "file.txt").stderr == ""


def test_the_holders_own_git_checkout_moves_its_lease_branch(world: World) -> None:
    assert world.commit("A holds", A).returncode == 0
    done = world.git("checkout", "-q", "-b", "feature", session=A)
    assert done.returncode == 0 and done.stderr == ""
    assert world.lease_branch() == "feature"
    assert world.git("checkout", "-q", "main", session=A).stderr == ""
    assert world.lease_branch() == "main"


@pytest.mark.parametrize("switcher", [None, B], ids=["person", "other agent"])
def test_the_hijack_is_reported_to_the_holder_once(world: World, switcher: str | None) -> None:
    env = world.env
    assert not run_hook(pre_tool(A, world.repo), env).denied  # A takes the tree
    assert world.git("checkout", "-q", "-b", "feature", session=A).returncode == 0
    # A's own checkout went through git's hooks only (no PostToolUse here): no hijack
    assert not run_hook(pre_tool(A, world.repo), env).denied
    switched = world.git("checkout", "-q", "main", session=switcher)
    assert switched.returncode == 0 and "WARNING" in switched.stderr
    first = run_hook(pre_tool(A, world.repo), env)
    assert first.denied and "feature" in first.reason and "main" in first.reason
    assert not run_hook(pre_tool(A, world.repo), env).denied  # once


# ---- cost and failure policy --------------------------------------------------------------


def test_guard_processes_per_git_command(world: World, counted: Path) -> None:
    """The shims start guard only when it has something to decide (all five hooks here)."""
    starts(counted)
    assert world.commit("a person's, nobody holds the tree").returncode == 0
    assert starts(counted) == []
    assert world.commit("an agent's, taking the tree", A).returncode == 0
    assert starts(counted) == ["git-hook pre-commit"]
    assert world.commit("the holder's", A).returncode == 0
    assert starts(counted) == []  # its pass: same tree, same session, same HEAD
    assert world.commit("the holder's, no verify", A, None, "--no-verify").returncode == 0
    assert starts(counted) == []
    assert world.commit("a person's in a held tree").returncode == 0
    assert starts(counted) == ["git-hook pre-commit"]  # the warning needs guard
    assert world.git("branch", "by-hand").returncode == 0
    assert starts(counted) == []
    assert world.git("branch", "by-agent", session=A).returncode == 0
    # Another branch than HEAD's: guard's to judge (it may be checked out in another tree).
    assert starts(counted) == ["git-hook reference-transaction prepared"]
    assert world.git("tag", "v1", session=A).returncode == 0  # not HEAD, not a branch
    assert starts(counted) == []
    assert world.commit("another's, no verify", B, None, "--no-verify").returncode != 0
    assert len(starts(counted)) == 1
    assert world.git("push", "-q", "origin", "main", session=A).returncode == 0
    assert [s.split()[:2] for s in starts(counted)] == [["git-hook", "pre-push"]]
    assert world.git("checkout", "-q", "-b", "feature", session=A).returncode == 0
    assert [s.split()[:2] for s in starts(counted)] == [
        ["git-hook", "reference-transaction"], ["git-hook", "post-checkout"]]
    assert world.commit("the holder's, on its new branch", A).returncode == 0
    assert starts(counted) == ["git-hook pre-commit"]  # HEAD moved: guard looks again
    assert world.commit("and again", A).returncode == 0
    assert starts(counted) == []


def test_a_rebase_starts_guard_a_fixed_number_of_times(world: World, counted: Path) -> None:
    """git runs prepare-commit-msg once per rebased commit: a person's rebase starts no
    guard, the holder's a few (not one per commit)."""
    base = world.out("rev-parse", "HEAD")
    for number in range(6):
        assert world.commit(f"stack {number}").returncode == 0
    starts(counted)
    assert world.git("rebase", "-q", "--force-rebase", base).returncode == 0
    assert starts(counted) == []
    assert world.commit("A takes the tree", A).returncode == 0
    starts(counted)
    done = world.git("rebase", "-q", "--force-rebase", base, session=A)
    assert done.returncode == 0, done.stderr
    started = starts(counted)
    assert 1 <= len(started) <= 3, started
    assert world.holder() == A


def test_a_pass_is_void_once_someone_else_switches_the_branch(
    world: World, counted: Path
) -> None:
    assert world.commit("A holds", A).returncode == 0
    assert world.git("branch", "other", session=A).returncode == 0
    assert world.commit("A again", A).returncode == 0
    starts(counted)
    switched = world.git("checkout", "-q", "other")  # a person, in A's tree
    assert switched.returncode == 0 and "WARNING" in switched.stderr
    starts(counted)
    world.commit("A, after the switch", A)
    assert starts(counted) == ["git-hook pre-commit"]  # guard judges it, not the old pass


def test_the_shims_find_the_lease_key_guard_computes(world: World, counted: Path,
                                                     tmp_path: Path) -> None:
    """sh's MD5 of the toplevel is guard's key, for an odd path reached through a symlink:
    the holder's pass is found (no start) and a person sees the lease file (one start)."""
    odd = tmp_path / "a dir with 'quotes', spaces and ünïcödé"
    world.run(["git", "worktree", "add", "-q", "-b", "odd", str(odd)], world.repo)
    link = tmp_path / "link-to-it"
    link.symlink_to(odd)
    assert world.commit("A takes the odd tree", A, link).returncode == 0
    assert world.holder(odd) == A
    starts(counted)
    assert world.commit("A again", A, link).returncode == 0
    assert starts(counted) == []
    assert world.commit("a person", None, link).returncode == 0
    assert starts(counted) == ["git-hook pre-commit"]


def test_a_pass_of_another_session_or_tree_is_no_pass(world: World, counted: Path) -> None:
    """Run the reference-transaction shim as git would: B's marker must name B and this tree,
    and hold HEAD as it is."""
    assert world.commit("A holds", A).returncode == 0
    starts(counted)
    shim = world.repo / ".git" / "hooks" / "reference-transaction"
    sha = world.out("rev-parse", "HEAD")
    line = f"{sha} {world.out('rev-parse', 'HEAD~1')} refs/heads/main\n"  # HEAD's branch
    folder = world.lock_dir / "git-pass"
    key = workspace_key(os.path.realpath(world.repo))
    (folder / f"{key}-{B}x").write_text("ref: refs/heads/main\n")  # another session
    (folder / f"{key[::-1]}-{B}").write_text("ref: refs/heads/main\n")  # another tree
    (folder / f"{key}-{B}").write_text("ref: refs/heads/elsewhere\n")  # another HEAD
    done = world.run([str(shim), "prepared"], world.repo, session=B, input=line)
    assert done.returncode == 1 and A[:8] in done.stderr
    assert len(starts(counted)) == 1
    (folder / f"{key}-{B}").write_text("ref: refs/heads/main\n")  # as if guard had left it
    done = world.run([str(shim), "prepared"], world.repo, session=B, input=line)
    assert done.returncode == 0 and starts(counted) == []
    other = f"{'0' * 40} {sha} refs/heads/new\n"  # a branch HEAD does not name: no pass
    done = world.run([str(shim), "prepared"], world.repo, session=B, input=other)
    assert done.returncode == 1 and len(starts(counted)) == 1


@pytest.mark.guard_fails  # the failure policy itself
@pytest.mark.parametrize("closed", ["", "env", "git config"])
def test_an_internal_error_lets_git_go_on_unless_fail_closed(world: World, closed: str) -> None:
    world.lock_dir.mkdir(exist_ok=True)
    broken = world.tmp / "not-a-folder"
    broken.write_text("")
    env = {**world.env, "GUARD_LOCK_DIR": str(broken)}
    if closed == "env":
        env["GUARD_FAIL_CLOSED"] = "1"
    if closed == "git config":
        world.git("config", "guard.failClosed", "true")
    before = world.refs()
    done = world.commit("during a failure", A, env=env)
    assert "internal error in pre-commit hook" in done.stderr
    assert "Traceback" not in done.stderr
    if closed:
        assert done.returncode != 0 and world.refs() == before
    else:
        assert done.returncode == 0 and world.refs() != before


HOT_HOOKS = {
    "pre-commit": ([], ""),
    "prepare-commit-msg": ([".git/COMMIT_EDITMSG", "message"], ""),
    "reference-transaction": (["prepared"], "0" * 40 + " " + "1" * 40 + " refs/heads/x\n"),
    "post-checkout": (["0" * 40, "0" * 40, "1"], ""),
}


@pytest.mark.parametrize("hook", sorted(HOT_HOOKS))
def test_commit_time_hooks_import_neither_the_cli_nor_gitpython(world: World, hook: str) -> None:
    args, stdin = HOT_HOOKS[hook]
    python = str(Path(GUARD).parent / "python")
    done = world.run([python, "-X", "importtime", "-m", "worktree_guard", "git-hook", hook,
                      *args], world.repo, session=A, input=stdin)
    assert done.returncode == 0, done.stderr
    modules = {line.split("|")[-1].strip() for line in done.stderr.splitlines()
               if line.startswith("import time:")}
    assert "worktree_guard.git.hook" in modules
    heavy = {m for m in modules if m.split(".")[0] in ("typer", "click", "git", "subprocess")}
    assert not heavy

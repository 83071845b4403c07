"""`guard install` / `guard uninstall` run as processes in real repositories."""

from __future__ import annotations

import json
import os
import shlex
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import GUARD, git, installed_launcher, make_bare, make_repo
from worktree_guard.git.shims import DEFAULT_HOOK_NAMES, shim_text, write_shims

OTHER_SETTINGS = """{
    "model": "opus",
    "permissions": {"allow": ["Bash(ls:*)"]},
    "hooks": {
        "PreToolUse": [
            {"matcher": "Bash", "hooks": [{"type": "command", "command": "echo other-pre"}]}
        ],
        "Notification": [{"hooks": [{"type": "command", "command": "echo note"}]}]
    },
    "env": {"NAME": "caf\u00e9"}
}"""  # no trailing newline, on purpose: it must come back exactly so

FOREIGN_PRE_COMMIT = """#!/bin/sh
echo "foreign pre-commit ran with $# args" >>"$(git rev-parse --git-common-dir)/foreign.log"
exit "${FOREIGN_EXIT:-0}"
"""
FOREIGN_PRE_PUSH = """#!/bin/sh
echo "pre-push args: $1 $2" >>"$(git rev-parse --git-common-dir)/foreign.log"
cat >>"$(git rev-parse --git-common-dir)/foreign.log"
"""


def guard(
    cwd: Path, env: dict[str, str], *args: str, check: int | None = 0
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([GUARD, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL, check=False)  # fmt: skip
    if check is not None:
        assert done.returncode == check, (done.stdout, done.stderr)
    return done


def snapshot(*roots: Path) -> dict[str, Any]:
    """Every file and folder under `roots`: bytes (or link target) and permission bits."""
    found: dict[str, Any] = {}
    for root in roots:
        if not root.exists() and not root.is_symlink():
            found[str(root)] = None
            continue
        for path in [root, *sorted(root.rglob("*"))] if root.is_dir() else [root]:
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode):
                found[str(path)] = ("link", os.readlink(path))
            elif path.is_dir():
                found[str(path)] = ("dir", stat.S_IMODE(st.st_mode))
            else:
                found[str(path)] = (path.read_bytes(), stat.S_IMODE(st.st_mode))
    return found


def git_state(repo: Path) -> dict[str, Any]:
    common = Path(git(repo, "rev-parse", "--path-format=absolute", "--git-common-dir"))
    return snapshot(repo / ".claude", common / "hooks", common / "info",
                    common / "guard-install.json", common / "config")  # fmt: skip


def with_foreign_setup(repo: Path) -> None:
    hooks = repo / ".git" / "hooks"
    (hooks / "pre-commit").write_text(FOREIGN_PRE_COMMIT)
    (hooks / "pre-commit").chmod(0o750)
    (hooks / "pre-push").write_text(FOREIGN_PRE_PUSH)
    (hooks / "pre-push").chmod(0o755)
    (repo / ".claude").mkdir()
    (repo / ".claude" / "settings.local.json").write_text(OTHER_SETTINGS)
    (repo / ".claude" / "settings.local.json").chmod(0o600)


def settings_of(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def guard_commands(settings: dict[str, Any]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for event, groups in settings.get("hooks", {}).items():
        for group in groups:
            for handler in group["hooks"]:
                if handler["command"].endswith(" hook") and "guard" in handler["command"]:
                    found.setdefault(event, []).append(handler["command"])
    return found


EVENTS = {"SessionStart", "PreToolUse", "PostToolUse", "PostToolUseFailure", "Stop", "SessionEnd"}
EXCLUDE_LINE = "/.claude/settings.local.json"


def test_install_merges_settings_and_chains_a_foreign_hook(
    repo: Path, guard_env: dict[str, str]
) -> None:
    with_foreign_setup(repo)
    done = guard(repo, guard_env, "install")
    assert "pre-commit.pre-guard" in done.stdout

    settings = settings_of(repo / ".claude" / "settings.local.json")
    assert settings["model"] == "opus"
    program = repo / ".git" / "hooks" / "guard-shell-prefix"
    assert settings["env"].pop("CLAUDE_CODE_SHELL_PREFIX") == str(program)
    assert settings["env"] == {"NAME": "caf\u00e9"}
    assert settings["permissions"] == {"allow": ["Bash(ls:*)"]}
    assert settings["hooks"]["Notification"] == [
        {"hooks": [{"type": "command", "command": "echo note"}]}]  # fmt: skip
    assert settings["hooks"]["PreToolUse"][0]["hooks"][0]["command"] == "echo other-pre"
    commands = guard_commands(settings)
    assert set(commands) == EVENTS
    assert all(len(c) == 1 for c in commands.values())
    pre = [g for g in settings["hooks"]["PreToolUse"] if guard_commands({"hooks": {"x": [g]}})]
    assert pre[0]["matcher"] == (
        "Edit|Write|MultiEdit|NotebookEdit|Bash|EnterWorktree|ExitWorktree|Agent|CronCreate|mcp__.*")
    for groups in settings["hooks"].values():
        for group in groups:
            for handler in group["hooks"]:
                if "guard" in handler["command"]:
                    assert isinstance(handler["timeout"], int)
    exe = shlex.split(commands["PreToolUse"][0])[0]
    assert os.path.isabs(exe) and os.access(exe, os.X_OK)
    assert (repo / ".claude" / "settings.local.json").read_text().startswith('{\n    "model"')
    assert stat.S_IMODE((repo / ".claude" / "settings.local.json").stat().st_mode) == 0o600

    hooks = repo / ".git" / "hooks"
    assert (hooks / "pre-commit.pre-guard").read_text() == FOREIGN_PRE_COMMIT
    assert "worktree-guard shim" in (hooks / "pre-commit").read_text()
    assert exe in (hooks / "pre-commit").read_text()
    assert subprocess.run(["git", "config", "core.hooksPath"], cwd=repo,
                          capture_output=True).returncode == 1  # never set  # fmt: skip
    # The settings file of this tree is kept out of commits.
    assert subprocess.run(["git", "check-ignore", "-q", ".claude/settings.local.json"],
                          cwd=repo).returncode == 0  # fmt: skip

    # The foreign pre-commit still runs, after guard, and its exit code counts.
    (repo / "a.txt").write_text("a\n")
    git(repo, "add", "a.txt")
    subprocess.run(["git", "commit", "-q", "-m", "a"], cwd=repo, env=guard_env, check=True,
                   capture_output=True, timeout=60)  # fmt: skip
    log = repo / ".git" / "foreign.log"
    assert "foreign pre-commit ran with 0 args" in log.read_text()
    (repo / "b.txt").write_text("b\n")
    git(repo, "add", "b.txt")
    failing = subprocess.run(["git", "commit", "-q", "-m", "b"], cwd=repo, capture_output=True,
                             env={**guard_env, "FOREIGN_EXIT": "3"}, timeout=60)  # fmt: skip
    assert failing.returncode != 0
    assert git(repo, "log", "-1", "--format=%s") == "a"

    # pre-push: the foreign hook gets git's arguments and the ref lines on stdin.
    remote = repo.parent / "remote.git"
    make_bare(remote)
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "checkout", "-q", "-b", "feature")
    pushed = subprocess.run(["git", "push", "-q", "origin", "feature"], cwd=repo, env=guard_env,
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert pushed.returncode == 0, pushed.stderr
    text = log.read_text()
    assert f"pre-push args: origin {remote}" in text
    assert "refs/heads/feature" in text


def test_install_twice_changes_nothing(repo: Path, guard_env: dict[str, str]) -> None:
    with_foreign_setup(repo)
    guard(repo, guard_env, "install", "--statusline")
    first = git_state(repo)
    again = guard(repo, guard_env, "install", "--statusline")
    assert "already" in again.stdout
    assert git_state(repo) == first
    settings = settings_of(repo / ".claude" / "settings.local.json")
    assert all(len(c) == 1 for c in guard_commands(settings).values())


def test_uninstall_restores_every_file_byte_for_byte(
    repo: Path, guard_env: dict[str, str]
) -> None:
    with_foreign_setup(repo)
    before = git_state(repo)
    guard(repo, guard_env, "install")
    guard(repo, guard_env, "install", "--statusline")  # a second install: still the FIRST state
    assert git_state(repo) != before
    done = guard(repo, guard_env, "uninstall")
    assert "original hook is back" in done.stdout
    assert git_state(repo) == before


def test_uninstall_removes_what_did_not_exist(repo: Path, guard_env: dict[str, str]) -> None:
    before = git_state(repo)
    assert not (repo / ".claude").exists()
    guard(repo, guard_env, "install", "--scope", "project")
    assert (repo / ".claude" / "settings.json").exists()
    guard(repo, guard_env, "uninstall")
    assert not (repo / ".claude").exists()
    assert git_state(repo) == before
    assert git(repo, "status", "--porcelain") == ""


def test_uninstall_keeps_changes_made_after_install(
    repo: Path, guard_env: dict[str, str]
) -> None:
    with_foreign_setup(repo)
    guard(repo, guard_env, "install")
    path = repo / ".claude" / "settings.local.json"
    data = settings_of(path)
    data["theme"] = "dark"
    path.write_text(json.dumps(data, indent=4) + "\n")
    done = guard(repo, guard_env, "uninstall")
    assert "changed since install" in done.stdout
    left = settings_of(path)
    assert left["theme"] == "dark"
    assert guard_commands(left) == {}
    assert left["hooks"]["PreToolUse"][0]["hooks"][0]["command"] == "echo other-pre"


def test_invalid_settings_json_is_refused_and_nothing_changes(
    repo: Path, guard_env: dict[str, str]
) -> None:
    (repo / ".claude").mkdir()
    (repo / ".claude" / "settings.local.json").write_text('{"hooks": {,}')
    before = git_state(repo)
    done = guard(repo, guard_env, "install", check=1)
    assert "not valid JSON" in done.stderr and "nothing was changed" in done.stderr
    assert "Traceback" not in done.stderr
    assert git_state(repo) == before


def test_install_from_a_linked_worktree(repo: Path, guard_env: dict[str, str]) -> None:
    linked = repo.parent / "linked"
    git(repo, "worktree", "add", "-q", str(linked), "-b", "side")
    (linked / "sub").mkdir()
    before_main = git_state(repo)
    guard(linked / "sub", guard_env, "install")
    assert (linked / ".claude" / "settings.local.json").exists()
    assert not (repo / ".claude").exists()
    hooks = repo / ".git" / "hooks"  # the hooks folder is shared by every worktree
    assert "worktree-guard shim" in (hooks / "pre-commit").read_text()
    status = json.loads(guard(linked, guard_env, "status", "--json").stdout)
    assert status["workspace"] == str(linked.resolve())
    assert all(v.startswith("guard") for v in status["installed"]["git_hooks"].values())
    assert status["installed"]["claude_settings"]["local"]["missing_events"] == []
    # A commit in the linked tree goes through guard's shim.
    (linked / "x.txt").write_text("x\n")
    git(linked, "add", "x.txt")
    subprocess.run(["git", "commit", "-q", "-m", "x"], cwd=linked, env=guard_env, check=True,
                   capture_output=True, timeout=60)  # fmt: skip
    guard(linked, guard_env, "uninstall")
    assert not (linked / ".claude").exists()
    assert git_state(repo) == before_main


def husky_repo(repo: Path) -> Path:
    husky = repo / ".husky"
    (husky / "_").mkdir(parents=True)
    (husky / "pre-commit").write_text("echo husky-user-hook >>.husky-ran\n")
    stub = '#!/usr/bin/env sh\nsh -e "$(dirname "$0")/../pre-commit"\n'  # husky's shape
    (husky / "_" / "pre-commit").write_text(stub)
    (husky / "_" / "pre-commit").chmod(0o755)
    git(repo, "add", ".husky")
    git(repo, "commit", "-q", "-m", "husky")
    git(repo, "config", "core.hooksPath", ".husky/_")
    return husky


def test_hooks_path_of_another_manager_is_left_alone(
    repo: Path, guard_env: dict[str, str]
) -> None:
    husky = husky_repo(repo)
    before = snapshot(husky)
    done = guard(repo, guard_env, "install", check=1)
    assert "husky" in done.stderr
    assert '"$g" git-hook "${0##*/}" "$@" || exit $?' in done.stderr
    assert installed_launcher().executable not in done.stderr  # the line is portable
    assert snapshot(husky) == before
    assert git(repo, "config", "core.hooksPath") == ".husky/_"
    assert not (repo / ".git" / "hooks" / "pre-commit").exists()
    assert (repo / ".claude" / "settings.local.json").exists()  # the rest was installed

    forced = guard(repo, guard_env, "install", "--force")
    assert "pre-commit.pre-guard" in forced.stdout
    assert "worktree-guard shim" in (husky / "_" / "pre-commit").read_text()
    assert git(repo, "config", "core.hooksPath") == ".husky/_"
    assert "already installed" in guard(repo, guard_env, "install").stdout  # no --force needed
    (repo / "y.txt").write_text("y\n")
    git(repo, "add", "y.txt")
    subprocess.run(["git", "commit", "-q", "-m", "y"], cwd=repo, env=guard_env, check=True,
                   capture_output=True, timeout=60)  # fmt: skip
    assert (repo / ".husky-ran").read_text() == "husky-user-hook\n"  # chained, still runs
    (repo / ".husky-ran").unlink()
    guard(repo, guard_env, "uninstall")
    assert snapshot(husky) == before


def test_install_scopes(repo: Path, guard_env: dict[str, str]) -> None:
    guard(repo, guard_env, "install", "--scope", "project", "--no-git-hooks")
    assert guard_commands(settings_of(repo / ".claude" / "settings.json")).keys() == EVENTS
    assert not (repo / ".git" / "hooks" / "pre-commit").exists()
    home = Path(guard_env["HOME"])
    guard(repo, guard_env, "install", "--scope", "user", "--no-git-hooks", "--statusline")
    user = settings_of(home / ".claude" / "settings.json")
    assert guard_commands(user).keys() == EVENTS
    assert user["statusLine"]["command"].endswith(" statusline")
    guard(repo, guard_env, "uninstall")
    assert not (repo / ".claude").exists()
    assert not (home / ".claude" / "settings.json").exists()


def test_install_no_claude_only_hooks(repo: Path, guard_env: dict[str, str]) -> None:
    done = guard(repo, guard_env, "install", "--no-claude")
    assert not (repo / ".claude").exists()
    assert "restart" not in done.stdout
    for name in ("pre-commit", "pre-push", "post-checkout"):
        path = repo / ".git" / "hooks" / name
        assert os.access(path, os.X_OK) and "worktree-guard shim" in path.read_text()
    for name in ("prepare-commit-msg", "reference-transaction"):  # strict only
        assert not (repo / ".git" / "hooks" / name).exists()


def test_uninstall_without_manifest_sweeps_guard_things(
    repo: Path, guard_env: dict[str, str]
) -> None:
    with_foreign_setup(repo)
    guard(repo, guard_env, "install")
    (repo / ".git" / "guard-install.json").unlink()
    guard(repo, guard_env, "uninstall")
    assert (repo / ".git" / "hooks" / "pre-commit").read_text() == FOREIGN_PRE_COMMIT
    assert not (repo / ".git" / "hooks" / "pre-guard").exists()
    assert not (repo / ".git" / "hooks" / "reference-transaction").exists()
    assert guard_commands(settings_of(repo / ".claude" / "settings.local.json")) == {}


@pytest.mark.parametrize("scope", ["local", "project"])
def test_install_is_non_interactive(tmp_path: Path, guard_env: dict[str, str], scope: str) -> None:
    """The e2e suite will set its repositories up this way: no prompt, no tty."""
    repo = make_repo(tmp_path / f"e2e-{scope}")
    done = guard(repo, guard_env, "install", "--scope", scope)
    assert "warning" not in done.stderr
    name = "settings.local.json" if scope == "local" else "settings.json"
    assert guard_commands(settings_of(repo / ".claude" / name)).keys() == EVENTS


def test_uninstall_user_scope_from_another_repository(
    tmp_path: Path, guard_env: dict[str, str]
) -> None:
    first, second = make_repo(tmp_path / "first"), make_repo(tmp_path / "second")
    guard(first, guard_env, "install", "--scope", "user", "--no-git-hooks")
    user = Path(guard_env["HOME"]) / ".claude" / "settings.json"
    done = guard(second, guard_env, "uninstall")
    assert "guard uninstall --user" in done.stderr
    assert guard_commands(settings_of(user))  # left alone without --user
    guard(second, guard_env, "uninstall", "--user")
    assert guard_commands(settings_of(user)) == {}


# ---- a symlinked hook, a tracked local settings file -----------------------------------------


def commit(repo: Path, env: dict[str, str], name: str) -> subprocess.CompletedProcess[str]:
    (repo / name).write_text(f"{name}\n")
    git(repo, "add", name)
    return subprocess.run(["git", "commit", "-q", "-m", name], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip


def test_a_symlinked_hook_is_chained_as_a_link_never_written_through(
    repo: Path, guard_env: dict[str, str]
) -> None:
    tracked = repo / "tools" / "pre-commit"
    tracked.parent.mkdir()
    tracked.write_text(FOREIGN_PRE_COMMIT)
    tracked.chmod(0o755)
    git(repo, "add", "tools/pre-commit")
    git(repo, "commit", "-q", "-m", "a tracked hook")
    original = tracked.read_bytes()
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.symlink_to(os.path.join("..", "..", "tools", "pre-commit"))
    link_target = os.readlink(hook)

    done = guard(repo, guard_env, "install")
    assert "pre-commit.pre-guard" in done.stdout
    assert git(repo, "status", "--porcelain") == ""  # the tracked script is untouched
    assert tracked.read_bytes() == original
    assert not hook.is_symlink() and "worktree-guard shim" in hook.read_text()
    chained = repo / ".git" / "hooks" / "pre-commit.pre-guard"
    assert chained.is_symlink() and os.readlink(chained) == link_target

    # The chained hook still runs after guard, and its exit code is the hook's.
    log = repo / ".git" / "foreign.log"
    assert commit(repo, guard_env, "a").returncode == 0
    assert "foreign pre-commit ran" in log.read_text()
    refused = commit(repo, {**guard_env, "FOREIGN_EXIT": "1"}, "b")
    assert refused.returncode != 0
    assert log.read_text().count("foreign pre-commit ran") == 2
    assert guard(repo, guard_env, "install").stdout.count("already installed") == len(
        DEFAULT_HOOK_NAMES)

    guard(repo, guard_env, "uninstall")
    assert hook.is_symlink() and os.readlink(hook) == link_target
    assert not os.path.lexists(chained)
    assert tracked.read_bytes() == original
    assert git(repo, "status", "--porcelain") == "A  b"  # only the refused commit's file


def track_local_settings(repo: Path) -> Path:
    path = repo / ".claude" / "settings.local.json"
    path.parent.mkdir()
    path.write_text('{"model": "opus"}\n')
    git(repo, "add", ".claude/settings.local.json")
    git(repo, "commit", "-q", "-m", "shared local settings")
    return path


def test_a_tracked_local_settings_file_is_refused_without_force(
    repo: Path, guard_env: dict[str, str]
) -> None:
    track_local_settings(repo)
    before = git_state(repo)
    done = guard(repo, guard_env, "install", check=1)
    assert "is tracked by git" in done.stderr and "git commit -a" in done.stderr
    assert "--scope user" in done.stderr and "git rm --cached" in done.stderr
    assert "--force" in done.stderr and "Nothing was changed" in done.stderr
    assert "never committed" not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert git_state(repo) == before  # no settings, no hooks, no manifest
    assert git(repo, "status", "--porcelain") == ""
    # Other scopes and a git-hooks-only install are not affected.
    guard(repo, guard_env, "install", "--no-claude")
    guard(repo, guard_env, "install", "--scope", "user", "--no-git-hooks")


def test_force_installs_into_a_tracked_local_settings_file_with_a_warning(
    repo: Path, guard_env: dict[str, str]
) -> None:
    path = track_local_settings(repo)
    done = guard(repo, guard_env, "install", "--force", "--agents", "claude")
    assert "warning:" in done.stderr and "is tracked by git" in done.stderr
    assert "will be committed" in done.stderr and "git rm --cached" in done.stderr
    assert "never committed" not in done.stdout and "info/exclude" not in done.stdout
    assert guard_commands(settings_of(path)).keys() == EVENTS
    assert git(repo, "status", "--porcelain") == "M .claude/settings.local.json"
    assert EXCLUDE_LINE not in (repo / ".git" / "info" / "exclude").read_text()
    guard(repo, guard_env, "uninstall")
    assert git(repo, "status", "--porcelain") == ""


def test_a_symlink_to_a_tracked_guard_shim_is_not_written_through(
    repo: Path, guard_env: dict[str, str]
) -> None:
    """A repository's own git-hooks/ shims (guard from PATH), linked into .git/hooks."""
    folder = repo / "git-hooks"
    folder.mkdir()
    write_shims(str(folder))
    git(repo, "add", "git-hooks")
    git(repo, "commit", "-q", "-m", "shims")
    hooks = repo / ".git" / "hooks"
    for name in DEFAULT_HOOK_NAMES:
        (hooks / name).symlink_to(os.path.join("..", "..", "git-hooks", name))
    before = git_state(repo)

    guard(repo, guard_env, "install", "--no-claude")
    assert git(repo, "status", "--porcelain") == ""
    for name in DEFAULT_HOOK_NAMES:
        assert not (hooks / name).is_symlink()
        launcher = installed_launcher()
        assert (hooks / name).read_text() == shim_text(name, launcher.executable,
                                                       launcher.package_dir)
        assert (hooks / f"{name}.pre-guard").is_symlink()
    assert commit(repo, guard_env, "a").returncode == 0

    guard(repo, guard_env, "uninstall")
    assert git_state(repo) == before
    assert git(repo, "status", "--porcelain") == ""

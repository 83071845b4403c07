"""Where guard installs: the repository's folders, each scope's settings file, guard itself.

Cold path (install, uninstall, status, doctor): asking git is fine here, and it is the
only way to get `core.hooksPath`, linked worktrees and `--git-path` exactly as git sees them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from worktree_guard.core.workspace import workspace_key

_GIT_TIMEOUT_S = 30


class GuardError(Exception):
    """A problem the person can fix; the CLI prints it without a traceback and exits 1."""


class Scope(str, Enum):
    LOCAL = "local"  # <tree>/.claude/settings.local.json: this working tree, not committed
    PROJECT = "project"  # <tree>/.claude/settings.json: committed, shared with the team
    USER = "user"  # ~/.claude/settings.json: every project of this user


@dataclass(frozen=True)
class RepoPaths:
    toplevel: str  # realpath of this working tree's top folder
    git_dir: str  # this working tree's own git dir (`.git/worktrees/<n>` for a linked one)
    common_dir: str  # the repository's shared git dir
    hooks_dir: str  # where git looks for hooks (honours core.hooksPath)
    exclude_file: str  # info/exclude, shared by every working tree
    hooks_path_config: str | None  # the raw core.hooksPath value, when set

    @property
    def key(self) -> str:
        return workspace_key(self.toplevel)

    @property
    def default_hooks_dir(self) -> str:
        return os.path.join(self.common_dir, "hooks")

    @property
    def hooks_dir_is_default(self) -> bool:
        return _same_path(self.hooks_dir, self.default_hooks_dir)

    @property
    def hooks_dir_in_tree(self) -> bool:
        return _is_inside(self.hooks_dir, self.toplevel)


def run_git(args: list[str], cwd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GIT_DIR", "GIT_WORK_TREE")}
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, env=env, capture_output=True, text=True,
            timeout=_GIT_TIMEOUT_S, stdin=subprocess.DEVNULL, check=False,
        )  # fmt: skip
    except FileNotFoundError:
        raise GuardError("git is not installed (or not on PATH)") from None
    except subprocess.TimeoutExpired:
        raise GuardError(f"`git {' '.join(args)}` did not answer in {_GIT_TIMEOUT_S}s") from None
    if check and done.returncode != 0:
        raise GuardError(f"`git {' '.join(args)}` failed: {done.stderr.strip()}")
    return done


def locate_repo(cwd: str) -> RepoPaths:
    """The repository around `cwd`, or GuardError saying it is not in a working tree."""
    if not os.path.isdir(cwd):
        raise GuardError(f"{cwd} is not a folder")
    probe = run_git(["rev-parse", "--is-inside-work-tree"], cwd, check=False)
    if probe.returncode != 0 or probe.stdout.strip() != "true":
        raise GuardError(
            f"not inside a git working tree: {cwd}\n"
            "Run this in a folder of a repository (its main working tree or a linked one)."
        )
    queries = ["--show-toplevel", "--git-dir", "--git-common-dir",
               "--git-path", "hooks", "--git-path", "info/exclude"]  # fmt: skip
    done = run_git(["rev-parse", "--path-format=absolute", *queries], cwd, check=False)
    if done.returncode != 0:  # git < 2.31 has no --path-format: resolve against cwd
        done = run_git(["rev-parse", *queries], cwd)
    lines = done.stdout.splitlines()
    if len(lines) != 5:
        raise GuardError(f"unexpected answer from `git rev-parse`: {done.stdout!r}")
    top, git_dir, common, hooks, exclude = (os.path.realpath(os.path.join(cwd, p)) for p in lines)
    configured = run_git(["config", "--get", "core.hooksPath"], cwd, check=False)
    hooks_path = configured.stdout.strip() if configured.returncode == 0 else None
    return RepoPaths(top, git_dir, common, hooks, exclude, hooks_path or None)


def claude_config_dir() -> str:
    """Claude Code's user folder: $CLAUDE_CONFIG_DIR when set, else ~/.claude."""
    configured = os.environ.get("CLAUDE_CONFIG_DIR", "").strip()
    return os.path.expanduser(configured) if configured else os.path.expanduser("~/.claude")


def settings_path(scope: Scope, toplevel: str) -> str:
    if scope is Scope.LOCAL:
        return os.path.join(toplevel, ".claude", "settings.local.json")
    if scope is Scope.PROJECT:
        return os.path.join(toplevel, ".claude", "settings.json")
    return os.path.join(claude_config_dir(), "settings.json")


def guard_executable() -> str:
    """The absolute path of the `guard` command running now, for hook commands to call.

    Not resolved through symlinks: pipx and Homebrew link a stable path to a versioned
    one, and the stable path is the one that survives an upgrade.
    """
    override = os.environ.get("GUARD_BIN", "").strip()
    candidates = [
        override or None,
        sys.argv[0] if os.path.basename(sys.argv[0]) == "guard" else None,
        str(Path(sys.executable).parent / "guard"),
        shutil.which("guard"),
    ]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return os.path.abspath(candidate)
    raise GuardError(
        "cannot find the installed `guard` executable to point the hooks at; "
        "install it (from a clone: pipx install ., uv tool install . or pip install .) "
        "or set GUARD_BIN"
    )


def _same_path(a: str, b: str) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


def _is_inside(path: str, folder: str) -> bool:
    real, top = os.path.realpath(path), os.path.realpath(folder)
    return real == top or real.startswith(top.rstrip(os.sep) + os.sep)

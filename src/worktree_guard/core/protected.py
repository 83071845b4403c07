"""Paths no agent may change: what would switch guard or git's hooks off.

Pure functions on resolved paths. The git hooks folder (`.git/hooks`, and a linked
worktree's shared one), git's own configuration (`.git/config`, `config.worktree`: it
could set `core.hooksPath` or `guard.*`), guard's lock folder (the leases, the event log,
the pass markers), and every agent's hook files (they hold guard's hook entries; the agent
table, core/agents.py, lists them).
The shell classifier has its own, textual, form of the same list (shell/switches.py).
"""

from __future__ import annotations

from worktree_guard.core.agents import HOOK_FILES
from worktree_guard.lite import system

_GIT_CONFIG_FILES = frozenset({"config", "config.worktree"})


def protected_reason(path: str, lock_dir: str) -> str | None:
    """Why an agent may not write `path` (an absolute, resolved path), or None."""
    lock = system.realpath(lock_dir)
    if path == lock or path.startswith(lock.rstrip("/") + "/"):
        return f"{path} is in guard's lock folder"
    parts = path.split("/")
    for at, part in enumerate(parts):
        following = parts[at + 1 :]
        if part == ".git" and following:
            if following[0] == "hooks":
                return f"{path} is in git's hooks folder"
            if following[-1] in _GIT_CONFIG_FILES and (
                len(following) == 1 or following[0] == "worktrees"
            ):
                return f"{path} is git's configuration (it can set core.hooksPath)"
    for hook_file in HOOK_FILES:
        if tuple(parts[-len(hook_file):]) == hook_file:
            return f"{path} holds an agent's hook settings"
    return None

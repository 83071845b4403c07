"""What one command's sandbox is made of, read at its start: the leases held by other live
sessions (from the lease files, never from a cache) and the protected paths that exist.

A lease is the caller's own when its holder process is the caller or one of its ancestors
(the agent process the prefix runs under), or its session is the caller's `guard run`
session: the caller's own trees are never made read-only.
"""

from __future__ import annotations

from worktree_guard.core.config import Settings
from worktree_guard.core.decide import LeaseState, describe_holder, holder_facts
from worktree_guard.core.identity import holder_in_ancestry, session_from_env
from worktree_guard.core.lease import LeaseStore, now_ms
from worktree_guard.core.record import LeaseRecord
from worktree_guard.core.workspace import Workspace, common_dir, find_workspace, head_ref
from worktree_guard.lite import system
from worktree_guard.sandbox.policy import HeldTree

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

# The agents' hook and settings files, per tree and in HOME (install/agent_hooks.py's list).
_TREE_FILES = (".claude/settings.json", ".claude/settings.local.json", ".codex/hooks.json",
               ".gemini/settings.json", ".github/hooks/worktree-guard.json")
_HOME_FILES = (".claude/settings.json", ".claude/settings.local.json", ".codex/hooks.json",
               ".codex/config.toml", ".gemini/settings.json", ".copilot/config.json")


class Facts:
    __slots__ = ("held", "protected")

    def __init__(self, held: list[HeldTree], protected: list[str]) -> None:
        self.held = held
        self.protected = protected


def read_facts(settings: Settings, env: Mapping[str, str], cwd: str) -> Facts:
    lock_dir = system.realpath(settings.lock_dir)
    store = LeaseStore(lock_dir, settings.ttl_ms, settings.lock_timeout_ms)
    session = session_from_env(env)
    now = now_ms()
    held: list[HeldTree] = []
    trees: list[Workspace] = []
    for key in store.keys():  # noqa: SIM118 (a method, not a dict)
        view = store.read(key)
        if not isinstance(view, LeaseRecord) or not view.workspace:
            continue
        ws = find_workspace(view.workspace, {})
        if ws is None or ws.toplevel != system.realpath(view.workspace):
            continue  # the tree is gone, or the record names a path that is no tree now
        trees.append(ws)
        if store.state_of(view, session, now) is not LeaseState.HELD_BY_OTHER:
            continue
        holder = view.holder_process()
        if holder is not None and holder_in_ancestry(holder) is True:
            continue  # the caller's own session
        ref = head_ref(ws)
        common = common_dir(ws)
        held.append(HeldTree(ws.toplevel, ws.git_dir, common,
                             describe_holder(holder_facts(view, now)),
                             system.join(common, ref) if ref and ref.startswith("refs/") and
                             ".." not in ref else None))
    here = find_workspace(cwd, {})
    if here is not None:
        trees.append(here)
    protected = [lock_dir]
    for ws in trees:
        protected.append(system.join(common_dir(ws), "hooks"))
        protected.extend(system.join(ws.toplevel, name) for name in _TREE_FILES)
    home = env.get("HOME", "")
    if home.startswith("/"):
        protected.extend(system.join(system.realpath(home), name) for name in _HOME_FILES)
    return Facts(held, protected)


def existing(paths: list[str]) -> set[str]:
    """Which of `paths` exist, not following a last symlink (a link is never mounted over:
    its target could be anything)."""
    found: set[str] = set()
    for path in paths:
        try:
            st = system.lstat(path)
        except OSError:
            continue
        if system.S_ISDIR(st.st_mode) or system.S_ISREG(st.st_mode):
            found.add(path)
    return found

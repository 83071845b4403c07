"""What one command's sandbox is made of, read at its start: the leases held by other live
sessions (from the lease files, never from a cache) and the protected paths that exist.

A lease is the caller's own when its holder process is the caller or one of its ancestors
(the agent process the prefix runs under), or its session is the caller's `guard run`
session: the caller's own trees are never made read-only.
"""

from __future__ import annotations

from worktree_guard.core.config import Settings
from worktree_guard.core.workspace import Workspace, common_dir, find_workspace, head_ref
from worktree_guard.lite import fastjson, system
from worktree_guard.sandbox.policy import HeldTree

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

# The agents' hook and settings files, per tree and in HOME (install/agent_hooks.py's list).
_TREE_FILES = (".claude/settings.json", ".claude/settings.local.json", ".codex/hooks.json",
               ".gemini/settings.json", ".github/hooks/worktree-guard.json")
_HOME_FILES = (".claude/settings.json", ".claude/settings.local.json", ".codex/hooks.json",
               ".codex/config.toml", ".gemini/settings.json", ".copilot/config.json")
_LEASE_PREFIX, _LEASE_SUFFIX = "session-lock-", ".json"
_MAX_LEASE_BYTES = 64 << 10
_MAX_ANCESTRY = 64


def ancestor_pids() -> set[int]:
    """This process and its ancestors, from /proc (empty without it)."""
    found: set[int] = set()
    pid = system.getpid()
    while pid > 0 and len(found) < _MAX_ANCESTRY and pid not in found:
        found.add(pid)
        try:
            with open(f"/proc/{pid}/stat", "rb") as fh:
                stat = fh.read(4096)
            pid = int(stat[stat.rindex(b")") + 2:].split(b" ", 2)[1])
        except (OSError, ValueError, IndexError):
            break
    return found


def _quick_records(lock_dir: str) -> list[tuple[str, dict[str, object] | None]]:
    """(key, the record as JSON, or None when it is not plain JSON) of every lease file:
    the first pass, without the lease store (its import is most of the prefix's cost)."""
    try:
        names = system.listdir(lock_dir)
    except OSError:
        return []
    found: list[tuple[str, dict[str, object] | None]] = []
    for name in names:
        if not (name.startswith(_LEASE_PREFIX) and name.endswith(_LEASE_SUFFIX)):
            continue
        key = name[len(_LEASE_PREFIX):-len(_LEASE_SUFFIX)]
        try:
            fd = system.open(system.join(lock_dir, name), system.O_RDONLY | system.O_NOFOLLOW)
            try:
                data = system.read(fd, _MAX_LEASE_BYTES + 1)
            finally:
                system.close(fd)
            record = fastjson.loads(data.decode("utf-8"))
        except (OSError, ValueError):
            record = None
        found.append((key, record if isinstance(record, dict) else None))
    return found


class Facts:
    __slots__ = ("held", "protected")

    def __init__(self, held: list[HeldTree], protected: list[str]) -> None:
        self.held = held
        self.protected = protected


def read_facts(settings: Settings, env: Mapping[str, str], cwd: str) -> Facts:
    lock_dir = system.realpath(settings.lock_dir)
    mine = ancestor_pids()
    trees: list[Workspace] = []
    strangers: list[str] = []
    for key, record in _quick_records(lock_dir):
        workspace = record.get("workspace") if record is not None else None
        if isinstance(workspace, str) and workspace:
            ws = find_workspace(workspace, {})
            if ws is not None and ws.toplevel == system.realpath(workspace):
                trees.append(ws)
        # A lease whose holder pid is this process or an ancestor is the caller's own (or
        # its holder is gone and the pid reused: then it is held by no one).
        if record is None or record.get("pid") not in mine:
            strangers.append(key)
    held = _held_by_others(settings, env, lock_dir, strangers) if strangers else []
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


def _held_by_others(settings: Settings, env: Mapping[str, str], lock_dir: str,
                    keys: list[str]) -> list[HeldTree]:
    """The lease store's own judgement of the leases the first pass could not rule out."""
    from worktree_guard.core.decide import LeaseState, describe_holder, holder_facts
    from worktree_guard.core.identity import holder_in_ancestry, session_from_env
    from worktree_guard.core.lease import LeaseStore, now_ms
    from worktree_guard.core.record import LeaseRecord

    store = LeaseStore(lock_dir, settings.ttl_ms, settings.lock_timeout_ms)
    session = session_from_env(env)
    now = now_ms()
    held: list[HeldTree] = []
    for key in keys:
        view = store.read(key)
        if not isinstance(view, LeaseRecord) or not view.workspace:
            continue
        ws = find_workspace(view.workspace, {})
        if ws is None or ws.toplevel != system.realpath(view.workspace):
            continue  # the tree is gone, or the record names a path that is no tree now
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
    return held


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

"""Pure-ish: which tree a hard-linked file belongs to, without a scan.

The file tools (Write, Edit) run inside the agent's client, not in the shell sandbox: a file
in B with more than one link may be the same inode as a file of A, and a write to it changes
A. Git's index records each tracked file's device and inode, so the trees named in the lease
files (the only ones another session can hold) are asked by their index: one read of each
index on the same device, no walk of any tree. A file of A that git does not track is not
found this way; the shell sandbox refuses the `ln` itself while A is held (a link across
a read-only bind mount fails with EXDEV).
"""

from __future__ import annotations

from worktree_guard.core.workspace import Workspace, common_dir, find_workspace
from worktree_guard.lite import system

_MAX_INDEX_BYTES = 256 << 20  # a larger index is not read: the file is judged by its folder
_ENTRY_BASE = 40 + 2  # stat fields, then the flags after the object name


def _hash_size(ws: Workspace) -> int:
    try:
        with open(system.join(common_dir(ws), "config"), "rb") as fh:
            text = fh.read(1 << 16).lower()
    except OSError:
        return 20
    return 32 if b"objectformat" in text and b"sha256" in text else 20


def index_inodes(data: bytes, hash_size: int = 20) -> set[int]:
    """The inode numbers a git index (versions 2 to 4) records; empty for anything else."""
    if len(data) < 12 or data[:4] != b"DIRC":
        return set()
    version = int.from_bytes(data[4:8], "big")
    count = int.from_bytes(data[8:12], "big")
    if version not in (2, 3, 4):
        return set()
    found: set[int] = set()
    at = 12
    fixed = _ENTRY_BASE + hash_size
    for _ in range(count):
        if at + fixed > len(data):
            break
        found.add(int.from_bytes(data[at + 20:at + 24], "big"))
        flags = int.from_bytes(data[at + fixed - 2:at + fixed], "big")
        name_at = at + fixed + (2 if version >= 3 and flags & 0x4000 else 0)
        if version == 4:
            while name_at < len(data) and data[name_at] & 0x80:  # the prefix-strip varint
                name_at += 1
            end = data.find(b"\0", name_at + 1)
            if end < 0:
                break
            at = end + 1
        else:
            end = data.find(b"\0", name_at)
            if end < 0:
                break
            at += (end - at + 8) & ~7  # NUL-padded to a multiple of eight
    return found


def _index_of(ws: Workspace) -> bytes:
    path = system.join(ws.git_dir, "index")
    try:
        st = system.stat(path)
        if st.st_size > _MAX_INDEX_BYTES:
            return b""
        with open(path, "rb") as fh:
            return fh.read()
    except OSError:
        return b""


def linked_tree(path: str, candidates: list[str]) -> Workspace | None:
    """The tree among `candidates` (toplevels) whose index records the inode of `path`, a
    file with more than one link outside that tree; None for anything else."""
    try:
        st = system.stat(path)
    except OSError:
        return None
    if not system.S_ISREG(st.st_mode) or st.st_nlink < 2:
        return None
    for top in candidates:
        if path.startswith(top.rstrip("/") + "/"):
            continue  # a link inside the tree is that tree's own
        try:
            if system.stat(top).st_dev != st.st_dev:
                continue  # a hard link never crosses devices
        except OSError:
            continue
        ws = find_workspace(top, {})
        if ws is not None and st.st_ino in index_inodes(_index_of(ws), _hash_size(ws)):
            return ws
    return None


def lease_tree_of_link(path: str) -> Workspace | None:
    """`linked_tree` over the trees the lease files name: asked only for a file with more
    than one link (one stat for every other file)."""
    try:
        if system.stat(path).st_nlink < 2:
            return None
        from worktree_guard.core.config import load_settings
        from worktree_guard.core.lease import LeaseStore
        from worktree_guard.core.record import LeaseRecord

        settings = load_settings()
        store = LeaseStore(settings.lock_dir, settings.ttl_ms, settings.lock_timeout_ms)
        tops = []
        for key in store.keys():  # noqa: SIM118 (a method, not a dict)
            view = store.read(key)
            if isinstance(view, LeaseRecord) and view.workspace:
                tops.append(system.realpath(view.workspace))
    except Exception:  # the lease folder unusable: the file is judged by its folder
        return None
    return linked_tree(path, tops)

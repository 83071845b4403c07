"""Pure: which paths a shell command gets read-only, from facts read at its start.

The order of the mounts matters and is the plan's: a held tree read-only first; then, when
its git folder lies inside it (a main worktree), that folder writable again (other trees of
the repository share its objects and refs); then the files that are the held tree's own git
state (index, HEAD) and the protected paths read-only again, inside whatever is writable.
Everything not named stays as it was: the caller's own trees, a new folder beside a held
tree, the temp folder, HOME, git's objects and refs.
"""

from __future__ import annotations

# Plain classes, not dataclasses: `dataclasses` costs the prefix `inspect` and `ast`.


class HeldTree:
    """A tree another live session holds: its toplevel, its per-worktree git folder, its
    common git folder, who holds it (for the message), and the loose ref file of its branch
    (a commit there rewrites it)."""

    __slots__ = ("branch_ref", "common_dir", "git_dir", "holder", "toplevel")

    def __init__(self, toplevel: str, git_dir: str | None, common_dir: str | None,
                 holder: str, branch_ref: str | None = None) -> None:
        self.toplevel = toplevel
        self.git_dir = git_dir
        self.common_dir = common_dir
        self.holder = holder
        self.branch_ref = branch_ref

    def state_files(self) -> list[str]:
        """What a commit in the tree writes besides objects: its index, HEAD and HEAD's
        reflog, and its branch's ref file (when loose: a packed ref has no file of its own
        to make read-only, and stays for git's own hooks to judge)."""
        files = [f"{self.git_dir}/{n}" for n in ("index", "HEAD", "logs/HEAD")] if (
            self.git_dir) else []
        return files + ([self.branch_ref] if self.branch_ref else [])


class Mount:
    __slots__ = ("path", "read_only")

    def __init__(self, path: str, read_only: bool) -> None:
        self.path = path
        self.read_only = read_only

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mount) and (self.path, self.read_only) == (
            other.path, other.read_only)

    def __hash__(self) -> int:
        return hash((self.path, self.read_only))

    def __repr__(self) -> str:
        return f"Mount({self.path!r}, read_only={self.read_only})"


class Plan:
    __slots__ = ("held", "mounts")

    def __init__(self, mounts: tuple[Mount, ...] = (), held: tuple[HeldTree, ...] = ()) -> None:
        self.mounts = mounts
        self.held = held

    @property
    def empty(self) -> bool:
        return not self.mounts


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def plan(held: list[HeldTree], protected: list[str], exists: set[str]) -> Plan:
    """The mounts for one command. `protected`: the lock folder, the hooks folders and the
    agents' settings files; `exists`: which of all the paths named exist (only those can
    be mounted)."""
    mounts: list[Mount] = []
    seen: set[tuple[str, bool]] = set()

    def add(path: str, read_only: bool) -> None:
        if path in exists and (path, read_only) not in seen:
            seen.add((path, read_only))
            mounts.append(Mount(path, read_only))

    trees = sorted(held, key=lambda t: t.toplevel)
    for tree in trees:
        add(tree.toplevel, True)
    for tree in trees:
        for folder in (tree.common_dir, tree.git_dir):
            if folder is not None and _inside(folder, tree.toplevel):
                add(folder, False)
    for tree in trees:
        for path in tree.state_files():
            add(path, True)
    for path in sorted(protected):
        add(path, True)
    return Plan(tuple(mounts), tuple(trees))


def failure_line(held: tuple[HeldTree, ...]) -> str:
    """The one stderr line after a sandboxed command failed: what was read-only, and why."""
    trees = "; ".join(f"{t.toplevel} (held by {t.holder})" for t in held)
    return (f"worktree-guard: this command ran with other sessions' working trees read-only: "
            f"{trees}. Work in a tree of your own (git worktree add ../<name>).")

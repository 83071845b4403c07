"""Which working tree a path belongs to, its key, and the branch its HEAD is on.

Read straight from the `.git` files instead of running `git rev-parse`: this runs on every
hook call, and a git subprocess would cost more than the rest of the hook together.
"""

from __future__ import annotations

from worktree_guard.lite import system

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

try:  # the builtin module: `hashlib` would load OpenSSL on every hook call
    from _md5 import md5 as _md5  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # pragma: no cover
    from hashlib import md5 as _md5

# A HEAD file is one line; anything far larger is not a HEAD file.
_MAX_HEAD_BYTES = 4096


class Workspace:
    """One working tree: its toplevel (realpath) and its own git dir (where HEAD lives)."""

    __slots__ = ("git_dir", "toplevel")

    def __init__(self, toplevel: str, git_dir: str) -> None:
        self.toplevel = toplevel
        self.git_dir = git_dir

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Workspace) and (self.toplevel, self.git_dir) == (
            other.toplevel, other.git_dir
        )

    def __hash__(self) -> int:
        return hash((self.toplevel, self.git_dir))

    def __repr__(self) -> str:
        return f"Workspace(toplevel={self.toplevel!r}, git_dir={self.git_dir!r})"

    @property
    def key(self) -> str:
        return workspace_key(self.toplevel)


def workspace_key(toplevel: str) -> str:
    """First 12 hex digits of the MD5 of the toplevel path (the seed design's hash)."""
    digest: str = _md5(toplevel.encode("utf-8", "surrogateescape")).hexdigest()
    return digest[:12]


def find_workspace(cwd: str, env: Mapping[str, str] | None = None) -> Workspace | None:
    """The working tree holding `cwd`, or None when `cwd` is in no repository or is gone.

    Inside git hooks git exports GIT_DIR (and GIT_WORK_TREE when the tree is elsewhere);
    they name the repository more exactly than a walk from the folder does.
    """
    environ = system.environ() if env is None else env
    work_tree = environ.get("GIT_WORK_TREE")
    git_dir = environ.get("GIT_DIR")
    if work_tree and git_dir:
        top = system.realpath(system.join(cwd, work_tree))
        gd = system.realpath(system.join(cwd, git_dir))
        return Workspace(top, gd) if system.isdir(top) and _is_git_dir(gd) else None
    try:
        start = system.realpath(cwd)
    except (OSError, ValueError):
        return None
    if not system.isdir(start):
        return None
    if git_dir and not work_tree:
        named = system.realpath(system.join(start, git_dir))
        found = _from_git_dir(named)
        if found is not None:
            return found
        # A git dir we cannot map (a bare repository, say): the tree found by walking up is
        # the right one only if it is that same repository (a submodule's, for one).
        walked = _walk_up(start)
        return walked if walked is not None and walked.git_dir == named else None
    return _walk_up(start)


def _walk_up(start: str) -> Workspace | None:
    folder = start
    while True:
        dot_git = system.join(folder, ".git")
        gd = _resolve_dot_git(dot_git)
        if gd is not None:
            return Workspace(folder, gd)
        parent = system.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def _resolve_dot_git(dot_git: str) -> str | None:
    """The git dir a `.git` entry stands for: the folder itself, or the `gitdir:` of a file.
    Anything else (a FIFO, a device) is passed over at once, as git passes over it: opening
    a FIFO would wait for a writer until the hook's deadline."""
    try:
        mode = system.stat(dot_git).st_mode
        if system.S_ISDIR(mode):
            return dot_git if _is_git_dir(dot_git) else None
        if not system.S_ISREG(mode):
            return None
        with open(dot_git, "rb") as fh:
            first = fh.read(_MAX_HEAD_BYTES).split(b"\n", 1)[0].decode("utf-8", "surrogateescape")
    except (OSError, ValueError):
        return None
    if not first.startswith("gitdir:"):
        return None
    target = first[len("gitdir:") :].strip()
    resolved = system.realpath(system.join(system.dirname(dot_git), target))
    return resolved if _is_git_dir(resolved) else None


def _from_git_dir(git_dir: str) -> Workspace | None:
    """The working tree of a git dir named by GIT_DIR (main `.git` or `.git/worktrees/<n>`)."""
    if not _is_git_dir(git_dir):
        return None
    gitdir_file = system.join(git_dir, "gitdir")  # linked worktree: points at <tree>/.git
    try:
        with open(gitdir_file, encoding="utf-8", errors="surrogateescape") as fh:
            dot_git = fh.read(_MAX_HEAD_BYTES).strip()
        return Workspace(system.realpath(system.dirname(dot_git)), git_dir)
    except OSError:
        pass
    if system.basename(git_dir) == ".git":
        return Workspace(system.dirname(git_dir), git_dir)
    return None


def _is_git_dir(path: str) -> bool:
    return system.isfile(system.join(path, "HEAD"))


def current_branch(ws: Workspace) -> str | None:
    """The branch HEAD is on, `(detached <sha7>)` when detached, None when unreadable."""
    try:
        with open(system.join(ws.git_dir, "HEAD"), "rb") as fh:
            head = fh.read(_MAX_HEAD_BYTES).decode("utf-8", "surrogateescape").strip()
    except OSError:
        return None
    if head.startswith("ref:"):
        ref = head[4:].strip()
        return ref[len("refs/heads/") :] if ref.startswith("refs/heads/") else ref
    return f"(detached {head[:7]})" if head else None


# ---- branches: a branch belongs to the tree that has it checked out ---------------------------


def common_dir(ws: Workspace) -> str:
    """The git dir all worktrees of a repository share (refs, hooks, `worktrees/`)."""
    try:
        with open(system.join(ws.git_dir, "commondir"), encoding="utf-8",
                  errors="surrogateescape") as fh:
            named = fh.read(_MAX_HEAD_BYTES).strip()
    except OSError:
        return ws.git_dir
    return system.realpath(system.join(ws.git_dir, named)) if named else ws.git_dir


def head_ref(ws: Workspace) -> str | None:
    """The ref HEAD points at (`refs/heads/x`), None when detached or unreadable."""
    return _head_ref(ws.git_dir)


def _head_ref(git_dir: str) -> str | None:
    try:
        with open(system.join(git_dir, "HEAD"), "rb") as fh:
            head = fh.read(_MAX_HEAD_BYTES).decode("utf-8", "surrogateescape").strip()
    except OSError:
        return None
    return head[4:].strip() if head.startswith("ref:") else None


def trees_on_ref(ws: Workspace, ref: str) -> list[Workspace]:
    """Every working tree of ws's repository whose HEAD is on `ref` (`refs/heads/x`): read
    from the shared git dir's HEAD and `worktrees/*/HEAD` files, no git process."""
    common = common_dir(ws)
    found: list[Workspace] = []
    if system.basename(common) == ".git" and _head_ref(common) == ref:
        found.append(Workspace(system.dirname(common), common))
    folder = system.join(common, "worktrees")
    try:
        names = sorted(system.listdir(folder))
    except OSError:
        names = []
    for name in names:
        git_dir = system.join(folder, name)
        if _head_ref(git_dir) != ref:
            continue
        tree = _from_git_dir(git_dir)
        if tree is not None:
            found.append(tree)
    return found


def ref_exists(ws: Workspace, ref: str) -> bool:
    """Whether a branch already exists (loose or packed): a zero old value in a ref update
    means "not checked", not "new"."""
    common = common_dir(ws)
    if system.isfile(system.join(common, ref)):
        return True
    try:
        with open(system.join(common, "packed-refs"), "rb") as fh:
            packed = fh.read()
    except OSError:
        return False
    needle = (" " + ref).encode("utf-8", "surrogateescape")
    return any(line.rstrip(b"\r").endswith(needle) for line in packed.split(b"\n")
               if line and line[:1] not in (b"#", b"^"))


def enclosing_tree(ws: Workspace) -> Workspace | None:
    """The working tree around this one's folder (a worktree made inside another tree)."""
    parent = system.dirname(ws.toplevel)
    if parent == ws.toplevel:
        return None
    return find_workspace(parent, {})

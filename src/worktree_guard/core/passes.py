"""Pass markers: "this agent session holds this tree, as HEAD is now".

git runs some hooks for every commit of a rebase (prepare-commit-msg) and pre-commit for
every commit; starting guard in each would cost an interpreter start apiece. So once guard
lets a session act as the holder of a tree, it leaves a marker that the shims read in sh:
`<lock dir>/git-pass/<tree key>-<session>`, whose one line is HEAD as it was then
(`ref: refs/heads/<branch>`, or `detached` for any detached HEAD). The later hooks of that
session in that tree start no interpreter while HEAD still reads the same; a branch switch
(by the holder or by anyone else) sends the next hook to guard again, which judges it.

A marker lives as long as the lease generation that granted it: the lease store removes a
tree's markers whenever the tree gets a new record (a first acquire, a takeover) or is
released, and every marker of a session that lost a lease (see core/lease.py). Markers of
trees that have no lease file any more are pruned whenever a new one is left.

The shim computes the path (it is the reader); guard only checks that it is the marker of
the tree and session it decided for. Markers are a fast path between cooperating processes
of one user, not a security boundary: whoever can write the lock folder can also rewrite
the lease.
"""

from __future__ import annotations

from worktree_guard.lite import system

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

PASS_DIR_NAME = "git-pass"
PASS_ENV = "GUARD_PASS_FILE"
_KEY_LENGTH = 12
DETACHED = "detached"


def pass_file(env: dict[str, str], key: str, session: str, lock_dir: str) -> str | None:
    """The marker path the shim passed, when it names this tree's and session's marker in
    the pass folder of this lock folder: a marker anywhere else would escape `revoke` and
    `prune` (a shim that computed another folder, say with HOME unset, gets no pass at all)."""
    path = env.get(PASS_ENV, "")
    if not path.startswith("/"):
        return None
    folder = system.join(lock_dir, PASS_DIR_NAME)
    if system.normpath(system.dirname(path)) != system.normpath(folder):
        return None
    return path if system.basename(path) == f"{key}-{session}" else None


def head_line(git_dir: str) -> str | None:
    """HEAD as the shim compares it: its first line when it names a ref, else `detached`."""
    try:
        with open(system.join(git_dir, "HEAD"), "rb") as fh:
            first = fh.read(4096).split(b"\n", 1)[0].decode("utf-8", "surrogateescape")
    except OSError:
        return None
    return first if first.startswith("ref: ") else DETACHED


def leave_pass(path: str, head: str) -> None:
    """Write the marker (temp file + rename, so the shim never reads half a line); never
    raises: without it the next hook just asks guard again."""
    folder = system.dirname(path)
    tmp = f"{path}.{system.getpid()}.tmp"
    try:
        system.makedirs(folder, mode=0o700, exist_ok=True)
        flags = (system.O_WRONLY | system.O_CREAT | system.O_TRUNC | system.O_NOFOLLOW
                 | system.O_CLOEXEC)
        fd = system.open(tmp, flags, 0o600)
        try:
            system.write(fd, (head + "\n").encode("utf-8", "surrogateescape"))
        finally:
            system.close(fd)
        system.replace(tmp, path)
    except OSError:
        try:
            system.unlink(tmp)
        except OSError:
            pass
        return
    prune(folder)


def _split(name: str) -> tuple[str, str] | None:
    """(tree key, session) of a marker's file name; None for anything else."""
    key, dash, session = name[:_KEY_LENGTH], name[_KEY_LENGTH:_KEY_LENGTH + 1], name[13:]
    if dash != "-" or not session or name.endswith(".tmp"):
        return None
    if any(c not in "0123456789abcdef" for c in key):
        return None
    return key, session


def _remove_where(folder: str, doomed: Callable[[str, str], bool]) -> None:
    try:
        names = system.listdir(folder)
    except OSError:
        return
    for name in names:
        parts = _split(name)
        if parts is None or doomed(*parts):
            try:
                system.unlink(system.join(folder, name))
            except OSError:
                pass  # removed by another hook at the same moment


def prune(folder: str) -> None:
    """Remove the markers of trees with no lease file, and anything that is not a marker."""
    lock_dir = system.dirname(folder)

    def unleased(key: str, _session: str) -> bool:
        return not system.lexists(system.join(lock_dir, f"session-lock-{key}.json"))

    _remove_where(folder, unleased)


def void_tree(lock_dir: str, key: str) -> None:
    """A tree got a new lease record, or none: every pass for it is void."""
    _remove_where(system.join(lock_dir, PASS_DIR_NAME), lambda k, _s: k == key)


def revoke(lock_dir: str, session: str) -> None:
    """Void every pass of a session that lost its lease (taken over, or forced free)."""
    _remove_where(system.join(lock_dir, PASS_DIR_NAME), lambda _k, s: s == session)

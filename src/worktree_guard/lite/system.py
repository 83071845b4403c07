"""The parts of `os` and `os.path` the hook paths use, on the `posix` module directly.

`import os` is the largest single import of a hook (1.3-1.5 ms with `python -I -S`: it
builds `_collections_abc`'s classes for `os.environ`), while `posix`, the C module under it,
is already loaded when the interpreter starts. The functions keep `os`'s names and
behaviour on POSIX (tests/lite/test_system.py compares them with `os` on the same inputs and
the same files), so a hook module reads as if it used `os`.

Only str paths: the hooks never handle bytes paths.
"""

from __future__ import annotations

import posix
import sys
from _stat import S_ISDIR, S_ISLNK, S_ISREG

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

# Re-exported as they are: the same C functions `os` re-exports.
close = posix.close
fstat = posix.fstat
ftruncate = posix.ftruncate
getcwd = posix.getcwd
getpid = posix.getpid
getppid = posix.getppid
getuid = posix.getuid
kill = posix.kill
listdir = posix.listdir
lstat = posix.lstat
mkdir = posix.mkdir
open = posix.open
pipe = posix.pipe
posix_spawnp = posix.posix_spawnp
pread = posix.pread
pwrite = posix.pwrite
read = posix.read
readlink = posix.readlink
replace = posix.replace
stat = posix.stat
unlink = posix.unlink
urandom = posix.urandom
waitpid = posix.waitpid
waitstatus_to_exitcode = posix.waitstatus_to_exitcode
write = posix.write

O_APPEND = posix.O_APPEND
O_CLOEXEC = posix.O_CLOEXEC
O_CREAT = posix.O_CREAT
O_EXCL = posix.O_EXCL
O_NOFOLLOW = posix.O_NOFOLLOW
O_NONBLOCK = posix.O_NONBLOCK
O_RDONLY = posix.O_RDONLY
O_RDWR = posix.O_RDWR
O_TRUNC = posix.O_TRUNC
O_WRONLY = posix.O_WRONLY
POSIX_SPAWN_DUP2 = posix.POSIX_SPAWN_DUP2

__all__ = [
    "O_APPEND", "O_CLOEXEC", "O_CREAT", "O_EXCL", "O_NOFOLLOW", "O_NONBLOCK", "O_RDONLY",
    "O_RDWR", "O_TRUNC", "O_WRONLY", "POSIX_SPAWN_DUP2", "S_ISDIR", "S_ISLNK", "S_ISREG",
    "abspath", "basename", "close", "dirname", "environ", "fstat", "ftruncate", "getcwd",
    "getpid", "getppid", "getuid", "isabs", "isdir", "isfile", "join", "kill", "lexists",
    "listdir", "lstat", "makedirs", "mkdir", "normpath", "open", "pipe", "posix_spawnp",
    "pread", "pwrite", "read", "readlink", "realpath", "replace", "stat", "unlink",
    "urandom", "waitpid", "waitstatus_to_exitcode", "write",
]

_decoded_environ: list[dict[str, str]] = []


def environ() -> Mapping[str, str]:
    """The process environment, as `os.environ` gives it. Once `os` is loaded its
    `environ` is the one Python code changes, so it is the answer; before that nothing
    could have changed it, and `posix.environ` (bytes, read at start) is decoded once."""
    os_module = sys.modules.get("os")
    if os_module is not None:
        live: Mapping[str, str] = os_module.environ
        return live
    if not _decoded_environ:
        _decoded_environ.append({
            key.decode("utf-8", "surrogateescape"): value.decode("utf-8", "surrogateescape")
            for key, value in posix.environ.items()
        })
    return _decoded_environ[0]


# ---- pure path arithmetic (posixpath's rules) ----------------------------------------------


def isabs(path: str) -> bool:
    return path.startswith("/")


def join(first: str, *rest: str) -> str:
    joined = first
    for part in rest:
        if part.startswith("/"):
            joined = part  # an absolute part starts over, as os.path.join does
        elif not joined or joined.endswith("/"):
            joined += part
        else:
            joined += "/" + part
    return joined


def basename(path: str) -> str:
    return path[path.rfind("/") + 1 :]


def dirname(path: str) -> str:
    head = path[: path.rfind("/") + 1]
    if head and head.strip("/"):
        head = head.rstrip("/")
    return head


def normpath(path: str) -> str:
    """`a//b/./c/..` -> `a/b`, without looking at the file system. POSIX keeps exactly two
    leading slashes (implementation-defined meaning); one or three and more become one."""
    if not path:
        return "."
    leading = len(path) - len(path.lstrip("/"))
    prefix = "//" if leading == 2 else "/" if leading else ""
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == ".." and (parts and parts[-1] != ".."):
            parts.pop()
        elif part == ".." and prefix:
            continue  # `/..` is `/`
        else:
            parts.append(part)
    return prefix + "/".join(parts) or "."


def abspath(path: str) -> str:
    return normpath(path if isabs(path) else join(getcwd(), path))


# ---- questions to the file system ----------------------------------------------------------


def isdir(path: str) -> bool:
    try:
        return S_ISDIR(posix.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def isfile(path: str) -> bool:
    try:
        return S_ISREG(posix.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def lexists(path: str) -> bool:
    try:
        posix.lstat(path)
    except (OSError, ValueError):
        return False
    return True


def makedirs(path: str, mode: int = 0o777, exist_ok: bool = False) -> None:
    """Make `path` and any missing parents (`os.makedirs`)."""
    parent = dirname(path.rstrip("/") or "/")
    if parent and parent != path and not lexists(parent):
        try:
            makedirs(parent, mode, exist_ok=True)
        except FileExistsError:
            pass  # made meanwhile by another process
    try:
        posix.mkdir(path, mode)
    except OSError:
        if not exist_ok or not isdir(path):
            raise


def realpath(path: str) -> str:
    """`path` with every symbolic link resolved, as `os.path.realpath` (not strict): a part
    that does not exist is kept as written, and a link loop is left where it loops."""
    resolved, _ = _resolve("", path, {})
    return abspath(resolved)


def _resolve(base: str, rest: str, seen: dict[str, str | None]) -> tuple[str, bool]:
    """Walk `rest` from `base` one name at a time. `seen` maps each link being resolved to
    its target (None while resolving it: meeting it again then is a loop). Returns the path
    and False when a loop stopped the walk (the rest is then appended unresolved)."""
    if rest.startswith("/"):
        base, rest = "/", rest.lstrip("/")
    names = rest.split("/")
    for index, name in enumerate(names):
        if name in ("", "."):
            continue
        if name == "..":
            if not base:
                base = ".."
            elif basename(base) == "..":
                base = join(base, "..")
            else:
                base = dirname(base) if basename(base) else base
            continue
        candidate = join(base, name)
        try:
            is_link = S_ISLNK(posix.lstat(candidate).st_mode)
        except OSError:
            is_link = False
        if not is_link:
            base = candidate
            continue
        if candidate in seen:
            target = seen[candidate]
            if target is not None:
                base = target
                continue
            return join(candidate, *names[index + 1 :]), False  # a loop: stop here
        seen[candidate] = None
        base, finished = _resolve(base, posix.readlink(candidate), seen)
        if not finished:
            return join(base, *names[index + 1 :]), False
        seen[candidate] = base
    return base, True

"""What the running kernel offers, and the system calls that build the sandbox.

A mount namespace holds the read-only bind mounts (made by mount(2), keeping the caller's
uid, as bubblewrap does); a user namespace makes that possible without privileges and locks
those mounts for anything the command starts (a mount copied into a less privileged
namespace cannot be unmounted or made writable there). Landlock, when the kernel has it,
adds what namespaces alone leave open: a process in a Landlock domain may not ptrace or open
`/proc/<pid>/root` of a process outside it (the way back into the unrestricted view of the
files), and may not mount or unmount. No new dependency: `_ctypes`, the C module under
ctypes, with the two C types the calls need (`import ctypes` costs the prefix a fifth of an
interpreter start: `os`, `struct` and every C type class).
"""

from __future__ import annotations

import _ctypes
import posix
import sys

from worktree_guard.lite.kinds import Kind

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import ClassVar

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
MS_RDONLY = 1
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
PR_CAPBSET_DROP = 24
CAP_SYS_ADMIN = 21
_SYS_LANDLOCK_CREATE_RULESET = 444  # x86_64, aarch64 and the other unified tables
_SYS_LANDLOCK_RESTRICT_SELF = 446
_LANDLOCK_CREATE_RULESET_VERSION = 1
_LANDLOCK_ACCESS_FS_MAKE_BLOCK = 1 << 11  # handled, never granted: no block device nodes


class Mode(Kind):
    __slots__ = ()
    NAMESPACE: ClassVar[Mode]  # read-only bind mounts in a mount namespace
    OFF: ClassVar[Mode]  # parse-only: today's pre-tool judgement, unsure targets denied


Mode.NAMESPACE = Mode("namespace")
Mode.OFF = Mode("off")


class SandboxError(OSError):
    """A system call the sandbox needs failed; the message says which."""


if TYPE_CHECKING:
    _SimpleInt = _ctypes._SimpleCData[int]
else:
    _SimpleInt = _ctypes._SimpleCData


class _Long(_SimpleInt):
    _type_ = "l"


class _Int(_SimpleInt):
    _type_ = "i"


class _Function(_ctypes.CFuncPtr):
    _flags_ = _ctypes.FUNCFLAG_CDECL | _ctypes.FUNCFLAG_USE_ERRNO
    _restype_ = _Long


class _Libc:
    _handle = 0


_functions: dict[str, _Function] = {}


def _call(name: str, *args: object) -> int:
    """The libc function `name` with `args` (bytes as char *, None as NULL, _Long/_Int as
    they say); its result, -1 with errno set on failure."""
    function = _functions.get(name)
    if function is None:
        if not _Libc._handle:
            _Libc._handle = _ctypes.dlopen(None, 0)  # type: ignore[arg-type]
        function = _functions[name] = _Function((name, _Libc))  # type: ignore[arg-type]
    result: int = function(*args)
    return result


def _check(result: int, what: str) -> int:
    if result < 0:
        err = _ctypes.get_errno()
        raise SandboxError(err, f"{what}: {posix.strerror(err)}")
    return result


def landlock_abi() -> int:
    """The Landlock ABI version the kernel offers, 0 when none (or the call is blocked)."""
    abi = _call("syscall", _Long(_SYS_LANDLOCK_CREATE_RULESET), None, _Long(0),
                _Int(_LANDLOCK_CREATE_RULESET_VERSION))
    return abi if abi > 0 else 0


def unshare_mounts() -> None:
    """A mount namespace of this process's own. As root, only that (the capability to
    change it is dropped before the command runs); otherwise a user namespace too, mapping
    the caller's own uid and gid to themselves, so files keep their owner."""
    uid, gid = posix.getuid(), posix.getgid()
    if uid == 0:
        _check(_call("unshare", _Int(CLONE_NEWNS)), "unshare(CLONE_NEWNS)")
    else:
        _check(_call("unshare", _Int(CLONE_NEWNS | CLONE_NEWUSER)),
               "unshare(CLONE_NEWUSER|CLONE_NEWNS)")
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"),
                           ("gid_map", f"{gid} {gid} 1")):
            fd = posix.open(f"/proc/self/{name}", posix.O_WRONLY)
            try:
                posix.write(fd, text.encode())
            finally:
                posix.close(fd)
    # Nothing done here may reach the namespace it came from.
    _check(_call("mount", b"none", b"/", None, _Long(MS_REC | MS_PRIVATE), None),
           "mount(/, MS_PRIVATE)")


# statvfs f_flag bits -> mount flags a remount must repeat (in a user namespace they are
# locked, and a remount that drops one is refused).
_KEPT_FLAGS = ((2, 2), (4, 4), (8, 8), (1024, 1024), (2048, 2048), (4096, 1 << 21))


def bind(path: str, read_only: bool) -> None:
    """Bind `path` onto itself, then set it read-only or writable (a bind inside a
    read-only one starts read-only: a writable one gives a subfolder back)."""
    raw = path.encode()
    _check(_call("mount", raw, raw, None, _Long(MS_BIND | MS_REC), None), f"bind {path}")
    current = posix.statvfs(path).f_flag
    flags = MS_REMOUNT | MS_BIND | (MS_RDONLY if read_only else 0)
    for bit, flag in _KEPT_FLAGS:
        if current & bit:
            flags |= flag
    _check(_call("mount", b"none", raw, None, _Long(flags), None),
           f"{'read-only' if read_only else 'writable'} {path}")


def seal(abi: int) -> None:
    """After the mounts: no way to change them back. Root loses CAP_SYS_ADMIN for good (the
    bounding set is inherited across exec); with Landlock, a domain that forbids mounting and
    tracing (or reading /proc/<pid>/root of) any process outside it."""
    if posix.getuid() == 0:
        _check(_call("prctl", _Int(PR_CAPBSET_DROP), _Long(CAP_SYS_ADMIN), _Long(0), _Long(0),
                     _Long(0)), "drop CAP_SYS_ADMIN")
    if abi < 1:
        return
    # struct landlock_ruleset_attr { __u64 handled_access_fs; }, as 8 little-endian bytes
    # (every Landlock architecture here is little-endian; a bytes object is passed as a
    # pointer to its buffer).
    attr = _LANDLOCK_ACCESS_FS_MAKE_BLOCK.to_bytes(8, sys.byteorder)
    fd = _check(_call("syscall", _Long(_SYS_LANDLOCK_CREATE_RULESET), attr, _Long(8), _Int(0)),
                "landlock_create_ruleset")
    try:
        _check(_call("syscall", _Long(_SYS_LANDLOCK_RESTRICT_SELF), _Int(fd), _Int(0)),
               "landlock_restrict_self")
    finally:
        posix.close(fd)

"""What the running kernel offers, and the system calls that build the sandbox.

A mount namespace holds the read-only bind mounts (made by mount(2), keeping the caller's
uid, as bubblewrap does); a user namespace makes that possible without privileges and locks
those mounts for anything the command starts (a mount copied into a less privileged
namespace cannot be unmounted or made writable there). Landlock, when the kernel has it,
adds what namespaces alone leave open: a process in a Landlock domain may not ptrace or open
`/proc/<pid>/root` of a process outside it (the way back into the unrestricted view of the
files), and may not mount or unmount. Only ctypes: no new dependency.
"""

from __future__ import annotations

import ctypes
import posix

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


_libc: ctypes.CDLL | None = None


def _lib() -> ctypes.CDLL:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def _check(result: int, what: str) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise SandboxError(err, f"{what}: {posix.strerror(err)}")
    return result


def landlock_abi() -> int:
    """The Landlock ABI version the kernel offers, 0 when none (or the call is blocked)."""
    lib = _lib()
    lib.syscall.restype = ctypes.c_long
    abi = lib.syscall(ctypes.c_long(_SYS_LANDLOCK_CREATE_RULESET), None, ctypes.c_size_t(0),
                      ctypes.c_uint32(_LANDLOCK_CREATE_RULESET_VERSION))
    return int(abi) if abi > 0 else 0


def unshare_mounts() -> None:
    """A mount namespace of this process's own. As root, only that (the capability to
    change it is dropped before the command runs); otherwise a user namespace too, mapping
    the caller's own uid and gid to themselves, so files keep their owner."""
    lib = _lib()
    uid, gid = posix.getuid(), posix.getgid()
    if uid == 0:
        _check(lib.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    else:
        _check(lib.unshare(CLONE_NEWNS | CLONE_NEWUSER), "unshare(CLONE_NEWUSER|CLONE_NEWNS)")
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"),
                           ("gid_map", f"{gid} {gid} 1")):
            fd = posix.open(f"/proc/self/{name}", posix.O_WRONLY)
            try:
                posix.write(fd, text.encode())
            finally:
                posix.close(fd)
    # Nothing done here may reach the namespace it came from.
    _check(lib.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "mount(/, MS_PRIVATE)")


# statvfs f_flag bits -> mount flags a remount must repeat (in a user namespace they are
# locked, and a remount that drops one is refused).
_KEPT_FLAGS = ((2, 2), (4, 4), (8, 8), (1024, 1024), (2048, 2048), (4096, 1 << 21))


def bind(path: str, read_only: bool) -> None:
    """Bind `path` onto itself, then set it read-only or writable (a bind inside a
    read-only one starts read-only: a writable one gives a subfolder back)."""
    lib = _lib()
    raw = path.encode()
    _check(lib.mount(raw, raw, None, MS_BIND | MS_REC, None), f"bind {path}")
    current = posix.statvfs(path).f_flag
    flags = MS_REMOUNT | MS_BIND | (MS_RDONLY if read_only else 0)
    for bit, flag in _KEPT_FLAGS:
        if current & bit:
            flags |= flag
    _check(lib.mount(b"none", raw, None, flags, None),
           f"{'read-only' if read_only else 'writable'} {path}")


def seal(abi: int) -> None:
    """After the mounts: no way to change them back. Root loses CAP_SYS_ADMIN for good (the
    bounding set is inherited across exec); with Landlock, a domain that forbids mounting and
    tracing (or reading /proc/<pid>/root of) any process outside it."""
    lib = _lib()
    if posix.getuid() == 0:
        _check(lib.prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0), "drop CAP_SYS_ADMIN")
    if abi < 1:
        return
    handled = ctypes.c_uint64(_LANDLOCK_ACCESS_FS_MAKE_BLOCK)
    lib.syscall.restype = ctypes.c_long
    fd = _check(lib.syscall(ctypes.c_long(_SYS_LANDLOCK_CREATE_RULESET), ctypes.byref(handled),
                            ctypes.c_size_t(8), ctypes.c_uint32(0)), "landlock_create_ruleset")
    try:
        _check(lib.syscall(ctypes.c_long(_SYS_LANDLOCK_RESTRICT_SELF), ctypes.c_int(fd),
                           ctypes.c_uint32(0)), "landlock_restrict_self")
    finally:
        posix.close(fd)

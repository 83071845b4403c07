"""Failing open, made visible: a hook that could not decide and let the call go on leaves a
small record in the lock folder, which `guard status`, `guard doctor` and the status line
show until a person acknowledges it (`guard doctor --ack`).

Written on the failure path only: the normal hook path never reads or writes it. One file,
`failed-open.json` (count, first and last time, last error), published whole (temp file +
rename) under a flock on `failed-open.lock`, so concurrent failures are all counted and
readers never see half a record. When the lock folder itself is what is broken, nothing can
be recorded there: the hook's one stderr line says so, and `guard status` / `guard doctor`
find the broken folder when they look (a lock folder that cannot be used fails every call).
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import time

from worktree_guard.core import events
from worktree_guard.core.config import LockDirError, Settings
from worktree_guard.core.printable import printable
from worktree_guard.lite import deadline, fastjson

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

STATE_NAME = "failed-open.json"
_LOCK_NAME = "failed-open.lock"
_MAX_ERROR_CHARS = 300
_MAX_STATE_BYTES = 65_536
_RECORD_DEADLINE_S = 0.5  # the failure path's own bookkeeping, after the hook's deadline


class FailedOpen:
    """What the record says: how often guard failed open, since when, and the last error."""

    __slots__ = ("count", "last_error", "last_ms", "since_ms")

    def __init__(self, count: int, since_ms: int, last_ms: int, last_error: str) -> None:
        self.count = count
        self.since_ms = since_ms
        self.last_ms = last_ms
        self.last_error = last_error

    def as_dict(self) -> dict[str, Any]:
        return {"count": self.count, "since_ms": self.since_ms, "last_ms": self.last_ms,
                "last_error": self.last_error}  # fmt: skip


def state_path(lock_dir: str) -> str:
    return os.path.join(lock_dir, STATE_NAME)


def _open_regular(path: str, flags: int, mode: int = 0o600) -> int:
    """Open without following a link or blocking on a FIFO; only a regular file will do."""
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, mode)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # a symlink
            raise _NotRegular(f"{path} is a symlink") from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise _NotRegular(f"{path} is not a regular file")
    return fd


class _NotRegular(OSError):
    """A FIFO, device or folder where guard keeps a file."""


def _parse(data: bytes, mtime_ms: int) -> FailedOpen:
    try:
        raw = fastjson.loads(data)
    except (ValueError, RecursionError):
        raw = None
    if isinstance(raw, dict):
        count, since, last, error = (raw.get(k) for k in
                                     ("count", "since_ms", "last_ms", "last_error"))  # fmt: skip
        if (isinstance(count, int) and count > 0 and isinstance(since, int)
                and isinstance(last, int) and isinstance(error, str)):  # fmt: skip
            return FailedOpen(count, since, last, error)
    # Something is there but not readable: still a failure nobody has looked at.
    return FailedOpen(1, mtime_ms, mtime_ms, "(the failed-open record is unreadable)")


def read_state(lock_dir: str) -> FailedOpen | None:
    """The record, or None when guard has not failed open since the last acknowledgement."""
    try:
        fd = _open_regular(state_path(lock_dir), os.O_RDONLY)
    except _NotRegular:
        return FailedOpen(1, 0, 0, f"(the failed-open record {state_path(lock_dir)} is not a "
                          "regular file)")
    except OSError:
        return None  # no record (or no lock folder): nothing failed open that was recorded
    try:
        mtime_ms = os.fstat(fd).st_mtime_ns // 1_000_000
        data = os.read(fd, _MAX_STATE_BYTES)
    finally:
        os.close(fd)
    return _parse(data, mtime_ms)


def _publish(lock_dir: str, state: FailedOpen) -> None:
    tmp = os.path.join(lock_dir, f".{STATE_NAME}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, fastjson.dumps(state.as_dict()).encode("utf-8"))
    finally:
        os.close(fd)
    os.replace(tmp, state_path(lock_dir))


class _Locked:
    """The record's flock, on a side file that is never deleted."""

    def __init__(self, lock_dir: str) -> None:
        self.fd = _open_regular(os.path.join(lock_dir, _LOCK_NAME), os.O_RDWR | os.O_CREAT)

    def __enter__(self) -> _Locked:
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(self.fd)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)


def count_failure(lock_dir: str, error: str, now_ms: int) -> FailedOpen:
    """Add one failure to the record (raises OSError when the lock folder is unusable)."""
    os.makedirs(lock_dir, mode=0o700, exist_ok=True)
    error = error[:_MAX_ERROR_CHARS]
    with _Locked(lock_dir):
        before = read_state(lock_dir)
        if before is None:
            state = FailedOpen(1, now_ms, now_ms, error)
        else:
            state = FailedOpen(before.count + 1, before.since_ms, now_ms, error)
        _publish(lock_dir, state)
    return state


def acknowledge(lock_dir: str) -> FailedOpen | None:
    """Clear the record; returns what it said (None: there was nothing to acknowledge)."""
    try:
        locked = _Locked(lock_dir)
    except FileNotFoundError:
        return None  # no lock folder: nothing was ever recorded
    with locked:
        state = read_state(lock_dir)
        if state is not None:
            try:
                os.unlink(state_path(lock_dir))
            except FileNotFoundError:
                pass
    return state


def describe(state: FailedOpen) -> str:
    """The one line every view shows."""
    times = "time" if state.count == 1 else "times"
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(state.since_ms / 1000))
    return f"guard failed open {state.count} {times} since {when}: {printable(state.last_error)}"


def record(settings: Settings, where: str, error: str, closed: bool, **fields: Any) -> str:
    """The failure path's bookkeeping: an `error` event, and when the call was let through,
    one more failure in the record. Bounded in time, never raises. Returns "" when recorded,
    else a few words for the hook's stderr line on why it could not be."""
    try:
        lock_dir = settings.lock_dir
    except LockDirError as exc:
        return f" (not recorded: {exc})"
    problem: list[str] = []
    finished: list[bool] = []

    def write() -> None:
        events.append_event(lock_dir, "error", settings.log_max_bytes, error=error,
                            fail_closed=closed, **fields)  # fmt: skip
        if not closed:
            try:
                count_failure(lock_dir, f"{where}: {error}", time.time_ns() // 1_000_000)
            except OSError as exc:
                problem.append(f"lock folder {printable(lock_dir)} unusable: "
                               f"{exc.strerror or exc}")
        finished.append(True)

    try:
        deadline.run_bounded(_RECORD_DEADLINE_S, write)
    except Exception as exc:  # the failure path must not fail
        problem.append(f"{type(exc).__name__}: {exc}")
    if problem:
        return f" (not recorded: {problem[0]})"
    return "" if finished else " (not recorded: timed out)"

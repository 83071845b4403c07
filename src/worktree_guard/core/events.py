"""The append-only event log: one JSON object a line, next to the leases, capped in size."""

from __future__ import annotations

import time

from worktree_guard.lite import fastjson, system

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

LOG_NAME = "events.jsonl"
_ROTATE_LOCK_NAME = "events.lock"


def log_path(lock_dir: str) -> str:
    return system.join(lock_dir, LOG_NAME)


def append_event(lock_dir: str, event: str, max_bytes: int, **fields: Any) -> None:
    """Append one event; never raises (a log must not break the hook it reports on)."""
    entry: dict[str, Any] = {"ts_ms": time.time_ns() // 1_000_000, "event": event}
    entry.update({k: v for k, v in fields.items() if v is not None})
    line = (fastjson.dumps(entry) + "\n").encode("ascii")
    path = log_path(lock_dir)
    try:
        # One write() of an O_APPEND descriptor: lines from concurrent hooks never interleave.
        # O_NONBLOCK: a FIFO put where the log belongs must not hang the hook.
        flags = (system.O_WRONLY | system.O_APPEND | system.O_CREAT | system.O_NOFOLLOW
                 | system.O_NONBLOCK)
        try:
            fd = system.open(path, flags, 0o600)
        except FileNotFoundError:
            system.makedirs(lock_dir, mode=0o700, exist_ok=True)
            fd = system.open(path, flags, 0o600)
        try:
            st = system.fstat(fd)
            if not system.S_ISREG(st.st_mode):
                return  # not a log we can append to: the event is dropped, the hook goes on
            system.write(fd, line)
            size = st.st_size + len(line)
        finally:
            system.close(fd)
        if size > max_bytes:
            _rotate(lock_dir, max_bytes)
    except (OSError, ValueError, TypeError):
        pass


def _rotate(lock_dir: str, max_bytes: int) -> None:
    """Keep one previous generation: events.jsonl -> events.jsonl.1, under a lock of its own."""
    import fcntl  # rare (the log outgrew its size); an extension module is not free to load

    lock_fd = system.open(
        system.join(lock_dir, _ROTATE_LOCK_NAME),
        system.O_RDWR | system.O_CREAT | system.O_NOFOLLOW,
        0o600,
    )
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        system.close(lock_fd)
        return  # another process is rotating right now
    try:
        path = log_path(lock_dir)
        try:
            if system.lstat(path).st_size > max_bytes:
                system.replace(path, path + ".1")
        except FileNotFoundError:
            pass
    finally:
        system.close(lock_fd)


def parse_event(line: str | bytes) -> dict[str, Any] | None:
    """One line of the log as an event, or None for a line that is not one (a torn write)."""
    try:
        entry = fastjson.loads(line)
    except (ValueError, RecursionError):
        return None
    return entry if isinstance(entry, dict) else None


def read_events(lock_dir: str) -> Iterator[dict[str, Any]]:
    """Every readable event, oldest first, the rotated generation included."""
    path = log_path(lock_dir)
    for name in (path + ".1", path):
        try:
            with open(name, "rb") as fh:
                for line in fh:
                    entry = parse_event(line)
                    if entry is not None:
                        yield entry
        except OSError:
            continue

"""`guard log`: the event log as lines for people or JSON lines for scripts, and `--follow`."""

from __future__ import annotations

import json
import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from worktree_guard.core.events import log_path, parse_event, read_events
from worktree_guard.core.printable import printable

_FOLLOW_POLL_S = 0.5
# Shown first, in this order; the rest follow as key=value.
_LEADING = ("session", "key", "workspace")


def last_events(lock_dir: str, count: int) -> list[dict[str, Any]]:
    return list(deque(read_events(lock_dir), maxlen=max(0, count)))


def no_events_message(lock_dir: str) -> str:
    where = printable(lock_dir)
    if not os.path.isdir(lock_dir):
        return f"no events yet in {where} (the folder does not exist yet; GUARD_LOCK_DIR sets it)"
    return f"no events yet in {where}"


def format_event(entry: dict[str, Any]) -> str:
    """One event as a line: local time, event, then its fields (pure but for the timezone)."""
    ts = entry.get("ts_ms")
    if not isinstance(entry.get("event"), str):
        # Not guard's shape (no event name): shown as it is, and said so.
        raw = json.dumps(entry, default=str, ensure_ascii=False)
        return f"{'(malformed)':<19}  {printable(raw)}"
    when = f"{'(no time)':<19}"  # said plainly, not as "????-??-??"
    if isinstance(ts, (int, float)) and not isinstance(ts, bool):
        try:
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts / 1000))
        except (OverflowError, OSError, ValueError):
            when = f"{'(bad time)':<19}"
    fields = {k: v for k, v in entry.items() if k not in ("ts_ms", "event")}
    ordered = [k for k in _LEADING if k in fields] + [k for k in fields if k not in _LEADING]
    parts = []
    for name in ordered:
        value = fields[name]
        if name in ("session", "holder", "previous_session") and isinstance(value, str):
            value = value[:8]
        shown = str(value)
        if not shown or any(c.isspace() for c in shown):
            shown = json.dumps(shown)  # quoted, so each key=value stays one word
        parts.append(f"{printable(str(name))}={printable(shown)}")
    event = printable(str(entry.get("event", "?")))
    return f"{when}  {event:<11} {' '.join(parts)}".rstrip()


def as_json_line(entry: dict[str, Any]) -> str:
    return json.dumps(entry, separators=(",", ":"), default=str)


def follow(lock_dir: str, stop: Callable[[], bool] = lambda: False) -> Iterator[dict[str, Any]]:
    """New events as they are appended, across rotations, until `stop()` says so."""
    path = log_path(lock_dir)
    position, inode = _end_of(path)
    pending = b""
    while not stop():
        try:
            st = os.stat(path)
        except FileNotFoundError:
            time.sleep(_FOLLOW_POLL_S)
            continue
        if st.st_ino != inode or st.st_size < position:
            position, inode, pending = 0, st.st_ino, b""  # rotated: read the new file whole
        if st.st_size > position:
            with open(path, "rb") as fh:
                fh.seek(position)
                chunk = fh.read()
            position += len(chunk)
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                entry = parse_event(line)
                if entry is not None:
                    yield entry
            continue
        time.sleep(_FOLLOW_POLL_S)


def _end_of(path: str) -> tuple[int, int | None]:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return 0, None
    return st.st_size, st.st_ino

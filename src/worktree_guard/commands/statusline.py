"""`guard statusline`: Claude Code's statusLine JSON in, one short segment out.

Runs after every assistant message, so it reads one lease file and nothing else, and it
never fails loudly: a status line that errors is worse than one that says "?".
"""

from __future__ import annotations

import json
import sys
from typing import Any

from worktree_guard.commands.status import (
    holder_liveness,
    lock_folder_problem,
    store_for,
    summarize,
)
from worktree_guard.core import failopen
from worktree_guard.core.config import LockDirError, load_settings
from worktree_guard.core.lease import now_ms
from worktree_guard.core.printable import printable
from worktree_guard.core.workspace import find_workspace
from worktree_guard.lite import system

_GREEN, _YELLOW, _RED, _RESET = "\033[32m", "\033[33m", "\033[31m", "\033[0m"
_MAX_FAILED_OPEN_CHARS = 120
_FREE = ("free", "expired", "dead")


def _left(ms: int | None) -> str:
    seconds = max(0, ms or 0) // 1000
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def segment(lease: dict[str, Any] | None, color: bool) -> str:
    """The text for one lease summary (see status.summarize); None: not in a git tree."""
    if lease is None:
        text, tint = "guard: no git tree", ""
    elif lease["state"] in _FREE:
        text, tint = "guard: free", _GREEN
    elif lease.get("held_by_you"):
        text, tint = f"guard: held by this session, {_left(lease.get('ttl_left_ms'))} left", _GREEN
    elif lease["state"] == "unreadable":
        text, tint = "guard: held (unreadable lease)", _YELLOW
    else:
        pid = lease.get("pid")
        who = printable(str(lease.get("session_id", "?"))[:8])
        text = f"guard: held by {who}, pid {pid if pid is not None else '?'}"
        tint = _RED
    return f"{tint}{text}{_RESET}" if color and tint else text


def _payload_dir(payload: Any) -> str:
    if isinstance(payload, dict):
        workspace = payload.get("workspace")
        if isinstance(workspace, dict) and isinstance(workspace.get("current_dir"), str):
            return str(workspace["current_dir"])
        if isinstance(payload.get("cwd"), str):
            return str(payload["cwd"])
    return system.getcwd()


def _payload_session(payload: Any) -> str | None:
    # Under `guard run -- claude` the lease belongs to the run's session (as in the hooks).
    wrapped = system.environ().get("GUARD_SESSION_ID", "").strip()
    if wrapped:
        return wrapped
    session = payload.get("session_id") if isinstance(payload, dict) else None
    return session if isinstance(session, str) and session else None


def render(raw: bytes) -> str:
    try:
        payload: Any = json.loads(raw) if raw.strip() else {}
    except ValueError:
        payload = {}
    ws = find_workspace(_payload_dir(payload))
    color = not system.environ().get("NO_COLOR")
    if ws is None:
        return segment(None, color)
    settings = load_settings()
    try:
        lock_dir = settings.lock_dir
    except LockDirError:
        text = "guard: OFF, no lock folder (guard doctor)"
        return f"{_RED}{text}{_RESET}" if color else text
    problem = lock_folder_problem(settings)  # what every hook meets: it fails open
    if problem is not None:
        text = "guard: OFF, lock folder unusable (guard doctor)"
        return f"{_RED}{text}{_RESET}" if color else text
    store = store_for(settings)
    now = now_ms()
    view = store.read(ws.key)
    state = store.state_of(view, _payload_session(payload), now)
    lease = summarize(ws.key, view, state, holder_liveness(view), now, settings.ttl_ms)
    failed = failopen.read_state(lock_dir)
    if failed is not None and lease["state"] in _FREE:
        # "free" in green would say all is well while calls go through unchecked.
        return failed_open_segment(failed, color).removeprefix(" | ")
    return segment(lease, color) + failed_open_segment(failed, color)


def failed_open_segment(state: failopen.FailedOpen | None, color: bool) -> str:
    """Shown after the lease until a person runs `guard doctor --ack`."""
    if state is None:
        return ""
    text = failopen.describe(state)
    if len(text) > _MAX_FAILED_OPEN_CHARS:
        text = text[: _MAX_FAILED_OPEN_CHARS - 3] + "..."
    return f" | {_RED}{text}{_RESET}" if color else f" | {text}"


def run(raw: bytes) -> str:
    try:
        return render(raw)
    except Exception:  # a status line must always print something
        return "guard: ?"


def main() -> int:
    """Entry for `guard statusline`, usable without loading the CLI."""
    sys.stdout.write(run(sys.stdin.buffer.read()) + "\n")
    sys.stdout.flush()
    return 0

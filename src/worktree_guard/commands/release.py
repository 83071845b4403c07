"""`guard release`: give up your own lease, or (`--force`) free whoever holds the tree."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from worktree_guard.core import events
from worktree_guard.core.config import Settings
from worktree_guard.core.decide import LeaseState, describe_holder, holder_facts
from worktree_guard.core.identity import AgentProcess
from worktree_guard.core.lease import LeaseStore, Result, now_ms
from worktree_guard.core.printable import printable
from worktree_guard.core.record import LeaseRecord
from worktree_guard.core.workspace import Workspace


@dataclass(frozen=True)
class ReleaseResult:
    released: bool
    message: str
    exit_code: int


def release(
    settings: Settings,
    ws: Workspace,
    session: str | None,
    force: bool,
    confirm: Callable[[str], bool],
    agent: AgentProcess | None = None,
) -> ReleaseResult:
    """Release the lease of `ws`; `confirm(question)` is asked before freeing a live holder.
    `agent`: the agent process among the caller's ancestors; `--force` is a person's tool."""
    if force and agent is not None:
        return ReleaseResult(False, (
            f"guard release --force is refused here: it runs under an agent "
            f"({agent.kind.name}, process {agent.pid}). Freeing a tree another session holds "
            "is for a person to decide: ask the user to run guard release --force in their "
            "own terminal."
        ), 1)  # fmt: skip
    where = printable(ws.toplevel)
    store = LeaseStore(settings.lock_dir, settings.ttl_ms, settings.lock_timeout_ms)
    view = store.read(ws.key)
    if view is None:
        return ReleaseResult(False, f"{where} is free; nothing to release", 0)
    now = now_ms()
    state = store.state_of(view, session, now)
    holder = describe_holder(holder_facts(view, now))
    holder_session = view.session_id if isinstance(view, LeaseRecord) else None

    if not force:
        if session is None:
            return ReleaseResult(False, (
                f"{where} is held by {holder}.\n"
                "You are in no guard session (GUARD_SESSION_ID is not set), so there is no lease "
                "of yours to release. If that session is gone: guard release --force"
            ), 1)  # fmt: skip
        outcome = store.release(ws.key, session)
        if outcome.result is Result.RELEASED:
            _log(settings, ws, session=session, forced=False)
            return ReleaseResult(True, f"released {where}", 0)
        if outcome.result is Result.NOT_FOUND:
            return ReleaseResult(False, f"{where} is free; nothing to release", 0)
        return ReleaseResult(False, (
            f"{where} is held by {holder}, not by your session {printable(session[:8])}.\n"
            "To free it anyway: guard release --force"
        ), 1)  # fmt: skip

    if state is LeaseState.HELD_BY_OTHER and not confirm(
        f"{where} is held by {holder}, which looks alive. "
        "Freeing it lets another session write while that one still works. Release anyway?"
    ):
        return ReleaseResult(False, "not released", 1)
    outcome = store.force_release(ws.key, expected=view)
    if outcome.result is Result.NOT_HOLDER:
        now_holder = describe_holder(holder_facts(outcome.record, now_ms()))
        return ReleaseResult(False, (
            f"{where} changed hands while you answered: it is now held by {now_holder}. "
            "Nothing was released; run guard release --force again to free that one."
        ), 1)  # fmt: skip
    if outcome.result is not Result.RELEASED:
        return ReleaseResult(False, f"{where} is free; nothing to release", 0)
    _log(settings, ws, session=holder_session, forced=True, previous_state=state.value)
    return ReleaseResult(True, f"released {where} (was held by {holder})", 0)


def _log(settings: Settings, ws: Workspace, **fields: object) -> None:
    events.append_event(settings.lock_dir, "released", settings.log_max_bytes,
                        key=ws.key, workspace=ws.toplevel, via="guard release", **fields)

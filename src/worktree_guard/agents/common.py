"""The shared basics of the agent adapters other than Claude Code's.

An adapter turns its agent's payload into a `ToolCall` (or a session event), asks `Guard`,
and writes the answer in the one form its agent honours. What is the same for every agent
lives here: reading the payload, which tree a call acts on, the lease steps, and the
failure policy (a crash or a bad payload never blocks every call; `GUARD_FAIL_CLOSED=1`
denies instead). Standard library only: this runs on every tool call of every agent.
"""

from __future__ import annotations

import os
import sys

from worktree_guard.core import events
from worktree_guard.core.config import Settings, load_settings
from worktree_guard.core.decide import (
    LeaseState,
    bypass_reason,
    deny_reason,
    hijack_reason,
    holder_facts,
    is_hijack,
    session_start_context,
)
from worktree_guard.core.identity import find_agent_ancestor
from worktree_guard.core.lease import Caller, LeaseStore, Result, now_ms
from worktree_guard.core.record import LeaseRecord
from worktree_guard.core.workspace import Workspace, current_branch, find_workspace
from worktree_guard.lite import deadline, fastjson

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

# Well inside every client's timeout (install sets 10 s for each agent).
DEADLINE_S = 4.0

# What a tool call does, as the core sees it.
FILES = "files"  # writes the files named in `paths`
SHELL = "shell"  # runs `command`
OTHER = "other"  # reads or talks: never guarded


class PayloadError(Exception):
    """The payload is not what the agent sends."""


class ToolCall:
    """One pre-tool call of any agent, in the core's terms."""

    __slots__ = ("command", "cwd", "kind", "paths", "session", "tool")

    def __init__(self, tool: str, kind: str, session: str, cwd: str,
                 paths: tuple[str, ...] = (), command: str | None = None) -> None:
        self.tool = tool
        self.kind = kind
        self.session = session
        self.cwd = cwd
        self.paths = paths  # as the agent gave them: absolute, or relative to cwd
        self.command = command


def read_payload(raw: bytes) -> dict[str, Any]:
    try:
        payload = fastjson.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise PayloadError(f"stdin is not JSON ({type(exc).__name__})") from None
    if not isinstance(payload, dict):
        raise PayloadError("stdin is not a JSON object")
    return payload


def str_field(payload: Mapping[str, Any], name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value:
        raise PayloadError(f"field {name!r} is missing or not a string")
    return value


def optional_str(mapping: Any, name: str) -> str | None:
    value = mapping.get(name) if isinstance(mapping, dict) else None
    return value if isinstance(value, str) and value else None


def nearest_existing_dir(path: str) -> str:
    folder = os.path.dirname(os.path.abspath(path))
    while not os.path.isdir(folder):
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    return folder


def workspaces_of(call: ToolCall) -> list[Workspace]:
    """The trees a call acts on: each named file's tree, else the cwd's; no duplicates."""
    found: list[Workspace] = []
    targets = [nearest_existing_dir(os.path.join(call.cwd, p)) for p in call.paths] or [call.cwd]
    for folder in targets:
        ws = find_workspace(folder)
        if ws is not None and all(w.key != ws.key for w in found):
            found.append(ws)
    return found


class Guard:
    """The lease steps every adapter takes, for one agent (`agent` names it in the record)."""

    def __init__(self, settings: Settings, env: Mapping[str, str], agent: str) -> None:
        self.settings = settings
        self.env = env
        self.agent = agent
        self.store = LeaseStore(settings.lock_dir, settings.ttl_ms, settings.lock_timeout_ms)

    def log(self, event: str, **fields: Any) -> None:
        events.append_event(self.settings.lock_dir, event, self.settings.log_max_bytes,
                            agent=self.agent, **fields)

    def session(self, payload_session: str) -> tuple[str, bool]:
        """The session id, and whether it came from `guard run` (which owns the holder pid)."""
        wrapped = self.env.get("GUARD_SESSION_ID", "").strip()
        return (wrapped, True) if wrapped else (payload_session, False)

    def _holder_caller(self, session: str, wrapped: bool) -> Caller:
        found = None if wrapped else find_agent_ancestor((self.agent,))
        return Caller(session, found[1] if found else None, self.agent)

    def pre_tool(self, call: ToolCall) -> str | None:
        """None to allow the call, or the reason it is denied (the agent's model reads it)."""
        if call.kind == OTHER:
            return None
        session, wrapped = self.session(call.session)
        if call.kind == SHELL:
            if call.command is None:
                return None
            # Loaded only for shell calls: the classifier needs `re`, the file tools do not.
            from worktree_guard.shell.classify import classify_command

            verdict = classify_command(call.command)
            if verdict.disables_git_hooks:
                self.log("denied", session=session, tool=call.tool, cwd=call.cwd,
                         why=f"no git hooks: {verdict.reason}")
                return bypass_reason(verdict.reason)
            # `git worktree add` is the way out a deny offers: it writes only a new tree.
            if verdict.read_only or verdict.only_adds_worktree:
                return None
        caller = self._holder_caller(session, wrapped)
        for ws in workspaces_of(call):
            reason = self._acquire(ws, caller, call.tool)
            if reason is not None:
                return reason
        return None

    def _acquire(self, ws: Workspace, caller: Caller, tool: str) -> str | None:
        branch = current_branch(ws)
        outcome = self.store.acquire(ws.key, caller, ws.toplevel, branch,
                                     self.settings.refresh_interval_ms)
        common = {"session": caller.session_id, "key": ws.key, "workspace": ws.toplevel,
                  "tool": tool}
        previous = outcome.previous
        if outcome.result is Result.BUSY:
            other = outcome.record.session_id if isinstance(outcome.record, LeaseRecord) else None
            self.log("denied", holder=other, **common)
            return deny_reason(ws.toplevel, holder_facts(outcome.record, now_ms()))
        if outcome.result in (Result.ACQUIRED, Result.TOOK_OVER):
            self.log("acquired" if outcome.result is Result.ACQUIRED else "taken_over",
                     previous_state=outcome.previous_state.value if previous else None,
                     previous_session=previous.session_id
                     if isinstance(previous, LeaseRecord) else None,
                     holder_pid=caller.holder.pid if caller.holder else None, **common)
            return None
        seen = previous.branch if isinstance(previous, LeaseRecord) else None
        if previous is not outcome.record and is_hijack(seen, branch):
            assert seen is not None and branch is not None
            self.log("hijack", branch_seen=seen, branch_now=branch, **common)
            return hijack_reason(seen, branch)
        if previous is not outcome.record:
            self.log("refreshed", **common)
        return None

    def refresh(self, payload_session: str, cwd: str, via: str, ran_git: bool = False) -> None:
        session, _ = self.session(payload_session)
        ws = find_workspace(cwd)
        if ws is None:
            return
        # The branch is recorded only after the holder's own git command (hijack detection).
        branch = current_branch(ws) if ran_git else None
        outcome = self.store.refresh(ws.key, session, branch, self.settings.refresh_interval_ms)
        if outcome.result is Result.REFRESHED and outcome.previous is not outcome.record:
            self.log("refreshed", session=session, key=ws.key, via=via)

    def release(self, payload_session: str, cwd: str, reason: str | None) -> None:
        session, wrapped = self.session(payload_session)
        if wrapped:
            return  # `guard run` releases its own lease when its command ends
        ws = find_workspace(cwd)
        if ws is None:
            return
        if self.store.release(ws.key, session).result is Result.RELEASED:
            self.log("released", session=session, key=ws.key, workspace=ws.toplevel,
                     reason=reason)

    def start_context(self, payload_session: str, cwd: str) -> str | None:
        """What a new session should know: another live session holds its tree."""
        session, _ = self.session(payload_session)
        ws = find_workspace(cwd)
        if ws is None:
            return None
        now = now_ms()
        view = self.store.read(ws.key)
        if self.store.state_of(view, session, now) is not LeaseState.HELD_BY_OTHER:
            return None
        return session_start_context(ws.toplevel, holder_facts(view, now))


def ran_git(command: str | None) -> bool:
    """A shell call that runs git may have switched the branch itself."""
    return command is not None and "git" in command


class Answer:
    """What the hook process says: stdout, stderr, exit code."""

    __slots__ = ("exit_code", "stderr", "stdout")

    def __init__(self, stdout: str = "", stderr: str = "", exit_code: int = 0) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self.exit_code = exit_code


ALLOW = Answer()


def run_adapter(
    agent: str,
    handle: Callable[[Guard, dict[str, Any]], Answer],
    deny: Callable[[str], Answer],
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
) -> int:
    """One hook call: never a traceback, never a hang, an exit code the agent reads right.

    `deny` builds the agent's deny answer; on an internal error it is used only under
    `GUARD_FAIL_CLOSED=1` (and only for a pre-tool event), else the call is allowed.
    """
    environ = os.environ if env is None else env
    event = "?"
    deadline.arm(DEADLINE_S)
    try:
        settings = load_settings(environ)
        payload = read_payload(sys.stdin.buffer.read() if stdin is None else stdin)
        raw = payload.get("hook_event_name")
        event = raw if isinstance(raw, str) else "?"
        answer = handle(Guard(settings, environ, agent), payload)
        deadline.disarm()
    except BaseException as exc:  # the failure policy: one line, an event, and a decision
        deadline.disarm()
        answer = failure_answer(agent, environ, event, exc, deny)
    return emit(answer)


def emit(answer: Answer) -> int:
    try:
        if answer.stdout:
            sys.stdout.write(answer.stdout + "\n")
            sys.stdout.flush()
        if answer.stderr:
            sys.stderr.write(answer.stderr + "\n")
            sys.stderr.flush()
    except OSError:
        pass  # the client closed its end: nothing more to say
    return answer.exit_code


def failure_answer(agent: str, env: Mapping[str, str], event: str, exc: BaseException,
                   deny: Callable[[str], Answer]) -> Answer:
    timed_out = isinstance(exc, deadline.DeadlineExceeded)
    what = "timed out" if timed_out else f"{type(exc).__name__}: {exc}"
    try:
        settings: Settings | None = load_settings(env)
    except Exception:  # a settings error is what we are reporting: fall back to the default
        settings = None
    closed = settings.fail_closed if settings is not None else False
    verdict = "denying (GUARD_FAIL_CLOSED=1)" if closed else "allowing"
    from worktree_guard.core import failopen  # the failure path only
    from worktree_guard.core.printable import printable

    unrecorded = (failopen.record(settings, f"{agent} {event} hook", what, closed, agent=agent,
                                  hook_event=event)
                  if settings is not None else " (not recorded: settings unreadable)")
    line = (f"worktree-guard: internal error in {printable(agent)} {printable(event)} hook, "
            f"{verdict}: {printable(what)}{unrecorded}")
    if closed and event not in ("SessionEnd", "sessionEnd", "Stop", "AfterTool", "AfterAgent",
                                "PostToolUse", "postToolUse", "SessionStart"):
        return deny(f"worktree-guard could not decide ({what}) and GUARD_FAIL_CLOSED=1 is set.")
    return Answer(stderr=line)

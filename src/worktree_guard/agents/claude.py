"""`guard hook`: one Claude Code hook payload on stdin, the hook's answer on stdout.

Runs before and after every tool call, so it imports the standard library only and does
no work that grows with the repository or the number of leases.
Exit code is always 0: a deny is the JSON `permissionDecision: "deny"` form, which the
client honours and shows the model; any other exit would fail open without a word.
"""

from __future__ import annotations

import sys

from worktree_guard.agents.common import (
    TreeJudge,
    read_payload,
    release_remote_leases,
    str_field,
    switched_branch,
    tree_of_path,
)
from worktree_guard.core import events
from worktree_guard.core.config import Settings, load_settings
from worktree_guard.core.decide import (
    LeaseState,
    ToolAction,
    bypass_reason,
    classify_tool,
    holder_facts,
    session_start_context,
)
from worktree_guard.core.identity import find_agent
from worktree_guard.core.lease import Caller, LeaseStore, Result, now_ms
from worktree_guard.core.protected import protected_reason
from worktree_guard.core.record import LeaseRecord
from worktree_guard.core.workspace import (
    Workspace,
    current_branch,
    find_workspace,
)
from worktree_guard.lite import deadline, fastjson, system

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from worktree_guard.core.identity import ProcessId

GUARDED_TOOLS = frozenset({"Edit", "Write", "MultiEdit", "NotebookEdit", "Bash"})
# Client tools judged on purpose (Claude Code 2.1.332), by what they change:
# - EnterWorktree, and Agent with `isolation: "worktree"`, make a NEW tree under
#   <project>/.claude/worktrees/ for the session to work in: the way out, allowed for all;
# - ExitWorktree {action: "remove"} deletes the tree the session is in: that tree's lease;
# - CronCreate {durable: true} writes <tree>/.claude/scheduled_tasks.json: the cwd's lease.
CLIENT_TOOLS = frozenset({"EnterWorktree", "ExitWorktree", "Agent", "CronCreate"})
# The whole hook must answer well inside the client's timeout (install sets 10 s).
_DEADLINE_S = 4.0



class HookAnswer:
    __slots__ = ("stdout",)

    def __init__(self, stdout: str = "") -> None:
        self.stdout = stdout


ALLOW = HookAnswer()


def _deny(reason: str) -> HookAnswer:
    body = {
        "hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "permissionDecision": "deny",
            "permissionDecisionReason": reason,
        }
    }
    return HookAnswer(fastjson.dumps(body))


def _target_workspace(payload: dict[str, Any], cwd: str) -> Workspace | None:
    """The tree a call acts on: the edited file's tree for file tools, else the cwd's."""
    tool_input = payload.get("tool_input")
    if isinstance(tool_input, dict):
        for name in ("file_path", "notebook_path"):
            path = tool_input.get(name)
            if isinstance(path, str) and path:
                return tree_of_path(system.join(cwd, path))
    return find_workspace(cwd)


class ClaudeHook(TreeJudge):
    label = "claude-code"

    def __init__(self, settings: Settings, env: Mapping[str, str]) -> None:
        self.settings = settings
        self.env = env
        self.store = LeaseStore(settings.lock_dir, settings.ttl_ms, settings.lock_timeout_ms)

    def log(self, event: str, **fields: Any) -> None:
        events.append_event(self.settings.lock_dir, event, self.settings.log_max_bytes, **fields)

    def holder_process(self, wrapped: bool) -> ProcessId | None:
        return None if wrapped else find_agent(self.env)

    def session_of(self, payload: dict[str, Any]) -> tuple[str, bool]:
        """The session id, and whether it came from `guard run` (which owns the holder pid)."""
        wrapped = self.env.get("GUARD_SESSION_ID", "").strip()
        return (wrapped, True) if wrapped else (str_field(payload, "session_id"), False)

    def handle(self, payload: dict[str, Any]) -> HookAnswer:
        event = str_field(payload, "hook_event_name")
        if event == "PreToolUse":
            return self.pre_tool_use(payload)
        if event in ("PostToolUse", "PostToolUseFailure", "Stop"):
            return self.refresh(payload, event)
        if event == "SessionEnd":
            return self.session_end(payload)
        if event == "SessionStart":
            return self.session_start(payload)
        return ALLOW

    def pre_tool_use(self, payload: dict[str, Any]) -> HookAnswer:
        tool = str_field(payload, "tool_name")
        if tool in CLIENT_TOOLS:
            return self.client_tool(payload, tool)
        if tool not in GUARDED_TOOLS:
            return ALLOW
        cwd = str_field(payload, "cwd")
        session, wrapped = self.session_of(payload)
        read_only, bypass, why = False, False, ""
        command: str | None = None
        if tool == "Bash":
            tool_input = payload.get("tool_input")
            raw = tool_input.get("command") if isinstance(tool_input, dict) else None
            if isinstance(raw, str):
                command = raw
                # Loaded only for Bash: the classifier needs `re`, the file tools do not.
                from worktree_guard.shell.classify import classify_command

                verdict = classify_command(command, (self.settings.lock_dir,))
                read_only = verdict.read_only
                bypass = verdict.disables_git_hooks
                why = verdict.reason
        action = classify_tool(tool, read_only, bypass)
        if tool != "Bash" and action is ToolAction.MUTATING:
            protected = self.protected_target(payload, cwd)
            if protected is not None:
                action, why = ToolAction.BYPASSES_HOOKS, protected
        if action is ToolAction.BYPASSES_HOOKS:
            self.log("denied", session=session, tool=tool, cwd=cwd, why=f"no git hooks: {why}")
            return _deny(bypass_reason(why))
        if action is ToolAction.READ_ONLY:
            return ALLOW
        if command is not None:
            reason = self.judge_shell(command, cwd, session, wrapped, tool)
        else:
            ws = _target_workspace(payload, cwd)
            reason = self.acquire_all([ws] if ws is not None else [], session, wrapped, tool, cwd)
        return ALLOW if reason is None else _deny(reason)

    def client_tool(self, payload: dict[str, Any], tool: str) -> HookAnswer:
        """The client's own tools that change trees (see CLIENT_TOOLS for the rules)."""
        tool_input = payload.get("tool_input")
        args = tool_input if isinstance(tool_input, dict) else {}
        changes_cwd_tree = (
            (tool == "ExitWorktree" and args.get("action") == "remove")
            or (tool == "CronCreate" and args.get("durable") is True)
        )
        if not changes_cwd_tree:
            return ALLOW
        cwd = str_field(payload, "cwd")
        session, wrapped = self.session_of(payload)
        ws = find_workspace(cwd)
        reason = self.acquire_all([ws] if ws else [], session, wrapped, tool, cwd)
        return ALLOW if reason is None else _deny(reason)

    def protected_target(self, payload: dict[str, Any], cwd: str) -> str | None:
        """A file tool aimed at the hooks folder, git's config or the lock folder."""
        tool_input = payload.get("tool_input")
        if not isinstance(tool_input, dict):
            return None
        for name in ("file_path", "notebook_path", "path"):
            path = tool_input.get(name)
            if isinstance(path, str) and path:
                # realpath: a symlink or `..` elsewhere must not hide the folder it reaches.
                reason = protected_reason(system.realpath(system.join(cwd, path)),
                                          self.settings.lock_dir)
                if reason is not None:
                    return reason
        return None

    def _workspaces_of(self, payload: dict[str, Any]) -> list[Workspace]:
        cwd = payload.get("cwd")
        found: list[Workspace] = []
        if isinstance(cwd, str) and cwd:
            ws = _target_workspace(payload, cwd)
            if ws is not None:
                found.append(ws)
        # The project folder does not follow a `cd` in the Bash tool; the lease may be there.
        project = self.env.get("CLAUDE_PROJECT_DIR", "")
        if project and project != cwd:  # mostly the same folder: no second walk then
            ws = find_workspace(project)
            if ws is not None and all(w.key != ws.key for w in found):
                found.append(ws)
        return found

    def refresh(self, payload: dict[str, Any], event: str) -> HookAnswer:
        session, wrapped = self.session_of(payload)
        # Only from the holder's own process tree: a forged payload elsewhere changes nothing.
        holder = None if wrapped else find_agent(self.env)
        tool_input = payload.get("tool_input")
        command = tool_input.get("command") if isinstance(tool_input, dict) else None
        own_git = payload.get("tool_name") == "Bash" and switched_branch(
            command if isinstance(command, str) else None)
        for ws in self._workspaces_of(payload):
            # The branch is recorded only after the holder's own git command: a switch made
            # by someone else while a long command ran must still be reported as a hijack.
            branch = current_branch(ws) if own_git else None
            outcome = self.store.refresh(ws.key, session, branch,
                                         self.settings.refresh_interval_ms, holder)
            if outcome.result is Result.REFRESHED and outcome.previous is not outcome.record:
                self.log("refreshed", session=session, key=ws.key, via=event)
        return ALLOW

    def session_end(self, payload: dict[str, Any]) -> HookAnswer:
        session, wrapped = self.session_of(payload)
        if wrapped:
            return ALLOW  # `guard run` releases its own lease when its command ends
        for ws in self._workspaces_of(payload):
            outcome = self.store.release(ws.key, session, find_agent(self.env))
            if outcome.result is Result.RELEASED:
                reason = payload.get("reason")
                self.log("released", session=session, key=ws.key, workspace=ws.toplevel,
                         reason=reason if isinstance(reason, str) else None)
            release_remote_leases(ws.toplevel, session, self.log)
        return ALLOW

    def session_start(self, payload: dict[str, Any]) -> HookAnswer:
        session, wrapped = self.session_of(payload)
        cwd = str_field(payload, "cwd")
        ws = find_workspace(cwd)
        if ws is None:
            return ALLOW
        now = now_ms()
        view = self.store.read(ws.key)
        agent = None if wrapped else find_agent(self.env)
        state = self.store.state_of(view, session, now, agent)
        resumed = (state is LeaseState.DEAD and isinstance(view, LeaseRecord)
                   and view.session_id == session)
        if (state is LeaseState.HELD_BY_CALLER or resumed) and not wrapped:
            # `claude --resume`: the same session in a new process; record the new holder
            # (the old one is gone: a live one elsewhere would still hold the tree).
            self.store.acquire(ws.key, Caller(session, agent, "claude-code"),
                               ws.toplevel, current_branch(ws))
            return ALLOW
        if state is not LeaseState.HELD_BY_OTHER:
            return ALLOW
        context = session_start_context(ws.toplevel, holder_facts(view, now))
        body = {"hookSpecificOutput": {"hookEventName": "SessionStart",
                                       "additionalContext": context}}
        return HookAnswer(fastjson.dumps(body))


def run(env: Mapping[str, str] | None = None) -> int:
    """The `guard hook` command. Never a traceback, never an exit code but 0, never a hang."""
    environ = system.environ() if env is None else env
    settings = load_settings(environ)
    event = "?"
    deadline.arm(_DEADLINE_S)
    try:
        payload = read_payload(sys.stdin.buffer.read())
        raw_event = payload.get("hook_event_name")
        event = raw_event if isinstance(raw_event, str) else "?"
        answer = ClaudeHook(settings, environ).handle(payload)
        deadline.disarm()
    except BaseException as exc:  # the failure policy: one line, an event, and a decision
        deadline.disarm()
        answer = _failure_answer(settings, event, exc)
    if answer.stdout:
        sys.stdout.write(answer.stdout + "\n")
        sys.stdout.flush()
    return 0


def _failure_answer(settings: Settings, event: str, exc: BaseException) -> HookAnswer:
    from worktree_guard.core import failopen  # the failure path only
    from worktree_guard.core.printable import printable

    timed_out = isinstance(exc, deadline.DeadlineExceeded)
    what = "timed out" if timed_out else f"{type(exc).__name__}: {exc}"
    closed = settings.fail_closed
    verdict = "denying (GUARD_FAIL_CLOSED=1)" if closed else "allowing"
    unrecorded = failopen.record(settings, f"{event} hook", what, closed, hook_event=event)
    print(f"worktree-guard: internal error in {printable(event)} hook, {verdict}: "
          f"{printable(what)}{unrecorded}", file=sys.stderr)  # one line, whatever the error
    if closed and event in ("PreToolUse", "?"):
        return _deny(f"worktree-guard could not decide ({what}) and GUARD_FAIL_CLOSED=1 is set.")
    return ALLOW

"""`guard hook --agent copilot EVENT`: Copilot CLI's hook payload in, its answer out.

Copilot CLI reads two kinds of hook files: its own (`.github/hooks/*.json`, payload
`{sessionId, cwd, toolName, toolArgs}`, the event known only from the installed command)
and Claude Code's settings files (Claude's payload, but the file path in `path`). Both come
here: `guard hook` sends a call to this module when the process that started it is
Copilot's (see `agents/registry.py`).
Under Copilot a crash, exit 1 or a missing command DENIES the call, so this hook always
exits 0; a deny is `{"permissionDecision": "deny", "permissionDecisionReason": R}`.
"""

from __future__ import annotations

from worktree_guard.agents.common import (
    ALLOW,
    FILES,
    OTHER,
    SHELL,
    Answer,
    Guard,
    PayloadError,
    ToolCall,
    optional_str,
    run_adapter,
    str_field,
    switched_branch,
)
from worktree_guard.core.identity import AGENT_COPILOT
from worktree_guard.core.workspace import find_workspace
from worktree_guard.lite import fastjson, system

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

# Native names, and the Claude names Copilot uses when it runs Claude's settings files.
FILE_TOOLS = frozenset({"create", "edit", "Write", "Edit", "MultiEdit"})
SHELL_TOOLS = frozenset({"bash", "Bash"})
# guard's own hook file for Copilot; while it is in a tree, the Claude-file hook stays quiet
# there (Copilot runs both files: one answer per call).
HOOK_FILE = system.join(".github", "hooks", "worktree-guard.json")


def deny(reason: str) -> Answer:
    return Answer(fastjson.dumps({"permissionDecision": "deny",
                                  "permissionDecisionReason": reason}))


def _args(raw: Any) -> dict[str, Any]:
    """toolArgs as an object: Copilot may send it as a JSON string."""
    if isinstance(raw, str):
        try:
            raw = fastjson.loads(raw.encode("utf-8"))
        except (ValueError, RecursionError):
            return {}
    return raw if isinstance(raw, dict) else {}


def _switched(tool: str, args: dict[str, Any]) -> bool:
    return tool in SHELL_TOOLS and switched_branch(optional_str(args, "command"))


def tool_call(tool: str, session: str, cwd: str, args: dict[str, Any]) -> ToolCall:
    if tool in FILE_TOOLS:
        path = optional_str(args, "path") or optional_str(args, "file_path")
        return ToolCall(tool, FILES, session, cwd, (path,) if path else ())
    if tool in SHELL_TOOLS:
        return ToolCall(tool, SHELL, session, cwd, (), optional_str(args, "command"))
    return ToolCall(tool, OTHER, session, cwd)


class _Native:
    """`.github/hooks`: camelCase payload; the event comes from the installed command."""

    def __init__(self, event: str) -> None:
        self.event = event

    def __call__(self, guard: Guard, payload: dict[str, Any]) -> Answer:
        session = str_field(payload, "sessionId")
        cwd = str_field(payload, "cwd")
        tool = optional_str(payload, "toolName") or ""
        args = _args(payload.get("toolArgs"))
        if self.event == "preToolUse":
            reason = guard.pre_tool(tool_call(tool, session, cwd, args))
            return ALLOW if reason is None else deny(reason)
        if self.event == "postToolUse":
            guard.refresh(session, cwd, self.event,
                          switched=_switched(tool, args))
        elif self.event == "sessionEnd":
            guard.release(session, cwd, optional_str(payload, "reason"))
        return ALLOW


def _claude_file(guard: Guard, payload: dict[str, Any]) -> Answer:
    """Claude's settings file run by Copilot: Claude's payload, Copilot's tools and answer."""
    cwd = str_field(payload, "cwd")
    ws = find_workspace(cwd)
    if ws is not None and system.isfile(system.join(ws.toplevel, HOOK_FILE)):
        return ALLOW  # guard's Copilot hook answers this call: one answer, not two
    event = str_field(payload, "hook_event_name")
    session = str_field(payload, "session_id")
    tool = optional_str(payload, "tool_name") or ""
    args = payload.get("tool_input")
    args = args if isinstance(args, dict) else {}
    if event == "PreToolUse":
        reason = guard.pre_tool(tool_call(tool, session, cwd, args))
        return ALLOW if reason is None else deny(reason)
    if event in ("PostToolUse", "PostToolUseFailure", "Stop"):
        guard.refresh(session, cwd, event,
                      switched=_switched(tool, args))
    elif event == "SessionEnd":
        guard.release(session, cwd, optional_str(payload, "reason"))
    return ALLOW


def run(event: str | None = None, env: Mapping[str, str] | None = None,
        stdin: bytes | None = None) -> int:
    """`event` None: Claude's settings file (the event is in the payload)."""
    if event is None:
        handler: Any = _claude_file
    elif event in ("preToolUse", "postToolUse", "sessionEnd"):
        handler = _Native(event)
    else:
        def handler(guard: Guard, payload: dict[str, Any]) -> Answer:
            raise PayloadError(f"unknown Copilot hook event {event!r}")
    run_adapter(AGENT_COPILOT, handler, deny, env, stdin)
    return 0  # whatever happened: a non-zero exit denies under Copilot

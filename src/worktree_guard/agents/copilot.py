"""`guard hook --agent copilot EVENT`: Copilot CLI's hook payload in, its answer out.

Copilot CLI reads two kinds of hook files: its own (`.github/hooks/*.json`, payload
`{sessionId, cwd, toolName, toolArgs}`, the event known only from the installed command)
and Claude Code's settings files (Claude's payload, but the file path in `path`). Both come
here: `guard hook` sends a call to this module when the process that started it is
Copilot's (the agent table, `core/agents.py`, names each agent's process).
Under Copilot a crash, exit 1 or a missing command DENIES the call, so this hook always
exits 0; a deny is `{"permissionDecision": "deny", "permissionDecisionReason": R}`.
"""

from __future__ import annotations

from worktree_guard.agents.common import (
    Answer,
    PayloadError,
    ToolCall,
    optional_str,
    own_hook_answers,
    str_field,
)
from worktree_guard.agents.pipeline import (
    Guard,
    answer_step,
    handle_payload,
    run_adapter,
    steps,
)
from worktree_guard.core.agents import COPILOT
from worktree_guard.core.workspace import find_workspace
from worktree_guard.lite import fastjson, system

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

# Native names, and the Claude names Copilot uses when it runs Claude's settings files.
FILE_TOOLS = frozenset({"create", "edit", "Write", "Edit", "MultiEdit"})
SHELL_TOOLS = frozenset({"bash", "Bash"})
# guard's own hook file for Copilot; while guard's entry there is verifiably installed, the
# Claude-file hook stays quiet (Copilot runs both files: one answer per call).
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


def tool_call(tool: str, session: str, cwd: str, args: dict[str, Any]) -> ToolCall:
    if tool in FILE_TOOLS:
        return ToolCall.files(tool, session, cwd, optional_str(args, "path")
                              or optional_str(args, "file_path"))
    if tool in SHELL_TOOLS:
        return ToolCall.shell(tool, session, cwd, optional_str(args, "command"))
    return ToolCall.other(tool, session, cwd)


NATIVE_STEPS = steps("preToolUse", ("postToolUse",), "sessionEnd")
CLAUDE_STEPS = steps("PreToolUse", ("PostToolUse", "PostToolUseFailure", "Stop"), "SessionEnd")


class _Native:
    """`.github/hooks`: camelCase payload; the event comes from the installed command."""

    def __init__(self, event: str) -> None:
        self.event = event

    def __call__(self, guard: Guard, payload: dict[str, Any]) -> Answer:
        call = tool_call(optional_str(payload, "toolName") or "", str_field(payload, "sessionId"),
                         str_field(payload, "cwd"), _args(payload.get("toolArgs")))
        return answer_step(guard, NATIVE_STEPS.get(self.event), call, deny, via=self.event,
                           reason=optional_str(payload, "reason"))


def _claude_shaped(payload: dict[str, Any]) -> ToolCall:
    args = payload.get("tool_input")
    return tool_call(optional_str(payload, "tool_name") or "", str_field(payload, "session_id"),
                     str_field(payload, "cwd"), args if isinstance(args, dict) else {})


def _claude_file(guard: Guard, payload: dict[str, Any]) -> Answer:
    """Claude's settings file run by Copilot: Claude's payload, Copilot's tools and answer."""
    ws = find_workspace(str_field(payload, "cwd"))
    tool = optional_str(payload, "tool_name") or ""
    if ws is not None and own_hook_answers(ws.toplevel, HOOK_FILE, COPILOT, "preToolUse",
                                           tool, command_key="bash"):
        return Answer()  # guard's Copilot hook answers this call (verified): one answer
    return handle_payload(guard, payload, CLAUDE_STEPS, _claude_shaped, deny)


def run(event: str | None = None, env: Mapping[str, str] | None = None,
        stdin: bytes | None = None, claude_file: bool = False) -> int:
    """`claude_file`: Claude's settings file (the event is in the payload); else the event
    comes from guard's own Copilot hook file's command."""
    if claude_file:
        handler: Any = _claude_file
    elif event in NATIVE_STEPS:
        handler = _Native(event)
    else:
        def handler(guard: Guard, payload: dict[str, Any]) -> Answer:
            raise PayloadError(f"unknown Copilot hook event {event!r}")
    run_adapter(COPILOT, handler, deny, env, stdin, None if claude_file else event)
    return 0  # whatever happened: a non-zero exit denies under Copilot

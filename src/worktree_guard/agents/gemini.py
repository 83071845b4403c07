"""`guard hook --agent gemini`: Gemini CLI's hook payload in, its answer out.

Gemini CLI runs its shell tool with git hooks switched off (`core.hooksPath=''`), so this
hook is the only place its sessions are stopped: `write_file`, `replace` and
`run_shell_command` are judged here like Claude Code's Write, Edit and Bash.
A deny is `{"decision": "deny", "reason": R}` on stdout with exit 0; Gemini CLI ignores
Claude Code's `hookSpecificOutput` form (the call would run), and treats exit 1 or an
exit 2 without output as allow.
"""

from __future__ import annotations

from worktree_guard.agents.common import Answer, ToolCall, optional_str, str_field
from worktree_guard.agents.pipeline import Guard, handle_payload, run_adapter, steps
from worktree_guard.core.agents import GEMINI
from worktree_guard.lite import fastjson, system

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

FILE_TOOLS = frozenset({"write_file", "replace"})
SHELL_TOOL = "run_shell_command"


def deny(reason: str) -> Answer:
    return Answer(fastjson.dumps({"decision": "deny", "reason": reason}))


def tool_call(payload: dict[str, Any]) -> ToolCall:
    tool = optional_str(payload, "tool_name") or ""
    session = str_field(payload, "session_id")
    cwd = str_field(payload, "cwd")
    tool_input = payload.get("tool_input")
    if tool in FILE_TOOLS:
        path = optional_str(tool_input, "file_path")
        return ToolCall.files(tool, session, cwd, path)
    if tool == SHELL_TOOL:
        # The command runs in `dir_path` (relative to the project) when the model names one.
        where = optional_str(tool_input, "dir_path")
        shell_cwd = system.join(cwd, where) if where else cwd
        return ToolCall.shell(tool, session, shell_cwd, optional_str(tool_input, "command"))
    return ToolCall.other(tool, session, cwd)


STEPS = steps("BeforeTool", ("AfterTool", "AfterAgent"), "SessionEnd")


def handle(guard: Guard, payload: dict[str, Any]) -> Answer:
    return handle_payload(guard, payload, STEPS, tool_call, deny)


def run(event: str | None = None, env: Mapping[str, str] | None = None,
        stdin: bytes | None = None, claude_file: bool = False) -> int:
    """`event` is unused: the payload names it. Gemini CLI never runs Claude's files."""
    return run_adapter(GEMINI, handle, deny, env, stdin)

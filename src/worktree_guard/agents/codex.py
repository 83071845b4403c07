"""`guard hook --agent codex`: Codex CLI's hook payload in, its answer out.

Codex's sandboxed shell sees `.git` read-only in another pid namespace, so git hooks do not
guard it: this hook is where its sessions are stopped. `apply_patch` is judged by the files
named inside the patch (relative to the session's cwd), `Bash` by the shell classifier.
A deny is exactly Claude Code's `hookSpecificOutput` form with exit 0: Codex parses the
answer strictly and lets the call run on anything it does not recognise. Codex sends no
SessionEnd when it is killed: the holder process dying is the release then.
"""

from __future__ import annotations

from worktree_guard.agents.common import (
    MCP_PREFIX,
    Answer,
    ToolCall,
    optional_str,
    own_hook_answers,
    patch_paths,
    str_field,
)
from worktree_guard.agents.pipeline import Guard, handle_payload, run_adapter, steps
from worktree_guard.core.agents import CODEX
from worktree_guard.core.workspace import find_workspace
from worktree_guard.lite import fastjson, system

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

PATCH_TOOL = "apply_patch"
SHELL_TOOLS = frozenset({"Bash", "shell", "exec_command", "local_shell"})
def deny(reason: str) -> Answer:
    return Answer(fastjson.dumps({"hookSpecificOutput": {
        "hookEventName": "PreToolUse",
        "permissionDecision": "deny",
        "permissionDecisionReason": reason,
    }}))


def _command_text(tool_input: Any) -> str | None:
    # `exec_command` names its line `cmd`.
    command = (tool_input.get("command", tool_input.get("cmd"))
               if isinstance(tool_input, dict) else None)
    if isinstance(command, list) and all(isinstance(w, str) for w in command):
        import shlex  # only here: it loads `re`, which the patch path does not need

        from worktree_guard.shell.targets import shell_code

        code = shell_code(command)
        if code is not None and command[-1] == code:
            return code  # `["bash", "-lc", CODE]`: the line is CODE, run where Codex says
        return shlex.join(command)  # an argv vector: judge the line it amounts to
    return command if isinstance(command, str) else None


def tool_call(payload: dict[str, Any]) -> ToolCall:
    tool = optional_str(payload, "tool_name") or ""
    session = str_field(payload, "session_id")
    cwd = str_field(payload, "cwd")
    tool_input = payload.get("tool_input")
    if tool == PATCH_TOOL:
        patch = _command_text(tool_input) or optional_str(tool_input, "input") or ""
        # A patch that names no file still writes somewhere: the cwd's tree is asked for.
        return ToolCall.files(tool, session, cwd, *patch_paths(patch))
    if tool in SHELL_TOOLS:
        workdir = optional_str(tool_input, "workdir")
        return ToolCall.shell(tool, session, workdir or cwd, _command_text(tool_input))
    if tool.startswith(MCP_PREFIX):
        return ToolCall.mcp(tool, session, cwd, tool_input)
    return ToolCall.other(tool, session, cwd)


STEPS = steps("PreToolUse", ("PostToolUse", "Stop"), "SessionEnd")


def handle(guard: Guard, payload: dict[str, Any]) -> Answer:
    return handle_payload(guard, payload, STEPS, tool_call, deny)


# guard's own Codex hook, as `guard install` writes it into the tree's hook file.
HOOK_FILE = system.join(".codex", "hooks.json")


def _answered_by_own_hook(payload: dict[str, Any]) -> bool:
    """A `guard hook` Codex runs from the Claude Code plugin, in a tree where guard's Codex
    hook is installed too: that one answers (one answer per call, not two), when guard can
    verify it is there: the file's text alone proves nothing."""
    cwd = optional_str(payload, "cwd")
    ws = find_workspace(cwd) if cwd else None
    return ws is not None and own_hook_answers(
        ws.toplevel, HOOK_FILE, CODEX, "PreToolUse", optional_str(payload, "tool_name") or "")


def _from_plugin(guard: Guard, payload: dict[str, Any]) -> Answer:
    return Answer() if _answered_by_own_hook(payload) else handle(guard, payload)


def run(event: str | None = None, env: Mapping[str, str] | None = None,
        stdin: bytes | None = None, claude_file: bool = False) -> int:
    """`event` is unused: the payload names it. `claude_file`: started as `guard hook` (the
    Claude Code plugin's command) by a Codex process."""
    return run_adapter(CODEX, _from_plugin if claude_file else handle, deny, env, stdin)

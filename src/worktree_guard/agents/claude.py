"""`guard hook`: one Claude Code hook payload on stdin, the hook's answer on stdout.

Claude Code's payload becomes a `ToolCall` for the one pipeline (`agents/pipeline.py`);
this module knows only Claude's tool names, events and answer form. Runs before and after
every tool call, so it imports the standard library only. Exit code is always 0: a deny is
the JSON `permissionDecision: "deny"` form, which the client honours and shows the model;
any other exit would fail open without a word.
"""

from __future__ import annotations

from worktree_guard.agents.common import MCP_PREFIX, Answer, ToolCall, optional_str, str_field
from worktree_guard.agents.pipeline import Guard, handle_payload, run_adapter, steps
from worktree_guard.core.agents import CLAUDE
from worktree_guard.lite import fastjson

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

FILE_TOOLS = frozenset({"Edit", "Write", "MultiEdit", "NotebookEdit"})
SHELL_TOOL = "Bash"
# Client tools judged on purpose (Claude Code 2.1.332), by what they change:
# - EnterWorktree, and Agent with `isolation: "worktree"`, make a NEW tree under
#   <project>/.claude/worktrees/ for the session to work in: the way out, allowed for all;
# - ExitWorktree {action: "remove"} deletes the tree the session is in: that tree's lease;
# - CronCreate {durable: true} writes <tree>/.claude/scheduled_tasks.json: the cwd's lease.
CLIENT_TOOLS = frozenset({"EnterWorktree", "ExitWorktree", "Agent", "CronCreate"})
STEPS = steps("PreToolUse", ("PostToolUse", "PostToolUseFailure", "Stop"), "SessionEnd")


def deny(reason: str, event: str = "PreToolUse") -> Answer:
    return Answer(fastjson.dumps({"hookSpecificOutput": {
        "hookEventName": event,
        "permissionDecision": "deny",
        "permissionDecisionReason": reason,
    }}))


def _changes_cwd_tree(tool: str, args: dict[str, Any]) -> bool:
    return ((tool == "ExitWorktree" and args.get("action") == "remove")
            or (tool == "CronCreate" and args.get("durable") is True))


def tool_call(payload: dict[str, Any], session: str, cwd: str) -> ToolCall:
    """Claude's tool call in the pipeline's terms (`file_path`, or `path` as Copilot names it
    when it runs Claude's settings files)."""
    tool = optional_str(payload, "tool_name") or ""
    raw = payload.get("tool_input")
    args = raw if isinstance(raw, dict) else {}
    if tool in FILE_TOOLS:
        path = (optional_str(args, "file_path") or optional_str(args, "notebook_path")
                or optional_str(args, "path"))
        return ToolCall.files(tool, session, cwd, path)
    if tool == SHELL_TOOL:
        return ToolCall.shell(tool, session, cwd, optional_str(args, "command"))
    if tool.startswith(MCP_PREFIX):
        return ToolCall.mcp(tool, session, cwd, args)
    if tool in CLIENT_TOOLS and _changes_cwd_tree(tool, args):
        return ToolCall.files(tool, session, cwd)  # no path: the cwd's tree
    return ToolCall.other(tool, session, cwd)


def handle(guard: Guard, payload: dict[str, Any]) -> Answer:
    session = str_field(payload, "session_id")
    cwd = str_field(payload, "cwd")
    if payload.get("hook_event_name") == "SessionStart":
        context = guard.session_start(session, cwd)
        if context is None:
            return Answer()
        return Answer(fastjson.dumps({"hookSpecificOutput": {
            "hookEventName": "SessionStart", "additionalContext": context}}))
    return handle_payload(guard, payload, STEPS, lambda p: tool_call(p, session, cwd), deny,
                          project=guard.env.get("CLAUDE_PROJECT_DIR") or None)


def run(event: str | None = None, env: Mapping[str, str] | None = None,
        stdin: bytes | None = None, claude_file: bool = True) -> int:
    """The `guard hook` command. Never a traceback, never an exit code but 0, never a hang.
    `event` is unused: the payload names it; these are Claude's own files."""
    run_adapter(CLAUDE, handle, deny, env, stdin)
    return 0

"""MCP tools are judged too, with the real Claude Code client and a real MCP server over stdio.

A small filesystem-like MCP server (written here, started by the client from
`--mcp-config`) offers `write_file {path, content}`, which really writes, and `note {}`,
which writes a file the call does not name (the path comes from the server's own
environment). Tree A is held by another session; a Claude Code session working in its own
repository B asks the server to write into A (denied, nothing written) and into B (written:
the server does write, so the deny is guard's). The settings are exactly what `guard
install` writes, shell prefix included: the client starts the stdio server through it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .agent_sessions import DENY_PHRASE, base_env, git, result_text
from .fake_model_api import FakeModelAPI, Text, ToolUse, Turn

pytestmark = pytest.mark.e2e

SERVER = r'''
import json, os, sys
def send(msg):
    sys.stdout.write(json.dumps(msg) + "\n"); sys.stdout.flush()
for line in sys.stdin:
    msg = json.loads(line)
    method, ident = msg.get("method"), msg.get("id")
    if method == "initialize":
        send({"jsonrpc": "2.0", "id": ident, "result": {
            "protocolVersion": msg["params"].get("protocolVersion", "2024-11-05"),
            "capabilities": {"tools": {}}, "serverInfo": {"name": "fs", "version": "1"}}})
    elif method == "tools/list":
        send({"jsonrpc": "2.0", "id": ident, "result": {"tools": [{
            "name": "write_file", "description": "Write a file",
            "inputSchema": {"type": "object", "properties": {
                "path": {"type": "string"}, "content": {"type": "string"}},
            "required": ["path", "content"]}}, {
            "name": "note", "description": "Write a note",
            "inputSchema": {"type": "object", "properties": {}}}]}})
    elif method == "tools/call":
        args = msg["params"]["arguments"]
        path = args.get("path") or os.environ["NOTE_PATH"]
        try:
            with open(path, "w") as fh:
                fh.write(args.get("content", "note"))
            text, failed = "written", False
        except OSError as exc:
            text, failed = f"refused: {exc.strerror}", True
        send({"jsonrpc": "2.0", "id": ident, "result": {
            "content": [{"type": "text", "text": text}], "isError": failed}})
    elif ident is not None:
        send({"jsonrpc": "2.0", "id": ident, "result": {}})
'''


def make_repo(path: Path) -> Path:
    path.mkdir()
    git(path, "init", "-q")
    (path / "README.md").write_text("e2e\n")
    git(path, "add", "README.md")
    git(path, "commit", "-q", "-m", "init")
    return path


def test_an_mcp_write_into_a_held_tree_is_denied(tmp_path: Path, claude_bin: Path,
                                                  guard_bin: Path) -> None:
    """Catches: the installed matcher without `mcp__.*` (the client never asks guard), or
    MCP calls passed by the pipeline as calls that change nothing; and a shell prefix that
    is not one program path (the `<python> -ISc ... shell-prefix` string install wrote
    before: the client spawns it whole as a program, the server never starts, and the
    model is told "No such tool available"), seen red on both pinned clients; and the server
    started outside the sandbox (`note`, whose path no call shows, then writes into A:
    seen red with prefix.main running every command unsandboxed)."""
    a = make_repo(tmp_path / "A").resolve()
    b = make_repo(tmp_path / "B").resolve()
    env = {**base_env(tmp_path / "home"), "GIT_CONFIG_NOSYSTEM": "1"}
    done = subprocess.run([str(guard_bin), "install"], cwd=b, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    settings = json.loads((b / ".claude" / "settings.local.json").read_text())
    assert "shell-prefix" in settings["env"]["CLAUDE_CODE_SHELL_PREFIX"], settings
    lock_dir = tmp_path / "locks"
    lock_dir.mkdir()
    holder = {"session_id": "holder-of-a", "cwd": str(a), "hook_event_name": "PreToolUse",
              "tool_name": "Write", "tool_input": {"file_path": str(a / "x"), "content": "x"}}
    held = subprocess.run([str(guard_bin), "hook"], input=json.dumps(holder), text=True,
                          env={**env, "GUARD_LOCK_DIR": str(lock_dir)}, capture_output=True,
                          timeout=60)
    assert held.returncode == 0 and held.stdout == "", held.stderr
    server = tmp_path / "server.py"
    server.write_text(SERVER)
    config = tmp_path / "mcp.json"
    config.write_text(json.dumps({"mcpServers": {"fs": {
        "type": "stdio", "command": sys.executable, "args": [str(server)],
        "env": {"NOTE_PATH": str(a / "noted")}}}}))
    with FakeModelAPI() as api:
        api.scripts.update(m=[
            Turn([ToolUse("mcp__fs__write_file", {"path": str(a / "stolen"), "content": "p"})]),
            Turn([ToolUse("mcp__fs__write_file", {"path": str(b / "own"), "content": "o"})]),
            Turn([ToolUse("mcp__fs__note", {})]),
            Turn([Text("done")]),
        ])
        run_env = {**base_env(tmp_path / "home-m"), "ANTHROPIC_BASE_URL": api.base_url,
                   "ANTHROPIC_API_KEY": "dummy", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
                   "DISABLE_AUTOUPDATER": "1", "IS_SANDBOX": "1",
                   "GUARD_LOCK_DIR": str(lock_dir)}
        (tmp_path / "home-m").mkdir()
        run = subprocess.run(
            [str(claude_bin), "-p", "SCRIPT:m write", "--permission-mode", "bypassPermissions",
             "--mcp-config", str(config), "--strict-mcp-config"],
            cwd=b, env=run_env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
            timeout=300)
        report = f"{run.stdout}\n{run.stderr}"
        assert run.returncode == 0, report
        denied = api.tool_result("m", 0)
        written = api.tool_result("m", 1)
        noted = api.tool_result("m", 2)
    assert denied is not None and denied.get("is_error") is True, (denied, report)
    assert DENY_PHRASE.lower() in result_text(denied).lower(), denied
    assert not (a / "stolen").exists()
    assert written is not None and not written.get("is_error"), (written, report)
    assert (b / "own").read_text() == "o"  # the server really writes: the deny was guard's
    # A call guard cannot judge by its input runs, but in the sandbox the server started in:
    # A is read-only for it (A was held when the session began).
    assert noted is not None and "refused" in result_text(noted), (noted, report)
    assert not (a / "noted").exists()

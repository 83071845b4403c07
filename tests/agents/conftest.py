"""The agents' hook drivers and the two-tree fixture the contract and leak suites share."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import git, installed_launcher, make_repo
from worktree_guard.core.agents import AGENTS


@dataclass
class Driver:
    """One agent's hook: its payloads in, its answers read back."""

    name: str

    def command(self, event: str) -> list[str]:
        if self.name == "claude":
            return installed_launcher().words("hook")
        if self.name == "copilot":
            return installed_launcher().words("hook", "--agent", "copilot", event)
        return installed_launcher().words("hook", "--agent", self.name)

    # ---- payloads -------------------------------------------------------------------------

    def pre(self, session: str, cwd: Path, tool: str, args: dict[str, Any]) -> dict[str, Any]:
        if self.name == "copilot":
            return {"sessionId": session, "timestamp": 1, "cwd": str(cwd), "toolName": tool,
                    "toolArgs": args}
        event = "BeforeTool" if self.name == "gemini" else "PreToolUse"
        return {"session_id": session, "cwd": str(cwd), "hook_event_name": event,
                "tool_name": tool, "tool_input": args, "transcript_path": None}

    def write(self, session: str, cwd: Path, path: Path, edit: bool = False) -> dict[str, Any]:
        """A file tool call writing `path` (an Edit-like one when `edit`)."""
        if self.name == "codex":
            rel = os.path.relpath(path, cwd)
            header = "Update File" if edit else "Add File"
            body = "@@\n-x\n+y\n" if edit else "+y\n"
            patch = f"*** Begin Patch\n*** {header}: {rel}\n{body}*** End Patch\n"
            return self.pre(session, cwd, "apply_patch", {"command": patch})
        tool = {"claude": ("Write", "Edit"), "gemini": ("write_file", "replace"),
                "copilot": ("create", "edit")}[self.name][edit]
        field = "path" if self.name == "copilot" else "file_path"
        return self.pre(session, cwd, tool, {field: str(path), "content": "y\n"})

    def shell(self, session: str, cwd: Path, line: str) -> dict[str, Any]:
        tool = {"claude": "Bash", "codex": "Bash", "gemini": "run_shell_command",
                "copilot": "bash"}[self.name]
        return self.pre(session, cwd, tool, {"command": line})

    # ---- the hook -------------------------------------------------------------------------

    def run(self, payload: dict[str, Any] | bytes, env: dict[str, str],
            event: str = "preToolUse") -> subprocess.CompletedProcess[str]:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        done = subprocess.run(self.command(event), input=data.decode(errors="replace"),
                              env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, (self.name, done.stderr)  # never a non-zero exit
        assert "Traceback" not in done.stderr, done.stderr
        return done

    def denied(self, done: subprocess.CompletedProcess[str]) -> str | None:
        """The deny reason in this agent's own form, or None for an allow."""
        if not done.stdout.strip():
            return None
        answer = json.loads(done.stdout)
        if self.name == "gemini":
            assert answer["decision"] == "deny", answer
            return str(answer["reason"])
        if self.name == "copilot":
            assert answer["permissionDecision"] == "deny", answer
            return str(answer["permissionDecisionReason"])
        inner = answer["hookSpecificOutput"]
        assert inner["permissionDecision"] == "deny", answer
        return str(inner["permissionDecisionReason"])

    def ask(self, payload: dict[str, Any], env: dict[str, str]) -> str | None:
        return self.denied(self.run(payload, env))


DRIVERS = [Driver(agent.name) for agent in AGENTS]
IDS = [d.name for d in DRIVERS]


@pytest.fixture(params=DRIVERS, ids=IDS)
def agent(request: pytest.FixtureRequest) -> Driver:
    driver: Driver = request.param
    return driver


@pytest.fixture
def trees(tmp_path: Path) -> tuple[Path, Path]:
    a = make_repo(tmp_path / "A")
    (a / "README").write_text("x\n")
    git(a, "add", "README")
    git(a, "commit", "-qm", "readme")
    b = tmp_path / "B"
    git(a, "worktree", "add", "-q", str(b), "-b", "feature")
    return a.resolve(), b.resolve()

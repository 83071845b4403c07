"""The hook entry points import the standard library only, and only the cheap parts of it.

Read from `python -X importtime` of the real hook process, started by the command
`guard install` writes (the launcher; pip's console script imports `re` itself, in some pip
versions, before guard runs): Typer, Click and GitPython
must never load on a hook path, and the file-tool path must not pay for `re`, `json`,
`enum`, `dataclasses` or `typing` either (each costs a good part of an interpreter start).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import event, installed_launcher, pre_tool

HEAVY = {"typer", "click", "git", "rich", "pydantic", "gitdb"}
SLOW_STDLIB = {"re", "json", "enum", "dataclasses", "typing", "inspect", "shlex", "secrets",
               "hashlib", "contextlib", "subprocess", "signal", "os"}


def imported_modules(args: list[str], stdin: bytes, env: dict[str, str], cwd: Path) -> set[str]:
    python, *rest = installed_launcher().words(*args)
    done = subprocess.run(  # -I ignores PYTHONPROFILEIMPORTTIME: the option instead
        [python, "-X", "importtime", *rest], input=stdin, capture_output=True, timeout=60,
        cwd=cwd, env=env,
    )
    names = set()
    for line in done.stderr.decode(errors="replace").splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    assert "worktree_guard.entry" in names, done.stderr[-2000:]
    return names


def claude_payloads(repo: Path) -> dict[str, dict[str, object]]:
    return {
        "PreToolUse Write (acquire)": pre_tool("s1", repo),
        "PreToolUse Edit (holder)": pre_tool("s1", repo, "Edit", file_path=str(repo / "README"),
                                             old_string="a", new_string="b"),
        "PreToolUse Write (denied)": pre_tool("s2", repo),
        "PreToolUse Read": pre_tool("s1", repo, "Read", file_path=str(repo / "README")),
        "PostToolUse": {**pre_tool("s1", repo), "hook_event_name": "PostToolUse"},
        "Stop": event("s1", repo, "Stop"),
        "SessionStart": event("s2", repo, "SessionStart", source="startup"),
        "SessionEnd": event("s1", repo, "SessionEnd", reason="other"),
    }


def test_claude_hook_file_paths_import_only_cheap_stdlib(
    repo: Path, guard_env: dict[str, str]
) -> None:
    for name, payload in claude_payloads(repo).items():
        loaded = imported_modules(["hook"], json.dumps(payload).encode(), guard_env, repo)
        assert not loaded & HEAVY, (name, loaded & HEAVY)
        assert not loaded & SLOW_STDLIB, (name, loaded & SLOW_STDLIB)


@pytest.mark.parametrize("command", ["git status", "git commit -m x", "make test"])
def test_claude_hook_bash_path_never_loads_the_cli(
    command: str, repo: Path, guard_env: dict[str, str]
) -> None:
    payload = pre_tool("s1", repo, "Bash", command=command)
    loaded = imported_modules(["hook"], json.dumps(payload).encode(), guard_env, repo)
    assert not loaded & HEAVY
    assert not loaded & SLOW_STDLIB, loaded & SLOW_STDLIB
    assert "worktree_guard.shell" in loaded


def other_agent_payloads(repo: Path) -> dict[tuple[str, ...], dict[str, object]]:
    def gemini(session: str, tool: str, **tool_input: object) -> dict[str, object]:
        return {"session_id": session, "cwd": str(repo), "hook_event_name": "BeforeTool",
                "tool_name": tool, "tool_input": tool_input}

    patch = "*** Begin Patch\n*** Add File: a.txt\n+a\n*** End Patch\n"
    return {
        ("gemini", "write_file"): gemini("g1", "write_file", file_path=str(repo / "a")),
        ("gemini", "denied"): gemini("g2", "replace", file_path=str(repo / "a")),
        ("codex", "apply_patch"): {"session_id": "g1", "cwd": str(repo), "tool_name":
                                   "apply_patch", "hook_event_name": "PreToolUse",
                                   "tool_input": {"command": patch}},
        ("copilot", "preToolUse"): {"sessionId": "g1", "cwd": str(repo), "toolName": "create",
                                    "toolArgs": {"path": str(repo / "b"), "file_text": "b"}},
        ("copilot", "sessionEnd"): {"sessionId": "g1", "cwd": str(repo), "reason": "complete"},
    }


def test_other_agents_file_paths_import_only_cheap_stdlib(
    repo: Path, guard_env: dict[str, str]
) -> None:
    for (agent, what), payload in other_agent_payloads(repo).items():
        args = ["hook", "--agent", agent] + ([what] if agent == "copilot" else [])
        loaded = imported_modules(args, json.dumps(payload).encode(), guard_env, repo)
        assert f"worktree_guard.agents.{agent}" in loaded
        assert not loaded & HEAVY, (agent, what, loaded & HEAVY)
        assert not loaded & SLOW_STDLIB, (agent, what, loaded & SLOW_STDLIB)


def test_the_holders_steady_state_takes_no_lock(repo: Path, guard_env: dict[str, str]) -> None:
    """The call every edit of the holder makes: its fresh lease is read, not locked, so the
    lock module (an extension module, loaded from disk) stays unloaded; taking the tree does
    load it (the control)."""
    first = imported_modules(["hook"], json.dumps(pre_tool("s1", repo)).encode(), guard_env, repo)
    assert "fcntl" in first
    edit = pre_tool("s1", repo, "Edit", file_path=str(repo / "README"), old_string="a",
                    new_string="b")
    again = imported_modules(["hook"], json.dumps(edit).encode(), guard_env, repo)
    assert "fcntl" not in again

"""The real `guard hook --agent copilot EVENT` process fed Copilot CLI's payloads."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import GUARD, installed_launcher, read_lease
from tests.guard_failures import check_answer, check_call
from worktree_guard.install.agent_hooks import SPECS, merge_agent


def copilot_hook(payload: dict[str, Any] | bytes, env: dict[str, str],
                 event: str = "preToolUse", expect_failure: bool | None = None
                 ) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """The real hook; the test fails when guard fails in it (tests/guard_failures.py)."""
    data = json.dumps(payload).encode() if isinstance(payload, dict) else payload
    done = subprocess.run([GUARD, "hook", "--agent", "copilot", event], input=data.decode(),
                          env=env, capture_output=True, text=True, timeout=60)
    check_answer("copilot", payload if event == "preToolUse" else None, bool(done.stdout.strip()),
                 done.stderr, env, expect_failure)
    return done


def pre_tool(session: str, repo: Path, tool: str, args: Any) -> dict[str, Any]:
    return {"sessionId": session, "timestamp": 1, "cwd": str(repo), "toolName": tool,
            "toolArgs": args}


def denied_reason(done: subprocess.CompletedProcess[str]) -> str | None:
    assert done.returncode == 0, done.stderr  # any other exit DENIES under Copilot
    if not done.stdout.strip():
        return None
    answer = json.loads(done.stdout)
    assert answer["permissionDecision"] == "deny", answer
    return str(answer["permissionDecisionReason"])


def test_create_edit_and_bash_of_a_second_session_are_denied(
        repo: Path, guard_env: dict[str, str], lock_dir: Path) -> None:
    first = pre_tool("p1", repo, "create", {"path": str(repo / "a.txt"), "file_text": "a"})
    assert denied_reason(copilot_hook(first, guard_env)) is None
    assert read_lease(lock_dir)["agent"] == "copilot"
    for tool, args in (("create", {"path": str(repo / "b.txt"), "file_text": "b"}),
                       ("edit", {"path": "README.md", "old_str": "e", "new_str": "f"}),
                       ("bash", {"command": "rm README.md"}),
                       # toolArgs as a JSON string, as some Copilot versions send it
                       ("bash", json.dumps({"command": "touch x"}))):
        reason = denied_reason(copilot_hook(pre_tool("p2", repo, tool, args), guard_env))
        assert reason is not None and "holds this working tree" in reason, (tool, args)
    view = pre_tool("p2", repo, "view", {"path": "README.md"})
    assert denied_reason(copilot_hook(view, guard_env)) is None
    ls = pre_tool("p2", repo, "bash", {"command": "git status"})
    assert denied_reason(copilot_hook(ls, guard_env)) is None
    assert read_lease(lock_dir)["session_id"] == "p1"  # a read takes nothing


def test_session_end_frees_the_tree(repo: Path, guard_env: dict[str, str]) -> None:
    create = {"path": str(repo / "a.txt"), "file_text": "a"}
    assert denied_reason(copilot_hook(pre_tool("p1", repo, "create", create), guard_env)) is None
    end = {"sessionId": "p1", "timestamp": 2, "cwd": str(repo), "reason": "complete"}
    assert copilot_hook(end, guard_env, "sessionEnd").stdout == ""
    assert denied_reason(copilot_hook(pre_tool("p2", repo, "create", create), guard_env)) is None


@pytest.mark.guard_fails  # the failure policy itself
@pytest.mark.parametrize("raw", [b"", b"garbage", b"[1]", b'{"toolName": "create"}'])
@pytest.mark.parametrize("event", ["preToolUse", "postToolUse", "sessionEnd", "noSuchEvent"])
def test_never_a_non_zero_exit_whatever_comes_in(raw: bytes, event: str, repo: Path,
                                                 guard_env: dict[str, str]) -> None:
    done = copilot_hook(raw, guard_env, event)
    assert done.returncode == 0 and done.stdout == ""
    assert "Traceback" not in done.stderr


@pytest.mark.guard_fails  # the failure policy itself
def test_a_broken_lock_folder_still_exits_0(repo: Path, guard_env: dict[str, str],
                                            tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    env = {**guard_env, "GUARD_LOCK_DIR": str(blocker / "locks")}
    create = {"path": str(repo / "a.txt"), "file_text": "a"}
    done = copilot_hook(pre_tool("p1", repo, "create", create), env)
    assert done.returncode == 0 and done.stdout == "" and "internal error" in done.stderr
    closed = copilot_hook(pre_tool("p1", repo, "create", create),
                          {**env, "GUARD_FAIL_CLOSED": "1"})
    reason = denied_reason(closed)
    assert reason is not None and "could not decide" in reason


def test_an_unknown_agent_name_allows(repo: Path, guard_env: dict[str, str]) -> None:
    done = subprocess.run([GUARD, "hook", "--agent", "nope"], input="{}", env=guard_env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == "" and "unknown agent" in done.stderr


# A stand-in for Copilot's native process as /proc shows it: argv[0] `copilot`, main thread
# named `MainThread`; it starts `guard hook` (Claude's settings-file command) as Copilot does.
_AS_COPILOT = """
import ctypes, subprocess, sys
ctypes.CDLL(None).prctl(15, b"MainThread", 0, 0, 0)  # PR_SET_NAME
done = subprocess.run([sys.argv[1], "hook"], input=sys.stdin.buffer.read(),
                      capture_output=True)
sys.stdout.buffer.write(done.stdout)
sys.stderr.buffer.write(done.stderr)
"""


def claude_file_hook_under(argv0: str, payload: dict[str, Any], env: dict[str, str]
                           ) -> subprocess.CompletedProcess[str]:
    import sys

    done = subprocess.run(["bash", "-c", f'exec -a {argv0} "$0" -c "$1" "$2"', sys.executable,
                           _AS_COPILOT, GUARD], input=json.dumps(payload), env=env,
                          capture_output=True, text=True, timeout=60)
    check_call(done.stderr, env, what=f"guard hook under {argv0}")
    return done


def claude_shaped(session: str, repo: Path, tool: str, **tool_input: Any) -> dict[str, Any]:
    return {"session_id": session, "cwd": str(repo), "hook_event_name": "PreToolUse",
            "tool_name": tool, "tool_input": tool_input}


def test_the_claude_file_hook_knows_copilot_by_its_process(
        repo: Path, guard_env: dict[str, str], lock_dir: Path) -> None:
    # Copilot's Claude-file calls name the file in `path`: judged as Copilot's own.
    first = claude_shaped("p1", repo, "Write", path=str(repo / "a.txt"), file_text="a")
    assert claude_file_hook_under("copilot", first, guard_env).stdout == ""
    assert read_lease(lock_dir)["agent"] == "copilot"
    # Its stand-in process has ended, so the tree is free again; a session with no agent
    # process found (liveness unknown: held while fresh) takes it.
    taker = claude_shaped("c1", repo, "Write", file_path=str(repo / "c.txt"), content="c")
    assert claude_file_hook_under("not-copilot", taker, guard_env).stdout == ""
    assert read_lease(lock_dir)["session_id"] == "c1"
    second = claude_shaped("p2", repo, "Edit", path="README.md", old_str="e", new_str="f")
    reason = denied_reason(claude_file_hook_under("copilot", second, guard_env))
    assert reason is not None and "holds this working tree" in reason
    # The same payload from another process is Claude Code's, answered in Claude's form.
    as_claude = claude_file_hook_under("not-copilot", second, guard_env)
    answer = json.loads(as_claude.stdout)
    assert answer["hookSpecificOutput"]["permissionDecision"] == "deny"


def test_the_claude_file_hook_leaves_copilot_to_guards_copilot_hook(
        repo: Path, guard_env: dict[str, str], lock_dir: Path) -> None:
    """Guard's own Copilot hook file, as install writes it, answers: the Claude-file hook
    stays quiet. Catches: both answering (two answers per call)."""
    hook_file = repo / ".github" / "hooks" / "worktree-guard.json"
    hook_file.parent.mkdir(parents=True)
    data = merge_agent({}, SPECS["copilot"], installed_launcher(), "worktree-guard.json")
    hook_file.write_text(json.dumps(data))
    first = claude_shaped("p1", repo, "Write", path=str(repo / "a.txt"), file_text="a")
    done = claude_file_hook_under("copilot", first, guard_env)
    assert done.returncode == 0 and done.stdout == ""
    assert not list(lock_dir.glob("session-lock-*.json"))  # one answer per call: not this one


@pytest.mark.parametrize("text", [
    "", "{}", '{"version": 1, "hooks": {"preToolUse": [{"bash": "echo hook --agent copilot"}]}}',
    '{"version": 1, "hooks": {"preToolUse": [{"bash": "/nowhere/guard hook --agent copilot '
    'preToolUse"}]}}',
])
def test_a_copilot_hook_file_guard_cannot_verify_does_not_silence_guard(
        text: str, tmp_path: Path, guard_env: dict[str, str]) -> None:
    """An empty (or forged) `.github/hooks/worktree-guard.json` in b's own tree is no guard
    hook: every Copilot call through Claude's settings file is still judged.
    Catches: the old check (the file exists: stay quiet), which let every such call pass."""
    from tests.conftest import make_repo

    repo = make_repo(tmp_path / "r")
    first = claude_shaped("p1", repo, "Write", path=str(repo / "a.txt"), file_text="a")
    # Taken by a session without a process to outlive (held until its ttl).
    assert claude_file_hook_under("not-copilot", first, guard_env).stdout == ""
    hook_file = repo / ".github" / "hooks" / "worktree-guard.json"
    hook_file.parent.mkdir(parents=True)
    hook_file.write_text(text)
    second = claude_shaped("p2", repo, "Write", path=str(repo / "b.txt"), file_text="b")
    assert denied_reason(claude_file_hook_under("copilot", second, guard_env)) is not None

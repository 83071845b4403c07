"""The real `guard hook --agent gemini` process fed Gemini CLI's payloads, in real repos."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import GUARD, make_repo, read_lease, read_log
from tests.guard_failures import check_answer


def gemini_hook(payload: dict[str, Any] | bytes, env: dict[str, str],
                expect_failure: bool | None = None
                ) -> subprocess.CompletedProcess[str]:
    """The real hook; the test fails when guard fails in it (tests/guard_failures.py)."""
    data = json.dumps(payload).encode() if isinstance(payload, dict) else payload
    done = subprocess.run([GUARD, "hook", "--agent", "gemini"], input=data.decode(), env=env,
                          capture_output=True, text=True, timeout=60)
    check_answer("gemini", payload, bool(done.stdout.strip()), done.stderr, env, expect_failure)
    return done


def before_tool(session: str, repo: Path, tool: str = "write_file",
                **tool_input: Any) -> dict[str, Any]:
    tool_input = tool_input or {"file_path": str(repo / "f.txt"), "content": "x\n"}
    return {"session_id": session, "transcript_path": "/dev/null", "cwd": str(repo),
            "hook_event_name": "BeforeTool", "timestamp": "2026-01-01T00:00:00Z",
            "tool_name": tool, "tool_input": tool_input}


def denied_reason(done: subprocess.CompletedProcess[str]) -> str | None:
    assert done.returncode == 0, done.stderr
    if not done.stdout.strip():
        return None
    answer = json.loads(done.stdout)
    # Gemini's own form: Claude's hookSpecificOutput would let the call run.
    assert set(answer) == {"decision", "reason"} and answer["decision"] == "deny", answer
    return str(answer["reason"])


def test_a_second_session_is_denied_in_gemini_form(repo: Path, guard_env: dict[str, str],
                                                   lock_dir: Path) -> None:
    assert denied_reason(gemini_hook(before_tool("g1", repo), guard_env)) is None
    assert read_lease(lock_dir)["session_id"] == "g1"
    assert read_lease(lock_dir)["agent"] == "gemini"
    for payload in (before_tool("g2", repo),
                    before_tool("g2", repo, "replace", file_path="README.md", old_string="a",
                                new_string="b"),
                    before_tool("g2", repo, "run_shell_command", command="touch x")):
        reason = denied_reason(gemini_hook(payload, guard_env))
        assert reason is not None and "holds this working tree" in reason, payload
    # Reading is never guarded; a read-only shell command neither.
    for payload in (before_tool("g2", repo, "read_file", file_path="README.md"),
                    before_tool("g2", repo, "run_shell_command", command="git status")):
        assert denied_reason(gemini_hook(payload, guard_env)) is None
        assert read_lease(lock_dir)["session_id"] == "g1"  # a read takes nothing


def test_a_shell_command_that_switches_git_hooks_off_is_denied_even_to_the_holder(
        repo: Path, guard_env: dict[str, str]) -> None:
    assert denied_reason(gemini_hook(before_tool("g1", repo), guard_env)) is None
    for command in ("git commit --no-verify -m x", "git -c core.hooksPath=/dev/null commit"):
        reason = denied_reason(gemini_hook(
            before_tool("g1", repo, "run_shell_command", command=command), guard_env))
        assert reason is not None and "git hooks" in reason, command


def test_a_file_in_another_tree_takes_that_trees_lease(tmp_path: Path, repo: Path,
                                                       guard_env: dict[str, str]) -> None:
    other = make_repo(tmp_path / "other")
    assert denied_reason(gemini_hook(before_tool("g1", other), guard_env)) is None
    # g2 works in `repo` but writes into `other`: the lease of `other` is what counts.
    payload = before_tool("g2", repo, file_path=str(other / "x.txt"), content="x")
    assert denied_reason(gemini_hook(payload, guard_env)) is not None
    shell_there = before_tool("g2", repo, "run_shell_command", command="touch y",
                              dir_path=str(other))
    assert denied_reason(gemini_hook(shell_there, guard_env)) is not None
    assert denied_reason(gemini_hook(before_tool("g2", repo), guard_env)) is None


def test_session_end_frees_the_tree(repo: Path, guard_env: dict[str, str],
                                    lock_dir: Path) -> None:
    assert denied_reason(gemini_hook(before_tool("g1", repo), guard_env)) is None
    end = {"session_id": "g1", "cwd": str(repo), "hook_event_name": "SessionEnd",
           "reason": "exit"}
    assert denied_reason(gemini_hook(end, guard_env)) is None
    assert denied_reason(gemini_hook(before_tool("g2", repo), guard_env)) is None
    assert any(e["event"] == "released" and e.get("agent") == "gemini"
               for e in read_log(lock_dir))


@pytest.mark.guard_fails  # the failure policy itself
def test_bad_input_allows_with_one_line_and_exit_0(repo: Path, guard_env: dict[str, str]
                                                   ) -> None:
    for raw in (b"", b"garbage", b"[]", json.dumps({"hook_event_name": "BeforeTool"}).encode()):
        done = gemini_hook(raw, guard_env)
        assert done.returncode == 0 and done.stdout == "", raw
        assert "internal error" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.guard_fails  # the failure policy itself
def test_fail_closed_denies_in_gemini_form(repo: Path, guard_env: dict[str, str]) -> None:
    done = gemini_hook(b"garbage", {**guard_env, "GUARD_FAIL_CLOSED": "1"})
    reason = denied_reason(done)
    assert reason is not None and "could not decide" in reason

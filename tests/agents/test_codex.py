"""The real `guard hook --agent codex` process fed Codex CLI's payloads, in real repos."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import GUARD, installed_launcher, make_repo, read_lease
from tests.guard_failures import check_answer
from worktree_guard.install.agent_hooks import SPECS, merge_agent

PATCH = """*** Begin Patch
*** Add File: {add}
+hello
*** Update File: {update}
@@
-a
+b
*** End Patch
"""


def codex_hook(payload: dict[str, Any] | bytes, env: dict[str, str],
               expect_failure: bool | None = None
               ) -> subprocess.CompletedProcess[str]:
    """The real hook; the test fails when guard fails in it (tests/guard_failures.py)."""
    data = json.dumps(payload).encode() if isinstance(payload, dict) else payload
    done = subprocess.run([GUARD, "hook", "--agent", "codex"], input=data.decode(), env=env,
                          capture_output=True, text=True, timeout=60)
    check_answer("codex", payload, bool(done.stdout.strip()), done.stderr, env, expect_failure)
    return done


def pre_tool(session: str, repo: Path, tool: str, **tool_input: Any) -> dict[str, Any]:
    return {"session_id": session, "turn_id": "t1", "transcript_path": None, "cwd": str(repo),
            "hook_event_name": "PreToolUse", "model": "m", "permission_mode": "default",
            "tool_name": tool, "tool_input": tool_input, "tool_use_id": "call_1"}


def denied_reason(done: subprocess.CompletedProcess[str]) -> str | None:
    assert done.returncode == 0, done.stderr
    if not done.stdout.strip():
        return None
    answer = json.loads(done.stdout)
    # Exactly the form Codex parses; anything else it lets run.
    assert list(answer) == ["hookSpecificOutput"], answer
    inner = answer["hookSpecificOutput"]
    assert inner["hookEventName"] == "PreToolUse" and inner["permissionDecision"] == "deny"
    assert set(inner) == {"hookEventName", "permissionDecision", "permissionDecisionReason"}
    return str(inner["permissionDecisionReason"])


def patch(add: str, update: str = "README.md") -> str:
    return PATCH.format(add=add, update=update)


def test_apply_patch_takes_the_lease_and_a_second_session_is_denied(
        repo: Path, guard_env: dict[str, str], lock_dir: Path) -> None:
    first = pre_tool("c1", repo, "apply_patch", command=patch("new.txt"))
    assert denied_reason(codex_hook(first, guard_env)) is None
    lease = read_lease(lock_dir)
    assert lease["session_id"] == "c1" and lease["agent"] == "codex"
    second = pre_tool("c2", repo, "apply_patch", command=patch("other.txt"))
    reason = denied_reason(codex_hook(second, guard_env))
    assert reason is not None and "holds this working tree" in reason and "codex" in reason
    for command in ("touch x", ["bash", "-lc", "echo hi > x"]):
        assert denied_reason(codex_hook(pre_tool("c2", repo, "Bash", command=command),
                                        guard_env)) is not None, command
    assert denied_reason(codex_hook(pre_tool("c2", repo, "Bash", command="git log -1"),
                                    guard_env)) is None
    assert read_lease(lock_dir)["session_id"] == "c1"  # a read takes nothing


def test_a_patch_is_judged_by_every_file_it_names(tmp_path: Path, repo: Path,
                                                  guard_env: dict[str, str]) -> None:
    other = make_repo(tmp_path / "other")
    held = pre_tool("c1", other, "apply_patch", command=patch("x.txt"))
    assert denied_reason(codex_hook(held, guard_env)) is None
    # c2 works in `repo`; the patch's second file is in `other`, which c1 holds.
    sneaky = patch("fine.txt", update=str(other / "README.md"))
    reason = denied_reason(codex_hook(pre_tool("c2", repo, "apply_patch", command=sneaky),
                                      guard_env))
    assert reason is not None and str(other) in reason
    moved = PATCH.replace("*** Add File: {add}\n+hello\n", "").format(update="README.md")
    moved = moved.replace("@@", f"*** Move to: {other}/moved.md\n@@")
    assert denied_reason(codex_hook(pre_tool("c2", repo, "apply_patch", command=moved),
                                    guard_env)) is not None


def test_a_patch_naming_no_file_still_needs_the_cwd_tree(repo: Path, guard_env: dict[str, str]
                                                        ) -> None:
    assert denied_reason(codex_hook(pre_tool("c1", repo, "apply_patch", command=patch("a")),
                                    guard_env)) is None
    garbled = pre_tool("c2", repo, "apply_patch", command="*** Begin Patch\n???")
    assert denied_reason(codex_hook(garbled, guard_env)) is not None


@pytest.mark.parametrize("command", ["git commit --no-verify -m x",
                                     "git -c core.hooksPath=/dev/null push"])
def test_switching_git_hooks_off_is_denied(command: str, repo: Path,
                                           guard_env: dict[str, str]) -> None:
    reason = denied_reason(codex_hook(pre_tool("c1", repo, "Bash", command=command), guard_env))
    assert reason is not None and "git hooks" in reason


def test_session_end_releases_and_stop_refreshes(repo: Path, guard_env: dict[str, str],
                                                 lock_dir: Path) -> None:
    assert denied_reason(codex_hook(pre_tool("c1", repo, "apply_patch", command=patch("a")),
                                    guard_env)) is None
    stop = {"session_id": "c1", "cwd": str(repo), "hook_event_name": "Stop"}
    assert codex_hook(stop, guard_env).stdout == ""
    end = {"session_id": "c1", "cwd": str(repo), "hook_event_name": "SessionEnd",
           "reason": "other"}
    assert codex_hook(end, guard_env).stdout == ""
    assert denied_reason(codex_hook(pre_tool("c2", repo, "apply_patch", command=patch("b")),
                                    guard_env)) is None


@pytest.mark.guard_fails  # the failure policy itself
def test_bad_input_allows_silently_on_stdout(repo: Path, guard_env: dict[str, str]) -> None:
    for raw in (b"", b"{", b"null", json.dumps({"hook_event_name": "PreToolUse"}).encode()):
        done = codex_hook(raw, guard_env)
        assert done.returncode == 0 and done.stdout == "", raw
        assert "internal error" in done.stderr and "Traceback" not in done.stderr


# A stand-in for Codex's native process as /proc shows it (comm `codex`), starting the
# Claude Code plugin's command `guard hook` the way Codex does when it loads that plugin.
_AS_AGENT = """
import ctypes, subprocess, sys
ctypes.CDLL(None).prctl(15, sys.argv[2].encode(), 0, 0, 0)  # PR_SET_NAME
done = subprocess.run([sys.argv[1], "hook"], input=sys.stdin.buffer.read(),
                      capture_output=True)
sys.stdout.buffer.write(done.stdout)
sys.stderr.buffer.write(done.stderr)
"""


def plugin_hook_under(comm: str, payload: dict[str, Any], env: dict[str, str]
                      ) -> subprocess.CompletedProcess[str]:
    import sys

    return subprocess.run([sys.executable, "-c", _AS_AGENT, GUARD, comm],
                          input=json.dumps(payload), env=env, capture_output=True, text=True,
                          timeout=60)


def test_the_plugin_hook_knows_codex_by_its_process(repo: Path, guard_env: dict[str, str],
                                                    lock_dir: Path) -> None:
    first = pre_tool("c1", repo, "Bash", command="touch x")
    assert plugin_hook_under("codex", first, guard_env).stdout == ""
    assert read_lease(lock_dir)["agent"] == "codex"


FORGED_CODEX_FILES = [
    "",
    "hook --agent codex",
    '{"hooks": {}}',
    '{"hooks": {"PreToolUse": [{"hooks": [{"command": "/x/guard hook --agent codex"}]}]}}',
    '{"hooks": {"PreToolUse": [{"hooks": [{"command": "true hook --agent codex"}]}]}}',
]


def test_the_plugin_hook_leaves_codex_to_guards_codex_hook(
        repo: Path, guard_env: dict[str, str], lock_dir: Path) -> None:
    """Guard's own Codex hook, as install writes it, answers: the plugin's stays quiet.
    Catches: the plugin answering too (two answers per call)."""
    (repo / ".codex").mkdir()
    data = merge_agent({}, SPECS["codex"], installed_launcher(), "hooks.json")
    (repo / ".codex" / "hooks.json").write_text(json.dumps(data))
    done = plugin_hook_under("codex", pre_tool("c1", repo, "Bash", command="touch x"),
                             guard_env)
    assert done.returncode == 0 and done.stdout == ""
    assert not list(lock_dir.glob("session-lock-*.json"))  # answered once, by that hook
    # Guard's entry whose matcher no longer covers the tool answers nothing for it.
    data["hooks"]["PreToolUse"][0]["matcher"] = "apply_patch"
    (repo / ".codex" / "hooks.json").write_text(json.dumps(data))
    plugin_hook_under("codex", pre_tool("c1", repo, "Bash", command="touch x"), guard_env)
    assert read_lease(lock_dir)["agent"] == "codex"


@pytest.mark.parametrize("text", FORGED_CODEX_FILES)
def test_a_hooks_file_guard_cannot_verify_does_not_silence_the_plugin(
        text: str, tmp_path: Path, guard_env: dict[str, str]) -> None:
    """A `.codex/hooks.json` that merely holds the words, names a guard that is not there, or
    is empty, is no guard hook: the plugin still judges the call (b is denied in a's tree).
    Catches: the old check `b"hook --agent codex" in file` (the text alone silenced guard)."""
    repo = make_repo(tmp_path / "r")
    # Taken by a session without a process to outlive (held until its ttl).
    assert codex_hook(pre_tool("c1", repo, "Bash", command="touch x"), guard_env).stdout == ""
    (repo / ".codex").mkdir()
    (repo / ".codex" / "hooks.json").write_text(text)
    done = plugin_hook_under("codex", pre_tool("c2", repo, "Bash", command="touch y"),
                             guard_env)
    assert denied_reason(done) is not None, text

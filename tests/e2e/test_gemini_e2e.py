"""Gemini CLI and Claude Code in one working tree, with the real clients.

Gemini CLI runs its shell with git hooks switched off, and lets a call run when a hook
answers in Claude Code's form: its pre-tool hook, installed by `guard install`, is the one
place its sessions are stopped. Proven here on the real client (pinned below) against a
stand-in for the Gemini API on 127.0.0.1:

* while a Claude Code session holds the tree, a Gemini session's write_file and its
  mutating run_shell_command are denied: nothing is written, its model reads the reason;
* once the Claude session has ended, a Gemini session writes; it holds the tree while it
  lives, so a Claude Code session is denied; its SessionEnd frees the tree.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from .agent_sessions import (
    DENY_PHRASE,
    RUN_TIMEOUT_S,
    AgentRun,
    base_env,
    events_of,
    events_report,
    guard_install,
    make_repo,
    new_home,
    pinned_client,
    result_text,
    start,
    start_claude,
)
from .fake_gemini_api import FakeGeminiAPI
from .fake_model_api import FakeModelAPI, Gate, Text, ToolUse, Turn

pytestmark = pytest.mark.e2e

GEMINI_VERSION = "0.61.0"
# A fixed model: "auto" would first ask a routing classifier for every turn.
GEMINI_MODEL = "gemini-2.5-flash"


@pytest.fixture(scope="session")
def gemini_bin() -> Path:
    return pinned_client("gemini", "gemini", "GUARD_GEMINI_BIN", "Gemini CLI", GEMINI_VERSION)


def start_gemini(gemini_bin: Path, name: str, prompt: str, repo: Path, base_url: str,
                 lock_dir: Path, run_dir: Path) -> AgentRun:
    home = new_home(run_dir)
    # The user's one-time setup: an API-key sign-in, and this folder trusted.
    (home / ".gemini").mkdir()
    (home / ".gemini" / "settings.json").write_text(json.dumps(
        {"security": {"auth": {"selectedType": "gemini-api-key"}}}))
    (home / ".gemini" / "trustedFolders.json").write_text(json.dumps(
        {str(repo): "TRUST_FOLDER"}))
    env = base_env(home)
    for key in [k for k in env if k.startswith(("GEMINI", "GOOGLE"))]:
        del env[key]
    env.update(GOOGLE_GEMINI_BASE_URL=base_url, GEMINI_API_KEY="dummy",
               GUARD_LOCK_DIR=str(lock_dir))
    argv = [str(gemini_bin), "-p", prompt, "-o", "stream-json", "--approval-mode", "yolo",
            "-m", GEMINI_MODEL]
    return start(name, argv, repo, env, run_dir)


def write_file(path: Path, content: str) -> Turn:
    return Turn([ToolUse("write_file", {"file_path": str(path), "content": content})])


def responses_text(api: FakeGeminiAPI, script: str) -> str:
    return json.dumps(api.function_responses(script))


@pytest.fixture
def setup(tmp_path: Path, guard_bin: Path, gemini_bin: Path) -> Iterator[tuple[Path, Path]]:
    repo = make_repo(tmp_path / "repo")
    out = guard_install(repo, guard_bin, gemini_bin)
    assert "Gemini CLI" in out and (repo / ".gemini" / "settings.json").is_file()
    lock_dir = tmp_path / "locks"
    lock_dir.mkdir()
    yield repo, lock_dir


def test_gemini_is_denied_while_claude_holds_then_holds_against_claude(
    setup: tuple[Path, Path], tmp_path: Path, claude_bin: Path, gemini_bin: Path
) -> None:
    repo, lock_dir = setup
    hold_claude, hold_gemini = Gate(), Gate()
    runs: list[AgentRun] = []
    with FakeModelAPI() as claude_api, FakeGeminiAPI() as gemini_api:
        claude_api.scripts.update(
            a=[Turn([ToolUse("Write", {"file_path": str(repo / "a.txt"), "content": "A\n"})]),
               Turn([Text("done")], gate=hold_claude)],
            e=[Turn([ToolUse("Write", {"file_path": str(repo / "e.txt"), "content": "E\n"})]),
               Turn([Text("done")])],
        )
        gemini_api.scripts.update(
            b=[write_file(repo / "b.txt", "B\n"),
               Turn([ToolUse("run_shell_command", {"command": "touch b2.txt"})]),
               Turn([Text("done")])],
            d=[write_file(repo / "d.txt", "D\n"), Turn([Text("done")], gate=hold_gemini)],
        )
        try:
            # Claude Code session A takes the tree and stays alive, mid-turn.
            a = start_claude(claude_bin, "claude-a", "SCRIPT:a", repo, claude_api.base_url,
                             lock_dir, tmp_path / "a")
            runs.append(a)
            assert hold_claude.wait_reached(RUN_TIMEOUT_S), events_report(lock_dir, a)
            assert (repo / "a.txt").read_text() == "A\n"

            # Gemini session B: its write and its shell command are denied.
            b = start_gemini(gemini_bin, "gemini-b", "SCRIPT:b", repo, gemini_api.base_url,
                             lock_dir, tmp_path / "b")
            runs.append(b)
            assert b.wait() == 0, events_report(lock_dir, b)
            assert a.running()
            assert not (repo / "b.txt").exists(), events_report(lock_dir, b)
            assert not (repo / "b2.txt").exists(), events_report(lock_dir, b)
            seen = gemini_api.function_responses("b")
            assert len(seen) == 2, events_report(lock_dir, b)
            for response in seen:  # the model was told why, in guard's words
                assert "Tool execution blocked" in json.dumps(response)
                assert DENY_PHRASE in json.dumps(response), response
            assert "(claude)" in responses_text(gemini_api, "b")  # names the holder's agent
            assert len(events_of(lock_dir, "denied", "gemini")) == 2

            hold_claude.open()
            assert a.wait() == 0, events_report(lock_dir, a)

            # The tree is free: Gemini session D writes, and holds it while it lives.
            d = start_gemini(gemini_bin, "gemini-d", "SCRIPT:d", repo, gemini_api.base_url,
                             lock_dir, tmp_path / "d")
            runs.append(d)
            assert hold_gemini.wait_reached(RUN_TIMEOUT_S), events_report(lock_dir, d)
            assert (repo / "d.txt").read_text() == "D\n"
            acquired = events_of(lock_dir, "acquired", "gemini")
            assert len(acquired) == 1 and acquired[0]["holder_pid"] != d.proc.pid

            # A Claude Code session is kept out while Gemini holds the tree.
            e = start_claude(claude_bin, "claude-e", "SCRIPT:e", repo, claude_api.base_url,
                             lock_dir, tmp_path / "e")
            runs.append(e)
            assert e.wait() == 0, events_report(lock_dir, e)
            assert not (repo / "e.txt").exists(), events_report(lock_dir, e)
            e_result = claude_api.tool_result("e")
            assert e_result is not None and e_result.get("is_error") is True, e_result
            assert DENY_PHRASE in result_text(e_result) and "gemini" in result_text(e_result)

            hold_gemini.open()
            assert d.wait() == 0, events_report(lock_dir, d)
            assert events_of(lock_dir, "released", "gemini"), events_report(lock_dir, d)
        finally:
            hold_claude.open()
            hold_gemini.open()
            for run in runs:
                run.kill()


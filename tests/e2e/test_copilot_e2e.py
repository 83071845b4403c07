"""Copilot CLI and Claude Code in one working tree, with the real clients.

Copilot CLI runs both its own hook files (`.github/hooks/*.json`) and Claude Code's
settings files; `guard install` writes both, and guard answers each Copilot call once (the
Claude-file hook knows Copilot by the process that started it and leaves the call to the
Copilot hook). Under Copilot a crashing hook denies: guard's hook always exits 0.
Proven on the real client (pinned below) offline, speaking Anthropic Messages to a
stand-in on 127.0.0.1 through its provider settings:

* while a Claude Code session holds the tree, a Copilot session's create and bash calls
  are denied: nothing is written, its model reads guard's reason, one deny per call;
* once the tree is free a Copilot session writes and holds it while it lives, so a Claude
  Code session is denied; its sessionEnd frees the tree.
"""

from __future__ import annotations

import json
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
from .fake_model_api import FakeModelAPI, Gate, Text, ToolUse, Turn

pytestmark = pytest.mark.e2e

COPILOT_VERSION = "1.0.102"


@pytest.fixture(scope="session")
def copilot_bin() -> Path:
    return pinned_client("copilot", "copilot", "GUARD_COPILOT_BIN", "Copilot CLI", COPILOT_VERSION)


@pytest.fixture(scope="session")
def copilot_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for every run: the client unpacks itself there once, not per HOME."""
    return tmp_path_factory.mktemp("copilot-cache")


def start_copilot(copilot_bin: Path, name: str, prompt: str, repo: Path, base_url: str,
                  lock_dir: Path, run_dir: Path, cache: Path) -> AgentRun:
    env = base_env(new_home(run_dir))
    env["XDG_CACHE_HOME"] = str(cache)
    for key in [k for k in env if k.startswith(("COPILOT", "GITHUB", "GH_"))]:
        del env[key]
    env.update(COPILOT_OFFLINE="true", COPILOT_PROVIDER_TYPE="anthropic",
               COPILOT_PROVIDER_BASE_URL=base_url, COPILOT_PROVIDER_API_KEY="dummy",
               COPILOT_MODEL="claude-sonnet-4.5", GUARD_LOCK_DIR=str(lock_dir))
    # --trust-folder: the one-time folder trust, given on the command line.
    argv = [str(copilot_bin), "-p", prompt, "--allow-all", "--trust-folder"]
    return start(name, argv, repo, env, run_dir)


def claude_write(path: Path, content: str) -> Turn:
    return Turn([ToolUse("Write", {"file_path": str(path), "content": content})])


def test_copilot_is_denied_while_claude_holds_then_holds_against_claude(
    tmp_path: Path, guard_bin: Path, claude_bin: Path, copilot_bin: Path, copilot_cache: Path
) -> None:
    repo = make_repo(tmp_path / "repo")
    guard_install(repo, guard_bin, copilot_bin)
    assert (repo / ".github" / "hooks" / "worktree-guard.json").is_file()
    assert (repo / ".claude" / "settings.local.json").is_file()  # Copilot reads it too
    lock_dir = tmp_path / "locks"
    lock_dir.mkdir()
    hold_claude, hold_copilot = Gate(), Gate()
    runs: list[AgentRun] = []
    with FakeModelAPI() as api:
        api.scripts.update(
            a=[claude_write(repo / "a.txt", "A\n"), Turn([Text("done")], gate=hold_claude)],
            b=[Turn([ToolUse("create", {"path": str(repo / "b.txt"), "file_text": "B\n"})]),
               Turn([ToolUse("bash", {"command": "touch b2.txt", "description": "touch"})]),
               Turn([Text("done")])],
            d=[Turn([ToolUse("create", {"path": str(repo / "d.txt"), "file_text": "D\n"})]),
               Turn([Text("done")], gate=hold_copilot)],
            e=[claude_write(repo / "e.txt", "E\n"), Turn([Text("done")])],
        )
        try:
            a = start_claude(claude_bin, "claude-a", "SCRIPT:a", repo, api.base_url, lock_dir,
                             tmp_path / "a")
            runs.append(a)
            assert hold_claude.wait_reached(RUN_TIMEOUT_S), events_report(lock_dir, a)

            b = start_copilot(copilot_bin, "copilot-b", "SCRIPT:b", repo, api.base_url,
                              lock_dir, tmp_path / "b", copilot_cache)
            runs.append(b)
            assert b.wait() == 0, events_report(lock_dir, b)
            assert a.running()
            assert not (repo / "b.txt").exists() and not (repo / "b2.txt").exists(), (
                events_report(lock_dir, b))
            for turn in (0, 1):
                result = api.tool_result("b", turn)
                assert result is not None, events_report(lock_dir, b)
                text = result_text(result) or str(result.get("content"))
                assert "Denied by preToolUse hook" in text and DENY_PHRASE in text, result
                assert "(claude)" in text  # names the holder's agent
            # One answer per call: the Claude-file hook knew Copilot by its process and left
            # the calls to Copilot's own hook (Claude's adapter would log a deny of its own).
            denials = events_of(lock_dir, "denied")
            assert [d.get("agent") for d in denials] == ["copilot", "copilot"], (
                events_report(lock_dir))

            hold_claude.open()
            assert a.wait() == 0, events_report(lock_dir, a)

            d = start_copilot(copilot_bin, "copilot-d", "SCRIPT:d", repo, api.base_url,
                              lock_dir, tmp_path / "d", copilot_cache)
            runs.append(d)
            assert hold_copilot.wait_reached(RUN_TIMEOUT_S), events_report(lock_dir, d)
            assert (repo / "d.txt").read_text() == "D\n"
            acquired = events_of(lock_dir, "acquired", "copilot")
            assert len(acquired) == 1 and acquired[0].get("holder_pid"), events_report(lock_dir)

            e = start_claude(claude_bin, "claude-e", "SCRIPT:e", repo, api.base_url, lock_dir,
                             tmp_path / "e")
            runs.append(e)
            assert e.wait() == 0, events_report(lock_dir, e)
            assert not (repo / "e.txt").exists(), events_report(lock_dir, e)
            e_result = api.tool_result("e")
            assert e_result is not None and e_result.get("is_error") is True, e_result
            assert DENY_PHRASE in result_text(e_result) and "copilot" in result_text(e_result)

            hold_copilot.open()
            assert d.wait() == 0, events_report(lock_dir, d)
            assert events_of(lock_dir, "released", "copilot"), events_report(lock_dir, d)
        finally:
            hold_claude.open()
            hold_copilot.open()
            for run in runs:
                run.kill()


def test_a_missing_guard_does_not_deny_copilots_calls(
    tmp_path: Path, guard_bin: Path, copilot_bin: Path, copilot_cache: Path
) -> None:
    """Copilot denies a call whose hook exits non-zero: a guard that was removed after
    `guard install` must not stop every call (the Copilot hook ends in `|| true`)."""
    repo = make_repo(tmp_path / "repo")
    guard_install(repo, guard_bin, copilot_bin)
    hook_file = repo / ".github" / "hooks" / "worktree-guard.json"
    text = hook_file.read_text().replace(str(guard_bin), str(tmp_path / "gone" / "guard"))
    hook_file.write_text(text)
    # Only Copilot's own file here: the Claude file's `guard hook` has no such fallback.
    (repo / ".claude" / "settings.local.json").unlink()
    lock_dir = tmp_path / "locks"
    with FakeModelAPI() as api:
        api.scripts["m"] = [
            Turn([ToolUse("create", {"path": str(repo / "m.txt"), "file_text": "M\n"})]),
            Turn([Text("done")])]
        m = start_copilot(copilot_bin, "copilot-m", "SCRIPT:m", repo, api.base_url, lock_dir,
                          tmp_path / "m", copilot_cache)
        try:
            assert m.wait() == 0, m.output()
        finally:
            m.kill()
    assert (repo / "m.txt").read_text() == "M\n", m.output()
    assert json.loads(text)["hooks"]["preToolUse"][0]["bash"].endswith("|| true")

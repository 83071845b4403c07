"""Codex CLI and Claude Code in one working tree, with the real clients.

Codex's sandboxed shell sees `.git` read-only in another pid namespace, so git hooks do not
guard it: its PreToolUse hook, installed by `guard install` into `.codex/hooks.json`, is
where its sessions are stopped. Proven on the real client (pinned below), offline against a
streamed Responses API stand-in on 127.0.0.1:

* while a Claude Code session holds the tree, a Codex session's mutating shell command is
  denied: nothing is written, its model reads guard's reason;
* once the tree is free a Codex session writes and holds it while it lives, so a Claude
  Code session is denied, naming codex;
* Codex sends no SessionEnd when it is killed: its dead holder process is the release, and
  the next session takes the tree at once.

The user's one-time trust step (a trusted project in config.toml, guard's hooks reviewed in
`/hooks`) is written into the throwaway CODEX_HOME for the project; the hook review, which
stores a hash only Codex's own UI computes, is stood in for by
`--dangerously-bypass-hook-trust` for these runs only.
"""

from __future__ import annotations

import contextlib
import os
import signal
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
from .fake_responses_api import FakeResponsesAPI

pytestmark = pytest.mark.e2e

CODEX_VERSION = "0.171.0"


@pytest.fixture(scope="session")
def codex_bin() -> Path:
    return pinned_client("codex", "codex", "GUARD_CODEX_BIN", "Codex CLI", CODEX_VERSION)


def start_codex(codex_bin: Path, name: str, prompt: str, repo: Path, base_url: str,
                lock_dir: Path, run_dir: Path) -> AgentRun:
    codex_home = new_home(run_dir) / ".codex"
    codex_home.mkdir()
    (codex_home / "config.toml").write_text(
        f'[projects."{os.path.realpath(repo)}"]\ntrust_level = "trusted"\n')
    env = base_env(codex_home.parent)
    for key in [k for k in env if k.startswith(("CODEX", "OPENAI"))]:
        del env[key]
    env.update(CODEX_HOME=str(codex_home), OPENAI_API_KEY="dummy",
               GUARD_LOCK_DIR=str(lock_dir))
    provider = "model_providers.mock"
    argv = [str(codex_bin), "exec", "--json", "--sandbox", "workspace-write",
            "--dangerously-bypass-hook-trust",
            "-c", "model_provider=mock", "-c", f"{provider}.name=mock",
            "-c", f"{provider}.base_url={base_url}", "-c", f"{provider}.wire_api=responses",
            "-c", f"{provider}.env_key=OPENAI_API_KEY", "-m", "gpt-5", prompt]
    return start(name, argv, repo, env, run_dir)


def shell(command: str) -> Turn:
    return Turn([ToolUse("exec_command", {"cmd": command})])


def claude_write(path: Path, content: str) -> Turn:
    return Turn([ToolUse("Write", {"file_path": str(path), "content": content})])


def test_codex_is_denied_while_claude_holds_then_holds_until_it_dies(
    tmp_path: Path, guard_bin: Path, claude_bin: Path, codex_bin: Path
) -> None:
    repo = make_repo(tmp_path / "repo")
    guard_install(repo, guard_bin, codex_bin)
    assert (repo / ".codex" / "hooks.json").is_file()
    lock_dir = tmp_path / "locks"
    lock_dir.mkdir()
    hold_claude, hold_codex = Gate(), Gate()
    runs: list[AgentRun] = []
    with FakeModelAPI() as claude_api, FakeResponsesAPI() as codex_api:
        claude_api.scripts.update(
            a=[claude_write(repo / "a.txt", "A\n"), Turn([Text("done")], gate=hold_claude)],
            e=[claude_write(repo / "e.txt", "E\n"), Turn([Text("done")])],
            f=[claude_write(repo / "f.txt", "F\n"), Turn([Text("done")])],
        )
        codex_api.scripts.update(
            b=[shell("touch b.txt"), Turn([Text("done")])],
            d=[shell("echo D > d.txt"), Turn([Text("done")], gate=hold_codex)],
        )
        try:
            a = start_claude(claude_bin, "claude-a", "SCRIPT:a", repo, claude_api.base_url,
                             lock_dir, tmp_path / "a")
            runs.append(a)
            assert hold_claude.wait_reached(RUN_TIMEOUT_S), events_report(lock_dir, a)

            b = start_codex(codex_bin, "codex-b", "SCRIPT:b", repo, codex_api.base_url,
                            lock_dir, tmp_path / "b")
            runs.append(b)
            assert b.wait() == 0, events_report(lock_dir, b)
            assert a.running()
            assert not (repo / "b.txt").exists(), events_report(lock_dir, b)
            outputs = codex_api.tool_outputs("b")
            assert len(outputs) == 1, events_report(lock_dir, b)
            assert "blocked by PreToolUse hook" in outputs[0] and DENY_PHRASE in outputs[0]
            assert "(claude)" in outputs[0]  # names the holder's agent
            assert len(events_of(lock_dir, "denied", "codex")) == 1

            hold_claude.open()
            assert a.wait() == 0, events_report(lock_dir, a)

            d = start_codex(codex_bin, "codex-d", "SCRIPT:d", repo, codex_api.base_url,
                            lock_dir, tmp_path / "d")
            runs.append(d)
            assert hold_codex.wait_reached(RUN_TIMEOUT_S), events_report(lock_dir, d)
            assert (repo / "d.txt").read_text() == "D\n", events_report(lock_dir, d)
            acquired = events_of(lock_dir, "acquired", "codex")
            assert len(acquired) == 1 and acquired[0].get("holder_pid"), events_report(lock_dir)

            e = start_claude(claude_bin, "claude-e", "SCRIPT:e", repo, claude_api.base_url,
                             lock_dir, tmp_path / "e")
            runs.append(e)
            assert e.wait() == 0, events_report(lock_dir, e)
            assert not (repo / "e.txt").exists(), events_report(lock_dir, e)
            e_result = claude_api.tool_result("e")
            assert e_result is not None and e_result.get("is_error") is True, e_result
            assert DENY_PHRASE in result_text(e_result) and "codex" in result_text(e_result)

            # Killed: no SessionEnd. The holder process is gone, so the tree is free at once.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(d.proc.pid, signal.SIGKILL)
            d.proc.wait(timeout=30)
            assert not events_of(lock_dir, "released", "codex")
            f = start_claude(claude_bin, "claude-f", "SCRIPT:f", repo, claude_api.base_url,
                             lock_dir, tmp_path / "f")
            runs.append(f)
            assert f.wait() == 0, events_report(lock_dir, f)
            assert (repo / "f.txt").read_text() == "F\n", events_report(lock_dir, f)
            taken = events_of(lock_dir, "taken_over")
            assert [t.get("previous_state") for t in taken] == ["dead"], events_report(lock_dir)
        finally:
            hold_claude.open()
            hold_codex.open()
            for run in runs:
                run.kill()

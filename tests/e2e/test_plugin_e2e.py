"""The Claude Code plugin in this repository, installed the way a user installs it.

`claude plugin marketplace add <this repo>` then `claude plugin install
worktree-guard@worktree-guard` in a throwaway HOME, with `guard` on PATH and nothing
installed in the repository: a second Claude Code session is denied while the first holds
the tree. The manifests also pass `claude plugin validate --strict`.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from .agent_sessions import (
    DENY_PHRASE,
    REPO_ROOT,
    RUN_TIMEOUT_S,
    AgentRun,
    base_env,
    events_report,
    make_repo,
    result_text,
    start,
)
from .fake_model_api import FakeModelAPI, Gate, Text, ToolUse, Turn

pytestmark = pytest.mark.e2e


def claude(claude_bin: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run([str(claude_bin), *args], env=env, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_manifests_validate(claude_bin: Path, tmp_path: Path) -> None:
    env = base_env(tmp_path)
    for target in (".", "plugin", "plugin/.claude-plugin/plugin.json"):
        assert "Validation passed" in claude(claude_bin, env, "plugin", "validate", "--strict",
                                             str(REPO_ROOT / target))


def test_the_installed_plugin_keeps_a_second_session_out(
        claude_bin: Path, guard_bin: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = base_env(home)
    env["PATH"] = f"{guard_bin.parent}{os.pathsep}{env.get('PATH', '')}"
    claude(claude_bin, env, "plugin", "marketplace", "add", str(REPO_ROOT))
    claude(claude_bin, env, "plugin", "install", "worktree-guard@worktree-guard")
    # Only the plugin's own folder is copied into Claude Code's cache, not the checkout.
    copied = {p.name for p in (home / ".claude" / "plugins").rglob("*")}
    assert "hooks.json" in copied, sorted(copied)
    assert not copied & {"pyproject.toml", "src", ".venv", ".tools", "tests"}, sorted(copied)
    repo = make_repo(tmp_path / "repo")
    assert not (repo / ".claude").exists()  # nothing in the repository: the plugin only
    lock_dir = tmp_path / "locks"
    lock_dir.mkdir()
    hold = Gate()
    runs: list[AgentRun] = []
    with FakeModelAPI() as api:
        api.scripts.update(
            a=[Turn([ToolUse("Write", {"file_path": str(repo / "a.txt"), "content": "A\n"})]),
               Turn([Text("done")], gate=hold)],
            b=[Turn([ToolUse("Write", {"file_path": str(repo / "b.txt"), "content": "B\n"})]),
               Turn([Text("done")])],
        )
        env.update(ANTHROPIC_BASE_URL=api.base_url, ANTHROPIC_API_KEY="dummy",
                   CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1", DISABLE_AUTOUPDATER="1",
                   IS_SANDBOX="1", GUARD_LOCK_DIR=str(lock_dir))
        argv = [str(claude_bin), "--permission-mode", "bypassPermissions", "-p"]
        try:
            a = start("claude-a", [*argv, "SCRIPT:a"], repo, env, tmp_path / "a")
            runs.append(a)
            assert hold.wait_reached(RUN_TIMEOUT_S), events_report(lock_dir, a)
            b = start("claude-b", [*argv, "SCRIPT:b"], repo, env, tmp_path / "b")
            runs.append(b)
            assert b.wait() == 0, events_report(lock_dir, b)
            assert not (repo / "b.txt").exists(), events_report(lock_dir, b)
            b_result = api.tool_result("b")
            assert b_result is not None and b_result.get("is_error") is True, b_result
            assert DENY_PHRASE in result_text(b_result)
        finally:
            hold.open()
            for run in runs:
                run.kill()


def test_codex_and_copilot_load_the_same_plugin_and_are_told_apart_by_their_process(
        guard_bin: Path, tmp_path: Path) -> None:
    """Both read Claude-format plugins and run its `guard hook`; guard knows which agent
    started it from the process (the payload alone would pass for Claude Code's)."""
    from .agent_sessions import client_bin, events_of
    from .fake_responses_api import FakeResponsesAPI
    from .test_codex_e2e import CODEX_VERSION
    from .test_copilot_e2e import COPILOT_VERSION

    codex, copilot = (client_bin("codex", "codex", "GUARD_CODEX_BIN"),
                      client_bin("copilot", "copilot", "GUARD_COPILOT_BIN"))
    repo = make_repo(tmp_path / "repo")
    lock_dir = tmp_path / "locks"
    home = tmp_path / "home"
    (home / ".codex").mkdir(parents=True)
    env = base_env(home)
    for key in [k for k in env if k.startswith(("CODEX", "OPENAI", "COPILOT", "GITHUB"))]:
        del env[key]
    env.update(PATH=f"{guard_bin.parent}{os.pathsep}{env.get('PATH', '')}",
               CODEX_HOME=str(home / ".codex"), OPENAI_API_KEY="dummy",
               GUARD_LOCK_DIR=str(lock_dir))
    assert CODEX_VERSION in subprocess.run([str(codex), "--version"], capture_output=True,
                                           text=True, env=env, check=True).stdout
    for args in (("marketplace", "add", str(REPO_ROOT)), ("add", "worktree-guard@worktree-guard")):
        subprocess.run([str(codex), "plugin", *args], env=env, check=True, capture_output=True,
                       timeout=120, stdin=subprocess.DEVNULL)
    with (home / ".codex" / "config.toml").open("a") as fh:
        fh.write(f'\n[projects."{os.path.realpath(repo)}"]\ntrust_level = "trusted"\n')
    with FakeResponsesAPI() as api:
        api.scripts["x"] = [Turn([ToolUse("exec_command", {"cmd": "touch x.txt"})]),
                            Turn([Text("done")])]
        provider = "model_providers.mock"
        run = start("codex-x", [str(codex), "exec", "--json", "--sandbox", "workspace-write",
                                "--dangerously-bypass-hook-trust", "-c", "model_provider=mock",
                                "-c", f"{provider}.name=mock",
                                "-c", f"{provider}.base_url={api.base_url}",
                                "-c", f"{provider}.wire_api=responses",
                                "-c", f"{provider}.env_key=OPENAI_API_KEY", "-m", "gpt-5",
                                "SCRIPT:x"], repo, env, tmp_path / "x")
        try:
            assert run.wait() == 0, run.output()
        finally:
            run.kill()
    assert [e.get("agent") for e in events_of(lock_dir, "acquired")] == ["codex"], (
        events_report(lock_dir, run))
    with FakeModelAPI() as api:
        api.scripts["y"] = [
            Turn([ToolUse("create", {"path": str(repo / "y.txt"), "file_text": "y\n"})]),
            Turn([Text("done")])]
        copilot_env = {**env, "COPILOT_OFFLINE": "true", "COPILOT_PROVIDER_TYPE": "anthropic",
                       "COPILOT_PROVIDER_BASE_URL": api.base_url,
                       "COPILOT_PROVIDER_API_KEY": "dummy", "COPILOT_MODEL": "claude-sonnet-4.5"}
        run = start("copilot-y", [str(copilot), "-p", "SCRIPT:y", "--allow-all", "--trust-folder",
                                  "--plugin-dir", str(REPO_ROOT / "plugin")], repo, copilot_env,
                    tmp_path / "y")
        try:
            assert run.wait() == 0, run.output()
        finally:
            run.kill()
    assert COPILOT_VERSION
    acquired = [e.get("agent") for e in events_of(lock_dir, "acquired")]
    assert acquired == ["codex", "copilot"], events_report(lock_dir, run)

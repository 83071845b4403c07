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
    AgentRun,
    events_report,
    make_repo,
    start,
)
from .fake_model_api import FakeModelAPI, Gate, Text, ToolUse, Turn
from .test_claude_e2e import RUN_TIMEOUT_S, base_env, result_text

pytestmark = pytest.mark.e2e


def claude(claude_bin: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run([str(claude_bin), *args], env=env, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_manifests_validate(claude_bin: Path, tmp_path: Path) -> None:
    env = base_env(tmp_path)
    for target in (".", ".claude-plugin/plugin.json"):
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

"""`guard doctor` per agent: installed, and will the agent actually run the hooks?"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from tests.conftest import GUARD


def doctor(repo: Path, env: dict[str, str]) -> dict[str, dict[str, Any]]:
    done = subprocess.run([GUARD, "doctor", "--json"], cwd=repo, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    return {c["name"]: c for c in json.loads(done.stdout)["checks"]}


def install(repo: Path, env: dict[str, str], *args: str) -> None:
    subprocess.run([GUARD, "install", *args], cwd=repo, env=env, capture_output=True,
                   timeout=120, check=True)


def test_each_agent_is_reported_untrusted_until_its_trust_step_is_done(
        repo: Path, guard_env: dict[str, str]) -> None:
    home = Path(guard_env["HOME"])
    install(repo, guard_env, "--agents", "codex,gemini,copilot")
    checks = doctor(repo, guard_env)
    for agent in ("codex", "gemini", "copilot"):
        assert checks[f"{agent} hooks"]["level"] == "warn", checks[f"{agent} hooks"]
        assert "trust" in checks[f"{agent} hooks"]["detail"]
    (home / ".gemini").mkdir(parents=True)
    (home / ".gemini" / "trustedFolders.json").write_text(json.dumps(
        {os.path.dirname(repo): "TRUST_PARENT"}))
    (home / ".copilot").mkdir()
    (home / ".copilot" / "config.json").write_text(json.dumps({"trustedFolders": [str(repo)]}))
    (home / ".codex").mkdir()
    hook_file = repo / ".codex" / "hooks.json"
    (home / ".codex" / "config.toml").write_text(
        f'[projects."{os.path.realpath(repo)}"]\ntrust_level = "trusted"\n\n'
        f'[hooks.state."{hook_file}:pre_tool_use:0:0"]\ntrusted_hash = "sha256:00"\n')
    checks = doctor(repo, guard_env)
    for agent in ("codex", "gemini", "copilot"):
        assert checks[f"{agent} hooks"]["level"] == "ok", checks[f"{agent} hooks"]


def test_a_hook_pointing_at_a_missing_guard_fails(repo: Path, guard_env: dict[str, str]) -> None:
    install(repo, guard_env, "--agents", "gemini")
    path = repo / ".gemini" / "settings.json"
    python = str(Path(GUARD).parent / "python")
    assert python in path.read_text()  # the launcher: the venv's interpreter
    path.write_text(path.read_text().replace(python, "/nowhere/python"))
    check = doctor(repo, guard_env)["gemini hooks"]
    assert check["level"] == "fail" and "/nowhere/python" in check["detail"]


def test_the_claude_code_plugin_stands_in_for_the_settings_entries(
        repo: Path, guard_env: dict[str, str]) -> None:
    home = Path(guard_env["HOME"])
    (home / ".claude").mkdir(parents=True, exist_ok=True)
    assert doctor(repo, guard_env)["claude settings"]["level"] == "warn"
    (home / ".claude" / "settings.json").write_text(json.dumps(
        {"enabledPlugins": {"worktree-guard@worktree-guard": True}}))
    checks = doctor(repo, guard_env)
    assert checks["claude plugin"]["level"] == "ok", checks["claude plugin"]
    assert "claude settings" not in checks
    no_guard = {**guard_env, "PATH": "/usr/bin:/bin"}
    assert doctor(repo, no_guard)["claude plugin"]["level"] == "fail"

"""`guard status`'s "installed:" line and `guard doctor` read the install state from one
place: the cases where they used to disagree."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.conftest import GUARD, git


def _guard(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([GUARD, *args], cwd=repo, env=env, capture_output=True, text=True,
                          timeout=60)


def _installed(repo: Path, env: dict[str, str]) -> str:
    lines = [ln for ln in _guard(repo, env, "status").stdout.splitlines()
             if ln.startswith("installed:")]
    assert lines, "status printed no installed: line"
    return lines[0].split(":", 1)[1].strip()


def _doctor(repo: Path, env: dict[str, str], label: str) -> str:
    return next(ln for ln in _guard(repo, env, "doctor").stdout.splitlines() if label in ln)


def test_shims_pointing_at_a_deleted_guard_are_not_installed(repo: Path,
                                                             guard_env: dict[str, str],
                                                             tmp_path: Path) -> None:
    """Shims whose guard is gone (a deleted venv): doctor fails them, and status no longer
    says "all git hooks". Catches: status counting any file with guard's marker."""
    gone = tmp_path / "old-venv" / "guard"
    gone.parent.mkdir()
    gone.write_text(f'#!/bin/sh\nexec "{GUARD}" "$@"\n')
    gone.chmod(0o755)
    done = _guard(repo, {**guard_env, "GUARD_BIN": str(gone)}, "install", "--no-claude",
                  "--agents", "claude")
    assert done.returncode == 0, done.stderr
    assert "all git hooks" in _installed(repo, guard_env)
    gone.unlink()
    assert _doctor(repo, guard_env, "git hook pre-commit").startswith("FAIL")
    line = _installed(repo, guard_env)
    assert "all git hooks" not in line and "start nothing" in line, line


def test_a_husky_script_with_guards_line_counts_as_installed(repo: Path,
                                                             guard_env: dict[str, str]) -> None:
    """husky's folder with guard's line in each `.husky/<hook>`: doctor says ok, status says
    installed. Catches: status looking at the shims only ("no git hooks")."""
    stubs = repo / ".husky" / "_"
    stubs.mkdir(parents=True)
    git(repo, "config", "core.hooksPath", ".husky/_")
    out = _guard(repo, guard_env, "install", "--no-claude", "--agents", "claude")
    line = next(ln.strip() for ln in out.stderr.splitlines() if ln.strip().startswith("g="))
    for name in ("pre-commit", "pre-push", "post-checkout"):
        (repo / ".husky" / name).write_text(line + "\n")
        stub = stubs / name
        stub.write_text('#!/bin/sh\nsh -e "$(dirname "$(dirname "$0")")/${0##*/}" "$@"\n')
        stub.chmod(0o755)
    assert _doctor(repo, guard_env, "git hook pre-commit").startswith("ok")
    assert _installed(repo, guard_env).endswith("; all git hooks")


def test_the_enabled_plugin_counts_as_claude_code_hooks(repo: Path,
                                                         guard_env: dict[str, str]) -> None:
    """The Claude Code plugin enabled in the user settings: doctor says its hooks run, and
    status says so too. Catches: status reading only the settings files' own hooks."""
    user = Path(guard_env["HOME"]) / ".claude"
    user.mkdir(parents=True)
    (user / "settings.json").write_text(json.dumps(
        {"enabledPlugins": {"worktree-guard@worktree-guard": True}}))
    assert _doctor(repo, guard_env, "claude plugin").startswith("ok")
    assert _installed(repo, guard_env).startswith("Claude Code hooks from the plugin")

"""How `guard` behaves as a command: which agents a default install sets up, --quiet, shell
completion, one message prefix, usage errors exit 2, --json errors as JSON, and a forced
release that cannot ask."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from tests.conftest import GUARD, pre_tool


def guard(cwd: Path, env: dict[str, str], *args: str, stdin: str | None = None
          ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([GUARD, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=60, input=stdin,
                          stdin=subprocess.DEVNULL if stdin is None else None)


def _with_agent_on_path(env: dict[str, str], tmp_path: Path, name: str) -> dict[str, str]:
    """An agent command on PATH: an executable of that name (guard only looks it up)."""
    folder = tmp_path / "agent-bin"
    folder.mkdir(exist_ok=True)
    exe = folder / name
    exe.write_text("#!/bin/sh\nexit 0\n")
    exe.chmod(0o755)
    return {**env, "PATH": f"{folder}{os.pathsep}{env['PATH']}"}


def test_a_default_install_sets_up_the_agents_on_path_and_says_which_it_skipped(
        repo: Path, guard_env: dict[str, str], tmp_path: Path) -> None:
    """Codex on PATH, Gemini and Copilot not: only Codex's hook file is written, the rest are
    named with the command that adds them, and that command works. Catches: the default
    `--agents` of every agent (three hook files for agents that are not there)."""
    env = _with_agent_on_path(guard_env, tmp_path, "codex")
    done = guard(repo, env, "install")
    assert done.returncode == 0, done.stderr
    assert (repo / ".codex" / "hooks.json").is_file()
    assert not (repo / ".gemini").exists() and not (repo / ".github").exists()
    skipped = next(ln for ln in done.stdout.splitlines() if ln.startswith("skipped"))
    assert "Gemini CLI" in skipped and "Copilot CLI" in skipped and "Codex" not in skipped
    again = skipped.split("guard install ", 1)[1].split()
    assert guard(repo, env, "install", *again).returncode == 0
    assert (repo / ".gemini" / "settings.json").is_file()


def test_quiet_install_prints_nothing_when_all_is_well(repo: Path,
                                                       guard_env: dict[str, str]) -> None:
    """Catches: --quiet ignored (15 lines on every install)."""
    done = guard(repo, guard_env, "install", "--quiet")
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert (repo / ".git" / "hooks" / "pre-commit").is_file()


def test_an_unknown_agent_is_a_usage_error(repo: Path, guard_env: dict[str, str]) -> None:
    """Catches: exit 1 and an `error:` prefix for a bad --agents value."""
    done = guard(repo, guard_env, "install", "--agents", "claude,cursor")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("guard: Invalid value for '--agents'")
    assert not (repo / ".claude").exists()


def test_json_errors_are_a_json_object(repo: Path, guard_env: dict[str, str],
                                       tmp_path: Path) -> None:
    """A script reading --json gets JSON on failure too. Catches: the plain-text error."""
    outside = tmp_path / "not-a-repo"
    outside.mkdir()
    for cwd, args, code in ((outside, ("status", "--json"), 1),
                            (repo, ("status", "--json", "--bogus"), 2)):
        done = guard(cwd, guard_env, *args)
        assert done.returncode == code
        error = json.loads(done.stdout)
        assert error["ok"] is False and error["error"], done.stdout


def test_every_message_of_the_cli_has_one_prefix(repo: Path, guard_env: dict[str, str],
                                                 tmp_path: Path) -> None:
    """Errors, usage errors and warnings all start `guard: `. Catches: `error:`, `Error:`
    and a bare `warning:`."""
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (repo / ".git" / "hooks" / "pre-commit").mkdir()  # a folder where a hook goes: a warning
    lines = [guard(outside, guard_env, "status").stderr.splitlines()[0],
             guard(repo, guard_env, "frob").stderr.splitlines()[-1],
             guard(repo, guard_env, "install", "--agents", "x").stderr.splitlines()[-1],
             next(ln for ln in guard(repo, guard_env, "install").stderr.splitlines()
                  if "warning" in ln)]
    assert all(line.startswith("guard: ") for line in lines), lines


def test_shell_completion_scripts_complete_in_bash(repo: Path, guard_env: dict[str, str]) -> None:
    """The bash script, sourced by real bash, completes commands and options; zsh and fish
    scripts are printed. Catches: the COMPLETE_VAR hand-off in run_cli (the script runs guard
    and gets nothing back)."""
    script = guard(repo, guard_env, "completion", "bash")
    assert script.returncode == 0 and "_guard_completion" in script.stdout
    for shell in ("zsh", "fish"):
        other = guard(repo, guard_env, "completion", shell)
        assert other.returncode == 0 and "_GUARD_COMPLETE" in other.stdout
    probe = (f"{script.stdout}\nCOMP_WORDS=(guard ins); COMP_CWORD=1; _guard_completion guard; "
             'echo "${COMPREPLY[@]}"; COMP_WORDS=(guard install --qu); COMP_CWORD=2; '
             '_guard_completion guard; echo "${COMPREPLY[@]}"')
    done = subprocess.run(["bash", "-c", probe], env=guard_env, capture_output=True, text=True,
                          timeout=60, cwd=repo)
    assert done.stdout.splitlines() == ["install", "--quiet"], done.stdout + done.stderr


def test_force_release_without_a_terminal_says_to_add_yes(
        repo: Path, guard_env: dict[str, str], fake_claude: Any) -> None:
    """Nobody to ask (stdin not a terminal, nothing piped): not released, and the message says
    --yes answers. Catches: the prompt read end of input and said only "not released"."""
    holder = fake_claude(pre_tool("5e55104a-0000-4000-8000-00000000000b", repo), guard_env)
    assert not holder.answer.denied
    done = guard(repo, guard_env, "release", "--force")
    assert done.returncode == 1
    assert "add --yes" in done.stderr and "stdin is not a terminal" in done.stderr
    assert guard(repo, guard_env, "release", "--force", "--yes").returncode == 0

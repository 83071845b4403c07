"""The launcher `guard install` writes: the installed guard's interpreter, isolated, with
the package folder it was installed into; a guard command's entries (GUARD_BIN) are parsed too."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.conftest import GUARD, installed_launcher, pre_tool
from tests.install.test_install import guard
from worktree_guard.git.shims import HOOK_NAMES, KEY_CACHE_NAME, shim_text
from worktree_guard.install.launcher import Launcher, launcher_problem, parse_command
from worktree_guard.install.settings import GUARD_EVENT_NAMES, merge_guard


def settings_of(repo: Path) -> dict[str, object]:
    parsed: dict[str, object] = json.loads(
        (repo / ".claude" / "settings.local.json").read_text())
    return parsed


def handlers(settings: dict[str, object], event: str) -> list[str]:
    hooks = settings["hooks"]
    assert isinstance(hooks, dict)
    return [h["command"] for group in hooks[event] for h in group["hooks"]]


def run_command(command: str, payload: dict[str, object], env: dict[str, str],
                cwd: Path) -> subprocess.CompletedProcess[str]:
    """As Claude Code runs a hook: `sh -c <command>` with the payload on stdin."""
    return subprocess.run(["sh", "-c", command], input=json.dumps(payload), env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=60, check=False)


def test_the_launcher_runs_the_installed_guard_whatever_python_is_told(
    repo: Path, guard_env: dict[str, str], tmp_path: Path
) -> None:
    """A PYTHONPATH, a PYTHONSTARTUP and a `worktree_guard/` folder in the hook's cwd (the
    repository under the agent's control) must not stand in for the installed guard."""
    guard(repo, guard_env, "install")
    command = handlers(settings_of(repo), "PreToolUse")[-1]
    assert parse_command(command) == (installed_launcher(), "hook")
    decoy = tmp_path / "decoy"
    for folder in (decoy / "worktree_guard", repo / "worktree_guard"):
        folder.mkdir(parents=True)
        (folder / "__init__.py").write_text("raise SystemExit('decoy imported')\n")
        (folder / "entry.py").write_text("def main():\n    print('decoy entry')\n    return 0\n")
    (decoy / "startup.py").write_text("print('startup ran')\n")
    env = {**guard_env, "PYTHONPATH": str(decoy), "PYTHONSTARTUP": str(decoy / "startup.py"),
           "PYTHONHOME": str(decoy)}
    first = run_command(command, pre_tool("aaaaaaaa-one", repo), env, repo)
    assert first.returncode == 0 and first.stdout == "" and first.stderr == ""
    second = run_command(command, pre_tool("bbbbbbbb-two", repo), env, repo)
    answer = json.loads(second.stdout)["hookSpecificOutput"]
    assert answer["permissionDecision"] == "deny" and "aaaaaaaa" in answer[
        "permissionDecisionReason"]
    assert "decoy" not in second.stdout + second.stderr


def test_a_guard_command_install_is_replaced_not_doubled(
    repo: Path, guard_env: dict[str, str]
) -> None:
    """An install under GUARD_BIN wrote `<path>/guard hook`: a plain install replaces it."""
    (repo / ".claude").mkdir()
    old = merge_guard({"hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [
        {"type": "command", "command": "echo mine"}]}]}}, GUARD, True).settings
    (repo / ".claude" / "settings.local.json").write_text(json.dumps(old, indent=2))
    assert handlers(old, "PreToolUse")[-1] == f"{GUARD} hook"
    guard(repo, guard_env, "install", "--statusline")
    new = settings_of(repo)
    launcher = installed_launcher()
    for event in GUARD_EVENT_NAMES:
        ours = [c for c in handlers(new, event) if parse_command(c) is not None]
        assert ours == [launcher.command("hook")], event
    assert "echo mine" in handlers(new, "PreToolUse")
    assert new["statusLine"] == {"type": "command", "command": launcher.command("statusline")}


def test_the_guard_command_form_works(repo: Path, guard_env: dict[str, str]) -> None:
    """What an install under GUARD_BIN writes, `<path>/guard hook`, holds the tree too."""
    first = run_command(f"'{GUARD}' hook", pre_tool("aaaaaaaa-one", repo), guard_env, repo)
    assert first.returncode == 0 and first.stderr == ""
    second = run_command(f"'{GUARD}' hook", pre_tool("bbbbbbbb-two", repo), guard_env, repo)
    assert json.loads(second.stdout)["hookSpecificOutput"]["permissionDecision"] == "deny"


def launch_with(main_code: str, stdout: int) -> subprocess.CompletedProcess[bytes]:
    """`entry.launch()` in the launcher's interpreter, around a `main` that writes without
    flushing (no hook of today leaves output unflushed; launch must not lose it if one does)."""
    launcher = installed_launcher()
    assert launcher.package_dir is not None
    code = ("import sys;sys.path.append(sys.argv.pop(1));import worktree_guard.entry as entry;"
            f"entry.main = lambda: ({main_code})[-1];entry.launch()")
    return subprocess.run([launcher.executable, "-I", "-S", "-c", code, launcher.package_dir],
                          stdout=stdout, stderr=subprocess.PIPE, timeout=60, check=False)


def test_the_launcher_exits_with_mains_code_and_its_whole_output() -> None:
    """launch() leaves without the interpreter's finalisation: the exit code and the
    buffered text must still come out; a stdout nobody reads is exit 120, as Python says."""
    written = launch_with("sys.stdout.write('held back'), sys.stderr.write('said'), 3",
                          subprocess.PIPE)
    assert (written.returncode, written.stdout, written.stderr) == (3, b"held back", b"said")
    reader, writer = os.pipe()
    os.close(reader)  # nobody will read it: the flush fails (EPIPE)
    try:
        unread = launch_with("sys.stdout.write('lost'), 0", writer)
    finally:
        os.close(writer)
    assert unread.returncode == 120, unread


def test_strict_adds_reference_transaction_and_default_takes_it_out(
    repo: Path, guard_env: dict[str, str]
) -> None:
    hooks = repo / ".git" / "hooks"
    foreign = "#!/bin/sh\necho foreign >&2\n"
    (hooks / "reference-transaction").write_text(foreign)
    (hooks / "reference-transaction").chmod(0o755)
    guard(repo, guard_env, "install", "--no-claude", "--strict")
    launcher = installed_launcher()
    for name in HOOK_NAMES:
        assert (hooks / name).read_text() == shim_text(name, launcher.executable,
                                                       launcher.package_dir)
    assert (hooks / "reference-transaction.pre-guard").read_text() == foreign
    done = guard(repo, guard_env, "install", "--no-claude")
    assert "reference-transaction: removed" in done.stdout
    assert (hooks / "reference-transaction").read_text() == foreign  # its own name again
    assert not (hooks / "reference-transaction.pre-guard").exists()
    status = json.loads(guard(repo, guard_env, "status", "--json").stdout)
    assert status["installed"]["git_hooks"]["reference-transaction"] == "foreign"
    assert status["installed"]["git_hooks"]["pre-commit"] == "guard"
    committed = subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", "x"], cwd=repo,
                               env=guard_env, capture_output=True, text=True, check=False)
    assert committed.returncode == 0, committed.stderr
    assert (repo / ".git" / KEY_CACHE_NAME).exists()  # the shim kept the tree key
    guard(repo, guard_env, "uninstall")
    assert (hooks / "reference-transaction").read_text() == foreign
    assert not (repo / ".git" / KEY_CACHE_NAME).exists()


def test_launcher_commands_parse_back_and_say_when_they_point_at_nothing(
    tmp_path: Path
) -> None:
    odd = Launcher("/opt/it's here/bin/python", "/opt/it's here/lib/site-packages")
    assert parse_command(odd.command("hook")) == (odd, "hook")
    assert parse_command(Launcher(GUARD).command("hook")) == (Launcher(GUARD), "hook")
    assert parse_command("python -I -S -c 'print(1)' /x hook") is None
    assert launcher_problem(installed_launcher()) is None
    assert "not an executable file" in str(launcher_problem(Launcher(str(tmp_path / "py"),
                                                                     str(tmp_path))))
    moved = Launcher(installed_launcher().executable, str(tmp_path))
    assert "holds no worktree_guard package" in str(launcher_problem(moved))


def test_status_names_the_install_default_strict_or_half_undone(
    repo: Path, guard_env: dict[str, str]
) -> None:
    """A strict install with one strict-only hook removed by hand: status says which are left
    instead of calling it strict, and a default re-install takes them out."""
    def installed_line() -> str:
        text = guard(repo, guard_env, "status").stdout
        return next(line for line in text.splitlines() if line.startswith("installed:"))

    guard(repo, guard_env, "install", "--no-claude")
    assert installed_line().endswith("; all git hooks")
    guard(repo, guard_env, "install", "--no-claude", "--strict")
    assert installed_line().endswith("; all git hooks (strict)")
    (repo / ".git" / "hooks" / "reference-transaction").unlink()
    assert installed_line().endswith("; all git hooks, and prepare-commit-msg of the strict "
                                     "install")
    done = guard(repo, guard_env, "install", "--no-claude")
    assert "git hook prepare-commit-msg: removed (strict install only" in done.stdout
    assert installed_line().endswith("; all git hooks")
    assert not (repo / ".git" / "hooks" / "prepare-commit-msg").exists()

"""`guard install --agents` into the hook files of Codex, Gemini and Copilot, and back.

Real repositories, real files holding the user's own keys in their own formatting: every
byte the user had comes back on uninstall, a second install changes nothing, and a file
that cannot be merged stops the install with nothing changed.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from tests.conftest import GUARD, git, installed_launcher
from tests.install.test_install import guard, snapshot

# The user's own files, tabs and unicode and no trailing newline: they must come back so.
GEMINI_USER = ('{\n\t"model": {"name": "gemini-2.5-pro"},\n\t"hooks": {\n\t\t"BeforeTool": '
               '[{"matcher": "write_file", "hooks": [{"type": "command", "command": '
               '"echo mine", "timeout": 500}]}]\n\t},\n\t"ui": {"theme": "caf\\u00e9 \u00e9"}\n}')
CODEX_USER = ('{\n    "hooks": {\n        "Stop": [{"hooks": [{"type": "command", '
              '"command": "notify-send done"}]}]\n    }\n}\n')
COPILOT_OTHER = '{"version": 1, "hooks": {"preToolUse": [{"type": "command", "bash": "x"}]}}'
AGENT_FILES = {"codex": ".codex/hooks.json", "gemini": ".gemini/settings.json",
               "copilot": ".github/hooks/worktree-guard.json"}


def state(repo: Path) -> dict[str, object]:
    return snapshot(repo / ".codex", repo / ".gemini", repo / ".github", repo / ".claude",
                    repo / ".git" / "info", repo / ".git" / "guard-install.json")


def user_files(repo: Path) -> None:
    (repo / ".gemini").mkdir()
    (repo / ".gemini" / "settings.json").write_text(GEMINI_USER)
    (repo / ".codex").mkdir()
    (repo / ".codex" / "hooks.json").write_text(CODEX_USER)
    (repo / ".github" / "hooks").mkdir(parents=True)
    (repo / ".github" / "hooks" / "theirs.json").write_text(COPILOT_OTHER)


def commands_in(path: Path) -> list[str]:
    data = json.loads(path.read_text())
    found = []
    for entries in data["hooks"].values():
        for entry in entries:
            for handler in entry.get("hooks", [entry]):
                found.append(handler.get("command") or handler.get("bash"))
    return found


def test_install_merges_into_the_users_files_and_uninstall_gives_every_byte_back(
        repo: Path, guard_env: dict[str, str]) -> None:
    user_files(repo)
    before = state(repo)
    done = guard(repo, guard_env, "install", "--agents", "codex,gemini,copilot")
    for label in ("Codex CLI", "Gemini CLI", "Copilot CLI"):
        assert label in done.stdout
        assert f"one-time step: {label}" in done.stdout  # the trust step, said plainly
    gemini = json.loads((repo / ".gemini" / "settings.json").read_text())
    assert gemini["model"] == {"name": "gemini-2.5-pro"} and gemini["ui"]["theme"] == "café é"
    assert gemini["hooks"]["BeforeTool"][0]["hooks"][0]["command"] == "echo mine"
    assert shlex.split(gemini["hooks"]["BeforeTool"][1]["hooks"][0]["command"])[-5:-2] == [
        "hook", "--agent", "gemini"]
    assert set(gemini["hooks"]) == {"BeforeTool", "AfterTool", "SessionEnd"}
    assert "\t\"model\"" in (repo / ".gemini" / "settings.json").read_text()  # its indent
    codex = json.loads((repo / ".codex" / "hooks.json").read_text())
    assert codex["hooks"]["Stop"][0]["hooks"][0]["command"] == "notify-send done"
    assert set(codex["hooks"]) == {"PreToolUse", "PostToolUse", "Stop", "SessionEnd"}
    copilot = json.loads((repo / AGENT_FILES["copilot"]).read_text())
    assert copilot["version"] == 1 and set(copilot["hooks"]) == {
        "preToolUse", "postToolUse", "sessionEnd"}
    assert (repo / ".github" / "hooks" / "theirs.json").read_text() == COPILOT_OTHER
    # None of them reaches a commit: each holds this machine's path to guard.
    untracked = git(repo, "status", "--porcelain", "--untracked-files=all")
    assert untracked == "?? .github/hooks/theirs.json", untracked

    installed = state(repo)
    guard(repo, guard_env, "install", "--agents", "codex,gemini,copilot")
    assert state(repo) == installed  # a second install changes nothing

    guard(repo, guard_env, "uninstall")
    assert state(repo) == before


def test_a_file_edited_after_install_keeps_the_edit_and_loses_only_guards_entries(
        repo: Path, guard_env: dict[str, str]) -> None:
    user_files(repo)
    guard(repo, guard_env, "install", "--agents", "gemini,copilot")
    path = repo / ".gemini" / "settings.json"
    data = json.loads(path.read_text())
    data["general"] = {"vimMode": True}
    path.write_text(json.dumps(data, indent="\t"))
    guard(repo, guard_env, "uninstall")
    after = json.loads(path.read_text())
    assert after["general"] == {"vimMode": True} and after["model"]["name"] == "gemini-2.5-pro"
    assert all("--agent" not in c for c in commands_in(path))
    assert commands_in(path) == ["echo mine"]
    assert not (repo / AGENT_FILES["copilot"]).exists()  # guard's own file goes


def test_installing_when_guard_moved_replaces_its_entries_never_doubles(
        tmp_path: Path, repo: Path, guard_env: dict[str, str]) -> None:
    guard(repo, guard_env, "install", "--agents", "gemini,copilot,codex")
    elsewhere = tmp_path / "elsewhere" / "guard"
    elsewhere.parent.mkdir()
    elsewhere.symlink_to(GUARD)
    guard(repo, {**guard_env, "GUARD_BIN": str(elsewhere)}, "install", "--agents",
          "gemini,copilot,codex")
    for rel in AGENT_FILES.values():
        data = json.loads((repo / rel).read_text())
        for event, entries in data["hooks"].items():
            assert len(entries) == 1, (rel, event, entries)  # replaced, not added
        assert all(c.startswith(str(elsewhere)) for c in commands_in(repo / rel)), rel


@pytest.mark.parametrize("bad", ["{not json", "[]", '{"hooks": []}',
                                 '{"hooks": {"BeforeTool": {}}}'])
def test_a_file_that_cannot_be_merged_stops_the_install_with_nothing_changed(
        bad: str, repo: Path, guard_env: dict[str, str]) -> None:
    (repo / ".gemini").mkdir()
    (repo / ".gemini" / "settings.json").write_text(bad)
    before = state(repo)
    done = guard(repo, guard_env, "install", check=1)
    assert "nothing was changed" in done.stderr.lower() and "Traceback" not in done.stderr
    assert state(repo) == before


def test_a_tracked_agent_file_is_refused_without_force(repo: Path,
                                                       guard_env: dict[str, str]) -> None:
    (repo / ".codex").mkdir()
    (repo / ".codex" / "hooks.json").write_text(CODEX_USER)
    git(repo, "add", ".codex/hooks.json")
    git(repo, "commit", "-q", "-m", "codex hooks")
    before = state(repo)
    done = guard(repo, guard_env, "install", check=1)
    assert "tracked by git" in done.stderr and "Nothing was changed" in done.stderr
    assert state(repo) == before
    guard(repo, guard_env, "install", "--agents", "claude,gemini,copilot")  # the rest is fine


def test_agents_chooses_and_an_unknown_name_is_a_clear_error(
        repo: Path, guard_env: dict[str, str]) -> None:
    before = state(repo)
    done = guard(repo, guard_env, "install", "--agents", "gemini,cursor", check=2)
    assert "unknown agent cursor" in done.stderr and state(repo) == before
    guard(repo, guard_env, "install", "--agents", "gemini", "--no-git-hooks")
    assert (repo / ".gemini" / "settings.json").is_file()
    assert not (repo / ".claude").exists() and not (repo / ".codex").exists()


def test_each_installed_command_runs_the_right_adapter(repo: Path,
                                                       guard_env: dict[str, str]) -> None:
    guard(repo, guard_env, "install", "--agents", "codex,gemini,copilot")
    for agent, rel in AGENT_FILES.items():
        for command in commands_in(repo / rel):
            # The launcher guard install writes for every hook: guard's interpreter, isolated.
            launcher = installed_launcher().words()
            words = shlex.split(command.removesuffix(" || true"))
            assert words[:len(launcher)] == launcher, command
            assert words[len(launcher):len(launcher) + 3] == ["hook", "--agent", agent], command
            # Where a missing guard would block every call, the command cannot fail.
            assert command.endswith("|| true") == (agent in ("gemini", "copilot")), command


def test_trust_adds_this_folder_to_geminis_trusted_folders_and_uninstall_takes_it_out(
        repo: Path, guard_env: dict[str, str]) -> None:
    home = Path(guard_env["HOME"])
    trusted = home / ".gemini" / "trustedFolders.json"
    trusted.parent.mkdir(parents=True)
    mine = '{\n  "/home/me/other": "TRUST_PARENT"\n}'  # the user's own entry, no newline
    trusted.write_text(mine)
    done = guard(repo, guard_env, "install", "--agents", "gemini,codex", "--trust")
    assert json.loads(trusted.read_text()) == {"/home/me/other": "TRUST_PARENT",
                                               str(repo): "TRUST_FOLDER"}
    assert "one-time step: Gemini CLI" not in done.stdout  # done, so not asked for
    assert "one-time step: Codex CLI" in done.stdout  # Codex's review is its own UI's
    guard(repo, guard_env, "uninstall")
    assert trusted.read_text() == mine
    # Without --trust the user's file is never touched.
    guard(repo, guard_env, "install", "--agents", "gemini")
    assert trusted.read_text() == mine


def test_trust_into_a_fresh_home_is_undone_to_nothing(repo: Path,
                                                      guard_env: dict[str, str]) -> None:
    home = Path(guard_env["HOME"])
    home.mkdir(exist_ok=True)
    guard(repo, guard_env, "install", "--agents", "gemini", "--trust")
    assert (home / ".gemini" / "trustedFolders.json").is_file()
    guard(repo, guard_env, "uninstall")
    assert not (home / ".gemini").exists()

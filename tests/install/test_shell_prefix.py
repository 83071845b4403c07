"""`guard install` puts the shell sandbox's prefix into Claude Code's settings `env`;
uninstall takes it out again, and a prefix of the user's own is never replaced."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import installed_launcher
from tests.install.test_install import guard
from worktree_guard.install.shell_prefix import prefix_command

PREFIX = "CLAUDE_CODE_SHELL_PREFIX"


def local_settings(repo: Path) -> Path:
    return repo / ".claude" / "settings.local.json"


def test_install_writes_the_prefix_and_uninstall_restores_the_bytes(
    repo: Path, guard_env: dict[str, str]
) -> None:
    """Catches: merge_guard without the prefix, and uninstall leaving it (byte-exact restore
    of a file that had an env of its own)."""
    path = local_settings(repo)
    path.parent.mkdir()
    original = b'{\n    "env": {"A": "1"}\n}\n'
    path.write_bytes(original)
    guard(repo, guard_env, "install")
    env = json.loads(path.read_text())["env"]
    assert env == {"A": "1", PREFIX: prefix_command(installed_launcher())}
    guard(repo, guard_env, "install")  # a second run changes nothing
    assert json.loads(path.read_text())["env"] == env
    guard(repo, guard_env, "uninstall")
    assert path.read_bytes() == original


def test_uninstall_after_the_user_edited_the_file_removes_only_the_prefix(
    repo: Path, guard_env: dict[str, str]
) -> None:
    """The file changed since install: no byte restore, guard's entries are taken out.
    Catches: remove_guard not removing the prefix."""
    guard(repo, guard_env, "install")
    path = local_settings(repo)
    data = json.loads(path.read_text())
    data["model"] = "opus"
    path.write_text(json.dumps(data, indent=2) + "\n")
    guard(repo, guard_env, "uninstall")
    left = json.loads(path.read_text()) if path.exists() else {}
    assert left.get("model") == "opus"
    assert PREFIX not in left.get("env", {})


def test_a_prefix_of_the_users_own_is_left_with_a_note(
    repo: Path, guard_env: dict[str, str]
) -> None:
    """Catches: merge_prefix overwriting a foreign prefix."""
    path = local_settings(repo)
    path.parent.mkdir()
    path.write_text(json.dumps({"env": {PREFIX: "/usr/local/bin/my-wrapper"}}))
    done = guard(repo, guard_env, "install")
    assert json.loads(path.read_text())["env"] == {PREFIX: "/usr/local/bin/my-wrapper"}
    assert "my-wrapper" in done.stdout + done.stderr and "not sandboxed" in (
        done.stdout + done.stderr)

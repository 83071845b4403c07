"""`guard install` puts the shell sandbox's prefix into Claude Code's settings `env`;
uninstall takes it out again, and a prefix of the user's own is never replaced."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

from tests.install.test_install import guard
from worktree_guard.install.shell_prefix import PREFIX_FILE

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
    program = repo / ".git" / "hooks" / PREFIX_FILE
    assert env == {"A": "1", PREFIX: str(program)}
    guard(repo, guard_env, "install")  # a second run changes nothing
    assert json.loads(path.read_text())["env"] == env
    guard(repo, guard_env, "uninstall")
    assert path.read_bytes() == original
    assert not program.exists()


def test_the_prefix_starts_an_mcp_server_as_the_client_does(
    repo: Path, guard_env: dict[str, str]
) -> None:
    """Claude Code (2.1.197, 2.1.332) spawns a stdio MCP server with the whole prefix as the
    program path and the server's command line as one argument; a Bash call or a hook gets
    `<part before the last " -", quoted> <rest> '<string>'` from a shell. Both must run.
    Catches: a prefix with arguments (`<python> -ISc <code> <folder> shell-prefix`, what
    install wrote before: spawning it fails, no such file), seen red; and a program that
    does not pass the server its stdin and stdout."""
    guard(repo, guard_env, "install")
    prefix = json.loads((repo / ".claude" / "settings.local.json").read_text())["env"][PREFIX]
    echo_upper = "import sys; print(sys.stdin.readline().strip().upper())"
    server = shlex.join([sys.executable, "-c", echo_upper])
    env = {**guard_env, "GUARD_SANDBOX": "off"}  # the stdio path, not the kernel, is tested
    spawned = subprocess.run([prefix, server], cwd=repo, env=env, input="ping\n",
                             capture_output=True, text=True, timeout=60)
    assert (spawned.returncode, spawned.stdout) == (0, "PING\n"), spawned.stderr
    cut = prefix.rfind(" -")
    line = (f"{shlex.quote(prefix[:cut])} {prefix[cut + 1:]}" if cut > 0 else
            shlex.quote(prefix)) + " " + shlex.quote("echo through")
    shelled = subprocess.run(["/bin/sh", "-c", line], cwd=repo, env=env, capture_output=True,
                             text=True, timeout=60)
    assert (shelled.returncode, shelled.stdout) == (0, "through\n"), shelled.stderr


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

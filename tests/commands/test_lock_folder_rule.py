"""One lock folder rule for guard and the git hook shims, with HOME unset or unusable: the
same folder, or a clear refusal (for the shims: no pass marker at all). Real processes: the
shim's own sh code and `guard status --json`, which names the folder without creating it."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import other_user
from tests.commands.test_cli_commands import guard
from tests.conftest import GUARD, make_repo, pre_tool, run_hook
from worktree_guard.core.workspace import workspace_key
from worktree_guard.git.shims import shim_text


def shim_pass_folder(env: dict[str, str], tmp_path: Path) -> str | None:
    """The pass folder the real pre-commit shim hands guard in this environment (None: no
    marker): the shim runs with a stand-in guard that prints what it was given."""
    stand_in = tmp_path / "print-pass-file"
    stand_in.write_text('#!/bin/sh\nprintf "%s" "$GUARD_PASS_FILE"\n')
    stand_in.chmod(0o755)
    shim = tmp_path / "pre-commit"
    shim.write_text(shim_text("pre-commit", str(stand_in)))
    shim.chmod(0o755)
    done = subprocess.run([str(shim)], env=env, capture_output=True, text=True, timeout=60,
                          check=True, cwd=tmp_path)  # fmt: skip
    return os.path.dirname(done.stdout) if done.stdout else None


def guard_lock_dir(repo: Path, env: dict[str, str]) -> tuple[str | None, str]:
    done = guard(repo, env, "status", "--json")
    if done.returncode != 0:  # --json: the error is a JSON object on stdout
        return None, json.loads(done.stdout)["error"]
    return json.loads(done.stdout)["lock_dir"], ""


def _env(base: dict[str, str], **changes: str | None) -> dict[str, str]:
    env = {k: v for k, v in base.items() if k not in ("GUARD_LOCK_DIR", "HOME")}
    env["CLAUDE_CODE_SESSION_ID"] = "sess-1"
    env.update({k: v for k, v in changes.items() if v is not None})
    return env


PW_HOME = pwd.getpwuid(os.getuid()).pw_dir


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, f"{PW_HOME}/.claude/runtime"),  # HOME unset: the password database's home
        ({"HOME": ""}, f"{PW_HOME}/.claude/runtime"),
        ({"HOME": "relative/home"}, f"{PW_HOME}/.claude/runtime"),
        ({"HOME": "/no/such/home"}, "/no/such/home/.claude/runtime"),
        ({"HOME": "/no/such/home/"}, "/no/such/home/.claude/runtime"),
        ({"GUARD_LOCK_DIR": "/somewhere/locks"}, "/somewhere/locks"),
        ({"GUARD_LOCK_DIR": "~/locks", "HOME": "/h"}, "/h/locks"),
        ({"GUARD_LOCK_DIR": "relative/locks"}, None),  # refused
    ],
)
def test_guard_and_the_shims_use_one_folder_or_none(
    repo: Path, guard_env: dict[str, str], tmp_path: Path, changes: dict[str, str],
    expected: str | None,
) -> None:
    env = _env(guard_env, **changes)
    folder, error = guard_lock_dir(repo, env)
    assert folder == expected, error
    if folder is None:
        assert "GUARD_LOCK_DIR must be an absolute path" in error
    shim = shim_pass_folder(env, tmp_path)
    # The shim names the same pass folder as guard, or none: never another one.
    assert shim is None or (folder is not None and
                            os.path.normpath(shim) == os.path.join(folder, "git-pass"))
    configured = changes.get("GUARD_LOCK_DIR")
    if (configured or changes.get("HOME", "")).startswith("/"):
        assert shim is not None  # where sh can follow the rule, the fast path stays


def test_a_pass_marker_outside_the_lock_folder_is_never_left(
    repo: Path, guard_env: dict[str, str], lock_dir: Path, tmp_path: Path
) -> None:
    agent = {**guard_env, "CLAUDE_CODE_SESSION_ID": "sess-1"}
    key = workspace_key(os.path.realpath(repo))  # a pass is per tree and session
    stray = tmp_path / "elsewhere" / "git-pass" / f"{key}-sess-1"
    ours = lock_dir / "git-pass" / f"{key}-sess-1"
    for marker, left in ((stray, False), (ours, True)):
        done = subprocess.run([GUARD, "git-hook", "pre-commit"], cwd=repo,
                              env={**agent, "GUARD_PASS_FILE": str(marker)},
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        assert marker.exists() is left, marker


@pytest.mark.guard_fails  # the hook cannot record its failure: what this test is about
def test_an_unusable_home_is_refused_clearly(repo: Path, guard_env: dict[str, str],
                                              tmp_path: Path) -> None:  # fmt: skip
    home_file = tmp_path / "home-is-a-file"
    home_file.write_text("")
    env = _env(guard_env, HOME=str(home_file), NO_COLOR="1")
    env.pop("CLAUDE_CODE_SESSION_ID")
    folder = f"{home_file}/.claude/runtime"
    status = guard(repo, env, "status")
    assert status.returncode == 1
    assert f"lock folder {folder} cannot be created" in status.stdout
    assert "set GUARD_LOCK_DIR, or HOME" in status.stdout
    doctor = guard(repo, env, "doctor")
    assert doctor.returncode == 1 and "FAIL  lock folder" in doctor.stdout
    answer = run_hook(pre_tool("s1", repo), env)
    assert not answer.denied and "(not recorded: lock folder" in answer.stderr
    assert "Traceback" not in answer.stderr


@pytest.fixture
def as_another_user(tmp_path: Path) -> Iterator[tuple[list[str], Path]]:
    """(the argv that runs guard, a folder that user may read but not write). As root: uid
    65534 through setpriv (root writes anywhere, so a read-only folder proves nothing for
    root), with a copy of guard that user can run when this checkout is out of its reach
    (tests/other_user.py)."""
    if os.geteuid() != 0:
        folder = tmp_path / "read-only-home"
        folder.mkdir()
        yield [GUARD], folder  # the test makes it read-only once its repository is in it
        folder.chmod(0o755)
        return
    if shutil.which("setpriv") is None:
        other_user.unavailable("running as root without setpriv (util-linux): no user to "
                               "whom a folder is read-only")
    base = other_user.shared_folder(other_user.SETPRIV)  # readable by that user
    try:
        home = base / "home"
        home.mkdir()
        guard_bin = other_user.guard_for_other_user(GUARD, base)
        yield [*other_user.SETPRIV, guard_bin], home
    finally:
        shutil.rmtree(base)


@pytest.mark.guard_fails  # the hook cannot record its failure: what this test is about
def test_a_home_nobody_may_write_is_refused_clearly(
    guard_env: dict[str, str], as_another_user: tuple[list[str], Path]
) -> None:
    guard_argv, home = as_another_user
    other = guard_argv[0] != GUARD
    repo = make_repo(home / "repo")  # owned by us, read-only for the user running guard
    repo.chmod(0o755)
    home.chmod(0o755 if other else 0o555)  # as root, the other user may not write it
    env = _env(guard_env, HOME=str(home), NO_COLOR="1", GIT_CONFIG_COUNT="1",
               GIT_CONFIG_KEY_0="safe.directory", GIT_CONFIG_VALUE_0="*")  # fmt: skip
    env.pop("CLAUDE_CODE_SESSION_ID")
    status = subprocess.run([*guard_argv, "status"], cwd=repo, env=env, capture_output=True,
                            text=True, timeout=120, check=False)  # fmt: skip
    assert status.returncode == 1, status.stderr
    assert f"lock folder {home}/.claude/runtime cannot be created" in status.stdout
    answer = run_hook(pre_tool("s1", repo), env, argv_prefix=guard_argv[:-1],
                      guard=guard_argv[-1])
    assert not answer.denied and "(not recorded: lock folder" in answer.stderr, answer.stderr
    assert not (home / ".claude").exists()

"""What a person sees, on the real `guard` process in real repositories: status speaks to
whoever runs it, every name is printed escaped, an empty log says so, and failing open is
shown until a person acknowledges it."""

from __future__ import annotations

import fcntl
import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.commands.test_cli_commands import SESSION, guard
from tests.conftest import GUARD, git, make_repo, pre_tool, read_log, run_hook
from worktree_guard.core.workspace import workspace_key

OTHER = "0dd5e551-0000-4000-8000-00000000000b"
LABELLED = re.compile(r"^([A-Za-z ]+:\s|\s{12}\S)")
STATUS_JSON_KEYS = {"workspace", "key", "branch", "lock_dir", "lease", "installed"}


@pytest.fixture
def held(repo: Path, guard_env: dict[str, str], fake_claude: Any) -> Any:
    claude = fake_claude(pre_tool(SESSION, repo), guard_env)
    assert not claude.answer.denied
    return claude


# ---- status speaks to whoever runs it ---------------------------------------------------------


def test_status_tells_a_person_who_holds_the_tree_and_what_it_means(
    repo: Path, guard_env: dict[str, str], held: Any
) -> None:
    done = guard(repo, guard_env, "status")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert all(LABELLED.match(line) for line in lines), lines
    labels = [line.split(":", 1)[0] for line in lines]
    assert labels.count("branch") == 1 and labels.count("its branch") == 1
    assert "you:        a person" in done.stdout
    assert "lease:      held by a session\n" in done.stdout  # a person is no "other session"
    assert "warning (guard.humanPolicy=warn)" in done.stdout
    git(repo, "config", "guard.humanPolicy", "deny")
    denied = guard(repo, guard_env, "status").stdout
    assert "refused (guard.humanPolicy=deny)" in denied


def test_status_tells_an_agent_session_whether_it_holds_the_tree(
    repo: Path, guard_env: dict[str, str], agent_shell: Any
) -> None:
    # "You" is the session's own process tree: status run by the holding agent itself.
    holder = agent_shell(guard_env, repo, SESSION)
    assert not holder.hook(pre_tool(SESSION, repo)).denied
    other = guard(repo, {**guard_env, "CLAUDE_CODE_SESSION_ID": OTHER}, "status").stdout
    assert f"you:        agent session {OTHER}" in other
    assert "held by another session" in other and "refused until it ends" in other
    mine = holder.run(f"{GUARD} status").stdout
    assert "held by you (this session)" in mine and "you hold this tree" in mine


def test_status_json_is_unchanged(repo: Path, guard_env: dict[str, str], held: Any) -> None:
    data = json.loads(guard(repo, guard_env, "status", "--json").stdout)
    assert set(data) == STATUS_JSON_KEYS
    assert data["lease"]["state"] == "held" and data["lease"]["session_id"] == SESSION


# ---- names printed escaped -------------------------------------------------------------------

EVIL = "evil\x1b[2J\x1b]0;pwned\x07"


def test_control_characters_are_escaped_everywhere_guard_prints_them(
    tmp_path: Path, guard_env: dict[str, str]
) -> None:
    repo = make_repo(tmp_path / f"repo-{EVIL}")
    guard_env = {**guard_env, "NO_COLOR": "1"}  # guard's own colours are not the point here
    evil_session = f"s\x1b[31m-{EVIL}"
    assert not run_hook(pre_tool(evil_session, repo), guard_env).denied
    denied = run_hook(pre_tool(OTHER, repo), guard_env)
    assert denied.denied
    outputs = {
        "deny": denied.reason,
        "status": guard(repo, guard_env, "status").stdout,
        "list": guard(repo, guard_env, "list").stdout,
        "log": guard(repo, guard_env, "log").stdout,
        "install": (done := guard(repo, guard_env, "install")).stdout + done.stderr,
        "doctor": guard(repo, guard_env, "doctor").stdout,
        "statusline": guard(repo, guard_env, "statusline",
                            stdin=json.dumps({"session_id": OTHER, "cwd": str(repo)})).stdout,
    }  # fmt: skip
    for name, text in outputs.items():
        assert "\x1b" not in text and "\x07" not in text, name
    for name in ("deny", "status", "list", "log", "doctor"):
        assert "\\x1b[2J" in outputs[name] or "\\u001b[2J" in outputs[name], name
    assert "\\x1b[31m" in outputs["statusline"]  # the holder's short session id
    # Install names the paths as they are: the settings file relative to the tree.
    assert "updated .claude/settings.local.json" in outputs["install"] or \
        "created .claude/settings.local.json" in outputs["install"]


# ---- the log ---------------------------------------------------------------------------------


def test_log_says_so_when_there_are_no_events(tmp_path: Path, guard_env: dict[str, str]) -> None:
    missing = tmp_path / "no-such-folder"
    env = {**guard_env, "GUARD_LOCK_DIR": str(missing)}
    done = guard(tmp_path, env, "log")
    assert done.returncode == 0 and done.stdout.startswith(f"no events yet in {missing}")
    assert "does not exist yet" in done.stdout
    missing.mkdir()
    assert guard(tmp_path, env, "log").stdout == f"no events yet in {missing}\n"
    as_json = guard(tmp_path, env, "log", "--json")
    assert as_json.stdout == "" and "no events yet" in as_json.stderr  # JSON lines stay clean


# ---- failing open, made visible -----------------------------------------------------------------


@pytest.fixture
def lock_held_elsewhere(repo: Path, lock_dir: Path) -> Iterator[None]:
    lock_dir.mkdir(mode=0o700, exist_ok=True)
    fd = os.open(lock_dir / f"session-lock-{workspace_key(os.path.realpath(repo))}.lock",
                 os.O_RDWR | os.O_CREAT, 0o600)  # fmt: skip
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        os.close(fd)


def _statusline(repo: Path, env: dict[str, str]) -> str:
    return guard(repo, env, "statusline",
                 stdin=json.dumps({"session_id": OTHER, "cwd": str(repo)})).stdout  # fmt: skip


@pytest.mark.guard_fails  # what a person sees of a failure
def test_failing_open_is_shown_until_a_person_acknowledges_it(
    repo: Path, guard_env: dict[str, str], lock_dir: Path, lock_held_elsewhere: None
) -> None:
    env = {**guard_env, "GUARD_LOCK_TIMEOUT_MS": "300", "NO_COLOR": "1"}
    for _ in range(2):
        answer = run_hook(pre_tool("s1", repo), env)
        assert answer.returncode == 0 and not answer.denied and "not recorded" not in answer.stderr
    # The git hooks fail open the same way, and count the same.
    agent = {**env, "CLAUDE_CODE_SESSION_ID": "s1"}
    hook = subprocess.run([GUARD, "git-hook", "pre-commit"], cwd=repo, env=agent,
                          capture_output=True, text=True, timeout=120, check=False)
    assert hook.returncode == 0 and "letting git go on" in hook.stderr

    line = "guard failed open 3 times since "
    status = guard(repo, env, "status")
    assert line in status.stdout and "locking" in status.stdout
    assert "guard doctor --ack" in status.stdout
    doctor = guard(repo, env, "doctor")
    assert doctor.returncode == 1 and f"FAIL  failed open: {line}" in doctor.stdout
    assert line in _statusline(repo, env)

    # An agent session cannot make it go away; the person can, and it is logged.
    refused = guard(repo, agent, "doctor", "--ack")
    assert refused.returncode == 1 and "the person acknowledges" in refused.stderr
    assert line in guard(repo, env, "status").stdout
    acked = guard(repo, env, "doctor", "--ack")
    assert f"acknowledged: {line}" in acked.stderr
    assert "failed open" not in guard(repo, env, "status").stdout
    assert "failed open" not in _statusline(repo, env)
    assert "ok    failed open: never" in guard(repo, env, "doctor").stdout
    assert read_log(lock_dir)[-1]["event"] == "failed_open_acknowledged"
    assert read_log(lock_dir)[-1]["count"] == 3
    assert "nothing to acknowledge" in guard(repo, env, "doctor", "--ack").stderr


@pytest.mark.guard_fails  # what a person sees of a failure
def test_failing_closed_is_not_counted_as_failing_open(
    repo: Path, guard_env: dict[str, str], lock_dir: Path, lock_held_elsewhere: None
) -> None:
    env = {**guard_env, "GUARD_LOCK_TIMEOUT_MS": "300", "GUARD_FAIL_CLOSED": "1"}
    assert run_hook(pre_tool("s1", repo), env).denied
    assert "failed open" not in guard(repo, env, "status").stdout
    assert read_log(lock_dir)[-1]["event"] == "error"


@pytest.mark.guard_fails  # what a person sees of a failure
def test_a_broken_lock_folder_is_said_where_it_can_be(
    repo: Path, guard_env: dict[str, str], tmp_path: Path
) -> None:
    not_a_folder = tmp_path / "locks-file"
    not_a_folder.write_text("")
    env = {**guard_env, "GUARD_LOCK_DIR": str(not_a_folder)}
    answer = run_hook(pre_tool("s1", repo), env)
    assert answer.returncode == 0 and not answer.denied
    assert answer.stderr.count("\n") == 1 and "(not recorded: lock folder" in answer.stderr
    status = guard(repo, env, "status")
    assert status.returncode == 1
    assert f"lock folder {not_a_folder} is not a folder: every hook fails open" in status.stdout
    assert "lease:      unknown" in status.stdout
    doctor = guard(repo, env, "doctor")
    assert doctor.returncode == 1 and f"FAIL  lock folder: {not_a_folder} is not a folder" in \
        doctor.stdout


@pytest.mark.guard_fails  # what a person sees of a failure
def test_the_other_agents_hooks_fail_open_visibly_too(
    repo: Path, guard_env: dict[str, str], lock_dir: Path, lock_held_elsewhere: None
) -> None:
    """Gemini CLI's hook (like Codex's and Copilot's) goes through the same failure record:
    with the record left out of `agents/common.failure_answer`, status would show nothing."""
    env = {**guard_env, "GUARD_LOCK_TIMEOUT_MS": "300", "NO_COLOR": "1"}
    payload = {"session_id": "g1", "transcript_path": "", "cwd": str(repo),
               "hook_event_name": "BeforeTool", "timestamp": "2026-01-01T00:00:00Z",
               "tool_name": "write_file",
               "tool_input": {"file_path": str(repo / "x"), "content": "x"}}  # fmt: skip
    done = subprocess.run([GUARD, "hook", "--agent", "gemini"], input=json.dumps(payload),
                          env=env, cwd=repo, capture_output=True, text=True, timeout=120,
                          check=False)  # fmt: skip
    assert done.returncode == 0 and '"deny"' not in done.stdout
    assert "internal error in gemini BeforeTool hook, allowing" in done.stderr
    assert "guard failed open 1 time since " in guard(repo, env, "status").stdout
    assert read_log(lock_dir)[-1]["agent"] == "gemini"

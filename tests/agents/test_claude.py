"""The real `guard hook` process fed real Claude Code payloads, in real git repositories."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import (
    PAYLOADS,
    event,
    git,
    lease_files,
    make_repo,
    pre_tool,
    read_lease,
    read_log,
    run_hook,
)

RECORDED_ROOT = "/home/dev/project"


def recorded(repo: Path, session: str | None = None) -> list[dict[str, Any]]:
    """The recorded payloads, with their paths moved into `repo` (and another session id)."""
    out = []
    for line in PAYLOADS.read_text().splitlines():
        text = json.dumps(json.loads(line)["stdin"]).replace(RECORDED_ROOT, str(repo))
        payload = json.loads(text)
        if session:
            payload["session_id"] = session
        out.append(payload)
    return out


def first(payloads: list[dict[str, Any]], event_name: str, tool: str | None = None,
          subagent: bool = False) -> dict[str, Any]:
    for p in payloads:
        if p["hook_event_name"] == event_name and (tool is None or p.get("tool_name") == tool) \
                and ("agent_id" in p) == subagent:
            return p
    raise LookupError(event_name)


def test_recorded_session_takes_lease_and_second_session_is_denied(
    repo: Path, guard_env: dict[str, str], lock_dir: Path
) -> None:
    mine, theirs = recorded(repo), recorded(repo, session="0f0f0f0f-other-session")
    assert not run_hook(first(mine, "PreToolUse", "Write"), guard_env).denied
    lease = read_lease(lock_dir)
    assert lease["session_id"] == mine[0]["session_id"]
    assert lease["schema_version"] == 1 and lease["workspace"] == str(repo.resolve())
    assert lease["branch"] == "main" and lease["generation"] == 1 and lease["token"]

    denied = run_hook(first(theirs, "PreToolUse", "Write"), guard_env)
    assert denied.returncode == 0 and denied.denied
    reason = denied.reason
    assert "another session holds this working tree" in reason
    assert mine[0]["session_id"][:8] in reason and "on branch main" in reason
    assert "git worktree add" in reason and "guard release --force" in reason
    assert "Do not retry" in reason
    assert run_hook(first(theirs, "PreToolUse", "Edit"), guard_env).denied
    assert run_hook(pre_tool(theirs[0]["session_id"], repo, "Bash", command="make"),
                    guard_env).denied
    # The recorded Bash call (`env | grep ... | sort`) only reads: it passes.
    assert not run_hook(first(theirs, "PreToolUse", "Bash"), guard_env).denied
    assert read_lease(lock_dir)["session_id"] == mine[0]["session_id"]
    assert [e["event"] for e in read_log(lock_dir)].count("denied") == 3


def test_read_only_calls_pass_for_everyone_without_a_lease(
    repo: Path, guard_env: dict[str, str], lock_dir: Path
) -> None:
    theirs = recorded(repo, session="reader")
    for payload in (first(theirs, "PreToolUse", "Read"), first(theirs, "PreToolUse", "Agent"),
                    pre_tool("reader", repo, "Bash", command="git log --oneline | head -5"),
                    pre_tool("reader", repo, "Glob", pattern="**/*.py")):
        answer = run_hook(payload, guard_env)
        assert answer.returncode == 0 and answer.stdout == "", payload
    assert lease_files(lock_dir) == []
    # ...and still pass while another session holds the tree.
    assert not run_hook(pre_tool("writer", repo), guard_env).denied
    assert not run_hook(pre_tool("reader", repo, "Bash", command="cat README"), guard_env).denied
    assert read_lease(lock_dir)["session_id"] == "writer"  # a read takes nothing
    assert run_hook(pre_tool("reader", repo, "Bash", command="cat README > x"), guard_env).denied


def test_subagent_calls_are_the_parent_session(
    repo: Path, guard_env: dict[str, str], lock_dir: Path
) -> None:
    payloads = recorded(repo)
    sub_write = first(payloads, "PreToolUse", "Write", subagent=True)
    parent = sub_write["session_id"]
    parent_edit = next(p for p in payloads if p["session_id"] == parent
                       and p.get("tool_name") == "Edit" and "agent_id" not in p)
    assert not run_hook(parent_edit, guard_env).denied
    assert sub_write["agent_id"]
    assert not run_hook(sub_write, guard_env).denied
    assert not run_hook(pre_tool(parent, repo, "Bash", command="make"), guard_env).denied
    assert read_lease(lock_dir)["session_id"] == parent
    # Another session is still refused while the parent (and its subagents) hold the tree.
    assert run_hook({**sub_write, "session_id": "intruder"}, guard_env).denied


def test_hook_bypass_is_denied_even_for_the_holder(
    repo: Path, guard_env: dict[str, str], lock_dir: Path
) -> None:
    assert not run_hook(pre_tool("holder", repo), guard_env).denied
    for command in ("git commit --no-verify -m x", "git -c core.hooksPath=/dev/null push",
                    "git config core.hooksPath .nohooks"):
        answer = run_hook(pre_tool("holder", repo, "Bash", command=command), guard_env)
        assert answer.denied, command
        assert "switches git hooks off" in answer.reason
    assert not run_hook(pre_tool("holder", repo, "Bash", command="git commit -m x"),
                        guard_env).denied
    assert read_lease(lock_dir)["session_id"] == "holder"


def test_refresh_events_keep_the_lease_and_never_create_one(
    repo: Path, guard_env: dict[str, str], lock_dir: Path
) -> None:
    env = {**guard_env, "GUARD_REFRESH_INTERVAL_MS": "0"}
    mine = recorded(repo)
    for name in ("PostToolUse", "PostToolUseFailure", "Stop"):
        run_hook(first(mine, name), env)
    assert lease_files(lock_dir) == [], "refresh must not create a lease"
    run_hook(first(mine, "PreToolUse", "Write"), env)
    stamp = read_lease(lock_dir)["last_active_at"]
    for name in ("PostToolUse", "PostToolUseFailure", "Stop"):
        before = read_lease(lock_dir)["last_active_at"]
        assert run_hook(first(mine, name), env).stdout == ""
        assert read_lease(lock_dir)["last_active_at"] >= before
    assert read_lease(lock_dir)["last_active_at"] >= stamp
    # Another session's refresh leaves the record alone.
    theirs = recorded(repo, session="someone-else")
    before = read_lease(lock_dir)
    run_hook(first(theirs, "Stop"), env)
    assert read_lease(lock_dir) == before


def test_session_end_releases_only_its_own_lease(
    repo: Path, guard_env: dict[str, str], lock_dir: Path
) -> None:
    mine, theirs = recorded(repo), recorded(repo, session="someone-else")
    run_hook(first(mine, "PreToolUse", "Write"), guard_env)
    run_hook(first(theirs, "SessionEnd"), guard_env)
    assert read_lease(lock_dir)["session_id"] == mine[0]["session_id"]
    run_hook(first(mine, "SessionEnd"), guard_env)
    assert lease_files(lock_dir) == []
    assert not run_hook(first(theirs, "PreToolUse", "Write"), guard_env).denied
    assert {"acquired", "released"} <= {e["event"] for e in read_log(lock_dir)}


def test_session_end_after_cd_releases_the_project_lease(
    repo: Path, guard_env: dict[str, str], lock_dir: Path, tmp_path: Path
) -> None:
    run_hook(pre_tool("s1", repo), guard_env)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**guard_env, "CLAUDE_PROJECT_DIR": str(repo)}
    run_hook(event("s1", elsewhere, "SessionEnd", reason="other"), env)
    assert lease_files(lock_dir) == []


def test_session_start_tells_a_new_session_who_holds_the_tree(
    repo: Path, guard_env: dict[str, str], lock_dir: Path
) -> None:
    start = first(recorded(repo, session="newcomer"), "SessionStart")
    assert run_hook(start, guard_env).stdout == ""
    run_hook(pre_tool("holder-session", repo), guard_env)
    answer = run_hook(start, guard_env)
    out = json.loads(answer.stdout)["hookSpecificOutput"]
    assert out["hookEventName"] == "SessionStart"
    assert "another live session holds this working tree" in out["additionalContext"]
    assert "holder-s" in out["additionalContext"]
    # The holder itself is told nothing.
    assert run_hook(event("holder-session", repo, "SessionStart", source="resume"),
                    guard_env).stdout == ""


def test_outside_a_repository_or_a_missing_cwd_allows_and_takes_nothing(
    tmp_path: Path, guard_env: dict[str, str], lock_dir: Path
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    for cwd in (plain, tmp_path / "does-not-exist"):
        for payload in (pre_tool("s1", cwd), pre_tool("s1", cwd, "Bash")):
            answer = run_hook(payload, guard_env)
            assert answer.returncode == 0 and answer.stdout == ""
    assert lease_files(lock_dir) == []


def test_subfolder_symlink_and_worktree_identity(
    repo: Path, guard_env: dict[str, str], lock_dir: Path, tmp_path: Path
) -> None:
    sub = repo / "a" / "b"
    sub.mkdir(parents=True)
    link = tmp_path / "link-to-repo"
    link.symlink_to(repo)
    run_hook(pre_tool("s1", sub), guard_env)
    assert run_hook(pre_tool("s2", link), guard_env).denied
    assert run_hook(pre_tool("s2", link / "a" / "b"), guard_env).denied
    assert len(lease_files(lock_dir)) == 1
    # A linked worktree is a workspace of its own: the supported way to work in parallel.
    wt = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", str(wt), "-b", "feature")
    assert not run_hook(pre_tool("s2", wt), guard_env).denied
    assert len(lease_files(lock_dir)) == 2
    assert read_lease_for(lock_dir, "s2")["branch"] == "feature"
    assert read_lease_for(lock_dir, "s2")["workspace"] == str(wt.resolve())


def read_lease_for(lock_dir: Path, session: str) -> dict[str, Any]:
    for path in lease_files(lock_dir):
        record: dict[str, Any] = json.loads(path.read_text())
        if record["session_id"] == session:
            return record
    raise LookupError(session)


def test_key_is_md5_of_git_toplevel(repo: Path, guard_env: dict[str, str], lock_dir: Path) -> None:
    import hashlib

    run_hook(pre_tool("s1", repo / "."), guard_env)
    top = git(repo, "rev-parse", "--show-toplevel")
    key = hashlib.md5(os.path.realpath(top).encode()).hexdigest()[:12]
    assert [p.name for p in lease_files(lock_dir)] == [f"session-lock-{key}.json"]
    assert oct((lock_dir / f"session-lock-{key}.json").stat().st_mode & 0o777) == "0o600"
    assert oct(lock_dir.stat().st_mode & 0o777) == "0o700"


def test_a_write_into_another_repository_uses_that_repositorys_lease(
    repo: Path, guard_env: dict[str, str], lock_dir: Path, tmp_path: Path
) -> None:
    other = make_repo(tmp_path / "other")
    run_hook(pre_tool("owner-of-other", other), guard_env)
    target = other / "new" / "deep" / "file.txt"
    answer = run_hook(pre_tool("s1", repo, file_path=str(target), content="x"), guard_env)
    assert answer.denied and str(other.resolve()) in answer.reason
    assert not run_hook(pre_tool("s1", repo), guard_env).denied


def test_hijack_is_reported_to_the_holder_once(
    repo: Path, guard_env: dict[str, str], lock_dir: Path
) -> None:
    env = {**guard_env, "GUARD_REFRESH_INTERVAL_MS": "0"}
    assert not run_hook(pre_tool("holder", repo), env).denied
    git(repo, "checkout", "-q", "-b", "deploy-hotfix")  # a person, outside any hook
    answer = run_hook(pre_tool("holder", repo), env)
    assert answer.denied
    assert "from branch main to deploy-hotfix" in answer.reason
    assert not run_hook(pre_tool("holder", repo), env).denied, "reported once, then go on"
    assert "hijack" in {e["event"] for e in read_log(lock_dir)}


def test_the_holders_own_checkout_is_no_hijack(
    repo: Path, guard_env: dict[str, str], lock_dir: Path
) -> None:
    env = {**guard_env, "GUARD_REFRESH_INTERVAL_MS": "0"}
    command = "git checkout -b mine"
    assert not run_hook(pre_tool("holder", repo, "Bash", command=command), env).denied
    assert read_lease(lock_dir)["session_id"] == "holder"  # allowed: the tree taken for it
    git(repo, "checkout", "-q", "-b", "mine")  # the tool runs
    post = {**pre_tool("holder", repo, "Bash", command=command),
            "hook_event_name": "PostToolUse", "tool_response": {}}
    run_hook(post, env)
    assert read_lease(lock_dir)["branch"] == "mine"
    assert not run_hook(pre_tool("holder", repo), env).denied


@pytest.mark.parametrize("tool", ["Edit", "Write", "MultiEdit", "NotebookEdit"])
def test_every_file_tool_is_guarded(
    tool: str, repo: Path, guard_env: dict[str, str], lock_dir: Path
) -> None:
    run_hook(pre_tool("holder", repo), guard_env)
    key = "notebook_path" if tool == "NotebookEdit" else "file_path"
    payload = pre_tool("other", repo, tool, **{key: str(repo / "n.ipynb")})
    assert run_hook(payload, guard_env).denied


def test_the_way_out_is_open_to_a_denied_session(
    repo: Path, guard_env: dict[str, str], lock_dir: Path, tmp_path: Path
) -> None:
    assert not run_hook(pre_tool("holder", repo), guard_env).denied
    reason = run_hook(pre_tool("other", repo), guard_env).reason
    assert "git worktree add ../<name> -b <branch>" in reason
    command = f"git worktree add {tmp_path / 'mine'} -b other-work"
    assert not run_hook(pre_tool("other", repo, "Bash", command=command), guard_env).denied
    assert read_lease(lock_dir)["session_id"] == "holder"
    git(repo, "worktree", "add", "-q", str(tmp_path / "mine"), "-b", "other-work")
    assert not run_hook(pre_tool("other", tmp_path / "mine"), guard_env).denied
    # Anything more than adding a tree is still a change to this one.
    both = f"git worktree add {tmp_path / 'x'} -b y && rm README"
    assert run_hook(pre_tool("other", repo, "Bash", command=both), guard_env).denied


def test_a_switch_during_the_holders_long_command_is_still_a_hijack(
    repo: Path, guard_env: dict[str, str], lock_dir: Path
) -> None:
    env = {**guard_env, "GUARD_REFRESH_INTERVAL_MS": "0"}
    assert not run_hook(pre_tool("holder", repo, "Bash", command="make test"), env).denied
    assert read_lease(lock_dir)["session_id"] == "holder"
    git(repo, "checkout", "-q", "-b", "switched-meanwhile")  # someone else, mid-command
    post = {**pre_tool("holder", repo, "Bash", command="make test"),
            "hook_event_name": "PostToolUse", "tool_response": {}}
    run_hook(post, env)
    run_hook(event("holder", repo, "Stop"), env)
    assert read_lease(lock_dir)["branch"] == "main", "the holder never saw that switch"
    answer = run_hook(pre_tool("holder", repo), env)
    assert answer.denied and "from branch main to switched-meanwhile" in answer.reason

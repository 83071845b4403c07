"""One writer per working tree, checked with the real Claude Code client.

Three `claude -p` sessions share one git repo whose Claude Code settings run `guard hook`
(written by hand as the client documents them, and again by `guard install` alone); a scripted
stand-in for the model API drives their tool calls:

* A writes a.txt, then the fake API holds A's next answer, so A stays alive
  holding the working tree;
* B, concurrently, tries to write b.txt and must be denied, the model seeing
  guard's reason as an error tool_result;
* A is released and ends (its SessionEnd frees the tree); C then writes c.txt.
"""

from __future__ import annotations

import json
import shlex
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .agent_sessions import (
    DENY_PHRASE,
    RUN_TIMEOUT_S,
    AgentRun,
    base_env,
    git,
    logged_events,
    result_text,
)
from .fake_model_api import FakeModelAPI, Gate, Text, ToolUse, Turn

pytestmark = pytest.mark.e2e

# The `event` values of guard's log (JSON lines in GUARD_LOCK_DIR).
ACQUIRED_EVENT, DENIED_EVENT, RELEASED_EVENT = "acquired", "denied", "released"

HOOK_TIMEOUT_S = 5

GUARDED_TOOLS = "Edit|Write|MultiEdit|NotebookEdit|Bash"
HOOK_EVENTS = ("PostToolUse", "PostToolUseFailure", "Stop", "SessionStart", "SessionEnd")


def write_guard_settings(repo: Path, guard_bin: Path) -> None:
    """Register `guard hook` for the repo by hand, in the client's settings format."""
    hook = {
        "type": "command",
        "command": f"{shlex.quote(str(guard_bin))} hook",
        "timeout": HOOK_TIMEOUT_S,
    }
    hooks: dict[str, list[dict[str, Any]]] = {
        "PreToolUse": [{"matcher": GUARDED_TOOLS, "hooks": [hook]}],
    }
    for event in HOOK_EVENTS:
        hooks[event] = [{"hooks": [hook]}]
    settings = repo / ".claude" / "settings.json"
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text(json.dumps({"hooks": hooks}, indent=2) + "\n")


@dataclass
class Harness:
    claude_bin: Path
    repo: Path
    lock_dir: Path
    api: FakeModelAPI
    tmp: Path

    def start(self, name: str, prompt: str) -> AgentRun:
        run_dir = self.tmp / f"session-{name}"
        home = run_dir / "home"  # a throwaway HOME per run: the user's ~/.claude is never touched
        home.mkdir(parents=True)
        env = base_env(home)
        env.update(
            ANTHROPIC_BASE_URL=self.api.base_url,
            ANTHROPIC_API_KEY="dummy",
            CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
            DISABLE_AUTOUPDATER="1",
            IS_SANDBOX="1",  # lets root use bypassPermissions
            GUARD_LOCK_DIR=str(self.lock_dir),
        )
        with (run_dir / "stdout").open("wb") as out, (run_dir / "stderr").open("wb") as err:
            proc = subprocess.Popen(
                [str(self.claude_bin), "-p", prompt, "--permission-mode", "bypassPermissions"],
                cwd=self.repo,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        return AgentRun(name, proc, run_dir)

    def report(self, *runs: AgentRun) -> str:
        """What to show when an assertion fails: the sessions' output and guard's log."""
        events = "\n".join(json.dumps(r) for r in logged_events(self.lock_dir))
        return "\n".join([*(run.output() for run in runs), f"--- guard events ---\n{events}"])


def run_guard_install(repo: Path, guard_bin: Path) -> None:
    """Set the repo up the way a user does: `guard install`, nothing else."""
    env = {**base_env(repo.parent / "home"), "GIT_CONFIG_NOSYSTEM": "1"}
    done = subprocess.run([str(guard_bin), "install"], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (repo / ".claude" / "settings.local.json").is_file()


@pytest.fixture(params=["settings by hand", "guard install"])
def repo(request: pytest.FixtureRequest, tmp_path: Path, guard_bin: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "README.md").write_text("e2e\n")
    git(repo, "add", "README.md")
    git(repo, "commit", "-q", "-m", "init")
    if request.param == "guard install":
        run_guard_install(repo, guard_bin)
    else:
        write_guard_settings(repo, guard_bin)
    return repo


def logged(lock_dir: Path, event: str, session_ids: set[str]) -> bool:
    """Whether the log has `event` for one of the sessions (whatever field names the id)."""
    return any(
        r.get("event") == event and not session_ids.isdisjoint(map(str, r.values()))
        for r in logged_events(lock_dir)
    )


def write(path: Path, content: str) -> Turn:
    return Turn([ToolUse("Write", {"file_path": str(path), "content": content})])


@pytest.fixture
def harness(tmp_path: Path, repo: Path, claude_bin: Path) -> Iterator[Harness]:
    lock_dir = tmp_path / "locks"
    lock_dir.mkdir()
    with FakeModelAPI() as api:
        yield Harness(claude_bin, repo, lock_dir, api, tmp_path)


def test_second_session_is_denied_until_first_ends(harness: Harness) -> None:
    repo, api = harness.repo, harness.api
    hold_a = Gate()
    api.scripts.update(
        a=[write(repo / "a.txt", "from A\n"), Turn([Text("done")], gate=hold_a)],
        b=[write(repo / "b.txt", "from B\n"), Turn([Text("done")])],
        c=[write(repo / "c.txt", "from C\n"), Turn([Text("done")])],
    )
    runs: list[AgentRun] = []
    try:
        a = harness.start("a", "SCRIPT:a write a.txt")
        runs.append(a)
        # A asking for its next turn means its Write ran and the result came back:
        # A now holds the tree, mid-turn, and waits on the gate.
        reached = hold_a.wait_reached(RUN_TIMEOUT_S)
        assert reached, "session A never finished its Write\n" + harness.report(a)
        assert (repo / "a.txt").read_text() == "from A\n"
        a_result = api.tool_result("a")
        assert a_result is not None and not a_result.get("is_error"), a_result

        b = harness.start("b", "SCRIPT:b write b.txt")
        runs.append(b)
        assert b.wait() == 0, harness.report(b)
        assert a.running(), "A ended before B did: not concurrent\n" + harness.report(a, b)

        assert not (repo / "b.txt").exists(), "B wrote while A held the tree\n" + harness.report(b)
        b_result = api.tool_result("b")
        assert b_result is not None, "no tool_result for B's Write\n" + harness.report(b)
        assert b_result.get("is_error") is True, b_result
        assert DENY_PHRASE.lower() in result_text(b_result).lower(), b_result
        # B was also warned up front: guard's SessionStart context reaches the model
        # (in 2.1.197 as a role "system" entry of `messages`), before any tool call.
        first_b = next(r for r in api.requests("scripted") if r.script == "b")
        assert DENY_PHRASE.lower() in json.dumps(first_b.body["messages"]).lower()
        # The client names its session in a request header; the hooks get the same id.
        session_a, session_b = api.session_ids("a"), api.session_ids("b")
        assert session_a and session_b and session_a.isdisjoint(session_b)
        assert logged(harness.lock_dir, ACQUIRED_EVENT, session_a), harness.report()
        assert logged(harness.lock_dir, DENIED_EVENT, session_b), harness.report()

        hold_a.open()
        assert a.wait() == 0, harness.report(a)
        assert logged(harness.lock_dir, RELEASED_EVENT, session_a), harness.report(a)

        c = harness.start("c", "SCRIPT:c write c.txt")
        runs.append(c)
        assert c.wait() == 0, harness.report(c)
        c_result = api.tool_result("c")
        assert c_result is not None, "no tool_result for C's Write\n" + harness.report(c)
        assert not c_result.get("is_error"), f"{c_result}\n{harness.report(c)}"
        assert (repo / "c.txt").read_text() == "from C\n"
        assert (repo / "a.txt").read_text() == "from A\n"
    finally:
        hold_a.open()
        for run in runs:
            run.kill()


def bash(command: str) -> Turn:
    return Turn([ToolUse("Bash", {"command": command, "description": "step"})])


def git_log(tree: Path, ref: str) -> str:
    done = subprocess.run(["git", "log", "--format=%s", ref], cwd=tree, capture_output=True,
                          text=True, check=False)
    return done.stdout


def test_the_way_out_works_end_to_end(harness: Harness, claude_version: str) -> None:
    """B, denied in A's tree, makes its own worktree from a call whose cwd is still A's tree,
    writes there and commits both ways (`git -C` and `cd ... &&`); its edits of A's files by
    absolute path, with Write or with sed, stay denied, and the model reads why."""
    repo, api = harness.repo, harness.api
    git(repo, "config", "user.name", "e2e")
    git(repo, "config", "user.email", "e2e@example.invalid")
    other = repo.parent / "b-wt"
    hold_a = Gate()
    api.scripts.update(
        a=[write(repo / "a.txt", "from A\n"), Turn([Text("done")], gate=hold_a)],
        b=[
            bash("git worktree add ../b-wt -b b-branch"),
            write(other / "x.txt", "from B\n"),
            bash("git -C ../b-wt add x.txt && git -C ../b-wt commit -qm from-b"),
            bash("cd ../b-wt && echo y > y.txt && git add y.txt && git commit -qm y-from-b"),
            write(repo / "b-was-here.txt", "B was here\n"),  # new: no read-first check
            bash(f"sed -i s/e2e/hacked/ {repo / 'README.md'}"),
            Turn([Text("done")]),
        ],
    )
    runs: list[AgentRun] = []
    try:
        a = harness.start("a", "SCRIPT:a write a.txt")
        runs.append(a)
        assert hold_a.wait_reached(RUN_TIMEOUT_S), harness.report(a)
        b = harness.start("b", "SCRIPT:b work in your own worktree")
        runs.append(b)
        assert b.wait() == 0, harness.report(b)
        assert a.running(), harness.report(a, b)
        for turn in range(4):
            result = api.tool_result("b", turn)
            assert result is not None and not result.get("is_error"), (
                f"turn {turn}: {result}\n{harness.report(b)}")
        assert (other / "x.txt").read_text() == "from B\n"
        assert git_log(other, "b-branch").split() == ["y-from-b", "from-b", "init"]
        for turn in (4, 5):
            result = api.tool_result("b", turn)
            assert result is not None and result.get("is_error") is True, (turn, result)
            text = result_text(result)
            assert DENY_PHRASE in text and "EnterWorktree" in text, text
            if claude_version != "2.1.197":
                # What the model sees on the current client: the reason behind a prefix.
                assert "hook error" in text, text
        assert (repo / "README.md").read_text() == "e2e\n"
        assert not (repo / "b-was-here.txt").exists()
        assert git_log(repo, "HEAD").split() == ["init"]
    finally:
        hold_a.open()
        for run in runs:
            run.kill()


def test_enter_worktree_is_a_way_out(harness: Harness, claude_version: str) -> None:
    """B, denied in A's tree, uses the client's own EnterWorktree tool, writes and commits
    in the new tree under .claude/worktrees, which guard lets it take."""
    if claude_version == "2.1.197":
        pytest.skip("EnterWorktree is measured on the current client only")
    repo, api = harness.repo, harness.api
    git(repo, "config", "user.name", "e2e")
    git(repo, "config", "user.email", "e2e@example.invalid")
    tree = repo / ".claude" / "worktrees" / "bwork"
    hold_a = Gate()
    api.scripts.update(
        a=[write(repo / "a.txt", "from A\n"), Turn([Text("done")], gate=hold_a)],
        b=[
            Turn([ToolUse("ToolSearch", {"query": "select:EnterWorktree", "max_results": 1})]),
            Turn([ToolUse("EnterWorktree", {"name": "bwork"})]),
            write(tree / "x.txt", "from B\n"),
            bash("git add x.txt && git commit -qm from-b"),
            Turn([Text("done")]),
        ],
    )
    runs: list[AgentRun] = []
    try:
        a = harness.start("a", "SCRIPT:a write a.txt")
        runs.append(a)
        assert hold_a.wait_reached(RUN_TIMEOUT_S), harness.report(a)
        b = harness.start("b", "SCRIPT:b use EnterWorktree")
        runs.append(b)
        assert b.wait() == 0, harness.report(b)
        for turn in range(1, 4):
            result = api.tool_result("b", turn)
            assert result is not None and not result.get("is_error"), (
                f"turn {turn}: {result}\n{harness.report(b)}")
        assert (tree / "x.txt").read_text() == "from B\n"
        assert git_log(tree, "HEAD").split()[0] == "from-b"
        assert git_log(repo, "HEAD").split() == ["init"]
    finally:
        hold_a.open()
        for run in runs:
            run.kill()

"""The session label git hooks read in Copilot's and Codex's shells.

Copilot CLI's shell exports COPILOT_AGENT_SESSION_ID (its hook payload's sessionId), Codex's
CODEX_THREAD_ID (its session_id). The git hooks take them as the session, after
GUARD_SESSION_ID and CLAUDE_CODE_SESSION_ID: a Copilot commit is that session's, not a
person's. Real agent processes (copies of bash named `copilot`, `codex`, `claude`) run git
with guard's hooks installed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import event, pre_tool, read_lease
from worktree_guard.core.identity import session_from_env

A = "aaaaaaaa-0000-4000-8000-00000000000a"
COP = "cccccccc-0000-4000-8000-00000000000c"
COP2 = "dddddddd-0000-4000-8000-00000000000d"


@pytest.fixture
def env(guard_env: dict[str, str], repo: Path) -> dict[str, str]:
    from tests.git.conftest import install_shims

    install_shims(repo)
    return {**guard_env, "GUARD_REFRESH_INTERVAL_MS": "0"}


def head(repo: Path) -> str:
    return (repo / ".git" / "refs" / "heads" / "main").read_text().strip()


def commit(agent: Any, flags: str = "") -> Any:
    return agent.run(f"echo {agent.pid} >> f.txt && git add f.txt && "
                     f"git commit -q {flags} -m 'by {agent.pid}'")


def copilot_pre_tool(agent: Any, session: str, repo: Path) -> str:
    """Copilot's own hook, run by the Copilot process as Copilot runs it."""
    payload = {"sessionId": session, "timestamp": 1, "cwd": str(repo), "toolName": "create",
               "toolArgs": json.dumps({"path": str(repo / "x.txt"), "file_text": "x"})}
    done = agent.run('"$GUARD_BIN" hook --agent copilot preToolUse', stdin=json.dumps(payload))
    assert done.returncode == 0, done.stderr
    return str(done.stdout)


def test_the_labels_are_read_in_order() -> None:
    assert session_from_env({"COPILOT_AGENT_SESSION_ID": COP}) == COP
    assert session_from_env({"CODEX_THREAD_ID": "t"}) == "t"
    assert session_from_env({"CODEX_THREAD_ID": "t", "COPILOT_AGENT_SESSION_ID": COP}) == COP
    assert session_from_env({"CLAUDE_CODE_SESSION_ID": A, "COPILOT_AGENT_SESSION_ID": COP}) == A


@pytest.mark.parametrize("flags", ["", "--no-verify"])
def test_a_copilot_commit_of_a_non_holder_is_refused_and_the_holders_goes_through(
        agent_shell: Any, env: dict[str, str], repo: Path, lock_dir: Path, flags: str) -> None:
    claude = agent_shell(env, repo, A)
    assert not claude.hook(pre_tool(A, repo)).denied  # a Claude session holds the tree
    copilot = agent_shell(env, repo, COP, "copilot")
    before = head(repo)
    done = commit(copilot, flags)
    assert done.returncode != 0 and "another session holds" in done.stderr, done.stderr
    assert head(repo) == before
    # Once the Claude session is over, the Copilot session takes the tree and commits.
    assert not claude.hook(event(A, repo, "SessionEnd", reason="other")).denied
    assert "deny" not in copilot_pre_tool(copilot, COP, repo)
    assert read_lease(lock_dir)["session_id"] == COP
    assert commit(copilot, flags).returncode == 0
    assert head(repo) != before
    # A second Copilot session is kept out of the first one's tree, at git too.
    other = agent_shell(env, repo, COP2, "copilot")
    moved = head(repo)
    done = commit(other, flags)
    assert done.returncode != 0 and "another session holds" in done.stderr, done.stderr
    assert head(repo) == moved


@pytest.mark.parametrize(("agent", "label"), [("copilot", COP), ("codex", "thread-1")])
def test_a_commit_in_a_free_tree_takes_it_for_the_session_the_hooks_know(
        agent_shell: Any, env: dict[str, str], repo: Path, lock_dir: Path, agent: str,
        label: str) -> None:
    """The lease a git commit takes is the agent's own session (its pre-tool hook's id), not
    a label made up from its process: its next tool call is the holder's."""
    shell = agent_shell(env, repo, label, agent)
    assert commit(shell).returncode == 0
    assert read_lease(lock_dir)["session_id"] == label


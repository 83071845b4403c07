"""Who is asking cannot be forged: real agent processes (copies of bash named `claude`), one
holding the tree (A), one other session (B), with guard's real hooks.

Each forgery is shown to pass a naive check in the same test: the label B presents is
exactly the holder's (a check of the session id alone, `naive_holds`, accepts it), or the
environment B gives git names no agent at all (a check of the environment alone,
`session_from_env`, takes it for a person). guard decides by process, and refuses. Each
also has its control: the same act from A's own tree works.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import GUARD, event, pre_tool, read_lease, run_as_person
from worktree_guard.core.identity import session_from_env

A = "aaaaaaaa-0000-4000-8000-00000000000a"
B = "bbbbbbbb-0000-4000-8000-00000000000b"


def naive_holds(lease: dict[str, Any], label: str | None) -> bool:
    """The check guard no longer makes: the session id alone."""
    return label is not None and lease["session_id"] == label


class Pair:
    def __init__(self, agent_shell: Any, env: dict[str, str], repo: Path, lock_dir: Path) -> None:
        self.repo = repo
        self.lock_dir = lock_dir
        self.a = agent_shell(env, repo, A)
        self.b = agent_shell(env, repo, B)
        assert not self.a.hook(pre_tool(A, repo)).denied
        assert self.lease()["pid"] == self.a.pid

    def lease(self) -> dict[str, Any]:
        return read_lease(self.lock_dir)

    def commit(self, agent: Any, prefix: str = "") -> Any:
        return agent.run(f"echo {agent.pid} >> f.txt && git add f.txt && "
                         f"{prefix}git commit -q -m 'by {agent.pid}'")


@pytest.fixture
def pair(agent_shell: Any, guard_env: dict[str, str], repo: Path, lock_dir: Path) -> Pair:
    from tests.git.conftest import install_shims

    install_shims(repo)
    return Pair(agent_shell, {**guard_env, "GUARD_REFRESH_INTERVAL_MS": "0"}, repo, lock_dir)


def head(repo: Path) -> str:
    return (repo / ".git" / "refs" / "heads" / "main").read_text().strip()


@pytest.mark.parametrize("variable", ["CLAUDE_CODE_SESSION_ID", "GUARD_SESSION_ID"])
def test_the_holders_id_in_the_environment_does_not_make_a_holder(
    pair: Pair, variable: str
) -> None:
    # B read A's id from the lease file (which `cat` may read) and put it in git's env.
    borrowed = pair.b.run("cat " + str(next(pair.lock_dir.glob("session-lock-*.json"))))
    label = json.loads(borrowed.stdout)["session_id"]
    assert naive_holds(pair.lease(), label)
    before = head(pair.repo)
    done = pair.commit(pair.b, f"{variable}={label} ")
    assert done.returncode != 0 and "another session holds" in done.stderr, done.stderr
    assert head(pair.repo) == before
    # Control: the holder commits.
    assert pair.commit(pair.a).returncode == 0


def test_a_forged_pre_tool_use_with_the_holders_id_is_denied(pair: Pair) -> None:
    payload = pre_tool(A, pair.repo)
    assert naive_holds(pair.lease(), payload["session_id"])
    assert pair.b.hook(payload).denied
    assert not pair.a.hook(payload).denied  # control


def test_a_forged_session_end_does_not_free_the_holders_lease(pair: Pair) -> None:
    payload = event(A, pair.repo, "SessionEnd", reason="other")
    assert naive_holds(pair.lease(), payload["session_id"])
    pair.b.hook(payload)
    assert pair.lease()["session_id"] == A
    assert pair.b.hook(pre_tool(B, pair.repo)).denied  # B is still kept out
    pair.a.hook(payload)  # control: from the holder's own tree it releases
    assert not list(pair.lock_dir.glob("session-lock-*.json"))


@pytest.mark.parametrize("name", ["PostToolUse", "Stop"])
def test_a_forged_refresh_does_not_keep_a_lease_alive(pair: Pair, name: str) -> None:
    path = next(pair.lock_dir.glob("session-lock-*.json"))
    record = json.loads(path.read_text())
    record["last_active_at"] -= 60_000  # a minute idle: a refresh would rewrite it
    path.write_text(json.dumps(record))
    payload = event(A, pair.repo, name)
    assert naive_holds(record, payload["session_id"])
    pair.b.hook(payload)
    assert pair.lease()["last_active_at"] == record["last_active_at"]
    pair.a.hook(payload)  # control
    assert pair.lease()["last_active_at"] > record["last_active_at"]


def test_an_agent_that_clears_its_session_variable_is_still_an_agent(pair: Pair) -> None:
    assert session_from_env({"PATH": "/usr/bin"}) is None  # naive: a person, only warned
    before = head(pair.repo)
    for prefix in ("CLAUDE_CODE_SESSION_ID= ", "env -u CLAUDE_CODE_SESSION_ID -u CLAUDE_PID ",
                   "env -i PATH=\"$PATH\" HOME=\"$HOME\" GUARD_LOCK_DIR=\"$GUARD_LOCK_DIR\" "):
        done = pair.commit(pair.b, prefix)
        assert done.returncode != 0, prefix
        assert "another session holds" in done.stderr, (prefix, done.stderr)
    assert head(pair.repo) == before
    # The holder clearing its own variable is still the holder (its process says so).
    assert pair.commit(pair.a, "CLAUDE_CODE_SESSION_ID= ").returncode == 0


def test_release_force_is_refused_under_an_agent_and_works_for_a_person(
    pair: Pair, guard_env: dict[str, str]
) -> None:
    for line in (f"{GUARD} release --force --yes",
                 f"env -u CLAUDE_CODE_SESSION_ID -u CLAUDE_PID {GUARD} release --force --yes"):
        done = pair.b.run(line)
        assert done.returncode == 1 and "a person" in done.stderr, done.stderr
        assert pair.lease()["session_id"] == A
    # The naive check (the environment) takes the second one for a person:
    assert session_from_env({}) is None
    # B's own plain release cannot free A's lease either, even with A's id.
    done = pair.b.run(f"GUARD_SESSION_ID={A} {GUARD} release")
    assert done.returncode == 1 and pair.lease()["session_id"] == A
    # A person, outside every agent's tree, frees it.
    person = run_as_person([GUARD, "release", "--force", "--yes"], pair.repo, guard_env)
    assert person.returncode == 0, person.stderr
    assert not list(pair.lock_dir.glob("session-lock-*.json"))


def test_claude_pid_is_trusted_only_when_it_names_an_ancestor(pair: Pair) -> None:
    probe = ("python3 -c 'from worktree_guard.core.identity import find_agent as f; "
             "a = f(); print(a.pid if a else None)'")
    own = pair.b.run(probe.replace("python3", _venv_python()))
    assert own.stdout.strip() == str(pair.b.pid)
    # B claims to be A's process: A is no ancestor of B, so the claim is ignored.
    claimed = pair.b.run(f"CLAUDE_PID={pair.a.pid} " + probe.replace("python3", _venv_python()))
    assert claimed.stdout.strip() == str(pair.b.pid)


def _venv_python() -> str:
    return str(Path(GUARD).parent / "python")

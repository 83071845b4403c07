"""Identity is a process: the agent among a process's ancestors, and whether a lease's holder
is the caller itself or one of its ancestors (real processes, real /proc)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from worktree_guard.core import identity
from worktree_guard.core.identity import (
    AgentKind,
    ProcessId,
    find_agent,
    holder_in_ancestry,
    process_id,
)


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(["sleep", "600"])
    yield proc
    proc.kill()
    proc.wait()


def test_holder_in_ancestry_is_true_only_for_self_and_ancestors(
    sleeper: subprocess.Popen[bytes],
) -> None:
    assert holder_in_ancestry(process_id(os.getpid())) is True
    assert holder_in_ancestry(process_id(os.getppid())) is True
    assert holder_in_ancestry(process_id(sleeper.pid)) is False  # a sibling's child
    me = process_id(os.getpid())
    reused = ProcessId(me.pid, (me.start_time or 0) + 1, me.boot_id, me.pid_ns)
    assert holder_in_ancestry(reused) is False  # the same pid, another process
    assert holder_in_ancestry(ProcessId(os.getpid(), None, None)) is None  # cannot tell
    other_boot = ProcessId(me.pid, me.start_time, "another-boot", me.pid_ns)
    assert holder_in_ancestry(other_boot) is False


def test_claude_pid_counts_only_when_it_names_an_ancestor(
    sleeper: subprocess.Popen[bytes],
) -> None:
    parent = find_agent({"CLAUDE_PID": str(os.getppid())})
    assert parent is not None and parent.pid == os.getppid()
    assert parent.kind.name == "claude"
    # A pid that is no ancestor (what a naive check of the variable would believe) is ignored.
    claimed = find_agent({"CLAUDE_PID": str(sleeper.pid)})
    assert claimed is None or claimed.pid != sleeper.pid
    assert find_agent({"CLAUDE_PID": "not a pid"}) == find_agent({})


def _child_of(pid: int) -> int:
    """The `sleep` child of `pid`: a bounded wait while the shell forks it and the fork
    execs sleep (until then the fork still bears the shell's name)."""
    for _ in range(3000):
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            if children and Path(f"/proc/{children[0]}/comm").read_text().strip() == "sleep":
                return int(children[0])
        except OSError:
            pass
        time.sleep(0.01)
    raise AssertionError("no sleep child appeared")


def test_an_agent_kind_is_one_table_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    binary = tmp_path / "fakeagent"
    shutil.copy2(shutil.which("bash") or "/bin/bash", binary)
    agent = subprocess.Popen([str(binary), "-c", "sleep 600; :"], start_new_session=True)
    try:
        child = _child_of(agent.pid)
        before = find_agent({}, start_pid=child)
        assert before is None or before.pid != agent.pid  # not a known kind: not an agent
        kind = AgentKind("fake", frozenset({"fakeagent"}), frozenset())
        monkeypatch.setattr(identity, "AGENT_KINDS", (*identity.AGENT_KINDS, kind))
        found = find_agent({}, start_pid=child)
        assert found is not None and found.pid == agent.pid and found.kind is kind
    finally:
        os.killpg(agent.pid, 9)
        agent.wait()


def test_an_interpreter_running_the_client_script_is_the_agent(tmp_path: Path) -> None:
    """`node .../claude` (the npm client) is recognised by its script name."""
    binary = tmp_path / "node"
    shutil.copy2(shutil.which("bash") or "/bin/bash", binary)
    script = tmp_path / "claude"
    script.write_text("sleep 600; :\n")
    agent = subprocess.Popen([str(binary), str(script)], start_new_session=True)
    try:
        found = find_agent({}, start_pid=_child_of(agent.pid))
        assert found is not None and found.pid == agent.pid
    finally:
        os.killpg(agent.pid, 9)
        agent.wait()


def test_a_native_client_with_a_renamed_main_thread_is_found_by_its_argv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client whose process name is not its own (a main thread named `MainThread`) is
    one entry with `launchers`: its argv names it."""
    binary = tmp_path / "MainThread"
    shutil.copy2(shutil.which("bash") or "/bin/bash", binary)
    bash = shutil.which("bash") or "/bin/bash"
    agent = subprocess.Popen(
        [bash, "-c", f'exec -a /opt/fakecli/fakecli "{binary}" -c "sleep 600; :"'],
        start_new_session=True)
    try:
        child = _child_of(agent.pid)
        kind = AgentKind("fakecli", frozenset(), frozenset({"fakecli"}),
                         launchers=frozenset({"MainThread"}))
        monkeypatch.setattr(identity, "AGENT_KINDS", (kind,))
        found = find_agent({}, start_pid=child)
        assert found is not None and found.pid == agent.pid and found.kind is kind
        plain = AgentKind("fakecli", frozenset(), frozenset({"fakecli"}))  # node/bun/deno only
        monkeypatch.setattr(identity, "AGENT_KINDS", (plain,))
        assert find_agent({}, start_pid=child) is None
    finally:
        os.killpg(agent.pid, 9)
        agent.wait()

"""Adversarial lines are decided, never left to the hook's deadline (which allows everything).

Each line is asked of every agent's real hook command from session B's tree while session A
holds tree A, and then run for real without guard to show it changes A. A line whose reading
outgrew its bounds must come back as a deny of A (the line is unsure past the bound), and
no hook call may end in the failure policy's "internal error ... allowing" record. How fast
they are decided is measured by bench/, not asserted here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.agents.test_shell_trees_all_agents import AGENTS, _run_without_guard, _setup
from tests.conftest import read_log
from worktree_guard.shell.classify import command_targets
from worktree_guard.shell.targets import MAX_FOLDERS

EDIT_A = "sed -i s/hello/bye/ README"

ADVERSARIAL = {
    # Catches: no bound on the folder set (it doubles at each `cd` after `;`: 2^20 folders).
    "cd-in-a-row": "".join(f"cd d{i} 2>/dev/null; " for i in range(20)) + f"cd ../a; {EDIT_A}",
    "pushd-in-a-row": "".join(f"pushd d{i} 2>/dev/null; " for i in range(20))
                      + f"cd ../a; {EDIT_A}",
    # Catches: a line past 32 KiB read anyway (or allowed because it was not read).
    "32-kib": ": " + "x" * (33 * 1024) + f"; cd ../a && {EDIT_A}",
    "deep-nesting": "echo " + "$(" * 30 + "true" + ")" * 30 + f"; cd ../a && {EDIT_A}",
    "long-pipeline": " | ".join(["cat"] * 2000) + f"; cd ../a && {EDIT_A}",
    "large-brace-set": "echo " + "{a,b}" * 12 + f" >/dev/null; cd ../a && {EDIT_A}",
    "many-variables": "".join(f"v{i}=d{i}; " for i in range(500)) + f"cd ../a && {EDIT_A}",
}


@pytest.mark.parametrize("agent", sorted(AGENTS))
@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_an_adversarial_line_is_denied_not_timed_out(
        tmp_path: Path, guard_env: dict[str, str], lock_dir: Path, agent: str, name: str
) -> None:
    ask, hold = AGENTS[agent]
    a, b = _setup(tmp_path, guard_env, hold)
    line = ADVERSARIAL[name]
    reason = ask("session-b", b, guard_env, line)
    failures = [e for e in read_log(lock_dir) if "internal" in str(e) or "timed out" in str(e)]
    assert failures == [], failures
    assert reason is not None and str(a) in reason, f"{agent} allowed the {name} line"
    assert _run_without_guard(line, b, guard_env, a), f"the {name} line does not change A"


def test_past_the_folder_bound_the_line_may_be_anywhere() -> None:
    """Catches: a folder set cut to its first entries past the bound (a missed folder),
    instead of widened to 'anywhere'."""
    line = "".join(f"cd d{i}; " for i in range(MAX_FOLDERS)) + "rm -f x"
    found = command_targets(line, "/w/a", "/home/u")
    assert [u.below for u in found.unsure] == [None]
    assert found.paths == []
    # Below the bound, every folder is still known exactly.
    line = "cd d0; cd d1; rm -f x"
    found = command_targets(line, "/w/a", "/home/u")
    assert found.unsure == []
    assert sorted(found.paths) == ["/w/a/d0/d1/x", "/w/a/d0/x", "/w/a/d1/x", "/w/a/x"]

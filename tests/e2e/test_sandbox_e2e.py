"""The shell sandbox with the real Claude Code client: `guard install` alone wires it (the
prefix in the settings' `env`); while A holds its tree, B, in a worktree of its own made in a
Bash call, runs a script written with the Write tool, a Makefile recipe, a script that
detaches a writer with `setsid -f`, `ln` of A's file, and a Write through a hard link of A's
file: A's files stay as they were, the stopped script's tool result names worktree-guard and
A, and B's own commit lands. Each case was first seen changing A without guard
(tests/sandbox/), and this test fails when the prefix is missing from the settings."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from .agent_sessions import (
    RUN_TIMEOUT_S,
    AgentRun,
    events_report,
    git,
    guard_install,
    make_repo,
    result_text,
    start_claude,
)
from .fake_model_api import FakeModelAPI, Gate, Text, ToolUse, Turn

pytestmark = pytest.mark.e2e
ORIGINAL = "e2e\n"


def bash(command: str) -> Turn:
    return Turn([ToolUse("Bash", {"command": command, "description": "step"})])


def write(path: Path, content: str) -> Turn:
    return Turn([ToolUse("Write", {"file_path": str(path), "content": content})])


def test_b_cannot_change_a_through_scripts_make_setsid_or_links(
    tmp_path: Path, claude_bin: Path, claude_version: str, guard_bin: Path
) -> None:
    if claude_version != "2.1.332":
        pytest.skip("CLAUDE_CODE_SHELL_PREFIX is measured on Claude Code 2.1.332")
    repo = make_repo(tmp_path / "a")
    git(repo, "config", "user.name", "e2e")
    git(repo, "config", "user.email", "e2e@example.invalid")
    guard_install(repo, guard_bin)
    settings = json.loads((repo / ".claude" / "settings.local.json").read_text())
    assert "shell-prefix" in settings["env"]["CLAUDE_CODE_SHELL_PREFIX"], settings
    target = repo / "README.md"
    b = tmp_path / "b"
    detached = b / "detached-done"
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    os.link(target, outside / "link.txt")  # a link made before A held the tree
    lock_dir = tmp_path / "locks"
    hold_a = Gate()
    with FakeModelAPI() as api:
        api.scripts.update(
            a=[write(repo / "a.txt", "from A\n"), Turn([Text("done")], gate=hold_a)],
            b=[
                bash(f"git worktree add {b} -b b-work"),                                # 0
                write(b / "s.sh", f"echo changed > {target}\n"),                        # 1
                bash(f"cd {b} && sh s.sh"),                                             # 2
                write(b / "Makefile", f"all:\n\techo changed > {target}\n"),            # 3
                bash(f"cd {b} && make -s"),                                             # 4
                write(b / "d.sh", f"setsid -f sh -c '(echo changed > {target}) 2>/dev/null;"
                                  f" touch {detached}'\n"),                             # 5
                bash(f"cd {b} && sh d.sh"),                                             # 6
                bash(f"cd {b} && ln {target} l.txt && echo changed > l.txt"),           # 7
                write(outside / "link.txt", "changed\n"),                               # 8
                bash(f"cd {b} && git add s.sh && git commit -qm from-b"),               # 9
                Turn([Text("done")]),
            ],
        )
        runs: list[AgentRun] = []
        try:
            a = start_claude(claude_bin, "a", "SCRIPT:a write a.txt", repo, api.base_url,
                             lock_dir, tmp_path / "run-a")
            runs.append(a)
            assert hold_a.wait_reached(RUN_TIMEOUT_S), events_report(lock_dir, a)
            run_b = start_claude(claude_bin, "b", "SCRIPT:b work beside A", repo, api.base_url,
                                 lock_dir, tmp_path / "run-b")
            runs.append(run_b)
            assert run_b.wait() == 0, events_report(lock_dir, run_b)
            assert a.running(), events_report(lock_dir, a, run_b)
            report = events_report(lock_dir, run_b)

            def result(turn: int) -> dict[str, object]:
                found = api.tool_result("b", turn)
                assert found is not None, f"no result for turn {turn}\n{report}"
                return found

            for turn in (0, 1, 3, 5, 9):
                assert not result(turn).get("is_error"), f"turn {turn}: {result(turn)}\n{report}"
            for turn in (2, 4, 7):
                text = result_text(result(turn))
                assert result(turn).get("is_error") is True, (turn, text)
                assert "worktree-guard" in text and str(repo) in text, (turn, text)
                # Stopped by the kernel (the sandbox's line), or, where the parser sees the
                # held tree in the line (`ln` of A's file), denied before it runs.
                assert ("Read-only file system" in text or "Invalid cross-device link" in text
                        or "holds this working tree" in text), (turn, text)
            assert result(8).get("is_error") is True
            assert "holds this working tree" in result_text(result(8))
            end = time.monotonic() + RUN_TIMEOUT_S
            while not detached.exists():  # the detached writer's own end, an event
                assert time.monotonic() < end, "the detached writer never finished"
                time.sleep(0.05)
            assert target.read_text() == ORIGINAL, report
            assert (outside / "link.txt").read_text() == ORIGINAL
            assert not (b / "l.txt").exists()
            log = git_log(b)
            assert log[0] == "from-b", report
        finally:
            hold_a.open()
            for run in runs:
                run.kill()


def git_log(tree: Path) -> list[str]:
    import subprocess

    done = subprocess.run(["git", "log", "--format=%s"], cwd=tree, capture_output=True,
                          text=True, check=False)
    return done.stdout.split()

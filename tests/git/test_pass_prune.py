"""Pass markers live as long as their git process: each new pass prunes the finished ones."""

from __future__ import annotations

import os
import subprocess

from tests.git.conftest import A, B, World
from worktree_guard.core.identity import process_id
from worktree_guard.core.passes import PASS_DIR_NAME


def test_a_new_pass_prunes_the_markers_of_finished_git_processes(world: World) -> None:
    """Catches: pruning of stale pass markers switched off (the folder would keep one file
    per git command for ever, and a marker whose pid is reused would be kept too)."""
    folder = world.lock_dir / PASS_DIR_NAME
    folder.mkdir(parents=True, exist_ok=True)
    finished = subprocess.Popen(["true"])
    finished.wait()
    me = process_id(os.getpid())
    assert me.start_time is not None
    running = subprocess.Popen(["sleep", "600"])  # stands for another git still at work
    try:
        running_start = process_id(running.pid).start_time
        gone = folder / f"{finished.pid}-12345-{A}"  # its process has exited
        reused = folder / f"{os.getpid()}-{me.start_time + 1}-{B}"  # the pid names another
        not_a_marker = folder / "leftover"
        live = folder / f"{running.pid}-{running_start}-{B}"
        for path in (gone, reused, not_a_marker, live):
            path.write_text("")
        assert world.commit("A leaves a pass", A).returncode == 0
        assert not gone.exists() and not reused.exists() and not not_a_marker.exists()
        assert live.exists(), "a running git process keeps its marker"
        first_commit = {p.name for p in folder.iterdir()} - {live.name}
        assert first_commit and all(name.endswith("-" + A) for name in first_commit)
    finally:
        running.kill()
        running.wait()
    # At the next pass, the first commit's markers and the killed process's go too.
    assert world.commit("and another", A).returncode == 0
    left = {p.name for p in folder.iterdir()}
    assert left and not left & (first_commit | {live.name})

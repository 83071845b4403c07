"""A session that loses its lease loses its git pass markers: a git command of it that is
still running is asked again at its next hook instead of passing on an old marker."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from tests.conftest import GUARD, pre_tool, read_lease, run_hook
from worktree_guard.core.identity import process_id
from worktree_guard.core.passes import PASS_DIR_NAME


def test_takeover_and_force_release_void_the_losers_passes(
    repo: Path, guard_env: dict[str, str], lock_dir: Path
) -> None:
    env = {**guard_env, "GUARD_TTL_MS": "1000"}
    assert not run_hook(pre_tool("loser", repo), env).denied
    git_like = subprocess.Popen(["sleep", "60"])  # stands for the loser's running git
    try:
        folder = lock_dir / PASS_DIR_NAME
        folder.mkdir()
        start = process_id(git_like.pid).start_time
        loser_pass = folder / f"{git_like.pid}-{start}-loser"
        other_pass = folder / f"{git_like.pid}-{start}-bystander"
        loser_pass.touch()
        other_pass.touch()
        time.sleep(1.1)  # the loser's lease expires
        assert not run_hook(pre_tool("winner", repo), env).denied
        assert read_lease(lock_dir)["session_id"] == "winner"
        assert not loser_pass.exists() and other_pass.exists()

        winner_pass = folder / f"{git_like.pid}-{start}-winner"
        winner_pass.touch()
        done = subprocess.run(
            [GUARD, "release", "--force", "--yes"],
            cwd=repo, env=env, capture_output=True, text=True, timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert not winner_pass.exists() and other_pass.exists()
        assert json.loads((lock_dir / "events.jsonl").read_text().splitlines()[-1])["forced"]
    finally:
        git_like.kill()
        git_like.wait()

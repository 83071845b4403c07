"""A pass lives as long as the lease generation that granted it: a session that loses its
lease, or a tree that gets a new record or none, loses its git pass markers, so the next
hook asks guard again instead of passing on an old marker."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.conftest import GUARD, backdate_leases, pre_tool, read_lease, run_hook
from worktree_guard.core.passes import PASS_DIR_NAME, head_line, leave_pass, prune
from worktree_guard.core.workspace import workspace_key


def marker(lock_dir: Path, tree: Path, session: str) -> Path:
    return lock_dir / PASS_DIR_NAME / f"{workspace_key(os.path.realpath(tree))}-{session}"


def test_takeover_and_force_release_void_the_losers_passes(
    repo: Path, guard_env: dict[str, str], lock_dir: Path, tmp_path: Path
) -> None:
    ttl = 300_000  # no holder process to check: only the ttl frees the loser's lease
    env = {**guard_env, "GUARD_TTL_MS": str(ttl)}
    assert not run_hook(pre_tool("loser", repo), env).denied
    loser_pass = marker(lock_dir, repo, "loser")
    elsewhere = marker(lock_dir, tmp_path / "another-tree", "bystander")
    leave_pass(str(loser_pass), "ref: refs/heads/main")
    leave_pass(str(elsewhere), "ref: refs/heads/main")
    assert loser_pass.exists()
    assert run_hook(pre_tool("winner", repo), env).denied  # the loser's, until its ttl
    assert loser_pass.exists()
    backdate_leases(lock_dir, ttl + 60_000)  # the loser's lease expires
    assert not run_hook(pre_tool("winner", repo), env).denied
    assert read_lease(lock_dir)["session_id"] == "winner"
    assert not loser_pass.exists()

    winner_pass = marker(lock_dir, repo, "winner")
    leave_pass(str(winner_pass), "ref: refs/heads/main")
    assert winner_pass.exists()
    done = subprocess.run(
        [GUARD, "release", "--force", "--yes"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert not winner_pass.exists()
    assert json.loads((lock_dir / "events.jsonl").read_text().splitlines()[-1])["forced"]


def test_a_new_record_or_a_release_voids_every_pass_of_the_tree(
    repo: Path, guard_env: dict[str, str], lock_dir: Path
) -> None:
    """A lease file deleted by hand and taken by another session: the old holder's pass must
    not outlive the record that granted it (no takeover happened, so nothing was revoked)."""
    assert not run_hook(pre_tool("first", repo), guard_env).denied
    first_pass = marker(lock_dir, repo, "first")
    leave_pass(str(first_pass), "ref: refs/heads/main")
    for lease in lock_dir.glob("session-lock-*.json"):
        lease.unlink()
    assert not run_hook(pre_tool("second", repo), guard_env).denied
    assert not first_pass.exists()

    second_pass = marker(lock_dir, repo, "second")
    leave_pass(str(second_pass), "ref: refs/heads/main")
    end = {"session_id": "second", "cwd": str(repo), "hook_event_name": "SessionEnd"}
    run_hook(end, guard_env)
    assert list(lock_dir.glob("session-lock-*.json")) == []
    assert not second_pass.exists()


def test_prune_keeps_the_passes_of_leased_trees_only(tmp_path: Path) -> None:
    folder = tmp_path / PASS_DIR_NAME
    folder.mkdir()
    (tmp_path / "session-lock-0123456789ab.json").write_text("{}")
    kept = folder / "0123456789ab-s1"
    gone = folder / "ba9876543210-s1"
    junk = folder / "12345-678-s1"  # an older guard's per-process marker
    for path in (kept, gone, junk):
        path.write_text("ref: refs/heads/main\n")
    prune(str(folder))
    assert sorted(p.name for p in folder.iterdir()) == [kept.name]


def test_head_line_is_the_ref_or_detached(tmp_path: Path) -> None:
    (tmp_path / "HEAD").write_text("ref: refs/heads/feature\n")
    assert head_line(str(tmp_path)) == "ref: refs/heads/feature"
    (tmp_path / "HEAD").write_text("0" * 40 + "\n")
    assert head_line(str(tmp_path)) == "detached"
    assert head_line(str(tmp_path / "missing")) is None

"""Pass markers live as long as their git process: each new pass prunes the finished ones."""

from __future__ import annotations

import os

from tests.git.conftest import A, B, World
from worktree_guard.core.passes import PASS_DIR_NAME
from worktree_guard.core.workspace import workspace_key


def test_a_new_pass_prunes_the_markers_of_trees_without_a_lease(world: World) -> None:
    """Catches: pruning of stale pass markers switched off (the folder would keep a marker
    for every tree and session that ever passed, and stray files, for ever)."""
    folder = world.lock_dir / PASS_DIR_NAME
    folder.mkdir(parents=True, exist_ok=True)
    leased_elsewhere = "ba9876543210"
    (world.lock_dir / f"session-lock-{leased_elsewhere}.json").write_text("{}")
    gone = folder / f"0123456789ab-{A}"  # a tree whose lease is gone
    not_a_marker = folder / "leftover"
    live = folder / f"{leased_elsewhere}-{B}"  # a tree still leased: its pass stays
    for path in (gone, not_a_marker, live):
        path.write_text("ref: refs/heads/main\n")
    assert world.commit("A leaves a pass", A).returncode == 0
    assert not gone.exists() and not not_a_marker.exists()
    assert live.exists(), "a leased tree keeps its pass"
    key = workspace_key(os.path.realpath(world.repo))
    assert (folder / f"{key}-{A}").exists(), "the holder's own pass was left"

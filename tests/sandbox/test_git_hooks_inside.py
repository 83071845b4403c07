"""Guard's git hooks inside the sandbox, where the lock folder is read-only: the leases are
still read and judged (a commit in the held tree is refused by the hook, not only by the
read-only index), and taking a free tree (`git worktree add`) goes on without an error."""

from __future__ import annotations

import subprocess

from tests.conftest import GUARD, git

from .conftest import Scene, prefix_words


def test_git_hooks_judge_from_a_read_only_lock_folder(scene: Scene) -> None:
    """Catches: the store's lock not falling back to a read-only descriptor (the hook then
    fails open with an internal error instead of refusing), and _sandboxed_write missing
    (an internal error for the new worktree's post-checkout)."""
    subprocess.run([GUARD, "install", "--no-claude"], cwd=scene.b, env=scene.env, check=True,
                   capture_output=True)
    x = scene.tmp / "x"
    inner = (f"git worktree add -q {x} -b x-work && "
             f"git -C {scene.a} -c user.name=B -c user.email=b@example.invalid "
             "commit -q --allow-empty -m sneaky")
    # B's session: a `guard run` in B, its command through the prefix (as an agent's Bash).
    done = subprocess.run([GUARD, "run", "--", *prefix_words(), inner], cwd=scene.b,
                          env=scene.env, capture_output=True, text=True)
    assert (x / "f.txt").exists(), done.stderr
    assert "internal error" not in done.stderr, done.stderr
    assert "commit refused: another session holds this working tree" in done.stderr, (
        done.stderr)
    assert git(scene.a, "log", "-1", "--format=%s") == "f"

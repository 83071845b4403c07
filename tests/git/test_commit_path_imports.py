"""The commit-time git hooks pay for no costly standard-library module either."""

from __future__ import annotations

import pytest

from tests.conftest import GUARD
from tests.git.conftest import A, World
from tests.git.test_hooks import HOT_HOOKS
from tests.test_hot_path import SLOW_STDLIB


@pytest.mark.parametrize("hook", sorted(HOT_HOOKS))
def test_commit_time_hooks_import_only_cheap_stdlib(world: World, hook: str) -> None:
    """Catches: a module of the git hook path importing `typing`, `re`, `enum`... at run
    time (for instance TYPE_CHECKING switched on in git/rules.py)."""
    args, stdin = HOT_HOOKS[hook]
    env = {**world.env, "PYTHONPROFILEIMPORTTIME": "1"}  # the console script, as git runs it
    done = world.run([GUARD, "git-hook", hook, *args], world.repo, session=A, input=stdin,
                     env=env)
    assert done.returncode == 0, done.stderr
    modules = {line.split("|")[-1].strip() for line in done.stderr.splitlines()
               if line.startswith("import time:")}
    assert "worktree_guard.git.hook" in modules
    assert not modules & SLOW_STDLIB, modules & SLOW_STDLIB

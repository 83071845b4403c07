"""The commit-time git hooks pay for no costly standard-library module either."""

from __future__ import annotations

import pytest

from tests.conftest import installed_launcher
from tests.git.conftest import A, World
from tests.git.test_hooks import HOT_HOOKS
from tests.test_hot_path import SLOW_STDLIB


@pytest.mark.parametrize("hook", sorted(HOT_HOOKS))
def test_commit_time_hooks_import_only_cheap_stdlib(world: World, hook: str) -> None:
    """Catches: a module of the git hook path importing `typing`, `re`, `enum`... at run
    time (for instance TYPE_CHECKING switched on in git/rules.py)."""
    args, stdin = HOT_HOOKS[hook]
    # The launcher, as the installed shims start it; -I ignores PYTHONPROFILEIMPORTTIME.
    python, *rest = installed_launcher().words("git-hook", hook, *args)
    done = world.run([python, "-X", "importtime", *rest], world.repo, session=A, input=stdin)
    assert done.returncode == 0, done.stderr
    modules = {line.split("|")[-1].strip() for line in done.stderr.splitlines()
               if line.startswith("import time:")}
    assert "worktree_guard.git.hook" in modules
    assert not modules & SLOW_STDLIB, modules & SLOW_STDLIB

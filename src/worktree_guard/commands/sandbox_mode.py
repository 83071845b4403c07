"""The shell sandbox's mode, for `guard status` and `guard doctor`: which mechanism is in
force here and why, and whether Claude Code's settings start shell commands through it."""

from __future__ import annotations

import json
import os

from worktree_guard.core.printable import printable
from worktree_guard.install.shell_prefix import PREFIX_VARIABLE, is_guard_prefix
from worktree_guard.sandbox.detect import Mechanism, probe


def prefix_files(toplevel: str | None) -> list[str]:
    """The Claude Code settings files (project, local, user) whose env names guard's prefix."""
    candidates = [os.path.join(toplevel, ".claude", n) for n in ("settings.local.json",
                                                               "settings.json")] if toplevel else []
    candidates.append(os.path.join(os.path.expanduser("~"), ".claude", "settings.json"))
    found = []
    for path in candidates:
        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, ValueError):
            continue
        env = data.get("env") if isinstance(data, dict) else None
        if isinstance(env, dict) and is_guard_prefix(env.get(PREFIX_VARIABLE)):
            found.append(path)
    return found


def sandbox_line(toplevel: str | None, mechanism: Mechanism | None = None) -> str:
    mech = mechanism or probe()
    if not mech.on:
        return mech.describe()
    where = prefix_files(toplevel)
    wired = (f"Claude Code's shell commands through it ({printable(where[0])})" if where else
             "not wired for Claude Code here (no CLAUDE_CODE_SHELL_PREFIX from guard install: "
             "run guard install)")
    return f"{mech.describe()}; {wired}"

"""Guard's shell prefix in Claude Code's settings: `env.CLAUDE_CODE_SHELL_PREFIX`, the
program Claude Code starts every Bash command through (sandbox/prefix.py). Pure, like
install/settings.py, except `sandbox_available`, asked once per install.

Written only where the sandbox can run here (otherwise every command would report a
failed sandbox); never over a prefix of the user's own, which is left as it is, with a note.
Recognised by its command in every launcher form, so uninstall removes it and a re-install
replaces it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from worktree_guard.install.launcher import Launcher, as_launcher, parse_command

PREFIX_VARIABLE = "CLAUDE_CODE_SHELL_PREFIX"
SUBCOMMAND = "shell-prefix"


def prefix_command(guard: Launcher | str) -> str:
    return as_launcher(guard).command(SUBCOMMAND)


def is_guard_prefix(value: Any) -> bool:
    found = parse_command(value)
    return found is not None and found[1] == SUBCOMMAND


@cache
def sandbox_available() -> bool:
    from worktree_guard.sandbox.detect import probe

    return probe().on


def merge_prefix(settings: dict[str, Any], guard: Launcher | str) -> str | None:
    """Put guard's prefix into `settings` (changed in place); a note when it cannot be."""
    env = settings.get("env")
    if env is None:
        env = settings["env"] = {}
    if not isinstance(env, dict):
        return '"env" is not a JSON object: the shell sandbox prefix was not added'
    current = env.get(PREFIX_VARIABLE)
    if current is not None and not is_guard_prefix(current):
        return (f"env.{PREFIX_VARIABLE} already runs {current!r}; left as it is, so Claude "
                "Code's shell commands are not sandboxed (guard's prefix: "
                f"`{prefix_command(guard)}`)")
    env[PREFIX_VARIABLE] = prefix_command(guard)
    return None


def remove_prefix(settings: dict[str, Any]) -> None:
    """Take guard's prefix out of `settings` (in place), and the `env` it leaves empty."""
    env = settings.get("env")
    if isinstance(env, dict) and is_guard_prefix(env.get(PREFIX_VARIABLE)):
        del env[PREFIX_VARIABLE]
        if not env:
            del settings["env"]

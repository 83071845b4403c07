"""Guard's shell prefix in Claude Code's settings: `env.CLAUDE_CODE_SHELL_PREFIX`, the
program Claude Code starts every Bash command, hook command and stdio MCP server through
(sandbox/prefix.py). Pure, like install/settings.py, except `sandbox_available`, asked once
per install.

Written only where the sandbox can run here (otherwise every command would report a
failed sandbox); never over a prefix of the user's own, which is left as it is, with a note.
Recognised by its command in every form install ever wrote, so uninstall removes it and a
re-install replaces it.

Its shape is Claude Code's (2.1.197 and 2.1.332): for a Bash call or a hook the client
splits the prefix at its last " -" (the part before is quoted as one program path, the rest
passed to the shell as it is), but a stdio MCP server it spawns with the whole prefix as
the program path, no shell, no split, and the server's command line as one argument. Only
a prefix that is one program path, without arguments, works for both; so the prefix is a
small sh program install writes into the repository's git hooks folder (`PREFIX_FILE`:
not a hook name, so git never runs it; read-only in the sandbox and refused to the file
tools like the hooks beside it), which execs guard's launcher with `shell-prefix`. A path
holding " -" cannot be written so, and install says so instead.
"""

from __future__ import annotations

import os
import shlex
from functools import cache
from typing import Any

from worktree_guard.git.shims import LAUNCH_CODE, MARKER
from worktree_guard.install.launcher import Launcher, as_launcher, parse_command

PREFIX_VARIABLE = "CLAUDE_CODE_SHELL_PREFIX"
SUBCOMMAND = "shell-prefix"
PREFIX_FILE = "guard-shell-prefix"  # in the git hooks folder; not a name git runs

_FLAGS = "-ISc"  # the one-string form earlier installs wrote, still recognised


def prefix_file(common_dir: str) -> str:
    """Where install writes the prefix program: the repository's own hooks folder (not
    core.hooksPath's, which may be tracked)."""
    return os.path.join(common_dir, "hooks", PREFIX_FILE)


def prefix_words(guard: Launcher | str) -> list[str]:
    """What the prefix program execs, before the client's arguments."""
    return as_launcher(guard).words(SUBCOMMAND)


def prefix_script(guard: Launcher | str) -> bytes:
    return (f"#!/bin/sh\n# {MARKER}: Claude Code's env.{PREFIX_VARIABLE} (the shell sandbox).\n"
            "# One program path without arguments: the client spawns stdio MCP servers with\n"
            "# the whole prefix as the program (install/shell_prefix.py).\n"
            f'exec {shlex.join(prefix_words(guard))} "$@"\n').encode()


def prefix_problem(path: str) -> str | None:
    """Why Claude Code could not run the prefix program at `path`, or None."""
    if " -" in path or not os.path.isabs(path):
        return f"the path {path!r} holds ' -'"
    return None


def is_guard_prefix(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    if os.path.isabs(value) and os.path.basename(value) == PREFIX_FILE:
        return True
    try:
        words = shlex.split(value)
    except ValueError:
        return False
    if len(words) == 5 and words[1] == _FLAGS and words[4] == SUBCOMMAND:
        return words[2] == LAUNCH_CODE
    if len(words) == 2 and words[1] == f"--{SUBCOMMAND}":
        return words[0].rsplit("/", 1)[-1] == "guard"
    found = parse_command(value)
    return found is not None and found[1] == SUBCOMMAND


@cache
def sandbox_available() -> bool:
    from worktree_guard.sandbox.detect import probe

    return probe().on


def merge_prefix(settings: dict[str, Any], path: str) -> str | None:
    """Put guard's prefix program `path` into `settings` (changed in place); a note when it
    cannot be."""
    env = settings.get("env")
    if env is None:
        env = settings["env"] = {}
    if not isinstance(env, dict):
        return '"env" is not a JSON object: the shell sandbox prefix was not added'
    current = env.get(PREFIX_VARIABLE)
    problem = prefix_problem(path)
    if problem is not None:
        return (f"Claude Code's shell commands are not sandboxed: {problem} in "
                f"env.{PREFIX_VARIABLE}, which Claude Code splits at its last ' -'")
    if current is not None and not is_guard_prefix(current):
        return (f"env.{PREFIX_VARIABLE} already runs {current!r}; left as it is, so Claude "
                "Code's shell commands are not sandboxed (guard's prefix: "
                f"`{path}`)")
    env[PREFIX_VARIABLE] = path
    return None


def remove_prefix(settings: dict[str, Any]) -> None:
    """Take guard's prefix out of `settings` (in place), and the `env` it leaves empty."""
    env = settings.get("env")
    if isinstance(env, dict) and is_guard_prefix(env.get(PREFIX_VARIABLE)):
        del env[PREFIX_VARIABLE]
        if not env:
            del settings["env"]

"""Guard's shell prefix in Claude Code's settings: `env.CLAUDE_CODE_SHELL_PREFIX`, the
program Claude Code starts every Bash command through (sandbox/prefix.py). Pure, like
install/settings.py, except `sandbox_available`, asked once per install.

Written only where the sandbox can run here (otherwise every command would report a
failed sandbox); never over a prefix of the user's own, which is left as it is, with a note.
Recognised by its command in every launcher form, so uninstall removes it and a re-install
replaces it.

Its shape is Claude Code's: the client (2.1.332) splits the prefix at its last " -": what
comes before is quoted as one program path, the rest is passed to the shell as it is, then
the quoted command. So the prefix is `<python> -ISc <launch code> <package folder>
shell-prefix` (one " -" only, the interpreter's flags in one word), or `<guard>
--shell-prefix` for a guard command; a program path that needs quoting, or a path or code
holding " -", cannot be written so, and install says so instead.
"""

from __future__ import annotations

import shlex
from functools import cache
from typing import Any

from worktree_guard.git.shims import LAUNCH_CODE
from worktree_guard.install.launcher import Launcher, as_launcher, parse_command

PREFIX_VARIABLE = "CLAUDE_CODE_SHELL_PREFIX"
SUBCOMMAND = "shell-prefix"


_FLAGS = "-ISc"  # -I -S -c in one word: the one " -" Claude Code splits the prefix at


def prefix_command(guard: Launcher | str) -> str:
    launcher = as_launcher(guard)
    if launcher.package_dir is None:
        return f"{launcher.executable} --{SUBCOMMAND}"
    return shlex.join([launcher.executable, _FLAGS, LAUNCH_CODE, launcher.package_dir,
                       SUBCOMMAND])


def prefix_problem(guard: Launcher | str) -> str | None:
    """Why Claude Code could not run guard's prefix from this install, or None."""
    launcher = as_launcher(guard)
    exe = launcher.executable
    tail = prefix_command(guard)[len(exe):]
    if shlex.quote(exe) != exe or " -" in exe:
        return f"the path {exe!r} would need quoting"
    if tail.count(" -") != 1:
        return f"the package folder {launcher.package_dir!r} holds ' -'"
    return None


def is_guard_prefix(value: Any) -> bool:
    if not isinstance(value, str):
        return False
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


def merge_prefix(settings: dict[str, Any], guard: Launcher | str) -> str | None:
    """Put guard's prefix into `settings` (changed in place); a note when it cannot be."""
    env = settings.get("env")
    if env is None:
        env = settings["env"] = {}
    if not isinstance(env, dict):
        return '"env" is not a JSON object: the shell sandbox prefix was not added'
    current = env.get(PREFIX_VARIABLE)
    problem = prefix_problem(guard)
    if problem is not None:
        return (f"Claude Code's shell commands are not sandboxed: {problem} in "
                f"env.{PREFIX_VARIABLE}, which Claude Code splits at its last ' -'")
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

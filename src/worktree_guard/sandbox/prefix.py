"""`guard shell-prefix`: the program an agent's shell commands start through.

Claude Code runs `PREFIX '<the whole command string>'` for every Bash call (the string is
for a shell), the same prefix before every hook command, and spawns every stdio MCP server
as `PREFIX '<its command line>'` (install/shell_prefix.py: why the prefix is one program
path). Each is one string for a shell here. The prefix:

1. runs guard's own hook commands as they are, without a shell and unsandboxed: they must
   write the lock folder. A hook command is recognised by its words alone (guard's launcher,
   then `hook` or `git-hook`); a Bash call's string is never that (the client wraps it in
   its own shell code), and if it were, all that runs is guard's hook reading the call's
   stdin;
2. reads the lease state (`facts.py`), plans the read-only mounts (`policy.py`), enters the
   sandbox (`kernel.py`) and runs the command in it; when a tree held by another session
   was read-only and the command failed, one stderr line says which and who holds it;
3. when the sandbox cannot be set up, follows the failure policy: the fail-open record and
   one stderr line, then the command runs unsandboxed (or, fail-closed, does not run).

`GUARD_SANDBOX=off` in the agent's own environment turns it into a plain shell: read from
the environment the client started the prefix with, which no command can change (a command
setting it runs inside the sandbox already made, and the settings files that could set it
are read-only there).
"""

from __future__ import annotations

import posix
import sys

from worktree_guard.lite import system

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

# The launcher's code (git/shims.py LAUNCH_CODE), by what it always holds.
_LAUNCH_MARK = "from worktree_guard.entry import "
_GUARD_COMMANDS = ("hook", "git-hook")
_SHELLS = ("bash", "zsh")
REFUSED = 126  # the shell's "cannot execute"
# Set for a sandboxed command: the mount namespace it runs in. A prefix started inside (a
# nested agent, a script) finds itself in that namespace and changes nothing: the mounts
# and the seal are inherited. Only a process in that very namespace matches it.
INSIDE_VARIABLE = "WORKTREE_GUARD_SANDBOX_NS"


def is_guard_hook(words: list[str]) -> bool:
    """Whether `words` are one of guard's own hook commands as install writes them."""
    if len(words) >= 7 and words[1:4] == ["-I", "-S", "-c"] and _LAUNCH_MARK in words[4]:
        return words[6] in _GUARD_COMMANDS
    return len(words) >= 2 and words[0].rsplit("/", 1)[-1] == "guard" and (
        words[1] in _GUARD_COMMANDS)


_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./-_")


def simple_words(text: str) -> list[str] | None:
    """The words of a command made only of plain words and single-quoted parts (what
    shlex.join writes, `'"'"'` included); None for anything else: a variable, a backslash,
    an operator, a double-quoted string of more than one character... (shlex costs `re`)."""
    words: list[str] = []
    word: list[str] = []
    started = False
    at, end = 0, len(text)
    while at < end:
        char = text[at]
        if char == " ":
            if started:
                words.append("".join(word))
                word, started = [], False
            at += 1
        elif char == "'":
            close = text.find("'", at + 1)
            if close < 0:
                return None
            word.append(text[at + 1:close])
            started, at = True, close + 1
        elif char == '"' and text[at + 2:at + 3] == '"' and text[at + 1] not in '"\\$`':
            word.append(text[at + 1])
            started, at = True, at + 3
        elif char in _PLAIN:
            word.append(char)
            started, at = True, at + 1
        else:
            return None
    if started:
        words.append("".join(word))
    return words


def shell_for(env: Mapping[str, str]) -> str:
    """The user's shell when it reads the client's bash-style strings, else bash, else sh."""
    shell = env.get("SHELL", "")
    if shell.startswith("/") and shell.rsplit("/", 1)[-1] in _SHELLS and system.isfile(shell):
        return shell
    return "/bin/bash" if system.isfile("/bin/bash") else "/bin/sh"


def sandbox_off(env: Mapping[str, str]) -> bool:
    return env.get("GUARD_SANDBOX", "").strip().lower() in ("off", "0", "no", "false")


def main(args: list[str]) -> int:
    env = system.environ()
    if not args:
        sys.stderr.write("usage: guard shell-prefix '<command>' | guard shell-prefix PROGRAM "
                         "[ARG...]\n")
        return 2
    argv = [shell_for(env), "-c", args[0]] if len(args) == 1 else list(args)
    if len(args) == 1:
        words = simple_words(args[0])
        if words is not None and is_guard_hook(words):
            return exec_argv(words)
    if sandbox_off(env) or inside(env):
        return exec_argv(argv)
    try:
        from worktree_guard.sandbox.enter import sandboxed

        return sandboxed(argv, env)
    except Exception as exc:  # never a traceback instead of the command (failure policy)
        closed = env.get("GUARD_FAIL_CLOSED", "").strip().lower() in ("1", "true", "yes")
        verdict = "not running it (fail-closed)" if closed else "running it without the sandbox"
        sys.stderr.write(f"worktree-guard: internal error in the shell prefix, {verdict}: "
                         f"{type(exc).__name__}: {exc}\n")
        return REFUSED if closed else exec_argv(argv)


def mount_namespace() -> str:
    try:
        return posix.readlink("/proc/self/ns/mnt")
    except OSError:
        return ""


def inside(env: Mapping[str, str]) -> bool:
    marker = env.get(INSIDE_VARIABLE, "")
    return bool(marker) and marker == mount_namespace()


def exec_argv(argv: list[str], env: Mapping[str, str] | None = None) -> int:
    try:
        if env is None:
            posix.execv(argv[0], argv) if argv[0].startswith("/") else _execvp(argv, None)
        else:
            posix.execve(argv[0], argv, env) if argv[0].startswith("/") else _execvp(argv, env)
    except OSError as exc:
        sys.stderr.write(f"worktree-guard: cannot run {argv[0]}: {exc.strerror or exc}\n")
        return 127
    return 127  # not reached


def _execvp(argv: list[str], env: Mapping[str, str] | None) -> None:
    import os  # only for a program named without a path (the PATH search)

    if env is None:
        os.execvp(argv[0], argv)
    else:
        os.execvpe(argv[0], argv, env)

"""The `guard` console entry: hook commands on the standard library, the rest via the CLI.

`guard hook` (Claude Code's settings files) and `guard hook --agent NAME [EVENT]` (the other
agents' hook files) run on every tool call and `guard git-hook` on every commit and
ref write; they must not pay for importing Typer or GitPython, so they are routed here
before the CLI module is ever loaded.
"""

from __future__ import annotations

import posix
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn


_HOOK_HELP = """Usage: guard hook [--agent NAME [EVENT]]

  The agents' hook command: reads one hook event (JSON) on stdin from Claude Code (or, with
  --agent, from codex, gemini or copilot) and answers whether the tool call may run.
  Agents start it; `guard install` registers it. Nothing to run by hand: see `guard --help`.
"""

_GIT_HOOK_HELP = """Usage: guard git-hook NAME [ARGS]...

  The git hooks' command: git starts it, through the shims `guard install` writes, as
  pre-commit, prepare-commit-msg, pre-push, reference-transaction or post-checkout with
  git's own arguments and stdin. Nothing to run by hand: see `guard --help`.
"""


def _wants_help(args: list[str]) -> bool:
    """`guard hook --help`, or `guard hook` typed at a terminal (an agent always pipes the
    event): help, and nothing is judged or recorded (no failed-open record for a person)."""
    if "--help" in args or "-h" in args:
        return True
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (OSError, ValueError):
        return False


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["hook"] and _wants_help(args[1:]):
        sys.stdout.write(_HOOK_HELP)
        return 0
    if args[:1] == ["git-hook"] and (not args[1:] or args[1] in ("--help", "-h")):
        sys.stdout.write(_GIT_HOOK_HELP)
        return 0
    if args[:1] == ["hook"]:
        if args[1:2] == ["--agent"]:
            return _agent_hook(args[2] if len(args) > 2 else "", args[3] if len(args) > 3 else None)
        return _claude_file_hook()
    if args[:1] == ["git-hook"]:
        from worktree_guard.git.hook import run as run_git_hook

        return run_git_hook(args[1:])
    if args[:1] in (["shell-prefix"], ["--shell-prefix"]):  # before every shell command (sandbox/)
        from worktree_guard.sandbox.prefix import main as run_prefix

        return run_prefix(args[1:])
    if args == ["statusline"]:  # Claude Code redraws its status line often: skip Typer
        from worktree_guard.commands.statusline import main as run_statusline

        return run_statusline()
    from worktree_guard.cli import run_cli

    return run_cli(args)


def launch() -> NoReturn:
    """The installed hooks' way in (see install/launcher.py): `main`, then out without the
    interpreter's finalisation. Tearing down the modules costs 1.5-1.8 ms per process here,
    a sixth of an interpreter start, and a hook has nothing left to tear down: its files are
    written with unbuffered descriptors, it starts no threads and registers no atexit work.
    Only the text streams hold buffered output; a flush that fails exits 120, as Python
    does."""
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = code or 120
    posix._exit(code)


def _claude_file_hook() -> int:
    """`guard hook`, from Claude Code's settings files or the Claude Code plugin: Claude
    Code's hook, unless the process that started it is Copilot CLI's (which reads those files
    too) or Codex CLI's (which loads the same plugin). Which agent calls is told by the
    process, never guessed from the payload."""
    from worktree_guard.core.identity import (
        AGENT_CLAUDE,
        AGENT_CODEX,
        AGENT_COPILOT,
        find_agent_ancestor,
    )

    found = find_agent_ancestor((AGENT_CLAUDE, AGENT_COPILOT, AGENT_CODEX))
    if found is not None and found[0] == AGENT_COPILOT:
        return _agent_hook("copilot", None)
    if found is not None and found[0] == AGENT_CODEX:
        try:
            from worktree_guard.agents.codex import run as run_codex

            return run_codex(None, plugin=True)
        except BaseException as exc:  # the adapter handles its own errors; this is the rest
            sys.stderr.write(f"worktree-guard: codex hook failed, allowing: {exc!r}\n")
            return 0
    from worktree_guard.agents.claude import run

    return run()


def _agent_hook(name: str, event: str | None) -> int:
    """`guard hook --agent NAME [EVENT]` (the agent named by the installed command). Whatever
    goes wrong, the call is allowed: under Copilot CLI a crash or a non-zero exit would deny
    every call, and under Gemini CLI a missing answer blocks it."""
    try:
        if name == "codex":
            from worktree_guard.agents.codex import run as run_codex

            return run_codex(event)
        if name == "gemini":
            from worktree_guard.agents.gemini import run as run_gemini

            return run_gemini(event)
        if name == "copilot":
            from worktree_guard.agents.copilot import run as run_copilot

            return run_copilot(event)
        if name == "claude":
            return _claude_file_hook()
        sys.stderr.write(f"worktree-guard: unknown agent {name!r} (known: claude, codex, gemini, "
                         "copilot); allowing the call. Re-run `guard install`.\n")
        return 0
    except BaseException as exc:  # the adapters handle their own errors; this is the rest
        sys.stderr.write(f"worktree-guard: {name} hook failed, allowing: {exc!r}\n")
        return 0


if __name__ == "__main__":
    raise SystemExit(main())

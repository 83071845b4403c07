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
            return _agent_hook(args[2] if len(args) > 2 else "",
                               args[3] if len(args) > 3 else None)
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
    """`guard hook`, from Claude Code's settings files or the Claude Code plugin: the hook of
    the nearest agent process above it (Copilot CLI reads those files too, Codex CLI loads
    the same plugin), Claude Code's when there is none it knows. Which agent calls is told by
    the process, never guessed from the payload."""
    from worktree_guard.core.agents import CLAUDE, agent_named
    from worktree_guard.core.identity import find_agent

    found = find_agent()
    row = agent_named(found.kind.name) if found is not None else None
    if row is not None and row.runs_claude_hooks:
        return _agent_hook(row.name, None, claude_file=True)
    return _agent_hook(CLAUDE, None)


def _agent_hook(name: str, event: str | None, claude_file: bool = False) -> int:
    """`guard hook --agent NAME [EVENT]` (the agent named by the installed command): the
    table's agent, its adapter module `agents/<name>.py`. Whatever goes wrong, the call is
    allowed: under Copilot CLI a crash or a non-zero exit would deny every call, and under
    Gemini CLI a missing answer blocks it."""
    try:
        from worktree_guard.core.agents import NAMES, agent_named

        if agent_named(name) is None:
            sys.stderr.write(f"worktree-guard: unknown agent {name!r} (known: "
                             f"{', '.join(NAMES)}); allowing the call. Re-run `guard install`.\n")
            return 0
        adapter = __import__(f"worktree_guard.agents.{name}", fromlist=["run"])
        code: int = adapter.run(event, claude_file=claude_file)
        return code
    except BaseException as exc:  # the adapters handle their own errors; this is the rest
        sys.stderr.write(f"worktree-guard: {name} hook failed, allowing: {exc!r}\n")
        return 0


if __name__ == "__main__":
    raise SystemExit(main())

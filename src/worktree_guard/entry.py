"""The `guard` console entry: hook commands on the standard library, the rest via the CLI.

`guard hook` runs on every Claude Code tool call and `guard git-hook` on every commit and
ref write; they must not pay for importing Typer or GitPython, so they are routed here
before the CLI module is ever loaded.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["hook"]:
        from worktree_guard.agents.claude import run

        return run()
    if args[:1] == ["git-hook"]:
        from worktree_guard.git.hook import run as run_git_hook

        return run_git_hook(args[1:])
    if args == ["statusline"]:  # Claude Code redraws its status line often: skip Typer
        from worktree_guard.commands.statusline import main as run_statusline

        return run_statusline()
    from worktree_guard.cli import run_cli

    return run_cli(args)


if __name__ == "__main__":
    raise SystemExit(main())

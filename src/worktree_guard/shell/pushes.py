"""Pushes that can rewrite or delete a remote branch, read from a shell line.

For agents whose shells run git with its hooks off (Gemini CLI sets `core.hooksPath=''`,
Codex's sandbox makes `.git` read-only), git's pre-push never runs, so the push rules must
be applied before the line runs. Without a force, git itself refuses a push that is not a
fast-forward; so a line is refused when a push in it may force, delete or mirror, or when
what it pushes cannot be read (a variable or substitution could hold a `+` or `--force`).
"""

from __future__ import annotations

from worktree_guard.shell.targets import git_subcommands

_FORCING_LONG = ("--force", "--mirror", "--delete", "--prune")  # and --force-with-lease...
_FORCING_SHORT = frozenset("fd")  # -f, -d, also inside a cluster such as -fu


def history_rewriting_push(command: str) -> str | None:
    """Why a push in `command` may rewrite or delete a remote branch, or None."""
    runs = git_subcommands(command)
    if runs is None:
        return "a line that cannot be read may push with force" if "push" in command else None
    for sub, args in runs:
        if sub != "push":
            continue
        for arg in args:
            if any(c in arg for c in "$`\x00\x01"):
                return f"git push with an argument that is not written out ({arg!r})"
            if arg.startswith("--"):
                if arg.startswith(_FORCING_LONG):
                    return f"git push {arg}"
            elif arg.startswith("-") and len(arg) > 1:
                if not _FORCING_SHORT.isdisjoint(arg[1:]):
                    return f"git push {arg}"
            elif arg.startswith(("+", ":")) or ":+" in arg or ",+" in arg:
                return f"git push of {arg} (a forced or deleting refspec)"
    return None

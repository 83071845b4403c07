"""The shared basics of the agent adapters: the payload, the call type, a file's tree.

An adapter turns its agent's payload into a `ToolCall` (or a session event), asks the one
pipeline (`agents/pipeline.py`), and writes the answer in the one form its agent honours.
Standard library only: this runs on every tool call of every agent.
"""

from __future__ import annotations

from worktree_guard.core.workspace import (
    Workspace,
    find_workspace,
)
from worktree_guard.lite import fastjson, system

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any


# What a tool call does, as the core sees it.
FILES = "files"  # writes the files named in `paths`
SHELL = "shell"  # runs `command`
OTHER = "other"  # reads or talks: never guarded


class PayloadError(Exception):
    """The payload is not what the agent sends."""


class ToolCall:
    """One pre-tool call of any agent, in the core's terms."""

    __slots__ = ("command", "cwd", "kind", "paths", "session", "tool")

    def __init__(self, tool: str, kind: str, session: str, cwd: str,
                 paths: tuple[str, ...] = (), command: str | None = None) -> None:
        self.tool = tool
        self.kind = kind
        self.session = session
        self.cwd = cwd
        self.paths = paths  # as the agent gave them: absolute, or relative to cwd
        self.command = command


def read_payload(raw: bytes) -> dict[str, Any]:
    try:
        payload = fastjson.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise PayloadError(f"stdin is not JSON ({type(exc).__name__})") from None
    if not isinstance(payload, dict):
        raise PayloadError("stdin is not a JSON object")
    return payload


def str_field(payload: Mapping[str, Any], name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value:
        raise PayloadError(f"field {name!r} is missing or not a string")
    return value


def optional_str(mapping: Any, name: str) -> str | None:
    value = mapping.get(name) if isinstance(mapping, dict) else None
    return value if isinstance(value, str) and value else None


def nearest_existing_dir(path: str) -> str:
    folder = system.dirname(system.abspath(path))
    while not system.isdir(folder):
        parent = system.dirname(folder)
        if parent == folder:
            break
        folder = parent
    return folder


def tree_of_path(path: str) -> Workspace | None:
    """The tree a write to `path` changes: symlinks resolved (a link in one tree may point
    into another), then the nearest folder that exists."""
    try:
        real = system.realpath(path)
    except (OSError, ValueError):
        return None
    folder = real if system.isdir(real) else nearest_existing_dir(real)
    return find_workspace(folder, {})


def workspaces_of(call: ToolCall) -> list[Workspace]:
    """The trees a file call acts on: each named file's tree, else the cwd's; no duplicates."""
    found: list[Workspace] = []
    for path in call.paths:
        ws = tree_of_path(system.join(call.cwd, path))
        if ws is not None and ws not in found:
            found.append(ws)
    if not call.paths:
        ws = find_workspace(call.cwd)
        if ws is not None:
            found.append(ws)
    return found


# git subcommands that put HEAD on another branch: after the holder's own, the branch it
# sees is its own. Anything else (`sleep 2; git log`) switches nothing, whatever its text.
_SWITCHING = frozenset({"checkout", "switch", "rebase", "pull", "bisect"})
# git subcommands that move the branch HEAD is on (refused while it is someone else's).
_BRANCH_MOVING = frozenset({"commit", "push", "merge", "cherry-pick", "revert", "am", "reset",
                            "pull", "rebase", "update-ref"})


def switched_branch(command: str | None) -> bool:
    """A shell line of the holder's own that switched branch (parsed, not grepped)."""
    if command is None or "git" not in command:
        return False
    from worktree_guard.shell.targets import git_subcommands

    for sub, args in git_subcommands(command) or []:
        if sub in _SWITCHING:
            return True
        if sub == "branch" and any(a in ("-m", "-M", "--move") for a in args):
            return True  # renaming the current branch
    return False


def moves_a_branch(command: str) -> bool:
    from worktree_guard.shell.targets import git_subcommands

    found = git_subcommands(command)
    if found is None:
        return "git" in command  # cannot parse: unsure means yes
    return any(sub in _BRANCH_MOVING for sub, _ in found)


class Answer:
    """What the hook process says: stdout, stderr, exit code."""

    __slots__ = ("exit_code", "stderr", "stdout")

    def __init__(self, stdout: str = "", stderr: str = "", exit_code: int = 0) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self.exit_code = exit_code


ALLOW = Answer()



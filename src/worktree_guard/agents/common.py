"""The shared basics of the agent adapters: the payload, the call type, a file's tree.

An adapter turns its agent's payload into a `ToolCall` (or a session event), asks the one
pipeline (`agents/pipeline.py`), and writes the answer in the one form its agent honours.
Standard library only: this runs on every tool call of every agent.
"""

from __future__ import annotations

import posix

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
MCP = "mcp"  # an MCP server's tool: judged by the paths its `args` name (see the pipeline)


class PayloadError(Exception):
    """The payload is not what the agent sends."""


class ToolCall:
    """One pre-tool call of any agent, in the core's terms."""

    __slots__ = ("args", "command", "cwd", "kind", "paths", "session", "tool")

    def __init__(self, tool: str, kind: str, session: str, cwd: str,
                 paths: tuple[str, ...] = (), command: str | None = None,
                 args: dict[str, Any] | None = None) -> None:
        self.tool = tool
        self.kind = kind
        self.session = session
        self.cwd = cwd
        self.paths = paths  # as the agent gave them: absolute, or relative to cwd
        self.command = command
        self.args = args

    @staticmethod
    def files(tool: str, session: str, cwd: str, *paths: str | None) -> ToolCall:
        """A call writing `paths` (the empty ones dropped); none named: the cwd's tree."""
        return ToolCall(tool, FILES, session, cwd, tuple(p for p in paths if p))

    @staticmethod
    def shell(tool: str, session: str, cwd: str, command: str | None) -> ToolCall:
        """A call running `command` in `cwd` (None: a line that could not be read)."""
        return ToolCall(tool, SHELL, session, cwd, (), command)

    @staticmethod
    def other(tool: str, session: str, cwd: str) -> ToolCall:
        return ToolCall(tool, OTHER, session, cwd)

    @staticmethod
    def mcp(tool: str, session: str, cwd: str, args: Any) -> ToolCall:
        return ToolCall(tool, MCP, session, cwd, (), None, args if isinstance(args, dict) else {})


# MCP tools, as Claude Code and Codex name them in a hook payload: `mcp__<server>__<tool>`.
MCP_PREFIX = "mcp__"
# Argument names that hold a path a tool acts on, and those that hold the folder relative
# paths are taken from (a filesystem server's `path`, an IDE server's `file_path` or
# `relative_path` under `project_path`/`root`...).
_PATH_ARGS = ("path", "file_path", "filePath", "filepath", "file", "filename", "paths",
              "relative_path", "relativePath", "source", "destination", "target", "dest",
              "notebook_path", "directory", "dir", "folder")
_ROOT_ARGS = ("root", "root_path", "rootPath", "project_path", "projectPath", "project_dir",
              "projectDir", "workspace", "cwd", "base_dir", "baseDir")


def mcp_paths(args: dict[str, Any], cwd: str) -> tuple[str, ...]:
    """The absolute paths an MCP call's arguments name: each path argument (a string or a
    list of strings), relative ones taken from a root argument, else from the cwd."""
    roots = [v for k in _ROOT_ARGS if isinstance(v := args.get(k), str) and v]
    base = system.join(cwd, roots[0]) if roots else cwd
    found: list[str] = [system.join(cwd, r) for r in roots]
    for key in _PATH_ARGS:
        value = args.get(key)
        values = value if isinstance(value, list) else [value]
        for one in values:
            if isinstance(one, str) and one:
                path = system.join(base, one)
                if path not in found:
                    found.append(path)
    return tuple(found)


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
    if not system.isdir(real):  # a hard link of a held tree's file is that tree's
        from worktree_guard.core.hardlinks import lease_tree_of_link

        linked = lease_tree_of_link(real)
        if linked is not None:
            return linked
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
        if sub == "symbolic-ref" and len([a for a in args if not a.startswith("-")]) == 2:
            return True  # `git symbolic-ref HEAD refs/heads/x` is a checkout without files
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




# ---- Codex's patches, read as Codex's own parser reads them -------------------------------

# The patch lines that name a file the patch writes, deletes or moves to.
PATCH_HEADERS = ("*** Add File: ", "*** Update File: ", "*** Delete File: ", "*** Move to: ")
# What Rust's `str::trim` removes (Unicode White_Space): Codex trims a header line with it.
# Not Python's `str.strip()`, which also removes \x1c-\x1f.
_RUST_SPACE = ("\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
               "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")


def patch_lines(patch: str) -> list[str]:
    """A patch's lines as Codex's own parser cuts them: at "\\n" only (a "\\r" before it is
    dropped), never at U+2028, \\v, \\x1c-\\x1e, \\x85 or a lone \\r, as `splitlines` would:
    a header cut where Codex does not cut it would name another file to guard."""
    return [line[:-1] if line.endswith("\r") else line for line in patch.split("\n")]


def patch_paths(patch: str) -> tuple[str, ...]:
    """Every file a Codex patch touches, in order, without duplicates."""
    found: list[str] = []
    for line in patch_lines(patch):
        stripped = line.strip(_RUST_SPACE)
        for header in PATCH_HEADERS:
            if stripped.startswith(header):
                path = stripped[len(header):].strip(_RUST_SPACE)
                if path and path not in found:
                    found.append(path)
    return tuple(found)


_PATCH_PROGRAMS = ("apply_patch", "applypatch")


def shell_patch_targets(command: str, cwd: str) -> list[str]:
    """The files a patch given to `apply_patch` (or `applypatch`) in a shell line may write,
    absolute: Codex applies `apply_patch <<'PATCH' ... PATCH` (after an optional `cd DIR &&`)
    itself, and such a program on PATH does the same; the shell reader never sees into it.
    Relative paths are taken from the cwd and from every folder a `cd` in the line names."""
    if "*** " not in command or not any(p in command for p in _PATCH_PROGRAMS):
        return []
    paths = patch_paths(command)
    if not paths:
        return []
    import shlex  # only for a line that holds a patch

    bases = [cwd]
    try:
        words = shlex.split(command.split("\n", 1)[0], comments=False)
    except ValueError:
        words = []
    for at, word in enumerate(words[:-1]):
        if word in ("cd", "pushd") and not words[at + 1].startswith("-"):
            bases.append(system.join(cwd, words[at + 1]))
    home = system.environ().get("HOME", "")
    found: list[str] = []
    for path in paths:
        if path.startswith("~/") and home:
            path = system.join(home, path[2:])
        for base in bases:
            target = system.join(base, path)
            if target not in found:
                found.append(target)
    return found


# Programs that, given no script, read commands from their terminal or stdin.
_SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "mksh", "fish", "csh", "tcsh", "ash",
                     "yash", "busybox"})
_PREFIXES = frozenset({"exec", "env", "command", "nohup", "setsid", "sudo", "doas", "builtin"})


def interactive_shell(command: str) -> bool:
    """A line that starts a shell reading its commands from the terminal (`bash`, `sh -i`,
    `exec zsh -l`, Codex's `exec_command {cmd: "bash", tty: true}`): what is typed into it
    later (Codex's `write_stdin`) runs no hook, so it may write anywhere."""
    text = command.strip()
    if not text or len(text) > 512 or any(c in text for c in ";&|<>`$()\n"):
        return False
    words = text.split()
    at = 0
    while at < len(words) and (words[at] in _PREFIXES or "=" in words[at]
                               or (at > 0 and words[at - 1] == "env"
                                   and words[at].startswith("-"))):
        at += 1
    if at >= len(words) or system.basename(words[at]) not in _SHELLS:
        return False
    rest = words[at + 1:]
    if system.basename(words[at]) == "busybox":
        if not rest or rest[0] not in _SHELLS:
            return False
        rest = rest[1:]
    for at, word in enumerate(rest):
        if word == "-":
            return True  # `sh -`: commands from stdin, the rest are its arguments
        if word == "--":
            return at == len(rest) - 1  # else a script follows
        if not word.startswith("-"):
            return False  # a script: the classifier judges the line
        if word in ("--command", "--rcfile", "--init-file") or (
                not word.startswith("--") and "c" in word[1:]):
            return False  # a command string (`-c`, `-lc`): the classifier reads it
    return True


# ---- "guard's own hook answers this call": decided from what guard installed --------------

def _package_folder() -> str:
    """The folder holding this guard's `worktree_guard` package (what the launcher names)."""
    return system.dirname(system.dirname(system.dirname(system.realpath(__file__))))


def _runs_this_guard(words: list[str]) -> bool:
    """The launcher of this guard (`<python> -I -S -c CODE <package folder>`) or a `guard`
    console script that is a file naming the package: not any text that says `hook`."""
    if len(words) == 6 and words[1:4] == ["-I", "-S", "-c"]:
        return (system.isfile(words[0]) and posix.access(words[0], posix.X_OK)
                and system.realpath(words[5]) == _package_folder())
    program = words[0] if words else ""
    if system.basename(program) != "guard" or not system.isfile(program):
        return False
    try:
        with open(program, "rb") as fh:
            return b"worktree_guard" in fh.read(4096)
    except OSError:
        return False


def _covers(matcher: Any, tool: str) -> bool:
    """Claude-shaped matchers: absent, empty or `*` is every tool, else a regex of names."""
    if matcher is None or matcher in ("", "*"):
        return True
    if not isinstance(matcher, str):
        return False
    import re  # only for a hook file whose guard entry has a matcher

    try:
        return re.fullmatch(matcher, tool) is not None
    except re.error:
        return False


def own_hook_answers(toplevel: str, hook_file: str, agent: str, event: str, tool: str,
                     command_key: str = "command") -> bool:
    """Whether guard's own hook for `agent` in `toplevel`/`hook_file` will answer a `tool`
    call at `event`: the file parses, and an entry for the event (whose matcher covers the
    tool) runs exactly `hook --agent AGENT [EVENT]` through a launcher that is this guard.
    An empty file, or one merely holding the words, answers nothing."""
    try:
        with open(system.join(toplevel, hook_file), "rb") as fh:
            data = fastjson.loads(fh.read(1 << 20))
    except (OSError, ValueError, RecursionError):
        return False
    hooks = data.get("hooks") if isinstance(data, dict) else None
    entries = hooks.get(event) if isinstance(hooks, dict) else None
    import shlex  # only here: a tree with both guard hooks installed

    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        nested = entry.get("hooks")
        handlers = nested if isinstance(nested, list) else [entry]
        if isinstance(nested, list) and not _covers(entry.get("matcher"), tool):
            continue
        for handler in handlers:
            command = handler.get(command_key) if isinstance(handler, dict) else None
            if not isinstance(command, str):
                continue
            try:
                words = shlex.split(command.removesuffix(" || true"))
            except ValueError:
                continue
            at = next((i for i, w in enumerate(words) if w == "hook"), -1)
            if (at > 0 and words[at:at + 3] == ["hook", "--agent", agent]
                    and len(words) - at in (3, 4) and _runs_this_guard(words[:at])):
                return True
    return False

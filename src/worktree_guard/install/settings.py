"""Guard's entries in a Claude Code settings file: merge, remove, find. Pure: dicts and text.

Guard's hook handlers are recognised by their command, in every form install ever wrote
(the launcher, `<path>/guard hook`; see install/launcher.py), whatever the paths: a
re-install after guard moved, or by a newer version, replaces the old entry instead of
adding a second one.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from worktree_guard.install.launcher import Launcher, as_launcher, parse_command

# The file tools and Bash, the client tools that change trees, and every MCP server's tools
# (agents/claude.py and agents/pipeline.py say how each is judged): without their names here
# the client would never ask.
TOOL_MATCHER = (
    "Edit|Write|MultiEdit|NotebookEdit|Bash|EnterWorktree|ExitWorktree|Agent|CronCreate"
    "|mcp__.*"
)


@dataclass(frozen=True)
class EventSpec:
    event: str
    matcher: str | None
    timeout_s: int


# Timeouts in seconds. The hook answers well inside them (its own deadline is 4 s); a hook
# killed by its timeout counts as allow. SessionEnd gets its own small budget: Claude Code
# gives all SessionEnd hooks about 1.5 s unless a hook names a timeout.
GUARD_EVENTS: tuple[EventSpec, ...] = (
    EventSpec("SessionStart", None, 10),
    EventSpec("PreToolUse", TOOL_MATCHER, 10),
    # After every tool, not only the guarded ones: reading is activity too, and keeps the
    # holder's lease from expiring while it studies the code before its next edit.
    EventSpec("PostToolUse", None, 10),
    EventSpec("PostToolUseFailure", None, 10),
    EventSpec("Stop", None, 10),
    EventSpec("SessionEnd", None, 5),
)
GUARD_EVENT_NAMES = tuple(spec.event for spec in GUARD_EVENTS)


class SettingsError(Exception):
    """The settings text cannot be merged into (not JSON, or not shaped like settings)."""


def hook_command(guard: Launcher | str) -> str:
    return as_launcher(guard).command("hook")


def statusline_command(guard: Launcher | str) -> str:
    return as_launcher(guard).command("statusline")


def guard_subcommand(command: Any) -> tuple[str, str] | None:
    """(executable, subcommand) when `command` runs guard, else None; for the launcher the
    executable is the interpreter."""
    found = parse_command(command)
    return (found[0].executable, found[1]) if found is not None else None


def is_guard_handler(handler: Any, subcommand: str = "hook") -> bool:
    if not isinstance(handler, dict):
        return False
    found = guard_subcommand(handler.get("command"))
    return found is not None and found[1] == subcommand


# ---- text <-> data -------------------------------------------------------------------------


def parse_settings(text: str, where: str) -> dict[str, Any]:
    """The settings object in `text`; an empty file counts as `{}`."""
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise SettingsError(f"{where} is not valid JSON ({exc}); fix or remove it first") from None
    if not isinstance(data, dict):
        raise SettingsError(f"{where} does not hold a JSON object; fix or remove it first")
    return data


@dataclass(frozen=True)
class Style:
    indent: int | str
    trailing_newline: bool


def detect_style(text: str) -> Style:
    """The indent of the first indented line (tabs or n spaces); 2 spaces when none is."""
    for line in text.splitlines()[1:]:
        stripped = line.lstrip(" \t")
        if stripped and stripped != line:
            lead = line[: len(line) - len(stripped)]
            indent: int | str = "\t" if lead.startswith("\t") else len(lead)
            return Style(indent, text.endswith("\n") or not text)
    return Style(2, text.endswith("\n") or not text.strip())


def render_settings(data: dict[str, Any], style: Style) -> str:
    text = json.dumps(data, indent=style.indent, ensure_ascii=False)
    return text + "\n" if style.trailing_newline else text


# ---- merging and removing --------------------------------------------------------------------


def _guard_group(spec: EventSpec, command: str) -> dict[str, Any]:
    group: dict[str, Any] = {}
    if spec.matcher is not None:
        group["matcher"] = spec.matcher
    group["hooks"] = [{"type": "command", "command": command, "timeout": spec.timeout_s}]
    return group


def _event_groups(hooks: dict[str, Any], event: str) -> list[Any]:
    groups = hooks.get(event, [])
    if not isinstance(groups, list):
        raise SettingsError(f'"hooks.{event}" is not a list; fix it first')
    return groups


def _without_guard(groups: list[Any], subcommand: str) -> list[Any]:
    """The groups minus guard's handlers; a group left with no handler by that goes too."""
    kept: list[Any] = []
    for group in groups:
        handlers = group.get("hooks") if isinstance(group, dict) else None
        ours = isinstance(handlers, list) and any(is_guard_handler(h, subcommand) for h in handlers)
        if not ours:
            kept.append(group)
            continue
        assert isinstance(handlers, list)
        remaining = [h for h in handlers if not is_guard_handler(h, subcommand)]
        if remaining:
            kept.append({**group, "hooks": remaining})
    return kept


def _count_guard_handlers(groups: list[Any], subcommand: str = "hook") -> int:
    return sum(
        1
        for group in groups
        if isinstance(group, dict) and isinstance(group.get("hooks"), list)
        for handler in group["hooks"]
        if is_guard_handler(handler, subcommand)
    )


@dataclass(frozen=True)
class MergeResult:
    settings: dict[str, Any]
    notes: tuple[str, ...] = ()


def merge_guard(
    settings: dict[str, Any], guard: Launcher | str, with_statusline: bool = False,
    prefix: str | None = None,
) -> MergeResult:
    """`settings` with guard's hook entries (and statusLine) in; everything else untouched.

    An event that already holds exactly guard's group keeps its place, so a second run
    changes nothing; otherwise old guard handlers go and the new group is appended.
    """
    result = copy.deepcopy(settings)
    hooks = result.setdefault("hooks", {})
    if not isinstance(hooks, dict):
        raise SettingsError('"hooks" is not a JSON object; fix it first')
    command = hook_command(guard)
    for spec in GUARD_EVENTS:
        groups = _event_groups(hooks, spec.event)
        wanted = _guard_group(spec, command)
        if wanted in groups and _count_guard_handlers(groups) == 1:
            continue
        hooks[spec.event] = [*_without_guard(groups, "hook"), wanted]
    notes: list[str] = []
    if prefix is not None:  # the shell sandbox's program (install/shell_prefix.py)
        from worktree_guard.install.shell_prefix import merge_prefix

        notes += filter(None, [merge_prefix(result, prefix)])
    if with_statusline:
        current = result.get("statusLine")
        wanted_line = {"type": "command", "command": statusline_command(guard)}
        if current is None or (
            isinstance(current, dict) and is_guard_handler(current, "statusline")
        ):
            result["statusLine"] = wanted_line
        else:
            shown = current.get("command") if isinstance(current, dict) else current
            notes.append(
                f"statusLine already runs {shown!r}; left as it is. To show guard's segment, "
                f"have that command print the output of `{wanted_line['command']}` "
                "(pass it the same stdin)."
            )
    return MergeResult(result, tuple(notes))


def remove_guard(settings: dict[str, Any]) -> dict[str, Any]:
    """`settings` without guard's entries; containers guard's removal emptied go too."""
    result = copy.deepcopy(settings)
    from worktree_guard.install.shell_prefix import remove_prefix

    remove_prefix(result)
    line = result.get("statusLine")
    if isinstance(line, dict) and is_guard_handler(line, "statusline"):
        del result["statusLine"]
    hooks = result.get("hooks")
    if not isinstance(hooks, dict):
        return result
    for event in list(hooks):
        groups = hooks[event]
        if not isinstance(groups, list) or _count_guard_handlers(groups) == 0:
            continue
        kept = _without_guard(groups, "hook")
        if kept:
            hooks[event] = kept
        else:
            del hooks[event]
    if not hooks and isinstance(settings.get("hooks"), dict) and settings["hooks"]:
        del result["hooks"]
    return result


def guard_launchers(settings: dict[str, Any]) -> list[Launcher]:
    """The launcher of every guard handler (and status line) in a settings object."""
    commands: list[Any] = []
    hooks = settings.get("hooks")
    for groups in hooks.values() if isinstance(hooks, dict) else []:
        for group in groups if isinstance(groups, list) else []:
            handlers = group.get("hooks") if isinstance(group, dict) else None
            commands += [h.get("command") for h in handlers or [] if isinstance(h, dict)]
    line = settings.get("statusLine")
    if isinstance(line, dict):
        commands.append(line.get("command"))
    return [found[0] for found in map(parse_command, commands) if found is not None]


@dataclass(frozen=True)
class GuardEntries:
    """What a settings object holds of guard's: per event, the executables its handlers run."""

    events: dict[str, list[str]]
    statusline: str | None
    hooks_disabled: bool

    @property
    def missing_events(self) -> list[str]:
        return [name for name in GUARD_EVENT_NAMES if not self.events.get(name)]

    @property
    def any(self) -> bool:
        return bool(self.events) or self.statusline is not None


def find_guard(settings: dict[str, Any]) -> GuardEntries:
    events: dict[str, list[str]] = {}
    hooks = settings.get("hooks")
    if isinstance(hooks, dict):
        for event, groups in hooks.items():
            if not isinstance(groups, list):
                continue
            for group in groups:
                handlers = group.get("hooks") if isinstance(group, dict) else None
                for handler in handlers if isinstance(handlers, list) else []:
                    if is_guard_handler(handler):
                        found = guard_subcommand(handler["command"])
                        assert found is not None
                        events.setdefault(event, []).append(found[0])
    line = settings.get("statusLine")
    statusline = None
    if isinstance(line, dict) and is_guard_handler(line, "statusline"):
        found_line = guard_subcommand(line["command"])
        statusline = found_line[0] if found_line else None
    return GuardEntries(events, statusline, settings.get("disableAllHooks") is True)

"""Guard's entries in the hook files of Codex CLI, Gemini CLI and Copilot CLI. Pure: data.

Each agent gets one file in the working tree (its project-level hook file); guard's handlers
are recognised by their command (`<guard> hook --agent NAME ...`), replaced in place when the
path changed, never doubled, and every other key and hook of the file stays.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from typing import Any

from worktree_guard.core.agents import BY_NAME, CLAUDE, NAMES
from worktree_guard.install.launcher import Launcher, as_launcher, parse_words
from worktree_guard.install.settings import SettingsError


@dataclass(frozen=True)
class AgentSpec:
    name: str  # as `--agents` and `guard hook --agent` take it
    label: str
    rel_path: str  # the hook file, relative to the working tree's toplevel
    events: tuple[tuple[str, int], ...]  # (event, timeout in the agent's own unit)
    copilot_shape: bool  # Copilot's `{"version": 1, "hooks": {event: [{"bash": ...}]}}`
    event_in_command: bool  # the agent's payload does not name the event: the command does
    never_fail_closed: bool  # a missing guard would block every call: `|| true` after it
    trust_step: str  # the one-time step without which the agent skips the hooks


# Timeouts: the hook answers well inside them (its own deadline is 4 s).
SPECS: dict[str, AgentSpec] = {
    "codex": AgentSpec(
        "codex", BY_NAME["codex"].title, os.path.join(".codex", "hooks.json"),
        (("PreToolUse", 10), ("PostToolUse", 10), ("Stop", 10), ("SessionEnd", 5)),
        copilot_shape=False, event_in_command=False,
        # exit 127 (guard missing) already fails open; and a changed command string
        # untrusts the hook, so keep it plain.
        never_fail_closed=False,
        trust_step=(
            "Codex CLI runs project hooks only in a trusted project, and each hook only once "
            "reviewed: start `codex` in this tree, trust the project, then open `/hooks` and "
            "trust guard's hooks (Codex skips an untrusted hook without a word; a re-install "
            "that changes guard's path needs that review again)."),
    ),
    "gemini": AgentSpec(
        "gemini", BY_NAME["gemini"].title, os.path.join(".gemini", "settings.json"),
        (("BeforeTool", 10000), ("AfterTool", 10000), ("SessionEnd", 5000)),
        copilot_shape=False, event_in_command=False, never_fail_closed=True,
        trust_step=(
            "Gemini CLI runs project hooks only in a trusted folder: start `gemini` in this "
            "tree and trust the folder (or `guard install --trust`, which adds it to "
            "~/.gemini/trustedFolders.json); it then warns once about the project's hooks and "
            "runs them."),
    ),
    "copilot": AgentSpec(
        "copilot", BY_NAME["copilot"].title,
        os.path.join(".github", "hooks", "worktree-guard.json"),
        (("preToolUse", 10), ("postToolUse", 10), ("sessionEnd", 5)),
        copilot_shape=True, event_in_command=True, never_fail_closed=True,
        trust_step=(
            "Copilot CLI runs hooks only in a trusted folder: start `copilot` in this tree and "
            "trust the folder (or `copilot --trust-folder`)."),
    ),
}
# Every agent of the agent table; Claude Code's entries go in its settings files instead.
AGENT_NAMES = NAMES
assert set(SPECS) == set(NAMES) - {CLAUDE}, "one hook file spec per agent of the table"


def parse_agents(text: str) -> tuple[str, ...]:
    """`claude,codex` -> ("claude", "codex"); an unknown name is a clear error."""
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = [n for n in names if n not in AGENT_NAMES]
    if unknown or not names:
        raise SettingsError(f"unknown agent {', '.join(unknown) or '(none given)'}; "
                            f"choose from {','.join(AGENT_NAMES)}")
    return tuple(dict.fromkeys(names))


def agents_on_path(toplevel: str) -> tuple[tuple[str, ...], list[str]]:
    """The default `--agents`: Claude Code (its settings file is this tree's own and costs
    nothing where Claude Code is absent), each other agent whose command is on PATH or whose
    hook file this tree already has (it is used here); and the ones left out."""
    import shutil

    found = [name for name, spec in SPECS.items()
             if shutil.which(name) or os.path.lexists(os.path.join(toplevel, spec.rel_path))]
    return ("claude", *found), [name for name in SPECS if name not in found]


def skipped_line(skipped: list[str], chosen: tuple[str, ...]) -> str:
    labels = ", ".join(SPECS[name].label for name in skipped)
    add = ",".join((*chosen, *skipped))
    return (f"skipped {labels}: not on PATH here; to guard them too: "
            f"guard install --agents {add}")


def hook_command(spec: AgentSpec, guard: Launcher | str, event: str) -> str:
    args = ["hook", "--agent", spec.name]
    if spec.event_in_command:
        args.append(event)
    command = as_launcher(guard).command(*args)
    return command + " || true" if spec.never_fail_closed else command


def is_guard_command(command: Any, agent: str) -> bool:
    """Whether `command` runs guard's hook for `agent`, whatever guard's path or launcher."""
    if isinstance(command, str) and command.endswith(" || true"):
        command = command[: -len(" || true")]
    found = parse_words(command)
    if found is None:
        return False
    args = found[1]
    return len(args) in (3, 4) and args[:3] == ["hook", "--agent", agent]


def _command_key(spec: AgentSpec) -> str:
    return "bash" if spec.copilot_shape else "command"


def _handler(spec: AgentSpec, guard: Launcher | str, event: str, timeout: int) -> dict[str, Any]:
    command = hook_command(spec, guard, event)
    if spec.copilot_shape:
        return {"type": "command", "bash": command, "timeoutSec": timeout}
    return {"type": "command", "command": command, "timeout": timeout}


def _is_ours(spec: AgentSpec, handler: Any) -> bool:
    return isinstance(handler, dict) and is_guard_command(handler.get(_command_key(spec)),
                                                          spec.name)


def _handlers_of(spec: AgentSpec, entry: Any) -> list[Any]:
    """The handlers an entry of an event's list holds (Copilot: the entry is the handler)."""
    if spec.copilot_shape:
        return [entry]
    handlers = entry.get("hooks") if isinstance(entry, dict) else None
    return handlers if isinstance(handlers, list) else []


def _without_guard(spec: AgentSpec, entries: list[Any]) -> list[Any]:
    kept: list[Any] = []
    for entry in entries:
        if spec.copilot_shape:
            if not _is_ours(spec, entry):
                kept.append(entry)
            continue
        handlers = _handlers_of(spec, entry)
        if not any(_is_ours(spec, h) for h in handlers):
            kept.append(entry)
            continue
        remaining = [h for h in handlers if not _is_ours(spec, h)]
        if remaining:
            kept.append({**entry, "hooks": remaining})
    return kept


def _count_ours(spec: AgentSpec, entries: list[Any]) -> int:
    return sum(1 for e in entries for h in _handlers_of(spec, e) if _is_ours(spec, h))


def _hooks_object(data: dict[str, Any], where: str) -> dict[str, Any]:
    hooks = data.setdefault("hooks", {})
    if not isinstance(hooks, dict):
        raise SettingsError(f'"hooks" in {where} is not a JSON object; fix it first')
    return hooks


def merge_agent(data: dict[str, Any], spec: AgentSpec, guard: Launcher | str,
                where: str) -> dict[str, Any]:
    """`data` (the parsed hook file) with guard's entries for `spec`; the rest untouched."""
    result = copy.deepcopy(data)
    if spec.copilot_shape:
        result.setdefault("version", 1)
    hooks = _hooks_object(result, where)
    for event, timeout in spec.events:
        entries = hooks.get(event, [])
        if not isinstance(entries, list):
            raise SettingsError(f'"hooks.{event}" in {where} is not a list; fix it first')
        handler = _handler(spec, guard, event, timeout)
        wanted = handler if spec.copilot_shape else {"hooks": [handler]}
        if wanted in entries and _count_ours(spec, entries) == 1:
            continue
        hooks[event] = [*_without_guard(spec, entries), wanted]
    return result


def remove_agent(data: dict[str, Any], spec: AgentSpec) -> dict[str, Any]:
    """`data` without guard's entries for `spec`; containers guard's removal emptied go too."""
    result = copy.deepcopy(data)
    hooks = result.get("hooks")
    if not isinstance(hooks, dict):
        return result
    for event in list(hooks):
        entries = hooks[event]
        if not isinstance(entries, list) or _count_ours(spec, entries) == 0:
            continue
        kept = _without_guard(spec, entries)
        if kept:
            hooks[event] = kept
        else:
            del hooks[event]
    if not hooks:
        del result["hooks"]
    if spec.copilot_shape and set(result) == {"version"}:
        return {}
    return result


def installed_events(data: dict[str, Any], spec: AgentSpec) -> dict[str, list[Launcher]]:
    """Per event, the launchers guard's handlers for `spec` start guard with."""
    found: dict[str, list[Launcher]] = {}
    hooks = data.get("hooks")
    if not isinstance(hooks, dict):
        return found
    for event, entries in hooks.items():
        for entry in entries if isinstance(entries, list) else []:
            for handler in _handlers_of(spec, entry):
                if _is_ours(spec, handler):
                    command = str(handler[_command_key(spec)]).removesuffix(" || true")
                    parsed = parse_words(command)
                    if parsed is not None:
                        found.setdefault(event, []).append(parsed[0])
    return found


# ---- the one trust step guard may do for the user: Gemini CLI's trusted folders -------------

GEMINI_TRUST = "TRUST_FOLDER"


def gemini_trust_path(home: str) -> str:
    return os.path.join(home, ".gemini", "trustedFolders.json")


def trust_gemini_folder(data: dict[str, Any], folder: str) -> dict[str, Any]:
    """Gemini's trustedFolders map with `folder` trusted; the other entries untouched."""
    if not isinstance(data, dict):
        raise SettingsError("~/.gemini/trustedFolders.json does not hold a JSON object")
    return {**data, folder: GEMINI_TRUST}


def untrust_gemini_folder(data: dict[str, Any], folder: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if not (k == folder and v == GEMINI_TRUST)}


def exclude_lines(spec: AgentSpec) -> str:
    """The info/exclude lines that keep the file (it holds this machine's path) out of git."""
    return (f"# worktree-guard: {spec.label}'s hook file in this working tree\n"
            f"/{spec.rel_path}\n")

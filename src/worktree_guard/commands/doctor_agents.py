"""`guard doctor`, per agent: will its hooks actually run in this tree?

An agent skips hooks silently when a one-time trust step is missing (Codex: a trusted
project and each hook reviewed; Gemini and Copilot: a trusted folder), so installed is
not enough: each check reads the agent's own files for that step. Also the Claude Code
plugin: its hooks run guard in every repository without any settings entry here.
"""

from __future__ import annotations

import json
import os
import shutil
from typing import Any

from worktree_guard.commands.doctor import Check, fail, ok, warn
from worktree_guard.install.agent_hooks import SPECS, AgentSpec, installed_events
from worktree_guard.install.launcher import launcher_problem
from worktree_guard.install.targets import RepoPaths, claude_config_dir

PLUGIN_NAME = "worktree-guard"


def _load_json(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def _within(toplevel: str, folder: str) -> bool:
    top, folder = os.path.realpath(toplevel), os.path.realpath(os.path.expanduser(folder))
    return top == folder or top.startswith(folder.rstrip(os.sep) + os.sep)


def gemini_trusted(toplevel: str, home: str) -> bool | None:
    """True/False from ~/.gemini/trustedFolders.json; None when folder trust is off."""
    settings = _load_json(os.path.join(home, ".gemini", "settings.json"))
    trust = settings.get("security", {}).get("folderTrust", {}) if isinstance(
        settings, dict) else {}
    if isinstance(trust, dict) and trust.get("enabled") is False:
        return None
    folders = _load_json(os.path.join(home, ".gemini", "trustedFolders.json"))
    if not isinstance(folders, dict):
        return False
    for folder, level in folders.items():
        # TRUST_PARENT trusts the folder's parent and everything in it.
        scope = os.path.dirname(folder) if level == "TRUST_PARENT" else folder
        if level in ("TRUST_FOLDER", "TRUST_PARENT") and _within(toplevel, scope):
            return True
    return False


def copilot_trusted(toplevel: str, home: str) -> bool:
    config = _load_json(os.path.join(home, ".copilot", "config.json"))
    folders = config.get("trustedFolders") if isinstance(config, dict) else None
    return isinstance(folders, list) and any(
        isinstance(f, str) and _within(toplevel, f) for f in folders)


def codex_trust(toplevel: str, codex_home: str, hook_file: str) -> tuple[bool, bool]:
    """(project trusted, some guard hook reviewed) from Codex's config.toml, read as text:
    the standard library's TOML reader is not on every Python guard supports."""
    try:
        with open(os.path.join(codex_home, "config.toml"), encoding="utf-8") as fh:
            text = fh.read()
    except OSError:
        return False, False
    project = f'[projects."{os.path.realpath(toplevel)}"]'
    trusted = False
    section = ""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            section = stripped
        elif section == project and stripped.replace(" ", "") == 'trust_level="trusted"':
            trusted = True
    reviewed = f'[hooks.state."{hook_file}:pre_tool_use' in text
    return trusted, reviewed


def check_agent(repo: RepoPaths, spec: AgentSpec, home: str) -> Check:
    name = f"{spec.name} hooks"
    path = os.path.join(repo.toplevel, spec.rel_path)
    data = _load_json(path) if os.path.exists(path) else None
    if data is None and os.path.exists(path):
        return fail(name, f"{spec.rel_path} is not valid JSON: {spec.label} cannot use it",
                    "fix the JSON, then guard install")
    events = installed_events(data, spec) if isinstance(data, dict) else {}
    if not events:
        on_path = shutil.which(spec.name) is not None
        detail = f"not installed for {spec.label} in this tree"
        fix = f"guard install --agents {spec.name}"
        return warn(name, detail + f" ({spec.name} is on PATH)", fix) if on_path else ok(
            name, detail + f" ({spec.name} is not on PATH)")
    missing = [event for event, _ in spec.events if event not in events]
    broken = sorted({problem for launchers in events.values() for launcher in launchers
                     if (problem := launcher_problem(launcher)) is not None})
    if missing or broken:
        problems = ([f"no guard hook for {', '.join(missing)}"] if missing else []) + (
            [f"starts guard from nothing: {', '.join(broken)}"] if broken else [])
        return fail(name, f"{spec.rel_path}: " + "; ".join(problems),
                    f"guard install --agents {spec.name}")
    if spec.name == "gemini":
        trusted = gemini_trusted(repo.toplevel, home)
        if trusted is False:
            return warn(name, "installed, but this folder is not trusted: Gemini CLI skips "
                        "the project's hooks", spec.trust_step)
    elif spec.name == "copilot":
        if not copilot_trusted(repo.toplevel, home):
            return warn(name, "installed, but this folder is not in Copilot's trustedFolders: "
                        "its hooks run only in sessions started with --trust-folder",
                        spec.trust_step)
    elif spec.name == "codex":
        codex_home = os.environ.get("CODEX_HOME") or os.path.join(home, ".codex")
        trusted, reviewed = codex_trust(repo.toplevel, codex_home, path)
        if not trusted or not reviewed:
            what = "the project is not trusted" if not trusted else "guard's hooks not reviewed"
            return warn(name, f"installed, but {what} in {codex_home}/config.toml: Codex skips "
                        "untrusted hooks without a word", spec.trust_step)
        return ok(name, f"{spec.rel_path}: guard on {len(events)} events; project trusted and "
                  "guard's hooks reviewed (a changed guard path needs a new review)")
    return ok(name, f"{spec.rel_path}: guard on {len(events)} events, and they will run")


def plugin_enabled(toplevel: str) -> str | None:
    """The settings file that enables the worktree-guard Claude Code plugin, if one does."""
    for path in (os.path.join(claude_config_dir(), "settings.json"),
                 os.path.join(toplevel, ".claude", "settings.json"),
                 os.path.join(toplevel, ".claude", "settings.local.json")):
        data = _load_json(path)
        enabled = data.get("enabledPlugins") if isinstance(data, dict) else None
        if isinstance(enabled, dict) and any(
                key.split("@")[0] == PLUGIN_NAME and value is True
                for key, value in enabled.items()):
            return path
    return None


def check_plugin(repo: RepoPaths) -> Check | None:
    where = plugin_enabled(repo.toplevel)
    if where is None:
        return None
    if shutil.which("guard") is None:
        return fail("claude plugin", f"the worktree-guard plugin is enabled ({where}) but "
                    "`guard` is not on PATH: its hooks allow every call",
                    "put guard on PATH (from a clone: pipx install ., uv tool install . or "
                    "pip install .)")
    return ok("claude plugin", f"the worktree-guard plugin is enabled ({where}): its hooks "
              "run guard in every repository")


def check_agents(repo: RepoPaths) -> list[Check]:
    home = os.path.expanduser("~")
    return [check_agent(repo, spec, home) for spec in SPECS.values()]

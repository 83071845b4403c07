"""The Claude Code plugin guards what `guard install` guards, and is a small folder of its
own (the marketplace's source), so installing it copies nothing else of the repository."""

from __future__ import annotations

import json
from pathlib import Path

from worktree_guard.install.settings import GUARD_EVENTS

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "plugin"


def _hooks() -> dict[str, list[dict[str, object]]]:
    data = json.loads((PLUGIN / "hooks" / "hooks.json").read_text(encoding="utf-8"))
    hooks: dict[str, list[dict[str, object]]] = data["hooks"]
    return hooks


def test_the_plugin_matches_what_guard_install_writes() -> None:
    """The same events, and the same tool matcher per event, as the settings entries.
    Catches: a tool added to TOOL_MATCHER and not to the plugin (the plugin matched
    `Edit|Write|MultiEdit|NotebookEdit|Bash`, missing EnterWorktree, ExitWorktree, Agent,
    CronCreate)."""
    hooks = _hooks()
    assert sorted(hooks) == sorted(spec.event for spec in GUARD_EVENTS)
    for spec in GUARD_EVENTS:
        (group,) = hooks[spec.event]
        assert group.get("matcher") == spec.matcher, spec.event
        (command,) = group["hooks"]  # type: ignore[misc]
        assert command["command"] == "guard hook || true"  # type: ignore[index]


def test_the_marketplace_source_is_the_plugin_folder_alone() -> None:
    """Catches: the marketplace pointing at the repository root (Claude Code copied the whole
    checkout, its venv and downloaded clients, into its plugin cache)."""
    market = json.loads((ROOT / ".claude-plugin" / "marketplace.json").read_text())
    (entry,) = market["plugins"]
    assert (ROOT / entry["source"]).resolve() == PLUGIN
    files = sorted(str(p.relative_to(PLUGIN)) for p in PLUGIN.rglob("*") if p.is_file())
    assert files == [".claude-plugin/plugin.json", "hooks/hooks.json"]


def test_the_install_hint_is_one_that_works() -> None:
    """The package is not on the package index: the hint is an install from a clone.
    Catches: "pip install worktree-guard" coming back."""
    manifest = json.loads((PLUGIN / ".claude-plugin" / "plugin.json").read_text())
    hint = manifest["description"]
    assert "pip install worktree-guard" not in hint
    assert all(tool in hint for tool in ("pipx install .", "uv tool install .", "pip install ."))

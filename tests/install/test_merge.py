"""The settings merge on plain data: guard's entries in and out, everything else kept."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from worktree_guard.install.manifest import FileEntry, Manifest, from_json, to_json
from worktree_guard.install.settings import (
    GUARD_EVENT_NAMES,
    TOOL_MATCHER,
    SettingsError,
    Style,
    detect_style,
    find_guard,
    guard_subcommand,
    merge_guard,
    parse_settings,
    remove_guard,
    render_settings,
)

GUARD = "/opt/tools/bin/guard"
OTHER_HOOK = {"type": "command", "command": "echo other", "timeout": 3}


def test_merge_into_empty_adds_every_event_with_timeout() -> None:
    merged = merge_guard({}, GUARD).settings
    assert set(merged["hooks"]) == set(GUARD_EVENT_NAMES)
    pre = merged["hooks"]["PreToolUse"]
    assert pre == [{"matcher": TOOL_MATCHER, "hooks": [
        {"type": "command", "command": f"{GUARD} hook", "timeout": 10}]}]  # fmt: skip
    for event in GUARD_EVENT_NAMES:
        (group,) = merged["hooks"][event]
        (handler,) = group["hooks"]
        assert handler["command"] == f"{GUARD} hook"
        assert isinstance(handler["timeout"], int) and 0 < handler["timeout"] <= 60


def test_merge_keeps_other_keys_and_hooks_in_place() -> None:
    settings: dict[str, Any] = {
        "model": "opus",
        "permissions": {"allow": ["Bash(ls:*)"]},
        "hooks": {
            "PreToolUse": [{"matcher": "Bash", "hooks": [OTHER_HOOK]}],
            "Notification": [{"hooks": [OTHER_HOOK]}],
        },
    }
    merged = merge_guard(settings, GUARD).settings
    assert merged["model"] == "opus"
    assert merged["permissions"] == {"allow": ["Bash(ls:*)"]}
    assert merged["hooks"]["Notification"] == [{"hooks": [OTHER_HOOK]}]
    assert merged["hooks"]["PreToolUse"][0] == {"matcher": "Bash", "hooks": [OTHER_HOOK]}
    assert len(merged["hooks"]["PreToolUse"]) == 2
    assert list(merged)[:2] == ["model", "permissions"]  # key order kept
    assert settings["hooks"]["PreToolUse"] == [{"matcher": "Bash", "hooks": [OTHER_HOOK]}]


def test_merge_twice_is_the_same() -> None:
    once = merge_guard({"hooks": {"Stop": [{"hooks": [OTHER_HOOK]}]}}, GUARD).settings
    assert merge_guard(once, GUARD).settings == once


def test_merge_replaces_an_old_guard_path_instead_of_adding() -> None:
    old = merge_guard({}, "/old/place/guard").settings
    new = merge_guard(old, GUARD).settings
    assert new == merge_guard({}, GUARD).settings
    assert find_guard(new).events["PreToolUse"] == [GUARD]


def test_merge_takes_guard_out_of_a_shared_group_but_keeps_the_other_handler() -> None:
    settings = {"hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [
        OTHER_HOOK, {"type": "command", "command": "/old/guard hook"}]}]}}  # fmt: skip
    merged = merge_guard(settings, GUARD).settings
    groups = merged["hooks"]["PreToolUse"]
    assert groups[0] == {"matcher": "Bash", "hooks": [OTHER_HOOK]}
    assert find_guard(merged).events["PreToolUse"] == [GUARD]


@pytest.mark.parametrize("bad", [{"hooks": []}, {"hooks": {"PreToolUse": {}}}])
def test_merge_refuses_misshapen_hooks(bad: dict[str, Any]) -> None:
    with pytest.raises(SettingsError):
        merge_guard(bad, GUARD)


def test_statusline_set_only_when_free_or_ours() -> None:
    merged = merge_guard({}, GUARD, with_statusline=True)
    assert merged.settings["statusLine"] == {"type": "command", "command": f"{GUARD} statusline"}
    assert find_guard(merged.settings).statusline == GUARD
    foreign = {"statusLine": {"type": "command", "command": "~/bin/my-line"}}
    kept = merge_guard(foreign, GUARD, with_statusline=True)
    assert kept.settings["statusLine"] == foreign["statusLine"]
    assert kept.notes and "my-line" in kept.notes[0]


def test_remove_undoes_merge() -> None:
    settings = {"env": {"A": "1"}, "hooks": {"Stop": [{"hooks": [OTHER_HOOK]}]}}
    merged = merge_guard(settings, GUARD, with_statusline=True).settings
    assert remove_guard(merged) == settings
    assert remove_guard(merge_guard({}, GUARD).settings) == {}


def test_guard_subcommand_recognises_guard_commands_only() -> None:
    assert guard_subcommand("/a b/guard hook") is None  # unquoted space: two words + hook
    assert guard_subcommand("'/a b/guard' hook") == ("/a b/guard", "hook")
    assert guard_subcommand("/usr/bin/python3 -m worktree_guard hook") == (
        "/usr/bin/python3", "hook")  # fmt: skip
    assert guard_subcommand("guard-other hook") is None
    assert guard_subcommand("echo guard hook") is None
    assert guard_subcommand("'unbalanced") is None
    assert guard_subcommand(None) is None


def test_parse_settings() -> None:
    assert parse_settings("", "x") == {}
    assert parse_settings("  \n", "x") == {}
    with pytest.raises(SettingsError, match="not valid JSON"):
        parse_settings("{oops", "x")
    with pytest.raises(SettingsError, match="JSON object"):
        parse_settings("[1]", "x")


@pytest.mark.parametrize(
    ("text", "style"),
    [
        ('{\n    "a": 1\n}\n', Style(4, True)),
        ('{\n\t"a": 1\n}', Style("\t", False)),
        ('{"a": 1}\n', Style(2, True)),
        ("", Style(2, True)),
    ],
)
def test_detect_style(text: str, style: Style) -> None:
    assert detect_style(text) == style


def test_render_keeps_style_and_unicode() -> None:
    text = '{\n    "name": "caf\u00e9"\n}\n'
    assert render_settings(parse_settings(text, "x"), detect_style(text)) == text


def test_manifest_round_trip_keeps_first_before() -> None:
    first = FileEntry("/r/.claude/settings.json", "settings", True, before_b64="e30=", mode=0o600,
                      after_sha256="a")  # fmt: skip
    manifest = Manifest().with_entry(first).with_dir("/r/.claude")
    later = FileEntry("/r/.claude/settings.json", "settings", True, before_b64="bm9wZQ==",
                      mode=0o644, after_sha256="b")  # fmt: skip
    manifest = manifest.with_entry(later)
    entry = manifest.files[first.path]
    assert (entry.before, entry.mode, entry.after_sha256) == (b"{}", 0o600, "b")
    assert from_json(to_json(manifest)) == manifest
    assert from_json("not json") == Manifest()


# ---- properties ----------------------------------------------------------------------------

_json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8))
_json = st.recursive(
    _json_leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=10,
)
_handler = st.fixed_dictionaries(
    {"type": st.just("command"), "command": st.sampled_from(["echo a", "./x.sh", "make lint"])}
)
_group = st.fixed_dictionaries(
    {"hooks": st.lists(_handler, min_size=1, max_size=2)},
    optional={"matcher": st.sampled_from(["Bash", "Edit", ""])},
)
_settings = st.fixed_dictionaries(
    {},
    optional={
        "hooks": st.dictionaries(
            st.sampled_from([*GUARD_EVENT_NAMES, "Notification", "UserPromptSubmit"]),
            st.lists(_group, min_size=1, max_size=2),
            min_size=1,
            max_size=4,
        ),
        "model": st.text(max_size=5),
        "extra": _json,
    },
)


@settings(max_examples=200, deadline=None)
@given(_settings)
def test_property_merge_idempotent_and_removable(settings_in: dict[str, Any]) -> None:
    merged = merge_guard(settings_in, GUARD).settings
    assert merge_guard(merged, GUARD).settings == merged
    assert remove_guard(merged) == settings_in
    assert not find_guard(settings_in).any
    assert find_guard(merged).missing_events == []
    text = render_settings(merged, Style(2, True))
    assert json.loads(text) == merged

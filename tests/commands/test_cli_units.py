"""The pure parts behind the CLI, on plain data: no processes, no repositories."""

from __future__ import annotations

import os
import stat
import subprocess
from typing import Any

import pytest

from worktree_guard.commands.doctor import (
    fs_type,
    judge_git,
    judge_lock_dir,
    judge_settings,
    parse_git_version,
    shim_guard_path,
)
from worktree_guard.commands.log import format_event
from worktree_guard.commands.run import exit_code_of, heartbeat_interval_s, plan_session
from worktree_guard.commands.status import Viewer, describe_lease, summarize
from worktree_guard.commands.statusline import segment
from worktree_guard.core.decide import LeaseState
from worktree_guard.core.identity import Liveness
from worktree_guard.core.record import LeaseRecord, RecordKind, UnreadableLease
from worktree_guard.git.shims import shim_text
from worktree_guard.install.install import manager_line

PERSON = Viewer(None, "warn", None, None)  # a person looking, no failed open
NOW = 1_700_000_000_000


def record(**changes: Any) -> LeaseRecord:
    base: dict[str, Any] = dict(session_id="abcdef0123456789", acquired_at=NOW - 60_000,
                                ttl_ms=300_000, last_active_at=NOW - 10_000, pid=4242,
                                token="t", generation=3, workspace="/w", branch="main",
                                agent="claude-code")  # fmt: skip
    base.update(changes)
    return LeaseRecord(**base)


# ---- status / statusline -------------------------------------------------------------------


def test_summarize_a_live_holder() -> None:
    info = summarize("k", record(), LeaseState.HELD_BY_OTHER, Liveness.ALIVE, NOW, 300_000)
    assert info["state"] == "held" and not info["held_by_you"]
    assert (info["pid"], info["alive"], info["idle_ms"]) == (4242, "alive", 10_000)
    assert info["ttl_left_ms"] == 290_000 and info["held_for_ms"] == 60_000


def test_summarize_seed_and_unreadable() -> None:
    seed = record(kind=RecordKind.SEED, pid=999)
    info = summarize("k", seed, LeaseState.HELD_BY_OTHER, None, NOW, 300_000)
    assert info["pid"] is None  # a seed record's pid was a short-lived hook's
    bad = UnreadableLease("not valid JSON", NOW - 1_000)
    info = summarize("k", bad, LeaseState.HELD_BY_OTHER, None, NOW, 300_000)
    assert info["state"] == "unreadable" and info["ttl_left_ms"] == 299_000
    assert "unreadable" in describe_lease(info, PERSON)[0]


@pytest.mark.parametrize(
    ("state", "text"),
    [(LeaseState.FREE, "guard: free"), (LeaseState.DEAD, "guard: free"),
     (LeaseState.EXPIRED, "guard: free"),
     (LeaseState.HELD_BY_CALLER, "guard: held by this session, 4m50s left"),
     (LeaseState.HELD_BY_OTHER, "guard: held by abcdef01, pid 4242")],
)  # fmt: skip
def test_statusline_segment(state: LeaseState, text: str) -> None:
    view = None if state is LeaseState.FREE else record()
    lease = summarize("k", view, state, Liveness.ALIVE, NOW, 300_000)
    assert segment(lease, color=False) == text
    assert segment(lease, color=True).startswith("\033[")
    assert segment(None, color=False) == "guard: no git tree"


def test_describe_lease_stale_shows_no_ttl() -> None:
    dead = summarize("k", record(), LeaseState.DEAD, Liveness.DEAD, NOW, 300_000)
    lines = describe_lease(dead, PERSON)
    assert "holder process is gone" in lines[0] and not any("ttl" in x for x in lines)


# ---- log -------------------------------------------------------------------------------------


def test_format_event_orders_and_shortens() -> None:
    line = format_event({"ts_ms": NOW, "event": "denied", "tool": "Edit", "key": "k1",
                         "session": "0123456789abcdef", "holder": "fedcba9876543210"})
    assert line.split("  ", 1)[1] == "denied      session=01234567 key=k1 tool=Edit holder=fedcba98"
    # Catches: a malformed line printed as "????-??-?? ??:??:??" (it now says what it is).
    assert format_event({"event": "x"}).split() == ["(no", "time)", "x"]
    malformed = format_event({"ts_ms": NOW, "event": 3})
    assert malformed.split("  ", 1) == ["(malformed)", f'        {{"ts_ms": {NOW}, "event": 3}}']
    assert format_event({"event": "x", "via": "guard run"}).endswith('via="guard run"')


# ---- run -------------------------------------------------------------------------------------


def test_plan_session() -> None:
    own = plan_session({}, lambda: "id1")
    assert (own.session_id, own.agent, own.owns_lease, own.nested) == (
        "id1", "guard-run", True, None)  # fmt: skip
    nested = plan_session({"GUARD_SESSION_ID": "outer", "CLAUDE_CODE_SESSION_ID": "c"}, str)
    assert (nested.session_id, nested.owns_lease) == ("outer", False)
    claude = plan_session({"CLAUDE_CODE_SESSION_ID": " c1 "}, str)
    assert (claude.session_id, claude.agent, claude.owns_lease) == ("c1", "claude", False)


def test_exit_codes_and_heartbeat() -> None:
    assert exit_code_of(3) == 3 and exit_code_of(-15) == 143
    assert heartbeat_interval_s(300_000) == 30.0
    assert heartbeat_interval_s(3_000) == 1.0
    assert heartbeat_interval_s(1) == 0.2


# ---- doctor ----------------------------------------------------------------------------------


def test_git_version_judgement() -> None:
    assert parse_git_version("git version 2.39.5") == (2, 39, 5)
    assert parse_git_version("git version 2.28.0.windows.1") == (2, 28, 0)
    assert judge_git("git version 2.39.5").level == "ok"
    assert judge_git("git version 2.27.1").level == "fail"
    assert judge_git(None).level == "fail"
    assert judge_git("weird").level == "warn"


MOUNTINFO = """\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
40 22 0:35 / /home/me/nfs rw,relatime shared:20 - nfs4 server:/export rw
41 22 0:36 / /mnt/with\\040space rw - fuse.sshfs host: rw
"""


def test_fs_type_picks_the_longest_mount() -> None:
    assert fs_type("/home/me/code", MOUNTINFO) == "ext4"
    assert fs_type("/home/me/nfs/locks", MOUNTINFO) == "nfs4"
    assert fs_type("/home/me/nfsx", MOUNTINFO) == "ext4"
    assert fs_type("/mnt/with space/x", MOUNTINFO) == "fuse.sshfs"
    assert fs_type("/x", "garbage\n") is None


def _stat(mode: int, uid: int) -> os.stat_result:
    return os.stat_result((mode, 0, 0, 1, uid, 0, 0, 0, 0, 0))


def test_lock_dir_judgement() -> None:
    uid = 1000
    folder = stat.S_IFDIR
    assert judge_lock_dir("/l", _stat(folder | 0o700, uid), uid, "ext4").level == "ok"
    assert judge_lock_dir("/l", None, uid, "ext4").level == "ok"
    assert judge_lock_dir("/l", _stat(folder | 0o755, uid), uid, "ext4").level == "fail"
    assert judge_lock_dir("/l", _stat(folder | 0o700, 0), uid, "ext4").level == "fail"
    assert judge_lock_dir("/l", _stat(stat.S_IFREG | 0o600, uid), uid, "ext4").level == "fail"
    on_nfs = judge_lock_dir("/l", _stat(folder | 0o700, uid), uid, "nfs4")
    assert on_nfs.level == "fail" and "GUARD_LOCK_DIR" in on_nfs.fix


def test_settings_judgement(tmp_path: Any) -> None:
    exe = tmp_path / "guard"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    events = ["PostToolUse", "PostToolUseFailure", "PreToolUse", "SessionEnd", "SessionStart",
              "Stop"]  # fmt: skip
    good = {"path": "/p", "exists": True, "guard_events": events, "missing_events": [],
            "executables": [str(exe)], "hooks_disabled": False}  # fmt: skip
    assert [c.level for c in judge_settings({"local": good, "user": {"exists": False}})] == ["ok"]
    partial = {**good, "missing_events": ["Stop"], "executables": ["/gone/guard"]}
    (check,) = judge_settings({"local": partial})
    assert check.level == "fail" and "Stop" in check.detail and "/gone/guard" in check.detail
    none = judge_settings({"local": {"exists": False}})
    assert none[0].level == "warn" and none[0].fix == "guard install"  # git hooks only: a warning
    broken = judge_settings({"project": {"error": "x is not valid JSON"}, "local": good})
    assert [c.level for c in broken] == ["fail", "ok"]
    off = judge_settings({"local": {**good, "hooks_disabled": True}})
    assert off[0].level == "fail" and "disableAllHooks" in off[0].detail


def test_shim_guard_path_reads_the_baked_in_path() -> None:
    assert shim_guard_path(shim_text("pre-commit", "/opt/my tools/guard")) == "/opt/my tools/guard"
    assert shim_guard_path("#!/bin/sh\necho hi\n") is None


def test_manager_line_holds_no_path_of_this_machine() -> None:
    """Catches: the line baking in the launcher it is given (a tracked file then carries it)."""
    line = manager_line("/opt/it's/guard")
    assert "/opt" not in line and '"$g" git-hook "${0##*/}" "$@" || exit $?' in line
    assert subprocess.run(["sh", "-n", "-c", line]).returncode == 0

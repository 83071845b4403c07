"""The pure decisions of core/decide.py on plain values: each boundary, each branch.

These run in microseconds, so scripts/mutate tries them first: a mutant of a decision dies
here before any process starts.
"""

from __future__ import annotations

import pytest

from worktree_guard.core.decide import (
    HolderFacts,
    HumanPolicy,
    LeaseState,
    ToolAction,
    assess,
    bypass_reason,
    classify_tool,
    deny_reason,
    describe_holder,
    format_ago,
    hijack_reason,
    holder_facts,
    is_expired,
    is_hijack,
    needs_liveness_check,
    parse_human_policy,
    session_start_context,
)
from worktree_guard.core.identity import Liveness
from worktree_guard.core.record import LeaseRecord, RecordKind, UnreadableLease

NOW = 1_700_000_000_000
TTL = 300_000


def record(stamp: int = NOW, session: str = "holder-session", kind: RecordKind = RecordKind.OURS,
           pid: int | None = 4242, ttl: int = TTL) -> LeaseRecord:
    return LeaseRecord(session, stamp - 5_000, ttl, stamp, kind, pid=pid, branch="main",
                       agent="claude-code")


def test_expiry_boundaries_of_a_record() -> None:
    assert not is_expired(record(NOW - TTL + 1), NOW, 1)
    assert is_expired(record(NOW - TTL), NOW, 1), "a full ttl without activity expires"
    assert not is_expired(record(NOW + TTL), NOW, 1), "up to one ttl ahead: a small step"
    assert is_expired(record(NOW + TTL + 1), NOW, 1), "further ahead: the clock went back"
    # A record's own ttl governs it, not the default.
    assert not is_expired(record(NOW - 50_000, ttl=60_000), NOW, 1)
    assert is_expired(record(NOW - 60_000, ttl=60_000), NOW, 10 * TTL)


def test_expiry_of_an_unreadable_file_uses_its_mtime_and_the_default_ttl() -> None:
    assert not is_expired(UnreadableLease("empty", NOW - TTL + 1), NOW, TTL)
    assert is_expired(UnreadableLease("empty", NOW - TTL), NOW, TTL)
    assert is_expired(UnreadableLease("empty", NOW + TTL + 1), NOW, TTL)
    assert not is_expired(UnreadableLease("empty", NOW + TTL), NOW, TTL)


def test_only_another_sessions_own_record_with_a_pid_needs_proc() -> None:
    assert needs_liveness_check(record(), "someone-else")
    assert needs_liveness_check(record(), None)
    assert not needs_liveness_check(record(), "holder-session")
    assert not needs_liveness_check(record(pid=None), "someone-else")
    assert not needs_liveness_check(record(kind=RecordKind.SEED), "someone-else")
    assert not needs_liveness_check(record(kind=RecordKind.FUTURE), "someone-else")
    assert not needs_liveness_check(UnreadableLease("empty", NOW), "someone-else")
    assert not needs_liveness_check(None, "someone-else")


@pytest.mark.parametrize(
    ("view", "caller", "alive", "state"),
    [
        (None, "me", Liveness.UNKNOWN, LeaseState.FREE),
        # A holder verified alive keeps its tree past the ttl; the ttl frees only a holder
        # whose liveness cannot be verified; the caller's own stale record is still its own.
        (record(NOW - TTL), "me", Liveness.ALIVE, LeaseState.HELD_BY_OTHER),
        (record(NOW - TTL), "me", Liveness.UNKNOWN, LeaseState.EXPIRED),
        (record(NOW - TTL), "holder-session", Liveness.ALIVE, LeaseState.HELD_BY_CALLER),
        (UnreadableLease("empty", NOW), "me", Liveness.UNKNOWN, LeaseState.HELD_BY_OTHER),
        (UnreadableLease("empty", NOW - TTL), "me", Liveness.UNKNOWN, LeaseState.EXPIRED),
        (record(), "holder-session", Liveness.DEAD, LeaseState.HELD_BY_CALLER),
        (record(), "me", Liveness.ALIVE, LeaseState.HELD_BY_OTHER),
        (record(), "me", Liveness.UNKNOWN, LeaseState.HELD_BY_OTHER),
        (record(), "me", Liveness.DEAD, LeaseState.DEAD),
        (record(), None, Liveness.DEAD, LeaseState.DEAD),
        (record(), None, Liveness.ALIVE, LeaseState.HELD_BY_OTHER),
        (record(kind=RecordKind.SEED), "me", Liveness.DEAD, LeaseState.HELD_BY_OTHER),
        (record(kind=RecordKind.FUTURE), "me", Liveness.DEAD, LeaseState.HELD_BY_OTHER),
        (record(kind=RecordKind.SEED), "holder-session", Liveness.UNKNOWN,
         LeaseState.HELD_BY_CALLER),
    ],
)
def test_assess(view: LeaseRecord | UnreadableLease | None, caller: str | None,
                alive: Liveness, state: LeaseState) -> None:
    assert assess(view, caller, NOW, TTL, alive) is state


def test_assess_defaults_to_an_unknown_holder() -> None:
    assert assess(record(), "me", NOW, TTL) is LeaseState.HELD_BY_OTHER


@pytest.mark.parametrize(
    ("tool", "read_only", "bypass", "action"),
    [
        ("Bash", True, False, ToolAction.READ_ONLY),
        ("Bash", False, False, ToolAction.MUTATING),
        ("Bash", True, True, ToolAction.BYPASSES_HOOKS),
        ("Bash", False, True, ToolAction.BYPASSES_HOOKS),
        ("Edit", True, False, ToolAction.MUTATING),
        ("Write", False, True, ToolAction.MUTATING),
        ("MultiEdit", False, False, ToolAction.MUTATING),
        ("NotebookEdit", False, False, ToolAction.MUTATING),
        ("Read", False, True, ToolAction.READ_ONLY),
        ("Grep", False, False, ToolAction.READ_ONLY),
    ],
)
def test_classify_tool(tool: str, read_only: bool, bypass: bool, action: ToolAction) -> None:
    assert classify_tool(tool, read_only, bypass) is action


def test_is_hijack() -> None:
    assert is_hijack("main", "deploy")
    assert not is_hijack("main", "main")
    assert not is_hijack(None, "main") and not is_hijack("main", None)
    assert not is_hijack("", "main") and not is_hijack("main", "")


@pytest.mark.parametrize(
    ("value", "policy"),
    [("warn", HumanPolicy.WARN), ("deny", HumanPolicy.DENY), ("allow", HumanPolicy.ALLOW),
     (" Deny\n", HumanPolicy.DENY), ("ALLOW", HumanPolicy.ALLOW), ("", HumanPolicy.WARN),
     (None, HumanPolicy.WARN), ("block", HumanPolicy.WARN), ("allowed", HumanPolicy.WARN)],
)
def test_parse_human_policy(value: str | None, policy: HumanPolicy) -> None:
    assert parse_human_policy(value) is policy


@pytest.mark.parametrize(
    ("ms", "text"),
    [(None, "at an unknown time"), (-5_000, "0s ago"), (0, "0s ago"), (59_999, "59s ago"),
     (60_000, "1m 0s ago"), (61_000, "1m 1s ago"), (3_599_000, "59m 59s ago"),
     (3_600_000, "1h 0m ago"), (3_660_000, "1h 1m ago"), (7_199_000, "1h 59m ago"),
     (90_061_000, "25h 1m ago")],
)
def test_format_ago(ms: int | None, text: str) -> None:
    assert format_ago(ms) == text


def test_holder_facts_of_each_kind_of_view() -> None:
    facts = holder_facts(record(NOW - 7_000), NOW)
    assert (facts.session_short, facts.pid, facts.idle_ms, facts.branch, facts.agent) == (
        "holder-s", 4242, 7_000, "main", "claude-code")
    assert facts.unreadable_reason is None
    assert holder_facts(record(kind=RecordKind.SEED), NOW).pid is None, "a seed pid was a hook's"
    unreadable = holder_facts(UnreadableLease("not valid JSON", NOW - 3_000), NOW)
    assert (unreadable.session_short, unreadable.pid, unreadable.idle_ms) == ("unknown", None,
                                                                              3_000)
    assert unreadable.unreadable_reason == "not valid JSON"
    none = holder_facts(None, NOW)
    assert (none.session_short, none.pid, none.idle_ms, none.branch) == ("none", None, None, None)


def test_describe_holder() -> None:
    claude = HolderFacts("abcd1234", 42, 61_000, "main", "claude-code")
    assert describe_holder(claude) == (
        "session abcd1234 (claude-code), claude pid 42, last active 1m 1s ago, on branch main")
    run = HolderFacts("abcd1234", 42, 0, None, "guard-run")
    assert describe_holder(run) == "session abcd1234 (guard-run), pid 42, last active 0s ago, " \
        "branch unknown"
    bare = HolderFacts("abcd1234", None, None, "dev", None)
    assert describe_holder(bare) == (
        "session abcd1234, pid unknown, last active at an unknown time, on branch dev")
    odd = HolderFacts("unknown", None, 2_000, None, None, "empty")
    assert describe_holder(odd) == (
        "an unknown session (the lease file is unreadable: empty; written 2s ago)")


def test_messages_name_the_tree_the_holder_and_the_way_out() -> None:
    facts = HolderFacts("abcd1234", 42, 1_000, "main", "claude-code")
    deny = deny_reason("/src/app", facts)
    assert deny.startswith("worktree-guard: another session holds this working tree (/src/app)")
    assert describe_holder(facts) in deny and "git worktree add" in deny
    assert "guard release --force" in deny and "Do not retry" in deny
    bypass = bypass_reason("--no-verify")
    assert "(--no-verify)" in bypass and "refused for every agent session" in bypass
    hijack = hijack_reason("main", "deploy")
    assert "from branch main to deploy" in hijack and "pushes of it are refused" in hijack
    context = session_start_context("/src/app", facts)
    assert "(/src/app)" in context and describe_holder(facts) in context
    assert "git worktree add" in context

"""The branch lease's pure rules (core/remote_decide.py), on plain data."""

from __future__ import annotations

import pytest

from worktree_guard.core.remote_decide import (
    DEFAULT_TTL_S,
    MAX_TTL_S,
    PUSH_OK,
    PUSH_STALE,
    PUSH_UNAVAILABLE,
    RemoteLease,
    RemoteState,
    lease_message,
    parse_lease,
    push_answer,
    server_allows_branch,
    server_allows_lease,
    shown_remote,
    state_of,
)

NOW = 1_800_000_000
TIP = "c" * 40


def lease(session: str = "s1", host: str = "h1", age_s: int = 0, ttl_s: int = 600,
          tip: str = TIP) -> RemoteLease:  # fmt: skip
    text = lease_message("feature", session, host, "claude-code", NOW - age_s, ttl_s, tip)
    return parse_lease("a" * 40, NOW - age_s, text)


def test_a_lease_reads_back_what_was_written() -> None:
    got = lease()
    assert (got.branch, got.session, got.host, got.agent, got.ttl_s, got.tip) == (
        "feature", "s1", "h1", "claude-code", 600, TIP)


def test_a_field_cannot_smuggle_another_line() -> None:
    """Catches: a session label with a newline writing a `host:` (or `tip:`) line."""
    text = lease_message("feature", "s1\nhost: evil", "h1", "a", NOW, 600, TIP)
    assert parse_lease("a" * 40, NOW, text).host == "h1"


@pytest.mark.parametrize(("session", "host", "age", "state"), [
    ("s1", "h1", 0, RemoteState.MINE),
    ("s1", "h1", 10_000, RemoteState.MINE),  # one's own, however old
    ("s1", "h2", 0, RemoteState.HELD),  # the same label on another machine
    ("s2", "h1", 0, RemoteState.HELD),
    ("s2", "h1", 599, RemoteState.HELD),
    ("s2", "h1", 600, RemoteState.EXPIRED),
    ("s2", "h1", -600, RemoteState.HELD),  # a clock ahead by one ttl
    ("s2", "h1", -601, RemoteState.EXPIRED),  # ahead by more
])  # fmt: skip
def test_states(session: str, host: str, age: int, state: RemoteState) -> None:
    """Catches: the ttl boundary off by one either way, a host not compared, a stamp in
    the future holding a branch forever."""
    assert state_of(lease(age_s=age), session, host, NOW) is state


def test_no_lease_is_free() -> None:
    assert state_of(None, "s1", "h1", NOW) is RemoteState.FREE


@pytest.mark.parametrize("message", ["", "hello\n\nsession: s1\n", "\0\0", "x" * 10_000])
def test_a_commit_that_is_no_lease_is_held_by_nobody_for_a_default_ttl(message: str) -> None:
    """Catches: an unreadable lease read as free (anyone in early) or as someone's."""
    odd = parse_lease("a" * 40, NOW, message)
    assert odd.session == "" and odd.ttl_s == DEFAULT_TTL_S
    assert state_of(odd, "", "", NOW) is RemoteState.HELD
    assert state_of(odd, "", "", NOW + DEFAULT_TTL_S) is RemoteState.EXPIRED


def test_a_zero_or_negative_ttl_is_the_default_and_a_huge_one_capped() -> None:
    """Catches: a lease that says `ttl: 99999999` holding a branch for years."""
    assert lease(ttl_s=0).ttl_s == DEFAULT_TTL_S
    assert lease(ttl_s=-5).ttl_s == DEFAULT_TTL_S
    assert lease(ttl_s=10**9).ttl_s == MAX_TTL_S


def test_the_server_lets_only_the_announced_commit_onto_a_live_lease() -> None:
    assert server_allows_branch(lease(), TIP, NOW)
    assert not server_allows_branch(lease(), "d" * 40, NOW)
    assert server_allows_branch(lease(age_s=600), "d" * 40, NOW)  # expired
    assert server_allows_branch(None, "d" * 40, NOW)


def test_the_server_lets_a_lease_be_replaced_by_its_holder_or_once_ended() -> None:
    assert server_allows_lease(lease(), lease(), NOW)
    assert not server_allows_lease(lease(), lease(session="s2"), NOW)
    assert not server_allows_lease(lease(), lease(host="h2"), NOW)
    assert server_allows_lease(lease(age_s=600), lease(session="s2"), NOW)
    assert server_allows_lease(None, lease(session="s2"), NOW)
    assert not server_allows_lease(None, lease(session=""), NOW)  # a lease of nobody


REF = "refs/guard/leases/feature"


@pytest.mark.parametrize(("code", "stdout", "answer"), [
    (0, f"To r\n*\tabc:{REF}\t[new reference]\nDone\n", PUSH_OK),
    (0, f"To r\n \tabc:{REF}\ta..b\nDone\n", PUSH_OK),
    (1, f"To r\n!\tabc:{REF}\t[rejected] (stale info)\nDone\n", PUSH_STALE),
    (1, f"To r\n!\tabc:{REF}\t[remote rejected] (incorrect old value provided)\n", PUSH_STALE),
    (1, f"To r\n!\tabc:{REF}\t[remote rejected] (failed to update ref)\n", PUSH_STALE),
    (1, f"To r\n!\tabc:{REF}\t[remote rejected] (deny updating a hidden ref)\n",
     PUSH_UNAVAILABLE),
    (1, f"To r\n!\tabc:{REF}\t[remote rejected] (pre-receive hook declined)\n",
     PUSH_UNAVAILABLE),
    (128, "", PUSH_UNAVAILABLE),
    (0, "", PUSH_UNAVAILABLE),  # nothing said about our ref: not a win
])  # fmt: skip
def test_push_answers(code: int, stdout: str, answer: str) -> None:
    """Catches: a lost swap read as a win or as an unreachable remote (which lets the push
    go on), and a refusal by the host read as a lost swap (which refuses the push)."""
    assert push_answer(code, stdout, "fatal: x")[0] == answer


@pytest.mark.parametrize(("remote", "shown"), [
    ("origin", "origin"),
    ("https://me:s3cret@example.com/org/repo.git", "https://example.com/org/repo.git"),
    ("https://token@example.com/r", "https://example.com/r"),
    ("ssh://git@example.com:22/r.git", "ssh://example.com:22/r.git"),
    ("file:///srv/r.git", "file:///srv/r.git"),
    ("git@example.com:org/r.git", "git@example.com:org/r.git"),  # scp form: a user, no secret
])  # fmt: skip
def test_a_remote_is_shown_without_its_credentials(remote: str, shown: str) -> None:
    """Catches: a push to a URL printing and logging the token in it."""
    assert shown_remote(remote) == shown

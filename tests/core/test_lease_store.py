"""The lease store's operations on real files, where a rule is easiest to see directly."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from worktree_guard.core.lease import Caller, LeaseStore, Result
from worktree_guard.core.record import LeaseRecord, UnreadableLease

KEY = "0123456789ab"


def test_force_release_frees_only_the_holder_the_person_was_asked_about(tmp_path: Path) -> None:
    now = [1_700_000_000_000]
    store = LeaseStore(str(tmp_path), 1_000, 2_000, clock=lambda: now[0])
    store.acquire(KEY, Caller("asked-about", None, "claude-code"), "/repo", "main")
    shown = store.read(KEY)
    # While the person reads the question, that lease expires and another session takes it.
    now[0] += 5_000
    assert store.acquire(KEY, Caller("newcomer", None, "claude-code"), "/repo", "main").result \
        is Result.TOOK_OVER
    outcome = store.force_release(KEY, expected=shown)
    assert outcome.result is Result.NOT_HOLDER
    current = store.read(KEY)
    assert isinstance(current, LeaseRecord) and current.session_id == "newcomer"
    # A refresh in between is still the same holder: it is released.
    shown = store.read(KEY)
    now[0] += 10
    store.refresh(KEY, "newcomer", "main")
    assert store.force_release(KEY, expected=shown).result is Result.RELEASED
    assert store.read(KEY) is None


@pytest.mark.parametrize("shape", ["garbage", "symlink"])
def test_an_unreadable_lease_is_dated_in_whole_milliseconds(tmp_path: Path, shape: str) -> None:
    """An unreadable lease is held until its file's mtime + ttl, and `guard status --json`
    shows that age: whole milliseconds, as every other stamp, never a fraction.
    Catches: the nanosecond mtime divided instead of floor-divided (lstat's for a file that
    is not a regular one, fstat's for one that holds no record)."""
    store = LeaseStore(str(tmp_path), 60_000, 2_000)
    path = Path(store.lease_path(KEY))
    if shape == "garbage":
        path.write_text("not a record")
    else:
        path.symlink_to(tmp_path / "elsewhere")
    stamp_ns = 1_700_000_000_123_456_789
    os.utime(path, ns=(stamp_ns, stamp_ns), follow_symlinks=False)
    view = store.read(KEY)
    assert isinstance(view, UnreadableLease)
    assert type(view.mtime_ms) is int and view.mtime_ms == 1_700_000_000_123


def test_every_acquisition_gets_a_token_of_eight_random_bytes(tmp_path: Path) -> None:
    """The token tells one acquisition from the next of the same session (what
    `guard release --force` checks it asked about): 8 random bytes, 16 hex digits.
    Catches: a shorter token."""
    store = LeaseStore(str(tmp_path), 1_000, 2_000)
    tokens = []
    for _ in range(3):
        outcome = store.acquire(KEY, Caller("same-session", None, "claude-code"), "/repo", "main")
        assert isinstance(outcome.record, LeaseRecord)
        tokens.append(outcome.record.token)
        store.release(KEY, "same-session")
    assert all(len(t) == 16 and int(t, 16) >= 0 for t in tokens)
    assert len(set(tokens)) == 3


def test_keys_of_a_lock_folder_not_made_yet_are_none(tmp_path: Path) -> None:
    """`guard list` before any lease was taken: the lock folder does not exist yet, and
    there is nothing to list (no error). Catches: the failed listing let through."""
    assert LeaseStore(str(tmp_path / "not-yet"), 1_000, 2_000).keys() == []
    store = LeaseStore(str(tmp_path / "locks"), 1_000, 2_000)
    store.acquire(KEY, Caller("s", None, "claude-code"), "/repo", "main")
    (tmp_path / "locks" / "session-lock-x.txt").write_text("")
    assert store.keys() == [KEY]

"""The lease store's operations on real files, where a rule is easiest to see directly."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

import pytest

from worktree_guard.core.decide import LeaseState
from worktree_guard.core.identity import process_id
from worktree_guard.core.lease import Caller, LeaseStore, LeaseStoreError, Result, now_ms
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


def test_a_lock_folder_that_is_a_file_is_a_store_error(tmp_path: Path) -> None:
    """A lock folder path that names a file: reading a lease is the store's own error (the
    callers say it clearly), never a bare OSError. Catches: the stat error let through."""
    (tmp_path / "a-file").write_text("")
    store = LeaseStore(str(tmp_path / "a-file"), 1_000, 2_000)
    with pytest.raises(LeaseStoreError, match="cannot stat"):
        store.read(KEY)


def test_a_lock_held_past_the_timeout_is_given_up(tmp_path: Path) -> None:
    """Another process holds the tree's lock and never lets go: the store gives up after
    its lock timeout with an error, it does not wait for ever. (The minute is a safety net,
    never the thing asserted.) Catches: the deadline test made an equality."""
    store = LeaseStore(str(tmp_path), 1_000, 50)
    store.ensure_dir()
    with open(tmp_path / f"session-lock-{KEY}.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        code = ("import sys; from worktree_guard.core.lease import Caller, LeaseStore;"
                "store = LeaseStore(sys.argv[1], 1_000, 50);"
                "store.acquire(sys.argv[2], Caller('s', None, 'claude-code'), '/repo', 'main')")
        done = subprocess.run([sys.executable, "-c", code, str(tmp_path), KEY],
                              capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode != 0 and "timed out after 50 ms locking" in done.stderr


def test_a_lock_file_that_holds_no_number_starts_the_count_at_one(tmp_path: Path) -> None:
    """The side file keeps the generation across releases; one that holds something else
    counts as none. Catches: another starting count."""
    store = LeaseStore(str(tmp_path), 1_000, 2_000)
    store.ensure_dir()
    (tmp_path / f"session-lock-{KEY}.lock").write_text("not a number\n")
    outcome = store.acquire(KEY, Caller("s", None, "claude-code"), "/repo", "main")
    assert isinstance(outcome.record, LeaseRecord) and outcome.record.generation == 1
    assert (tmp_path / f"session-lock-{KEY}.lock").read_text() == "1\n"


def test_a_lock_given_up_leaves_no_descriptor_open(tmp_path: Path) -> None:
    """`guard run` waits for a busy tree by asking again and again: a lock given up must
    not leave its descriptor open each time. Catches: the side file left open on error."""
    store = LeaseStore(str(tmp_path), 1_000, 20)
    store.ensure_dir()
    with open(tmp_path / f"session-lock-{KEY}.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        before = len(os.listdir("/proc/self/fd"))
        for _ in range(3):
            with pytest.raises(LeaseStoreError, match="timed out"):
                store.acquire(KEY, Caller("s", None, "claude-code"), "/repo", "main")
        assert len(os.listdir("/proc/self/fd")) == before


def test_a_label_borrowed_from_another_tree_is_judged_as_a_stranger(tmp_path: Path) -> None:
    """A record names session S and a live holder process that is not the caller nor one of
    its ancestors: a caller that only says it is S is a stranger to it, and the tree is
    held by another. Catches: any label taken at its word."""
    holder = subprocess.Popen(["sleep", "600"])
    try:
        store = LeaseStore(str(tmp_path), 3_600_000, 2_000)
        store.acquire(KEY, Caller("S", process_id(holder.pid), "claude-code"), "/repo", "main")
        view = store.read(KEY)
        assert store.state_of(view, "S", now_ms()) is LeaseState.HELD_BY_OTHER
        assert store.state_of(view, "S", now_ms(), process_id(holder.pid)) \
            is LeaseState.HELD_BY_CALLER
    finally:
        holder.kill()
        holder.wait()


def test_the_unlocked_fast_path_needs_a_stamp_younger_than_half_the_ttl(tmp_path: Path) -> None:
    """Without the lock, the holder's record is taken as fresh only while its stamp is
    younger than the refresh interval AND half the ttl; older, it is stamped again under
    the lock. Catches: the half-ttl bound widened."""
    now = [1_700_000_000_000]
    store = LeaseStore(str(tmp_path), 1_000, 2_000, clock=lambda: now[0])
    caller = Caller("S", None, "claude-code")
    store.acquire(KEY, caller, "/repo", "main")
    now[0] += 700  # past half the ttl (500), within the refresh interval (5 s)
    outcome = store.acquire(KEY, caller, "/repo", "main", refresh_interval_ms=5_000)
    assert isinstance(outcome.record, LeaseRecord)
    assert outcome.record.last_active_at == now[0]  # stamped again, under the lock
    now[0] += 300  # 300 ms after that stamp: fresh, nothing rewritten
    fresh = store.acquire(KEY, caller, "/repo", "main", refresh_interval_ms=5_000)
    assert isinstance(fresh.record, LeaseRecord) and fresh.record.last_active_at == now[0] - 300

"""The lease record schema on plain bytes: what a file's bytes become, and back.

Pure and fast, so scripts/mutate tries these first for core/record.py.
"""

from __future__ import annotations

import json

import pytest

from worktree_guard.core.record import (
    SCHEMA_VERSION,
    LeaseRecord,
    RecordKind,
    UnreadableLease,
    parse_record,
    serialize_record,
)

MTIME = 1_700_000_000_000
DEFAULT_TTL = 300_000
NOW = 1_700_000_500_000


def parse(obj: object, mtime: int = MTIME) -> LeaseRecord | UnreadableLease:
    return parse_record(json.dumps(obj).encode(), mtime, DEFAULT_TTL)


def ours(**changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "schema_version": 1, "session_id": "s1", "pid": 42, "acquired_at": NOW - 9_000,
        "ttl_ms": 60_000, "last_active_at": NOW, "token": "t0k3n", "generation": 3,
        "holder_start_time": 777, "boot_id": "boot", "holder_pid_ns": "pid:[1]",
        "workspace": "/w", "branch": "main", "agent": "claude-code"}
    body.update(changes)
    return body


@pytest.mark.parametrize(
    ("data", "reason"),
    [(b"", "empty"), (b" \n\t", "empty"), (b"{", "not valid JSON"),
     (b'{"session_id": "\xff"}', "not valid JSON"), (b"[1]", "not a JSON object"),
     (b'"text"', "not a JSON object"), (b"{}", "no schema_version or session_id"),
     (b'{"schema_version": true, "session_id": "s"}', "no schema_version or session_id"),
     (b'{"schema_version": "1", "session_id": "s"}', "no schema_version or session_id"),
     (b'{"schema_version": 1, "session_id": ""}', "no schema_version or session_id"),
     (b'{"schema_version": 1, "session_id": 7}', "no schema_version or session_id"),
     (b'{"schema_version": 1, "session_id": "s"}', "no acquired_at"),
     (b'{"schema_version": 1, "session_id": "s", "acquired_at": -1}', "no acquired_at"),
     (b'{"schema_version": 1, "session_id": "s", "acquired_at": true}', "no acquired_at"),
     (b'{"schema_version": 1, "session_id": "s", "acquired_at": "1"}', "no acquired_at"),
     (b'{"schema_version": 1, "session_id": "s", "acquired_at": 1e18}', "no acquired_at"),
     (b'{"schema_version": 1, "session_id": "s", "acquired_at": -Infinity}', "no acquired_at")],
)
def test_unreadable_bytes_and_why(data: bytes, reason: str) -> None:
    assert parse_record(data, MTIME, DEFAULT_TTL) == UnreadableLease(reason, MTIME)


def test_the_size_limit_is_exact() -> None:
    """Catches: the documented limit (64 KiB, docs/architecture.md) moved by a byte."""
    limit = 64 * 1024
    body = json.dumps(ours()).encode()
    fits = body[:-1] + b" " * (limit - len(body)) + b"}"
    assert len(fits) == limit
    assert isinstance(parse_record(fits, MTIME, DEFAULT_TTL), LeaseRecord)
    assert parse_record(fits + b" ", MTIME, DEFAULT_TTL) == UnreadableLease("oversized", MTIME)


def test_a_record_of_ours_keeps_every_field() -> None:
    record = parse(ours())
    assert isinstance(record, LeaseRecord) and record.kind is RecordKind.OURS
    assert (record.session_id, record.pid, record.acquired_at, record.ttl_ms,
            record.last_active_at, record.token, record.generation, record.holder_start_time,
            record.boot_id, record.holder_pid_ns, record.workspace, record.branch,
            record.agent, record.schema_version) == (
        "s1", 42, NOW - 9_000, 60_000, NOW, "t0k3n", 3, 777, "boot", "pid:[1]", "/w", "main",
        "claude-code", 1)
    assert record.expires_at == NOW + 60_000


def test_fields_of_the_wrong_type_are_dropped_not_trusted() -> None:
    record = parse(ours(pid=True, holder_start_time="777", boot_id=5, holder_pid_ns=None,
                        generation="3", workspace=[], branch=1, agent={}, token=9))
    assert isinstance(record, LeaseRecord)
    assert (record.pid, record.holder_start_time, record.boot_id, record.holder_pid_ns,
            record.generation, record.workspace, record.branch, record.agent, record.token) == (
        None, None, None, None, 0, None, None, None, None)


@pytest.mark.parametrize(("ttl", "used"), [(None, DEFAULT_TTL), (0, DEFAULT_TTL),
                                           (-5, DEFAULT_TTL), (True, DEFAULT_TTL),
                                           (1.5, DEFAULT_TTL), (1, 1), (90_000, 90_000)])
def test_the_ttl_falls_back_to_the_default(ttl: object, used: int) -> None:
    record = parse(ours(ttl_ms=ttl))
    assert isinstance(record, LeaseRecord) and record.ttl_ms == used


@pytest.mark.parametrize(
    ("stamp", "ms"),
    [(1_700_000_000, 1_700_000_000_000), (99_999_999_999, 99_999_999_999_000),
     (100_000_000_000, 100_000_000_000), (NOW, NOW), (0, 0), (1_700_000_000.9, 1_700_000_000_000),
     (float(NOW) + 0.5, NOW)],
)
def test_stamps_in_seconds_or_milliseconds(stamp: float, ms: int) -> None:
    record = parse(ours(acquired_at=stamp, last_active_at=stamp))
    assert isinstance(record, LeaseRecord)
    assert record.acquired_at == ms and record.last_active_at == ms


def test_a_seed_record_is_good_from_its_acquired_at_and_names_no_holder() -> None:
    seed = parse({"schema_version": 1, "session_id": "s1", "pid": 42, "acquired_at": NOW,
                  "ttl_ms": 60_000})
    assert isinstance(seed, LeaseRecord) and seed.kind is RecordKind.SEED
    assert seed.last_active_at == NOW and seed.expires_at == NOW + 60_000
    assert seed.pid is None and seed.holder_process() is None
    assert seed.generation == 0 and seed.token is None
    null_token = parse(ours(token=None))  # a token field, even null, is not the seed's
    assert isinstance(null_token, LeaseRecord) and null_token.kind is RecordKind.OURS
    for missing in ("token", "last_active_at"):
        seedlike = parse({k: v for k, v in ours().items() if k != missing})
        assert isinstance(seedlike, LeaseRecord) and seedlike.kind is RecordKind.SEED, missing


def test_an_older_schema_version_is_read_as_ours_not_as_a_newer_one() -> None:
    """Catches: any other schema_version than ours taken for a newer one (a record of
    version 0 would be held while fresh and never rewritten, not even by its session)."""
    for version in (0, -1):
        record = parse(ours(schema_version=version))
        assert isinstance(record, LeaseRecord) and record.kind is RecordKind.OURS, version
        assert record.schema_version == version


def test_a_newer_schema_is_kept_whole_and_dated_by_its_latest_stamp() -> None:
    newer = {"schema_version": SCHEMA_VERSION + 1, "session_id": "s9", "acquired_at": NOW - 1,
             "last_active_at": NOW - 5, "ttl_ms": 60_000, "shape": [1]}
    record = parse(newer, mtime=NOW - 9)
    assert isinstance(record, LeaseRecord) and record.kind is RecordKind.FUTURE
    assert (record.acquired_at, record.last_active_at, record.ttl_ms) == (NOW - 1, NOW - 1,
                                                                         60_000)
    assert record.schema_version == SCHEMA_VERSION + 1 and record.raw == newer
    by_mtime = parse({**newer, "acquired_at": None, "last_active_at": NOW - 7}, mtime=NOW)
    assert isinstance(by_mtime, LeaseRecord)
    assert by_mtime.last_active_at == NOW and by_mtime.acquired_at == NOW
    bare = parse({"schema_version": 7, "session_id": "s9"}, mtime=NOW)
    assert isinstance(bare, LeaseRecord)
    assert (bare.acquired_at, bare.last_active_at, bare.ttl_ms) == (NOW, NOW, DEFAULT_TTL)
    assert bare.holder_process() is None


def test_serialize_then_parse_is_the_same_record() -> None:
    record = parse(ours())
    assert isinstance(record, LeaseRecord)
    data = serialize_record(record)
    assert data.endswith(b"}\n") and data.isascii()
    again = parse_record(data, MTIME, DEFAULT_TTL)
    assert again == record and hash(again) == hash(record)
    assert json.loads(data)["schema_version"] == SCHEMA_VERSION


def test_holder_process_touch_and_replace() -> None:
    record = parse(ours())
    assert isinstance(record, LeaseRecord)
    holder = record.holder_process()
    assert holder is not None
    assert (holder.pid, holder.start_time, holder.boot_id, holder.pid_ns) == (42, 777, "boot",
                                                                             "pid:[1]")
    assert record.replace(pid=None).holder_process() is None
    touched = record.touched(NOW + 1, None)
    assert touched.last_active_at == NOW + 1 and touched.branch == "main"
    assert record.touched(NOW, "").branch == "main"
    assert record.touched(NOW, "dev").branch == "dev"
    assert touched.raw is record.raw and touched != record
    assert record.replace() == record and record != "s1"
    assert "session_id='s1'" in repr(record)


def test_unreadable_views_compare_by_reason_and_mtime() -> None:
    a = UnreadableLease("empty", MTIME)
    assert a == UnreadableLease("empty", MTIME) and hash(a) == hash(UnreadableLease("empty", MTIME))
    assert a != UnreadableLease("empty", MTIME + 1) and a != UnreadableLease("garbage", MTIME)
    assert a != "empty" and "empty" in repr(a)

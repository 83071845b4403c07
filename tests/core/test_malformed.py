"""Every malformed input: bad payloads on stdin and lease files that hold no record.

The rules (also in docs/architecture.md):
- A payload that is not a JSON object with string fields: the call is allowed with one line
  on stderr and an `error` event; with GUARD_FAIL_CLOSED=1 it is denied. Always exit 0.
- A lease file that holds no record (empty, garbage, non-object, oversized, symlink, FIFO):
  held by an unknown session until its mtime + ttl, then replaced; a symlink is replaced,
  its target never touched. A directory cannot be replaced: an internal error (fail-open).
- A seed record (five fields): honoured until acquired_at + ttl_ms. A newer schema_version:
  honoured while fresh (by its stamps, else by its mtime), never rewritten.

Expiry is driven by backdating what is on disk (a stamp, or the file's mtime) against a ttl
of minutes, never by sleeping through a short ttl: the answers do not depend on how fast
the machine runs a hook. The holders here have no process guard could check (unreadable
files, seed and newer-schema records), so only the ttl can free them.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from tests.conftest import pre_tool, read_lease, read_log, run_hook
from worktree_guard.core.workspace import workspace_key

BAD_PAYLOADS: list[tuple[str, bytes]] = [
    ("empty", b""),
    ("whitespace", b"   \n"),
    ("half JSON", b'{"session_id": "s", "cwd": '),
    ("array", b"[1, 2]"),
    ("string", b'"PreToolUse"'),
    ("null", b"null"),
    ("number", b"42"),
    ("non-UTF-8", b'{"session_id": "\xff\xfe", "hook_event_name": "PreToolUse"}'),
    ("deep nesting", b"[" * 100_000 + b"]" * 100_000),
    ("no event", b'{"session_id": "s", "cwd": "/"}'),
    ("event not a string", b'{"session_id": "s", "cwd": "/", "hook_event_name": 7}'),
]


def bad_fields(repo: Path) -> list[tuple[str, dict[str, object]]]:
    base = pre_tool("s-bad", repo)
    return [
        ("session_id missing", {k: v for k, v in base.items() if k != "session_id"}),
        ("session_id number", {**base, "session_id": 5}),
        ("session_id empty", {**base, "session_id": ""}),
        ("cwd list", {**base, "cwd": ["/"]}),
        ("tool_name object", {**base, "tool_name": {"x": 1}}),
        ("tool_input string", {**base, "tool_name": "Bash", "tool_input": "rm -rf /"}),
    ]


@pytest.mark.guard_fails  # the failure policy itself
@pytest.mark.parametrize(("name", "data"), BAD_PAYLOADS, ids=[n for n, _ in BAD_PAYLOADS])
def test_bad_payload_fails_open_without_traceback(
    name: str, data: bytes, guard_env: dict[str, str], lock_dir: Path
) -> None:
    answer = run_hook(data, guard_env)
    assert answer.returncode == 0
    assert answer.stdout == ""
    assert "Traceback" not in answer.stderr
    if name not in ("no event", "event not a string"):
        assert answer.stderr.count("\n") == 1 and "worktree-guard: internal error" in answer.stderr
        assert read_log(lock_dir)[-1]["event"] == "error"


@pytest.mark.guard_fails  # the failure policy itself
@pytest.mark.parametrize("name", ["empty", "half JSON", "array", "non-UTF-8"])
def test_bad_payload_fails_closed_when_asked(name: str, guard_env: dict[str, str]) -> None:
    data = dict(BAD_PAYLOADS)[name]
    answer = run_hook(data, {**guard_env, "GUARD_FAIL_CLOSED": "1"})
    assert answer.returncode == 0 and answer.denied
    assert "GUARD_FAIL_CLOSED" in answer.reason


@pytest.mark.guard_fails  # the failure policy itself
def test_bad_fields(repo: Path, guard_env: dict[str, str], lock_dir: Path) -> None:
    for name, payload in bad_fields(repo):
        answer = run_hook(payload, guard_env)
        assert answer.returncode == 0, name
        assert "Traceback" not in answer.stderr, name
        if name == "tool_input string":
            # A Bash call whose command cannot be read is treated as mutating: it takes the lease.
            assert not answer.denied and read_lease(lock_dir)["session_id"] == "s-bad"
        else:
            assert answer.stdout == "" and "internal error" in answer.stderr, name


def test_huge_payload_is_still_decided(repo: Path, guard_env: dict[str, str]) -> None:
    run_hook(pre_tool("holder", repo), guard_env)
    huge = pre_tool("other", repo, file_path=str(repo / "big.txt"), content="x" * 20_000_000)
    answer = run_hook(huge, guard_env)
    assert answer.denied


# ---- lease files that hold no record --------------------------------------------------------


def lease_path(repo: Path, lock_dir: Path) -> Path:
    lock_dir.mkdir(mode=0o700, exist_ok=True)
    return lock_dir / f"session-lock-{workspace_key(os.path.realpath(repo))}.json"


TTL_MS = 300_000
MARGIN_MS = 60_000  # either side of the expiry: far more than any hook call takes


def with_ttl(env: dict[str, str]) -> dict[str, str]:
    return {**env, "GUARD_TTL_MS": str(TTL_MS)}


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def set_mtime(path: Path, age_ms: int) -> None:
    """Make the file (a symlink itself, never its target) look written `age_ms` ago."""
    stamp_ns = (now_ms() - age_ms) * 1_000_000
    os.utime(path, ns=(stamp_ns, stamp_ns), follow_symlinks=False)


def just_before_expiry(path: Path) -> None:
    set_mtime(path, TTL_MS - MARGIN_MS)


def just_after_expiry(path: Path) -> None:
    set_mtime(path, TTL_MS + MARGIN_MS)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("empty", b""),
        ("garbage", b"\x00\x01garbage{{{"),
        ("non-object", b"[1,2,3]"),
        ("no session", b'{"schema_version": 1}'),
        ("oversized", b'{"schema_version": 1, "session_id": "' + b"x" * 70_000 + b'"}'),
        ("infinite stamp", b'{"schema_version": 1, "session_id": "x", "acquired_at": Infinity}'),
        ("NaN stamp", b'{"schema_version": 1, "session_id": "x", "acquired_at": NaN}'),
        ("huge stamp", b'{"schema_version": 1, "session_id": "x", "acquired_at": 1e999}'),
    ],
)
def test_unreadable_lease_file_is_held_for_one_ttl_then_replaced(
    name: str, content: bytes, repo: Path, guard_env: dict[str, str], lock_dir: Path
) -> None:
    env = with_ttl(guard_env)
    path = lease_path(repo, lock_dir)
    path.write_bytes(content)
    answer = run_hook(pre_tool("s1", repo), env)
    assert answer.denied and "unreadable" in answer.reason
    assert path.read_bytes() == content
    just_before_expiry(path)
    assert run_hook(pre_tool("s1", repo), env).denied
    just_after_expiry(path)
    assert not run_hook(pre_tool("s1", repo), env).denied
    assert read_lease(lock_dir)["session_id"] == "s1"


def test_symlinked_lease_file_is_replaced_and_its_target_untouched(
    repo: Path, guard_env: dict[str, str], lock_dir: Path, tmp_path: Path
) -> None:
    env = with_ttl(guard_env)
    target = tmp_path / "precious.txt"
    target.write_text("do not touch\n")
    path = lease_path(repo, lock_dir)
    path.symlink_to(target)
    assert run_hook(pre_tool("s1", repo), env).denied
    just_after_expiry(path)
    assert not run_hook(pre_tool("s1", repo), env).denied
    assert not path.is_symlink() and json.loads(path.read_text())["session_id"] == "s1"
    assert target.read_text() == "do not touch\n"
    # Release and force release never follow a link either.
    path.unlink()
    path.symlink_to(target)
    run_hook({"session_id": "s1", "cwd": str(repo), "hook_event_name": "SessionEnd"}, env)
    assert target.read_text() == "do not touch\n"


def test_fifo_lease_file_never_hangs(repo: Path, guard_env: dict[str, str]) -> None:
    env = with_ttl(guard_env)
    path = lease_path(repo, Path(guard_env["GUARD_LOCK_DIR"]))
    os.mkfifo(path)
    assert run_hook(pre_tool("s1", repo), env).denied  # would hang forever on a blocking open
    just_after_expiry(path)
    assert not run_hook(pre_tool("s1", repo), env).denied
    assert path.is_file()


@pytest.mark.guard_fails  # the failure policy itself
def test_directory_at_the_lease_path_is_an_internal_error(
    repo: Path, guard_env: dict[str, str], lock_dir: Path
) -> None:
    path = lease_path(repo, lock_dir)
    path.mkdir()
    answer = run_hook(pre_tool("s1", repo), guard_env)
    assert answer.returncode == 0 and not answer.denied
    assert "is a directory" in answer.stderr and "Traceback" not in answer.stderr
    closed = run_hook(pre_tool("s1", repo), {**guard_env, "GUARD_FAIL_CLOSED": "1"})
    assert closed.denied
    assert path.is_dir()


def test_seed_record_is_honoured_until_acquired_at_plus_ttl(
    repo: Path, guard_env: dict[str, str], lock_dir: Path
) -> None:
    path = lease_path(repo, lock_dir)
    seed = {"schema_version": 1, "session_id": "seed-session", "pid": 1,
            "acquired_at": now_ms() - TTL_MS + MARGIN_MS, "ttl_ms": TTL_MS}
    path.write_text(json.dumps(seed))
    answer = run_hook(pre_tool("s1", repo), guard_env)
    assert answer.denied and "seed-ses" in answer.reason
    assert "pid unknown" in answer.reason, "a seed pid was a short-lived hook's: never shown"
    path.write_text(json.dumps({**seed, "acquired_at": now_ms() - TTL_MS - MARGIN_MS}))
    assert not run_hook(pre_tool("s1", repo), guard_env).denied


def test_seed_record_of_the_same_session_becomes_ours(
    repo: Path, guard_env: dict[str, str], lock_dir: Path
) -> None:
    path = lease_path(repo, lock_dir)
    seed = {"schema_version": 1, "session_id": "s1", "pid": 1,
            "acquired_at": int(time.time() * 1000), "ttl_ms": 300000}
    path.write_text(json.dumps(seed))
    assert not run_hook(pre_tool("s1", repo), guard_env).denied
    record = read_lease(lock_dir)
    assert record["session_id"] == "s1" and record["token"] and record["pid"] is None


def test_future_schema_is_honoured_and_never_rewritten(
    repo: Path, guard_env: dict[str, str], lock_dir: Path
) -> None:
    path = lease_path(repo, lock_dir)
    record = {"schema_version": 9, "session_id": "from-the-future",
              "acquired_at": now_ms(), "ttl_ms": TTL_MS, "shape": {"unknown": True}}
    future = json.dumps(record).encode()
    path.write_bytes(future)
    assert run_hook(pre_tool("s1", repo), guard_env).denied
    assert not run_hook(pre_tool("from-the-future", repo), guard_env).denied
    run_hook({"session_id": "from-the-future", "cwd": str(repo),
              "hook_event_name": "PostToolUse"}, {**guard_env, "GUARD_REFRESH_INTERVAL_MS": "0"})
    assert path.read_bytes() == future
    # Stale by its stamp and by its mtime: the later of the two counts.
    old = json.dumps({**record, "acquired_at": now_ms() - TTL_MS - MARGIN_MS}).encode()
    path.write_bytes(old)
    assert run_hook(pre_tool("s1", repo), guard_env).denied, "a fresh mtime still holds it"
    just_after_expiry(path)
    assert not run_hook(pre_tool("s1", repo), guard_env).denied
    assert read_lease(lock_dir)["schema_version"] == 1


def test_future_schema_without_stamps_is_held_by_its_mtime(
    repo: Path, guard_env: dict[str, str], lock_dir: Path
) -> None:
    """Catches: the mtime fallback of a newer-schema record without stamps removed (guard
    would fail on it, or take it as free, instead of honouring it for one ttl)."""
    env = with_ttl(guard_env)
    path = lease_path(repo, lock_dir)
    future = json.dumps({"schema_version": 9, "session_id": "from-the-future",
                         "holder": {"kind": "unknown to us"}}).encode()
    path.write_bytes(future)
    answer = run_hook(pre_tool("s1", repo), env)
    assert answer.denied and "from-the" in answer.reason and "unreadable" not in answer.reason
    assert path.read_bytes() == future
    just_before_expiry(path)
    assert run_hook(pre_tool("s1", repo), env).denied
    just_after_expiry(path)
    assert not run_hook(pre_tool("s1", repo), env).denied
    assert read_lease(lock_dir)["session_id"] == "s1"


@pytest.mark.guard_fails  # the failure policy itself
def test_a_fifo_where_the_event_log_belongs_never_hangs_a_hook(
    repo: Path, guard_env: dict[str, str], lock_dir: Path
) -> None:
    lock_dir.mkdir(mode=0o700)
    os.mkfifo(lock_dir / "events.jsonl")
    assert not run_hook(pre_tool("s1", repo), guard_env).denied  # would block on open
    assert run_hook(pre_tool("s2", repo), guard_env).denied
    closed = {**guard_env, "GUARD_FAIL_CLOSED": "1", "GUARD_LOCK_TIMEOUT_MS": "1"}
    answer = run_hook(b"not json", closed)  # the failure path logs too
    assert answer.denied and (lock_dir / "events.jsonl").exists()

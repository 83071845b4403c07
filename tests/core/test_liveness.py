"""Holder liveness with real processes: a killed holder, a reused pid, another boot, a clock
stamp far in the future, `claude --resume`. The holder is a real process named `claude`."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.conftest import lease_files, pre_tool, read_lease, read_log, run_hook
from worktree_guard.core.identity import Liveness, ProcessId, boot_id, liveness, process_id


def rewrite_lease(lock_dir: Path, **changes: Any) -> None:
    path = lease_files(lock_dir)[0]
    record = json.loads(path.read_text())
    record.update(changes)
    path.write_text(json.dumps(record))


def test_hook_records_the_claude_ancestor_as_holder(
    repo: Path, guard_env: dict[str, str], lock_dir: Path, fake_claude: Any
) -> None:
    holder = fake_claude(pre_tool("s1", repo), guard_env)
    assert not holder.answer.denied
    lease = read_lease(lock_dir)
    assert lease["pid"] == holder.pid
    assert lease["holder_start_time"] == process_id(holder.pid).start_time
    assert lease["boot_id"] == boot_id()
    # While it lives, another session is refused, naming its pid.
    answer = run_hook(pre_tool("s2", repo), guard_env)
    assert answer.denied and f"claude pid {holder.pid}" in answer.reason


def test_sigkilled_holder_is_taken_over_on_the_next_call(
    repo: Path, guard_env: dict[str, str], lock_dir: Path, fake_claude: Any
) -> None:
    holder = fake_claude(pre_tool("s1", repo), guard_env)
    assert run_hook(pre_tool("s2", repo), guard_env).denied
    holder.kill()  # SIGKILL: no SessionEnd, the lease stays behind
    assert read_lease(lock_dir)["session_id"] == "s1"
    assert not run_hook(pre_tool("s2", repo), guard_env).denied
    lease = read_lease(lock_dir)
    assert lease["session_id"] == "s2" and lease["generation"] == 2
    taken = [e for e in read_log(lock_dir) if e["event"] == "taken_over"]
    assert taken and taken[-1]["previous_state"] == "dead"
    assert taken[-1]["previous_session"] == "s1"


def test_live_pid_with_another_start_time_is_a_reused_pid(
    repo: Path, guard_env: dict[str, str], lock_dir: Path, fake_claude: Any
) -> None:
    holder = fake_claude(pre_tool("s1", repo), guard_env)
    rewrite_lease(lock_dir, holder_start_time=read_lease(lock_dir)["holder_start_time"] - 1)
    assert holder.process.poll() is None, "the pid is alive"
    assert not run_hook(pre_tool("s2", repo), guard_env).denied
    assert read_lease(lock_dir)["session_id"] == "s2"


def test_holder_from_another_boot_is_dead(
    repo: Path, guard_env: dict[str, str], lock_dir: Path, fake_claude: Any
) -> None:
    fake_claude(pre_tool("s1", repo), guard_env)
    rewrite_lease(lock_dir, boot_id="00000000-0000-0000-0000-000000000000")
    assert not run_hook(pre_tool("s2", repo), guard_env).denied


def test_unknown_holder_is_alive_until_the_ttl(
    repo: Path, guard_env: dict[str, str], lock_dir: Path
) -> None:
    """Expiry by backdating the record's stamp against a ttl of minutes, not by sleeping
    through a short one: the answers do not depend on how fast a hook runs."""
    ttl, margin = 300_000, 60_000
    env = {**guard_env, "GUARD_TTL_MS": str(ttl)}
    run_hook(pre_tool("s1", repo), env)  # no claude ancestor: the holder is unknown
    assert read_lease(lock_dir)["pid"] is None
    assert run_hook(pre_tool("s2", repo), env).denied
    now = int(time.time() * 1000)
    rewrite_lease(lock_dir, last_active_at=now - ttl + margin)
    assert run_hook(pre_tool("s2", repo), env).denied
    rewrite_lease(lock_dir, last_active_at=now - ttl - margin)
    assert not run_hook(pre_tool("s2", repo), env).denied
    taken = [e for e in read_log(lock_dir) if e["event"] == "taken_over"]
    assert taken[-1]["previous_state"] == "expired"


def test_a_stamp_a_day_in_the_future_is_expired(
    repo: Path, guard_env: dict[str, str], lock_dir: Path
) -> None:
    # An unknown holder (no claude ancestor): only the ttl, and so only the stamp, decides.
    run_hook(pre_tool("s1", repo), guard_env)
    assert read_lease(lock_dir)["pid"] is None
    day_ahead = int(time.time() * 1000) + 86_400_000
    rewrite_lease(lock_dir, last_active_at=day_ahead, acquired_at=day_ahead)
    assert not run_hook(pre_tool("s2", repo), guard_env).denied


def test_a_holder_verified_alive_keeps_its_tree_past_the_ttl(
    repo: Path, guard_env: dict[str, str], lock_dir: Path, fake_claude: Any
) -> None:
    """A long tool call or an idle hour: the stamp is old, the holder lives, the tree stays
    its own; the deny says it is alive and how long idle, so a person can decide."""
    env = {**guard_env, "GUARD_TTL_MS": "1000"}
    holder = fake_claude(pre_tool("s1", repo), env)
    hour_ago = int(time.time() * 1000) - 47 * 60_000
    rewrite_lease(lock_dir, last_active_at=hour_ago)  # as if idle for 47 minutes
    answer = run_hook(pre_tool("s2", repo), env)
    assert answer.denied and "alive, idle 47m" in answer.reason
    assert read_lease(lock_dir)["session_id"] == "s1"
    # The clock stepped back a day proves nothing against a live holder either.
    rewrite_lease(lock_dir, last_active_at=hour_ago + 86_400_000 + 47 * 60_000)
    assert run_hook(pre_tool("s2", repo), env).denied
    # GUARD_MAX_IDLE_MS bounds the idle time of a live holder when a person asks for it.
    rewrite_lease(lock_dir, last_active_at=hour_ago)
    assert run_hook(pre_tool("s2", repo), {**env, "GUARD_MAX_IDLE_MS": "3600000"}).denied
    assert not run_hook(pre_tool("s2", repo), {**env, "GUARD_MAX_IDLE_MS": "60000"}).denied
    assert read_lease(lock_dir)["session_id"] == "s2"
    # Once its process is gone, the tree is taken at once whatever the stamps say.
    holder.kill()


def test_resume_keeps_the_session_and_updates_the_pid(
    repo: Path, guard_env: dict[str, str], lock_dir: Path, fake_claude: Any
) -> None:
    first = fake_claude(pre_tool("s1", repo), guard_env)
    first.kill()
    resumed = fake_claude(
        {"session_id": "s1", "cwd": str(repo), "hook_event_name": "SessionStart",
         "source": "resume"}, guard_env)
    assert resumed.answer.stdout == ""
    lease = read_lease(lock_dir)
    assert lease["session_id"] == "s1" and lease["pid"] == resumed.pid
    assert run_hook(pre_tool("s2", repo), guard_env).denied


def test_liveness_of_real_processes() -> None:
    proc = subprocess.Popen(["sleep", "30"])
    try:
        pinned = process_id(proc.pid)
        assert liveness(pinned) is Liveness.ALIVE
        assert liveness(ProcessId(proc.pid, (pinned.start_time or 0) + 7, boot_id())) \
            is Liveness.DEAD
    finally:
        proc.kill()
        proc.wait()
    assert liveness(pinned) is Liveness.DEAD  # reaped: the pid is gone


def test_a_holder_in_another_pid_namespace_is_unknown_not_dead(
    repo: Path, guard_env: dict[str, str], lock_dir: Path, fake_claude: Any
) -> None:
    holder = fake_claude(pre_tool("s1", repo), guard_env)
    assert read_lease(lock_dir)["holder_pid_ns"].startswith("pid:[")
    holder.kill()
    # Seen from another namespace (a container sharing the lock folder), the pid lookup means
    # nothing: the holder counts as alive until the ttl, never as dead.
    rewrite_lease(lock_dir, holder_pid_ns="pid:[1]")
    assert run_hook(pre_tool("s2", repo), guard_env).denied
    rewrite_lease(lock_dir, holder_pid_ns=process_id(os.getpid()).pid_ns)
    assert not run_hook(pre_tool("s2", repo), guard_env).denied

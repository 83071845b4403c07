"""The lock-free fast path of the holder's own calls, and what must still force a rewrite.

The refresh interval is set far above any test's duration, so the fast path is always open
to a record younger than it: whether a call rewrites the record never depends on timing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import lease_files, pre_tool, read_lease, run_hook

AN_HOUR_MS = "3600000"


def test_the_holders_fresh_record_is_not_rewritten(
    repo: Path, guard_env: dict[str, str], lock_dir: Path
) -> None:
    """The control for the test below: the fast path exists and answers without a write."""
    env = {**guard_env, "GUARD_REFRESH_INTERVAL_MS": AN_HOUR_MS}
    assert not run_hook(pre_tool("s1", repo), env).denied
    before = lease_files(lock_dir)[0].read_bytes()
    assert not run_hook(pre_tool("s1", repo), env).denied
    assert lease_files(lock_dir)[0].read_bytes() == before


def test_a_resumed_session_in_a_new_process_is_recorded_within_the_refresh_interval(
    repo: Path, guard_env: dict[str, str], lock_dir: Path, fake_claude: Any
) -> None:
    """Catches: the fast path's same-holder-pid condition removed. After `claude --resume`
    the session's new `claude` process must replace the old pid on the record even though
    the record is fresh; otherwise the record names a dead process and another session
    takes the tree from the live, resumed one."""
    env = {**guard_env, "GUARD_REFRESH_INTERVAL_MS": AN_HOUR_MS}
    first = fake_claude(pre_tool("s1", repo), env)
    assert read_lease(lock_dir)["pid"] == first.pid
    first.kill()
    # No SessionStart (an older client, or a hook that was not installed): the next tool
    # call of the resumed session is the first thing guard sees of its new process.
    resumed = fake_claude(pre_tool("s1", repo), env)
    assert not resumed.answer.denied
    lease = read_lease(lock_dir)
    assert lease["session_id"] == "s1" and lease["pid"] == resumed.pid
    assert run_hook(pre_tool("s2", repo), env).denied

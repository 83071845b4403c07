"""The event log stays small: past GUARD_LOG_MAX_BYTES it rotates to one previous generation."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.conftest import GUARD, pre_tool, read_log, run_hook

CAP = 1024  # the smallest cap guard accepts


def test_the_event_log_is_capped_by_rotation(
    repo: Path, guard_env: dict[str, str], lock_dir: Path
) -> None:
    """Catches: the size cap and rotation switched off, or GUARD_LOG_MAX_BYTES not read
    (the log would grow by one line per denied call, without end)."""
    env = {**guard_env, "GUARD_LOG_MAX_BYTES": str(CAP)}
    assert not run_hook(pre_tool("holder", repo), env).denied
    calls = 12  # each denied call logs a line of about 200 bytes: well past the cap, twice
    for n in range(calls):
        assert run_hook(pre_tool(f"other-{n}", repo), env).denied
    log, previous = lock_dir / "events.jsonl", lock_dir / "events.jsonl.1"
    assert previous.exists(), "never rotated"
    longest = max(len(line) + 1 for line in (log.read_text() + previous.read_text()).splitlines())
    assert log.stat().st_size <= CAP + longest and previous.stat().st_size <= CAP + longest
    kept = read_log(lock_dir)
    assert 0 < len(kept) < calls + 1, "the oldest events are gone"
    # The newest event is always kept, and `guard log` still reads across the rotation.
    assert kept[-1]["event"] == "denied" and kept[-1]["session"] == f"other-{calls - 1}"
    shown = subprocess.run([GUARD, "log", "--json"], cwd=repo, env=env, capture_output=True,
                           text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert f"other-{calls - 1}" in shown.stdout

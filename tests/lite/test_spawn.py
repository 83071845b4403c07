"""lite.spawn against subprocess, the reference: same answers, no deadlock on full pipes."""

from __future__ import annotations

import subprocess

import pytest

from worktree_guard.lite import spawn


def test_large_input_and_output_through_both_pipes_without_deadlock() -> None:
    data = bytes(range(256)) * 8192  # 2 MiB: far beyond any pipe buffer, both ways
    script = "cat; head -c 300000 /dev/zero >&2; exit 3"
    code, out, err = spawn.run(["sh", "-c", script], data)
    reference = subprocess.run(["sh", "-c", script], input=data, capture_output=True,
                               check=False)
    assert (code, out, err) == (reference.returncode, reference.stdout, reference.stderr)
    assert code == 3 and out == data and len(err) == 300000


def test_no_input_is_an_empty_stdin() -> None:
    assert spawn.run(["sh", "-c", "cat; echo done"]) == (0, b"done\n", b"")


def test_a_program_that_stops_reading_still_answers() -> None:
    code, out, _ = spawn.run(["sh", "-c", "head -c 3; exit 0"], b"x" * 1_000_000)
    assert (code, out) == (0, b"xxx")


def test_a_missing_program_and_a_deadline_are_errors() -> None:
    with pytest.raises(spawn.SpawnError, match="no-such-program"):
        spawn.run(["no-such-program-anywhere"])
    with pytest.raises(spawn.SpawnError, match="no answer"):
        spawn.run(["sleep", "600"], timeout_s=0.2)


def test_death_by_signal_is_a_negative_status() -> None:
    code, _, _ = spawn.run(["sh", "-c", "kill -TERM $$"])
    assert code == -15

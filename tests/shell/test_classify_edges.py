"""Edges of the classifier that mutation testing found untested (scripts/mutate)."""

from __future__ import annotations

import pytest

from worktree_guard.shell.classify import classify_command
from worktree_guard.shell.lexer import _MAX_DEPTH


@pytest.mark.parametrize("prefix", ["! ", "then ", "do ", "time ", "nice "])
def test_nesting_is_followed_to_the_limit_and_refused_past_it(prefix: str) -> None:
    """Catches: a keyword or wrapper counted as more than one level (a legitimate line
    nested within the limit would be refused) or the limit not enforced (a line nested
    without end would be followed without end). Past the limit guard fails safe: mutating."""
    at_limit = classify_command(prefix * _MAX_DEPTH + "cat README")
    assert at_limit.read_only, at_limit.reason
    past = classify_command(prefix * (_MAX_DEPTH + 1) + "cat README")
    assert not past.read_only and "nested too deeply" in past.reason


@pytest.mark.parametrize("runner", ["sh -c", "bash -c"])
def test_a_nested_shell_is_one_level(runner: str) -> None:
    """Catches: a string run as shell code counted as more than one level of nesting."""
    inner = "! " * (_MAX_DEPTH - 1) + "cat README"
    assert classify_command(f"{runner} '{inner}'").read_only
    deeper = classify_command(f"{runner} '! {inner}'")
    assert not deeper.read_only and "nested too deeply" in deeper.reason


def test_the_reason_is_the_first_problem_of_the_line() -> None:
    """Catches: the reason taken from another problem than the first one found."""
    verdict = classify_command("rm a; cp b c; touch d")
    assert not verdict.read_only and verdict.reason == "rm is not a known read-only command"

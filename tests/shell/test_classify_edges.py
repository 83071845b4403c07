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

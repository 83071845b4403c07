"""Edges of the pure git rules that mutation testing found untested (scripts/mutate)."""

from __future__ import annotations

from worktree_guard.git.rules import is_zero, parse_ref_updates, ref_list

Z, X, Y = "0" * 40, "1" * 40, "2" * 40


def test_both_object_names_of_a_ref_update_are_checked() -> None:
    """Catches: only one of the two values checked (a symbolic old value would be decided
    as a branch move, or a symbolic new one)."""
    assert parse_ref_updates(f"ref:refs/heads/main {X} HEAD\n") == []
    assert parse_ref_updates(f"{X} ref:refs/heads/main HEAD\n") == []
    assert parse_ref_updates(f"{X[:39]} {Y} HEAD\n{X} {Y}0 HEAD\n") == []
    sha256 = "a" * 64
    (update,) = parse_ref_updates(f"{Z} {sha256} refs/heads/new\n")
    assert (update.old, update.new, update.ref) == (Z, sha256, "refs/heads/new")
    assert parse_ref_updates(f"{X} {'g' * 40} HEAD\n") == [], "not hexadecimal"


def test_the_zero_object_name() -> None:
    assert is_zero(Z) and is_zero("0" * 64)
    assert not is_zero("") and not is_zero(X) and not is_zero("0" * 39 + "1")


def test_a_long_ref_list_is_cut_after_five_with_the_count_of_the_rest() -> None:
    refs = [f"refs/heads/b{n}" for n in range(8)]
    assert ref_list(refs[:5]) == ", ".join(refs[:5])
    assert ref_list(refs[:6]) == ", ".join(refs[:5]) + " and 1 more"
    assert ref_list(refs) == ", ".join(refs[:5]) + " and 3 more"
    assert ref_list([]) == ""

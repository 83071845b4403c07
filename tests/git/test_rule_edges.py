"""Edges of the pure git rules that mutation testing found untested (scripts/mutate)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worktree_guard.git.rules import (
    Ancestry,
    ForcePushPolicy,
    GitGuardConfig,
    Problem,
    PushKind,
    PushProblem,
    PushUpdate,
    framework_push_line,
    is_zero,
    parse_push_lines,
    parse_ref_updates,
    protected_branch,
    push_problem,
    push_refused_text,
    ref_list,
)

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


def test_the_pre_commit_frameworks_push_line_keeps_the_remote_branch() -> None:
    """Catches: the remote branch replaced by the local one (pushing local `topic` onto the
    remote's protected `main` would be judged as a push to `topic`)."""
    env = {"PRE_COMMIT_TO_REF": X, "PRE_COMMIT_FROM_REF": Y,
           "PRE_COMMIT_LOCAL_BRANCH": "refs/heads/topic",
           "PRE_COMMIT_REMOTE_BRANCH": "refs/heads/main"}
    line = framework_push_line(env)
    assert line == f"refs/heads/topic {X} refs/heads/main {Y}\n"
    (update,) = parse_push_lines(line)
    problem = push_problem(update, None, True, lambda: GitGuardConfig(
        allow_force_push=ForcePushPolicy.HOLDER))
    assert update.kind is PushKind.UPDATE and problem is not None
    assert "main is a protected branch" in problem.why
    # What the framework leaves out: the remote branch is the local one, the remote's
    # commit is none (a creation), the local branch is HEAD; no pushed commit, no line.
    assert framework_push_line({"PRE_COMMIT_TO_REF": X}) == f"HEAD {X} HEAD {Z}\n"
    bare = {"PRE_COMMIT_TO_REF": X, "PRE_COMMIT_LOCAL_BRANCH": "refs/heads/topic"}
    assert framework_push_line(bare) == f"refs/heads/topic {X} refs/heads/topic {Z}\n"
    assert framework_push_line({**env, "PRE_COMMIT_TO_REF": " "}) == ""


def test_the_push_refusal_ends_with_the_ways_out_as_a_sentence() -> None:
    """Catches: the ways out cut or capitalised wrong (the text the model reads)."""
    problem = PushProblem("refs/heads/topic", Problem.REWRITES, "not a fast-forward")
    assert push_refused_text([problem]) == (
        "worktree-guard: push refused: refs/heads/topic: not a fast-forward. Integrate the "
        "remote's commits (`git pull --rebase`) and push again; a person may let the holding "
        "session force-push unprotected branches (`git config guard.allowForcePush holder`).")


def test_a_malformed_push_line_is_quoted_in_the_error_cut_at_200_characters() -> None:
    """Catches: the cut of the quoted line moved (the message says what git sent)."""
    line = "x" * 300
    with pytest.raises(ValueError) as raised:
        parse_push_lines(f"{line}\n")
    assert str(raised.value) == f"unexpected pre-push line: {line[:200]!r}"


def test_a_deletion_is_known_by_its_zero_object_or_by_its_delete_ref() -> None:
    """Catches: a deletion recognised only when both signs are there (a deletion line
    rebuilt from the pre-commit framework's variables names a ref, not `(delete)`, and a
    protected branch would be deleted as if updated)."""
    assert PushUpdate("(delete)", Z, "refs/heads/main", X).kind is PushKind.DELETE
    assert PushUpdate("HEAD", Z, "refs/heads/main", X).kind is PushKind.DELETE
    assert PushUpdate("(delete)", X, "refs/heads/main", X).kind is PushKind.DELETE
    assert PushUpdate("refs/heads/main", X, "refs/heads/main", Z).kind is PushKind.CREATE
    assert PushUpdate("refs/heads/main", X, "refs/heads/main", Y).kind is PushKind.UPDATE


# ---- what a push decision needs ------------------------------------------------------------


def _never_asked() -> GitGuardConfig:
    raise AssertionError("git config was read for a decision that does not need it")


@pytest.mark.parametrize("ref", ["refs/heads/main", "refs/heads/topic", "refs/tags/v1"])
@pytest.mark.parametrize("holder", [True, False])
def test_creations_and_fast_forwards_never_read_git_config(ref: str, holder: bool) -> None:
    """Catches: the config read again on every push (a git process a fast-forward, the
    common push, does not need)."""
    create = PushUpdate(ref, X, ref, Z)
    forward = PushUpdate(ref, X, ref, Y)
    assert push_problem(create, None, holder, _never_asked) is None
    assert push_problem(forward, Ancestry.FAST_FORWARD, holder, _never_asked) is None


@pytest.mark.parametrize(("update", "ancestry"), [
    (PushUpdate("(delete)", Z, "refs/heads/topic", X), None),
    (PushUpdate("refs/heads/topic", X, "refs/heads/topic", Y), Ancestry.DIVERGED),
    (PushUpdate("refs/heads/topic", X, "refs/heads/topic", Y), Ancestry.UNKNOWN_REMOTE),
    (PushUpdate("refs/tags/v1", X, "refs/tags/v1", Y), Ancestry.DIVERGED),
])
def test_deletions_and_rewrites_are_judged_by_git_config(
    update: PushUpdate, ancestry: Ancestry | None
) -> None:
    """Catches: a deletion or a rewrite judged by the defaults instead of the repository's
    config (here every ref is protected, so each is refused as a protected branch's, or,
    for a tag, allowed to the holder by allowForcePush=holder)."""
    config = GitGuardConfig(protected=("*",), allow_force_push=ForcePushPolicy.HOLDER)
    found = push_problem(update, ancestry, True, lambda: config)
    if update.remote_ref.startswith("refs/tags/"):
        assert found is None
    else:
        assert found is not None and found.problem in (
            Problem.DELETES_PROTECTED, Problem.REWRITES_PROTECTED)


GLOBS = ["main", "deploy*", "release*", "*", "**", "*-rc", "rel*se*", "a*b*c", "*main*",
         "stable/*", "x*x", "", "a?c", "[mr]ain", "[!m]ain", "re[l]ease*", "v[0-9]*", "a\\*b",
         "*.*", "a*a*a", "*ab*ab*"]
NAMES = ["main", "master", "deploy", "deploy/prod", "release-2.1", "rel-se", "relse", "abc",
         "aXbYc", "acb", "stable/1", "stable", "xx", "x", "", "a-rc", "-rc", "v1.2", "a\\b",
         "a*b", "aaa", "aa", "Main", "rain", "feature/main", "release", "xaby", "abab"]


@pytest.mark.parametrize("pattern", GLOBS)
def test_protected_patterns_match_as_fnmatch_does(pattern: str) -> None:
    """Catches: the `re`-free matcher of `*`-only patterns disagreeing with fnmatch (which
    the other patterns still use) on any name."""
    import fnmatch

    for name in NAMES:
        expected = name if fnmatch.fnmatchcase(name, pattern) else None
        assert protected_branch("refs/heads/" + name, (pattern,)) == expected, (name, pattern)


@given(st.text("ab*/-", max_size=6), st.text("ab/-", max_size=8))
def test_star_patterns_match_as_fnmatch_does_for_any_text(pattern: str, name: str) -> None:
    import fnmatch

    assert (protected_branch("refs/heads/" + name, (pattern,)) == name) == (
        fnmatch.fnmatchcase(name, pattern))

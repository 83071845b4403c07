"""The pure git rules on plain data, and the shim generator's text."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worktree_guard.core.decide import HolderFacts, HumanPolicy, LeaseState
from worktree_guard.core.passes import pass_file
from worktree_guard.git.hook import _is_worktree_add
from worktree_guard.git.rules import (
    ALL_ANCESTRIES,
    ALL_PUSH_KINDS,
    DEFAULT_PROTECTED,
    Ancestry,
    ForcePushPolicy,
    GitGuardConfig,
    Problem,
    PushKind,
    PushUpdate,
    RefUpdate,
    Verdict,
    checkout_warning,
    is_tree_ref,
    only_new_branches,
    parse_guard_config,
    parse_push_lines,
    parse_ref_updates,
    person_verdict,
    protected_branch,
    push_problem,
    push_refused_text,
    ref_update_refused,
    refused_by_holder,
    tree_ref_updates,
)
from worktree_guard.git.shims import CHAINED_SUFFIX, HOOK_NAMES, is_guard_shim, shim_text

Z, X, Y = "0" * 40, "1" * 40, "2" * 40
FACTS = HolderFacts("aaaaaaaa", 4242, 5_000, "main", "claude-code")


def test_reference_transaction_input() -> None:
    text = (f"{Z} {X} refs/heads/new\n{X} {Y} HEAD\n{X} {Y} refs/tags/v1\nnot a line\n\n"
            "ref:refs/heads/main ref:refs/heads/other HEAD\n")  # a symref switch: see why
    updates = parse_ref_updates(text)
    assert [u.ref for u in updates] == ["refs/heads/new", "HEAD", "refs/tags/v1"]
    assert [u.ref for u in tree_ref_updates(updates)] == ["refs/heads/new", "HEAD"]
    assert updates[0].creates and not updates[1].creates
    same = [RefUpdate(X, X, "HEAD"), RefUpdate(Z, Z, "refs/heads/gone")]  # no-op; a deletion
    assert [u.ref for u in tree_ref_updates(same)] == ["refs/heads/gone"]


@pytest.mark.parametrize(("ref", "tree"), [
    ("HEAD", True), ("refs/heads/main", True), ("refs/heads/a/b", True),
    ("ORIG_HEAD", False), ("FETCH_HEAD", False), ("refs/remotes/origin/main", False),
    ("refs/tags/v1", False), ("refs/stash", False), ("refs/notes/commits", False),
])
def test_tree_refs_are_head_and_local_branches(ref: str, tree: bool) -> None:
    assert is_tree_ref(ref) is tree


def test_only_new_branches() -> None:
    assert only_new_branches([RefUpdate(Z, X, "refs/heads/a"), RefUpdate(Z, X, "refs/heads/b")])
    assert not only_new_branches([])
    assert not only_new_branches([RefUpdate(X, Y, "refs/heads/a")])  # moves an existing one
    assert not only_new_branches([RefUpdate(Z, X, "HEAD")])
    assert not only_new_branches([RefUpdate(Z, Z, "refs/heads/a")])  # a deletion, old unknown


STATES = [LeaseState.FREE, LeaseState.EXPIRED, LeaseState.DEAD, LeaseState.HELD_BY_CALLER,
          LeaseState.HELD_BY_OTHER]
POLICIES = [HumanPolicy.WARN, HumanPolicy.DENY, HumanPolicy.ALLOW]


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("policy", POLICIES)
def test_person_verdicts(state: LeaseState, policy: HumanPolicy) -> None:
    verdict = person_verdict(state, policy)
    if state is not LeaseState.HELD_BY_OTHER or policy is HumanPolicy.ALLOW:
        assert verdict is Verdict.ALLOW
    else:
        assert verdict is (Verdict.REFUSE if policy is HumanPolicy.DENY else Verdict.WARN)


def test_push_lines() -> None:
    text = (
        f"refs/heads/main {X} refs/heads/main {Y}\n"
        f"(delete) {Z} refs/heads/old {X}\n"
        f"HEAD {X} refs/heads/new {Z}\n"
        "\n"
        f"refs/tags/v1 {'3' * 64} refs/tags/v1 {'0' * 64}\n"
    )
    kinds = [u.kind for u in parse_push_lines(text)]
    assert kinds == [PushKind.UPDATE, PushKind.DELETE, PushKind.CREATE, PushKind.CREATE]
    with pytest.raises(ValueError):
        parse_push_lines("refs/heads/main only three\n")


def test_guard_config() -> None:
    default = parse_guard_config([])
    assert default.protected == DEFAULT_PROTECTED
    assert default.allow_force_push is ForcePushPolicy.NEVER
    assert default.human_policy is HumanPolicy.WARN and not default.fail_closed
    config = parse_guard_config([
        ("guard.protectedbranches", "trunk  stable/*"),
        ("guard.allowforcepush", "HOLDER"),
        ("guard.humanpolicy", "allow"),
        ("guard.humanpolicy", "deny"),  # the last value wins, as with git config --get
        ("guard.failclosed", "true"),
        ("guard.somethingelse", "x"),
    ])
    assert config.protected == ("trunk", "stable/*")
    assert config.allow_force_push is ForcePushPolicy.HOLDER
    assert config.human_policy is HumanPolicy.DENY and config.fail_closed
    odd = parse_guard_config([("guard.humanpolicy", "maybe"), ("guard.allowforcepush", "yes"),
                              ("guard.protectedbranches", "")])
    assert odd.human_policy is HumanPolicy.WARN and odd.protected == ()
    assert odd.allow_force_push is ForcePushPolicy.NEVER


@pytest.mark.parametrize(("ref", "name"), [
    ("refs/heads/main", "main"), ("refs/heads/master", "master"),
    ("refs/heads/deploy", "deploy"), ("refs/heads/deploy/prod", "deploy/prod"),
    ("refs/heads/release-2.1", "release-2.1"), ("refs/heads/production", "production"),
    ("refs/heads/mainline", None), ("refs/heads/feature/main", None),
    ("refs/tags/release-1", None), ("refs/heads/Main", None),
])
def test_protected_branches(ref: str, name: str | None) -> None:
    assert protected_branch(ref, DEFAULT_PROTECTED) == name


def update(remote_ref: str, kind: PushKind) -> PushUpdate:
    local, remote = {PushKind.CREATE: (X, Z), PushKind.DELETE: (Z, X),
                     PushKind.UPDATE: (X, Y)}[kind]
    local_ref = "(delete)" if kind is PushKind.DELETE else remote_ref
    return PushUpdate(local_ref, local, remote_ref, remote)


NEVER, HOLDER = GitGuardConfig(), GitGuardConfig(allow_force_push=ForcePushPolicy.HOLDER)
FF, DIV, UNK = Ancestry.FAST_FORWARD, Ancestry.DIVERGED, Ancestry.UNKNOWN_REMOTE
MAIN, TOPIC, TAG = "refs/heads/main", "refs/heads/topic", "refs/tags/v1"


@pytest.mark.parametrize(("ref", "kind", "ancestry", "holder", "config", "problem"), [
    (MAIN, PushKind.UPDATE, FF, True, NEVER, None),
    (MAIN, PushKind.UPDATE, DIV, True, HOLDER, Problem.REWRITES_PROTECTED),
    (MAIN, PushKind.UPDATE, UNK, True, HOLDER, Problem.REWRITES_PROTECTED),
    (MAIN, PushKind.DELETE, None, True, HOLDER, Problem.DELETES_PROTECTED),
    (MAIN, PushKind.CREATE, None, True, NEVER, None),
    (TOPIC, PushKind.UPDATE, FF, True, NEVER, None),
    (TOPIC, PushKind.UPDATE, DIV, True, NEVER, Problem.REWRITES),
    (TOPIC, PushKind.UPDATE, UNK, True, NEVER, Problem.REWRITES),
    (TOPIC, PushKind.UPDATE, DIV, True, HOLDER, None),
    (TOPIC, PushKind.UPDATE, DIV, False, HOLDER, Problem.REWRITES),
    (TOPIC, PushKind.DELETE, None, True, NEVER, None),
    (TAG, PushKind.UPDATE, DIV, True, NEVER, Problem.REWRITES),
    (TAG, PushKind.UPDATE, FF, True, NEVER, None),
    (TAG, PushKind.CREATE, None, True, NEVER, None),
])
def test_push_rules(ref: str, kind: PushKind, ancestry: Ancestry | None, holder: bool,
                    config: GitGuardConfig, problem: Problem | None) -> None:
    found = push_problem(update(ref, kind), ancestry, holder, lambda: config)
    assert (found.problem if found else None) is problem
    if found:
        assert found.ref == ref


@given(st.sampled_from(ALL_PUSH_KINDS), st.sampled_from([None, *ALL_ANCESTRIES]), st.booleans(),
       st.sampled_from([NEVER, HOLDER]), st.sampled_from([MAIN, TOPIC, TAG, "refs/heads/x"]))
def test_creations_and_fast_forwards_are_never_refused(
    kind: PushKind, ancestry: Ancestry | None, holder: bool, config: GitGuardConfig, ref: str
) -> None:
    found = push_problem(update(ref, kind), ancestry, holder, lambda: config)
    if kind is PushKind.CREATE or (kind is PushKind.UPDATE and ancestry is FF):
        assert found is None


@given(st.text())
def test_hook_input_parsing_never_raises_on_reference_transaction_input(text: str) -> None:
    for u in parse_ref_updates(text):
        assert len(u.ref.split()) == 1


def test_messages_say_what_who_and_the_way_out() -> None:
    text = refused_by_holder("commit", "/home/dev/tree", FACTS)
    for part in ("commit refused", "/home/dev/tree", "aaaaaaaa", "pid 4242", "branch main",
                 "git worktree add", "guard release --force"):
        assert part in text
    assert "\n" not in text
    ref_text = ref_update_refused(["HEAD", "refs/heads/main"], "/t", FACTS)
    assert "update of HEAD, refs/heads/main refused" in ref_text and "git status" in ref_text
    assert "git status" not in ref_update_refused(["refs/heads/x"], "/t", FACTS)
    rewrite = push_problem(update(TOPIC, PushKind.UPDATE), DIV, True, lambda: NEVER)
    delete = push_problem(update(MAIN, PushKind.DELETE), None, True, lambda: NEVER)
    assert rewrite and delete
    push = push_refused_text([rewrite, delete])
    assert "refs/heads/topic: not a fast-forward" in push
    assert "refs/heads/main: deletes protected branch main" in push
    assert "git pull --rebase" in push and "guard.allowForcePush holder" in push
    assert "git pull --rebase" not in push_refused_text([delete])
    back = checkout_warning("main", "deploy", FACTS)
    assert "HEAD is now on deploy" in back and "`git checkout main`" in back


@pytest.mark.parametrize(("argv", "expected"), [
    (["worktree", "add", "../x", "-b", "y"], True),
    (["-C", "/repo", "-c", "a.b=c", "--no-pager", "worktree", "add", "-b", "y", "../x"], True),
    (["branch", "worktree", "add"], False),
    (["branch", "--quiet", "new", "HEAD"], False),
    (["worktree", "list"], False),
    ([], False),
])
def test_worktree_add_is_recognised_by_its_subcommand(argv: list[str], expected: bool) -> None:
    assert _is_worktree_add(argv) is expected


def test_pass_file_must_name_the_tree_and_session_in_this_lock_folders_pass_folder() -> None:
    key = "0123456789ab"
    good = f"/locks/git-pass/{key}-sess-1"
    assert pass_file({"GUARD_PASS_FILE": good}, key, "sess-1", "/locks") == good
    assert pass_file({"GUARD_PASS_FILE": f"/locks//git-pass/{key}-sess-1"}, key, "sess-1",
                     "/locks/") is not None  # the same folder, spelt differently
    assert pass_file({"GUARD_PASS_FILE": good}, key, "other", "/locks") is None
    assert pass_file({"GUARD_PASS_FILE": good}, "ba9876543210", "sess-1", "/locks") is None
    assert pass_file({"GUARD_PASS_FILE": good}, key, "1", "/locks") is None
    assert pass_file({"GUARD_PASS_FILE": f"/tmp/{key}-sess-1"}, key, "sess-1", "/locks") is None
    # A pass folder of another lock folder (a shim with HOME unset) is not honoured.
    stray = f"/.claude/runtime/git-pass/{key}-sess-1"
    assert pass_file({"GUARD_PASS_FILE": stray}, key, "sess-1", "/root/.claude/runtime") is None
    assert pass_file({"GUARD_PASS_FILE": f"git-pass/{key}-sess-1"}, key, "sess-1", ".") is None
    assert pass_file({}, key, "sess-1", "/locks") is None


def test_shim_text(tmp_path: Path) -> None:
    for name in HOOK_NAMES:
        text = shim_text(name)
        assert is_guard_shim(text) and f"git-hook {name}" in text
        assert f'chained="$hook_dir/{name}{CHAINED_SUFFIX}"' in text
        assert text.startswith("#!/bin/sh\n")
    odd = "/opt/it's here/bin/guard"
    path = tmp_path / "pre-commit"
    path.write_text(shim_text("pre-commit", odd))
    assert "guard_bin='/opt/it'\\''s here/bin/guard'" in path.read_text()
    assert subprocess.run(["sh", "-n", str(path)], check=False).returncode == 0
    with pytest.raises(ValueError):
        shim_text("post-merge")
    assert not is_guard_shim("#!/bin/sh\necho hello\n")


def test_launcher_shims_are_posix_sh(tmp_path: Path) -> None:
    """The shims `guard install` writes (the launcher form), odd paths included."""
    import shutil

    for name in HOOK_NAMES:
        text = shim_text(name, "/opt/it's here/bin/python", "/opt/it's here/site-packages")
        assert "guard_pkg='/opt/it'\\''s here/site-packages'" in text
        (tmp_path / name).write_text(text)
        assert subprocess.run(["sh", "-n", str(tmp_path / name)], check=False).returncode == 0
    if shutil.which("shellcheck"):
        done = subprocess.run(["shellcheck", "-s", "sh", *map(str, sorted(tmp_path.iterdir()))],
                              capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout

"""What pre-push asks git about pushed commits, answered in real repositories.

`ancestry_of` asks `git merge-base --is-ancestor` first and `git cat-file` only when that
answer is neither yes nor no; these cases pin its answers for every kind of update (the
answers it gave before it asked fewer questions, checked against that version)."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from tests.conftest import git
from worktree_guard.git.facts import ancestry_of
from worktree_guard.git.rules import Ancestry, PushUpdate

Z = "0" * 40
MISSING = "1234567890abcdef1234567890abcdef12345678"
FF, DIV, UNK = Ancestry.FAST_FORWARD, Ancestry.DIVERGED, Ancestry.UNKNOWN_REMOTE


def sha(repo: Path, name: str) -> str:
    return git(repo, "rev-parse", "--verify", name)


def commit(repo: Path, message: str) -> str:
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return sha(repo, "HEAD")


def upd(local: str, remote: str, ref: str = "refs/heads/main") -> PushUpdate:
    local_ref = "(delete)" if local == Z else ref
    return PushUpdate(local_ref, local, ref, remote)


@pytest.fixture
def objects(repo: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A history with a side branch, annotated tags (also of a tag), a tree and a blob."""
    monkeypatch.chdir(repo)
    names = {"base": sha(repo, "HEAD"), "one": commit(repo, "one"), "two": commit(repo, "two")}
    git(repo, "checkout", "-q", "-b", "side", names["one"])
    names["side"] = commit(repo, "side")
    git(repo, "checkout", "-q", "main")
    names["tree"] = sha(repo, "HEAD^{tree}")
    names["blob"] = git(repo, "hash-object", "-w", "README")
    for tag, target in (("t-one", "one"), ("t-two", "two"), ("t-side", "side"),
                        ("t-tree", "tree"), ("t-blob", "blob")):
        git(repo, "tag", "-a", "-m", tag, tag, names[target])
        names[tag] = sha(repo, f"refs/tags/{tag}")
    git(repo, "tag", "-a", "-m", "of a tag", "t-t-one", "t-one")
    names["t-t-one"] = sha(repo, "refs/tags/t-t-one")
    return names


# (local, remote) -> the answer: every kind of update an agent's push can carry.
CASES = [
    ("two", "one", FF),  # a fast-forward
    ("two", "base", FF),  # by more than one commit
    ("two", "two", FF),  # the same commit
    ("one", "two", DIV),  # a rewind
    ("side", "two", DIV),  # diverged
    ("two", "side", DIV),
    ("two", MISSING, UNK),  # the remote's commit was never fetched here
    ("t-two", "t-one", FF),  # annotated tags on both sides, peeled to their commits
    ("t-one", "t-two", DIV),
    ("two", "t-one", FF),  # a tag on one side only
    ("t-two", "one", FF),
    ("t-side", "t-two", DIV),
    ("two", "t-t-one", FF),  # a tag of a tag
    ("two", "t-tree", DIV),  # no history to extend: a tag of a tree or a blob, a tree...
    ("two", "t-blob", DIV),
    ("two", "tree", DIV),
    ("two", "blob", DIV),
    ("t-tree", "two", DIV),
    ("blob", "two", DIV),
    ("tree", "tree", DIV),
    ("t-tree", MISSING, UNK),
]


@pytest.mark.parametrize(("local", "remote", "answer"), CASES,
                         ids=[f"{lo}<-{re}" for lo, re, _ in CASES])
def test_each_kind_of_update(objects: dict[str, str], local: str, remote: str,
                             answer: Ancestry) -> None:
    update = upd(objects.get(local, local), objects.get(remote, remote))
    assert ancestry_of([update]) == [answer]


def test_new_refs_and_deletions_ask_nothing(objects: dict[str, str]) -> None:
    assert ancestry_of([upd(objects["two"], Z), upd(Z, objects["two"]), upd(Z, MISSING)]) == [
        None, None, None]
    assert ancestry_of([]) == []


def test_several_refs_in_one_push_keep_their_order(objects: dict[str, str]) -> None:
    names = [(lo, re) for lo, re, _ in CASES]
    updates = [upd(objects.get(lo, lo), objects.get(re, re), f"refs/heads/b{n}")
               for n, (lo, re) in enumerate(names)]
    updates.insert(3, upd(objects["two"], Z, "refs/heads/new"))
    updates.insert(7, upd(Z, objects["one"], "refs/heads/gone"))
    expected: list[Ancestry | None] = [answer for _, _, answer in CASES]
    expected.insert(3, None)
    expected.insert(7, None)
    assert ancestry_of(updates) == expected


def test_names_that_are_not_object_names_are_resolved_not_passed_as_options(
    objects: dict[str, str], repo: Path
) -> None:
    """The pre-commit framework's variables may carry any text: a name that is not an object
    name is looked up, never handed to `merge-base` where it could read as an option."""
    two = objects["two"]
    assert ancestry_of([upd(two, "HEAD~1")]) == [FF]
    assert ancestry_of([upd(two, "--help")]) == [UNK]
    assert ancestry_of([upd("--all", objects["one"])]) == [DIV]


def test_a_shallow_clone(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A history cut short: the commit at the cut is known, what lies beyond it is not."""
    base, one = sha(repo, "HEAD"), commit(repo, "one")
    git(repo, "checkout", "-q", "-b", "side", base)
    side = commit(repo, "side")
    git(repo, "checkout", "-q", "main")
    two = commit(repo, "two")
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--no-single-branch", "--depth", "1",
        f"file://{repo}", str(shallow))
    git(shallow, "config", "user.email", "dev@example.invalid")
    git(shallow, "config", "user.name", "Dev")
    assert (shallow / ".git" / "shallow").exists()
    monkeypatch.chdir(shallow)
    mine = commit(shallow, "mine")
    assert ancestry_of([upd(mine, two)]) == [FF]  # the commit at the cut
    assert ancestry_of([upd(mine, one)]) == [UNK]  # beyond the cut: not here
    assert ancestry_of([upd(mine, side)]) == [DIV]  # here, but on another line
    assert ancestry_of([upd(mine, base)]) == [UNK]


def test_a_fast_forward_asks_git_one_question(
    objects: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The common case, a fast-forward, costs one git process; the others ask more."""
    log = tmp_path / "git-calls"
    wrapper = tmp_path / "bin" / "git"
    wrapper.parent.mkdir()
    real = subprocess.run(["sh", "-c", "command -v git"], capture_output=True, text=True,
                          check=True).stdout.strip()
    wrapper.write_text(f'#!/bin/sh\necho "$*" >>"{log}"\nexec "{real}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{wrapper.parent}{os.pathsep}{os.environ['PATH']}")

    def calls(updates: list[PushUpdate]) -> list[str]:
        log.write_text("")
        ancestry_of(updates)
        return [line.split()[0] for line in log.read_text().splitlines()]

    assert calls([upd(objects["two"], objects["one"])]) == ["merge-base"]
    assert calls([upd(objects["side"], objects["two"])]) == ["merge-base"]
    assert calls([upd(objects["two"], MISSING)]) == ["merge-base", "cat-file"]
    assert calls([upd(objects["two"], Z)]) == []
    # a name that is not an object name never reaches merge-base's command line
    assert calls([upd(objects["two"], "--help")]) == ["cat-file"]

"""The pure target extraction: which folders a line may change, and what stays unclear."""

from __future__ import annotations

import posixpath

import pytest

from worktree_guard.shell.classify import command_targets
from worktree_guard.shell.targets import branches_written, shell_code

CWD, HOME = "/w/a", "/home/u"


def paths(command: str) -> set[str]:
    return {posixpath.normpath(p) for p in command_targets(command, CWD, HOME).paths}


def unsure(command: str) -> list[tuple[str | None, str]]:
    return [(u.below, u.why) for u in command_targets(command, CWD, HOME).unsure]


@pytest.mark.parametrize(("command", "expected"), [
    # The way out: git -C and `cd X &&` move the whole chain, and the cwd is not changed.
    ("git -C ../b add x && git -C ../b commit -m 'see /w/a/x'", {"/w/b"}),
    ("cd ../b && git add -A && git commit -m x", {"/w/b"}),
    ("cd /w/b && cd sub && touch f", {"/w/b/sub/f"}),
    ("git worktree add ../b -b b-branch", {"/w/b"}),
    # A `cd` that may fail, or runs in a subshell, only widens the set.
    ("cd /w/b; git stash", {"/w/a", "/w/b"}),
    ("cd /w/b || git stash", {"/w/a", "/w/b"}),
    ("(cd /w/b && true) && git stash", {"/w/a", "/w/b"}),
    ("echo $(cd /w/b) && git stash", {"/w/a", "/w/b"}),
    ("pushd /w/b && popd && git stash", {"/w/a", "/w/b"}),
    ("if cd /w/b; then rm f; fi", {"/w/a/f", "/w/b/f"}),
    ("! cd /w/b || rm f", {"/w/a/f", "/w/b/f"}),
    # git's repository, however it is named.
    ("git -C /w -C b reset --hard", {"/w/b"}),
    ("git --git-dir=/w/b/.git --work-tree=/w/b reset --hard", {"/w/b/.git", "/w/b"}),
    ("GIT_WORK_TREE=/w/b git checkout .", {"/w/a", "/w/b"}),
    ("git -c core.worktree=/w/b checkout .", {"/w/a", "/w/b"}),
    ("env git -C /w/b reset --hard", {"/w/a", "/w/b"}),
    ("git format-patch -o /tmp/p HEAD~1", {"/w/a", "/tmp/p"}),
    ("git clone /w/b /w/c", {"/w/a", "/w/c"}),
    # Paths, redirections, strings, variables, home.
    ("sed -i s/x/y/ /w/b/f", {"/w/a", "/w/a/s/x/y", "/w/b/f"}),
    ("cat /w/b/f > out", {"/w/a/out"}),
    ("cp /w/b/f ./copy", {"/w/a/copy"}),
    ("cp -t /w/b x y", {"/w/b"}),
    ("mkdir -p /w/b/d", {"/w/b/d"}),
    ("echo x > ~/f", {"/home/u/f"}),
    ("rm \"$HOME/f\"", {"/home/u/f"}),
    ("d=/w/b; rm $d/f", {"/w/b/f"}),
    ("export D=/w/b; rm ${D}/f", {"/w/b/f"}),
    ("make --directory=/w/b", {"/w/a", "/w/b"}),
    ("bash -c 'rm -rf /w/b/x'", {"/w/a", "/w/b/x"}),
    ("python3 -c \"open('/w/b/x','w')\"", {"/w/a", "/w/b/x"}),
    ("ls > /dev/null && cat f 2>&1", set()),
])
def test_targets(command: str, expected: set[str]) -> None:
    """Every expected folder is found; where the cwd's tree is not expected, nothing under
    it is (extra paths under an expected folder are harmless: they are in the same tree)."""
    got = paths(command)
    assert expected <= got, got
    if not any(e == CWD or e.startswith(CWD + "/") for e in expected):
        assert not any(g == CWD or g.startswith(CWD + "/") for g in got), got


@pytest.mark.parametrize(("command", "below"), [
    ("rm -rf $X", None),
    ("rm \"$(pwd)/f\"", None),
    ("rm /w/b/*.py", "/w/b/"),
    ("rm -rf ../*", "/w"),
    ("rm ~other/f", None),
    ("cd $D && rm f", None),
    ("bash -c 'rm -rf $X'", None),
    ("git -C \"$D\" reset --hard", None),
    # A loop over relative words stays below the folder it runs in; anything else may not.
    ("for f in *.py src/*; do black $f; done", "/w/a"),
    ("for f in a b; do rm \"$f/x\"; done", "/w/a"),
    ("for f in /w/b/*; do rm $f; done", None),
    ("for f in ../*; do rm $f; done", None),
    ("for f in $(cat list); do rm $f; done", None),
    # xargs passes on paths from its input: below the cwd only after a local lister.
    ("git ls-files | xargs sed -i s/a/b/", "/w/a"),
    ("grep -rl foo src | xargs sed -i s/a/b/", "/w/a"),
    ("find . -name '*.o' | grep -v keep | xargs rm", "/w/a"),
    ("find /w/b | xargs rm", None),
    ("grep -h . list.txt | xargs rm", None),
    ("cat list | xargs rm", None),
])
def test_unclear_targets_say_what_they_may_reach(command: str, below: str | None) -> None:
    found = unsure(command)
    assert found, command
    assert any(b == below for b, _ in found), found
    if below is not None:  # bounded: nothing may reach further
        assert all(b is not None and b.startswith(below) for b, _ in found), found
    assert all(why for _, why in found)


def test_a_line_that_cannot_be_parsed_keeps_its_paths_and_cwd() -> None:
    found = command_targets("case x in y) rm /w/b/f;; esac", CWD, HOME)
    assert "/w/a" in found.paths and "/w/b/f" in found.paths


@pytest.mark.parametrize(("command", "expected"), [
    ("bash -c 'git update-ref refs/heads/main HEAD'", ["refs/heads/main"]),
    ("bash -lc 'git update-ref refs/heads/main HEAD'", ["refs/heads/main"]),  # Codex's argv
    ("sh -ec 'git update-ref refs/heads/main HEAD'", ["refs/heads/main"]),
    ("bash -o pipefail -c 'git update-ref refs/heads/main x'", ["refs/heads/main"]),
    ("bash -l script.sh", []),  # runs a file: no code on the line
    ("bash -lc", []),
])
def test_branches_written_inside_a_shell_string(command: str, expected: list[str]) -> None:
    assert [ref for ref, _ in branches_written(command)] == expected


def test_shell_code_is_the_word_after_the_cluster_holding_c() -> None:
    assert shell_code(["bash", "-lc", "echo hi"]) == "echo hi"
    assert shell_code(["/bin/sh", "-c", "x", "arg0"]) == "x"
    assert shell_code(["bash", "--login", "-c", "x"]) == "x"
    assert shell_code(["python3", "-c", "x"]) is None
    assert shell_code(["bash", "-l", "--", "-c"]) is None

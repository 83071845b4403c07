"""The hooks' stand-in for `os` answers as `os` does, on the same inputs and the same files."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from worktree_guard.lite import system

# Path text made of the parts that matter to path arithmetic.
path_parts = st.sampled_from(["", "/", "//", "///", ".", "..", "a", "b.c", "...", " ", "a/"])
path_text = st.lists(path_parts, max_size=8).map("".join)


@given(path_text)
def test_pure_path_functions_agree_with_os_path(path: str) -> None:
    assert system.basename(path) == os.path.basename(path)
    assert system.dirname(path) == os.path.dirname(path)
    assert system.normpath(path) == os.path.normpath(path)
    assert system.isabs(path) == os.path.isabs(path)
    assert system.abspath(path) == os.path.abspath(path)


@given(path_text, st.lists(path_text, max_size=4))
def test_join_agrees_with_os_path(first: str, rest: list[str]) -> None:
    assert system.join(first, *rest) == os.path.join(first, *rest)


@pytest.mark.parametrize("path", ["", "/", "//", "///", "//a//b", "/../x", "../../a", "a/../..",
                                  "./.", "a/./b/", "/a/b/../../..", "x/../../y"])
def test_normpath_corners(path: str) -> None:
    assert system.normpath(path) == os.path.normpath(path)


# A small world of names, linked at random: chains, relative and absolute targets, `..`
# through a link, links to nothing, loops (a -> b -> a, a -> a/x).
names = ["a", "b", "c", "d"]
link_targets = st.sampled_from(
    ["a", "b", "c", "d", "a/x", "../a", "./b", "c/..", "d/../a", "missing", "missing/x", "/",
     ".", "..", "{root}/a", "{root}/b/c", "{root}/missing", "a/b/c/d", "//{root}//c"]
)
# No empty part (`a//b`) after a loop: there Python 3.11's os.path.realpath joins the rest
# as an absolute path and drops the folder (`/t/a//a` -> `/a`); system.realpath keeps it.
queries = st.lists(st.sampled_from([*names, "x", "..", ".", "missing"]), min_size=1,
                   max_size=5).map("/".join)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from([*names, "a/x", "b/y"]), link_targets, max_size=6),
       st.sets(st.sampled_from(names), max_size=3), st.lists(queries, min_size=1, max_size=6))
def test_realpath_agrees_with_os_path_on_real_links(
    links: dict[str, str], folders: set[str], asked: list[str]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = os.path.realpath(tmp)
        for folder in folders:
            os.makedirs(os.path.join(root, folder), exist_ok=True)
        for name, target in links.items():
            where = os.path.join(root, name)
            if os.path.lexists(where) or not os.path.isdir(os.path.dirname(where)):
                continue
            os.symlink(target.format(root=root), where)
        for query in asked:
            for path in (os.path.join(root, query), query):
                cwd = os.getcwd()
                os.chdir(root)
                try:
                    assert system.realpath(path) == os.path.realpath(path), (links, path)
                finally:
                    os.chdir(cwd)


@pytest.mark.parametrize("path", ["a//b", "//a", "a/", "./a/../b//", "b/../b/x", "c/../c/../b"])
def test_realpath_of_empty_parts_and_links_met_twice(path: str, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").symlink_to("a")
    (tmp_path / "c").symlink_to("b")
    for asked in (str(tmp_path / path), path):
        cwd = os.getcwd()
        os.chdir(tmp_path)
        try:
            assert system.realpath(asked) == os.path.realpath(asked)
        finally:
            os.chdir(cwd)


def test_file_questions_agree_with_os_path(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    (tmp_path / "dir").mkdir()
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "to-file").symlink_to("file")
    (tmp_path / "to-dir").symlink_to("dir")
    (tmp_path / "dangling").symlink_to("nothing")
    (tmp_path / "loop").symlink_to("loop")
    for name in ["file", "dir", "fifo", "to-file", "to-dir", "dangling", "loop", "nothing",
                 "file/under-a-file", "a\0nul"]:
        path = str(tmp_path / name)
        assert system.isdir(path) == os.path.isdir(path), name
        assert system.isfile(path) == os.path.isfile(path), name
        assert system.lexists(path) == os.path.lexists(path), name


def test_makedirs_makes_the_parents_and_fails_as_os_does(tmp_path: Path) -> None:
    deep = tmp_path / "a" / "b" / "c"
    system.makedirs(str(deep), 0o700)
    assert deep.is_dir() and (deep.stat().st_mode & 0o777) == 0o700
    system.makedirs(str(deep), exist_ok=True)  # there already: fine when allowed
    with pytest.raises(FileExistsError):
        system.makedirs(str(deep))
    (tmp_path / "file").write_text("x")
    for target in ["file", "file/sub"]:
        with pytest.raises(OSError) as ours:
            system.makedirs(str(tmp_path / target), exist_ok=True)
        with pytest.raises(OSError) as theirs:
            os.makedirs(tmp_path / target, exist_ok=True)
        assert type(ours.value) is type(theirs.value), target


def test_environ_is_the_process_environment_before_and_after_os_loads(tmp_path: Path) -> None:
    """In a hook (no `os` loaded) the decoded start-up environment, non-UTF-8 bytes kept as
    `os` keeps them; once `os` is loaded, its `environ`, which code may since have changed."""
    probe = (
        "import sys; sys.path.append(sys.argv[1]);"
        "from worktree_guard.lite import system;"
        "before = dict(system.environ()); assert 'os' not in sys.modules;"
        "import os; assert before == dict(os.environ), (before, os.environ);"
        "os.environ['GUARD_PROBE'] = 'new';"
        "assert system.environ()['GUARD_PROBE'] == 'new';"
        "print('ok')"
    )
    src = str(Path(system.__file__).parents[2])
    env = {b"PATH": b"/usr/bin:/bin", b"GUARD_PROBE": b"caf\xe9 \xff", b"EMPTY": b""}
    done = subprocess.run([sys.executable, "-I", "-S", "-c", probe, src], env=env,
                          capture_output=True, timeout=60)
    assert done.stdout == b"ok\n", done.stderr

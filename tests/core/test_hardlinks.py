"""core/hardlinks.py reads the inode numbers out of git's own index, in every version git
writes (2, 3 with extended flags, 4 with compressed names)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import git, make_repo
from worktree_guard.core.hardlinks import index_inodes


@pytest.mark.parametrize("version", ["2", "3", "4"])
def test_every_tracked_files_inode_is_found(tmp_path: Path, version: str) -> None:
    """Catches: the entry padding (v2/v3), the extended flags (v3) or the name varint (v4)
    read wrong: the entries after the first are then missed."""
    repo = make_repo(tmp_path / "r")
    names = ["a.txt", "dir/b.txt", "dir/deeper/c-with-a-longer-name.txt", "dir/deeper/d.txt",
             "zz-added-last.txt"]
    for name in names:
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(name)
    git(repo, "add", *names[:-2], names[-1])
    # Intent-to-add: an extended flag in version 3 (and no stat data: git records none).
    git(repo, "add", "-N", names[-2])
    git(repo, "update-index", "--index-version", version)
    git(repo, "status", "--porcelain")  # refreshes the stat data git records
    found = index_inodes((repo / ".git" / "index").read_bytes())
    assert {os.stat(repo / n).st_ino for n in [*names[:-2], names[-1], "README"]} <= found


def test_anything_but_an_index_gives_nothing() -> None:
    assert index_inodes(b"") == set()
    assert index_inodes(b"DIRC\0\0\0\x09\0\0\0\x01" + b"\0" * 80) == set()

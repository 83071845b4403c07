"""`guard install` in the odd corners, as a process in real repositories: what it says about
info/exclude, a committed `.claude` link out of the tree, submodules, a `.git` FIFO."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import make_repo, pre_tool, read_lease, run_hook
from tests.install.test_install import guard, snapshot


def test_install_names_info_exclude_as_a_person_types_it(
    repo: Path, guard_env: dict[str, str]
) -> None:
    done = guard(repo, guard_env, "install")
    assert "git: .git/info/exclude now keeps .claude/settings.local.json out of commits" in \
        done.stdout.splitlines()
    # No path printed with a leading "/" unless it is absolute and real.
    for line in done.stdout.splitlines():
        for word in line.split():
            if word.startswith("/"):
                assert os.path.exists(word.rstrip(",;:)")), line


@pytest.mark.parametrize("link", [".claude", ".claude/settings.local.json"])
@pytest.mark.parametrize("force", [False, True])
def test_install_never_writes_outside_the_repository_through_a_link(
    repo: Path, guard_env: dict[str, str], tmp_path: Path, link: str, force: bool
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    if link == ".claude":
        (repo / ".claude").symlink_to(outside)
    else:
        (repo / ".claude").mkdir()
        (repo / link).symlink_to(outside / "settings.local.json")
    subprocess.run(["git", "add", ".claude"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-qm", "claude link"], cwd=repo, check=True)
    before = snapshot(outside, repo / ".git" / "hooks", repo / ".git" / "info")
    done = guard(repo, guard_env, "install", *(["--force"] if force else []), check=1)
    assert "leads outside this repository through a symlink" in done.stderr
    assert "Nothing was changed" in done.stderr
    assert snapshot(outside, repo / ".git" / "hooks", repo / ".git" / "info") == before
    # The user scope is outside the repository by design, and still works.
    guard(repo, guard_env, "install", "--scope", "user")


def test_a_link_that_stays_inside_the_tree_is_fine(repo: Path, guard_env: dict[str, str]) -> None:
    (repo / "config").mkdir()
    (repo / ".claude").symlink_to("config")
    guard(repo, guard_env, "install")
    assert (repo / "config" / "settings.local.json").is_file()


def test_install_says_submodules_need_their_own_install(
    repo: Path, guard_env: dict[str, str], tmp_path: Path
) -> None:
    lib = make_repo(tmp_path / "lib")
    subprocess.run(["git", "-c", "protocol.file.allow=always", "submodule", "add", "-q",
                    str(lib), "vendor/lib"], cwd=repo, check=True, env=guard_env)  # fmt: skip
    done = guard(repo, guard_env, "install")
    assert "submodules (vendor/lib) are not guarded by these git hooks" in done.stderr
    assert "Run `guard install` inside each submodule" in done.stderr
    plain = make_repo(tmp_path / "plain")
    assert "submodule" not in guard(plain, guard_env, "install").stderr


def test_a_fifo_named_git_is_given_up_on_at_once(repo: Path, guard_env: dict[str, str],
                                                 lock_dir: Path) -> None:  # fmt: skip
    sub = repo / "sub"
    sub.mkdir()
    os.mkfifo(sub / ".git")
    done = guard(sub, guard_env, "install", check=1)
    assert "is neither a folder nor a file" in done.stderr and "Nothing was changed" in done.stderr
    assert not (repo / ".claude").exists()
    # The hook passes over it, as git does, instead of waiting for a writer until its deadline:
    # no "timed out", and the lease taken is the enclosing tree's.
    answer = run_hook(pre_tool("s1", sub, file_path=str(sub / "f.txt"), content="x"), guard_env)
    assert not answer.denied and answer.stderr == ""
    assert read_lease(lock_dir)["workspace"] == str(repo.resolve())

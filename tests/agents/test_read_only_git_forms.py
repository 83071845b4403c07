"""git's dry-run and print-only forms pass for every agent, in a tree another session holds.

Session A holds tree A (uncommitted work, an untracked file, a bare origin); session B asks
each agent's real hook command about a line run in A itself. A read-only line needs no
lease, so it passes, and running it leaves A as it was; the writing form beside it is
denied and does change A. (The classifier table proves the same lines in a scratch copy.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.agents.test_shared_refs import AGENTS, _run, _state
from tests.conftest import git, make_repo

PASS = [
    "git difftool --help",
    "git clean -n",
    "git clean -nd -e junk.tmp",
    "git add -n .",
    "git add --dry-run -A",
    "git push --dry-run origin main",
    "git push -n origin HEAD:refs/heads/other",
    "git show HEAD | git apply --check -R",
    "git show HEAD | git apply --stat",
    "git format-patch --stdout -1",
    "GIT_PAGER=cat git log -1",
    "PAGER=cat git log -1",
    "git -P log -1",
    "git --no-pager log -1",
    'git log -1 "$(git rev-parse --symbolic-full-name HEAD)"',
]
DENIED = ["git clean -f", "git add .", "git push origin HEAD:refs/heads/other",
          "git show HEAD | git apply -R", "git format-patch -1"]


def _setup(tmp_path: Path, env: dict[str, str], agent: str) -> Path:
    a = make_repo(tmp_path / "a")
    (a / "f.txt").write_text("one\n")  # HEAD's change, for apply -R
    git(a, "add", "f.txt")
    git(a, "commit", "-qm", "f")
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(tmp_path / "origin.git"))
    git(a, "remote", "add", "origin", str(tmp_path / "origin.git"))
    git(a, "push", "-q", "origin", "main")
    (a / "README").write_text("hello\nwork in progress\n")
    (a / "junk.tmp").write_text("scratch\n")
    assert AGENTS[agent]("session-a", a, env, "touch held.txt") is None
    return a


def _remote(tmp_path: Path) -> str:
    return git(tmp_path / "origin.git", "for-each-ref")


@pytest.mark.parametrize("agent", sorted(AGENTS))
def test_dry_run_and_print_only_forms_pass_in_a_held_tree(
        tmp_path: Path, guard_env: dict[str, str], agent: str) -> None:
    """Catches: any of these forms judged as a change (they were false denies)."""
    a = _setup(tmp_path, guard_env, agent)
    for line in PASS:
        assert AGENTS[agent]("session-b", a, guard_env, line) is None, (agent, line)
        before, remote = _state(a), _remote(tmp_path)
        _run(line, a, guard_env)
        assert _state(a) == before and _remote(tmp_path) == remote, line


@pytest.mark.parametrize("agent", sorted(AGENTS))
def test_their_writing_forms_are_denied(tmp_path: Path, guard_env: dict[str, str],
                                        agent: str) -> None:
    a = _setup(tmp_path, guard_env, agent)
    for line in DENIED:
        reason = AGENTS[agent]("session-b", a, guard_env, line)
        assert reason is not None and str(a) in reason, (agent, line)
        before, remote = _state(a), _remote(tmp_path)
        _run(line, a, guard_env)
        assert _state(a) != before or _remote(tmp_path) != remote, f"{line!r}: weak case"

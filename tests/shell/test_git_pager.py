"""`GIT_PAGER=cat git log`: a pager variable whose value is a plain pager is read-only.

git runs its pager only when standard output is a terminal, so each case runs under
`script` (a pseudo-terminal) in a real repository: a plain value writes nothing, any other
value is a command git runs (it makes ./p here), and the classifier must say so.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import make_repo
from worktree_guard.shell.classify import classify_command

pytestmark = pytest.mark.skipif(shutil.which("script") is None,
                                reason="needs script (util-linux) for a terminal")

PLAIN = ["GIT_PAGER=cat git log -1", "GIT_PAGER= git log -1", "PAGER=cat git -p log -1",
         "GIT_PAGER=cat git -p log -1"]
COMMANDS = ["GIT_PAGER='touch p' git log -1", "GIT_PAGER='cat; touch p' git log -1",
            "PAGER='touch p' git -p log -1", "GIT_PAGER=\"touch p\" git log -1"]


def _under_a_terminal(line: str, repo: Path) -> bool:
    """Run the line with a terminal on its standard output: did it make ./p?"""
    subprocess.run(["script", "-qec", line, "/dev/null"], cwd=repo, capture_output=True,
                   stdin=subprocess.DEVNULL, timeout=60, check=False,
                   env={"PATH": "/usr/bin:/bin", "HOME": str(repo.parent), "TERM": "dumb",
                        "GIT_CONFIG_GLOBAL": "/dev/null"})
    return (repo / "p").exists()


@pytest.mark.parametrize("line", PLAIN)
def test_a_plain_pager_value_is_read_only(tmp_path: Path, line: str) -> None:
    repo = make_repo(tmp_path / "repo")
    assert not _under_a_terminal(line, repo)
    verdict = classify_command(line)
    assert verdict.read_only, verdict.reason


@pytest.mark.parametrize("line", COMMANDS)
def test_a_pager_value_that_is_a_command_is_not(tmp_path: Path, line: str) -> None:
    """Catches: every *PAGER value taken for a plain pager."""
    repo = make_repo(tmp_path / "repo")
    assert _under_a_terminal(line, repo), f"{line!r} ran no pager: weak case"
    assert not classify_command(line).read_only

"""No file tool may change what switches guard or git's hooks off: the hooks folder, git's
config, the lock folder, the agent's hook settings; the holder included, whatever the
spelling of the path (relative, `..`, a symlink to the folder, a linked worktree)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import git, pre_tool, run_hook
from worktree_guard.core.protected import protected_reason


@pytest.mark.parametrize("tool", ["Write", "Edit", "MultiEdit", "NotebookEdit"])
def test_file_tools_cannot_touch_the_hooks_folder_or_the_lock_folder(
    repo: Path, guard_env: dict[str, str], lock_dir: Path, tool: str
) -> None:
    assert not run_hook(pre_tool("holder", repo), guard_env).denied  # the holder
    (repo / "linked").symlink_to(repo / ".git" / "hooks")
    field = "notebook_path" if tool == "NotebookEdit" else "file_path"
    targets = [
        str(repo / ".git" / "hooks" / "pre-push"),
        ".git/hooks/pre-commit",
        "sub/../.git/hooks/reference-transaction",
        "linked/pre-push",
        str(repo / ".git" / "config"),
        str(lock_dir / "session-lock-0123456789ab.json"),
        str(lock_dir / "git-pass" / "x"),
        str(repo / ".claude" / "settings.local.json"),
    ]
    for target in targets:
        answer = run_hook(pre_tool("holder", repo, tool, **{field: target}), guard_env)
        assert answer.denied, target
        assert "switches git hooks off or could switch guard off" in answer.reason
    # Ordinary files stay the holder's to write.
    for target in (str(repo / "src.py"), ".gitignore", ".claude/commands/x.md"):
        assert not run_hook(pre_tool("holder", repo, tool, **{field: target}),
                            guard_env).denied, target


def test_a_linked_worktree_reaches_the_shared_hooks_folder(
    repo: Path, guard_env: dict[str, str], tmp_path: Path
) -> None:
    tree = tmp_path / "tree"
    git(repo, "worktree", "add", "-q", str(tree), "-b", "feature")
    hooks = git(tree, "rev-parse", "--path-format=absolute", "--git-path", "hooks")
    answer = run_hook(pre_tool("s", tree, "Write", file_path=os.path.join(hooks, "pre-push")),
                      guard_env)
    assert answer.denied


@pytest.mark.parametrize(
    ("path", "protected"),
    [
        ("/r/.git/hooks", True),
        ("/r/.git/hooks/pre-push", True),
        ("/r/.git/config", True),
        ("/r/.git/worktrees/t/config.worktree", True),
        ("/r/.git/config.worktree", True),
        ("/h/.claude/settings.json", True),
        ("/r/.claude/settings.local.json", True),
        ("/locks", True),
        ("/locks/session-lock-x.json", True),
        ("/r/.git/info/exclude", False),
        ("/r/.git/objects/config", False),
        ("/r/hooks/pre-push", False),
        ("/r/.claude/commands/settings.json", False),
        ("/r/src/config", False),
        ("/locksmith/x", False),
    ],
)
def test_protected_reason(path: str, protected: bool) -> None:
    assert (protected_reason(path, "/locks") is not None) is protected

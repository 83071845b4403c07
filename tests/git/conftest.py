"""Shared fixtures of the git tests: a repository with guard's shims and a bare `origin`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import read_log
from tests.guard_failures import check_call
from worktree_guard.core.workspace import workspace_key
from worktree_guard.git.shims import HOOK_NAMES

REPO_ROOT = Path(__file__).resolve().parents[2]
SHIMS = REPO_ROOT / "git-hooks"
A, B, C = "aaaaaaaa-holder", "bbbbbbbb-other", "cccccccc-third"

Done = subprocess.CompletedProcess  # of str


def install_shims(repo: Path) -> None:
    common = subprocess.run(
        ["git", "rev-parse", "--path-format=absolute", "--git-common-dir"],
        cwd=repo, capture_output=True, text=True, check=True,
    ).stdout.strip()
    hooks = Path(common) / "hooks"
    hooks.mkdir(exist_ok=True)
    for name in HOOK_NAMES:
        shutil.copy2(SHIMS / name, hooks / name)


@dataclass
class World:
    """A repository with guard's shims, its bare `origin`, and a private lock folder."""

    tmp: Path
    env: dict[str, str]
    lock_dir: Path
    repo: Path = field(init=False)
    remote: Path = field(init=False)

    def __post_init__(self) -> None:
        self.remote = self.tmp / "remote.git"
        self.repo = self.tmp / "repo"
        self.run(["git", "init", "-q", "--bare", "-b", "main", str(self.remote)], cwd=self.tmp)
        self.run(["git", "init", "-q", "-b", "main", str(self.repo)], cwd=self.tmp)
        self.git("config", "user.email", "dev@example.invalid")
        self.git("config", "user.name", "Dev")
        self.git("remote", "add", "origin", str(self.remote))
        install_shims(self.repo)
        self.commit("first")
        assert self.git("push", "-q", "origin", "main").returncode == 0

    def run(self, argv: list[str], cwd: Path, session: str | None = None,
            input: str | None = None, env: dict[str, str] | None = None,
            expect_failure: bool | None = None) -> Done[str]:
        """Run `argv`; the test fails when one of guard's git hooks failed in it, unless
        `expect_failure` (or the `guard_fails` marker) says so (tests/guard_failures.py)."""
        full = dict(self.env if env is None else env)
        if session is not None:
            full["CLAUDE_CODE_SESSION_ID"] = session
        done = subprocess.run(argv, cwd=cwd, env=full, input=input, capture_output=True,
                              text=True, timeout=120, check=False)
        check_call(done.stderr, full, expect_failure, " ".join(argv[:2]))
        return done

    def git(self, *args: str, session: str | None = None, cwd: Path | None = None,
            input: str | None = None, env: dict[str, str] | None = None,
            expect_failure: bool | None = None) -> Done[str]:
        return self.run(["git", *args], cwd or self.repo, session, input, env, expect_failure)

    def out(self, *args: str, cwd: Path | None = None) -> str:
        done = self.git(*args, cwd=cwd)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def commit(self, message: str, session: str | None = None, cwd: Path | None = None,
               *extra: str, env: dict[str, str] | None = None) -> Done[str]:
        where = cwd or self.repo
        with open(where / "file.txt", "a", encoding="utf-8") as fh:
            fh.write(message + "\n")
        self.git("add", "file.txt", cwd=where)
        return self.git("commit", "-q", "-m", message, *extra, session=session, cwd=where,
                        env=env)

    def refs(self, cwd: Path | None = None) -> str:
        """Every ref and where HEAD points: what a refused command must leave alone."""
        head = self.out("symbolic-ref", "-q", "HEAD", cwd=cwd)
        return head + "\n" + self.out("for-each-ref", cwd=cwd)

    def lease(self, tree: Path | None = None) -> dict[str, Any] | None:
        key = workspace_key(os.path.realpath(tree or self.repo))
        path = self.lock_dir / f"session-lock-{key}.json"
        if not path.exists():
            return None
        parsed: dict[str, Any] = json.loads(path.read_text())
        return parsed

    def holder(self, tree: Path | None = None) -> str | None:
        lease = self.lease(tree)
        return str(lease["session_id"]) if lease else None

    def lease_branch(self, tree: Path | None = None) -> str | None:
        lease = self.lease(tree)
        return str(lease["branch"]) if lease else None

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        return [e for e in read_log(self.lock_dir) if name is None or e["event"] == name]


@pytest.fixture
def world(tmp_path: Path, guard_env: dict[str, str], lock_dir: Path) -> World:
    return World(tmp_path, guard_env, lock_dir)

"""Real git repositories, made one way for the tests and the benchmark.

Standard library only: bench/ imports it too, and measures nothing of pytest. A repository
starts on `main` whatever the user's `init.defaultBranch` says (set through `symbolic-ref`,
which any git has), with one commit and an identity of its own, so no global config matters.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path

GIT_TIMEOUT_S = 60.0  # a hang guard for the tests; the benchmark's big set-ups pass None


class GitFailed(subprocess.CalledProcessError):
    """A git command that failed, said with git's own first line of complaint."""

    def __str__(self) -> str:
        args = self.cmd[1:] if isinstance(self.cmd, list | tuple) else [self.cmd]
        err = self.stderr.decode(errors="replace") if isinstance(self.stderr, bytes) else (
            self.stderr or "")
        first = err.strip().splitlines()[0] if err.strip() else f"exit {self.returncode}"
        return f"git {' '.join(map(str, args))}: {first}"


def git(cwd: Path | str, *args: str, env: Mapping[str, str] | None = None,
        exe: str = "git", timeout: float | None = GIT_TIMEOUT_S) -> str:
    """Run git in `cwd`; its stdout, stripped. Raises GitFailed (a CalledProcessError)."""
    done = subprocess.run([exe, *args], cwd=cwd, env=None if env is None else dict(env),
                          capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise GitFailed(done.returncode, [exe, *args], done.stdout, done.stderr)
    return done.stdout.strip()


def make_repo(path: Path, *, env: Mapping[str, str] | None = None, exe: str = "git",
              readme: str = "README", text: str = "hello\n", message: str = "first",
              timeout: float | None = GIT_TIMEOUT_S) -> Path:
    """A repository at `path` (made if missing) on `main`, with `readme` committed."""
    path.mkdir(parents=True, exist_ok=True)

    def run(*args: str) -> str:
        return git(path, *args, env=env, exe=exe, timeout=timeout)

    run("init", "-q")
    run("symbolic-ref", "HEAD", "refs/heads/main")
    run("config", "user.email", "dev@example.invalid")
    run("config", "user.name", "Dev")
    run("config", "commit.gpgsign", "false")
    (path / readme).write_text(text, encoding="utf-8")
    run("add", readme)
    run("commit", "-q", "-m", message)
    return path


def make_bare(path: Path, *, env: Mapping[str, str] | None = None, exe: str = "git",
              timeout: float | None = GIT_TIMEOUT_S) -> Path:
    """An empty bare repository at `path` whose HEAD names `main`: a remote to push to."""
    git(path.parent, "init", "-q", "--bare", str(path), env=env, exe=exe, timeout=timeout)
    git(path, "symbolic-ref", "HEAD", "refs/heads/main", env=env, exe=exe, timeout=timeout)
    return path

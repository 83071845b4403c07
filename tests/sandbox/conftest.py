"""A held tree and a second worktree: session A holds its tree through `guard run` (a real
holder process), B works in a worktree of its own and runs commands through the prefix."""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import GUARD, git, installed_launcher, make_repo
from worktree_guard.install.shell_prefix import PREFIX_FILE, prefix_script
from worktree_guard.sandbox import kernel

SAFETY_NET_S = 60.0  # never the thing asserted
ORIGINAL = "from A\n"


@functools.cache
def _prefix_program() -> str:
    folder = tempfile.mkdtemp(prefix="guard-prefix-")
    atexit.register(shutil.rmtree, folder, True)
    path = os.path.join(folder, PREFIX_FILE)
    with open(path, "wb") as fh:
        fh.write(prefix_script(installed_launcher()))
    os.chmod(path, 0o755)
    return path


def prefix_words() -> list[str]:
    """The prefix as `guard install` writes it: one program path (a sh program execing the
    hooks' launcher with `shell-prefix`)."""
    return [_prefix_program()]


def wait_for(path: Path, proc: subprocess.Popen[bytes] | None = None) -> None:
    end = time.monotonic() + SAFETY_NET_S
    while not path.exists():
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"{proc.args!r} ended before {path} appeared")
        if time.monotonic() > end:
            pytest.fail(f"{path} never appeared")
        time.sleep(0.02)  # polling for an event, not letting time pass


@dataclass
class Scene:
    a: Path  # the held tree (a main worktree: its .git is inside it)
    b: Path  # B's own worktree of the same repository
    lock_dir: Path
    home: Path
    env: dict[str, str]
    tmp: Path
    holder: subprocess.Popen[bytes]

    def end_holder(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.holder.pid, signal.SIGKILL)
        self.holder.wait(timeout=SAFETY_NET_S)

    @property
    def a_file(self) -> Path:
        return self.a / "f.txt"

    def a_changed(self) -> bool:
        return self.a_file.read_text() != ORIGINAL

    def restore_a(self) -> None:
        self.a_file.write_text(ORIGINAL)

    def plain(self, command: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        """The command as it runs without guard: bash, in B."""
        return subprocess.run(["bash", "-c", command], cwd=cwd or self.b, env=self.env,
                              capture_output=True, text=True, timeout=SAFETY_NET_S)

    def guarded(self, command: str, cwd: Path | None = None,
                env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """The command as the agent's shell runs it: `PREFIX '<command>'`."""
        return subprocess.run([*prefix_words(), command], cwd=cwd or self.b,
                              env=env or self.env, capture_output=True, text=True,
                              timeout=SAFETY_NET_S)


def namespaces_work() -> bool:
    pid = os.fork()
    if pid == 0:
        try:
            kernel.unshare_mounts()
        except OSError:
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


@pytest.fixture
def scene(tmp_path: Path) -> Iterator[Scene]:
    if not namespaces_work():
        if os.environ.get("CI") == "true":
            pytest.fail("this kernel refuses mount namespaces: the sandbox tests cannot run")
        pytest.skip("this kernel refuses mount namespaces")
    a = make_repo(tmp_path / "A")
    (a / "f.txt").write_text(ORIGINAL)
    git(a, "add", "f.txt")
    git(a, "commit", "-q", "-m", "f")
    b = tmp_path / "B"
    git(a, "worktree", "add", "-q", str(b), "-b", "b-work")
    lock_dir, home = tmp_path / "locks", tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLAUDE", "GUARD_", "GIT_"))}
    env.update(GUARD_LOCK_DIR=str(lock_dir), HOME=str(home), TMPDIR=str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    ready = tmp_path / "a-holds"
    holder = subprocess.Popen([GUARD, "run", "--", "sh", "-c", f"touch {ready}; exec sleep 600"],
                              cwd=a, env=env, start_new_session=True)
    try:
        wait_for(ready, holder)
        yield Scene(a, b, lock_dir, home, env, tmp_path, holder)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(holder.pid, signal.SIGKILL)
        holder.wait(timeout=SAFETY_NET_S)

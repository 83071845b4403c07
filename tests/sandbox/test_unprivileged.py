"""The sandbox for a user without privileges: a user namespace keeping the caller's own uid
(files keep their owner), the same read-only held tree. Run as another uid with `setpriv`
and the system's python3 (the venv's interpreter lives under root's 0700 home here)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import GUARD, git, make_repo
from tests.other_user import copy_of_guard
from worktree_guard.git.shims import LAUNCH_CODE

from .conftest import SAFETY_NET_S, wait_for

UID = 4242
SYSTEM_PYTHON = "/usr/bin/python3"


@pytest.fixture
def shared(tmp_path: Path) -> Iterator[Path]:
    if os.getuid() != 0 or shutil.which("setpriv") is None or not os.path.exists(SYSTEM_PYTHON):
        pytest.skip("needs root, setpriv and /usr/bin/python3 to act as another user")
    base = Path(tempfile.mkdtemp(prefix="guard-unpriv-", dir="/tmp"))
    base.chmod(0o755)
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


def as_user(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["setpriv", f"--reuid={UID}", f"--regid={UID}", "--clear-groups",
                           *argv], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=SAFETY_NET_S)


def test_a_user_without_privileges_gets_the_same_read_only_tree(shared: Path) -> None:
    """Catches: the user namespace's uid and gid maps not written (kernel.unshare_mounts):
    the mounts are then refused and the prefix fails open."""
    a = make_repo(shared / "A")
    (a / "f.txt").write_text("from A\n")
    git(a, "add", "f.txt")
    git(a, "commit", "-q", "-m", "f")
    b = shared / "B"
    git(a, "worktree", "add", "-q", str(b), "-b", "b-work")
    home = shared / "home"
    home.mkdir()
    for path in (a, b, home):
        subprocess.run(["chown", "-R", f"{UID}:{UID}", str(path)], check=True)
    lock_dir = shared / "locks"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "GUARD_LOCK_DIR": str(lock_dir),
           "LANG": "C.UTF-8"}
    ready = shared / "held"
    holder = subprocess.Popen(
        [GUARD, "run", "--", "sh", "-c", f"touch {ready}; exec sleep 600"], cwd=a,
        env={**os.environ, **env, "PATH": os.environ["PATH"]}, start_new_session=True)
    try:
        wait_for(ready, holder)
        subprocess.run(["chmod", "-R", "a+rX", str(lock_dir)], check=True)  # readable to UID
        command = f"echo changed > {a / 'f.txt'}"
        plain = as_user(["bash", "-c", command], b, env)
        assert plain.returncode == 0 and (a / "f.txt").read_text() == "changed\n", plain.stderr
        (a / "f.txt").write_text("from A\n")
        # The checkout may sit in a folder only its owner may enter: the other user runs a
        # copy of the package it can read.
        copy = shared / "guard-copy"
        copy.mkdir()
        copy_of_guard(copy)
        prefix = [SYSTEM_PYTHON, "-ISc", LAUNCH_CODE, str(copy / "site"), "shell-prefix"]
        done = as_user([*prefix, command], b, env)
        assert (a / "f.txt").read_text() == "from A\n", done.stderr
        assert "cannot sandbox" not in done.stderr, done.stderr
        assert done.stderr.strip().splitlines()[-1].startswith("worktree-guard:")
        own = as_user([*prefix, "echo mine > mine.txt && stat -c %u mine.txt"], b, env)
        assert own.returncode == 0 and own.stdout.strip() == str(UID), own.stderr
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(holder.pid, signal.SIGKILL)
        holder.wait(timeout=SAFETY_NET_S)

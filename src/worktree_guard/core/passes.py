"""Pass markers: "this git process already passed guard for this agent session".

One `git commit` runs pre-commit, prepare-commit-msg and reference-transaction (twice or
more); starting guard in each would cost an interpreter start apiece. So the shim hands the
guard process a marker path, `<lock dir>/git-pass/<git pid>-<git start time>-<session>`, which
guard creates once it has let that session act as the tree's holder; the later shims of the
same git process see the file and start no interpreter. The git process's start time (from
/proc) pins the marker to that one process, so a reused pid never inherits it; no marker, or
no /proc, only means guard runs again. A marker lives as long as its git process: guard
removes the markers of finished processes whenever it leaves a new one.

The shim computes the path (it is the reader); guard only checks it is a marker path for the
session it decided for. Markers are a fast path between cooperating processes of one user,
not a security boundary: whoever can write the lock folder can also rewrite the lease.
"""

from __future__ import annotations

import os

from worktree_guard.core.identity import process_id

PASS_DIR_NAME = "git-pass"
PASS_ENV = "GUARD_PASS_FILE"


def pass_file(env: dict[str, str], session: str, lock_dir: str) -> str | None:
    """The marker path the shim passed, when it names this session's entry in the pass
    folder of this lock folder: a marker anywhere else would escape `revoke` and `prune`
    (a shim that computed another folder, say with HOME unset, gets no pass at all)."""
    path = env.get(PASS_ENV, "")
    if not path.startswith("/"):
        return None
    folder = os.path.join(lock_dir, PASS_DIR_NAME)
    if os.path.normpath(os.path.dirname(path)) != os.path.normpath(folder):
        return None
    return path if os.path.basename(path).endswith("-" + session) else None


def leave_pass(path: str) -> None:
    """Create the marker; never raises (without it the next hook just asks guard again)."""
    folder = os.path.dirname(path)
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        os.close(fd)
    except OSError:
        return
    prune(folder)


def _marker_process(name: str) -> tuple[int, int] | None:
    pid, _, rest = name.partition("-")
    start, _, _session = rest.partition("-")
    if not (pid.isdigit() and start.isdigit()):
        return None
    return int(pid), int(start)


def prune(folder: str) -> None:
    """Remove the markers whose git process is gone (or whose pid now names another process)."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        proc = _marker_process(name)
        if proc is None or process_id(proc[0]).start_time != proc[1]:
            try:
                os.unlink(os.path.join(folder, name))
            except OSError:
                pass  # pruned by another hook at the same moment


def revoke(lock_dir: str, session: str) -> None:
    """Void every pass of a session that lost its lease (taken over, or forced free): a git
    command of that session still running must be asked again at its next hook."""
    folder = os.path.join(lock_dir, PASS_DIR_NAME)
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        if name.endswith("-" + session):
            try:
                os.unlink(os.path.join(folder, name))
            except OSError:
                pass

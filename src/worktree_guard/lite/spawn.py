"""`spawn.run` replaces `subprocess.run` for pre-push's few git questions.

`import subprocess` pulls in `signal`, `threading`, `selectors` and `contextlib`: measured
at well over one interpreter start on a loaded 2-core machine (`python -I -S -c 'import
subprocess'` against `python -I -S -c pass`), more than the three git processes it is used
for. This is the part pre-push needs: spawn a program, feed it stdin, collect stdout and
stderr without deadlocking on full pipes, and give up after a deadline.
"""

from __future__ import annotations

import select
import time

from worktree_guard.lite import system

_CHUNK = 4096  # at most PIPE_BUF per write: a pipe select() calls writable takes it whole


class SpawnError(Exception):
    """The program could not be started, or ran past its deadline (and was killed)."""


def run(argv: list[str], stdin: bytes = b"", timeout_s: float = 60.0) -> tuple[int, bytes, bytes]:
    """(exit status, stdout, stderr) of `argv` (searched on PATH); a signal's death is
    -signal, as subprocess reports it."""
    in_r, in_w = system.pipe()
    out_r, out_w = system.pipe()
    err_r, err_w = system.pipe()
    actions = [(system.POSIX_SPAWN_DUP2, in_r, 0), (system.POSIX_SPAWN_DUP2, out_w, 1),
               (system.POSIX_SPAWN_DUP2, err_w, 2)]
    try:
        pid = system.posix_spawnp(argv[0], argv, dict(system.environ()), file_actions=actions)
    except OSError as exc:
        for fd in (in_r, in_w, out_r, out_w, err_r, err_w):
            system.close(fd)
        raise SpawnError(f"{argv[0]}: {exc.strerror}") from None
    for fd in (in_r, out_w, err_w):
        system.close(fd)
    out, err = bytearray(), bytearray()
    pending = memoryview(stdin)
    readers = {out_r: out, err_r: err}
    writers = [in_w] if pending else []
    if not pending:
        system.close(in_w)
    deadline = time.monotonic() + timeout_s
    try:
        while readers or writers:
            left = deadline - time.monotonic()
            if left <= 0:
                system.kill(pid, 9)
                raise SpawnError(f"{argv[0]}: no answer within {timeout_s:g} s")
            readable, writable, _ = select.select(list(readers), writers, [], left)
            for fd in readable:
                data = system.read(fd, 65536)
                if data:
                    readers[fd] += data
                else:
                    del readers[fd]
                    system.close(fd)
            if writable:
                try:
                    pending = pending[system.write(in_w, pending[:_CHUNK]):]
                except BrokenPipeError:
                    pending = pending[:0]  # the program stopped reading: its answer says why
                if not pending:
                    writers = []
                    system.close(in_w)
    finally:
        for fd in [*readers, *writers]:
            system.close(fd)
        _, status = system.waitpid(pid, 0)
    code = system.waitstatus_to_exitcode(status)
    return code, bytes(out), bytes(err)

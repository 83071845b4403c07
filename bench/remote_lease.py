"""Group remote: the same push to a bare repository served by `git daemon` on 127.0.0.1,
without hooks, with guard's hooks and the branch lease on the remote (the holder renewing
it: its compare-and-swap push), and with `guard.remoteLease=false`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from bench.common import (
    Case,
    Context,
    GroupResult,
    Plan,
    Skip,
    Spawn,
    Table,
    case_raw,
    count_events,
    exited_clean,
    git_ok,
    make_repo,
    ms,
    problem_notes,
    round_robin,
    rounds_note,
    run_git,
)
from bench.git_work import as_person, git_envs, git_spawn, guard_install, new_commit


@contextlib.contextmanager
def git_daemon(ctx: Context, base: Path) -> Iterator[str]:
    """`git daemon` on 127.0.0.1 serving `base`, pushes allowed: its git:// base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [ctx.git, "daemon", "--reuseaddr", "--listen=127.0.0.1", f"--port={port}",
         "--export-all", "--enable=receive-pack", f"--base-path={base}", str(base)],
        env=ctx.env(ctx.tmp / "setup-locks"), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        for _ in range(3000):  # until it accepts a connection
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if proc.poll() is not None:
                raise Skip("git daemon exited at start")
            time.sleep(0.01)
        else:
            raise Skip("git daemon never listened")
        yield f"git://127.0.0.1:{port}"
    finally:
        # `git daemon` runs `git-daemon` as its child: stop the whole process group, or the
        # daemon keeps listening after the benchmark.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=30)


def remote_group(ctx: Context, plan: Plan) -> GroupResult:
    return as_person(_remote_group, ctx, plan)


def _remote_group(ctx: Context, plan: Plan) -> GroupResult:
    lock_dir = ctx.tmp / "remote-locks"
    envs = git_envs(ctx, lock_dir)
    served = ctx.folder("remote-served")
    no_hooks = ctx.folder("remote-no-hooks")
    with git_daemon(ctx, served) as base:
        repos = {}
        for name, hooked, lease in (("plain", False, True), ("lease", True, True),
                                    ("no-lease", True, False)):
            bare = served / f"{name}.git"
            subprocess.run([ctx.git, "init", "-q", "--bare", str(bare)], check=True,
                           env=ctx.env(ctx.tmp / "setup-locks"))
            repo = make_repo(ctx, f"remote-{name}")
            run_git(ctx, repo, "remote", "add", "origin", f"{base}/{name}.git")
            run_git(ctx, repo, "push", "-q", "-u", "origin", "main")
            if hooked:
                guard_install(ctx, repo)
            if not lease:
                run_git(ctx, repo, "config", "guard.remoteLease", "false")
            repos[name] = repo

        def push(label: str, name: str, env: dict[str, str], base: Case | None) -> Case:
            return Case(label, git_spawn(ctx, repos[name], env, "push", "-q", "origin", "main"),
                        git_ok, before=new_commit(ctx, repos[name], no_hooks), compare_to=base)

        start = Case("python -c pass (1 interpreter start)",
                     Spawn([str(ctx.python), "-c", "pass"], envs.person, repos["plain"]),
                     exited_clean)
        plain = push("push over git://127.0.0.1, no hooks", "plain", envs.person, None)
        cases = [
            start,
            plain,
            push("push + hooks, agent: branch lease renewed", "lease", envs.agent, plain),
            push("push + hooks, agent: guard.remoteLease=false", "no-lease", envs.agent, plain),
        ]
        measured = round_robin(cases, plan.git)
    unit = start.stats.median
    rows, extras = [], {}
    for case in cases:
        row = [case.label, ms(case.stats.median), ms(case.stats.p10), ms(case.stats.p90), "", ""]
        if case.compare_to is not None:
            extra = case.stats.median - case.compare_to.stats.median
            extras[case.label] = {"extra_ms": extra, "extra_starts": extra / unit}
            row[4:6] = [f"{extra:+.1f}", f"{extra / unit:+.2f}"]
        rows.append(row)
    notes = [*rounds_note(measured, plan.git), *problem_notes(cases),
             f"branch leases taken: {count_events(lock_dir, 'remote_acquired')} (1 expected), "
             f"renewed: {count_events(lock_dir, 'remote_renewed')}, refused: "
             f"{count_events(lock_dir, 'remote_denied')} (0 expected)"]
    title = (f"a push over a loopback git daemon, with guard's branch lease vs without; "
             f"{measured} rounds, ms")
    headers = ["case", "median", "p10", "p90", "extra ms", "extra starts"]
    return GroupResult("remote", [Table(title, headers, rows, notes)],
                       {"cases": case_raw(cases), "extra": extras})

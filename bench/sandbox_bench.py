"""Group sandbox: what the shell prefix costs per command.

Every case is `/bin/sh -c '<what the client runs>'`, in the same rounds: the command alone
(`bash -c true`), then through guard's prefix with no tree held by another session (the
protected paths only), with one held (the held tree's mounts, and the prefix waiting for
the command to say why a failure happened), and with GUARD_SANDBOX=off. The target: the
prefix's extra time over the bare command at most one `python -c pass` start.
"""

from __future__ import annotations

import shlex
import signal
import subprocess
import time
from pathlib import Path

from bench.common import (
    BASELINE,
    SH,
    Case,
    Context,
    GroupResult,
    Plan,
    Skip,
    Spawn,
    Table,
    Target,
    case_raw,
    exited_clean,
    make_repo,
    ms,
    problem_notes,
    round_robin,
    rounds_note,
    run_git,
)

PREFIX_HELD = "prefix, a tree held by another session"


def sandbox_group(ctx: Context, plan: Plan) -> GroupResult:
    from worktree_guard.install.launcher import Launcher
    from worktree_guard.install.shell_prefix import PREFIX_FILE, prefix_script
    from worktree_guard.sandbox.detect import probe

    mech = probe({})
    if not mech.on:
        raise Skip(f"no sandbox here: {mech.reason}")
    a = make_repo(ctx, "sandbox-a")
    b = ctx.tmp / "sandbox-b"
    run_git(ctx, a, "worktree", "add", "-q", str(b), "-b", "b-work")
    free_dir, held_dir = ctx.tmp / "sandbox-locks-free", ctx.tmp / "sandbox-locks-held"
    free_dir.mkdir()
    package = str(Path(__import__("worktree_guard").__file__).parent.parent)
    program = ctx.tmp / PREFIX_FILE  # what install writes into the git hooks folder
    program.write_bytes(prefix_script(Launcher(str(ctx.python), package)))
    program.chmod(0o755)
    prefix = shlex.quote(str(program))
    ready = ctx.tmp / "sandbox-a-held"
    holder = subprocess.Popen([str(ctx.guard), "run", "--", SH, "-c",
                               f"touch {shlex.quote(str(ready))}; exec sleep 3600"],
                              cwd=a, env=ctx.env(held_dir), start_new_session=True)
    try:
        while not ready.exists():
            if holder.poll() is not None:
                raise RuntimeError("guard run could not hold the tree")
            time.sleep(0.01)  # waiting for the holder, not timing anything
        through = f"{prefix} 'true'"

        def spawn(command: str, lock_dir: Path, **env: str) -> Spawn:
            return Spawn([SH, "-c", command], ctx.env(lock_dir, **env), b)

        python = shlex.quote(str(ctx.python))
        cases = [
            Case("/bin/sh -c true (floor)", spawn("true", free_dir), exited_clean),
            Case(BASELINE, spawn(f"{python} -c pass", free_dir), exited_clean),
            Case("bash -c true (the command alone)", spawn("bash -c true", free_dir),
                   exited_clean),
            Case("prefix, no tree held by another session", spawn(through, free_dir),
                   exited_clean),
            Case(PREFIX_HELD, spawn(through, held_dir), exited_clean),
            Case("prefix, GUARD_SANDBOX=off", spawn(through, free_dir, GUARD_SANDBOX="off"),
                   exited_clean),
        ]
        measured = round_robin(cases, plan.claude)
    finally:
        holder.send_signal(signal.SIGTERM)
        holder.wait()
    base, bare = cases[1].stats.median, cases[2].stats.median
    rows, extras = [], {}
    for case in cases:
        stats = case.stats
        extra = (stats.median - bare) / base
        extras[case.label] = extra
        is_prefix = case.label.startswith("prefix")
        verdict = Target(1.0).verdict(extra) if is_prefix else ""
        rows.append([case.label, ms(stats.median), ms(stats.p10), ms(stats.p90),
                     f"{stats.median / base:.2f}x", f"{extra:+.2f}" if is_prefix else "",
                     verdict])
    notes = [*rounds_note(measured, plan.claude), *problem_notes(cases),
             f"mode: {mech.describe()}", f"the prefix `guard install` writes: {prefix}"]
    title = (f"Shell sandbox prefix: `/bin/sh -c '<prefix> <command>'` in B's worktree; "
             f"{measured} rounds, ms")
    table = Table(title, ["case", "median", "p10", "p90", "vs python",
                            "extra over the command, in python starts", "target"], rows, notes)
    return GroupResult("sandbox", [table], {"cases": case_raw(cases), "extra": extras})

"""Groups scaling (a 20k-file repository, a 5k-lease lock folder) and concurrency (eight
sessions on one tree).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import (
    CROWD_BATCHES,
    HOOK_TIMEOUT_S,
    TTL_MS,
    Case,
    Check,
    Context,
    GroupResult,
    Plan,
    Session,
    Spawn,
    Stats,
    Table,
    Target,
    case_raw,
    count_events,
    edit_call,
    expect_allow,
    expect_deny_by,
    hook_spawn,
    make_repo,
    ms,
    payload,
    prime,
    problem_notes,
    ratio_rows,
    round_robin,
    rounds_note,
    run_git,
    timed,
)

# ---- group: scaling ------------------------------------------------------------------------

TREE_FOLDERS, FILES_PER_FOLDER, DEPTH, OTHER_LEASES = 200, 100, 8, 5000


def big_repo(ctx: Context) -> tuple[Path, Path]:
    """20k tracked files, plus a chain DEPTH folders deep; returns (repo, deepest folder).
    Files are hard links of one seed (creating 20k inodes is the slow part), committed once."""
    repo = make_repo(ctx, "big-repo")
    seed = repo / "seed.txt"
    seed.write_text("x\n", encoding="utf-8")
    for index in range(TREE_FOLDERS):
        folder = repo / "src" / f"m{index // 20:02d}" / f"p{index % 20:02d}"
        folder.mkdir(parents=True)
        for number in range(FILES_PER_FOLDER):
            link_or_copy(seed, folder / f"f{number:03d}.txt")
    deep = repo.joinpath("deep", *(f"l{n}" for n in range(1, DEPTH)))
    deep.mkdir(parents=True)
    for folder in [deep, *deep.parents][:DEPTH]:
        link_or_copy(seed, folder / "README.md")
    run_git(ctx, repo, "add", "-A")
    run_git(ctx, repo, "commit", "-q", "-m", "20k files")
    return repo, deep


def link_or_copy(seed: Path, target: Path) -> None:
    try:
        os.link(seed, target)
    except OSError:
        shutil.copyfile(seed, target)


def fill_leases(lock_dir: Path, count: int) -> None:
    """`count` valid, fresh leases of other trees (schema_version 1 records, side lock files)."""
    lock_dir.mkdir(mode=0o700, parents=True)
    now = time.time_ns() // 1_000_000
    for index in range(count):
        key = secrets.token_hex(6)
        record = {"schema_version": 1, "session_id": str(uuid.uuid4()), "pid": None,
                  "acquired_at": now, "ttl_ms": TTL_MS, "last_active_at": now,
                  "token": secrets.token_hex(8), "generation": 1, "holder_start_time": None,
                  "boot_id": None, "workspace": f"/srv/trees/tree-{index}", "branch": "main",
                  "agent": "claude-code"}
        (lock_dir / f"session-lock-{key}.json").write_text(json.dumps(record, indent=1) + "\n")
        (lock_dir / f"session-lock-{key}.lock").write_text("1\n")


TINY = "steady state, tiny repo, cwd at the top (baseline a)"
BIG = f"steady state, 20k files, cwd {DEPTH} folders deep"
EMPTY = "interval 0, empty lock folder (baseline b)"
FULL_DIR = f"interval 0, lock folder with {OTHER_LEASES} other leases"


def scaling_group(ctx: Context, plan: Plan) -> GroupResult:
    tiny = make_repo(ctx, "tiny-repo")
    big, deep = big_repo(ctx)
    full_dir = ctx.tmp / "scale-locks-full"
    fill_leases(full_dir, OTHER_LEASES)

    def steady(label: str, repo: Path, cwd: Path, lock_dir: Path, **env: str) -> Case:
        session = Session.new(repo)
        stdin = payload(ctx, session, "PreToolUse", cwd, **edit_call(cwd / "README.md"))
        spawn = hook_spawn(ctx, lock_dir, session, stdin, **env)
        prime(spawn, expect_allow, "a holder's lease")
        return Case(label, spawn, expect_allow, target=None if "baseline" in label else
                    Target(1.15))

    interval0 = {"GUARD_REFRESH_INTERVAL_MS": "0"}
    cases = [
        steady(TINY, tiny, tiny, ctx.tmp / "scale-locks-tiny"),
        steady(BIG, big, deep, ctx.tmp / "scale-locks-big"),
        steady(EMPTY, tiny, tiny, ctx.tmp / "scale-locks-empty", **interval0),
        steady(FULL_DIR, tiny, tiny, full_dir, **interval0),
    ]
    measured = round_robin(cases, plan.scaling)
    rows_a, ratio_a = ratio_rows(cases[:2], cases[0])
    rows_b, ratio_b = ratio_rows(cases[2:], cases[2])
    title = f"Scaling: `guard hook` PreToolUse Edit by the holder; {measured} rounds, ms"
    headers = ["case", "median", "p10", "p90", "vs baseline", "target"]
    notes = [*rounds_note(measured, plan.scaling), *problem_notes(cases)]
    table = Table(title, headers, rows_a + rows_b, notes)
    return GroupResult("scaling", [table], {"cases": case_raw(cases),
                                            "ratios": {**ratio_a, **ratio_b}})


# ---- group: concurrent sessions ------------------------------------------------------------


@dataclass
class Calls:
    """Latencies of one session's calls and what went wrong in them."""

    ms: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def loop_calls(spawn: Spawn, check: Check, count: int, into: Calls,
               start: threading.Barrier | None = None) -> None:
    if start is not None:
        start.wait()
    for _ in range(count):
        elapsed, done = timed(spawn)
        into.ms.append(elapsed)
        problem = check(done)
        if problem is not None:
            into.problems.append(problem)


def run_together(work: Sequence[tuple[Spawn, Check, Calls]], count: int) -> None:
    """Every session loops at once, released by one barrier (threads wait in waitpid)."""
    start = threading.Barrier(len(work))
    threads = [threading.Thread(target=loop_calls, args=(spawn, check, count, calls, start))
               for spawn, check, calls in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def concurrency_group(ctx: Context, plan: Plan) -> GroupResult:
    repo = make_repo(ctx, "crowd-repo")
    lock_dir = ctx.tmp / "crowd-locks"
    sessions = [Session.new(repo) for _ in range(8)]
    spawns = [hook_spawn(ctx, lock_dir, s, payload(ctx, s, "PreToolUse", repo,
                                                   **edit_call(repo / "README.md")))
              for s in sessions]
    holder = sessions[0].id
    prime(spawns[0], expect_allow, "the holder's lease")
    alone, crowd = Calls(), [Calls() for _ in sessions]
    checks = [expect_allow] + [expect_deny_by(holder)] * (len(sessions) - 1)
    per_batch = max(1, plan.crowd.wanted // CROWD_BATCHES)
    deadline = time.monotonic() + plan.crowd.budget_s
    for _ in range(CROWD_BATCHES):  # alternate, so drift hits 1 and 8 sessions alike
        loop_calls(spawns[0], expect_allow, per_batch, alone)
        run_together(list(zip(spawns, checks, crowd, strict=True)), per_batch)
        if time.monotonic() > deadline:
            break
    return crowd_result(plan, lock_dir, holder, alone, crowd)


def crowd_result(plan: Plan, lock_dir: Path, holder: str, alone: Calls,
                 crowd: Sequence[Calls]) -> GroupResult:
    denied = [t for calls in crowd[1:] for t in calls.ms]
    everyone = [t for calls in crowd for t in calls.ms]
    groups = [("1 session (the holder alone)", alone.ms),
              (f"{len(crowd)} sessions, all calls", everyone),
              (f"{len(crowd)} sessions, the holder's calls", crowd[0].ms),
              (f"{len(crowd)} sessions, denied calls", denied)]
    base = Stats.of(alone.ms).median
    rows = []
    for label, values in groups:
        stats = Stats.of(values)
        rows.append([label, str(stats.n), ms(stats.median), ms(stats.p99), ms(stats.max),
                     f"{stats.median / base:.2f}x"])
    notes = crowd_checks(lock_dir, holder, alone, crowd)
    if len(alone.ms) < plan.crowd.wanted:
        notes.insert(0, f"stopped at the {plan.crowd.budget_s:g} s time budget after "
                        f"{len(alone.ms)} of {plan.crowd.wanted} calls per session")
    title = (f"Concurrency: PreToolUse Edit on one tree, 1 session vs {len(crowd)} at once "
             f"(1 holder, {len(crowd) - 1} denied), {len(alone.ms)} calls per session, "
             f"{os.cpu_count()} cores, ms")
    table = Table(title, ["case", "calls", "median", "p99", "max", "vs alone"], rows, notes)
    raw = {"alone_ms": alone.ms, "crowd_ms": {str(i): c.ms for i, c in enumerate(crowd)},
           "checks": notes}
    return GroupResult("concurrency", [table], raw)


def crowd_checks(lock_dir: Path, holder: str, alone: Calls, crowd: Sequence[Calls]) -> list[str]:
    """No call over the hook timeout, one holder from first to last, every deny naming it."""
    slowest = max([*alone.ms, *(t for c in crowd for t in c.ms)])
    over = sum(1 for c in [alone, *crowd] for t in c.ms if t > HOOK_TIMEOUT_S * 1000)
    holder_bad = len(alone.problems) + len(crowd[0].problems)
    denied_calls = sum(len(c.ms) for c in crowd[1:])
    denied_bad = sum(len(c.problems) for c in crowd[1:])
    acquired, taken = count_events(lock_dir, "acquired"), count_events(lock_dir, "taken_over")
    leases = [json.loads(p.read_text()) for p in lock_dir.glob("session-lock-*.json")]
    named = [lease.get("session_id") for lease in leases]

    def verdict(good: bool) -> str:
        return "ok" if good else "PROBLEM"

    first_problem = next((p for c in [alone, *crowd] for p in c.problems), "")
    notes = [
        f"calls over the {HOOK_TIMEOUT_S:g} s hook timeout: {over} (slowest {slowest:.0f} ms): "
        f"{verdict(over == 0)}",
        f"holder allowed every time: {holder_bad} exceptions: {verdict(holder_bad == 0)}",
        f"denied answers that were a deny naming the holder: {denied_calls - denied_bad}/"
        f"{denied_calls}: {verdict(denied_bad == 0)}",
        f"`acquired` events: {acquired}, `taken_over`: {taken} (1 and 0 expected, never two "
        f"holders): {verdict((acquired, taken) == (1, 0))}",
        f"lease files after the run: {len(leases)}, naming the holder: "
        f"{verdict(named == [holder])}",
    ]
    if first_problem:
        notes.append(f"first problem: {first_problem}")
    return notes



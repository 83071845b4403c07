#!/usr/bin/env python3
"""Benchmark of worktree-guard's hooks: whole processes, started the way Claude Code and git
start them, timed round-robin against a baseline measured in the same run.

    .venv/bin/python bench/run.py [--quick] [--json OUT] [--markdown] [--groups claude,git]

Groups: claude (the `guard hook` events, through the exact command `guard install` writes),
git (commit, push, update-ref with guard's git hooks as `guard install` writes them), remote
(a push over a loopback git daemon with the branch lease, and without guard), bulk
(a rebase of 200 commits, a fetch of 2,000 new tags: default and strict install, as a person
and as the holder), scaling (20k-file repository, 5k-lease lock folder), concurrency
(8 sessions on one tree), imports (`-X importtime` of one PreToolUse), classifier (the Bash
classifier on the longest commands, up to 1 MB, through the hook), classifier-calls
(`classify_command` per call, in-process), sandbox (the shell prefix, with and without a
held tree). Standard library only; every repository,
lock folder and HOME lives in one temporary folder, removed at the end (unless --keep).
The package's bytecode is compiled first, as a normal pip install has it.
docs/benchmarks.md says what each case measures and why.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: import the bench package
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench.claude_hook import claude_group
from bench.common import (
    FULL_PLAN,
    QUICK_PLAN,
    ROOT,
    Context,
    GroupResult,
    Plan,
    Skip,
    Table,
    installed_hook_command,
    make_context,
    name_self_claude,
)
from bench.git_work import bulk_group, git_group
from bench.imports import classifier_calls_group, classifier_group, imports_group
from bench.remote_lease import remote_group
from bench.report import (
    compile_bytecode,
    machine_facts,
    package_sources,
    render_markdown,
    render_text,
)
from bench.sandbox_bench import sandbox_group
from bench.scale import concurrency_group, scaling_group

# ---- driver --------------------------------------------------------------------------------



GROUPS: dict[str, Callable[[Context, Plan], GroupResult]] = {
    "claude": claude_group,
    "git": git_group,
    "remote": remote_group,
    "bulk": bulk_group,
    "scaling": scaling_group,
    "concurrency": concurrency_group,
    "imports": imports_group,
    "classifier": classifier_group,
    "classifier-calls": classifier_calls_group,
    "sandbox": sandbox_group,
}


def run_group(key: str, ctx: Context, plan: Plan) -> GroupResult:
    started = time.monotonic()
    print(f"[bench] {key}...", file=sys.stderr, flush=True)
    try:
        result = GROUPS[key](ctx, plan)
    except Skip as skip:
        return stopped(key, f"skipped: {skip}")
    except (RuntimeError, subprocess.SubprocessError) as exc:  # set-up failed: go on
        return stopped(key, f"FAILED: {exc}")
    print(f"[bench] {key} took {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    return result


def stopped(key: str, why: str) -> GroupResult:
    print(f"[bench] {key} {why}", file=sys.stderr)
    return GroupResult(key, [Table(f"{key}: {why}", [], [])], {"stopped": why})


def venv_bin(explicit: str | None) -> Path:
    """The venv whose `guard` is measured: --venv, else the running interpreter's, else .venv."""
    candidates = [Path(explicit)] if explicit else [Path(sys.prefix), ROOT / ".venv"]
    for venv in candidates:
        if (venv / "bin" / "guard").exists():
            return (venv / "bin").absolute()
    raise SystemExit("no bin/guard in " + " or ".join(map(str, candidates))
                     + "; run scripts/test or pip install -e . first")


@contextlib.contextmanager
def sandbox(keep: bool) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="guard-bench-")).resolve()
    try:
        yield path
    finally:
        if keep:
            print(f"[bench] kept {path}", file=sys.stderr)
        else:
            shutil.rmtree(path, ignore_errors=True)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer rounds (about 30 s)")
    parser.add_argument("--json", metavar="OUT", help="write the raw numbers to OUT")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    parser.add_argument("--groups", default=",".join(GROUPS),
                        help=f"comma-separated subset of {','.join(GROUPS)}")
    parser.add_argument("--venv", help="the virtual environment to measure (default: this one)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    unknown = set(args.groups.split(",")) - set(GROUPS)
    if unknown:
        parser.error(f"unknown groups: {', '.join(sorted(unknown))}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    plan = QUICK_PLAN if args.quick else FULL_PLAN
    bin_dir = venv_bin(args.venv)
    facts = machine_facts(bin_dir / "python")  # first: the load average before we add ours
    if not name_self_claude():
        facts["note"] = "could not name the bench process `claude`: hooks find no holder pid"
    started = time.monotonic()
    sources = package_sources(bin_dir / "python")
    compile_bytecode(bin_dir / "python")
    with sandbox(args.keep) as tmp:
        ctx = make_context(tmp, bin_dir)
        ctx.hook_command = installed_hook_command(ctx)
        results = [run_group(key, ctx, plan) for key in args.groups.split(",")]
    took = time.monotonic() - started
    now = package_sources(bin_dir / "python")
    changed = sorted(n for n in sources.keys() | now.keys() if sources.get(n) != now.get(n))
    if changed:
        facts["WARNING"] = (f"worktree_guard changed during the run ({', '.join(changed)}): "
                            "calls after an edit compiled bytecode; run again")
    render = render_markdown if args.markdown else render_text
    print(render(facts, results, took))
    if args.json:
        raw = {"machine": facts, "plan": dataclasses.asdict(plan), "took_s": took,
               "groups": {r.key: r.raw for r in results}}
        Path(args.json).write_text(json.dumps(raw, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

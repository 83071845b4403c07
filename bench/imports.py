"""Groups imports (`-X importtime` of one PreToolUse), classifier (the Bash classifier on
the longest commands, through the hook) and classifier-calls (`classify_command` in-process).
"""

from __future__ import annotations

import json
import shlex
import subprocess
from typing import Any, TypeAlias

from bench.claude_hook import STEADY
from bench.common import (
    BASELINE,
    MIN_ROUNDS,
    QUICK_PLAN,
    SH,
    Case,
    Context,
    GroupResult,
    Plan,
    Rounds,
    Session,
    Spawn,
    Table,
    Target,
    baseline_spawn,
    bash_call,
    case_raw,
    edit_call,
    exited_clean,
    expect_allow,
    expect_deny_by,
    first_line,
    hook_spawn,
    make_repo,
    ms,
    payload,
    percentile,
    prime,
    problem_notes,
    ratio_rows,
    round_robin,
    rounds_note,
    timed,
)

# ---- group: what the hook imports ----------------------------------------------------------


def parse_importtime(stderr: str) -> dict[str, tuple[int, int]]:
    """`-X importtime` lines -> {module: (self us, cumulative us)}."""
    found: dict[str, tuple[int, int]] = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        parts = line[len("import time:"):].split("|")
        if len(parts) != 3 or not parts[0].strip().isdigit():
            continue  # the header line
        found[parts[2].strip()] = (int(parts[0]), int(parts[1]))
    return found


Profile: TypeAlias = "dict[str, tuple[float, float]]"


def import_profile(spawn: Spawn, runs: int) -> Profile:
    """Median self and cumulative us per module over `runs` starts (after one to warm up)."""
    env = {**spawn.env, "PYTHONPROFILEIMPORTTIME": "1"}
    seen: list[dict[str, tuple[int, int]]] = []
    for _ in range(runs + 1):
        _, done = timed(Spawn(spawn.argv, env, spawn.cwd, spawn.stdin))
        seen.append(parse_importtime(done.stderr.decode("utf-8", "replace")))
    seen = seen[1:]
    return {name: (percentile([r[name][0] for r in seen if name in r], 0.5),
                   percentile([r[name][1] for r in seen if name in r], 0.5))
            for name in seen[-1]}


def import_table(label: str, profile: Profile, bare: Profile, plan: Plan) -> Table:
    top = sorted(profile.items(), key=lambda item: item[1][1], reverse=True)[:plan.import_top]
    rows = [[name, f"{own / 1000:.2f}", f"{cumulative / 1000:.2f}"]
            for name, (own, cumulative) in top]
    extra = sum(own for name, (own, _) in profile.items() if name not in bare) / 1000
    ours = sum(own for name, (own, _) in profile.items() if name.startswith("worktree_guard"))
    notes = [f"{len(profile)} modules, {len(profile.keys() - bare.keys())} of them not imported "
             f"by `python -c pass`; their self times add up to {extra:.2f} ms, "
             f"worktree_guard's own modules to {ours / 1000:.2f} ms"]
    title = (f"Imports of `guard hook`, {label}: top {plan.import_top} by cumulative time, "
             f"median of {plan.import_runs} runs, ms (-X importtime inflates them)")
    return Table(title, ["module", "self", "cumulative"], rows, notes)


def imports_group(ctx: Context, plan: Plan) -> GroupResult:
    repo = make_repo(ctx, "imports-repo")
    session = Session.new(repo)
    lock_dir = ctx.tmp / "imports-locks"
    edit = payload(ctx, session, "PreToolUse", repo, **edit_call(repo / "README.md"))
    bash = payload(ctx, session, "PreToolUse", repo, **bash_call("git status"))
    edit_spawn = hook_spawn(ctx, lock_dir, session, edit)
    # -I ignores PYTHONPROFILEIMPORTTIME: the launcher gets -X importtime as an option instead.
    profiled = ctx.hook_command.replace(" -I -S ", " -X importtime -I -S ", 1)
    bare = import_profile(baseline_spawn(ctx, edit_spawn), plan.import_runs)
    profiles = {"PreToolUse Edit, holder, steady state": import_profile(
                    hook_spawn(ctx, lock_dir, session, edit, profiled), plan.import_runs),
                "PreToolUse Bash `git status`": import_profile(
                    hook_spawn(ctx, lock_dir, session, bash, profiled), plan.import_runs)}
    split, split_raw = split_table(ctx, edit_spawn, plan)
    tables = [split, *(import_table(label, prof, bare, plan) for label, prof in profiles.items())]
    raw = {label: {k: {"self_us": v[0], "cumulative_us": v[1]} for k, v in prof.items()}
           for label, prof in {**profiles, "python -c pass": bare}.items()}
    return GroupResult("imports", tables, {"split": split_raw, "importtime": raw})


# ---- group: the Bash classifier on the longest commands ------------------------------------

# A timed-out hook fails open, so the longest command must still get its answer in time.
CLASSIFIER_CASES = (
    ("PreToolUse Bash, 1 MB of words then `rm` (another session holds)",
     "echo " + "word " * 200_000 + "; rm -rf build"),
    ("PreToolUse Bash, 32 KiB of $(ls) then `rm` (just under the size cap)",
     "echo " + "$(ls) " * 5_400 + "; rm -rf build"),
    # Adversarial shapes: each is decided (a deny naming the holder), none by the deadline.
    ("PreToolUse Bash, 20 `cd dN 2>/dev/null;` then `rm` (the folder set's bound)",
     "".join(f"cd d{i} 2>/dev/null; " for i in range(20)) + "rm -rf build"),
    ("PreToolUse Bash, 1,000 `pushd dN;` then `rm`",
     "".join(f"pushd d{i}; " for i in range(1_000)) + "rm -rf build"),
    ("PreToolUse Bash, $( ) nested 30 deep then `rm`",
     "echo " + "$(" * 30 + "true" + ")" * 30 + "; rm -rf build"),
    ("PreToolUse Bash, a 2,000-command pipeline then `rm`",
     " | ".join(["cat"] * 2_000) + "; rm -rf build"),
    ("PreToolUse Bash, 500 `for` loops over globs (bounded variables)",
     "".join(f"for f{i} in *; do rm $f{i}; done; " for i in range(500))),
)
# classify_command alone, in the venv's interpreter: (label, expression for the command).
CLASSIFIER_SHAPES = (
    ("typical: git log | head", "'git log --oneline | head -20'"),
    ("1 MB of words (over the cap)", "'echo ' + 'word ' * 200_000"),
    ("1 MB quoted heredoc (over the cap)", "\"cat <<'EOF'\\n\" + 'line\\n' * 200_000 + 'EOF'"),
    ("32 KiB of words", "'echo ' + 'word ' * 6_500"),
    ("32 KiB of $(ls)", "'echo ' + '$(ls) ' * 5_400"),
    ("32 KiB of `ls; ` commands", "'ls; ' * 8_000"),
    ("32 KiB [[ a < b && ... ]]", "'[[ ' + 'a < b && ' * 3_500 + 'a ]]'"),
    ("32 KiB unparsable, `commit` words", "'git ' + 'commit ' * 4_600 + \"'\""),
)
CLASSIFIER_SCRIPT = """
import json, sys, time
from worktree_guard.shell.classify import classify_command
out = {}
for label, expression in json.loads(sys.argv[1]):
    command = eval(expression)
    times = []
    for _ in range(int(sys.argv[2])):
        start = time.perf_counter()
        verdict = classify_command(command)
        times.append((time.perf_counter() - start) * 1000)
    out[label] = [len(command), sorted(times)[len(times) // 2], max(times), verdict.read_only]
print(json.dumps(out))
"""


def classifier_group(ctx: Context, plan: Plan) -> GroupResult:
    repo = make_repo(ctx, "classifier-repo")
    lock_dir = ctx.tmp / "classifier-locks"
    holder, other = Session.new(repo), Session.new(repo)
    edit = payload(ctx, holder, "PreToolUse", repo, **edit_call(repo / "README.md"))
    prime(hook_spawn(ctx, lock_dir, holder, edit), expect_allow, "the holder's lease")

    def bash(command: str) -> Spawn:
        stdin = payload(ctx, other, "PreToolUse", repo, **bash_call(command))
        return hook_spawn(ctx, lock_dir, other, stdin)

    small = bash("git status")
    cases = [Case(BASELINE, baseline_spawn(ctx, small), exited_clean),
             Case("PreToolUse Bash `git status` (read-only)", small, expect_allow),
             *(Case(label, bash(command), expect_deny_by(holder.id))
               for label, command in CLASSIFIER_CASES)]
    rounds = Rounds(max(MIN_ROUNDS, plan.split.wanted // 10), plan.split.budget_s, 1)
    measured = round_robin(cases, rounds)
    rows, ratios = ratio_rows(cases, cases[0])
    notes = [*rounds_note(measured, rounds), *problem_notes(cases),
             "a deny naming the holder shows the hook answered: a timeout would allow"]
    hook = Table(f"Bash classifier through the whole hook; {measured} rounds, ms",
                 ["case", "median", "p10", "p90", "vs python", "target"], rows, notes)
    runs = 3 if plan is QUICK_PLAN else 9
    done = subprocess.run([str(ctx.python), "-c", CLASSIFIER_SCRIPT,
                           json.dumps(CLASSIFIER_SHAPES), str(runs)],
                          capture_output=True, env=ctx.env(lock_dir), check=False, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"classifier timing: {first_line(done.stderr)}")
    shapes = json.loads(done.stdout)
    alone = Table(f"classify_command alone, {runs} runs each, ms",
                  ["case", "characters", "median", "max", "read-only"],
                  [[label, str(n), ms(median), ms(top), str(read_only)]
                   for label, (n, median, top, read_only) in shapes.items()],
                  ["commands over 32 KiB are not read: they count as unparsable"])
    return GroupResult("classifier", [hook, alone],
                       {"cases": case_raw(cases), "ratios": ratios, "alone": shapes})


# What the console script and `guard hook` import before they read stdin.
HOOK_IMPORTS = "import worktree_guard.entry, worktree_guard.agents.claude"


def split_table(ctx: Context, hook: Spawn, plan: Plan) -> tuple[Table, dict[str, Any]]:
    """Where the hook's time goes, without -X importtime's overhead: the interpreter without
    and with site, the hook's imports alone, and the whole hook, timed round-robin."""
    python = shlex.quote(str(ctx.python))

    def sh(command: str) -> Spawn:
        return Spawn([SH, "-c", command], hook.env, hook.cwd, hook.stdin)

    cases = [
        Case("python -S -c pass (no site, no .pth files)", sh(f"{python} -S -c pass"),
             exited_clean),
        Case(BASELINE, sh(f"{python} -c pass"), exited_clean),
        Case("python -c 'import <the hook's modules>' (imports only)",
             sh(f"{python} -c {shlex.quote(HOOK_IMPORTS)}"), exited_clean),
        Case(STEADY, hook, expect_allow),
    ]
    measured = round_robin(cases, plan.split)
    rows, ratios = ratio_rows(cases, cases[1])
    site, base, imports, whole = (c.stats.median for c in cases)
    notes = [*rounds_note(measured, plan.split), *problem_notes(cases),
             f"site and .pth files: {base - site:.1f} ms of every start; the hook's imports: "
             f"{imports - base:.1f} ms; its work and exit after them: {whole - imports:.1f} ms"]
    title = f"Where the time goes: `guard hook` split by subtraction; {measured} rounds, ms"
    headers = ["case", "median", "p10", "p90", "vs python"]
    table = Table(title, headers, [row[:len(headers)] for row in rows], notes)
    return table, {"cases": case_raw(cases), "ratios": ratios}


# ---- group: the Bash classifier in-process ------------------------------------------------

# Typical lines an agent runs; the classifier's cost per call, without a process around it.
CLASSIFIED = [
    "git log --oneline | head -20",
    "grep -rn foo src | wc -l",
    "cd src && git commit -am 'fix: handle --no-verify flag' && git push origin main",
    "find . -name '*.py' -exec grep -l foo {} + | xargs wc -l > /dev/null 2>&1",
    "npm test",
]
CLASSIFY_CALLS = 200  # per timed batch; one batch per sample
CLASSIFY_TARGET = Target(1000.0, unit=" us")  # a hook's whole budget is tens of ms

CLASSIFY_SCRIPT = """
import json, sys, time
from worktree_guard.shell.classify import classify_command
lines, calls, samples = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
out = {}
for line in lines:
    classify_command(line)  # warm: the first call compiles the patterns
    out[line] = []
    for _ in range(samples):
        start = time.perf_counter_ns()
        for _ in range(calls):
            classify_command(line)
        out[line].append((time.perf_counter_ns() - start) / calls / 1000)
print(json.dumps(out))
"""


def classifier_calls_group(ctx: Context, plan: Plan) -> GroupResult:
    samples = max(plan.import_runs, 3)
    done = subprocess.run(
        [str(ctx.python), "-c", CLASSIFY_SCRIPT, json.dumps(CLASSIFIED), str(CLASSIFY_CALLS),
         str(samples)], env=ctx.env(ctx.tmp / "classifier-locks"), capture_output=True,
        timeout=600, check=False)
    if done.returncode != 0:
        raise RuntimeError(first_line(done.stderr) or f"exit {done.returncode}")
    found: dict[str, list[float]] = json.loads(done.stdout)
    rows = []
    for line, us in found.items():
        median = percentile(us, 0.5)
        rows.append([f"`{line}`", f"{median:.1f}", f"{percentile(us, 0.9):.1f}",
                     CLASSIFY_TARGET.verdict(median)])
    title = (f"`classify_command` in-process, us per call (median and p90 of {samples} "
             f"batches of {CLASSIFY_CALLS} calls)")
    table = Table(title, ["command", "median", "p90", "target"], rows)
    return GroupResult("classifier-calls", [table], {"us_per_call": found})



#!/usr/bin/env python3
"""Benchmark of worktree-guard's hooks: whole processes, started the way Claude Code and git
start them, timed round-robin against a baseline measured in the same run.

    .venv/bin/python bench/run.py [--quick] [--json OUT] [--markdown] [--groups claude,git]

Groups: claude (the `guard hook` events, through the exact command `guard install` writes),
git (commit, push, update-ref with guard's git hooks as `guard install` writes them), bulk
(a rebase of 200 commits, a fetch of 2,000 new tags: default and strict install, as a person
and as the holder), scaling (20k-file repository, 5k-lease lock folder), concurrency
(8 sessions on one tree), imports (`-X importtime` of one PreToolUse), classifier (the Bash
classifier on the longest commands, up to 1 MB, through the hook), classifier-calls
(`classify_command` per call, in-process). Standard library only; every repository,
lock folder and HOME lives in one temporary folder, removed at the end (unless --keep).
The package's bytecode is compiled first, as a normal pip install has it.
docs/benchmarks.md says what each case measures and why.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import dataclasses
import json
import math
import os
import platform
import secrets
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

ROOT = Path(__file__).resolve().parent.parent
HOOK_TIMEOUT_S = 10.0  # the timeout `guard install` registers; a slower hook fails open
# Holders are set up once at the start and must not expire mid-run; the ttl costs nothing.
TTL_MS = 3_600_000
BASELINE = "python -c pass (baseline)"
SH = "/bin/sh"
MIN_ROUNDS = 10

Done: TypeAlias = "subprocess.CompletedProcess[bytes]"
Check: TypeAlias = "Callable[[Done], str | None]"


class Skip(Exception):
    """A group cannot run here; its table says why instead."""


# ---- statistics ----------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between the closest ranks; q in 0..1."""
    if not values:
        return math.nan
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


@dataclass(frozen=True)
class Stats:
    n: int
    median: float
    p10: float
    p90: float
    p99: float
    max: float

    @classmethod
    def of(cls, ms: Sequence[float]) -> Stats:
        top = max(ms) if ms else math.nan
        return cls(len(ms), percentile(ms, 0.5), percentile(ms, 0.1), percentile(ms, 0.9),
                   percentile(ms, 0.99), top)

    def as_dict(self) -> dict[str, float]:
        return {"n": self.n, "median_ms": self.median, "p10_ms": self.p10, "p90_ms": self.p90,
                "p99_ms": self.p99, "max_ms": self.max}


def ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.1f}"


# ---- one timed process ---------------------------------------------------------------------


@dataclass
class Spawn:
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    stdin: bytes = b""


def timed(spawn: Spawn) -> tuple[float, Done]:
    """Start to exit of one process, in ms: the same call for every case and baseline."""
    start = time.perf_counter_ns()
    try:
        done = subprocess.run(spawn.argv, input=spawn.stdin, capture_output=True,
                              env=spawn.env, cwd=spawn.cwd, check=False,
                              timeout=HOOK_TIMEOUT_S * 6)
    except subprocess.TimeoutExpired:  # a hung call is a finding, not a reason to stop
        why = f"killed after {HOOK_TIMEOUT_S * 6:g} s".encode()
        done = subprocess.CompletedProcess(spawn.argv, -9, b"", why)
    return (time.perf_counter_ns() - start) / 1e6, done


@dataclass
class Case:
    label: str
    spawn: Spawn
    check: Check
    before: Callable[[], None] | None = None  # untimed set-up before each timed start
    target: Target | None = None
    compare_to: Case | None = None  # the case without guard, for the extra-cost columns
    samples: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def stats(self) -> Stats:
        return Stats.of(self.samples)


@dataclass(frozen=True)
class Rounds:
    """How many rounds a group asks for, and the time after which it stops early (a slow
    build or a loaded machine must not turn a 3-minute run into an hour)."""

    wanted: int
    budget_s: float
    warmup: int


def round_robin(cases: Sequence[Case], rounds: Rounds) -> int:
    """A, B, C, A, B, C...: drift and noise (other load, CPU clocks) hit every case alike.
    Returns the number of measured rounds."""
    deadline = time.monotonic() + rounds.budget_s
    measured = 0
    for index in range(rounds.warmup + rounds.wanted):
        for case in cases:
            if case.before is not None:
                case.before()
            elapsed, done = timed(case.spawn)
            problem = case.check(done)
            if problem is not None:
                case.problems.append(problem)
            if index >= rounds.warmup:
                case.samples.append(elapsed)
        measured += index >= rounds.warmup
        if measured >= MIN_ROUNDS and time.monotonic() > deadline:
            break
    return measured


def rounds_note(measured: int, rounds: Rounds) -> list[str]:
    if measured >= rounds.wanted:
        return []
    return [f"stopped at the {rounds.budget_s:g} s time budget after {measured} of "
            f"{rounds.wanted} rounds"]


# ---- what a run must answer ----------------------------------------------------------------


def _first_line(data: bytes) -> str:
    text = data.decode("utf-8", "replace").strip()
    return text.splitlines()[0][:160] if text else ""


def exited_clean(done: Done) -> str | None:
    """Exit 0 and silence on stderr: guard reports internal errors (and fails open) there."""
    if done.returncode != 0:
        return f"exit {done.returncode}: {_first_line(done.stderr)}"
    if done.stderr.strip():
        return f"stderr: {_first_line(done.stderr)}"
    return None


def decision(done: Done) -> str:
    """The hook's PreToolUse decision: `allow` for no JSON answer, else what the JSON says."""
    if not done.stdout.strip():
        return "allow"
    try:
        body = json.loads(done.stdout)
        return str(body["hookSpecificOutput"]["permissionDecision"])
    except (ValueError, KeyError, TypeError):
        return "unparsable"


def expect_allow(done: Done) -> str | None:
    problem = exited_clean(done)
    if problem is None and decision(done) != "allow":
        problem = f"expected allow, got {decision(done)}: {_first_line(done.stdout)}"
    return problem


def expect_deny_by(holder: str) -> Check:
    def check(done: Done) -> str | None:
        problem = exited_clean(done)
        if problem is None and decision(done) != "deny":
            problem = f"expected deny, got {decision(done)}"
        # Messages name a session by the first 8 characters of its id.
        if problem is None and holder[:8] not in done.stdout.decode("utf-8", "replace"):
            problem = "the deny does not name the holder"
        return problem

    return check


def git_ok(done: Done) -> str | None:
    """git succeeded and guard said nothing: in these cases it has nothing to say."""
    if done.returncode != 0:
        return f"exit {done.returncode}: {_first_line(done.stderr)}"
    if b"worktree-guard" in done.stderr:
        return f"guard said: {_first_line(done.stderr)}"
    return None


# ---- the sandbox ---------------------------------------------------------------------------


@dataclass
class Context:
    tmp: Path
    venv_bin: Path
    git: str
    hook_command: str = ""  # the PreToolUse command `guard install` writes

    @property
    def python(self) -> Path:
        return self.venv_bin / "python"

    @property
    def guard(self) -> Path:
        return self.venv_bin / "guard"

    @property
    def home(self) -> Path:
        return self.tmp / "home"

    def folder(self, name: str) -> Path:
        path = self.tmp / name
        path.mkdir(parents=True)
        return path

    def env(self, lock_dir: Path, **extra: str) -> dict[str, str]:
        """A clean environment: nothing of the caller's (PYTHON*, CLAUDE_*, GIT_*) leaks in."""
        path = os.pathsep.join(dict.fromkeys(
            [str(self.venv_bin), os.path.dirname(self.git), "/usr/local/bin", "/usr/bin", "/bin"]
        ))
        env = {"PATH": path, "HOME": str(self.home), "LANG": "C.UTF-8",
               "GIT_CONFIG_NOSYSTEM": "1", "GUARD_LOCK_DIR": str(lock_dir),
               "GUARD_TTL_MS": str(TTL_MS)}
        env.update(extra)
        return env


def make_context(tmp: Path, venv_bin: Path) -> Context:
    git = shutil.which("git")
    if git is None:
        raise SystemExit("git is not on PATH")
    ctx = Context(tmp, venv_bin, git)
    ctx.home.mkdir()
    # No auto-gc or maintenance: a repack in the middle of a round is noise, not guard.
    (ctx.home / ".gitconfig").write_text(
        "[user]\n\tname = Bench\n\temail = bench@example.invalid\n"
        "[gc]\n\tauto = 0\n[maintenance]\n\tauto = false\n[commit]\n\tgpgsign = false\n"
        "[advice]\n\tdetachedHead = false\n",
        encoding="utf-8",
    )
    return ctx


def run_git(ctx: Context, repo: Path, *args: str) -> str:
    env = ctx.env(ctx.tmp / "setup-locks")
    done = subprocess.run([ctx.git, *args], cwd=repo, env=env, capture_output=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {_first_line(done.stderr)}")
    return done.stdout.decode().strip()


def make_repo(ctx: Context, name: str) -> Path:
    repo = ctx.folder(name)
    run_git(ctx, repo, "init", "-q")
    run_git(ctx, repo, "symbolic-ref", "HEAD", "refs/heads/main")  # older git has no init -b
    (repo / "README.md").write_text("bench\n", encoding="utf-8")
    run_git(ctx, repo, "add", "README.md")
    run_git(ctx, repo, "commit", "-q", "-m", "init")
    return repo


def name_self_claude(name: bytes = b"claude") -> bool:
    """Name this process `claude` (Linux prctl), so that the hooks we start find their holder
    process two levels up (hook <- sh <- claude), as under the real client, and record a live
    pid that denied callers check in /proc."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        result = libc.prctl(15, name, 0, 0, 0)  # 15: PR_SET_NAME
    except (OSError, AttributeError):
        return False
    return bool(result == 0)


# ---- Claude Code hook payloads -------------------------------------------------------------


@dataclass(frozen=True)
class Session:
    """One Claude Code session: its id and project folder (CLAUDE_PROJECT_DIR)."""

    id: str
    project: Path

    @classmethod
    def new(cls, project: Path) -> Session:
        return cls(str(uuid.uuid4()), project)


def payload(ctx: Context, session: Session, event: str, cwd: Path, **fields: Any) -> bytes:
    """A stdin payload shaped like the real client's (see the protocol notes)."""
    body: dict[str, Any] = {
        "session_id": session.id,
        "transcript_path": f"{ctx.home}/.claude/projects/bench/{session.id}.jsonl",
        "cwd": str(cwd),
    }
    if event != "SessionEnd":
        body.update({"prompt_id": str(uuid.uuid4()), "permission_mode": "default",
                     "effort": {"level": "high"}})
    body["hook_event_name"] = event
    body.update(fields)
    return json.dumps(body).encode()


def edit_call(path: Path) -> dict[str, Any]:
    return {"tool_name": "Edit",
            "tool_input": {"file_path": str(path), "old_string": "bench", "new_string": "bench!",
                           "replace_all": False},
            "tool_use_id": f"toolu_{secrets.token_hex(12)}"}


def edit_result(path: Path) -> dict[str, Any]:
    response = {"filePath": str(path), "oldString": "bench", "newString": "bench!",
                "originalFile": "bench\n", "structuredPatch": [], "userModified": False,
                "replaceAll": False}
    return {**edit_call(path), "tool_response": response, "duration_ms": 7}


def bash_call(command: str) -> dict[str, Any]:
    return {"tool_name": "Bash", "tool_input": {"command": command, "description": command},
            "tool_use_id": f"toolu_{secrets.token_hex(12)}"}


def installed_hook_command(ctx: Context) -> str:
    """The PreToolUse command `guard install` writes (into a scratch repository's local
    settings): the launcher, as every Claude Code hook of an installed repository runs it."""
    repo = make_repo(ctx, "install-probe")
    done = subprocess.run([str(ctx.guard), "install", "--no-git-hooks"], cwd=repo,
                          env=ctx.env(ctx.tmp / "setup-locks"), capture_output=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"guard install: {_first_line(done.stderr)}")
    settings = json.loads((repo / ".claude" / "settings.local.json").read_text("utf-8"))
    return str(settings["hooks"]["PreToolUse"][-1]["hooks"][0]["command"])


def hook_spawn(ctx: Context, lock_dir: Path, session: Session, stdin: bytes,
               command: str | None = None, **extra_env: str) -> Spawn:
    """The hook as Claude Code starts it: `/bin/sh -c '<command>'`, payload on stdin; the
    command `guard install` writes unless another is given."""
    env = ctx.env(lock_dir, CLAUDECODE="1", CLAUDE_CODE_SESSION_ID=session.id,
                  CLAUDE_PROJECT_DIR=str(session.project), CLAUDE_CODE_ENTRYPOINT="cli",
                  **extra_env)
    return Spawn([SH, "-c", command or ctx.hook_command], env, session.project, stdin)


def baseline_spawn(ctx: Context, like: Spawn) -> Spawn:
    """`python -c pass` from the same venv, started exactly like the hook it is compared to."""
    command = f"{shlex.quote(str(ctx.python))} -c pass"
    return Spawn([SH, "-c", command], like.env, like.cwd, like.stdin)


def prime(spawn: Spawn, check: Check, what: str) -> None:
    """An untimed call that sets up state (a holder's lease); it must do what it is for."""
    _, done = timed(spawn)
    problem = check(done)
    if problem is not None:
        raise RuntimeError(f"setting up {what}: {problem}")


def read_events(lock_dir: Path) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for name in ("events.jsonl.1", "events.jsonl"):
        with contextlib.suppress(FileNotFoundError):
            for line in (lock_dir / name).read_text(encoding="utf-8").splitlines():
                with contextlib.suppress(ValueError):
                    entry = json.loads(line)
                    if isinstance(entry, dict):
                        found.append(entry)
    return found


def count_events(lock_dir: Path, event: str) -> int:
    return sum(1 for entry in read_events(lock_dir) if entry.get("event") == event)


# ---- results -------------------------------------------------------------------------------


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class GroupResult:
    key: str
    tables: list[Table]
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    limit: float
    stretch: float | None = None
    unit: str = "x"

    def verdict(self, value: float) -> str:
        text = f"<= {self.limit:g}{self.unit}"
        if self.stretch is not None:
            text += f" (stretch {self.stretch:g}{self.unit})"
        if math.isnan(value):
            return text
        met = "ok" if value <= self.limit else "OVER"
        if self.stretch is not None and value <= self.stretch:
            met = "ok, stretch met"
        return f"{text}: {met}"


def problem_notes(cases: Sequence[Case]) -> list[str]:
    notes = []
    for case in cases:
        if case.problems:
            notes.append(f"PROBLEM {case.label}: {len(case.problems)} unexpected answers, "
                         f"first: {case.problems[0]}")
    return notes


def case_raw(cases: Sequence[Case]) -> dict[str, Any]:
    return {c.label: {**c.stats.as_dict(), "samples_ms": [round(s, 3) for s in c.samples],
                      "problems": c.problems[:20]} for c in cases}


def ratio_rows(cases: Sequence[Case], base: Case) -> tuple[list[list[str]], dict[str, float]]:
    """One row per case: its spread, and the ratio of its median to the baseline's median."""
    rows, ratios = [], {}
    for case in cases:
        stats = case.stats
        ratio = stats.median / base.stats.median
        ratios[case.label] = ratio
        rows.append([case.label, ms(stats.median), ms(stats.p10), ms(stats.p90),
                     f"{ratio:.2f}x", case.target.verdict(ratio) if case.target else ""])
    return rows, ratios


# ---- group: the Claude Code hook -----------------------------------------------------------

STEADY = "PreToolUse Edit, holder, steady state (default refresh interval)"
CONSOLE = "same, through pip's console script `<venv>/bin/guard hook` (older installs)"
PLAIN_I = "same, `python -I -c 'from worktree_guard.entry import main; main()' hook`"
STEADY0 = "PreToolUse Edit, holder, GUARD_REFRESH_INTERVAL_MS=0"
ACQUIRE = "PreToolUse Edit, first acquire (free tree)"
DENY = "PreToolUse Edit, deny (another session holds)"
READ_ONLY = "PreToolUse Bash `git status` (read-only)"
READ_ONLY_SHORT = "PreToolUse Bash `git status --short` (read-only)"
MUTATING = "PreToolUse Bash `cd src && sed -i s/a/b/ lib.py`, holder"
POST = "PostToolUse Edit, holder"
END = "SessionEnd (releases the first-acquire lease)"


def claude_group(ctx: Context, plan: Plan) -> GroupResult:
    repo = make_repo(ctx, "claude-repo")
    target_file = repo / "README.md"
    holder, fresh, other, denied = (Session.new(repo) for _ in range(4))
    steady_dir, steady0_dir, acquire_dir, deny_dir = (
        ctx.tmp / f"claude-locks-{n}" for n in ("steady", "steady0", "acquire", "deny"))

    def pre(lock_dir: Path, session: Session, **env: str) -> Spawn:
        stdin = payload(ctx, session, "PreToolUse", repo, **edit_call(target_file))
        return hook_spawn(ctx, lock_dir, session, stdin, None, **env)

    steady = pre(steady_dir, holder)
    prime(steady, expect_allow, "the holder's lease")
    prime(pre(steady0_dir, holder), expect_allow, "the holder's lease")
    prime(pre(deny_dir, other), expect_allow, "the other session's lease")
    read_only = payload(ctx, holder, "PreToolUse", repo, **bash_call("git status"))
    read_only_short = payload(ctx, holder, "PreToolUse", repo,
                              **bash_call("git status --short"))
    (repo / "src").mkdir(exist_ok=True)
    (repo / "src" / "lib.py").write_text("a = 1\n")
    mutating = payload(ctx, holder, "PreToolUse", repo,
                       **bash_call("cd src && sed -i s/a/b/ lib.py"))
    post = payload(ctx, holder, "PostToolUse", repo, **edit_result(target_file))
    end = payload(ctx, fresh, "SessionEnd", repo, reason="other")
    python = shlex.quote(str(ctx.python))
    plain_i = f"{python} -I -c 'from worktree_guard.entry import main; main()' hook"
    steady_stdin = payload(ctx, holder, "PreToolUse", repo, **edit_call(target_file))
    cases = [
        Case("/bin/sh -c true (floor)", Spawn([SH, "-c", "true"], steady.env, repo, steady.stdin),
             exited_clean),
        Case("python -I -S -c pass", Spawn([SH, "-c", f"{python} -I -S -c pass"], steady.env,
                                           repo, steady.stdin), exited_clean),
        Case(BASELINE, baseline_spawn(ctx, steady), exited_clean),
        # The holder's PreToolUse and PostToolUse share one lease, as in a session.
        Case(STEADY, steady, expect_allow, target=Target(1.25)),
        Case(CONSOLE, hook_spawn(ctx, steady_dir, holder, steady_stdin,
                                 f"{shlex.quote(str(ctx.guard))} hook"), expect_allow),
        Case(PLAIN_I, hook_spawn(ctx, steady_dir, holder, steady_stdin, plain_i), expect_allow),
        Case(STEADY0, pre(steady0_dir, holder, GUARD_REFRESH_INTERVAL_MS="0"), expect_allow),
        Case(ACQUIRE, pre(acquire_dir, fresh), expect_allow, target=Target(1.35)),
        Case(DENY, pre(deny_dir, denied), expect_deny_by(other.id), target=Target(1.35)),
        Case(READ_ONLY, hook_spawn(ctx, steady_dir, holder, read_only), expect_allow),
        Case(READ_ONLY_SHORT, hook_spawn(ctx, steady_dir, holder, read_only_short),
             expect_allow),
        Case(MUTATING, hook_spawn(ctx, steady_dir, holder, mutating), expect_allow),
        Case(POST, hook_spawn(ctx, steady_dir, holder, post), expect_allow),
        # Runs after ACQUIRE in every round: each is the other's untimed reset.
        Case(END, hook_spawn(ctx, acquire_dir, fresh, end), exited_clean),
    ]
    measured = round_robin(cases, plan.claude)
    rows, ratios = ratio_rows(cases, cases[2])
    notes = [*rounds_note(measured, plan.claude), *problem_notes(cases),
             *lease_audit(acquire_dir, measured + plan.claude.warmup),
             f"the command `guard install` writes: {ctx.hook_command}"]
    title = (f"Claude Code hook: `/bin/sh -c '<the command guard install writes>'`, payload "
             f"on stdin; {measured} rounds, ms")
    table = Table(title, ["case", "median", "p10", "p90", "vs python", "target"], rows, notes)
    return GroupResult("claude", [table], {"cases": case_raw(cases), "ratios": ratios})


def lease_audit(lock_dir: Path, calls: int) -> list[str]:
    """First acquire and SessionEnd reset each other: both must really have happened."""
    acquired, released = count_events(lock_dir, "acquired"), count_events(lock_dir, "released")
    ok = "ok" if acquired == released == calls else "PROBLEM"
    return [f"first acquire / SessionEnd: {acquired} `acquired` and {released} `released` "
            f"events for {calls} calls each: {ok}"]


# ---- group: git with guard's hooks ---------------------------------------------------------


def guard_install(ctx: Context, repo: Path, strict: bool = False) -> None:
    """`guard install --no-claude` (git hooks only), `--strict` for prepare-commit-msg and
    reference-transaction too: the shims exactly as an installed repository has them."""
    args = [str(ctx.guard), "install", "--no-claude", *(["--strict"] if strict else [])]
    done = subprocess.run(args, cwd=repo, env=ctx.env(ctx.tmp / "setup-locks"),
                          capture_output=True, check=False)
    if done.returncode != 0:
        raise Skip(f"guard install failed: {_first_line(done.stderr)}")


@dataclass(frozen=True)
class GitEnvs:
    person: dict[str, str]
    agent: dict[str, str]
    agent_id: str


def git_envs(ctx: Context, lock_dir: Path) -> GitEnvs:
    """A person's shell, and the Bash tool of an agent session (what Claude Code exports)."""
    agent_id = str(uuid.uuid4())
    person = ctx.env(lock_dir)
    agent = ctx.env(lock_dir, CLAUDECODE="1", CLAUDE_CODE_SESSION_ID=agent_id, GIT_EDITOR="true")
    return GitEnvs(person, agent, agent_id)


def git_spawn(ctx: Context, repo: Path, env: dict[str, str], *args: str) -> Spawn:
    return Spawn([ctx.git, *args], env, repo)


def smoke_test(ctx: Context, repo: Path, envs: GitEnvs, lock_dir: Path) -> None:
    """An agent commit in a hooked repository must take the lease, or the numbers mean nothing."""
    _, done = timed(git_spawn(ctx, repo, envs.agent, "commit", "-q", "--allow-empty", "-m", "s"))
    if done.returncode != 0:
        raise Skip(f"an agent commit with guard's hooks failed: {_first_line(done.stderr)}")
    if not any(e.get("event") == "acquired" and e.get("hook") for e in read_events(lock_dir)):
        raise Skip("guard's git hooks are installed, but an agent commit took no lease "
                   "(`guard git-hook` did not run or did not log)")


def push_repo(ctx: Context, name: str, hooked: bool) -> Path:
    remote = ctx.tmp / f"{name}-remote.git"
    subprocess.run([ctx.git, "init", "-q", "--bare", str(remote)], check=True,
                   env=ctx.env(ctx.tmp / "setup-locks"))
    repo = make_repo(ctx, name)
    run_git(ctx, repo, "remote", "add", "origin", str(remote))
    run_git(ctx, repo, "push", "-q", "-u", "origin", "main")
    if hooked:
        guard_install(ctx, repo)
    return repo


def new_commit(ctx: Context, repo: Path, no_hooks: Path) -> Callable[[], None]:
    """Untimed: one more commit to push (hooks off, so the set-up costs no guard start)."""
    def commit() -> None:
        run_git(ctx, repo, "-c", f"core.hooksPath={no_hooks}", "commit", "-q", "--allow-empty",
                "-m", "next")

    return commit


def flip_ref(ctx: Context, repo: Path, spawn: Spawn) -> Callable[[], None]:
    """Untimed: point the next `update-ref` at the other of two commits, so the ref moves."""
    first = run_git(ctx, repo, "rev-parse", "HEAD")
    second = run_git(ctx, repo, "commit-tree", "HEAD^{tree}", "-p", "HEAD", "-m", "other")
    shas = [first, second]

    def flip() -> None:
        shas.reverse()
        spawn.argv[-1] = shas[0]

    return flip


def update_ref_case(ctx: Context, label: str, repo: Path, env: dict[str, str],
                    base: Case | None) -> Case:
    spawn = git_spawn(ctx, repo, env, "update-ref", "refs/heads/bench-x", "0" * 40)
    return Case(label, spawn, git_ok, before=flip_ref(ctx, repo, spawn), compare_to=base)


def git_group(ctx: Context, plan: Plan) -> GroupResult:
    return as_person(_git_group, ctx, plan)


def as_person(group: Callable[[Context, Plan], GroupResult], ctx: Context,
              plan: Plan) -> GroupResult:
    """Run a group whose person cases must not run under the bench's own name: a process
    with `claude` among its ancestors is an agent whatever its environment says. The agent
    cases are then agents by their session variable alone (their record names no holder)."""
    name_self_claude(b"guard-bench")
    try:
        return group(ctx, plan)
    finally:
        name_self_claude()


def _git_group(ctx: Context, plan: Plan) -> GroupResult:
    lock_dir = ctx.tmp / "git-locks"
    envs = git_envs(ctx, lock_dir)
    plain, person, agent, strict_person, strict_agent = (
        make_repo(ctx, f"git-{n}")
        for n in ("plain", "person", "agent", "strict-person", "strict-agent"))
    for repo in (person, agent):
        guard_install(ctx, repo)
    for repo in (strict_person, strict_agent):
        guard_install(ctx, repo, strict=True)
    smoke_test(ctx, agent, envs, lock_dir)
    smoke_test(ctx, strict_agent, envs, lock_dir)
    push_plain, push_person = push_repo(ctx, "push-plain", False), push_repo(ctx, "push-person",
                                                                           True)
    push_agent = push_repo(ctx, "push-agent", True)
    no_hooks = ctx.folder("no-hooks")

    def commit(label: str, repo: Path, env: dict[str, str], base: Case | None) -> Case:
        spawn = git_spawn(ctx, repo, env, "commit", "-q", "--allow-empty", "-m", "x")
        target = Target(1, unit=" starts") if base else None
        return Case(label, spawn, git_ok, target=target, compare_to=base)

    def push(label: str, repo: Path, env: dict[str, str], base: Case | None) -> Case:
        return Case(label, git_spawn(ctx, repo, env, "push", "-q", "origin", "main"), git_ok,
                    before=new_commit(ctx, repo, no_hooks), compare_to=base,
                    target=Target(2, unit=" starts") if base else None)

    start = Case("python -c pass (1 interpreter start)",
                 Spawn([str(ctx.python), "-c", "pass"], envs.person, plain), exited_clean)
    commit_base = commit("commit, no hooks", plain, envs.person, None)
    push_base = push("push, no hooks", push_plain, envs.person, None)
    ref_base = update_ref_case(ctx, "update-ref, no hooks", plain, envs.person, None)
    cases = [
        start,
        commit_base,
        commit("commit + hooks, person", person, envs.person, commit_base),
        commit("commit + hooks, agent holding the lease", agent, envs.agent, commit_base),
        push_base,
        push("push + hooks, person", push_person, envs.person, push_base),
        push("push + hooks, agent holding the lease", push_agent, envs.agent, push_base),
        ref_base,
        update_ref_case(ctx, "update-ref + hooks, person", person, envs.person, ref_base),
        update_ref_case(ctx, "update-ref + hooks, agent holding the lease", agent, envs.agent,
                        ref_base),
        update_ref_case(ctx, "update-ref + strict hooks, person", strict_person, envs.person,
                        ref_base),
        update_ref_case(ctx, "update-ref + strict hooks, agent holding the lease", strict_agent,
                        envs.agent, ref_base),
    ]
    measured = round_robin(cases, plan.git)
    return git_result(cases, start, measured, plan, lock_dir)


def git_result(cases: Sequence[Case], start: Case, measured: int, plan: Plan,
               lock_dir: Path) -> GroupResult:
    """Extra cost of guard's hooks, in ms and in interpreter starts (python -c pass)."""
    unit = start.stats.median
    rows, extras = [], {}
    for case in cases:
        stats = case.stats
        row = [case.label, ms(stats.median), ms(stats.p10), ms(stats.p90), "", "", ""]
        if case.compare_to is not None:
            extra = stats.median - case.compare_to.stats.median
            extras[case.label] = {"extra_ms": extra, "extra_starts": extra / unit}
            row[4:6] = [f"{extra:+.1f}", f"{extra / unit:+.2f}"]
            row[6] = case.target.verdict(extra / unit) if case.target else ""
        rows.append(row)
    takes, denials = count_events(lock_dir, "acquired"), count_events(lock_dir, "denied")
    verdict = "ok" if (takes, denials) == (3, 0) else "PROBLEM"
    notes = [*rounds_note(measured, plan.git), *problem_notes(cases),
             f"agent leases taken: {takes} (3 expected: the two smoke-test commits and the first "
             f"agent push), refusals: {denials}: {verdict}"]
    title = (f"git with guard's hooks (as `guard install` writes them; update-ref also with "
             f"`--strict`) vs without; {measured} rounds, ms; extra starts = extra ms / "
             f"python -c pass")
    headers = ["case", "median", "p10", "p90", "extra ms", "extra starts", "target"]
    return GroupResult("git", [Table(title, headers, rows, notes)],
                       {"cases": case_raw(cases), "extra": extras})


# ---- group: git work of any size -----------------------------------------------------------

STACK, TAGS = 200, 2000


def stack_seed(ctx: Context) -> Path:
    """`main` plus a branch `stack` of STACK commits on top, checked out, no hooks."""
    repo = make_repo(ctx, "bulk-seed")
    run_git(ctx, repo, "checkout", "-q", "-b", "stack")
    for number in range(STACK):
        (repo / "stack.txt").write_text(f"{number}\n", encoding="utf-8")
        run_git(ctx, repo, "add", "stack.txt")
        run_git(ctx, repo, "commit", "-q", "-m", f"stack {number}")
    return repo


def stack_repo(ctx: Context, seed: Path, name: str, install: str | None) -> Path:
    """A copy of the seed; `install` is None (no hooks), "default", "strict", or "true":
    `/bin/true` as the only hook, prepare-commit-msg (what git's own hook runs cost)."""
    repo = ctx.tmp / name
    shutil.copytree(seed, repo, symlinks=True)
    if install == "true":
        true = shutil.which("true") or "/bin/true"
        (repo / ".git" / "hooks" / "prepare-commit-msg").symlink_to(true)
    elif install is not None:
        guard_install(ctx, repo, strict=install == "strict")
    return repo


def tag_source(ctx: Context) -> Path:
    """A bare repository with TAGS lightweight tags, written in one transaction."""
    source = ctx.tmp / "tag-source.git"
    subprocess.run([ctx.git, "init", "-q", "--bare", str(source)], check=True,
                   env=ctx.env(ctx.tmp / "setup-locks"))
    seed = make_repo(ctx, "tag-seed")
    run_git(ctx, seed, "push", "-q", str(source), "main")
    sha = run_git(ctx, seed, "rev-parse", "HEAD")
    lines = "".join(f"create refs/tags/t{n:05d} {sha}\n" for n in range(TAGS))
    subprocess.run([ctx.git, "update-ref", "--stdin"], input=lines.encode(), cwd=source,
                   env=ctx.env(ctx.tmp / "setup-locks"), check=True)
    return source


def drop_tags(ctx: Context, repo: Path, no_hooks: Path) -> Callable[[], None]:
    """Untimed: delete every tag (hooks off), so the next fetch brings TAGS new ones."""
    def drop() -> None:
        names = run_git(ctx, repo, "for-each-ref", "--format=%(refname)", "refs/tags")
        lines = "".join(f"delete {name}\n" for name in names.split())
        subprocess.run([ctx.git, "-c", f"core.hooksPath={no_hooks}", "update-ref", "--stdin"],
                       input=lines.encode(), cwd=repo, env=ctx.env(ctx.tmp / "setup-locks"),
                       check=True)

    return drop


BULK_TARGET = Target(1.5)
# Each kind is its own copy of the seed, and each is measured against itself with its hooks
# switched off (`-c core.hooksPath=<empty folder>`): copies of one repository differ by tens
# of percent on a shared disk (how much of each is still being written back), more than a
# hook that never runs costs, so a ratio across copies would measure the copy.
BULK_KINDS = (("default install, person", "default", False),
              ("default install, agent holding the lease", "default", True),
              ("strict install, person", "strict", False),
              ("strict install, agent holding the lease", "strict", True),
              ("no guard, `/bin/true` as prepare-commit-msg", "true", False))


def bulk_group(ctx: Context, plan: Plan) -> GroupResult:
    return as_person(_bulk_group, ctx, plan)


def _bulk_group(ctx: Context, plan: Plan) -> GroupResult:
    lock_dir = ctx.tmp / "bulk-locks"
    envs = git_envs(ctx, lock_dir)
    no_hooks = ctx.folder("bulk-hooks-off")
    source = tag_source(ctx)
    seed = stack_seed(ctx)
    rebases: list[Case] = []
    fetches: list[Case] = []
    hooks_off = ("-c", f"core.hooksPath={no_hooks}")
    for label, install, agent in BULK_KINDS:
        env = envs.agent if agent else envs.person
        repo = stack_repo(ctx, seed, "bulk-" + label.replace(" ", "-").replace(",", ""), install)
        if agent:
            smoke_test(ctx, repo, envs, lock_dir)  # the agent holds this tree
        target = BULK_TARGET if install == "default" else None
        rebase = ("rebase", "-q", "--force-rebase", "main")
        what = f"rebase --force-rebase of {STACK} commits, {label}"
        off = Case(f"{what}: hooks off", git_spawn(ctx, repo, env, *hooks_off, *rebase), git_ok)
        rebases += [off, Case(what, git_spawn(ctx, repo, env, *rebase), git_ok, target=target,
                              compare_to=off)]
        if install == "true":
            continue  # a fetch runs no prepare-commit-msg
        fetch = ("fetch", "-q", str(source), "refs/tags/*:refs/tags/*")
        what = f"fetch of {TAGS} new tags, {label}"
        off = Case(f"{what}: hooks off", git_spawn(ctx, repo, env, *hooks_off, *fetch), git_ok,
                   before=drop_tags(ctx, repo, no_hooks))
        fetches += [off, Case(what, git_spawn(ctx, repo, env, *fetch), git_ok,
                              before=drop_tags(ctx, repo, no_hooks), target=target,
                              compare_to=off)]
    cases = [*rebases, *fetches]
    measured = round_robin(cases, plan.bulk)
    rows, ratios = [], {}
    for case in cases:
        stats = case.stats
        base = case.compare_to or case
        ratio = stats.median / base.stats.median
        ratios[case.label] = ratio
        rows.append([case.label, ms(stats.median), ms(stats.p10), ms(stats.p90),
                     f"{ratio:.2f}x", case.target.verdict(ratio) if case.target else ""])
    denials = count_events(lock_dir, "denied")
    notes = [*rounds_note(measured, plan.bulk), *problem_notes(cases),
             f"refusals: {denials}: {'ok' if denials == 0 else 'PROBLEM'}"]
    title = (f"git work of any size: each case against the same work in the same repository "
             f"with its hooks off; {measured} rounds, ms")
    table = Table(title, ["case", "median", "p10", "p90", "vs hooks off", "target"], rows,
                  notes)
    return GroupResult("bulk", [table], {"cases": case_raw(cases), "ratios": ratios})


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
        raise RuntimeError(f"classifier timing: {_first_line(done.stderr)}")
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
        raise RuntimeError(_first_line(done.stderr) or f"exit {done.returncode}")
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


# ---- the machine ---------------------------------------------------------------------------


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def command_output(argv: Sequence[str], default: str = "unknown") -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=30)
    except OSError as exc:
        return f"{default} ({exc.strerror})"
    return done.stdout.strip() or default


def filesystem_of(path: Path) -> str:
    """The type of the file system holding `path` (lease writes are file system work)."""
    best, kind = "", "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/mounts").read_text().splitlines():
            fields = line.split()
            if len(fields) > 2 and str(path).startswith(fields[1]) and len(fields[1]) > len(best):
                best, kind = fields[1], fields[2]
    return kind


def machine_facts(ctx_python: Path) -> dict[str, str]:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    version = "import platform; print(platform.python_implementation(), platform.python_version())"
    return {
        "cpu": cpu_model(),
        "cores": f"{os.cpu_count()} ({usable} usable)",
        "python": command_output([str(ctx_python), "-c", version]),
        "git": command_output(["git", "--version"]).removeprefix("git version "),
        "kernel": f"{platform.system()} {platform.release()}",
        "load average at start": load,
        "temp file system": filesystem_of(Path(tempfile.gettempdir()).resolve()),
        "worktree-guard": code_version(),
    }


def code_version() -> str:
    """The commit measured, and whether the package or the shims differ from it (new
    files included, which `git describe --dirty` would not notice)."""
    commit = command_output(["git", "-C", str(ROOT), "describe", "--always"])
    changes = command_output(["git", "-C", str(ROOT), "status", "--porcelain", "--", "src",
                              "git-hooks"], default="")
    return f"{commit} + uncommitted changes in src/ or git-hooks/" if changes else commit


def compile_bytecode(python: Path) -> None:
    """Compile the measured package's bytecode, as `pip install` does: a development shell
    may set PYTHONDONTWRITEBYTECODE, and an editable install's source folder would then have
    none, so every hook would compile its modules (the launcher's -I would write them on the
    first call, the console script never)."""
    where = "import os, worktree_guard; print(os.path.dirname(worktree_guard.__file__))"
    folder = command_output([str(python), "-c", where])
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    subprocess.run([str(python), "-m", "compileall", "-q", folder], env=env,
                   capture_output=True, check=False)


def package_sources(python: Path) -> dict[str, tuple[int, int]]:
    """(mtime, size) of each source file of the measured package: an edit during the run
    makes some calls compile bytecode, which the numbers would then include."""
    where = "import os, worktree_guard; print(os.path.dirname(worktree_guard.__file__))"
    folder = Path(command_output([str(python), "-c", where]))
    found = {}
    for path in folder.rglob("*.py"):
        with contextlib.suppress(OSError):
            stat = path.stat()
            found[str(path.relative_to(folder))] = (stat.st_mtime_ns, stat.st_size)
    return found


# ---- rendering -----------------------------------------------------------------------------


def render_text(facts: dict[str, str], results: Sequence[GroupResult], took: float) -> str:
    lines = ["worktree-guard benchmark", *(f"  {k}: {v}" for k, v in facts.items()),
             f"  run took: {took:.0f} s", ""]
    for result in results:
        for table in result.tables:
            lines += [table.title, *text_grid(table.headers, table.rows)]
            lines += [f"  - {note}" for note in table.notes] + [""]
    return "\n".join(lines)


def text_grid(headers: list[str], rows: list[list[str]]) -> list[str]:
    if not rows:
        return []
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [c.rjust(w) if c[:1].isdigit() or c[:1] in "+-" else c.ljust(w)
                for c, w in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join([first, *rest]).rstrip()

    return [line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)]


TEXT_COLUMNS = frozenset({"case", "module", "target"})


def render_markdown(facts: dict[str, str], results: Sequence[GroupResult], took: float) -> str:
    lines = [*(f"- {k}: {v}" for k, v in facts.items()), f"- run took: {took:.0f} s", ""]
    for result in results:
        for table in result.tables:
            lines += [f"**{table.title}**", ""]
            if table.rows:
                align = [":--" if h in TEXT_COLUMNS else "--:" for h in table.headers]
                lines.append("| " + " | ".join(table.headers) + " |")
                lines.append("|" + "|".join(align) + "|")
                lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |"
                          for r in table.rows]
                lines.append("")
            if table.notes:
                lines += [*(f"- {note}" for note in table.notes), ""]
    return "\n".join(lines)


# ---- driver --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """Iteration counts: the default run takes 2-4 minutes on 2 cores, --quick about 30 s."""

    claude: Rounds
    git: Rounds
    bulk: Rounds
    scaling: Rounds
    crowd: Rounds  # wanted: calls per session
    split: Rounds
    import_runs: int
    import_top: int = 12


FULL_PLAN = Plan(claude=Rounds(600, 90, 3), git=Rounds(200, 60, 3), bulk=Rounds(9, 240, 1),
                 scaling=Rounds(300, 35, 3),
                 crowd=Rounds(300, 40, 0), split=Rounds(150, 15, 3), import_runs=9)
QUICK_PLAN = Plan(claude=Rounds(80, 10, 1), git=Rounds(25, 7, 1), bulk=Rounds(1, 10, 0),
                  scaling=Rounds(50, 5, 1),
                  crowd=Rounds(30, 5, 0), split=Rounds(30, 3, 1), import_runs=3)
CROWD_BATCHES = 4

GROUPS: dict[str, Callable[[Context, Plan], GroupResult]] = {
    "claude": claude_group,
    "git": git_group,
    "bulk": bulk_group,
    "scaling": scaling_group,
    "concurrency": concurrency_group,
    "imports": imports_group,
    "classifier": classifier_group,
    "classifier-calls": classifier_calls_group,
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

"""What every group shares: statistics, one timed process, the checks of an answer,
the sandbox, Claude Code payloads, results and the plan of a run.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import math
import os
import secrets
import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

from tests import repos

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


def first_line(data: bytes) -> str:
    text = data.decode("utf-8", "replace").strip()
    return text.splitlines()[0][:160] if text else ""


def exited_clean(done: Done) -> str | None:
    """Exit 0 and silence on stderr: guard reports internal errors (and fails open) there."""
    if done.returncode != 0:
        return f"exit {done.returncode}: {first_line(done.stderr)}"
    if done.stderr.strip():
        return f"stderr: {first_line(done.stderr)}"
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
        problem = f"expected allow, got {decision(done)}: {first_line(done.stdout)}"
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
        return f"exit {done.returncode}: {first_line(done.stderr)}"
    if b"worktree-guard" in done.stderr:
        return f"guard said: {first_line(done.stderr)}"
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
    return repos.git(repo, *args, env=ctx.env(ctx.tmp / "setup-locks"), exe=ctx.git,
                     timeout=None)


def make_repo(ctx: Context, name: str) -> Path:
    return repos.make_repo(ctx.folder(name), env=ctx.env(ctx.tmp / "setup-locks"), exe=ctx.git,
                           readme="README.md", text="bench\n", message="init", timeout=None)


def make_bare(ctx: Context, name: str) -> Path:
    return repos.make_bare(ctx.tmp / name, env=ctx.env(ctx.tmp / "setup-locks"), exe=ctx.git,
                           timeout=None)


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
        raise RuntimeError(f"guard install: {first_line(done.stderr)}")
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

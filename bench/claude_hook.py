"""Group claude: the `guard hook` events, through the exact command `guard install` writes.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from bench.common import (
    BASELINE,
    SH,
    Case,
    Context,
    GroupResult,
    Plan,
    Session,
    Spawn,
    Table,
    Target,
    baseline_spawn,
    bash_call,
    case_raw,
    count_events,
    edit_call,
    edit_result,
    exited_clean,
    expect_allow,
    expect_deny_by,
    hook_spawn,
    make_repo,
    payload,
    prime,
    problem_notes,
    ratio_rows,
    round_robin,
    rounds_note,
)

# ---- group: the Claude Code hook -----------------------------------------------------------

STEADY = "PreToolUse Edit, holder, steady state (default refresh interval)"
CONSOLE = "same, through pip's console script `<venv>/bin/guard hook` (GUARD_BIN installs)"
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



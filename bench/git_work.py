"""Groups git and bulk: commit, push and update-ref with guard's git hooks as `guard install`
writes them, and git work of any size (a rebase of 200 commits, a fetch of 2,000 tags).
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.common import (
    Case,
    Context,
    GroupResult,
    Plan,
    Skip,
    Spawn,
    Table,
    Target,
    case_raw,
    count_events,
    exited_clean,
    first_line,
    git_ok,
    make_bare,
    make_repo,
    ms,
    name_self_claude,
    problem_notes,
    read_events,
    round_robin,
    rounds_note,
    run_git,
    timed,
)

# ---- group: git with guard's hooks ---------------------------------------------------------


def guard_install(ctx: Context, repo: Path, strict: bool = False) -> None:
    """`guard install --no-claude` (git hooks only), `--strict` for prepare-commit-msg and
    reference-transaction too: the shims exactly as an installed repository has them."""
    args = [str(ctx.guard), "install", "--no-claude", *(["--strict"] if strict else [])]
    done = subprocess.run(args, cwd=repo, env=ctx.env(ctx.tmp / "setup-locks"),
                          capture_output=True, check=False)
    if done.returncode != 0:
        raise Skip(f"guard install failed: {first_line(done.stderr)}")


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
        raise Skip(f"an agent commit with guard's hooks failed: {first_line(done.stderr)}")
    if not any(e.get("event") == "acquired" and e.get("hook") for e in read_events(lock_dir)):
        raise Skip("guard's git hooks are installed, but an agent commit took no lease "
                   "(`guard git-hook` did not run or did not log)")


def push_repo(ctx: Context, name: str, hooked: bool) -> Path:
    remote = make_bare(ctx, f"{name}-remote.git")
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
    # The branch lease on the remote is the `remote` group's row; this one stays the local checks.
    run_git(ctx, push_agent, "config", "guard.remoteLease", "false")
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
    source = make_bare(ctx, "tag-source.git")
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



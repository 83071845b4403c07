"""Pure rules for the git hooks: parsed hook input and found facts in, verdicts and text out.

No I/O here: `git/hook.py` reads stdin, the lease and git; `git/facts.py` asks git about
objects and config. Whether an agent may act at all is the lease's question, answered by
`LeaseStore.acquire` exactly as for the Claude hook (free: take it; own: refresh; other: busy).
On the commit-time path like the rest of the hooks: no `enum`, `dataclasses` or `re`.
"""

from __future__ import annotations

from worktree_guard.core.decide import (
    HolderFacts,
    HumanPolicy,
    LeaseState,
    describe_holder,
    parse_human_policy,
)
from worktree_guard.core.printable import printable
from worktree_guard.lite.kinds import Kind

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import ClassVar

DEFAULT_PROTECTED: tuple[str, ...] = ("main", "master", "deploy*", "release*", "production")
HEADS = "refs/heads/"
TAGS = "refs/tags/"
DELETE_LOCAL_REF = "(delete)"
_HEX = frozenset("0123456789abcdef")

WAY_OUT_AGENT = (
    "Wait for that session to finish, or work in a separate worktree (in Claude Code, the "
    "EnterWorktree tool; or `git worktree add ../<name> -b <branch>`, then "
    "`git -C ../<name> ...`); if that session is gone, a person can free the tree with "
    "`guard release --force`."
)


class Verdict(Kind):
    __slots__ = ()
    ALLOW: ClassVar[Verdict]
    WARN: ClassVar[Verdict]  # allowed, with a line on stderr
    REFUSE: ClassVar[Verdict]


Verdict.ALLOW = Verdict("allow")
Verdict.WARN = Verdict("warn")
Verdict.REFUSE = Verdict("refuse")


def is_zero(sha: str) -> bool:
    """The all-zero object name git uses for "no object" (40 or 64 digits)."""
    return bool(sha) and sha.strip("0") == ""


# ---- reference-transaction --------------------------------------------------------------


class RefUpdate:
    __slots__ = ("new", "old", "ref")

    def __init__(self, old: str, new: str, ref: str) -> None:
        self.old, self.new, self.ref = old, new, ref

    @property
    def creates(self) -> bool:
        return is_zero(self.old) and not is_zero(self.new)

    @property
    def moves(self) -> bool:
        """False for a rewrite to the same object (`reset --hard` to HEAD, `stash`); a zero
        old value means "not known" (a deletion of a packed ref), which may move."""
        return self.old != self.new or is_zero(self.new)


def is_object_name(text: str) -> bool:
    return len(text) in (40, 64) and all(c in _HEX for c in text)


def parse_ref_updates(text: str) -> list[RefUpdate]:
    """`<old> <new> <ref>` lines of reference-transaction's stdin; other lines are skipped.

    Skipped on purpose: symbolic-ref updates (`ref:<target>` values, reported by newer git
    for a checkout's switch of HEAD). A checkout rewrites the files before it moves HEAD, so
    refusing the move would leave the files of one branch under the name of another;
    post-checkout reports the switch instead, and the holder is told before its next action.
    """
    updates = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and is_object_name(parts[0]) and is_object_name(parts[1]):
            updates.append(RefUpdate(*parts))
    return updates


def is_tree_ref(ref: str) -> bool:
    """Refs that move what a working tree is on: its HEAD and the local branches."""
    return ref == "HEAD" or ref.startswith(HEADS)


def tree_ref_updates(updates: list[RefUpdate]) -> list[RefUpdate]:
    """The updates worth a decision: HEAD or a branch actually moving."""
    return [u for u in updates if is_tree_ref(u.ref) and u.moves]


def only_new_branches(updates: list[RefUpdate]) -> bool:
    """Every update creates a branch that did not exist: HEAD and existing branches untouched."""
    return bool(updates) and all(u.ref.startswith(HEADS) and u.creates for u in updates)


# ---- people ----------------------------------------------------------------------------------


def person_verdict(state: LeaseState, policy: HumanPolicy) -> Verdict:
    """A person acting in a tree: only a tree held by a live session is worth a word."""
    if state is not LeaseState.HELD_BY_OTHER or policy is HumanPolicy.ALLOW:
        return Verdict.ALLOW
    return Verdict.REFUSE if policy is HumanPolicy.DENY else Verdict.WARN


# ---- pre-push ---------------------------------------------------------------------------


class PushKind(Kind):
    __slots__ = ()
    CREATE: ClassVar[PushKind]
    DELETE: ClassVar[PushKind]
    UPDATE: ClassVar[PushKind]


PushKind.CREATE = PushKind("create")
PushKind.DELETE = PushKind("delete")
PushKind.UPDATE = PushKind("update")
ALL_PUSH_KINDS = (PushKind.CREATE, PushKind.DELETE, PushKind.UPDATE)


class PushUpdate:
    __slots__ = ("local_ref", "local_sha", "remote_ref", "remote_sha")

    def __init__(self, local_ref: str, local_sha: str, remote_ref: str, remote_sha: str) -> None:
        self.local_ref, self.local_sha = local_ref, local_sha
        self.remote_ref, self.remote_sha = remote_ref, remote_sha

    @property
    def kind(self) -> PushKind:
        if is_zero(self.local_sha) or self.local_ref == DELETE_LOCAL_REF:
            return PushKind.DELETE
        return PushKind.CREATE if is_zero(self.remote_sha) else PushKind.UPDATE


def parse_push_lines(text: str) -> list[PushUpdate]:
    """pre-push stdin: `<local ref> <local sha> <remote ref> <remote sha>` a line."""
    updates = []
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 4:
            raise ValueError(f"unexpected pre-push line: {line[:200]!r}")
        updates.append(PushUpdate(*parts))
    return updates


_NO_SHA = "0" * 40


def framework_push_line(env: Mapping[str, str]) -> str:
    """The pre-push line the pre-commit framework does not pass on stdin, rebuilt from the
    PRE_COMMIT_* variables it sets instead ("" when they are not there)."""
    local_sha = env.get("PRE_COMMIT_TO_REF", "").strip()
    if not local_sha:
        return ""
    local_ref = env.get("PRE_COMMIT_LOCAL_BRANCH", "").strip() or "HEAD"
    remote_ref = env.get("PRE_COMMIT_REMOTE_BRANCH", "").strip() or local_ref
    remote_sha = env.get("PRE_COMMIT_FROM_REF", "").strip() or _NO_SHA
    return f"{local_ref} {local_sha} {remote_ref} {remote_sha}\n"


class Ancestry(Kind):
    """How the pushed commit relates to the one the remote ref points at."""

    __slots__ = ()
    FAST_FORWARD: ClassVar[Ancestry]  # the remote's commit is an ancestor of the pushed one
    DIVERGED: ClassVar[Ancestry]  # it is not: the push would drop remote commits
    UNKNOWN_REMOTE: ClassVar[Ancestry]  # the remote's object is not here: cannot be proved


Ancestry.FAST_FORWARD = Ancestry("fast_forward")
Ancestry.DIVERGED = Ancestry("diverged")
Ancestry.UNKNOWN_REMOTE = Ancestry("unknown_remote")
ALL_ANCESTRIES = (Ancestry.FAST_FORWARD, Ancestry.DIVERGED, Ancestry.UNKNOWN_REMOTE)


class ForcePushPolicy(Kind):
    __slots__ = ()
    NEVER: ClassVar[ForcePushPolicy]
    HOLDER: ClassVar[ForcePushPolicy]


ForcePushPolicy.NEVER = ForcePushPolicy("never")
ForcePushPolicy.HOLDER = ForcePushPolicy("holder")


class GitGuardConfig:
    """The `guard.*` keys of git config, with their defaults."""

    __slots__ = ("allow_force_push", "fail_closed", "human_policy", "protected",
                 "remote_lease", "remote_lease_ttl_s")

    def __init__(
        self,
        protected: tuple[str, ...] = DEFAULT_PROTECTED,
        allow_force_push: ForcePushPolicy = ForcePushPolicy.NEVER,
        human_policy: HumanPolicy = HumanPolicy.WARN,
        fail_closed: bool = False,
        remote_lease: bool = True,
        remote_lease_ttl_s: int | None = None,
    ) -> None:
        self.protected = protected
        self.allow_force_push = allow_force_push
        self.human_policy = human_policy
        self.fail_closed = fail_closed
        # guard.remoteLease=false: no branch lease on remotes (git/remote_push.py)
        self.remote_lease = remote_lease
        self.remote_lease_ttl_s = remote_lease_ttl_s


def _config_bool(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


def parse_guard_config(entries: list[tuple[str, str]]) -> GitGuardConfig:
    """(key, value) pairs as `git config --get-regexp` prints them (keys lower-cased by git).
    The last value of a key wins, as with `git config --get`."""
    values = {key.lower(): value for key, value in entries}
    protected = DEFAULT_PROTECTED
    if "guard.protectedbranches" in values:
        protected = tuple(values["guard.protectedbranches"].split())
    force = values.get("guard.allowforcepush", "").strip().lower()
    human = values.get("guard.humanpolicy")  # anything unknown means the default, warn
    return GitGuardConfig(
        protected=protected,
        allow_force_push=ForcePushPolicy.HOLDER if force == "holder" else ForcePushPolicy.NEVER,
        human_policy=parse_human_policy(human),
        fail_closed=_config_bool(values.get("guard.failclosed", "")),
        remote_lease=values.get("guard.remotelease", "").strip().lower()
        not in ("false", "no", "off", "0"),
        remote_lease_ttl_s=_positive_int(values.get("guard.remoteleasettl", "")),
    )


def _positive_int(text: str) -> int | None:
    try:
        value = int(text.strip())
    except ValueError:
        return None
    return value if value > 0 else None


def protected_branch(remote_ref: str, patterns: tuple[str, ...]) -> str | None:
    """The branch name when `remote_ref` is a branch matching a protected pattern."""
    if not remote_ref.startswith(HEADS):
        return None
    name = remote_ref[len(HEADS) :]
    return name if any(_glob_match(name, p) for p in patterns) else None


def _glob_match(name: str, pattern: str) -> bool:
    """`fnmatch.fnmatchcase`, without importing it for the patterns that need no `re`: only
    `*`, `?` and `[` are special to fnmatch, and a pattern whose only wildcard is `*` (all
    the default ones) is matched here; the others go to fnmatch (which pulls in `re` and
    `enum`: about an interpreter start on a hook's path)."""
    if "?" in pattern or "[" in pattern:
        import fnmatch

        return fnmatch.fnmatchcase(name, pattern)
    if "*" not in pattern:
        return name == pattern
    first, *middle, last = pattern.split("*")
    if len(name) < len(first) + len(last):
        return False
    if not (name.startswith(first) and name.endswith(last)):
        return False
    at, end = len(first), len(name) - len(last)
    for part in middle:  # each piece between stars, leftmost first, within what is left
        found = name.find(part, at, end)
        if found < 0:
            return False
        at = found + len(part)
    return True


class Problem(Kind):
    """Why an agent may not push one ref."""

    __slots__ = ()
    DELETES_PROTECTED: ClassVar[Problem]
    REWRITES_PROTECTED: ClassVar[Problem]
    REWRITES: ClassVar[Problem]  # a non-fast-forward elsewhere, without allowForcePush=holder


Problem.DELETES_PROTECTED = Problem("deletes_protected")
Problem.REWRITES_PROTECTED = Problem("rewrites_protected")
Problem.REWRITES = Problem("rewrites")


class PushProblem:
    __slots__ = ("problem", "ref", "why")

    def __init__(self, ref: str, problem: Problem, why: str) -> None:
        self.ref, self.problem, self.why = ref, problem, why


def push_problem(
    update: PushUpdate, ancestry: Ancestry | None, holder: bool,
    config: Callable[[], GitGuardConfig],
) -> PushProblem | None:
    """Why an agent's push of this one ref is refused (None: allowed). `holder` is whether the
    agent holds the tree; a non-holder is refused as a whole before these rules apply.
    `config` is called only when the answer depends on it (a deletion, a push that is not a
    fast-forward): reading git's config is a process, which a fast-forward never needs."""
    ref = update.remote_ref
    kind = update.kind
    if kind is PushKind.DELETE:
        protected = protected_branch(ref, config().protected)
        if protected is None:
            return None
        return PushProblem(ref, Problem.DELETES_PROTECTED, f"deletes protected branch {protected}")
    if kind is PushKind.CREATE or ancestry is Ancestry.FAST_FORWARD:
        return None
    settings = config()
    protected = protected_branch(ref, settings.protected)
    why = (
        "the remote has a commit this repository does not have, so it is not a fast-forward"
        if ancestry is Ancestry.UNKNOWN_REMOTE
        else "not a fast-forward: it would drop commits from the remote"
    )
    if protected is not None:
        return PushProblem(ref, Problem.REWRITES_PROTECTED,
                           f"{why}, and {protected} is a protected branch")
    if holder and settings.allow_force_push is ForcePushPolicy.HOLDER:
        return None
    return PushProblem(ref, Problem.REWRITES,
                       f"{why} (guard.allowForcePush={settings.allow_force_push.value})")


# ---- messages ---------------------------------------------------------------------------


def refused_by_holder(action: str, toplevel: str, facts: HolderFacts) -> str:
    """An agent that does not hold the tree: what was refused, who holds it, the way out."""
    return (
        f"worktree-guard: {action} refused: another session holds this working tree "
        f"({printable(toplevel)}): {describe_holder(facts)}. {WAY_OUT_AGENT}"
    )


def person_held_text(action: str, toplevel: str, facts: HolderFacts, verdict: Verdict) -> str:
    holder = describe_holder(facts)
    if verdict is Verdict.REFUSE:
        return (
            f"worktree-guard: {action} refused (guard.humanPolicy=deny): another session holds "
            f"this working tree ({printable(toplevel)}): {holder}. Wait for it to finish, or "
            "work in a "
            "separate worktree; if that session is gone, `guard release --force` frees the tree."
        )
    return (
        f"worktree-guard: warning: another session holds this working tree ({holder}); "
        f"your {action} goes ahead (git config guard.humanPolicy: warn, deny or allow)."
    )


def ref_list(refs: list[str]) -> str:
    shown = ", ".join(printable(ref) for ref in refs[:5])
    return shown + (f" and {len(refs) - 5} more" if len(refs) > 5 else "")


def _listed(problems: list[PushProblem]) -> str:
    return "; ".join(f"{printable(p.ref)}: {printable(p.why)}" for p in problems)


def push_refused_text(problems: list[PushProblem]) -> str:
    """An agent's push refused for the pushes themselves: each ref and why, then the way out."""
    found = {p.problem for p in problems}
    ways = []
    if found & {Problem.REWRITES, Problem.REWRITES_PROTECTED}:
        ways.append("integrate the remote's commits (`git pull --rebase`) and push again")
    if found & {Problem.DELETES_PROTECTED, Problem.REWRITES_PROTECTED}:
        ways.append("rewriting or deleting a protected branch is for a person to do by hand")
    if Problem.REWRITES in found:
        ways.append("a person may let the holding session force-push unprotected branches "
                    "(`git config guard.allowForcePush holder`)")
    way_out = "; ".join(ways)
    return f"worktree-guard: push refused: {_listed(problems)}. {way_out[0].upper()}{way_out[1:]}."


def push_warning_text(problems: list[PushProblem]) -> str:
    return f"worktree-guard: warning: an agent would be refused this push: {_listed(problems)}."


def checkout_warning(branch_seen: str | None, branch_now: str | None, facts: HolderFacts) -> str:
    """post-checkout cannot undo: say loudly what happened and how to put it back.
    The holder's facts name the branch it last saw."""
    back = f"`git checkout {printable(branch_seen)}`" if branch_seen else "`git checkout -`"
    now = printable(branch_now) if branch_now else "an unknown branch"
    return (
        f"worktree-guard: WARNING: HEAD is now on {now}, but "
        f"another session holds this working tree: {describe_holder(facts)}. Switch back with "
        f"{back} unless that session is done; it will be told of the switch before its next "
        "action. To work on another branch meanwhile, use a separate worktree "
        "(`git worktree add ../<name> -b <branch>`)."
    )


def ref_update_refused(refs: list[str], toplevel: str, facts: HolderFacts) -> str:
    """reference-transaction: the refs named; a command that moves HEAD (reset, merge,
    rebase) may have changed files before git asked, which the hook cannot undo."""
    text = refused_by_holder("update of " + ref_list(refs), toplevel, facts)
    if "HEAD" in refs:
        text += " git may have changed files before this refusal: check `git status`."
    return text


def nested_tree_refused(tree: str, around: str, facts: HolderFacts) -> str:
    return (
        f"worktree-guard: a working tree at {tree} refused: it lies inside {around}, which "
        f"another session holds: {describe_holder(facts)}. Make the worktree outside that "
        "tree (`git worktree add ../<name> -b <branch>`)."
    )

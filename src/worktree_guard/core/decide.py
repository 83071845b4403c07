"""Pure decisions: (caller, action, lease state) -> verdict and reason. No I/O here.

Everything that reads files, clocks or /proc happens in the adapters and the store; the
values they found come in as arguments, so each rule can be tested on plain data.
"""

from __future__ import annotations

from worktree_guard.core.identity import Liveness
from worktree_guard.core.printable import printable
from worktree_guard.core.record import LeaseRecord, RecordKind, UnreadableLease
from worktree_guard.lite.kinds import Kind

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import ClassVar

    from worktree_guard.core.record import LeaseView

# Tools that change files; everything else Claude Code offers reads or talks.
MUTATING_TOOLS = frozenset({"Edit", "Write", "MultiEdit", "NotebookEdit"})
SHELL_TOOL = "Bash"


class LeaseState(Kind):
    __slots__ = ()
    FREE: ClassVar[LeaseState]  # no record
    EXPIRED: ClassVar[LeaseState]  # no activity for a ttl, or a stamp too far in the future
    DEAD: ClassVar[LeaseState]  # the holder process is gone, reused, or from another boot
    HELD_BY_CALLER: ClassVar[LeaseState]
    HELD_BY_OTHER: ClassVar[LeaseState]


LeaseState.FREE = LeaseState("free")
LeaseState.EXPIRED = LeaseState("expired")
LeaseState.DEAD = LeaseState("dead")
LeaseState.HELD_BY_CALLER = LeaseState("held_by_caller")
LeaseState.HELD_BY_OTHER = LeaseState("held_by_other")


def is_expired(view: LeaseRecord | UnreadableLease, now_ms: int, default_ttl_ms: int) -> bool:
    if isinstance(view, UnreadableLease):
        stamp, ttl = view.mtime_ms, default_ttl_ms
    else:
        stamp, ttl = view.last_active_at, view.ttl_ms
    # A stamp more than one ttl ahead means the clock was stepped back: it proves nothing.
    return now_ms - stamp >= ttl or stamp - now_ms > ttl


def needs_liveness_check(view: LeaseView, caller_session: str | None) -> bool:
    """Only our own records name a holder process worth asking /proc about."""
    return (
        isinstance(view, LeaseRecord)
        and view.kind is RecordKind.OURS
        and view.session_id != caller_session
        and view.pid is not None
    )


def assess(
    view: LeaseView,
    caller_session: str | None,
    now_ms: int,
    default_ttl_ms: int,
    holder_liveness: Liveness = Liveness.UNKNOWN,
    max_idle_ms: int = 0,
) -> LeaseState:
    """The ttl frees a lease only when its holder's liveness cannot be verified: a holder
    verified alive keeps its tree through a long tool call or an idle hour (a person frees
    it with `guard release --force`), unless `max_idle_ms` (GUARD_MAX_IDLE_MS, 0: none) is
    set and it has been idle that long."""
    if view is None:
        return LeaseState.FREE
    expired = is_expired(view, now_ms, default_ttl_ms)
    if isinstance(view, UnreadableLease):
        return LeaseState.EXPIRED if expired else LeaseState.HELD_BY_OTHER
    if caller_session is not None and view.session_id == caller_session:
        # Nobody took it meanwhile, so it is still the caller's, with the branch it saw:
        # a fresh record after a long call would adopt a switch made during that call.
        return LeaseState.HELD_BY_CALLER
    if view.kind is RecordKind.OURS and holder_liveness is Liveness.DEAD:
        return LeaseState.DEAD
    if view.kind is RecordKind.OURS and holder_liveness is Liveness.ALIVE:
        idle = now_ms - view.last_active_at
        return LeaseState.EXPIRED if max_idle_ms > 0 and idle >= max_idle_ms else (
            LeaseState.HELD_BY_OTHER)
    return LeaseState.EXPIRED if expired else LeaseState.HELD_BY_OTHER


class ToolAction(Kind):
    __slots__ = ()
    READ_ONLY: ClassVar[ToolAction]
    MUTATING: ClassVar[ToolAction]
    BYPASSES_HOOKS: ClassVar[ToolAction]


ToolAction.READ_ONLY = ToolAction("read_only")
ToolAction.MUTATING = ToolAction("mutating")
ToolAction.BYPASSES_HOOKS = ToolAction("bypasses_hooks")


def classify_tool(tool_name: str, read_only_shell: bool, bypasses_hooks: bool) -> ToolAction:
    """What a PreToolUse call would do; the shell verdict comes from `shell.classify_command`."""
    if tool_name == SHELL_TOOL:
        if bypasses_hooks:
            return ToolAction.BYPASSES_HOOKS
        return ToolAction.READ_ONLY if read_only_shell else ToolAction.MUTATING
    return ToolAction.MUTATING if tool_name in MUTATING_TOOLS else ToolAction.READ_ONLY


def is_hijack(branch_seen: str | None, branch_now: str | None) -> bool:
    """HEAD moved to another branch between the holder's own actions."""
    return bool(branch_seen and branch_now and branch_seen != branch_now)


def on_foreign_branch(own: str | None, now: str | None) -> bool:
    """HEAD is on a named branch that is not the holder's own: its commits and pushes
    there are refused until it switches back or switches there itself. (A detached HEAD
    is left alone: a rebase or bisect of the holder's own passes through one.)"""
    return (is_hijack(own, now) and own is not None and now is not None
            and not own.startswith("(") and not now.startswith("("))


class HumanPolicy(Kind):
    __slots__ = ()
    WARN: ClassVar[HumanPolicy]
    DENY: ClassVar[HumanPolicy]
    ALLOW: ClassVar[HumanPolicy]


HumanPolicy.WARN = HumanPolicy("warn")
HumanPolicy.DENY = HumanPolicy("deny")
HumanPolicy.ALLOW = HumanPolicy("allow")


def parse_human_policy(value: str | None) -> HumanPolicy:
    """git config guard.humanPolicy; anything unknown is the default, warn."""
    wanted = (value or "").strip().lower()
    for policy in (HumanPolicy.WARN, HumanPolicy.DENY, HumanPolicy.ALLOW):
        if policy.value == wanted:
            return policy
    return HumanPolicy.WARN


# ---- messages -----------------------------------------------------------------------------


class HolderFacts:
    """What a message says about the session holding a tree."""

    __slots__ = ("agent", "alive", "branch", "idle_ms", "pid", "session_short",
                 "unreadable_reason")

    def __init__(
        self,
        session_short: str,
        pid: int | None,
        idle_ms: int | None,
        branch: str | None,
        agent: str | None,
        unreadable_reason: str | None = None,
        alive: bool = False,
    ) -> None:
        self.alive = alive  # the holder process was verified alive just now
        self.session_short = session_short
        self.pid = pid
        self.idle_ms = idle_ms
        self.branch = branch
        self.agent = agent
        self.unreadable_reason = unreadable_reason


def holder_facts(
    view: LeaseView, now_ms: int, holder_liveness: Liveness = Liveness.UNKNOWN
) -> HolderFacts:
    """The facts of a record, every name in it printable (a record may hold anything)."""
    if isinstance(view, UnreadableLease):
        return HolderFacts("unknown", None, now_ms - view.mtime_ms, None, None,
                           printable(view.reason))  # fmt: skip
    if view is None:
        return HolderFacts("none", None, None, None, None)
    pid = view.pid if view.kind is RecordKind.OURS else None
    return HolderFacts(
        printable(view.session_id[:8]), pid, now_ms - view.last_active_at,
        printable(view.branch) if view.branch is not None else None,
        printable(view.agent) if view.agent is not None else None,
        alive=holder_liveness is Liveness.ALIVE and pid is not None,
    )  # fmt: skip


def format_ago(ms: int | None) -> str:
    if ms is None:
        return "at an unknown time"
    seconds = max(0, ms) // 1000
    if seconds < 60:
        return f"{seconds}s ago"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60}s ago"
    return f"{seconds // 3600}h {seconds % 3600 // 60}m ago"


def describe_holder(facts: HolderFacts) -> str:
    if facts.unreadable_reason is not None:
        return (
            f"an unknown session (the lease file is unreadable: {facts.unreadable_reason}; "
            f"written {format_ago(facts.idle_ms)})"
        )
    who = f"session {facts.session_short}" + (f" ({facts.agent})" if facts.agent else "")
    label = "pid" if facts.agent and facts.agent not in ("claude", "claude-code") else "claude pid"
    pid = f"{label} {facts.pid}" if facts.pid is not None else "pid unknown"
    branch = f"on branch {facts.branch}" if facts.branch else "branch unknown"
    if facts.alive:  # a person deciding whether to force it free wants to know
        return f"{who}, {pid} (alive, idle {format_idle(facts.idle_ms)}), {branch}"
    return f"{who}, {pid}, last active {format_ago(facts.idle_ms)}, {branch}"


def format_idle(ms: int | None) -> str:
    minutes = max(0, ms or 0) // 60_000
    if minutes < 1:
        return f"{max(0, ms or 0) // 1000}s"
    return f"{minutes}m" if minutes < 60 else f"{minutes // 60}h {minutes % 60}m"


WAY_OUT = (
    "Work in a separate worktree instead: in Claude Code, the EnterWorktree tool; or "
    "`git worktree add ../<name> -b <branch>`, then run commands there as "
    "`git -C ../<name> ...` or `cd ../<name> && ...` in the same call (a `cd` does not "
    "last from one Bash call to the next)."
)


def deny_reason(toplevel: str, facts: HolderFacts, elsewhere: bool = False) -> str:
    """The PreToolUse deny text: the model reads it, so it says what to do, not just no.
    `elsewhere`: the held tree is not the one the session works in (a path, `-C`, `cd`)."""
    where = (" This call would change files or git state in that tree, which is not the "
             "folder you work in." if elsewhere else "")
    return (
        f"worktree-guard: another session holds this working tree ({printable(toplevel)}): "
        f"{describe_holder(facts)}.{where}\n"
        "Do not retry this call in a loop: it stays blocked while that session is active.\n"
        f"Wait for it to finish, or ask the user. {WAY_OUT}\n"
        "For the person: if that session is gone, `guard release --force` frees the lease."
    )


def unsure_reason(why: str, toplevel: str, facts: HolderFacts) -> str:
    """A target that could not be worked out may reach a tree another session holds."""
    return (
        f"worktree-guard: this command may change files in another session's working tree "
        f"({printable(toplevel)}: {describe_holder(facts)}), and guard cannot tell: "
        f"{printable(why)}. "
        "Spell the path out (no variables or globs that could reach that tree), or run the "
        f"command from the tree it is meant for. {WAY_OUT}"
    )


def bypass_reason(command_reason: str) -> str:
    return (
        "worktree-guard: this call switches git hooks off or could switch guard off "
        f"({command_reason}); that is refused for every agent session, the holder's included. "
        "Run it without --no-verify, hook or guard settings, session variables or the hooks "
        "and lock folders, with every git option written out literally; if a hook or guard "
        "blocks you, say so to the user: only a person changes those."
    )


def hijack_reason(branch_seen: str, branch_now: str) -> str:
    branch_seen, branch_now = printable(branch_seen), printable(branch_now)
    return (
        f"worktree-guard: HEAD moved from branch {branch_seen} to {branch_now} since your last "
        "action, and not by you: someone else switched the branch of this working tree. "
        "This one call is stopped so you can check before you go on (`git status`, "
        "`git log -1`). Until you switch back (`git checkout "
        f"{branch_seen}`) or switch to {branch_now} yourself (`git checkout {branch_now}`), "
        f"your commits onto {branch_now} and pushes of it are refused."
    )


def foreign_branch_reason(branch_own: str, branch_now: str, action: str) -> str:
    """The holder's commit or push while HEAD is on a branch someone else switched to."""
    branch_own, branch_now = printable(branch_own), printable(branch_now)
    return (
        f"worktree-guard: {action} refused: HEAD is on {branch_now}, switched there by "
        f"someone else; your branch is {branch_own}. Switch back (`git checkout "
        f"{branch_own}`), or if {branch_now} is really what you mean to work on, switch to it "
        f"yourself (`git checkout {branch_now}`) and try again."
    )


def session_start_context(toplevel: str, facts: HolderFacts) -> str:
    return (
        "worktree-guard: another live session holds this working tree "
        f"({printable(toplevel)}): "
        f"{describe_holder(facts)}. Your edits, writes and mutating shell commands here will be "
        f"refused while it is active. Read freely; to make changes, ask the user. {WAY_OUT}"
    )


def branch_owned_refused(ref: str, owner: str, facts: HolderFacts, second_checkout: bool) -> str:
    """A branch belongs to the tree that has it checked out; this one is held by another.
    (Said by the git hooks and by the Claude hook alike.)"""
    name = printable(ref[len("refs/heads/") :] if ref.startswith("refs/heads/") else ref)
    owner = printable(owner)
    what = (f"checking out branch {name} a second time" if second_checkout
            else f"update of branch {name}")
    return (
        f"worktree-guard: {what} refused: {name} is checked out in {owner}, which another "
        f"session holds: {describe_holder(facts)}. A branch belongs to the tree that has it "
        "checked out, whichever worktree the command runs in. Work on a branch of your own "
        "(`git worktree add ../<name> -b <branch>`); if that session is gone, a person can "
        "free its tree with `guard release --force`."
    )

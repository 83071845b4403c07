"""`guard git-hook NAME ARGS...`: a git hook's arguments and stdin in, exit code and message out.

Exit 0 lets git go on; 1 refuses (pre-commit, prepare-commit-msg, reference-transaction at
`prepared`, pre-push). Commit-time hooks import the standard library only; git is asked
(through `git_facts`, imported late) only on rare paths: pre-push, and a person committing
in a tree a session holds. An agent is whoever has an agent process above it or a session
label (identity.SESSION_VARIABLES); whether it may act is the lease's answer, as in the
Claude hook.
"""

from __future__ import annotations

import sys

from worktree_guard.core import events
from worktree_guard.core.config import Settings, load_settings
from worktree_guard.core.decide import (
    HumanPolicy,
    LeaseState,
    branch_owned_refused,
    foreign_branch_reason,
    holder_facts,
    is_hijack,
    on_foreign_branch,
)
from worktree_guard.core.identity import (
    AGENT_CLAUDE,
    AgentProcess,
    find_agent,
    holder_in_ancestry,
    session_from_env,
)
from worktree_guard.core.lease import Caller, LeaseStore, Outcome, Result, now_ms
from worktree_guard.core.passes import head_line, leave_pass, pass_file
from worktree_guard.core.record import LeaseRecord, LeaseView
from worktree_guard.core.workspace import (
    Workspace,
    current_branch,
    enclosing_tree,
    find_workspace,
    head_ref,
    ref_exists,
    trees_on_ref,
)
from worktree_guard.git.rules import (
    HEADS,
    GitGuardConfig,
    PushUpdate,
    RefUpdate,
    Verdict,
    checkout_warning,
    framework_push_line,
    is_zero,
    nested_tree_refused,
    only_new_branches,
    parse_push_lines,
    parse_ref_updates,
    person_held_text,
    person_verdict,
    push_problem,
    push_refused_text,
    push_warning_text,
    ref_list,
    ref_update_refused,
    refused_by_holder,
    tree_ref_updates,
)
from worktree_guard.lite import deadline, system

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

REFUSE = 1
# Hooks whose non-zero exit stops git; the others cannot undo anything.
BLOCKING_HOOKS = frozenset(
    {"pre-commit", "prepare-commit-msg", "reference-transaction", "pre-push", "update"}
)
# A commit-time hook must never hang a commit; pre-push bounds each git call instead.
_DEADLINE_S = 8.0
# git hook <- git worktree add -b: the branch `git worktree add` creates for a new tree.
_WORKTREE_ADD_DEPTH = 4



def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class GitHook:
    def __init__(self, settings: Settings, env: dict[str, str]) -> None:
        self.settings = settings
        self.env = env
        self.store = LeaseStore(settings.lock_dir, settings.ttl_ms, settings.lock_timeout_ms)
        self.agent = find_agent(env)  # the agent process above us, whatever the env says
        # The nearest agent's own variable: one agent started in another's shell inherits
        # the outer one's. None: a person (until an agent is found)
        self.session = session_from_env(env, self.agent)
        self.wrapped = bool(env.get("GUARD_SESSION_ID", "").strip())  # `guard run`
        self.hook = "?"
        self._config: GitGuardConfig | None = None

    def log(self, event: str, **fields: Any) -> None:
        events.append_event(self.settings.lock_dir, event, self.settings.log_max_bytes,
                            hook=self.hook, session=self.session, **fields)

    def dispatch(self, name: str, args: list[str]) -> int:
        self.hook = name
        if name in ("pre-commit", "prepare-commit-msg"):
            return self.commit(name)
        if name == "reference-transaction":
            return self.reference_transaction(args)
        if name == "post-checkout":
            return self.post_checkout(args)
        if name == "pre-push":
            return self.pre_push(args)
        if name == "update":  # a bare repository's server-side hook (guard server-hook)
            from worktree_guard.git.server_hook import update

            return update(args, self.log, _say)
        _say(f"worktree-guard: unknown git hook {name!r}; nothing checked")
        return 0

    # ---- shared steps ----------------------------------------------------------------------

    def workspace(self) -> Workspace | None:
        ws = find_workspace(system.getcwd(), self.env)
        if ws is not None and self.session is None and self.agent is not None:
            self.session = self.label_of_agent(ws, self.agent)
        return ws

    def label_of_agent(self, ws: Workspace, agent: AgentProcess) -> str:
        """An agent whose environment lost its session label (`VAR= git push`, `env -u`):
        it is the holder's session when the holder process is among its ancestors; else
        a label naming its own process, which holds nothing."""
        view = self.store.read(ws.key)
        if isinstance(view, LeaseRecord):
            holder = view.holder_process()
            if holder is not None and holder_in_ancestry(holder) is True:
                return view.session_id
        return f"{agent.kind.name}-process-{agent.pid}-{agent.start_time}"

    def acquire(self, ws: Workspace, branch: str | None, keep_branch: bool = True) -> Outcome:
        """An agent's git action: take a free tree, refresh its own, or find it busy. Only a
        checkout (keep_branch=False) records the branch it now sees as the holder's own."""
        assert self.session is not None
        holder = None if self.wrapped else self.agent
        agent = "guard-run" if self.wrapped else (
            self.agent.kind.name if self.agent else AGENT_CLAUDE)
        outcome = self.store.acquire(ws.key, Caller(self.session, holder, agent), ws.toplevel,
                                     branch, self.settings.refresh_interval_ms, keep_branch)
        common = {"key": ws.key, "workspace": ws.toplevel}
        if outcome.result in (Result.ACQUIRED, Result.TOOK_OVER):
            previous = outcome.previous
            self.log("acquired" if outcome.result is Result.ACQUIRED else "taken_over",
                     previous_state=outcome.previous_state.value if previous else None,
                     previous_session=previous.session_id
                     if isinstance(previous, LeaseRecord) else None,
                     holder_pid=holder.pid if holder else None, **common)
        elif outcome.result is Result.HELD and outcome.previous is not outcome.record:
            self.log("refreshed", branch=branch, **common)
        return outcome

    def refuse_busy(self, ws: Workspace, outcome: Outcome, action: str, text: str = "") -> int:
        """Another live session holds the tree: say what was refused, who holds it, the way out."""
        facts = holder_facts(outcome.record, now_ms(), outcome.holder_liveness)
        _say(text or refused_by_holder(action, ws.toplevel, facts))
        self.log("denied", action=action, key=ws.key, workspace=ws.toplevel,
                 holder=_session_of(outcome.record))
        return REFUSE

    def refuse_foreign(self, ws: Workspace, outcome: Outcome, action: str,
                       refs: list[str] | None = None) -> int:
        """The holder acting while HEAD is on a branch someone else switched it to: its
        commits onto that branch and pushes of it are refused until it switches back or
        switches there itself (`refs`: only when the action touches that branch)."""
        record = outcome.record
        if outcome.result is not Result.HELD or not isinstance(record, LeaseRecord):
            return 0
        now = current_branch(ws)
        if not on_foreign_branch(record.branch, now):
            return 0
        assert record.branch is not None and now is not None
        if refs is not None and not ({"HEAD", HEADS + now} & set(refs)):
            return 0
        _say(foreign_branch_reason(record.branch, now, action))
        self.log("denied", action=action, why="foreign branch", branch_own=record.branch,
                 branch_now=now, key=ws.key, workspace=ws.toplevel)
        return REFUSE

    def passed(self, ws: Workspace) -> None:
        """The session holds this tree: spare its later hooks a guard start while HEAD stays
        as it is now (see core/passes.py)."""
        assert self.session is not None
        path = pass_file(self.env, ws.key, self.session, self.settings.lock_dir)
        head = head_line(ws.git_dir) if path is not None else None
        if path is not None and head is not None:
            leave_pass(path, head)

    def config(self) -> GitGuardConfig:
        """git's `guard.*` config, read once, when a decision first needs it."""
        if self._config is None:
            from worktree_guard.git.facts import read_guard_config  # a git process: rare paths

            self._config = read_guard_config()
        return self._config

    def person_in_held_tree(self, ws: Workspace, action: str) -> int:
        """A person acting: a word when a session holds the tree; a refusal under `deny`."""
        view = self.store.read(ws.key)
        now = now_ms()
        if self.store.state_of(view, None, now) is not LeaseState.HELD_BY_OTHER:
            return 0
        policy = self.config().human_policy
        verdict = person_verdict(LeaseState.HELD_BY_OTHER, policy)
        if verdict is Verdict.ALLOW:
            return 0
        _say(person_held_text(action, ws.toplevel, holder_facts(view, now), verdict))
        self.log("denied" if verdict is Verdict.REFUSE else "warned", action=action,
                 key=ws.key, workspace=ws.toplevel, holder=_session_of(view))
        return REFUSE if verdict is Verdict.REFUSE else 0

    # ---- hooks -----------------------------------------------------------------------------

    def commit(self, name: str) -> int:
        """pre-commit, and prepare-commit-msg (which `--no-verify` does not skip)."""
        ws = self.workspace()
        if ws is None:
            return 0
        if self.session is None:
            # A person's commit is looked at once; `--no-verify` is a person's own choice.
            return self.person_in_held_tree(ws, "commit") if name == "pre-commit" else 0
        outcome = self.acquire(ws, current_branch(ws))
        if outcome.result is Result.BUSY:
            return self.refuse_busy(ws, outcome, "commit")
        if self.refuse_foreign(ws, outcome, "commit"):
            return REFUSE
        self.passed(ws)
        return 0

    def reference_transaction(self, args: list[str]) -> int:
        """At `prepared`, an agent that does not hold the tree may not move HEAD or a branch
        (this is what stops `commit --no-verify`, `branch`, `reset`, `update-ref`); nor, from
        any tree, a branch that another held tree has checked out, nor check such a branch
        out a second time, nor make a worktree inside a held tree."""
        if args[:1] != ["prepared"] or (self.session is None and self.agent is None):
            return 0  # only `prepared` can still abort; people are not stopped here
        every = parse_ref_updates(_read_stdin())
        if not every:
            return 0
        ws = self.workspace()
        if ws is None:
            return 0
        refused = self.refuse_foreign_branches(ws, every)
        if refused:
            return refused
        updates = tree_ref_updates(every)
        if not updates:
            return 0
        outcome = self.acquire(ws, current_branch(ws))
        if outcome.result is Result.BUSY:
            if (only_new_branches(updates) and _run_by_worktree_add()
                    and not any(ref_exists(ws, u.ref) for u in updates)):
                # The way out every refusal names: a new branch for a new tree moves nothing here.
                self.log("allowed", why="git worktree add -b", refs=[u.ref for u in updates],
                         key=ws.key, holder=_session_of(outcome.record))
                return 0
            refs = [u.ref for u in updates]
            facts = holder_facts(outcome.record, now_ms(), outcome.holder_liveness)
            text = ref_update_refused(refs, ws.toplevel, facts)
            return self.refuse_busy(ws, outcome, "update of " + ref_list(refs), text)
        refs = [u.ref for u in updates]
        if self.refuse_foreign(ws, outcome, "update of " + ref_list(refs), refs):
            return REFUSE
        self.passed(ws)
        return 0

    def refuse_foreign_branches(self, ws: Workspace, every: list[RefUpdate]) -> int:
        """A branch belongs to the tree that has it checked out: refuse when this
        transaction moves (or may move: a zero old value is not checked) a branch whose
        tree another live session holds, puts this tree's HEAD on such a branch (a second
        checkout), or this tree lies inside a held tree."""
        assert self.session is not None
        wanted: list[str] = []
        for update in every:
            if update.ref.startswith(HEADS) and (update.moves or is_zero(update.old)):
                wanted.append(update.ref)
        head = head_ref(ws)
        if head is not None and any(u.ref == "HEAD" for u in every):
            wanted.append(head)
        now = now_ms()
        for ref in dict.fromkeys(wanted):
            for tree in trees_on_ref(ws, ref):
                if tree.toplevel == ws.toplevel:
                    continue
                view = self.store.read(tree.key)
                state, alive = self.store.state_and_liveness(view, self.session, now)
                if state is not LeaseState.HELD_BY_OTHER:
                    continue
                facts = holder_facts(view, now, alive)
                _say(branch_owned_refused(ref, tree.toplevel, facts, ref == head))
                self.log("denied", action="update of " + ref, key=tree.key,
                         workspace=tree.toplevel, holder=_session_of(view), why="branch owned")
                return REFUSE
        around = enclosing_tree(ws)
        if around is not None and not _client_worktree(ws.toplevel, around.toplevel):
            view = self.store.read(around.key)
            state, alive = self.store.state_and_liveness(view, self.session, now)
            if state is LeaseState.HELD_BY_OTHER:
                _say(nested_tree_refused(ws.toplevel, around.toplevel,
                                         holder_facts(view, now, alive)))
                self.log("denied", action="worktree inside a held tree", key=around.key,
                         workspace=around.toplevel, holder=_session_of(view))
                return REFUSE
        return 0

    def post_checkout(self, args: list[str]) -> int:
        """Cannot undo: the holder's own checkout records its new branch; anyone else's
        branch switch in a held tree is announced loudly and logged (the holder is told
        before its next action, by the Claude hook's hijack check)."""
        if len(args) < 3 or args[2] != "1":
            return 0  # a file checkout leaves HEAD alone
        ws = self.workspace()
        if ws is None:
            return 0
        branch = current_branch(ws)
        if self.session is not None:
            outcome = self.acquire(ws, branch, keep_branch=False)  # its own switch
            if outcome.result is not Result.BUSY:
                return 0
            view = outcome.record
        else:
            view = self.store.read(ws.key)
            if self.store.state_of(view, None, now_ms()) is not LeaseState.HELD_BY_OTHER:
                return 0
        seen = view.branch if isinstance(view, LeaseRecord) else None
        if not (is_hijack(seen, branch) or (seen is None and args[0] != args[1])):
            return 0
        self.log("checkout_while_held", branch_seen=seen, branch_now=branch, key=ws.key,
                 workspace=ws.toplevel, holder=_session_of(view))
        if self.session is None and self.config().human_policy is HumanPolicy.ALLOW:
            return 0
        _say(checkout_warning(seen, branch, holder_facts(view, now_ms())))
        return 0

    def pre_push(self, args: list[str]) -> int:
        """Per pushed ref: the holder may push fast-forwards; protected branches are never
        rewritten or deleted by an agent; people are told what an agent would be refused.
        git's config is read only when a decision needs it (a person in a held tree, a
        deletion, a push that is not a fast-forward): a fast-forward costs one git process."""
        from worktree_guard.git.facts import ancestry_of

        # The pre-commit framework runs pre-push without git's stdin: it sets variables.
        updates = parse_push_lines(_read_stdin() or framework_push_line(self.env))
        if not updates:
            return 0
        ws = self.workspace()
        if self.session is None:
            # A person: the policy for a held tree, then a word on what an agent would be refused.
            if ws is not None and self.person_in_held_tree(ws, "push"):
                return REFUSE
            holder = True
        elif ws is not None:
            outcome = self.acquire(ws, current_branch(ws))
            action = "push of " + ref_list([u.remote_ref for u in updates])
            if outcome.result is Result.BUSY:
                return self.refuse_busy(ws, outcome, action)
            if self.refuse_foreign(ws, outcome, action, [u.local_ref for u in updates]):
                return REFUSE
            holder = True
        else:
            holder = False  # no working tree (a bare repository): no lease to hold
        problems = []
        for update, ancestry in zip(updates, ancestry_of(updates), strict=True):
            problem = push_problem(update, ancestry, holder, self.config)
            if problem is not None:
                problems.append(problem)
        if not problems:
            return self.remote_lease(args, updates, ws)
        refs = [p.ref for p in problems]
        if self.session is None:
            _say(push_warning_text(problems))
            self.log("warned", action="push", refs=refs)
            return 0
        _say(push_refused_text(problems))
        self.log("denied", action="push", refs=refs, reasons=[p.why for p in problems])
        return REFUSE

    def remote_lease(self, args: list[str], updates: list[PushUpdate], ws: Workspace | None
                     ) -> int:  # fmt: skip
        """A session's push of branches takes or renews their lease on the remote (see
        git/remote_push.py); a person's push and a push from a bare repository take none."""
        if (self.session is None or ws is None or not args or args[0] == "."
                or not self.config().remote_lease):  # `push .`: a local branch move
            return 0
        from worktree_guard.core.remote_decide import DEFAULT_TTL_S
        from worktree_guard.git.remote_push import RemoteLeasePush, pushed_branches

        tips = pushed_branches(updates)
        if not tips:
            return 0
        agent = "guard-run" if self.wrapped else (
            self.agent.kind.name if self.agent else "claude-code")
        ttl = self.config().remote_lease_ttl_s or DEFAULT_TTL_S

        def log(event: str, **fields: Any) -> None:
            self.log(event, workspace=ws.toplevel, **fields)

        return RemoteLeasePush(args[0], self.session, agent, ttl, _say, log).run(tips)


# Claude Code's EnterWorktree and `Agent {isolation: "worktree"}` make their trees here, inside
# the project's tree: the way out the deny messages offer first, so not a nested tree to refuse.
_CLIENT_WORKTREES = "/.claude/worktrees/"


def _client_worktree(tree: str, around: str) -> bool:
    return tree.startswith(around.rstrip("/") + _CLIENT_WORKTREES)


def _session_of(view: LeaseView) -> str | None:
    return view.session_id if isinstance(view, LeaseRecord) else None


def _read_stdin() -> str:
    return sys.stdin.buffer.read().decode("utf-8", "surrogateescape")


def _run_by_worktree_add() -> bool:
    """Whether a `git worktree add` process is among our near ancestors (it runs
    `git branch <new>` as a child, whose hook runs this). Linux /proc; elsewhere False."""
    pid = system.getppid()
    for _ in range(_WORKTREE_ADD_DEPTH):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                argv = [a.decode("utf-8", "replace") for a in fh.read(65536).split(b"\0")]
            with open(f"/proc/{pid}/stat", "rb") as fh:
                stat = fh.read().decode("utf-8", "replace")
            parent = int(stat[stat.rindex(")") + 2 :].split()[1])
        except (OSError, ValueError, IndexError):
            return False
        if argv and system.basename(argv[0]) == "git" and _is_worktree_add(argv[1:]):
            return True
        if parent <= 1:
            return False
        pid = parent
    return False


# git's global options that take their value as the next argument.
_GIT_OPTIONS_WITH_VALUE = frozenset({"-C", "-c", "--git-dir", "--work-tree", "--namespace"})


def _is_worktree_add(args: list[str]) -> bool:
    """git's arguments (after argv[0]) name the `worktree add` subcommand."""
    at = 0
    while at < len(args) and args[at].startswith("-"):
        at += 2 if args[at] in _GIT_OPTIONS_WITH_VALUE else 1
    return args[at : at + 2] == ["worktree", "add"]


def run(args: list[str], env: dict[str, str] | None = None) -> int:
    """The `guard git-hook` command. Never a traceback; internal errors follow the failure
    policy: git goes on with one line on stderr, unless fail-closed is asked for."""
    environ = dict(system.environ()) if env is None else env
    settings = load_settings(environ)
    name = args[0] if args else "?"
    timed = name != "pre-push"
    if timed:
        deadline.arm(_DEADLINE_S)
    try:
        status = GitHook(settings, environ).dispatch(name, args[1:])
    except BaseException as exc:
        if timed:
            deadline.disarm()
        if _sandboxed_write(exc):
            return 0
        # Failing open leaves no pass: the next hook asks again.
        return _failure(settings, name, args[1:], exc)
    if timed:
        deadline.disarm()
    return status


def _sandboxed_write(exc: BaseException) -> bool:
    """A git command inside guard's shell sandbox, where the lock folder is read-only: the
    leases were read (another session's tree is refused before any write: the store locks
    read-only there), and what failed is taking a free tree or leaving a pass. Nothing can
    be recorded and nothing needs refusing: git goes on, the tree stays free for the
    session's next tool call to take. Outside the sandbox the failure policy applies."""
    import errno

    from worktree_guard.core.lease import LeaseStoreError
    from worktree_guard.sandbox.prefix import inside

    cause = exc if isinstance(exc, OSError) else exc.__cause__
    read_only = isinstance(exc, OSError | LeaseStoreError) and isinstance(
        cause, OSError) and cause.errno == errno.EROFS
    return read_only and inside(system.environ())


def _failure(settings: Settings, name: str, args: list[str], exc: BaseException) -> int:
    timed_out = isinstance(exc, deadline.DeadlineExceeded)
    what = "timed out" if timed_out else f"{type(exc).__name__}: {exc}"
    blocking = name in BLOCKING_HOOKS and (
        name != "reference-transaction" or args[:1] == ["prepared"]
    )
    closed = blocking and (settings.fail_closed or _config_fail_closed())
    verdict = "refusing (fail-closed)" if closed else "letting git go on"
    from worktree_guard.core import failopen  # the failure path only
    from worktree_guard.core.printable import printable

    unrecorded = failopen.record(settings, f"{name} git hook", what, closed, hook=name)
    _say(f"worktree-guard: internal error in {printable(name)} hook, {verdict}: "
         f"{printable(what)}{unrecorded}")  # one line, whatever the error says
    return REFUSE if closed else 0


def _config_fail_closed() -> bool:
    """git config guard.failClosed, asked only once something already went wrong."""
    try:
        from worktree_guard.git.facts import read_guard_config

        return read_guard_config().fail_closed
    except Exception:
        return False

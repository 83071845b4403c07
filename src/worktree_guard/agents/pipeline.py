"""The one pre-tool step, the lease steps and the failure policy, for every agent.

An adapter turns its agent's payload into a `ToolCall` and asks `Guard.pre_tool`; what a call
may do is decided here, the same way for every agent, in this order:

1. a shell line that switches git's hooks or guard off, or a file call aimed at a protected
   path (git's hooks folder and config, the lock folder, any agent's hook files): denied;
2. a read-only shell line, or a call that changes no file: allowed, no lease;
3. a push that may rewrite a remote branch, from an agent whose shell runs git without its
   hooks (the agent table's `shell_runs_git_hooks`): denied for every session;
4. the trees the call may change (the targets it could not work out judged by the trees they
   may reach), branches checked out in another session's tree, then the all-or-none taking
   of the trees' leases, with the hijack and foreign-branch rules.

`run_adapter` is the failure policy, once: never a traceback, never a hang; an internal error
allows the call (one stderr line and an `error` event) unless `GUARD_FAIL_CLOSED=1`, which
denies a pre-tool call in the agent's own deny form. Standard library only.
"""

from __future__ import annotations

import sys

from worktree_guard.agents.common import (
    ALLOW,
    FILES,
    MCP,
    OTHER,
    SHELL,
    Answer,
    PayloadError,
    ToolCall,
    interactive_shell,
    mcp_paths,
    moves_a_branch,
    optional_str,
    read_payload,
    shell_patch_targets,
    str_field,
    switched_branch,
    tree_of_path,
    workspaces_of,
)
from worktree_guard.core import agents, events
from worktree_guard.core.config import Settings, load_settings
from worktree_guard.core.decide import (
    LeaseState,
    branch_owned_refused,
    bypass_reason,
    deny_reason,
    foreign_branch_reason,
    hijack_reason,
    holder_facts,
    is_hijack,
    on_foreign_branch,
    session_start_context,
    unsure_reason,
)
from worktree_guard.core.identity import find_agent, find_agent_ancestor
from worktree_guard.core.lease import Caller, LeaseStore, Result, now_ms
from worktree_guard.core.protected import protected_reason
from worktree_guard.core.record import LeaseRecord
from worktree_guard.core.workspace import (
    Workspace,
    current_branch,
    find_workspace,
    trees_on_ref,
)
from worktree_guard.lite import deadline, system

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    from worktree_guard.core.identity import ProcessId
    from worktree_guard.shell.targets import Unsure

# Well inside every client's timeout (install sets 10 s for each agent).
DEADLINE_S = 4.0
# The events before a tool runs: the only ones a failure may deny (GUARD_FAIL_CLOSED=1).
PRE_TOOL_EVENTS = frozenset({"PreToolUse", "BeforeTool", "preToolUse", "?"})


def forced_push_reason(what: str) -> str:
    return (
        f"worktree-guard: this push may rewrite or delete a remote branch ({what}), and this "
        "agent's shell runs git without its hooks, so git's own push checks cannot run: "
        "refused for every session, the holder's included. Push without --force, --delete, "
        "--mirror or a `+` refspec (git refuses a push that is not a fast-forward by itself); "
        "if history must be rewritten on the remote, ask the user."
    )


class Guard:
    """Every agent's lease steps, for one agent of the table (`agent` names it in records)."""

    def __init__(self, settings: Settings, env: Mapping[str, str], agent: str) -> None:
        self.settings = settings
        self.env = env
        self.agent = agent
        row = agents.agent_named(agent)
        self.shell_runs_git_hooks = row.shell_runs_git_hooks if row is not None else False
        self.store = LeaseStore(settings.lock_dir, settings.ttl_ms, settings.lock_timeout_ms)

    def log(self, event: str, **fields: Any) -> None:
        events.append_event(self.settings.lock_dir, event, self.settings.log_max_bytes,
                            agent=self.agent, **fields)

    def session(self, payload_session: str) -> tuple[str, bool]:
        """The session id, and whether it came from `guard run` (which owns the holder pid)."""
        wrapped = self.env.get(agents.RUN_SESSION_VARIABLE, "").strip()
        return (wrapped, True) if wrapped else (payload_session, False)

    def holder_process(self, wrapped: bool) -> ProcessId | None:
        """This agent's long-lived process among the caller's ancestors (the nearest agent,
        when it is this one: its own pid variable counts), or None under `guard run`."""
        if wrapped:
            return None
        nearest = find_agent(self.env)
        if nearest is not None and nearest.kind.name == self.agent:
            return nearest
        found = find_agent_ancestor((self.agent,))
        return found[1] if found else None

    # ---- the pre-tool step ------------------------------------------------------------

    def pre_tool(self, call: ToolCall) -> str | None:
        """None to allow the call, or the reason it is denied (the agent's model reads it)."""
        if call.kind == OTHER:
            return None
        session, wrapped = self.session(call.session)
        if call.kind == SHELL and call.command is not None:
            return self.pre_shell(call, call.command, session, wrapped)
        if call.kind == MCP:
            judged = self.mcp_call(call)
            if judged is None:
                return None
            call = judged
        # A shell call whose line cannot be read may do anything in its folder: its tree.
        protected = self.protected_target(call)
        if protected is not None:
            return self.refuse(call, session, f"no git hooks: {protected}",
                               bypass_reason(protected))
        return self.acquire_all(workspaces_of(call), session, wrapped, call.tool, call.cwd)

    def mcp_call(self, call: ToolCall) -> ToolCall | None:
        """An MCP tool as a file call: the paths its arguments name; else, when git config
        `guard.mcpWriteTools` lists it (patterns), the session's tree; else nothing (None)."""
        paths = mcp_paths(call.args or {}, call.cwd)
        if paths:
            return ToolCall.files(call.tool, call.session, call.cwd, *paths)
        if any(fnmatchcase(call.tool, p) for p in mcp_write_tools(call.cwd)):
            return ToolCall.files(call.tool, call.session, call.cwd)
        return None

    def pre_shell(self, call: ToolCall, command: str, session: str,
                  wrapped: bool) -> str | None:
        # Loaded only for shell calls: the classifier needs `re`, the file tools do not.
        from worktree_guard.shell.classify import classify_command
        from worktree_guard.shell.targets import Unsure as Doubt

        verdict = classify_command(command, (self.settings.lock_dir,))
        if verdict.disables_git_hooks:
            return self.refuse(call, session, f"no git hooks: {verdict.reason}",
                               bypass_reason(verdict.reason))
        patched = shell_patch_targets(command, call.cwd)
        protected = self.protected_target(ToolCall(call.tool, FILES, session, "/", tuple(patched)))
        if protected is not None:
            return self.refuse(call, session, f"no git hooks: {protected}",
                               bypass_reason(protected))
        if verdict.read_only and not patched:
            return None
        if interactive_shell(command):
            # What is typed into it later runs no hook: judged as a line that may write
            # anywhere, not by the folder it starts in.
            doubt = Doubt(None, "an interactive shell may change any tree")
            return self.judge_doubt(doubt, session, call.tool, call.cwd) or self.judge_shell(
                command, call.cwd, session, wrapped, call.tool)
        if not self.shell_runs_git_hooks:
            from worktree_guard.shell.pushes import history_rewriting_push

            push = history_rewriting_push(command)
            if push is not None:
                return self.refuse(call, session, f"push in a shell without git hooks: {push}",
                                   forced_push_reason(push))
        return self.judge_shell(command, call.cwd, session, wrapped, call.tool,
                                [t for t in map(tree_of_path, patched) if t is not None])

    def refuse(self, call: ToolCall, session: str, why: str, reason: str) -> str:
        self.log("denied", session=session, tool=call.tool, cwd=call.cwd, why=why)
        return reason

    def protected_target(self, call: ToolCall) -> str | None:
        """A file call aimed at the hooks folder, git's config, the lock folder or an agent's
        hook files: realpath, so a symlink or `..` elsewhere cannot hide the folder."""
        for path in call.paths:
            reason = protected_reason(system.realpath(system.join(call.cwd, path)),
                                      self.settings.lock_dir)
            if reason is not None:
                return reason
        return None

    def judge_shell(self, command: str, cwd: str, session: str, wrapped: bool,
                    tool: str, also: list[Workspace] | None = None) -> str | None:
        """None to allow a mutating shell line, or why it is denied. `also`: trees the line
        changes that the shell reader cannot see (a patch given to `apply_patch`)."""
        trees, doubts = self.shell_trees(command, cwd)
        trees += [ws for ws in also or [] if ws not in trees]
        if doubts:  # parse for the message, the sandbox for the guarantee (sandbox/)
            from worktree_guard.sandbox.detect import shell_sandboxed

            doubts = [] if shell_sandboxed(self.env) else doubts
        for doubt in doubts:
            reason = self.judge_doubt(doubt, session, tool, cwd)
            if reason is not None:
                return reason
        reason = self.judge_branches(command, cwd, session, tool)
        if reason is not None:
            return reason
        from worktree_guard.core.shared_state import shared_state_reason
        from worktree_guard.shell.gitshared import shared_uses

        reason = shared_state_reason(shared_uses(command), cwd, self.store, session,
                                     lambda event, **f: self.log(event, tool=tool, cwd=cwd, **f))
        if reason is not None:
            return reason
        return self.acquire_all(trees, session, wrapped, tool, cwd, command)

    def shell_trees(self, command: str, cwd: str) -> tuple[list[Workspace], list[Unsure]]:
        """Every working tree the line may change (see shell/targets.py), and the targets
        that could not be worked out; a folder in no repository needs no lease."""
        from worktree_guard.shell.classify import command_targets

        home = self.env.get("HOME") or None
        targets = command_targets(command, cwd, home)
        trees: list[Workspace] = []
        reached = list(targets.paths) + [d.below for d in targets.unsure if d.below is not None]
        for path in reached:
            ws = tree_of_path(path)
            if ws is not None and ws not in trees:
                trees.append(ws)
        return trees, targets.unsure

    def judge_branches(self, command: str, cwd: str, session: str, tool: str) -> str | None:
        """A branch belongs to the tree that has it checked out: a line that would move one
        (or check it out again) while another live session holds that tree is denied here,
        before git's own hooks would refuse it."""
        from worktree_guard.shell.targets import branches_written

        refs = branches_written(command)
        here = find_workspace(cwd) if refs else None
        if here is None:
            return None
        now = now_ms()
        for ref, checkout in refs:
            for tree in trees_on_ref(here, ref):
                if tree.key == here.key:
                    continue
                view = self.store.read(tree.key)
                state, alive = self.store.state_and_liveness(view, session, now)
                if state is not LeaseState.HELD_BY_OTHER:
                    continue
                self.log("denied", session=session, tool=tool, cwd=cwd, key=tree.key,
                         workspace=tree.toplevel, why="branch owned", ref=ref)
                facts = holder_facts(view, now, alive)
                return branch_owned_refused(ref, tree.toplevel, facts, checkout)
        return None

    def judge_doubt(self, doubt: Unsure, session: str, tool: str, cwd: str) -> str | None:
        """A target that could not be worked out is judged by the trees it may reach: a
        deny when one of them is held by another live session."""
        below = system.realpath(doubt.below) if doubt.below is not None else None
        now = now_ms()
        for key in self.store.keys():  # noqa: SIM118 (a method, not a dict)
            view = self.store.read(key)
            if not isinstance(view, LeaseRecord) or not view.workspace:
                continue
            inside = below is None or view.workspace == below or view.workspace.startswith(
                below.rstrip("/") + "/")
            if not inside:
                continue
            if self.store.state_of(view, session, now) is not LeaseState.HELD_BY_OTHER:
                continue
            self.log("denied", session=session, tool=tool, cwd=cwd, key=key,
                     workspace=view.workspace, holder=view.session_id, why=doubt.why)
            return unsure_reason(doubt.why, view.workspace, holder_facts(view, now))
        return None

    def acquire_all(
        self, trees: list[Workspace], session: str, wrapped: bool, tool: str, cwd: str,
        command: str | None = None,
    ) -> str | None:
        """Take every tree a call may change, in key order (two sessions wanting the same
        trees meet at the first one, so neither waits on the other); when one is busy, the
        ones this call took are given back and the call is denied: never a partial grab."""
        holder = self.holder_process(wrapped)
        taken: list[Workspace] = []
        answer: str | None = None
        for ws in sorted(trees, key=lambda w: w.key):
            branch = current_branch(ws)
            outcome = self.store.acquire(
                ws.key,
                Caller(session, holder, self.agent),
                ws.toplevel,
                branch,
                self.settings.refresh_interval_ms,
                keep_branch=True,  # a pre-tool call switches nothing: a new HEAD is not its own
            )
            common = {"session": session, "key": ws.key, "workspace": ws.toplevel, "tool": tool}
            if outcome.result is Result.BUSY:
                for done in taken:
                    self.store.release(done.key, session, holder)
                facts = holder_facts(outcome.record, now_ms(), outcome.holder_liveness)
                other = (outcome.record.session_id
                         if isinstance(outcome.record, LeaseRecord) else None)
                self.log("denied", holder=other, **common)
                home_tree = find_workspace(cwd)
                return deny_reason(ws.toplevel, facts, elsewhere=home_tree is None
                                   or home_tree.key != ws.key)
            if outcome.result in (Result.ACQUIRED, Result.TOOK_OVER):
                taken.append(ws)
                taken_from = outcome.previous_state.value if outcome.previous else None
                previous = outcome.previous
                self.log(
                    "acquired" if outcome.result is Result.ACQUIRED else "taken_over",
                    previous_state=taken_from,
                    previous_session=(previous.session_id
                                      if isinstance(previous, LeaseRecord) else None),
                    holder_pid=holder.pid if holder else None,
                    **common,
                )
                continue
            record = outcome.record
            own = record.branch if isinstance(record, LeaseRecord) else None
            if isinstance(record, LeaseRecord) and is_hijack(own, branch):
                assert own is not None and branch is not None
                if record.hijack_reported != branch:  # never silent: told once, then kept
                    self.store.note_hijack(ws.key, session, branch)
                    self.log("hijack", branch_seen=own, branch_now=branch, **common)
                    answer = hijack_reason(own, branch)
                elif (command is not None and on_foreign_branch(own, branch)
                        and moves_a_branch(command)):
                    self.log("denied", why="foreign branch", branch_own=own,
                             branch_now=branch, **common)
                    answer = foreign_branch_reason(own, branch, "this command")
            elif outcome.previous is not outcome.record:
                self.log("refreshed", **common)
        return answer

    # ---- after a tool, and the session's ends -------------------------------------------

    def trees_of(self, call: ToolCall, project: str | None = None) -> list[Workspace]:
        """The trees a call's session works in: the call's own, and the project folder's
        (which does not follow a `cd` in a shell tool: the lease may be there)."""
        found = workspaces_of(ToolCall(call.tool, FILES, call.session, call.cwd, call.paths))
        if project and project != call.cwd:  # mostly the same folder: no second walk then
            ws = find_workspace(project)
            if ws is not None and all(w.key != ws.key for w in found):
                found.append(ws)
        return found

    def refresh(self, call: ToolCall, via: str, switched: bool = False,
                project: str | None = None) -> None:
        """Stamp the session's leases; only from the holder's own process tree (a forged
        payload elsewhere changes nothing). The branch is recorded only after the holder's
        own git command: a switch made by someone else while a long command ran must still
        be reported as a hijack."""
        session, wrapped = self.session(call.session)
        holder = self.holder_process(wrapped)
        for ws in self.trees_of(call, project):
            branch = current_branch(ws) if switched else None
            outcome = self.store.refresh(ws.key, session, branch,
                                         self.settings.refresh_interval_ms, holder)
            if outcome.result is Result.REFRESHED and outcome.previous is not outcome.record:
                self.log("refreshed", session=session, key=ws.key, via=via)

    def release(self, call: ToolCall, reason: str | None, project: str | None = None) -> None:
        session, wrapped = self.session(call.session)
        if wrapped:
            return  # `guard run` releases its own lease when its command ends
        holder = self.holder_process(wrapped)
        for ws in self.trees_of(call, project):
            if self.store.release(ws.key, session, holder).result is Result.RELEASED:
                self.log("released", session=session, key=ws.key, workspace=ws.toplevel,
                         reason=reason)
            release_remote_leases(ws.toplevel, session, self.log)

    def session_start(self, payload_session: str, cwd: str) -> str | None:
        """A resumed session in a new process records its new holder (the old one is gone: a
        live one elsewhere would still hold the tree); a session whose tree another live
        session holds is told so (the text to give it, else None)."""
        session, wrapped = self.session(payload_session)
        ws = find_workspace(cwd)
        if ws is None:
            return None
        now = now_ms()
        view = self.store.read(ws.key)
        holder = self.holder_process(wrapped)
        state = self.store.state_of(view, session, now, holder)
        resumed = (state is LeaseState.DEAD and isinstance(view, LeaseRecord)
                   and view.session_id == session)
        if (state is LeaseState.HELD_BY_CALLER or resumed) and not wrapped:
            self.store.acquire(ws.key, Caller(session, holder, self.agent),
                               ws.toplevel, current_branch(ws))
            return None
        if state is not LeaseState.HELD_BY_OTHER:
            return None
        return session_start_context(ws.toplevel, holder_facts(view, now))


def fnmatchcase(name: str, pattern: str) -> bool:
    from fnmatch import fnmatchcase as match  # only for MCP tools named in git config

    return match(name, pattern)


def mcp_write_tools(cwd: str) -> list[str]:
    """git config `guard.mcpWriteTools` (every value; each a space- or comma-separated list of
    patterns) where the call runs; none when git cannot say."""
    from worktree_guard.lite import spawn

    try:
        code, out, _ = spawn.run(["git", "-C", cwd, "config", "--get-all",
                                  "guard.mcpWriteTools"], timeout_s=2.0)
    except (OSError, spawn.SpawnError):
        return []
    if code != 0:
        return []
    return out.decode("utf-8", "replace").replace(",", " ").split()


def release_remote_leases(toplevel: str, session: str, log: Callable[..., None]) -> None:
    """SessionEnd: give up the branch leases this session took on the remotes (best effort:
    a remote out of reach keeps them until their ttl; see core/remote_lease.py)."""
    from worktree_guard.core.remote_lease import release_session  # git and the network

    try:
        release_session(toplevel, session, lambda event, **f: log(event, session=session, **f))
    except Exception as exc:  # a session's end is never held up by the remote
        log("remote_release_failed", session=session, workspace=toplevel, why=str(exc)[:200])


# ---- the failure policy -------------------------------------------------------------------

def run_adapter(
    agent: str,
    handle: Callable[[Guard, dict[str, Any]], Answer],
    deny: Callable[[str], Answer],
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
    event: str | None = None,
) -> int:
    """One hook call: never a traceback, never a hang, an exit code the agent reads right.

    `deny` builds the agent's deny answer; on an internal error it is used only under
    `GUARD_FAIL_CLOSED=1` (and only for a pre-tool event), else the call is allowed.
    `event`: the hook event when the installed command names it (the payload does not).
    """
    environ = system.environ() if env is None else env
    seen = event or "?"
    deadline.arm(DEADLINE_S)
    try:
        settings = load_settings(environ)
        payload = read_payload(sys.stdin.buffer.read() if stdin is None else stdin)
        raw = payload.get("hook_event_name")
        if event is None and isinstance(raw, str):
            seen = raw
        answer = handle(Guard(settings, environ, agent), payload)
        deadline.disarm()
    except BaseException as exc:  # the failure policy: one line, an event, and a decision
        deadline.disarm()
        answer = failure_answer(agent, environ, seen, exc, deny)
    return emit(answer)


def emit(answer: Answer) -> int:
    try:
        if answer.stdout:
            sys.stdout.write(answer.stdout + "\n")
            sys.stdout.flush()
        if answer.stderr:
            sys.stderr.write(answer.stderr + "\n")
            sys.stderr.flush()
    except OSError:
        pass  # the client closed its end: nothing more to say
    return answer.exit_code


def failure_answer(agent: str, env: Mapping[str, str], event: str, exc: BaseException,
                   deny: Callable[[str], Answer]) -> Answer:
    timed_out = isinstance(exc, deadline.DeadlineExceeded)
    what = "timed out" if timed_out else f"{type(exc).__name__}: {exc}"
    try:
        settings: Settings | None = load_settings(env)
    except Exception:  # a settings error is what we are reporting: fall back to the default
        settings = None
    closed = settings.fail_closed if settings is not None else False
    verdict = "denying (GUARD_FAIL_CLOSED=1)" if closed else "allowing"
    from worktree_guard.core import failopen  # the failure path only
    from worktree_guard.core.printable import printable

    try:
        unrecorded = (failopen.record(settings, f"{agent} {event} hook", what, closed,
                                      agent=agent, hook_event=event)
                      if settings is not None else " (not recorded: settings unreadable)")
    except Exception as err:  # e.g. the lock folder itself is what failed
        unrecorded = f" (not recorded: {type(err).__name__})"
    line = (f"worktree-guard: internal error in {printable(agent)} {printable(event)} hook, "
            f"{verdict}: {printable(what)}{unrecorded}")
    if closed and event in PRE_TOOL_EVENTS:
        denied = deny(f"worktree-guard could not decide ({what}) and GUARD_FAIL_CLOSED=1 "
                      "is set.")
        denied.stderr = line
        return denied
    return Answer(stderr=line)


# ---- one hook event, for every adapter ----------------------------------------------------

# What an agent's hook event asks of the pipeline; each adapter maps its own event names.
PRE_TOOL = "pre-tool"
AFTER_TOOL = "after-tool"  # and the end of a turn: the lease is stamped
SESSION_END = "session-end"


def steps(pre: str, after: tuple[str, ...], end: str) -> dict[str, str]:
    """An agent's event names -> the pipeline's steps."""
    return {pre: PRE_TOOL, end: SESSION_END, **dict.fromkeys(after, AFTER_TOOL)}


def answer_step(guard: Guard, step: str | None, call: ToolCall, deny: Callable[[str], Answer],
                *, via: str, reason: str | None = None, project: str | None = None) -> Answer:
    """The pipeline's step for one event (`via`, its name, for the log); the answer in the
    agent's own form."""
    if step == PRE_TOOL:
        if not call.tool:
            raise PayloadError("the pre-tool payload names no tool")
        refused = guard.pre_tool(call)
        return ALLOW if refused is None else deny(refused)
    if step == AFTER_TOOL:
        # A shell line of the holder's own that switched branch: the branch is its own now.
        switched = call.kind == SHELL and switched_branch(call.command)
        guard.refresh(call, via, switched, project)
    elif step == SESSION_END:
        guard.release(call, reason, project)
    return ALLOW


def handle_payload(guard: Guard, payload: dict[str, Any], agent_steps: dict[str, str],
                   make_call: Callable[[dict[str, Any]], ToolCall],
                   deny: Callable[[str], Answer], project: str | None = None) -> Answer:
    """A payload that names its event (`hook_event_name`): its step, or nothing to do."""
    event = str_field(payload, "hook_event_name")
    step = agent_steps.get(event)
    if step is None:
        return ALLOW
    return answer_step(guard, step, make_call(payload), deny, via=event,
                       reason=optional_str(payload, "reason"), project=project)

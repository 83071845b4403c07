"""The shared basics of the agent adapters other than Claude Code's.

An adapter turns its agent's payload into a `ToolCall` (or a session event), asks `Guard`,
and writes the answer in the one form its agent honours. What is the same for every agent
lives here: reading the payload, which tree a call acts on, the lease steps, and the
failure policy (a crash or a bad payload never blocks every call; `GUARD_FAIL_CLOSED=1`
denies instead). Standard library only: this runs on every tool call of every agent.
"""

from __future__ import annotations

import sys

from worktree_guard.core import events
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
from worktree_guard.core.identity import AGENT_CODEX, AGENT_GEMINI, find_agent_ancestor
from worktree_guard.core.lease import Caller, LeaseStore, Result, now_ms
from worktree_guard.core.record import LeaseRecord
from worktree_guard.core.workspace import (
    Workspace,
    current_branch,
    find_workspace,
    trees_on_ref,
)
from worktree_guard.lite import deadline, fastjson, system

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    from worktree_guard.core.identity import ProcessId
    from worktree_guard.shell.targets import Unsure

# Well inside every client's timeout (install sets 10 s for each agent).
DEADLINE_S = 4.0

# What a tool call does, as the core sees it.
FILES = "files"  # writes the files named in `paths`
SHELL = "shell"  # runs `command`
OTHER = "other"  # reads or talks: never guarded


class PayloadError(Exception):
    """The payload is not what the agent sends."""


class ToolCall:
    """One pre-tool call of any agent, in the core's terms."""

    __slots__ = ("command", "cwd", "kind", "paths", "session", "tool")

    def __init__(self, tool: str, kind: str, session: str, cwd: str,
                 paths: tuple[str, ...] = (), command: str | None = None) -> None:
        self.tool = tool
        self.kind = kind
        self.session = session
        self.cwd = cwd
        self.paths = paths  # as the agent gave them: absolute, or relative to cwd
        self.command = command


def read_payload(raw: bytes) -> dict[str, Any]:
    try:
        payload = fastjson.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise PayloadError(f"stdin is not JSON ({type(exc).__name__})") from None
    if not isinstance(payload, dict):
        raise PayloadError("stdin is not a JSON object")
    return payload


def str_field(payload: Mapping[str, Any], name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value:
        raise PayloadError(f"field {name!r} is missing or not a string")
    return value


def optional_str(mapping: Any, name: str) -> str | None:
    value = mapping.get(name) if isinstance(mapping, dict) else None
    return value if isinstance(value, str) and value else None


def nearest_existing_dir(path: str) -> str:
    folder = system.dirname(system.abspath(path))
    while not system.isdir(folder):
        parent = system.dirname(folder)
        if parent == folder:
            break
        folder = parent
    return folder


def tree_of_path(path: str) -> Workspace | None:
    """The tree a write to `path` changes: symlinks resolved (a link in one tree may point
    into another), then the nearest folder that exists."""
    try:
        real = system.realpath(path)
    except (OSError, ValueError):
        return None
    if not system.isdir(real):  # a hard link of a held tree's file is that tree's
        from worktree_guard.core.hardlinks import lease_tree_of_link

        linked = lease_tree_of_link(real)
        if linked is not None:
            return linked
    folder = real if system.isdir(real) else nearest_existing_dir(real)
    return find_workspace(folder, {})


def workspaces_of(call: ToolCall) -> list[Workspace]:
    """The trees a file call acts on: each named file's tree, else the cwd's; no duplicates."""
    found: list[Workspace] = []
    for path in call.paths:
        ws = tree_of_path(system.join(call.cwd, path))
        if ws is not None and ws not in found:
            found.append(ws)
    if not call.paths:
        ws = find_workspace(call.cwd)
        if ws is not None:
            found.append(ws)
    return found


# git subcommands that put HEAD on another branch: after the holder's own, the branch it
# sees is its own. Anything else (`sleep 2; git log`) switches nothing, whatever its text.
_SWITCHING = frozenset({"checkout", "switch", "rebase", "pull", "bisect"})
# git subcommands that move the branch HEAD is on (refused while it is someone else's).
_BRANCH_MOVING = frozenset({"commit", "push", "merge", "cherry-pick", "revert", "am", "reset",
                            "pull", "rebase", "update-ref"})


def switched_branch(command: str | None) -> bool:
    """A shell line of the holder's own that switched branch (parsed, not grepped)."""
    if command is None or "git" not in command:
        return False
    from worktree_guard.shell.targets import git_subcommands

    for sub, args in git_subcommands(command) or []:
        if sub in _SWITCHING:
            return True
        if sub == "branch" and any(a in ("-m", "-M", "--move") for a in args):
            return True  # renaming the current branch
        if sub == "symbolic-ref" and len([a for a in args if not a.startswith("-")]) == 2:
            return True  # `git symbolic-ref HEAD refs/heads/x` is a checkout without files
    return False


def moves_a_branch(command: str) -> bool:
    from worktree_guard.shell.targets import git_subcommands

    found = git_subcommands(command)
    if found is None:
        return "git" in command  # cannot parse: unsure means yes
    return any(sub in _BRANCH_MOVING for sub, _ in found)


class TreeJudge:
    """The judgement every agent's hook makes of a call that changes trees: every tree a
    shell line may change (cd targets, `git -C`, paths, redirections), targets it cannot
    work out, branches checked out in another session's tree, and the all-or-none taking
    of the trees' leases. Reasons come back as text; each adapter words its own deny form.
    A subclass gives `settings`, `env`, `store`, `log`, `label` and `holder_process`."""

    settings: Settings
    env: Mapping[str, str]
    store: LeaseStore
    label: str  # the agent, as the lease record names it

    def log(self, event: str, **fields: Any) -> None:
        raise NotImplementedError

    def holder_process(self, wrapped: bool) -> ProcessId | None:
        raise NotImplementedError

    def judge_shell(self, command: str, cwd: str, session: str, wrapped: bool,
                    tool: str) -> str | None:
        """None to allow a mutating shell line, or why it is denied."""
        trees, doubts = self.shell_trees(command, cwd)
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
                Caller(session, holder, self.label),
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


def release_remote_leases(toplevel: str, session: str, log: Callable[..., None]) -> None:
    """SessionEnd: give up the branch leases this session took on the remotes (best effort:
    a remote out of reach keeps them until their ttl; see core/remote_lease.py)."""
    from worktree_guard.core.remote_lease import release_session  # git and the network

    try:
        release_session(toplevel, session, lambda event, **f: log(event, session=session, **f))
    except Exception as exc:  # a session's end is never held up by the remote
        log("remote_release_failed", session=session, workspace=toplevel, why=str(exc)[:200])


# Agents whose shells run git with its hooks off: git's pre-push never sees their pushes.
HOOKLESS_SHELLS = frozenset({AGENT_GEMINI, AGENT_CODEX})


def forced_push_reason(what: str) -> str:
    return (
        f"worktree-guard: this push may rewrite or delete a remote branch ({what}), and this "
        "agent's shell runs git without its hooks, so git's own push checks cannot run: "
        "refused for every session, the holder's included. Push without --force, --delete, "
        "--mirror or a `+` refspec (git refuses a push that is not a fast-forward by itself); "
        "if history must be rewritten on the remote, ask the user."
    )


class Guard(TreeJudge):
    """The lease steps every adapter takes, for one agent (`agent` names it in the record)."""

    def __init__(self, settings: Settings, env: Mapping[str, str], agent: str) -> None:
        self.settings = settings
        self.env = env
        self.agent = agent
        self.label = agent
        self.store = LeaseStore(settings.lock_dir, settings.ttl_ms, settings.lock_timeout_ms)

    def log(self, event: str, **fields: Any) -> None:
        events.append_event(self.settings.lock_dir, event, self.settings.log_max_bytes,
                            agent=self.agent, **fields)

    def session(self, payload_session: str) -> tuple[str, bool]:
        """The session id, and whether it came from `guard run` (which owns the holder pid)."""
        wrapped = self.env.get("GUARD_SESSION_ID", "").strip()
        return (wrapped, True) if wrapped else (payload_session, False)

    def holder_process(self, wrapped: bool) -> ProcessId | None:
        found = None if wrapped else find_agent_ancestor((self.agent,))
        return found[1] if found else None

    def pre_tool(self, call: ToolCall) -> str | None:
        """None to allow the call, or the reason it is denied (the agent's model reads it)."""
        if call.kind == OTHER:
            return None
        session, wrapped = self.session(call.session)
        if call.kind == SHELL:
            if call.command is None:
                return None
            # Loaded only for shell calls: the classifier needs `re`, the file tools do not.
            from worktree_guard.shell.classify import classify_command

            verdict = classify_command(call.command, (self.settings.lock_dir,))
            if verdict.disables_git_hooks:
                self.log("denied", session=session, tool=call.tool, cwd=call.cwd,
                         why=f"no git hooks: {verdict.reason}")
                return bypass_reason(verdict.reason)
            if verdict.read_only:
                return None
            if self.agent in HOOKLESS_SHELLS:
                from worktree_guard.shell.pushes import history_rewriting_push

                push = history_rewriting_push(call.command)
                if push is not None:
                    self.log("denied", session=session, tool=call.tool, cwd=call.cwd,
                             why=f"push in a shell without git hooks: {push}")
                    return forced_push_reason(push)
            # Every tree the line may change, as for Claude Code's Bash (`git worktree add`,
            # the way out a deny offers, needs only the new tree's folder): these agents'
            # shells run with git hooks off, so this is the only judge.
            return self.judge_shell(call.command, call.cwd, session, wrapped, call.tool)
        return self.acquire_all(workspaces_of(call), session, wrapped, call.tool, call.cwd)

    def refresh(self, payload_session: str, cwd: str, via: str, switched: bool = False) -> None:
        session, _ = self.session(payload_session)
        ws = find_workspace(cwd)
        if ws is None:
            return
        # The branch is recorded only after the holder's own git command (hijack detection).
        branch = current_branch(ws) if switched else None
        outcome = self.store.refresh(ws.key, session, branch, self.settings.refresh_interval_ms)
        if outcome.result is Result.REFRESHED and outcome.previous is not outcome.record:
            self.log("refreshed", session=session, key=ws.key, via=via)

    def release(self, payload_session: str, cwd: str, reason: str | None) -> None:
        session, wrapped = self.session(payload_session)
        if wrapped:
            return  # `guard run` releases its own lease when its command ends
        ws = find_workspace(cwd)
        if ws is None:
            return
        if self.store.release(ws.key, session).result is Result.RELEASED:
            self.log("released", session=session, key=ws.key, workspace=ws.toplevel,
                     reason=reason)
        release_remote_leases(ws.toplevel, session, self.log)

    def start_context(self, payload_session: str, cwd: str) -> str | None:
        """What a new session should know: another live session holds its tree."""
        session, _ = self.session(payload_session)
        ws = find_workspace(cwd)
        if ws is None:
            return None
        now = now_ms()
        view = self.store.read(ws.key)
        if self.store.state_of(view, session, now) is not LeaseState.HELD_BY_OTHER:
            return None
        return session_start_context(ws.toplevel, holder_facts(view, now))


class Answer:
    """What the hook process says: stdout, stderr, exit code."""

    __slots__ = ("exit_code", "stderr", "stdout")

    def __init__(self, stdout: str = "", stderr: str = "", exit_code: int = 0) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self.exit_code = exit_code


ALLOW = Answer()


def run_adapter(
    agent: str,
    handle: Callable[[Guard, dict[str, Any]], Answer],
    deny: Callable[[str], Answer],
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
) -> int:
    """One hook call: never a traceback, never a hang, an exit code the agent reads right.

    `deny` builds the agent's deny answer; on an internal error it is used only under
    `GUARD_FAIL_CLOSED=1` (and only for a pre-tool event), else the call is allowed.
    """
    environ = system.environ() if env is None else env
    event = "?"
    deadline.arm(DEADLINE_S)
    try:
        settings = load_settings(environ)
        payload = read_payload(sys.stdin.buffer.read() if stdin is None else stdin)
        raw = payload.get("hook_event_name")
        event = raw if isinstance(raw, str) else "?"
        answer = handle(Guard(settings, environ, agent), payload)
        deadline.disarm()
    except BaseException as exc:  # the failure policy: one line, an event, and a decision
        deadline.disarm()
        answer = failure_answer(agent, environ, event, exc, deny)
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

    unrecorded = (failopen.record(settings, f"{agent} {event} hook", what, closed, agent=agent,
                                  hook_event=event)
                  if settings is not None else " (not recorded: settings unreadable)")
    line = (f"worktree-guard: internal error in {printable(agent)} {printable(event)} hook, "
            f"{verdict}: {printable(what)}{unrecorded}")
    if closed and event not in ("SessionEnd", "sessionEnd", "Stop", "AfterTool", "AfterAgent",
                                "PostToolUse", "postToolUse", "SessionStart"):
        return deny(f"worktree-guard could not decide ({what}) and GUARD_FAIL_CLOSED=1 is set.")
    return Answer(stderr=line)

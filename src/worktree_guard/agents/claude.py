"""`guard hook`: one Claude Code hook payload on stdin, the hook's answer on stdout.

Runs before and after every tool call, so it imports the standard library only and does
no work that grows with the repository or the number of leases.
Exit code is always 0: a deny is the JSON `permissionDecision: "deny"` form, which the
client honours and shows the model; any other exit would fail open without a word.
"""

from __future__ import annotations

import os
import sys

from worktree_guard.core import events
from worktree_guard.core.config import Settings, load_settings
from worktree_guard.core.decide import (
    LeaseState,
    ToolAction,
    branch_owned_refused,
    bypass_reason,
    classify_tool,
    deny_reason,
    foreign_branch_reason,
    hijack_reason,
    holder_facts,
    is_hijack,
    on_foreign_branch,
    session_start_context,
    unsure_reason,
)
from worktree_guard.core.identity import find_agent
from worktree_guard.core.lease import Caller, LeaseStore, Result, now_ms
from worktree_guard.core.protected import protected_reason
from worktree_guard.core.record import LeaseRecord
from worktree_guard.core.workspace import (
    Workspace,
    current_branch,
    find_workspace,
    trees_on_ref,
)
from worktree_guard.lite import deadline, fastjson

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from worktree_guard.shell.targets import Unsure

GUARDED_TOOLS = frozenset({"Edit", "Write", "MultiEdit", "NotebookEdit", "Bash"})
# Client tools judged on purpose (Claude Code 2.1.332), by what they change:
# - EnterWorktree, and Agent with `isolation: "worktree"`, make a NEW tree under
#   <project>/.claude/worktrees/ for the session to work in: the way out, allowed for all;
# - ExitWorktree {action: "remove"} deletes the tree the session is in: that tree's lease;
# - CronCreate {durable: true} writes <tree>/.claude/scheduled_tasks.json: the cwd's lease.
CLIENT_TOOLS = frozenset({"EnterWorktree", "ExitWorktree", "Agent", "CronCreate"})
# The whole hook must answer well inside the client's timeout (install sets 10 s).
_DEADLINE_S = 4.0


class PayloadError(Exception):
    """The payload is not what Claude Code sends."""



class HookAnswer:
    __slots__ = ("stdout",)

    def __init__(self, stdout: str = "") -> None:
        self.stdout = stdout


ALLOW = HookAnswer()


def _deny(reason: str) -> HookAnswer:
    body = {
        "hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "permissionDecision": "deny",
            "permissionDecisionReason": reason,
        }
    }
    return HookAnswer(fastjson.dumps(body))


def _str_field(payload: dict[str, Any], name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value:
        raise PayloadError(f"field {name!r} is missing or not a string")
    return value


def _target_workspace(payload: dict[str, Any], cwd: str) -> Workspace | None:
    """The tree a call acts on: the edited file's tree for file tools, else the cwd's."""
    tool_input = payload.get("tool_input")
    if isinstance(tool_input, dict):
        for name in ("file_path", "notebook_path"):
            path = tool_input.get(name)
            if isinstance(path, str) and path:
                return _tree_of_path(os.path.join(cwd, path))
    return find_workspace(cwd)


def _tree_of_path(path: str) -> Workspace | None:
    """The tree a write to `path` changes: symlinks resolved (a link in one tree may point
    into another), then the nearest folder that exists."""
    try:
        real = os.path.realpath(path)
    except (OSError, ValueError):
        return None
    folder = real if os.path.isdir(real) else _nearest_existing_dir(real)
    return find_workspace(folder, {})


# git subcommands that put HEAD on another branch: after the holder's own, the branch it
# sees is its own. Anything else (`sleep 2; git log`) switches nothing, whatever its text.
_SWITCHING = frozenset({"checkout", "switch", "rebase", "pull", "bisect"})
# git subcommands that move the branch HEAD is on (refused while it is someone else's).
_BRANCH_MOVING = frozenset({"commit", "push", "merge", "cherry-pick", "revert", "am", "reset",
                            "pull", "rebase", "update-ref"})


def _switched_branch(payload: dict[str, Any]) -> bool:
    """A Bash call of the holder's own that switched branch (parsed, not grepped)."""
    tool_input = payload.get("tool_input")
    command = tool_input.get("command") if isinstance(tool_input, dict) else None
    if payload.get("tool_name") != "Bash" or not isinstance(command, str) or "git" not in command:
        return False
    from worktree_guard.shell.targets import git_subcommands

    for sub, args in git_subcommands(command) or []:
        if sub in _SWITCHING:
            return True
        if sub == "branch" and any(a in ("-m", "-M", "--move") for a in args):
            return True  # renaming the current branch
    return False


def _moves_a_branch(command: str) -> bool:
    from worktree_guard.shell.targets import git_subcommands

    found = git_subcommands(command)
    if found is None:
        return "git" in command  # cannot parse: unsure means yes
    return any(sub in _BRANCH_MOVING for sub, _ in found)


def _nearest_existing_dir(path: str) -> str:
    folder = os.path.dirname(os.path.abspath(path))
    while not os.path.isdir(folder):
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    return folder


class ClaudeHook:
    def __init__(self, settings: Settings, env: Mapping[str, str]) -> None:
        self.settings = settings
        self.env = env
        self.store = LeaseStore(settings.lock_dir, settings.ttl_ms, settings.lock_timeout_ms)

    def log(self, event: str, **fields: Any) -> None:
        events.append_event(self.settings.lock_dir, event, self.settings.log_max_bytes, **fields)

    def session_of(self, payload: dict[str, Any]) -> tuple[str, bool]:
        """The session id, and whether it came from `guard run` (which owns the holder pid)."""
        wrapped = self.env.get("GUARD_SESSION_ID", "").strip()
        return (wrapped, True) if wrapped else (_str_field(payload, "session_id"), False)

    def handle(self, payload: dict[str, Any]) -> HookAnswer:
        event = _str_field(payload, "hook_event_name")
        if event == "PreToolUse":
            return self.pre_tool_use(payload)
        if event in ("PostToolUse", "PostToolUseFailure", "Stop"):
            return self.refresh(payload, event)
        if event == "SessionEnd":
            return self.session_end(payload)
        if event == "SessionStart":
            return self.session_start(payload)
        return ALLOW

    def pre_tool_use(self, payload: dict[str, Any]) -> HookAnswer:
        tool = _str_field(payload, "tool_name")
        if tool in CLIENT_TOOLS:
            return self.client_tool(payload, tool)
        if tool not in GUARDED_TOOLS:
            return ALLOW
        cwd = _str_field(payload, "cwd")
        session, wrapped = self.session_of(payload)
        read_only, bypass, why = False, False, ""
        command: str | None = None
        if tool == "Bash":
            tool_input = payload.get("tool_input")
            raw = tool_input.get("command") if isinstance(tool_input, dict) else None
            if isinstance(raw, str):
                command = raw
                # Loaded only for Bash: the classifier needs `re`, the file tools do not.
                from worktree_guard.shell.classify import classify_command

                verdict = classify_command(command, (self.settings.lock_dir,))
                read_only = verdict.read_only
                bypass = verdict.disables_git_hooks
                why = verdict.reason
        action = classify_tool(tool, read_only, bypass)
        if tool != "Bash" and action is ToolAction.MUTATING:
            protected = self.protected_target(payload, cwd)
            if protected is not None:
                action, why = ToolAction.BYPASSES_HOOKS, protected
        if action is ToolAction.BYPASSES_HOOKS:
            self.log("denied", session=session, tool=tool, cwd=cwd, why=f"no git hooks: {why}")
            return _deny(bypass_reason(why))
        if action is ToolAction.READ_ONLY:
            return ALLOW
        if command is not None:
            trees, doubts = self._bash_trees(command, cwd)
        else:
            ws = _target_workspace(payload, cwd)
            trees, doubts = ([ws] if ws is not None else []), []
        for doubt in doubts:
            answer = self._judge_doubt(doubt, session, tool, cwd)
            if answer is not None:
                return answer
        if command is not None:
            answer = self._judge_branches(command, cwd, session, tool)
            if answer is not None:
                return answer
        return self._acquire_all(trees, session, wrapped, tool, cwd, command)

    def _judge_branches(self, command: str, cwd: str, session: str, tool: str
                        ) -> HookAnswer | None:
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
                return _deny(branch_owned_refused(ref, tree.toplevel, facts, checkout))
        return None

    def client_tool(self, payload: dict[str, Any], tool: str) -> HookAnswer:
        """The client's own tools that change trees (see CLIENT_TOOLS for the rules)."""
        tool_input = payload.get("tool_input")
        args = tool_input if isinstance(tool_input, dict) else {}
        changes_cwd_tree = (
            (tool == "ExitWorktree" and args.get("action") == "remove")
            or (tool == "CronCreate" and args.get("durable") is True)
        )
        if not changes_cwd_tree:
            return ALLOW
        cwd = _str_field(payload, "cwd")
        session, wrapped = self.session_of(payload)
        ws = find_workspace(cwd)
        return self._acquire_all([ws] if ws else [], session, wrapped, tool, cwd)

    def _bash_trees(self, command: str, cwd: str) -> tuple[list[Workspace], list[Unsure]]:
        """Every working tree the line may change (see shell/targets.py), and the targets
        that could not be worked out; a folder in no repository needs no lease."""
        from worktree_guard.shell.classify import command_targets

        home = self.env.get("HOME") or None
        targets = command_targets(command, cwd, home)
        trees: list[Workspace] = []
        for path in targets.paths:
            ws = _tree_of_path(path)
            if ws is not None and ws not in trees:
                trees.append(ws)
        for doubt in targets.unsure:
            if doubt.below is not None:
                ws = _tree_of_path(doubt.below)
                if ws is not None and ws not in trees:
                    trees.append(ws)
        return trees, targets.unsure

    def _judge_doubt(self, doubt: Unsure, session: str, tool: str, cwd: str) -> HookAnswer | None:
        """A target that could not be worked out is judged by the trees it may reach: a
        deny when one of them is held by another live session."""
        below = os.path.realpath(doubt.below) if doubt.below is not None else None
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
            return _deny(unsure_reason(doubt.why, view.workspace, holder_facts(view, now)))
        return None

    def _acquire_all(
        self, trees: list[Workspace], session: str, wrapped: bool, tool: str, cwd: str,
        command: str | None = None,
    ) -> HookAnswer:
        """Take every tree a call may change, in key order (two sessions wanting the same
        trees meet at the first one, so neither waits on the other); when one is busy, the
        ones this call took are given back and the call is denied: never a partial grab."""
        holder = None if wrapped else find_agent(self.env)
        taken: list[Workspace] = []
        answer = ALLOW
        for ws in sorted(trees, key=lambda w: w.key):
            branch = current_branch(ws)
            outcome = self.store.acquire(
                ws.key,
                Caller(session, holder, "claude-code"),
                ws.toplevel,
                branch,
                self.settings.refresh_interval_ms,
                keep_branch=True,  # a PreToolUse switches nothing: a new HEAD is not its own
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
                return _deny(deny_reason(ws.toplevel, facts, elsewhere=home_tree is None
                                         or home_tree.key != ws.key))
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
                    answer = _deny(hijack_reason(own, branch))
                elif (command is not None and on_foreign_branch(own, branch)
                        and _moves_a_branch(command)):
                    self.log("denied", why="foreign branch", branch_own=own,
                             branch_now=branch, **common)
                    answer = _deny(foreign_branch_reason(own, branch, "this command"))
            elif outcome.previous is not outcome.record:
                self.log("refreshed", **common)
        return answer

    def protected_target(self, payload: dict[str, Any], cwd: str) -> str | None:
        """A file tool aimed at the hooks folder, git's config or the lock folder."""
        tool_input = payload.get("tool_input")
        if not isinstance(tool_input, dict):
            return None
        for name in ("file_path", "notebook_path", "path"):
            path = tool_input.get(name)
            if isinstance(path, str) and path:
                # realpath: a symlink or `..` elsewhere must not hide the folder it reaches.
                reason = protected_reason(os.path.realpath(os.path.join(cwd, path)),
                                          self.settings.lock_dir)
                if reason is not None:
                    return reason
        return None

    def _workspaces_of(self, payload: dict[str, Any]) -> list[Workspace]:
        cwd = payload.get("cwd")
        found: list[Workspace] = []
        if isinstance(cwd, str) and cwd:
            ws = _target_workspace(payload, cwd)
            if ws is not None:
                found.append(ws)
        # The project folder does not follow a `cd` in the Bash tool; the lease may be there.
        project = self.env.get("CLAUDE_PROJECT_DIR", "")
        if project and project != cwd:  # mostly the same folder: no second walk then
            ws = find_workspace(project)
            if ws is not None and all(w.key != ws.key for w in found):
                found.append(ws)
        return found

    def refresh(self, payload: dict[str, Any], event: str) -> HookAnswer:
        session, wrapped = self.session_of(payload)
        # Only from the holder's own process tree: a forged payload elsewhere changes nothing.
        holder = None if wrapped else find_agent(self.env)
        own_git = _switched_branch(payload)
        for ws in self._workspaces_of(payload):
            # The branch is recorded only after the holder's own git command: a switch made
            # by someone else while a long command ran must still be reported as a hijack.
            branch = current_branch(ws) if own_git else None
            outcome = self.store.refresh(ws.key, session, branch,
                                         self.settings.refresh_interval_ms, holder)
            if outcome.result is Result.REFRESHED and outcome.previous is not outcome.record:
                self.log("refreshed", session=session, key=ws.key, via=event)
        return ALLOW

    def session_end(self, payload: dict[str, Any]) -> HookAnswer:
        session, wrapped = self.session_of(payload)
        if wrapped:
            return ALLOW  # `guard run` releases its own lease when its command ends
        for ws in self._workspaces_of(payload):
            outcome = self.store.release(ws.key, session, find_agent(self.env))
            if outcome.result is Result.RELEASED:
                reason = payload.get("reason")
                self.log("released", session=session, key=ws.key, workspace=ws.toplevel,
                         reason=reason if isinstance(reason, str) else None)
        return ALLOW

    def session_start(self, payload: dict[str, Any]) -> HookAnswer:
        session, wrapped = self.session_of(payload)
        cwd = _str_field(payload, "cwd")
        ws = find_workspace(cwd)
        if ws is None:
            return ALLOW
        now = now_ms()
        view = self.store.read(ws.key)
        agent = None if wrapped else find_agent(self.env)
        state = self.store.state_of(view, session, now, agent)
        resumed = (state is LeaseState.DEAD and isinstance(view, LeaseRecord)
                   and view.session_id == session)
        if (state is LeaseState.HELD_BY_CALLER or resumed) and not wrapped:
            # `claude --resume`: the same session in a new process; record the new holder
            # (the old one is gone: a live one elsewhere would still hold the tree).
            self.store.acquire(ws.key, Caller(session, agent, "claude-code"),
                               ws.toplevel, current_branch(ws))
            return ALLOW
        if state is not LeaseState.HELD_BY_OTHER:
            return ALLOW
        context = session_start_context(ws.toplevel, holder_facts(view, now))
        body = {"hookSpecificOutput": {"hookEventName": "SessionStart",
                                       "additionalContext": context}}
        return HookAnswer(fastjson.dumps(body))


def _read_payload(raw: bytes) -> dict[str, Any]:
    try:
        payload = fastjson.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise PayloadError(f"stdin is not JSON ({type(exc).__name__})") from None
    if not isinstance(payload, dict):
        raise PayloadError("stdin is not a JSON object")
    return payload


def run(env: Mapping[str, str] | None = None) -> int:
    """The `guard hook` command. Never a traceback, never an exit code but 0, never a hang."""
    environ = os.environ if env is None else env
    settings = load_settings(environ)
    event = "?"
    deadline.arm(_DEADLINE_S)
    try:
        payload = _read_payload(sys.stdin.buffer.read())
        raw_event = payload.get("hook_event_name")
        event = raw_event if isinstance(raw_event, str) else "?"
        answer = ClaudeHook(settings, environ).handle(payload)
        deadline.disarm()
    except BaseException as exc:  # the failure policy: one line, an event, and a decision
        deadline.disarm()
        answer = _failure_answer(settings, event, exc)
    if answer.stdout:
        sys.stdout.write(answer.stdout + "\n")
        sys.stdout.flush()
    return 0


def _failure_answer(settings: Settings, event: str, exc: BaseException) -> HookAnswer:
    from worktree_guard.core import failopen  # the failure path only
    from worktree_guard.core.printable import printable

    timed_out = isinstance(exc, deadline.DeadlineExceeded)
    what = "timed out" if timed_out else f"{type(exc).__name__}: {exc}"
    closed = settings.fail_closed
    verdict = "denying (GUARD_FAIL_CLOSED=1)" if closed else "allowing"
    unrecorded = failopen.record(settings, f"{event} hook", what, closed, hook_event=event)
    print(f"worktree-guard: internal error in {printable(event)} hook, {verdict}: "
          f"{printable(what)}{unrecorded}", file=sys.stderr)  # one line, whatever the error
    if closed and event in ("PreToolUse", "?"):
        return _deny(f"worktree-guard could not decide ({what}) and GUARD_FAIL_CLOSED=1 is set.")
    return ALLOW

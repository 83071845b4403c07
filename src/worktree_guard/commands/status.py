"""`guard status` and `guard list`: what a lease says, and what guard has installed here.

Gathering (files, /proc, git) is kept apart from the plain dicts it produces, which are
both the `--json` output and the input of the text rendering.
"""

from __future__ import annotations

import os
import stat
from typing import Any

from worktree_guard.core import failopen
from worktree_guard.core.config import LockDirError, Settings
from worktree_guard.core.decide import LeaseState, format_ago
from worktree_guard.core.identity import Liveness, liveness, session_from_env
from worktree_guard.core.lease import LeaseStore, now_ms
from worktree_guard.core.printable import printable
from worktree_guard.core.record import LeaseRecord, LeaseView, RecordKind, UnreadableLease
from worktree_guard.core.workspace import current_branch, find_workspace
from worktree_guard.git.shims import CHAINED_SUFFIX, HOOK_NAMES, STRICT_ONLY, is_guard_shim
from worktree_guard.install.managers import read_hook_files, where_guard_runs
from worktree_guard.install.settings import SettingsError, find_guard, parse_settings
from worktree_guard.install.targets import RepoPaths, Scope, settings_path


def store_for(settings: Settings) -> LeaseStore:
    return LeaseStore(settings.lock_dir, settings.ttl_ms, settings.lock_timeout_ms)


def holder_liveness(view: LeaseView) -> Liveness | None:
    """ALIVE/DEAD/UNKNOWN for a record naming its holder process; None when it names none."""
    if isinstance(view, LeaseRecord) and view.kind is RecordKind.OURS and view.pid is not None:
        holder = view.holder_process()
        return liveness(holder) if holder is not None else None
    return None


def _state_name(state: LeaseState, view: LeaseView) -> str:
    if state is LeaseState.HELD_BY_OTHER and isinstance(view, UnreadableLease):
        return "unreadable"
    if state in (LeaseState.HELD_BY_CALLER, LeaseState.HELD_BY_OTHER):
        return "held"
    return str(state.value)  # free, expired, dead


def summarize(
    key: str,
    view: LeaseView,
    state: LeaseState,
    alive: Liveness | None,
    now: int,
    default_ttl_ms: int,
) -> dict[str, Any]:
    """One lease as plain data (pure: everything it needs comes in)."""
    info: dict[str, Any] = {
        "key": key,
        "state": _state_name(state, view),
        "held_by_you": state is LeaseState.HELD_BY_CALLER,
    }
    if isinstance(view, UnreadableLease):
        info.update(unreadable_reason=view.reason, idle_ms=now - view.mtime_ms,
                    ttl_left_ms=max(0, view.mtime_ms + default_ttl_ms - now))  # fmt: skip
        return info
    if isinstance(view, LeaseRecord):
        info.update(
            session_id=view.session_id,
            agent=view.agent,
            pid=view.pid if view.kind is RecordKind.OURS else None,
            alive=alive.value if alive is not None else None,
            workspace=view.workspace,
            branch=view.branch,
            acquired_at=view.acquired_at,
            last_active_at=view.last_active_at,
            held_for_ms=now - view.acquired_at,
            idle_ms=now - view.last_active_at,
            ttl_ms=view.ttl_ms,
            ttl_left_ms=max(0, view.expires_at - now),
            generation=view.generation,
            record_kind=view.kind.value,
        )
    return info


def lease_summary(store: LeaseStore, key: str, session: str | None) -> dict[str, Any]:
    now = now_ms()
    view = store.read(key)
    state = store.state_of(view, session, now)
    return summarize(key, view, state, holder_liveness(view), now, store.ttl_ms)


# ---- what is installed -------------------------------------------------------------------------


def settings_info(path: str) -> dict[str, Any]:
    info: dict[str, Any] = {"path": path, "exists": os.path.isfile(path)}
    if not info["exists"]:
        return info
    try:
        with open(path, encoding="utf-8") as fh:
            entries = find_guard(parse_settings(fh.read(), path))
    except (OSError, UnicodeDecodeError, SettingsError) as exc:
        info["error"] = str(exc)
        return info
    info.update(
        guard_events=sorted(entries.events),
        missing_events=entries.missing_events,
        executables=sorted({exe for exes in entries.events.values() for exe in exes}),
        statusline=entries.statusline is not None,
        hooks_disabled=entries.hooks_disabled,
    )
    return info


def hook_state(folder: str, name: str) -> str:
    """guard | guard+chained | guard via <name>.legacy | foreign | missing (the state of one
    git hook file; "guard via" when a manager's hook in front runs guard's shim first)."""
    path = os.path.join(folder, name)
    if not os.path.lexists(path):
        return "missing"
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read(65_536)
    except OSError:
        return "foreign"
    if not is_guard_shim(text):
        alias = where_guard_runs(read_hook_files(folder, name))
        return f"guard via {name}{alias}" if alias else "foreign"
    return "guard+chained" if os.path.lexists(path + CHAINED_SUFFIX) else "guard"


def installed_info(repo: RepoPaths) -> dict[str, Any]:
    """What is installed, judged as doctor judges it (one verdict per git hook, from
    doctor's own check), so status and doctor never disagree."""
    from worktree_guard.commands.doctor import check_hook
    from worktree_guard.commands.doctor_agents import plugin_enabled

    hooks = git_hook_states(repo.hooks_dir)
    return {
        "claude_settings": {
            scope.value: settings_info(settings_path(scope, repo.toplevel)) for scope in Scope
        },
        "claude_plugin": plugin_enabled(repo.toplevel),
        "hooks_dir": repo.hooks_dir,
        "core_hooks_path": repo.hooks_path_config,
        "git_hooks": hooks,
        # True when guard's check runs for the hook: its shim that starts guard, pre-commit's
        # hook running the shim, a manager's script (husky's) with guard's line.
        "git_hooks_working": {name: check_hook(repo, name).level != "fail" for name in hooks},
    }


def git_hook_states(folder: str) -> dict[str, str]:
    """The state of each git hook guard installs; the strict-only ones when present."""
    states = {name: hook_state(folder, name) for name in HOOK_NAMES}
    return {name: state for name, state in states.items()
            if name not in STRICT_ONLY or state != "missing"}


def installed_summary(installed: dict[str, Any]) -> str:
    scopes = [
        scope
        for scope, info in installed["claude_settings"].items()
        if info.get("guard_events") and not info.get("missing_events")
    ]
    hooks = installed["git_hooks"]
    working = installed.get("git_hooks_working") or {
        name: state.startswith("guard") for name, state in hooks.items()}
    guarded = [name for name in hooks if working.get(name)]
    broken = [name for name, state in hooks.items()
              if state.startswith("guard") and not working.get(name)]
    claude = (
        f"Claude Code hooks in {', '.join(scopes)} settings" if scopes else "no Claude Code hooks"
    )
    if installed.get("claude_plugin"):
        claude = ("Claude Code hooks from the plugin" if not scopes
                  else f"{claude} and from the plugin")
    if len(guarded) == len(hooks):
        extra = sorted(STRICT_ONLY & set(guarded))
        if len(extra) == len(STRICT_ONLY):
            git = "all git hooks (strict)"
        elif extra:  # a strict install half undone (a strict-only hook removed by hand)
            git = f"all git hooks, and {', '.join(extra)} of the strict install"
        else:
            git = "all git hooks"
    elif guarded:
        git = f"git hooks {', '.join(guarded)} only"
    else:
        git = "no git hooks"
    if broken:
        git += f" (guard's shims for {', '.join(broken)} start nothing: guard doctor)"
    return f"{claude}; {git}"


# ---- status ---------------------------------------------------------------------------------


def status_data(repo: RepoPaths, settings: Settings, with_lease: bool = True) -> dict[str, Any]:
    """What `status --json` prints; without the lease (state `unknown`) when the lock
    folder cannot be used, for the text view to say so."""
    ws = find_workspace(repo.toplevel)
    branch = current_branch(ws) if ws is not None else None
    if with_lease:
        lease = lease_summary(store_for(settings), repo.key, session_from_env())
    else:
        lease = {"key": repo.key, "state": "unknown", "held_by_you": False}
    try:
        lock_dir: str | None = settings.lock_dir
    except LockDirError:
        lock_dir = None
    return {
        "workspace": repo.toplevel,
        "key": repo.key,
        "branch": branch,
        "lock_dir": lock_dir,
        "lease": lease,
        "installed": installed_info(repo),
    }


def _sandbox(toplevel: str) -> str:
    from worktree_guard.commands.sandbox_mode import sandbox_line

    return sandbox_line(toplevel)


def _ms_left(ms: int | None) -> str:
    if ms is None:
        return "?"
    seconds = max(0, ms) // 1000
    return f"{seconds // 60}m {seconds % 60}s" if seconds >= 60 else f"{seconds}s"


_LABEL_WIDTH = 12


def _line(label: str, value: str) -> str:
    return f"{label + ':' if label else '':<{_LABEL_WIDTH}}{value}"


class Viewer:
    """Who is looking, and what the tree's rules mean for them: text only, so `--json`
    stays as it was."""

    def __init__(self, session: str | None, human_policy: str, failed_open: str | None,
                 lock_problem: str | None) -> None:  # fmt: skip
        self.session = session  # None: a person
        self.human_policy = human_policy  # warn | deny | allow
        self.failed_open = failed_open  # the failed-open line, until acknowledged
        self.lock_problem = lock_problem  # why the lock folder cannot be used


def _holder_label(lease: dict[str, Any], viewer: Viewer) -> str:
    if lease.get("held_by_you"):
        return "held by you (this session)"
    return "held by a session" if viewer.session is None else "held by another session"


def describe_lease(lease: dict[str, Any], viewer: Viewer) -> list[str]:
    """The lease as `label: value` lines for people; every value printable."""
    state = lease["state"]
    if state == "free":
        return [_line("lease", "free")]
    if state == "unknown":
        return [_line("lease", "unknown: the lock folder cannot be used")]
    if state == "unreadable":
        return [
            _line("lease", "held by an unknown session (unreadable lease file: "
                  f"{printable(str(lease['unreadable_reason']))})"),
            _line("written", f"{format_ago(lease.get('idle_ms'))}; "
                  f"ttl left {_ms_left(lease.get('ttl_left_ms'))}"),
        ]  # fmt: skip
    label = {
        "held": _holder_label(lease, viewer),
        "expired": "free (lease expired: its holder was idle for a ttl)",
        "dead": "free (its holder process is gone)",
    }[state]
    pid = lease.get("pid")
    alive = lease.get("alive")
    process = f"{pid} ({alive})" if pid is not None else "unknown"
    branch = lease.get("branch")
    lines = [
        _line("lease", label),
        _line("session", printable(str(lease["session_id"]))),
        _line("agent", printable(str(lease.get("agent") or "unknown"))),
        _line("pid", process),
        _line("its branch", f"{printable(branch)} (when it last acted)" if branch else "unknown"),
        _line("acquired", format_ago(lease.get("held_for_ms"))),
        _line("active", format_ago(lease.get("idle_ms"))),
    ]
    if state == "held":  # a stale lease has no time left worth showing
        lines.append(_line("ttl left", _ms_left(lease.get("ttl_left_ms"))))
    return lines


def _you(viewer: Viewer) -> str:
    if viewer.session is None:
        return "a person (no agent session id in this environment)"
    return f"agent session {printable(viewer.session)}"


_PERSON_HELD = {
    "warn": "your edits are not stopped; your commits and pushes here go ahead with a "
            "warning (guard.humanPolicy=warn)",
    "deny": "your commits and pushes here are refused (guard.humanPolicy=deny)",
    "allow": "guard does not stop or warn you (guard.humanPolicy=allow)",
}  # fmt: skip


def for_you(lease: dict[str, Any], viewer: Viewer) -> str:
    """What the lease means for whoever runs `guard status` (pure)."""
    state = lease["state"]
    if state == "unknown":
        return "guard is not guarding this tree: every hook fails open (allows) until the " \
               "lock folder is fixed"
    held = state in ("held", "unreadable")
    if not held:
        if viewer.session is None:
            return "nothing held; the first agent session that changes something takes the lease"
        return "you may go ahead: your first change takes the lease"
    if lease.get("held_by_you"):
        return "you hold this tree: your edits, commits and pushes go ahead"
    if viewer.session is None:
        return (f"{_PERSON_HELD.get(viewer.human_policy, _PERSON_HELD['warn'])}; other agent "
                "sessions are refused until it ends. If it is gone: guard release --force")
    return ("your edits, changing commands and commits here are refused until it ends; "
            "work in your own tree: git worktree add ../<name> -b <branch>")


def render_status(data: dict[str, Any], viewer: Viewer) -> str:
    lines = []
    if viewer.failed_open is not None:
        lines += [_line("WARNING", viewer.failed_open),
                  _line("", "`guard log` shows each; once looked at: guard doctor --ack")]
    if viewer.lock_problem is not None:
        lines.append(_line("WARNING", f"{viewer.lock_problem}: every hook fails open "
                           "until it is fixed (guard doctor)"))  # fmt: skip
    lines += [
        _line("tree", printable(data["workspace"])),
        _line("branch", printable(data.get("branch") or "unknown")),
        _line("you", _you(viewer)),
        *describe_lease(data["lease"], viewer),
        _line("for you", for_you(data["lease"], viewer)),
        _line("installed", installed_summary(data["installed"])),
        _line("sandbox", _sandbox(data["workspace"])),  # text only: --json stays as it is
    ]
    return "\n".join(lines)


def lock_folder_problem(settings: Settings) -> str | None:
    """Why the lock folder cannot be used, or None: what every hook would meet."""
    try:
        path = settings.lock_dir
    except LockDirError as exc:
        return str(exc)
    shown = printable(path)
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        parent = os.path.dirname(path)
        while not os.path.lexists(parent) and os.path.dirname(parent) != parent:
            parent = os.path.dirname(parent)
        if not os.path.isdir(parent) or not os.access(parent, os.W_OK | os.X_OK):
            return f"lock folder {shown} cannot be created ({printable(parent)} is not a "\
                   "writable folder); set GUARD_LOCK_DIR, or HOME to your home folder"
        return None
    except OSError as exc:
        return f"lock folder {shown} cannot be used: {exc.strerror}"
    if not stat.S_ISDIR(st.st_mode):
        return f"lock folder {shown} is not a folder"
    if not os.access(path, os.W_OK | os.X_OK):
        return f"lock folder {shown} is not writable for you"
    return None


def failed_open_line(settings: Settings) -> str | None:
    try:
        state = failopen.read_state(settings.lock_dir)
    except (LockDirError, OSError):
        return None
    return failopen.describe(state) if state is not None else None


def human_policy() -> str:
    from worktree_guard.git.facts import GitFactsError, read_guard_config

    try:
        return read_guard_config().human_policy.value
    except GitFactsError:
        return "warn"


def viewer_for(settings: Settings) -> Viewer:
    return Viewer(session_from_env(), human_policy(), failed_open_line(settings),
                  lock_folder_problem(settings))  # fmt: skip


# ---- list -----------------------------------------------------------------------------------


def list_data(settings: Settings) -> dict[str, Any]:
    store = store_for(settings)
    session = session_from_env()
    leases = [lease_summary(store, key, session) for key in store.keys()]  # noqa: SIM118
    return {"lock_dir": settings.lock_dir, "leases": leases}


def render_list(data: dict[str, Any]) -> str:
    leases = data["leases"]
    if not leases:
        return f"no leases in {printable(data['lock_dir'])}"
    rows = []
    for lease in leases:
        who = printable(str(lease.get("session_id", "?"))[:8])
        pid = lease.get("pid")
        process = f"pid {pid} {lease.get('alive')}" if pid is not None else "pid ?"
        where = printable(lease.get("workspace") or f"(key {lease['key']})")
        agent = printable(lease.get("agent") or "")
        state = lease["state"] + (" (you)" if lease.get("held_by_you") else "")
        rows.append(
            f"{state:<12} {where}  session {who} {agent}  {process}  "
            f"active {format_ago(lease.get('idle_ms'))}, ttl left "
            f"{_ms_left(lease.get('ttl_left_ms'))}"
        )
    return "\n".join(rows)

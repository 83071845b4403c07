"""`guard doctor`: checks that guard can do its job here, each problem explained.

Each check is a function returning Check values; the facts they judge (git's version,
mount table, file modes) are read at the edge and the judging parts are pure.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import stat
import subprocess
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from worktree_guard.commands.status import (
    failed_open_line,
    git_hook_states,
    hook_state,
    lock_folder_problem,
    settings_info,
)
from worktree_guard.core import events, failopen
from worktree_guard.core.config import LockDirError, Settings
from worktree_guard.core.identity import session_from_env
from worktree_guard.core.printable import printable
from worktree_guard.git.shims import CHAINED_SUFFIX
from worktree_guard.install.launcher import Launcher, launcher_problem
from worktree_guard.install.managers import manager_of, off_alias, read_hook_files
from worktree_guard.install.settings import (
    GUARD_EVENT_NAMES,
    SettingsError,
    guard_launchers,
    parse_settings,
)
from worktree_guard.install.targets import GuardError, RepoPaths, Scope, locate_repo, settings_path

MIN_GIT = (2, 28)  # reference-transaction hooks, which guard branch switches and ref updates
# flock(2) is not reliable over these: two machines (or two clients) can both "hold" a lock.
NETWORK_FS = frozenset({
    "nfs", "nfs4", "cifs", "smb3", "smbfs", "ncpfs", "afs", "ceph", "glusterfs", "lustre",
    "gpfs", "9p", "fuse.sshfs", "sshfs", "davfs", "fuse.davfs2", "fuse.s3fs", "fuse.rclone",
})  # fmt: skip
_CLAUDE_TIMEOUT_S = 15


@dataclass(frozen=True)
class Check:
    name: str
    level: str  # ok | warn | fail
    detail: str
    fix: str = ""


def ok(name: str, detail: str) -> Check:
    return Check(name, "ok", detail)


def warn(name: str, detail: str, fix: str = "") -> Check:
    return Check(name, "warn", detail, fix)


def fail(name: str, detail: str, fix: str = "") -> Check:
    return Check(name, "fail", detail, fix)


# ---- git ------------------------------------------------------------------------------------


def parse_git_version(text: str) -> tuple[int, ...] | None:
    found = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", text)
    return tuple(int(g) for g in found.groups() if g is not None) if found else None


def judge_git(version_text: str | None) -> Check:
    if version_text is None:
        return fail("git", "git is not installed or not on PATH", "install git >= 2.28")
    version = parse_git_version(version_text)
    if version is None:
        return warn("git", f"cannot read the version from {version_text.strip()!r}")
    shown = ".".join(map(str, version))
    if version[:2] < MIN_GIT:
        return fail("git", f"git {shown} is older than 2.28: it runs no reference-transaction "
                    "hook, so branch switches and ref updates are not guarded", "upgrade git")
    return ok("git", f"git {shown}")


def check_git() -> Check:
    try:
        done = subprocess.run(["git", "--version"], capture_output=True, text=True, timeout=30,
                              stdin=subprocess.DEVNULL, check=False)  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return judge_git(None)
    return judge_git(done.stdout if done.returncode == 0 else None)


# ---- Claude Code settings --------------------------------------------------------------------


def _executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def judge_settings(infos: dict[str, dict[str, Any]]) -> list[Check]:
    """Checks over settings_info() of each scope (pure)."""
    checks: list[Check] = []
    with_guard = {}
    for scope, info in infos.items():
        name = f"claude settings ({scope})"
        if "error" in info:
            checks.append(fail(name, printable(info["error"]),
                               "fix the JSON (Claude Code cannot use it)"))
        elif info.get("guard_events"):
            with_guard[scope] = info
    for scope, info in with_guard.items():
        name = f"claude settings ({scope})"
        problems = []
        if info["missing_events"]:
            problems.append(f"no guard hook for {', '.join(info['missing_events'])}")
        broken = [printable(exe) for exe in info["executables"] if not _executable(exe)]
        if broken:
            problems.append(f"points at {', '.join(broken)}, which is not an executable file")
        if info.get("hooks_disabled"):
            problems.append('"disableAllHooks": true switches every hook off')
        if problems:
            checks.append(fail(name, f"{printable(info['path'])}: " + "; ".join(problems),
                               f"guard install --scope {scope}"))  # fmt: skip
        else:
            runs = ", ".join(printable(exe) for exe in info["executables"])
            checks.append(ok(name, f"{printable(info['path'])} runs {runs} "
                             f"on {len(GUARD_EVENT_NAMES)} events"))  # fmt: skip
    if not with_guard:
        # A warning, not a failure: `guard install --no-claude` (git hooks only) is a setup
        # the docs offer. Broken entries, above, still fail.
        checks.append(warn("claude settings", "the Claude Code tool hooks are not installed (no "
                           "settings file here runs guard hook): Claude Code sessions are "
                           "guarded by the git hooks only, so an edit is not stopped before "
                           "it is made (`guard install` adds them; the git hooks stay)",
                           "guard install"))  # fmt: skip
    executables = {exe for info in with_guard.values() for exe in info["executables"]}
    if len(executables) > 1:
        checks.append(warn("claude settings", "different scopes run different guard executables "
                           f"({', '.join(printable(e) for e in sorted(executables))}): each "
                           "runs on every event",
                           "keep guard in one scope (guard uninstall, then guard install)"))
    return checks


def check_settings(repo: RepoPaths) -> list[Check]:
    checks = judge_settings(
        {scope.value: settings_info(settings_path(scope, repo.toplevel)) for scope in Scope}
    )
    return checks + check_launchers(repo)


def check_launchers(repo: RepoPaths) -> list[Check]:
    """Each guard command in the settings starts a guard that is there: a moved or deleted
    venv leaves the launcher's interpreter or package folder pointing at nothing."""
    checks = []
    for scope in Scope:
        path = settings_path(scope, repo.toplevel)
        try:
            settings = parse_settings(_read_text(path), path)
        except SettingsError:
            continue  # reported by judge_settings
        problems = sorted({problem for launcher in guard_launchers(settings)
                           if (problem := launcher_problem(launcher)) is not None})
        if problems:
            checks.append(fail(f"claude settings ({scope.value})",
                               f"{path}: guard's hook command starts nothing: "
                               + "; ".join(problems),
                               f"guard install --scope {scope.value} (with the guard you run)"))
    return checks


# ---- git hooks --------------------------------------------------------------------------------


_GUARD_BIN = re.compile(r"^guard_bin=(.+)$", re.MULTILINE)


def shim_guard_path(text: str) -> str | None:
    found = _GUARD_BIN.search(text)
    if not found:
        return None
    try:
        words = shlex.split(found.group(1))
    except ValueError:
        return None
    return words[0] if words else None


_GUARD_PKG = re.compile(r"^guard_pkg=(.+)$", re.MULTILINE)


def shim_package_dir(text: str) -> str | None:
    """The package folder a launcher shim starts guard from (None: a guard command)."""
    found = _GUARD_PKG.search(text)
    try:
        words = shlex.split(found.group(1)) if found else []
    except ValueError:
        return None
    return words[0] if words else None


def _read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read(65_536)
    except OSError:
        return ""


def _called_by_manager(repo: RepoPaths, name: str) -> str | None:
    """A manager's script for hook `name` that already calls `guard git-hook`."""
    folders = [repo.hooks_dir, os.path.dirname(repo.hooks_dir)]  # husky: .husky/_ and .husky
    for folder in folders:
        path = os.path.join(folder, name)
        text = _read_text(path)
        if "git-hook" in text and "guard" in text:
            return path
    return None


def check_hook(repo: RepoPaths, name: str) -> Check:
    label = f"git hook {name}"
    real_path = os.path.join(repo.hooks_dir, name)
    path = printable(real_path)
    state = hook_state(repo.hooks_dir, name)
    if state in ("missing", "foreign"):
        via = _called_by_manager(repo, name)
        if via is not None:
            return ok(label, f"{printable(via)} calls guard git-hook")
        files = read_hook_files(repo.hooks_dir, name)
        off = off_alias(files)
        if off is not None:
            who = manager_of(files.text(files.front))
            owner = who.name if who else "another tool"
            return fail(label, f"{path}: {owner}'s hook is in front and guard's shim is "
                        f"{name}{off}, which nothing runs: guard is off for this hook",
                        "guard install (puts guard's shim back in front, the other hook "
                        "chained after it)")  # fmt: skip
        what = "missing" if state == "missing" else "another tool's hook, not guard's shim"
        return fail(label, f"{path}: {what}", "guard install (a foreign hook is chained, not lost)")
    if state.startswith("guard via "):
        alias = state.removeprefix(f"guard via {name}")
        real_path = os.path.join(repo.hooks_dir, name + alias)
        path = printable(real_path)
    if not os.access(real_path, os.X_OK):
        return fail(label, f"{path} is not executable: git skips it", "guard install")
    text = _read_text(real_path)
    guard = shim_guard_path(text)
    if guard is not None and os.path.isabs(guard) and not _executable(guard):
        return fail(label, f"{path} calls {printable(guard)}, which is not an executable file",
                    "guard install (rewrites the shims with this guard)")  # fmt: skip
    package = shim_package_dir(text)
    problem = launcher_problem(Launcher(guard, package)) if guard and package else None
    if problem is not None:
        return fail(label, f"{path} starts guard from nothing: {problem}",
                    "guard install (rewrites the shims with this guard)")  # fmt: skip
    if state == "guard+chained":
        chained = real_path + CHAINED_SUFFIX
        if not os.access(chained, os.X_OK):
            shown = printable(chained)
            return warn(label, f"the chained {shown} is not executable, so it does not run "
                        "(git did not run it either)", f"chmod +x {shown} to run it")
        return ok(label, f"guard's shim, then the chained {name}{CHAINED_SUFFIX}")
    if state.startswith("guard via "):
        return ok(label, f"the hook in front runs guard's shim first, as {path}")
    return ok(label, "guard's shim")


def check_hooks(repo: RepoPaths) -> list[Check]:
    checks = [check_hook(repo, name) for name in git_hook_states(repo.hooks_dir)]
    if repo.hooks_path_config and not repo.hooks_dir_is_default:
        checks.insert(0, ok("git hooks folder", f"core.hooksPath = "
                            f"{printable(repo.hooks_path_config)} ({printable(repo.hooks_dir)})"))
    return checks


# ---- the lock folder --------------------------------------------------------------------------


def _unescape_mount(text: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), text)


def fs_type(path: str, mountinfo: str) -> str | None:
    """The file system type of the mount holding `path`, from /proc/self/mountinfo text."""
    best, best_type = "", None
    for line in mountinfo.splitlines():
        left, sep, right = line.partition(" - ")
        fields = left.split()
        if not sep or len(fields) < 5 or not right.split():
            continue
        mount = _unescape_mount(fields[4])
        inside = path == mount or path.startswith(mount.rstrip("/") + "/")
        if inside and len(mount) >= len(best):
            best, best_type = mount, right.split()[0]
    return best_type


def judge_lock_dir(path: str, st: os.stat_result | None, uid: int, fstype: str | None) -> Check:
    name = "lock folder"
    path = printable(path)
    if fstype in NETWORK_FS:
        return fail(name, f"{path} is on {fstype}, a network file system: its locks cannot be "
                    "trusted", "set GUARD_LOCK_DIR to a folder on a local disk")
    if st is None:
        return ok(name, f"{path} does not exist yet; guard creates it (0700) on first use")
    if not stat.S_ISDIR(st.st_mode):
        return fail(name, f"{path} is not a folder", "remove it; guard creates the folder")
    if st.st_uid != uid:
        return fail(name, f"{path} belongs to uid {st.st_uid}, not to you",
                    "set GUARD_LOCK_DIR to a folder of your own")
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o077:
        return fail(name, f"{path} has mode {mode:04o}: other users can read or replace leases",
                    f"chmod 700 {path}")
    where = f" on {fstype}" if fstype else ""
    return ok(name, f"{path} (0700{where})")


def check_lock_dir(settings: Settings) -> Check:
    try:
        path = os.path.realpath(settings.lock_dir)
    except LockDirError as exc:
        return fail("lock folder", str(exc), "set GUARD_LOCK_DIR to an absolute path")
    try:
        st: os.stat_result | None = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        st = None
    probe = path
    while not os.path.exists(probe) and os.path.dirname(probe) != probe:
        probe = os.path.dirname(probe)
    try:
        with open("/proc/self/mountinfo", encoding="utf-8") as fh:
            fstype = fs_type(probe, fh.read())
    except OSError:
        fstype = None
    judged = judge_lock_dir(path, st, os.getuid(), fstype)
    problem = lock_folder_problem(settings)  # what the hooks meet: writable, creatable
    if judged.level == "ok" and problem is not None:
        return fail("lock folder", printable(problem),
                    "set GUARD_LOCK_DIR to a folder of yours on a local disk")
    return judged


# ---- failing open -----------------------------------------------------------------------------


def check_failed_open(settings: Settings) -> Check:
    line = failed_open_line(settings)
    if line is None:
        return ok("failed open", "never, since the last acknowledgement")
    return fail("failed open", f"{line} (guard let those calls through unchecked)",
                "see `guard log` for each, fix the cause, then: guard doctor --ack")


# ---- the claude CLI ---------------------------------------------------------------------------


def check_claude() -> Check:
    found = shutil.which("claude")
    if found is None:
        return warn("claude CLI", "`claude` is not on PATH (fine if you run other agents; "
                    "the hooks work wherever Claude Code runs)")
    try:
        done = subprocess.run([found, "--version"], capture_output=True, text=True,
                              timeout=_CLAUDE_TIMEOUT_S, stdin=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return warn("claude CLI", f"{found} does not run: {exc}")
    version = (done.stdout or done.stderr).strip().splitlines()
    return ok("claude CLI", f"{found}: {version[0] if version else 'version unknown'}")


# ---- all of it --------------------------------------------------------------------------------


def run_checks(cwd: str, settings: Settings) -> list[Check]:
    checks = [check_git()]
    try:
        repo = locate_repo(cwd)
    except GuardError as exc:
        checks.append(fail("repository", printable(str(exc).splitlines()[0]),
                           "cd into a repository"))
        repo = None
    if repo is not None:
        checks.append(ok("repository", printable(repo.toplevel)))
        from worktree_guard.commands.doctor_agents import check_agents, check_plugin

        plugin = check_plugin(repo)
        settings_checks = check_settings(repo)
        if plugin is not None:  # the plugin's hooks stand in for the settings entries
            settings_checks = [c for c in settings_checks if c.level != "warn"]
            checks.append(plugin)
        checks.extend(settings_checks)
        checks.extend(check_hooks(repo))
        checks.extend(check_agents(repo))
        checks.append(check_remote_lease(repo.toplevel, settings))
    checks.append(check_lock_dir(settings))
    checks.append(check_failed_open(settings))
    checks.append(check_claude())
    checks.append(check_sandbox(repo.toplevel if repo is not None else None))
    return checks


def check_sandbox(toplevel: str | None) -> Check:
    """Which shell sandbox is in force (sandbox/detect.py): off is a warning, never a
    failure: the text judgement still stands."""
    from worktree_guard.commands.sandbox_mode import prefix_files, sandbox_line
    from worktree_guard.sandbox.detect import probe

    mech = probe()
    line = sandbox_line(toplevel, mech)
    if not mech.on:
        return warn("shell sandbox", line, "see docs/architecture.md (the shell sandbox)")
    if not prefix_files(toplevel):
        return warn("shell sandbox", line, "guard install")
    return ok("shell sandbox", line)


def check_remote_lease(toplevel: str, settings: Settings) -> Check:
    """How the last push from this tree fared with the branch lease on its remote (the
    event log: doctor asks no remote)."""
    from worktree_guard.commands.remote import last_remote_outcome

    try:
        last = last_remote_outcome(settings.lock_dir, toplevel)
    except (OSError, LockDirError):
        last = None
    name = "remote lease"
    if last is None:
        return ok(name, "no push from this tree has taken a branch lease on a remote yet")
    remote = printable(str(last.get("remote", "?")))
    if last.get("event") == "remote_lease_unavailable":
        return warn(name, f"the last push to {remote} went on without a branch lease: "
                    f"{printable(str(last.get('why', '?')))}",
                    "other machines cannot see this tree's pushes: check that the remote is "
                    "reachable and accepts refs/guard/* (a host that forbids custom refs "
                    "cannot hold leases: git config guard.remoteLease false says so once)")
    return ok(name, f"the last push to {remote}: {str(last.get('event', '?'))[7:]}")


def failed(checks: Iterable[Check]) -> bool:
    return any(check.level == "fail" for check in checks)


def as_json(checks: list[Check]) -> dict[str, Any]:
    return {"ok": not failed(checks), "checks": [asdict(check) for check in checks]}


# ---- acknowledging a failed open --------------------------------------------------------------


@dataclass(frozen=True)
class AckResult:
    exit_code: int
    message: str


def acknowledge(settings: Settings) -> AckResult:
    """Clear the failed-open record: a person's step (an agent that failed open would
    otherwise hide it from the person), logged with what was acknowledged."""
    session = session_from_env()
    if session is not None:
        return AckResult(1, f"not acknowledged: this runs in agent session "
                         f"{printable(session)}; the person acknowledges (guard doctor --ack "
                         "in their own shell)")  # fmt: skip
    lock_dir = settings.lock_dir
    state = failopen.acknowledge(lock_dir)
    if state is None:
        return AckResult(0, "nothing to acknowledge: guard has not failed open")
    events.append_event(lock_dir, "failed_open_acknowledged", settings.log_max_bytes,
                        count=state.count, since_ms=state.since_ms, last_error=state.last_error)
    return AckResult(0, f"acknowledged: {failopen.describe(state)}")

"""Who is asking: the session id, the holder process, and whether a holder still lives.

Liveness is read from /proc: a pid alone is not enough, because pids are reused; the
process start time (field 22 of /proc/<pid>/stat) and the boot id pin one process.
"""

from __future__ import annotations

import os

from worktree_guard.lite.kinds import Kind

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import ClassVar

_PROC = "/proc"
_BOOT_ID_PATH = "/proc/sys/kernel/random/boot_id"
# hook <- sh <- claude, or git hook <- git <- bash <- claude; a few spare levels.
_MAX_ANCESTRY = 12
_HOLDER_NAMES = frozenset({"claude"})


class Liveness(Kind):
    __slots__ = ()
    ALIVE: ClassVar[Liveness]
    DEAD: ClassVar[Liveness]
    UNKNOWN: ClassVar[Liveness]


Liveness.ALIVE = Liveness("alive")
Liveness.DEAD = Liveness("dead")
Liveness.UNKNOWN = Liveness("unknown")


class ProcessId:
    """One process, pinned against pid reuse by its start time and boot, and placed in its
    pid namespace (a pid means nothing to a process in another namespace)."""

    __slots__ = ("boot_id", "pid", "pid_ns", "start_time")

    def __init__(
        self, pid: int, start_time: int | None, boot_id: str | None, pid_ns: str | None = None
    ) -> None:
        self.pid = pid
        self.start_time = start_time  # clock ticks since boot, from /proc/<pid>/stat
        self.boot_id = boot_id
        self.pid_ns = pid_ns  # e.g. "pid:[4026531836]", from /proc/<pid>/ns/pid

    def _key(self) -> tuple[int, int | None, str | None, str | None]:
        return (self.pid, self.start_time, self.boot_id, self.pid_ns)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ProcessId) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (f"ProcessId(pid={self.pid}, start_time={self.start_time}, "
                f"boot_id={self.boot_id!r}, pid_ns={self.pid_ns!r})")


def pid_namespace(pid: int | str = "self") -> str | None:
    try:
        return os.readlink(f"{_PROC}/{pid}/ns/pid")
    except OSError:
        return None


class _Stat:
    __slots__ = ("name", "ppid", "start_time", "state")

    def __init__(self, name: str, state: str, ppid: int, start_time: int) -> None:
        self.name = name
        self.state = state
        self.ppid = ppid
        self.start_time = start_time


def _read_stat(pid: int) -> _Stat | None:
    try:
        with open(f"{_PROC}/{pid}/stat", "rb") as fh:
            raw = fh.read().decode("utf-8", "surrogateescape")
    except OSError:
        return None
    # The name sits in parentheses and may itself hold spaces or ')': split at the last ')'.
    open_at, close_at = raw.find("("), raw.rfind(")")
    if open_at < 0 or close_at < open_at:
        return None
    fields = raw[close_at + 2 :].split()
    try:
        # fields[0] is field 3 (state); ppid is field 4; starttime is field 22.
        return _Stat(raw[open_at + 1 : close_at], fields[0], int(fields[1]), int(fields[19]))
    except (IndexError, ValueError):
        return None


_boot_id_cache: list[str | None] = []


def boot_id() -> str | None:
    if not _boot_id_cache:
        try:
            with open(_BOOT_ID_PATH, encoding="ascii") as fh:
                _boot_id_cache.append(fh.read().strip() or None)
        except (OSError, ValueError):
            _boot_id_cache.append(None)
    return _boot_id_cache[0]


def process_id(pid: int) -> ProcessId:
    stat = _read_stat(pid)
    return ProcessId(pid, stat.start_time if stat else None, boot_id(), pid_namespace(pid))


def _is_holder_name(pid: int, stat: _Stat) -> bool:
    if stat.name in _HOLDER_NAMES:
        return True
    if stat.name not in ("node", "bun"):
        return False
    # An npm-installed client may run as `node .../claude`; look at its argv then.
    try:
        with open(f"{_PROC}/{pid}/cmdline", "rb") as fh:
            argv = fh.read(4096).split(b"\0")
    except OSError:
        return False
    return any(os.path.basename(arg.decode("utf-8", "replace")) == "claude" for arg in argv[:3])


# ---- agents other than Claude Code: which long-lived process is each one's session ----------
# A small table, kind -> test on (pid, comm): the holder of a session is the nearest ancestor
# that passes its agent's test. The agent is known from how its hook was installed; the
# table only finds its process (and tells Copilot apart where it runs Claude's hook files).
AGENT_CLAUDE = "claude-code"
AGENT_CODEX = "codex"
AGENT_GEMINI = "gemini"
AGENT_COPILOT = "copilot"


def _argv_head(pid: int, count: int) -> list[str]:
    try:
        with open(f"{_PROC}/{pid}/cmdline", "rb") as fh:
            argv = fh.read(4096).split(b"\0")
    except OSError:
        return []
    return [os.path.basename(arg.decode("utf-8", "replace")) for arg in argv[:count]]


def _is_codex(pid: int, stat: _Stat) -> bool:
    return stat.name == "codex"  # the native binary; its `node codex.js` parent is a launcher


def _is_gemini(pid: int, stat: _Stat) -> bool:
    # `node [--max-old-space-size=N] .../gemini.js ...` or `.../.bin/gemini ...` (the npm link
    # the CLI relaunches itself through): node flags come before the script.
    return stat.name == "node" and not _GEMINI_SCRIPTS.isdisjoint(_argv_head(pid, 4)[1:])


_GEMINI_SCRIPTS = frozenset({"gemini", "gemini.js"})


def _is_copilot(pid: int, stat: _Stat) -> bool:
    # The native binary names its main thread `MainThread`; its argv[0] still says copilot.
    # Its `node npm-loader.js` parent is only a launcher.
    return stat.name in ("MainThread", "copilot") and _argv_head(pid, 1) == ["copilot"]


_AGENT_TESTS = (
    (AGENT_CLAUDE, _is_holder_name),
    (AGENT_CODEX, _is_codex),
    (AGENT_GEMINI, _is_gemini),
    (AGENT_COPILOT, _is_copilot),
)


def find_agent_ancestor(
    kinds: tuple[str, ...], start_pid: int | None = None
) -> tuple[str, ProcessId] | None:
    """The nearest ancestor that is the long-lived process of one of `kinds`, and its kind."""
    tests = [(kind, test) for kind, test in _AGENT_TESTS if kind in kinds]
    pid = os.getppid() if start_pid is None else start_pid
    for _ in range(_MAX_ANCESTRY):
        if pid <= 1:
            return None
        stat = _read_stat(pid)
        if stat is None:
            return None
        for kind, test in tests:
            if test(pid, stat):
                return kind, ProcessId(pid, stat.start_time, boot_id(), pid_namespace(pid))
        pid = stat.ppid
    return None


def find_claude_ancestor(start_pid: int | None = None) -> ProcessId | None:
    """The nearest ancestor process named `claude`: the long-lived process of the session."""
    pid = os.getppid() if start_pid is None else start_pid
    for _ in range(_MAX_ANCESTRY):
        if pid <= 1:
            return None
        stat = _read_stat(pid)
        if stat is None:
            return None
        if _is_holder_name(pid, stat):
            return ProcessId(pid, stat.start_time, boot_id(), pid_namespace(pid))
        pid = stat.ppid
    return None


def liveness(holder: ProcessId) -> Liveness:
    """ALIVE, DEAD (gone, pid reused, or from another boot) or UNKNOWN (cannot tell)."""
    current_boot = boot_id()
    if holder.boot_id and current_boot and holder.boot_id != current_boot:
        return Liveness.DEAD
    if holder.pid_ns and holder.pid_ns != pid_namespace():
        # Another pid namespace (a container, a sandbox): its pids are not ours to look up.
        return Liveness.UNKNOWN
    stat = _read_stat(holder.pid)
    if stat is None:
        return _liveness_without_proc(holder.pid)
    if stat.state in ("Z", "X"):  # a zombie has finished its work
        return Liveness.DEAD
    if holder.start_time is not None and stat.start_time != holder.start_time:
        return Liveness.DEAD
    return Liveness.ALIVE


def _liveness_without_proc(pid: int) -> Liveness:
    if os.path.isdir(f"{_PROC}/self"):
        return Liveness.DEAD  # /proc works, and has no such pid
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return Liveness.DEAD
    except PermissionError:
        return Liveness.ALIVE
    except OSError:
        return Liveness.UNKNOWN
    return Liveness.UNKNOWN  # it exists, but without a start time it may be a reused pid


def session_from_env(env: Mapping[str, str] | None = None) -> str | None:
    """The agent session a git hook runs for, or None for a person at a plain shell."""
    environ = os.environ if env is None else env
    for name in ("GUARD_SESSION_ID", "CLAUDE_CODE_SESSION_ID"):
        value = environ.get(name, "").strip()
        if value:
            return value
    return None

"""Who is asking: the agent process, the session label, and whether a holder still lives.

Identity is a process, not a string. A session is its long-lived agent process (the
`claude` process, ...), found among the caller's ancestors; a session id (a payload's
`session_id`, `CLAUDE_CODE_SESSION_ID`, `GUARD_SESSION_ID`) is a label that must agree
with that process, never a credential: a lease is the caller's only when its label matches
AND its holder process is the caller itself or one of its ancestors (`holder_in_ancestry`).
A process with an agent among its ancestors is an agent whatever its environment says.

Agent kinds come from the agent table (`core/agents.py`): a process name, script names for
clients run by an interpreter, and the variable a client exports with its own pid (trusted
only when it names a verified ancestor).

Liveness is read from /proc: a pid alone is not enough, because pids are reused; the
process start time (field 22 of /proc/<pid>/stat) and the boot id pin one process.
"""

from __future__ import annotations

from worktree_guard.core import agents
from worktree_guard.lite import system
from worktree_guard.lite.kinds import Kind

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import ClassVar

_PROC = "/proc"
_BOOT_ID_PATH = "/proc/sys/kernel/random/boot_id"
# hook <- sh <- claude, or git hook <- git <- bash <- claude, or deeper (make, scripts,
# `guard run` wrappers): every ancestor up to init, bounded against a /proc loop.
_MAX_ANCESTRY = 64
_INTERPRETERS = frozenset({"node", "bun", "deno"})


class AgentKind:
    """How to recognise one agent's long-lived process."""

    __slots__ = ("launchers", "name", "pid_variable", "process_names", "script_names")

    def __init__(self, name: str, process_names: frozenset[str], script_names: frozenset[str],
                 pid_variable: str | None = None,
                 launchers: frozenset[str] = _INTERPRETERS) -> None:  # fmt: skip
        self.name = name  # as recorded in a lease's `agent` field
        self.process_names = process_names  # /proc/<pid>/stat name (comm, 15 bytes at most)
        self.script_names = script_names  # basename of argv[0..3] of a launcher process
        self.pid_variable = pid_variable  # the client's own pid, exported to its children
        # Process names whose argv is read for script_names: interpreters, or a native
        # client whose main thread renames the process.
        self.launchers = launchers

    def matches(self, pid: int, name: str) -> bool:
        if name in self.process_names:
            return True
        if name not in self.launchers or not self.script_names:
            return False
        try:
            with open(f"{_PROC}/{pid}/cmdline", "rb") as fh:
                argv = fh.read(4096).split(b"\0")
        except OSError:
            return False
        # argv[0] (a native client's own name), then the script, after an interpreter's
        # options such as `node --max-old-space-size=N .../gemini.js`.
        return any(system.basename(arg.decode("utf-8", "replace")) in self.script_names
                   for arg in argv[:4])


AGENT_CLAUDE = agents.CLAUDE
AGENT_CODEX = agents.CODEX
AGENT_GEMINI = agents.GEMINI
AGENT_COPILOT = agents.COPILOT

# One entry per agent of the agent table; the nearest ancestor matching any is the acting agent.
AGENT_KINDS: tuple[AgentKind, ...] = tuple(
    AgentKind(a.name, a.process_names, a.script_names, a.pid_variable, a.launchers)
    for a in agents.AGENTS)
_KIND_BY_NAME = {kind.name: kind for kind in AGENT_KINDS}


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
        return system.readlink(f"{_PROC}/{pid}/ns/pid")
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


class AgentProcess(ProcessId):
    """An agent's long-lived process, and which agent it is."""

    __slots__ = ("kind",)

    def __init__(self, kind: AgentKind, process: ProcessId) -> None:
        super().__init__(process.pid, process.start_time, process.boot_id, process.pid_ns)
        self.kind = kind


_chain_cache: dict[int, tuple[tuple[int, _Stat], ...]] = {}


def ancestry(start_pid: int | None = None) -> tuple[tuple[int, _Stat], ...]:
    """(pid, stat) of `start_pid` (default: this process) and each of its ancestors, nearest
    first, up to but not including init. Read once per process: a hook lives milliseconds."""
    pid = system.getpid() if start_pid is None else start_pid
    cached = _chain_cache.get(pid)
    if cached is not None:
        return cached
    chain: list[tuple[int, _Stat]] = []
    seen: set[int] = set()
    while pid > 1 and pid not in seen and len(chain) < _MAX_ANCESTRY:
        seen.add(pid)
        stat = _read_stat(pid)
        if stat is None:
            break
        chain.append((pid, stat))
        pid = stat.ppid
    result = tuple(chain)
    _chain_cache[system.getpid() if start_pid is None else start_pid] = result
    return result


def find_agent(env: Mapping[str, str] | None = None,
               start_pid: int | None = None) -> AgentProcess | None:
    """The acting agent's long-lived process: the nearest ancestor that is of a known agent
    kind, or that a client's own pid variable (`CLAUDE_PID`) names; None for a person. The
    nearest, because an agent started inside another's shell is the one acting (and
    inherits the outer one's variables). The caller itself is never its own agent."""
    environ = system.environ() if env is None else env
    chain = ancestry(start_pid)[1:] if start_pid is None else ancestry(start_pid)
    claimed: dict[int, AgentKind] = {}
    for kind in AGENT_KINDS:
        value = environ.get(kind.pid_variable, "").strip() if kind.pid_variable else ""
        if value.isdigit():
            claimed.setdefault(int(value), kind)
    for pid, stat in chain:
        named = claimed.get(pid)
        if named is not None:
            return _agent(named, pid, stat)
        for kind in AGENT_KINDS:
            if kind.matches(pid, stat.name):
                return _agent(kind, pid, stat)
    return None


def _agent(kind: AgentKind, pid: int, stat: _Stat) -> AgentProcess:
    return AgentProcess(kind, ProcessId(pid, stat.start_time, boot_id(), pid_namespace(pid)))


def find_agent_ancestor(
    kinds: tuple[str, ...], start_pid: int | None = None
) -> tuple[str, ProcessId] | None:
    """The nearest ancestor (of the parent of this process, or from `start_pid`) that is the
    long-lived process of one of `kinds`, and its kind's name."""
    wanted = [_KIND_BY_NAME[name] for name in kinds if name in _KIND_BY_NAME]
    chain = ancestry()[1:] if start_pid is None else ancestry(start_pid)
    for pid, stat in chain:
        for kind in wanted:
            if kind.matches(pid, stat.name):
                return kind.name, _agent(kind, pid, stat)
    return None


def holder_in_ancestry(holder: ProcessId, start_pid: int | None = None) -> bool | None:
    """Whether `holder` is this process or one of its ancestors: True, False, or None when
    that cannot be told here (no /proc, no start time, another boot or pid namespace)."""
    if holder.start_time is None or not system.isdir(f"{_PROC}/self"):
        return None
    current_boot = boot_id()
    if holder.boot_id and current_boot and holder.boot_id != current_boot:
        return False  # a process of another boot is no one's ancestor now
    if holder.pid_ns and holder.pid_ns != pid_namespace():
        return None
    return any(pid == holder.pid and stat.start_time == holder.start_time
               for pid, stat in ancestry(start_pid))


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
    if system.isdir(f"{_PROC}/self"):
        return Liveness.DEAD  # /proc works, and has no such pid
    try:
        system.kill(pid, 0)
    except ProcessLookupError:
        return Liveness.DEAD
    except PermissionError:
        return Liveness.ALIVE
    except OSError:
        return Liveness.UNKNOWN
    return Liveness.UNKNOWN  # it exists, but without a start time it may be a reused pid


# The variables an agent's shell carries its session id in: `guard run`'s, then each agent's
# of the agent table (Claude Code's, Codex's = its session_id, Copilot's = its sessionId).
SESSION_VARIABLES = (agents.RUN_SESSION_VARIABLE, *(
    a.session_variable for a in agents.AGENTS if a.session_variable is not None))


def session_from_env(env: Mapping[str, str] | None = None,
                     agent: AgentProcess | None = None) -> str | None:
    """The agent session a git hook (or a hook) runs for, or None for a person at a plain
    shell. `guard run`'s variable first (it wraps whatever runs inside); then, when the acting
    agent's process is known, that agent's own variable only: an agent started inside
    another's shell inherits the outer one's variable, and the nearest agent is the caller.
    With no agent process known, the first variable set, in table order."""
    environ = system.environ() if env is None else env
    wrapped = environ.get(agents.RUN_SESSION_VARIABLE, "").strip()
    if wrapped:
        return wrapped
    if agent is not None:
        row = agents.agent_named(agent.kind.name)
        variable = row.session_variable if row is not None else None
        value = environ.get(variable, "").strip() if variable else ""
        return value or None
    for name in SESSION_VARIABLES[1:]:
        value = environ.get(name, "").strip()
        if value:
            return value
    return None

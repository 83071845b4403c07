"""The lease record: its schema, how a file's bytes become one, and back. No I/O here.

schema_version 1 is a superset of the seed's `{schema_version, session_id, pid, acquired_at,
ttl_ms}`. A record holding only those fields (as the seed's Node module writes it) is SEED:
honoured until `acquired_at + ttl_ms`, its pid ignored (it was a short-lived hook's).
A record with a newer schema_version is FUTURE: honoured while fresh, never rewritten.
"""

from __future__ import annotations

from worktree_guard.core.identity import ProcessId
from worktree_guard.lite import fastjson
from worktree_guard.lite.kinds import Kind

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar, TypeAlias

SCHEMA_VERSION = 1
MAX_RECORD_BYTES = 65_536
# Stamps below this are taken as seconds rather than milliseconds since the epoch.
_SECONDS_CUTOFF = 100_000_000_000


class RecordKind(Kind):
    __slots__ = ()
    OURS: ClassVar[RecordKind]
    SEED: ClassVar[RecordKind]
    FUTURE: ClassVar[RecordKind]


RecordKind.OURS = RecordKind("ours")
RecordKind.SEED = RecordKind("seed")
RecordKind.FUTURE = RecordKind("future")

_FIELDS = (
    "session_id", "acquired_at", "ttl_ms", "last_active_at", "kind", "pid",
    "holder_start_time", "boot_id", "holder_pid_ns", "token", "generation", "workspace",
    "branch", "agent", "schema_version", "hijack_reported",
)


class LeaseRecord:
    """One lease record. Plain slots, not a dataclass: `dataclasses` costs a third of an
    interpreter start to import, on every hook call."""

    __slots__ = (*_FIELDS, "raw")

    def __init__(
        self,
        session_id: str,
        acquired_at: int,  # ms since the epoch
        ttl_ms: int,
        last_active_at: int,  # ms since the epoch
        kind: RecordKind = RecordKind.OURS,
        pid: int | None = None,  # the holder process (claude, or the `guard run` process)
        holder_start_time: int | None = None,
        boot_id: str | None = None,
        holder_pid_ns: str | None = None,
        token: str | None = None,
        generation: int = 0,
        workspace: str | None = None,
        branch: str | None = None,  # the branch its holder last saw
        agent: str | None = None,  # claude-code | guard-run | git
        schema_version: int = SCHEMA_VERSION,
        raw: dict[str, Any] | None = None,
        hijack_reported: str | None = None,  # the other branch its holder has been told of
    ) -> None:
        self.hijack_reported = hijack_reported
        self.session_id = session_id
        self.acquired_at = acquired_at
        self.ttl_ms = ttl_ms
        self.last_active_at = last_active_at
        self.kind = kind
        self.pid = pid
        self.holder_start_time = holder_start_time
        self.boot_id = boot_id
        self.holder_pid_ns = holder_pid_ns
        self.token = token
        self.generation = generation
        self.workspace = workspace
        self.branch = branch
        self.agent = agent
        self.schema_version = schema_version
        self.raw: dict[str, Any] = raw if raw is not None else {}

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in _FIELDS)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LeaseRecord) and self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in _FIELDS)
        return f"LeaseRecord({inner})"

    def replace(self, **changes: Any) -> LeaseRecord:
        values = {name: getattr(self, name) for name in _FIELDS}
        values["raw"] = self.raw
        values.update(changes)
        return LeaseRecord(**values)

    def holder_process(self) -> ProcessId | None:
        """The holder process this record names, when it names one worth asking about."""
        if self.kind is not RecordKind.OURS or self.pid is None:
            return None
        return ProcessId(self.pid, self.holder_start_time, self.boot_id, self.holder_pid_ns)

    @property
    def expires_at(self) -> int:
        return self.last_active_at + self.ttl_ms

    def touched(self, now_ms: int, branch: str | None) -> LeaseRecord:
        """Stamped now; a branch given is the holder's own from now on (it switched)."""
        if branch:
            return self.replace(last_active_at=now_ms, branch=branch, hijack_reported=None)
        return self.replace(last_active_at=now_ms)


class UnreadableLease:
    """A lease file that holds no usable record: held by nobody we know, for one ttl."""

    __slots__ = ("mtime_ms", "reason")

    def __init__(self, reason: str, mtime_ms: int) -> None:
        self.reason = reason
        self.mtime_ms = mtime_ms

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UnreadableLease) and (self.reason, self.mtime_ms) == (
            other.reason, other.mtime_ms
        )

    def __hash__(self) -> int:
        return hash((self.reason, self.mtime_ms))

    def __repr__(self) -> str:
        return f"UnreadableLease(reason={self.reason!r}, mtime_ms={self.mtime_ms})"


LeaseView: TypeAlias = "LeaseRecord | UnreadableLease | None"


def _stamp_ms(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not -1e18 < value < 1e18:  # NaN, Infinity, 1e999
        return None
    number = int(value)
    if number < 0:
        return None
    return number * 1000 if number < _SECONDS_CUTOFF else number


def _opt_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def parse_record(data: bytes, mtime_ms: int, default_ttl_ms: int) -> LeaseRecord | UnreadableLease:
    """Bytes of a lease file -> a record, or the reason it is unreadable. Never raises."""
    if not data.strip():
        return UnreadableLease("empty", mtime_ms)
    if len(data) > MAX_RECORD_BYTES:
        return UnreadableLease("oversized", mtime_ms)
    try:
        obj = fastjson.loads(data)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return UnreadableLease("not valid JSON", mtime_ms)
    if not isinstance(obj, dict):
        return UnreadableLease("not a JSON object", mtime_ms)
    version = _opt_int(obj.get("schema_version"))
    session_id = obj.get("session_id")
    if version is None or not isinstance(session_id, str) or not session_id:
        return UnreadableLease("no schema_version or session_id", mtime_ms)
    ttl = _opt_int(obj.get("ttl_ms"))
    ttl = ttl if ttl is not None and ttl > 0 else default_ttl_ms
    acquired = _stamp_ms(obj.get("acquired_at"))
    last_active = _stamp_ms(obj.get("last_active_at"))
    if version > SCHEMA_VERSION:
        stamp = max(x for x in (acquired, last_active, mtime_ms) if x is not None)
        return LeaseRecord(session_id, acquired or stamp, ttl, stamp, RecordKind.FUTURE,
                           schema_version=version, raw=obj)
    if acquired is None:
        return UnreadableLease("no acquired_at", mtime_ms)
    if last_active is None or "token" not in obj:
        # The seed's five fields: good until acquired_at + ttl_ms; its pid was a hook's.
        return LeaseRecord(session_id, acquired, ttl, acquired, RecordKind.SEED,
                           schema_version=version, raw=obj)
    return LeaseRecord(
        session_id=session_id,
        acquired_at=acquired,
        ttl_ms=ttl,
        last_active_at=last_active,
        kind=RecordKind.OURS,
        pid=_opt_int(obj.get("pid")),
        holder_start_time=_opt_int(obj.get("holder_start_time")),
        boot_id=_opt_str(obj.get("boot_id")),
        holder_pid_ns=_opt_str(obj.get("holder_pid_ns")),
        token=_opt_str(obj.get("token")),
        generation=_opt_int(obj.get("generation")) or 0,
        workspace=_opt_str(obj.get("workspace")),
        branch=_opt_str(obj.get("branch")),
        agent=_opt_str(obj.get("agent")),
        schema_version=version,
        raw=obj,
        hijack_reported=_opt_str(obj.get("hijack_reported")),
    )


def serialize_record(record: LeaseRecord) -> bytes:
    """Our record as the bytes of a lease file (only ever called for kind OURS)."""
    body = {
        "schema_version": SCHEMA_VERSION,
        "session_id": record.session_id,
        "pid": record.pid,
        "acquired_at": record.acquired_at,
        "ttl_ms": record.ttl_ms,
        "last_active_at": record.last_active_at,
        "token": record.token,
        "generation": record.generation,
        "holder_start_time": record.holder_start_time,
        "boot_id": record.boot_id,
        "holder_pid_ns": record.holder_pid_ns,
        "workspace": record.workspace,
        "branch": record.branch,
        "agent": record.agent,
        "hijack_reported": record.hijack_reported,
    }
    return (fastjson.dumps(body) + "\n").encode("ascii")

"""The lease store: the only code that opens lease files.

Layout in the lock folder (0700):
  session-lock-<key>.json   the record (0600), always published whole: temp file + rename
  session-lock-<key>.lock   the side file every read-decide-write holds with flock; never
                            deleted (deleting it would let two writers lock different inodes);
                            it also keeps the generation counter across releases.
Rules for lease files that hold no record (see docs/architecture.md): empty, garbage,
non-object, oversized, symlink, FIFO or other non-regular file -> "unreadable": held by an
unknown session until its mtime + ttl, then replaced (a symlink is replaced, never followed);
a directory cannot be replaced and is reported as an error.
"""

from __future__ import annotations

import errno
import time

from worktree_guard.core.config import max_idle_from_env
from worktree_guard.core.decide import LeaseState, assess, needs_liveness_check
from worktree_guard.core.identity import Liveness, ProcessId, holder_in_ancestry, liveness
from worktree_guard.core.record import (
    MAX_RECORD_BYTES,
    LeaseRecord,
    LeaseView,
    RecordKind,
    UnreadableLease,
    parse_record,
    serialize_record,
)
from worktree_guard.lite import system
from worktree_guard.lite.kinds import Kind

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import ClassVar

LEASE_PREFIX = "session-lock-"
LEASE_SUFFIX = ".json"
LOCK_SUFFIX = ".lock"


class LeaseStoreError(Exception):
    """The store could not do its job (lock timeout, a directory where the lease belongs...)."""


class ReadOnlyStore(LeaseStoreError):
    """The lock folder is read-only here (a shell sandbox's mount): leases can be read and
    judged, not written. The caller's own lease is then left as it is."""


class Result(Kind):
    __slots__ = ()
    ACQUIRED: ClassVar[Result]  # the tree was free
    TOOK_OVER: ClassVar[Result]  # from an expired, dead or unreadable holder
    HELD: ClassVar[Result]  # the caller already held it (stamp refreshed)
    BUSY: ClassVar[Result]  # another live session holds it
    REFRESHED: ClassVar[Result]
    NOT_HOLDER: ClassVar[Result]
    RELEASED: ClassVar[Result]
    NOT_FOUND: ClassVar[Result]


Result.ACQUIRED = Result("acquired")
Result.TOOK_OVER = Result("took_over")
Result.HELD = Result("held")
Result.BUSY = Result("busy")
Result.REFRESHED = Result("refreshed")
Result.NOT_HOLDER = Result("not_holder")
Result.RELEASED = Result("released")
Result.NOT_FOUND = Result("not_found")


class Caller:
    __slots__ = ("agent", "holder", "session_id")

    def __init__(self, session_id: str, holder: ProcessId | None, agent: str) -> None:
        self.session_id = session_id
        self.holder = holder  # the long-lived process of the session, when one was found
        self.agent = agent  # claude-code | guard-run | git


class Outcome:
    __slots__ = ("holder_liveness", "previous", "previous_state", "record", "result")

    def __init__(
        self, result: Result, record: LeaseView, previous: LeaseView, previous_state: LeaseState,
        holder_liveness: Liveness = Liveness.UNKNOWN,
    ) -> None:
        self.holder_liveness = holder_liveness  # of the other holder, when BUSY
        self.result = result
        self.record = record  # after the call: the caller's record, or the other holder's view
        self.previous = previous  # what the file held before the call
        self.previous_state = previous_state

    def __repr__(self) -> str:
        return f"Outcome({self.result!r}, record={self.record!r}, previous={self.previous!r})"


def _same_holding(a: LeaseView, b: LeaseView) -> bool:
    """The same session's same acquisition (a refresh in between does not count)."""
    if isinstance(a, LeaseRecord) and isinstance(b, LeaseRecord):
        return (a.session_id, a.token, a.acquired_at) == (b.session_id, b.token, b.acquired_at)
    return a == b


def label_agrees(view: LeaseView, session_id: str | None,
                 holder: ProcessId | None = None) -> bool:
    """A session label agrees with the process asking unless the record names the same
    label and a holder process that is verifiably neither this process nor an ancestor of
    it: then the label was borrowed (read from the lease file, set in an environment, put in
    a forged payload) by a process of another tree. `holder`: the caller's own holder
    process, found among its ancestors; naming the record's holder, it agrees at once."""
    if not isinstance(view, LeaseRecord) or session_id is None or view.session_id != session_id:
        return True
    recorded = view.holder_process()
    if recorded is None:
        return True
    if holder is not None and (holder.pid, holder.start_time) == (
            recorded.pid, recorded.start_time):
        return True
    return holder_in_ancestry(recorded) is not False


def holds(view: LeaseRecord, session_id: str | None, holder: ProcessId | None = None) -> bool:
    """The record is the caller's: the same label, from the holder's own process tree."""
    return view.session_id == session_id and label_agrees(view, session_id, holder)


def _token() -> str:
    return system.urandom(8).hex()  # `secrets` would import hmac and hashlib for the same bytes


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class LeaseStore:
    def __init__(
        self,
        lock_dir: str,
        ttl_ms: int,
        lock_timeout_ms: int,
        clock: Callable[[], int] = now_ms,
        max_idle_ms: int | None = None,
    ) -> None:
        # GUARD_MAX_IDLE_MS: how long a verified-alive holder may idle (0: for ever).
        self.max_idle_ms = max_idle_from_env() if max_idle_ms is None else max_idle_ms
        self.lock_dir = lock_dir
        self.ttl_ms = ttl_ms
        self.lock_timeout_ms = lock_timeout_ms
        self.clock = clock  # ms since the epoch; tests step it to expire leases

    # ---- paths ---------------------------------------------------------------------------

    def lease_path(self, key: str) -> str:
        return system.join(self.lock_dir, f"{LEASE_PREFIX}{key}{LEASE_SUFFIX}")

    def _lock_path(self, key: str) -> str:
        return system.join(self.lock_dir, f"{LEASE_PREFIX}{key}{LOCK_SUFFIX}")

    def ensure_dir(self) -> None:
        try:
            system.makedirs(self.lock_dir, mode=0o700, exist_ok=True)
        except OSError as exc:
            raise LeaseStoreError(f"cannot create lock folder {self.lock_dir}: {exc}") from exc

    # ---- reading -------------------------------------------------------------------------

    def read(self, key: str) -> LeaseView:
        """The current view of a lease, without locking (records are published whole)."""
        path = self.lease_path(key)
        try:
            st = system.lstat(path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise LeaseStoreError(f"cannot stat {path}: {exc}") from exc
        mtime_ms = st.st_mtime_ns // 1_000_000
        if system.S_ISDIR(st.st_mode):
            return UnreadableLease("a directory", mtime_ms)
        if not system.S_ISREG(st.st_mode):
            return UnreadableLease("not a regular file", mtime_ms)
        if st.st_size > MAX_RECORD_BYTES:
            return UnreadableLease("oversized", mtime_ms)
        try:
            # O_NONBLOCK: a FIFO swapped in after the lstat must not hang the open.
            fd = system.open(path, system.O_RDONLY | system.O_NOFOLLOW | system.O_NONBLOCK)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return UnreadableLease("not a regular file", mtime_ms)
            raise LeaseStoreError(f"cannot open {path}: {exc}") from exc
        try:
            fst = system.fstat(fd)
            if not system.S_ISREG(fst.st_mode):
                return UnreadableLease("not a regular file", mtime_ms)
            data = system.read(fd, MAX_RECORD_BYTES + 1)
        finally:
            system.close(fd)
        return parse_record(data, fst.st_mtime_ns // 1_000_000, self.ttl_ms)

    def state_of(self, view: LeaseView, caller_session: str | None, now: int,
                 caller_holder: ProcessId | None = None) -> LeaseState:
        return self.state_and_liveness(view, caller_session, now, caller_holder)[0]

    def state_and_liveness(
        self, view: LeaseView, caller_session: str | None, now: int,
        caller_holder: ProcessId | None = None,
    ) -> tuple[LeaseState, Liveness]:
        if not label_agrees(view, caller_session, caller_holder):
            caller_session = None  # a borrowed label: judged as the stranger it is
        holder_alive = Liveness.UNKNOWN
        if needs_liveness_check(view, caller_session):
            assert isinstance(view, LeaseRecord)
            holder = view.holder_process()
            if holder is not None:
                holder_alive = liveness(holder)
        state = assess(view, caller_session, now, self.ttl_ms, holder_alive, self.max_idle_ms)
        return state, holder_alive

    # ---- locking and publishing ----------------------------------------------------------

    def _lock(self, key: str) -> int:
        """Open and flock the side file; the caller closes the descriptor to unlock."""
        self.ensure_dir()
        path = self._lock_path(key)
        try:
            flags = system.O_RDWR | system.O_CREAT | system.O_NOFOLLOW | system.O_CLOEXEC
            fd = system.open(path, flags, 0o600)
        except OSError as exc:
            fd = -1
            if exc.errno == errno.EROFS:  # flock works on a read-only descriptor too
                try:
                    fd = system.open(path, system.O_RDONLY | system.O_NOFOLLOW | system.O_CLOEXEC)
                except OSError:
                    fd = -1
            if fd < 0:
                raise LeaseStoreError(f"cannot open lock file {path}: {exc}") from exc
        try:
            self._flock_with_deadline(fd, path)
        except BaseException:
            system.close(fd)
            raise
        return fd  # closing it drops the flock; a killed process drops it too

    def _flock_with_deadline(self, fd: int, path: str) -> None:
        import fcntl  # here, not at the top: the holder's steady state never locks

        deadline = time.monotonic() + self.lock_timeout_ms / 1000
        pause = 0.0005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                pass
            if time.monotonic() >= deadline:
                raise LeaseStoreError(f"timed out after {self.lock_timeout_ms} ms locking {path}")
            time.sleep(pause)
            pause = min(pause * 2, 0.02)

    def _publish(self, key: str, record: LeaseRecord) -> None:
        path = self.lease_path(key)
        tmp = f"{path}.{system.getpid()}.{_token()[:8]}.tmp"
        data = serialize_record(record)
        try:
            flags = system.O_WRONLY | system.O_CREAT | system.O_EXCL | system.O_NOFOLLOW
            fd = system.open(tmp, flags, 0o600)
            try:
                system.write(fd, data)
            finally:
                system.close(fd)
            # rename replaces the directory entry: a symlink there is replaced, not followed.
            system.replace(tmp, path)
        except OSError as exc:
            try:
                system.unlink(tmp)
            except OSError:
                pass
            if exc.errno == errno.EROFS:
                raise ReadOnlyStore(f"cannot publish {path}: {exc}") from exc
            raise LeaseStoreError(f"cannot publish {path}: {exc}") from exc

    def _remove(self, key: str, view: LeaseView) -> None:
        path = self.lease_path(key)
        if isinstance(view, UnreadableLease) and view.reason == "a directory":
            raise LeaseStoreError(f"{path} is a directory; remove it by hand")
        try:
            system.unlink(path)  # unlink removes a symlink itself, never its target
        except FileNotFoundError:
            pass

    def _revoke_passes(self, session_id: str) -> None:
        """The git hooks' pass markers of a session that lost the tree are void."""
        from worktree_guard.core.passes import revoke  # rare: only when a lease changes hands

        revoke(self.lock_dir, session_id)

    def _void_tree_passes(self, key: str) -> None:
        """The tree has a new record, or none: the passes granted under the old one are void.
        One stat when no git hook ever left a pass (most trees of a Claude-only setup)."""
        if system.isdir(system.join(self.lock_dir, "git-pass")):
            from worktree_guard.core.passes import void_tree  # rare: a lease changes hands

            void_tree(self.lock_dir, key)

    @staticmethod
    def _next_generation(lock_fd: int, previous: LeaseView) -> int:
        try:
            stored = int(system.pread(lock_fd, 32, 0).decode("ascii").strip() or 0)
        except (OSError, ValueError, UnicodeDecodeError):
            stored = 0
        seen = previous.generation if isinstance(previous, LeaseRecord) else 0
        generation = max(stored, seen) + 1
        encoded = f"{generation}\n".encode("ascii")
        try:
            system.pwrite(lock_fd, encoded, 0)
            system.ftruncate(lock_fd, len(encoded))
        except OSError:
            pass  # the record carries the generation too
        return generation

    # ---- operations ----------------------------------------------------------------------

    def acquire(
        self,
        key: str,
        caller: Caller,
        workspace: str,
        branch: str | None,
        refresh_interval_ms: int = 0,
        keep_branch: bool = False,
    ) -> Outcome:
        """Take a free, expired or dead lease; refresh the caller's own; else report BUSY.
        keep_branch: the caller's own record keeps the branch it has (the call is not a
        branch switch of the holder's, so a different HEAD is someone else's doing)."""
        if refresh_interval_ms > 0:
            fast = self._unlocked_hold(self.read(key), caller, branch, refresh_interval_ms)
            if fast is not None:
                return fast
        lock_fd = self._lock(key)
        try:
            now = self.clock()
            view = self.read(key)
            if isinstance(view, UnreadableLease) and view.reason == "a directory":
                raise LeaseStoreError(f"{self.lease_path(key)} is a directory; remove it by hand")
            state, alive = self.state_and_liveness(view, caller.session_id, now, caller.holder)
            if state is LeaseState.HELD_BY_OTHER:
                return Outcome(Result.BUSY, view, view, state, alive)
            if state is LeaseState.HELD_BY_CALLER:
                assert isinstance(view, LeaseRecord)
                if view.kind is RecordKind.FUTURE:
                    return Outcome(Result.HELD, view, view, state)  # never rewrite a newer schema
                kept = None if keep_branch and view.branch else branch
                record = self._claimed(view, caller, now, kept)
                try:
                    self._publish(key, record)
                except ReadOnlyStore:  # sandboxed: the caller's own lease stays as it was
                    return Outcome(Result.HELD, view, view, state)
                return Outcome(Result.HELD, record, view, state)
            record = LeaseRecord(
                session_id=caller.session_id,
                acquired_at=now,
                ttl_ms=self.ttl_ms,
                last_active_at=now,
                pid=caller.holder.pid if caller.holder else None,
                holder_start_time=caller.holder.start_time if caller.holder else None,
                boot_id=caller.holder.boot_id if caller.holder else None,
                holder_pid_ns=caller.holder.pid_ns if caller.holder else None,
                token=_token(),
                generation=self._next_generation(lock_fd, view),
                workspace=workspace,
                branch=branch,
                agent=caller.agent,
            )
            self._publish(key, record)
            self._void_tree_passes(key)
            result = Result.ACQUIRED if state is LeaseState.FREE else Result.TOOK_OVER
            if isinstance(view, LeaseRecord):
                self._revoke_passes(view.session_id)
            return Outcome(result, record, view, state)
        finally:
            system.close(lock_fd)

    def _claimed(
        self, view: LeaseRecord, caller: Caller, now: int, branch: str | None
    ) -> LeaseRecord:
        """The caller's own record, stamped now; a seed record becomes ours; a new pid
        (`claude --resume` keeps the session id in a new process) replaces the old one."""
        record = view.touched(now, branch)
        if view.kind is RecordKind.SEED:
            record = record.replace(kind=RecordKind.OURS, pid=None, token=_token())
        if caller.holder is not None and caller.holder.pid != record.pid:
            record = record.replace(
                pid=caller.holder.pid,
                holder_start_time=caller.holder.start_time,
                boot_id=caller.holder.boot_id,
                holder_pid_ns=caller.holder.pid_ns,
            )
        return record if record.agent else record.replace(agent=caller.agent)

    def _unlocked_hold(
        self, view: LeaseView, caller: Caller, branch: str | None, refresh_interval_ms: int
    ) -> Outcome | None:
        """The steady state without the lock: `view`, read without it, is the caller's fresh
        record and needs no rewrite. Safe because only the holder or an expiry can change a
        fresh record's owner, and a stamp younger than the refresh interval is far from expiry."""
        if not isinstance(view, LeaseRecord) or view.kind is not RecordKind.OURS:
            return None
        if view.session_id != caller.session_id or (branch and view.branch != branch):
            return None
        if caller.holder is not None and caller.holder.pid != view.pid:
            return None
        if not label_agrees(view, caller.session_id, caller.holder):
            return None
        age = self.clock() - view.last_active_at
        if not 0 <= age < min(refresh_interval_ms, view.ttl_ms // 2):
            return None
        return Outcome(Result.HELD, view, view, LeaseState.HELD_BY_CALLER)

    def refresh(
        self, key: str, session_id: str, branch: str | None, refresh_interval_ms: int = 0,
        holder: ProcessId | None = None,
    ) -> Outcome:
        """Stamp the caller's own lease; never creates one, never takes another's.
        Only from the holder's own process tree (`holder`: the caller's, if found)."""
        view = self.read(key)
        if not isinstance(view, LeaseRecord) or not holds(view, session_id, holder):
            # Not ours without the lock means not ours: only our own session could make it so.
            state = self.state_of(view, session_id, self.clock(), holder)
            return Outcome(Result.NOT_HOLDER, view, view, state)
        caller = Caller(session_id, holder, "")
        fast = self._unlocked_hold(view, caller, branch, refresh_interval_ms)  # the same read
        if fast is not None:
            return Outcome(Result.REFRESHED, fast.record, fast.previous, fast.previous_state)
        lock_fd = self._lock(key)
        try:
            now = self.clock()
            view = self.read(key)
            state = self.state_of(view, session_id, now, holder)
            if state is not LeaseState.HELD_BY_CALLER:
                return Outcome(Result.NOT_HOLDER, view, view, state)
            assert isinstance(view, LeaseRecord)
            if view.kind is RecordKind.FUTURE:
                return Outcome(Result.REFRESHED, view, view, state)
            record = view.touched(now, branch)
            if view.kind is RecordKind.SEED:
                record = record.replace(kind=RecordKind.OURS, token=_token())
            try:
                self._publish(key, record)
            except ReadOnlyStore:  # sandboxed: the caller's own lease stays as it was
                return Outcome(Result.REFRESHED, view, view, state)
            return Outcome(Result.REFRESHED, record, view, state)
        finally:
            system.close(lock_fd)

    def note_hijack(self, key: str, session_id: str, branch_now: str) -> None:
        """Remember that the holder has been told HEAD is on `branch_now`, not its own."""
        lock_fd = self._lock(key)
        try:
            view = self.read(key)
            if (isinstance(view, LeaseRecord) and view.kind is RecordKind.OURS
                    and view.session_id == session_id):
                self._publish(key, view.replace(hijack_reported=branch_now))
        finally:
            system.close(lock_fd)

    def release(self, key: str, session_id: str, holder: ProcessId | None = None) -> Outcome:
        """Give up the caller's own lease; someone else's record is never deleted.
        An expired record of the caller's own is released too: it is still the caller's.
        Only from the holder's own process tree (`holder`: the caller's, if found)."""
        lock_fd = self._lock(key)
        try:
            view = self.read(key)
            state = self.state_of(view, session_id, self.clock(), holder)
            if not isinstance(view, LeaseRecord) or not holds(view, session_id, holder):
                result = Result.NOT_FOUND if view is None else Result.NOT_HOLDER
                return Outcome(result, view, view, state)
            self._remove(key, view)
            self._void_tree_passes(key)
            return Outcome(Result.RELEASED, None, view, state)
        finally:
            system.close(lock_fd)

    def force_release(self, key: str, expected: LeaseView | None = None) -> Outcome:
        """Remove whatever the lease file holds (a person's `guard release --force`). With
        `expected` (the holder the person was asked about), only that holder: a lease that
        changed hands meanwhile is left alone and reported as NOT_HOLDER."""
        lock_fd = self._lock(key)
        try:
            view = self.read(key)
            state = self.state_of(view, None, self.clock())
            if view is None:
                return Outcome(Result.NOT_FOUND, None, None, state)
            if expected is not None and not _same_holding(view, expected):
                return Outcome(Result.NOT_HOLDER, view, view, state)
            self._remove(key, view)
            self._void_tree_passes(key)
            if isinstance(view, LeaseRecord):
                self._revoke_passes(view.session_id)
            return Outcome(Result.RELEASED, None, view, state)
        finally:
            system.close(lock_fd)

    def keys(self) -> list[str]:
        """Every lease key in the folder (for `guard list`)."""
        try:
            names = system.listdir(self.lock_dir)
        except OSError:
            return []
        return sorted(
            n[len(LEASE_PREFIX) : -len(LEASE_SUFFIX)]
            for n in names
            if n.startswith(LEASE_PREFIX) and n.endswith(LEASE_SUFFIX)
        )

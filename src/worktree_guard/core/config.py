"""Settings read from the environment, with their defaults, in one place."""

from __future__ import annotations

from worktree_guard.lite import system

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

DEFAULT_TTL_MS = 300_000
DEFAULT_LOCK_TIMEOUT_MS = 2_000  # well under the 10 s hook timeout that `guard install` sets
DEFAULT_LOG_MAX_BYTES = 1_048_576
# The holder's PreToolUse rewrites its activity stamp at most this often; the ttl is minutes.
DEFAULT_REFRESH_INTERVAL_MS = 2_000


class LockDirError(Exception):
    """No lock folder can be named: guard refuses rather than guess one (see default_lock_dir)."""


class Settings:
    __slots__ = (
        "_lock_dir", "fail_closed", "lock_timeout_ms", "log_max_bytes", "refresh_interval_ms",
        "ttl_ms",
    )

    def __init__(
        self,
        lock_dir: str | LockDirError,
        ttl_ms: int,
        lock_timeout_ms: int,
        log_max_bytes: int,
        refresh_interval_ms: int,
        fail_closed: bool,
    ) -> None:
        self._lock_dir = lock_dir
        self.ttl_ms = ttl_ms
        self.lock_timeout_ms = lock_timeout_ms
        self.log_max_bytes = log_max_bytes
        self.refresh_interval_ms = refresh_interval_ms
        self.fail_closed = fail_closed

    @property
    def lock_dir(self) -> str:
        """The lock folder; raises LockDirError where none can be named, when it is needed
        (so a hook meets it inside its failure policy, not before)."""
        if isinstance(self._lock_dir, LockDirError):
            raise self._lock_dir
        return self._lock_dir


def _int_env(env: Mapping[str, str], name: str, default: int, low: int) -> int:
    raw = env.get(name, "").strip()
    try:
        value = int(raw) if raw else default
    except ValueError:
        return default
    return value if value >= low else default


def _home(environ: Mapping[str, str]) -> str | None:
    """$HOME when it is an absolute path, else the password database's home, else None."""
    home = environ.get("HOME", "")
    if home.startswith("/"):
        return home
    try:
        import pwd  # a builtin module; only when HOME is unset or unusable

        home = pwd.getpwuid(system.getuid()).pw_dir
    except (ImportError, KeyError, OSError):
        return None
    return home if home.startswith("/") else None


def default_lock_dir(env: Mapping[str, str] | None = None) -> str:
    """The lock folder, by one rule that the git hook shims follow too (git/shims.py):
    `$GUARD_LOCK_DIR` when set (absolute, or `~/...`), else `$HOME/.claude/runtime`, with
    the password database's home when HOME is unset, empty or not absolute. Where sh cannot
    follow the rule (no absolute GUARD_LOCK_DIR or HOME) the shims leave no pass marker, and
    guard honours markers in its own folder only (core/passes.py). A folder that cannot be
    named raises LockDirError: a relative GUARD_LOCK_DIR would differ from folder to folder."""
    environ = system.environ() if env is None else env
    configured = environ.get("GUARD_LOCK_DIR", "").strip()
    if configured:
        if configured == "~" or configured.startswith("~/"):
            home = _home(environ)
            if home is None:
                raise LockDirError(f"GUARD_LOCK_DIR is {configured!r}, but there is no home "
                                   "folder to expand ~ with; set it to an absolute path")
            configured = home + configured[1:]
        if not configured.startswith("/"):
            raise LockDirError(f"GUARD_LOCK_DIR must be an absolute path, not {configured!r}: "
                               "a relative one names another folder in every directory")
        return system.normpath(configured)
    home = _home(environ)
    if home is None:
        raise LockDirError("no lock folder: HOME is not set (or not an absolute path) and "
                           f"user id {system.getuid()} has no home folder; "
                           "set GUARD_LOCK_DIR or HOME")
    return system.join(system.normpath(home), ".claude", "runtime")


def _lock_dir_or_error(environ: Mapping[str, str]) -> str | LockDirError:
    try:
        return default_lock_dir(environ)
    except LockDirError as exc:
        return exc


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    environ = system.environ() if env is None else env
    return Settings(
        lock_dir=_lock_dir_or_error(environ),
        ttl_ms=_int_env(environ, "GUARD_TTL_MS", DEFAULT_TTL_MS, 1),
        lock_timeout_ms=_int_env(environ, "GUARD_LOCK_TIMEOUT_MS", DEFAULT_LOCK_TIMEOUT_MS, 1),
        log_max_bytes=_int_env(environ, "GUARD_LOG_MAX_BYTES", DEFAULT_LOG_MAX_BYTES, 1024),
        refresh_interval_ms=_int_env(
            environ, "GUARD_REFRESH_INTERVAL_MS", DEFAULT_REFRESH_INTERVAL_MS, 0
        ),
        fail_closed=environ.get("GUARD_FAIL_CLOSED", "").strip().lower() in ("1", "true", "yes"),
    )


def max_idle_from_env(env: Mapping[str, str] | None = None) -> int:
    """GUARD_MAX_IDLE_MS: how long a holder verified alive may stay idle before its tree is
    free; 0 (the default) means for as long as it lives."""
    return _int_env(system.environ() if env is None else env, "GUARD_MAX_IDLE_MS", 0, 0)

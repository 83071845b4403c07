"""Settings read from the environment, with their defaults, in one place."""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

DEFAULT_TTL_MS = 300_000
DEFAULT_LOCK_TIMEOUT_MS = 2_000  # well under the 10 s hook timeout that `guard install` sets
DEFAULT_LOG_MAX_BYTES = 1_048_576
# The holder's PreToolUse rewrites its activity stamp at most this often; the ttl is minutes.
DEFAULT_REFRESH_INTERVAL_MS = 2_000


class Settings:
    __slots__ = (
        "fail_closed", "lock_dir", "lock_timeout_ms", "log_max_bytes", "refresh_interval_ms",
        "ttl_ms",
    )

    def __init__(
        self,
        lock_dir: str,
        ttl_ms: int,
        lock_timeout_ms: int,
        log_max_bytes: int,
        refresh_interval_ms: int,
        fail_closed: bool,
    ) -> None:
        self.lock_dir = lock_dir
        self.ttl_ms = ttl_ms
        self.lock_timeout_ms = lock_timeout_ms
        self.log_max_bytes = log_max_bytes
        self.refresh_interval_ms = refresh_interval_ms
        self.fail_closed = fail_closed


def _int_env(env: Mapping[str, str], name: str, default: int, low: int) -> int:
    raw = env.get(name, "").strip()
    try:
        value = int(raw) if raw else default
    except ValueError:
        return default
    return value if value >= low else default


def default_lock_dir(env: Mapping[str, str] | None = None) -> str:
    environ = os.environ if env is None else env
    configured = environ.get("GUARD_LOCK_DIR", "").strip()
    if configured:
        return os.path.abspath(os.path.expanduser(configured))
    return os.path.join(os.path.expanduser("~"), ".claude", "runtime")


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    environ = os.environ if env is None else env
    return Settings(
        lock_dir=default_lock_dir(environ),
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
    return _int_env(os.environ if env is None else env, "GUARD_MAX_IDLE_MS", 0, 0)

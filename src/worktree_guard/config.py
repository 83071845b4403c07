"""Settings read from the environment, with their defaults, in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_TTL_MS = 300_000
DEFAULT_LOCK_TIMEOUT_MS = 2_000  # well under the 10 s hook timeout that `guard install` sets
DEFAULT_LOG_MAX_BYTES = 1_048_576
# The holder's PreToolUse rewrites its activity stamp at most this often; the ttl is minutes.
DEFAULT_REFRESH_INTERVAL_MS = 2_000


@dataclass(frozen=True)
class Settings:
    lock_dir: str
    ttl_ms: int
    lock_timeout_ms: int
    log_max_bytes: int
    refresh_interval_ms: int
    fail_closed: bool


def _int_env(env: dict[str, str] | os._Environ[str], name: str, default: int, low: int) -> int:
    raw = env.get(name, "").strip()
    try:
        value = int(raw) if raw else default
    except ValueError:
        return default
    return value if value >= low else default


def default_lock_dir(env: dict[str, str] | os._Environ[str] | None = None) -> str:
    environ = os.environ if env is None else env
    configured = environ.get("GUARD_LOCK_DIR", "").strip()
    if configured:
        return os.path.abspath(os.path.expanduser(configured))
    return os.path.join(os.path.expanduser("~"), ".claude", "runtime")


def load_settings(env: dict[str, str] | os._Environ[str] | None = None) -> Settings:
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

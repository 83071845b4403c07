"""A whole-process deadline for the hooks: SIGALRM raises `DeadlineExceeded` in the hook.

Claude Code counts a hook killed by its timeout as an allow, and git would just wait: so a
hook stops itself first and answers by its failure policy. `_signal` is the C module
behind `signal`, which would import `enum` on every hook call.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import signal as _sig
    from collections.abc import Callable
    from types import FrameType
else:
    try:
        import _signal as _sig
    except ImportError:  # pragma: no cover
        import signal as _sig


class DeadlineExceeded(Exception):
    """The hook ran out of its time."""


def _raise(signum: int, frame: FrameType | None) -> None:
    raise DeadlineExceeded


def arm(seconds: float) -> None:
    _sig.signal(_sig.SIGALRM, _raise)
    _sig.setitimer(_sig.ITIMER_REAL, seconds)


def disarm() -> None:
    _sig.setitimer(_sig.ITIMER_REAL, 0)


def run_bounded(seconds: float, action: Callable[[], object]) -> None:
    """Run `action` under a fresh deadline, giving up quietly when it runs out: for the
    failure path's own logging, after the main deadline has already been spent."""
    arm(seconds)
    try:
        action()
    except DeadlineExceeded:
        pass
    finally:
        disarm()

"""Which mode is in force here, and why: what `guard status`, `guard doctor` and the
pre-tool check (parse for the message, sandbox for the guarantee) ask.

The probe tries, in a child process, what the prefix does (a mount namespace, with a user
namespace unless root), so the answer is this kernel's and this user's, not a guess from
its version; Landlock is asked for its ABI (landlock_create_ruleset with the VERSION flag).
"""

from __future__ import annotations

import posix
import sys

from worktree_guard.lite import system
from worktree_guard.sandbox import kernel
from worktree_guard.sandbox.prefix import sandbox_off

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

# Where distributions say why unprivileged user namespaces are refused.
_USERNS_KNOBS = (
    ("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1"),
    ("/proc/sys/kernel/unprivileged_userns_clone", "0"),
    ("/proc/sys/user/max_user_namespaces", "0"),
)
PREFIX_VARIABLE = "CLAUDE_CODE_SHELL_PREFIX"


class Mechanism:
    __slots__ = ("landlock_abi", "mode", "reason")

    def __init__(self, mode: kernel.Mode, reason: str, landlock_abi: int = 0) -> None:
        self.mode = mode
        self.reason = reason
        self.landlock_abi = landlock_abi

    @property
    def on(self) -> bool:
        return self.mode is kernel.Mode.NAMESPACE

    def describe(self) -> str:
        return f"{self.mode.value}: {self.reason}"


def _try_namespaces() -> str | None:
    """None when a child could enter the namespaces, else why not."""
    read_end, write_end = posix.pipe()
    pid = posix.fork()
    if pid == 0:
        posix.close(read_end)
        try:
            kernel.unshare_mounts()
            message = b""
        except OSError as exc:
            message = str(exc).encode(errors="replace")[:500]
        posix.write(write_end, message)
        posix._exit(0)
    posix.close(write_end)
    try:
        message = posix.read(read_end, 600)
    finally:
        posix.close(read_end)
        posix.waitpid(pid, 0)
    return message.decode(errors="replace") or None


def _refusal_hint() -> str:
    for path, refusing in _USERNS_KNOBS:
        try:
            with open(path, encoding="ascii") as fh:
                if fh.read(16).strip() == refusing:
                    return f" ({path.removeprefix('/proc/sys/').replace('/', '.')} = {refusing})"
        except OSError:
            continue
    return ""


def probe(env: Mapping[str, str] | None = None) -> Mechanism:
    environ = system.environ() if env is None else env
    if sandbox_off(environ):
        return Mechanism(kernel.Mode.OFF, "GUARD_SANDBOX=off in the agent's environment: "
                         "shell commands are judged by their text only")
    if not sys.platform.startswith("linux"):
        return Mechanism(kernel.Mode.OFF, f"{sys.platform} has no mount namespaces: shell "
                         "commands are judged by their text only")
    try:
        refused = _try_namespaces()
    except OSError as exc:
        refused = f"cannot start the probe: {exc}"
    if refused is not None:
        return Mechanism(kernel.Mode.OFF, f"{refused}{_refusal_hint()}: shell commands are "
                         "judged by their text only, unsure targets denied")
    abi = kernel.landlock_abi()
    how = ("as root, CAP_SYS_ADMIN dropped" if posix.getuid() == 0
           else f"in a user namespace keeping uid {posix.getuid()}")
    landlock = (f"Landlock ABI {abi} closes /proc/<pid>/root and mount changes" if abi
                else "no Landlock: /proc/<pid>/root of a process outside still shows the "
                     "files unrestricted")
    return Mechanism(kernel.Mode.NAMESPACE, f"read-only bind mounts in a mount namespace "
                     f"({how}); {landlock}", abi)


def prefix_in_force(env: Mapping[str, str]) -> bool:
    """Whether the agent runs its shell commands through guard's prefix (Claude Code)."""
    return "shell-prefix" in env.get(PREFIX_VARIABLE, "")


def shell_sandboxed(env: Mapping[str, str]) -> bool:
    """Whether this agent's shell commands run in the sandbox: its environment starts them
    through guard's prefix (only the client sets that environment) and the kernel gives the
    namespaces here. Asked only for a command whose targets the parser could not work out."""
    return prefix_in_force(env) and probe(env).on

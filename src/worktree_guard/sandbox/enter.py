"""Entering the sandbox for one command, and the failure policy when that cannot be done."""

from __future__ import annotations

import posix
import sys

from worktree_guard.core.config import LockDirError, load_settings
from worktree_guard.lite import system
from worktree_guard.sandbox import kernel
from worktree_guard.sandbox.facts import existing, read_facts
from worktree_guard.sandbox.policy import Plan, failure_line, plan

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

REFUSED = 126


def build(env: Mapping[str, str], cwd: str) -> Plan:
    settings = load_settings(env)
    facts = read_facts(settings, env, cwd)
    paths = facts.protected + [t.toplevel for t in facts.held]
    for tree in facts.held:
        paths.extend(p for p in (tree.git_dir, tree.common_dir) if p)
        paths.extend(tree.state_files())
    return plan(facts.held, facts.protected, existing(paths))


def apply(chosen: Plan) -> None:
    abi = kernel.landlock_abi()
    kernel.unshare_mounts()
    for mount in chosen.mounts:
        kernel.bind(mount.path, mount.read_only)
    # The working folder was entered before the mounts: through it, relative paths would
    # still reach the tree below them. Enter it again, through the mounts.
    posix.chdir(system.getcwd())
    kernel.seal(abi)


def sandboxed(argv: list[str], env: Mapping[str, str]) -> int:
    try:
        chosen = build(env, system.getcwd())
        apply(chosen)
    except (OSError, LockDirError, ValueError) as exc:
        return _failed(argv, env, exc)
    from worktree_guard.sandbox.prefix import INSIDE_VARIABLE, mount_namespace

    inner = {**env, INSIDE_VARIABLE: mount_namespace()}
    if not chosen.held:
        return _exec(argv, inner)
    # A tree of another session is read-only: wait for the command, to say why it failed.
    pid = posix.fork()
    if pid == 0:
        _exec(argv, inner)
        posix._exit(127)
    return _relay(pid, chosen)


def _relay(pid: int, chosen: Plan) -> int:
    import _signal as signal  # type: ignore[import-not-found,unused-ignore]  # no enum cost

    def forward(signum: int, _frame: object) -> None:
        try:
            posix.kill(pid, signum)
        except OSError:
            pass

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, forward)
    while True:
        try:
            _, status = posix.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
    code = posix.waitstatus_to_exitcode(status)
    if code != 0:
        sys.stderr.write(failure_line(chosen.held) + "\n")
        sys.stderr.flush()
    return 128 - code if code < 0 else code


def _failed(argv: list[str], env: Mapping[str, str], exc: BaseException) -> int:
    """The sandbox could not be set up: the failure policy, visibly."""
    from worktree_guard.core import failopen

    settings = load_settings(env)
    closed = settings.fail_closed
    what = f"{type(exc).__name__}: {exc}"
    unrecorded = failopen.record(settings, "shell prefix", what, closed, hook="shell-prefix")
    verdict = "not running it (fail-closed)" if closed else "running it without the sandbox"
    sys.stderr.write(f"worktree-guard: cannot sandbox this command ({what}); {verdict}"
                     f"{unrecorded}\n")
    if closed:
        return REFUSED
    return _exec(argv)


def _exec(argv: list[str], env: Mapping[str, str] | None = None) -> int:
    from worktree_guard.sandbox.prefix import exec_argv as run

    return run(argv, env)

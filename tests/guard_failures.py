"""Guard's own failures, found wherever a test ran it: a crashed or confused guard must turn
the test red, not pass as "allowed".

Guard's failure policy lets a call go on when guard cannot decide (core/failopen.py,
agents/common.py `failure_answer`), and that leaves three traces: a line on stderr
(`worktree-guard: internal error in ...`), an `error` event in the lock folder's log, and,
when the call was let through, the failed-open record `failed-open.json` there. Every
helper that runs a hook checks for them after each call (`check_call`), and the suite
checks every lock folder under a test's `tmp_path` when the test ends (tests/conftest.py).

A test of the failure policy says that it expects a failure: the `guard_fails` marker for
the whole test, or `expect_failure=True` for one call. Failures accepted that way are
remembered per lock folder, so only new ones count afterwards.

An "allowed" file write also shows what allowing means (`check_allowed_write`): the tree
of every file it names is held by the caller afterwards.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path

from worktree_guard.core.config import LockDirError, load_settings
from worktree_guard.core.workspace import workspace_key

INTERNAL_ERROR = "worktree-guard: internal error"
FAILED_OPEN = "failed-open.json"
EVENTS = "events.jsonl"
MARKER = "guard_fails"

# Per test (reset by tests/conftest.py): whether the test expects guard to fail, and the
# failures already accepted in each lock folder (error events, failed-open count).
_state: dict[str, object] = {"expected": False}
_accepted: dict[str, tuple[int, int]] = {}


def start_test(expected: bool) -> None:
    _state["expected"] = expected
    _accepted.clear()


def expected() -> bool:
    return bool(_state["expected"])


def lock_dir_of(env: Mapping[str, str] | None) -> str | None:
    """The lock folder guard uses under `env` (None: the test's own environment)."""
    try:
        return load_settings(dict(os.environ) if env is None else env).lock_dir
    except LockDirError:
        return None


def _read_regular(path: str) -> str | None:
    """The text of `path` when it is a regular file (a test may put a FIFO or a folder where
    guard keeps a file: never block on it), else None."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with os.fdopen(os.dup(fd), "rb") as fh:
            return fh.read().decode("utf-8", errors="replace")
    finally:
        os.close(fd)


def traces(lock_dir: str) -> tuple[int, int, list[str]]:
    """The error events and the failed-open count in `lock_dir`, and what they say."""
    said: list[str] = []
    n_errors = 0
    for line in (_read_regular(os.path.join(lock_dir, EVENTS)) or "").splitlines():
        if '"error"' not in line:
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("event") == "error":
            n_errors += 1
            said.append(f"error event: {entry.get('error')!r}")
    n_open = 0
    record = os.path.join(lock_dir, FAILED_OPEN)
    if os.path.lexists(record):
        try:
            raw = json.loads(_read_regular(record) or "")
            n_open = int(raw["count"])
            said.append(f"{FAILED_OPEN}: {raw['last_error']!r}")
        except (ValueError, KeyError, TypeError):
            n_open = 1
            said.append(f"{FAILED_OPEN} is there, not a readable record")
    return n_errors, n_open, said


def new_failures(lock_dir: str, expect: bool) -> list[str]:
    """What `lock_dir` records beyond the failures already accepted (and accept them when a
    failure is expected)."""
    n_errors, n_open, said = traces(lock_dir)
    seen_errors, seen_open = _accepted.get(lock_dir, (0, 0))
    if expect:
        _accepted[lock_dir] = (n_errors, n_open)
        return []
    if n_errors > seen_errors or n_open > seen_open:
        return said
    return []


def check_call(stderr: str, env: Mapping[str, str] | None,
               expect_failure: bool | None = None, what: str = "guard") -> None:
    """Fail the test when this call of `what` shows that guard failed (unless expected)."""
    expect = expected() if expect_failure is None else expect_failure
    lock_dir = lock_dir_of(env)
    problems = [line for line in stderr.splitlines() if INTERNAL_ERROR in line]
    if lock_dir is not None:
        problems += new_failures(lock_dir, expect)
    if problems and not expect:
        raise AssertionError(
            f"{what}: guard failed ({'; '.join(problems)}). A test of the failure policy says "
            f"so: @pytest.mark.{MARKER}, or expect_failure=True for the call.")


def check_lock_dirs(root: Path) -> None:
    """At the end of a test: no lock folder under `root` records a failure not accepted."""
    if expected() or not root.is_dir():
        return
    problems: list[str] = []
    folders = {p.parent for name in (FAILED_OPEN, EVENTS) for p in root.rglob(name)}
    for folder in sorted(folders):
        found = new_failures(str(folder), False)
        problems += [f"{folder.name}/{line}" for line in found]
    if problems:
        raise AssertionError(
            f"guard failed during the test ({'; '.join(problems)}). A test of the failure "
            f"policy says so: @pytest.mark.{MARKER}.")


def toplevel(path: str) -> str | None:
    """The working tree `path` (a file that may not exist yet) is in, asked of git."""
    folder = path if os.path.isdir(path) else os.path.dirname(path)
    while folder and not os.path.isdir(folder):
        folder = os.path.dirname(folder)
    if not folder:
        return None
    done = subprocess.run(["git", "-C", folder, "rev-parse", "--show-toplevel"],
                          capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0 or not done.stdout.strip():
        return None
    return done.stdout.strip()


def holder_of(lock_dir: str, tree: str) -> str | None:
    path = os.path.join(lock_dir, f"session-lock-{workspace_key(os.path.realpath(tree))}.json")
    try:
        record = json.loads(_read_regular(path) or "")
    except ValueError:
        return None
    return str(record.get("session_id")) if isinstance(record, dict) else None


# The tools that write the files their payload names, by agent (as each client sends them).
_CLAUDE_FILE_TOOLS = frozenset({"Write", "Edit", "MultiEdit", "NotebookEdit"})
_COPILOT_FILE_TOOLS = frozenset({"create", "edit", "Write", "Edit", "MultiEdit"})
_GEMINI_FILE_TOOLS = frozenset({"write_file", "replace"})
_PATCH_HEADERS = ("*** Add File: ", "*** Update File: ", "*** Delete File: ", "*** Move to: ")


def _named(args: object, *names: str) -> list[str]:
    if not isinstance(args, dict):
        return []
    for name in names:
        value = args.get(name)
        if isinstance(value, str) and value:
            return [value]
    return []


def written_paths(agent: str, payload: object) -> list[str]:
    """The files a pre-tool payload's file tool writes (none for anything else)."""
    if not isinstance(payload, dict):
        return []
    if agent == "copilot":
        args = payload.get("toolArgs")
        if isinstance(args, str):
            try:
                args = json.loads(args)
            except ValueError:
                return []
        if payload.get("toolName") in _COPILOT_FILE_TOOLS:
            return _named(args, "path", "file_path")
        return []
    tool, args = payload.get("tool_name"), payload.get("tool_input")
    if agent == "claude" and payload.get("hook_event_name") == "PreToolUse":
        return _named(args, "file_path", "notebook_path") if tool in _CLAUDE_FILE_TOOLS else []
    if agent == "gemini" and payload.get("hook_event_name") == "BeforeTool":
        return _named(args, "file_path") if tool in _GEMINI_FILE_TOOLS else []
    if agent == "codex" and tool == "apply_patch" and isinstance(args, dict):
        patch = args.get("command") or args.get("input")
        if isinstance(patch, list):
            patch = patch[-1] if patch and isinstance(patch[-1], str) else ""
        if not isinstance(patch, str):
            return []
        return [line.strip()[len(h):].strip() for line in patch.splitlines()
                for h in _PATCH_HEADERS if line.strip().startswith(h)]
    return []


def check_answer(agent: str, payload: object, denied: bool, stderr: str,
                 env: Mapping[str, str], expect_failure: bool | None = None) -> None:
    """Every hook runner's check of one pre-tool (or other) call: guard did not fail, and
    an allowed write left its trees with the caller."""
    check_call(stderr, env, expect_failure, f"guard hook ({agent})")
    expect = expected() if expect_failure is None else expect_failure
    if denied or expect or not isinstance(payload, dict):
        return
    session = payload.get("sessionId" if agent == "copilot" else "session_id")
    cwd = payload.get("cwd")
    if isinstance(session, str) and isinstance(cwd, str):
        check_allowed_write(written_paths(agent, payload), cwd, session, env)


def check_allowed_write(paths: Iterable[str], cwd: str, session: str,
                        env: Mapping[str, str]) -> None:
    """An allowed write of `paths` leaves the tree of each held by the caller (the session of
    `guard run` when the call runs under it)."""
    if expected():
        return
    lock_dir = lock_dir_of(env)
    if lock_dir is None:
        return
    caller = env.get("GUARD_SESSION_ID", "").strip() or session
    for path in paths:
        tree = toplevel(os.path.realpath(os.path.join(cwd, path)))
        if tree is None:
            continue  # in no repository: nothing to take
        holder = holder_of(lock_dir, tree)
        assert holder == caller, (
            f"guard allowed {caller}'s write of {path}, but {tree} is held by {holder!r}: "
            "an allowed write takes or keeps its tree's lease")

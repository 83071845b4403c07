"""Claude Code started under `guard run`: its hooks act as the run (GUARD_SESSION_ID).

The run owns the lease and its holder process (the `guard run` process); the client's own
session id, its `claude` process and its SessionEnd must change none of that. Each test
starts the real `guard run`, which starts a real process named `claude`, which runs the real
`guard hook` the way the client does (hook <- sh <- claude).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from tests.conftest import GUARD, HookRun, event, lease_files, pre_tool, read_lease, run_hook

SAFETY_S = 60.0  # how long a test waits for a process to get somewhere; never asserted on

# One hook call as the client makes it, then the `claude` process exits.
ONE_SHOT_CLAUDE = """#!/bin/sh
sh -c '"$GUARD_BIN" hook' <"$1" >"$2"
"""


def claude_script(tmp_path: Path) -> Path:
    folder = tmp_path / "fakebin"
    folder.mkdir(exist_ok=True)
    script = folder / "claude"
    script.write_text(ONE_SHOT_CLAUDE)
    script.chmod(0o755)
    return script


def run_claude_under_guard_run(
    tmp_path: Path, repo: Path, env: dict[str, str], payloads: list[dict[str, object]]
) -> tuple[subprocess.Popen[bytes], list[Path], Path, Path]:
    """`guard run` whose command feeds each payload to a fresh `claude`, then says it is
    ready and waits for a go file: the test looks at the lease while the run still holds it."""
    claude = claude_script(tmp_path)
    steps = []
    answers = []
    for n, payload in enumerate(payloads):
        given, answer = tmp_path / f"payload-{n}.json", tmp_path / f"answer-{n}.json"
        given.write_text(json.dumps(payload))
        steps.append(f'"{claude}" "{given}" "{answer}"')
        answers.append(answer)
    ready, go = tmp_path / "ready", tmp_path / "go"
    script = "; ".join([*steps, f'touch "{ready}"', f'while [ ! -e "{go}" ]; do sleep 0.05; done'])
    proc = subprocess.Popen(
        [GUARD, "run", "--", "sh", "-c", script], cwd=repo, env={**env, "GUARD_BIN": GUARD},
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + SAFETY_S
    while not ready.exists():
        if proc.poll() is not None:
            raise AssertionError(f"guard run exited {proc.returncode}: {proc.communicate()}")
        assert time.monotonic() < deadline, "the command under guard run never got ready"
        time.sleep(0.02)
    return proc, answers, go, ready


def finish(proc: subprocess.Popen[bytes], go: Path) -> int:
    go.touch()
    proc.communicate(timeout=SAFETY_S)
    return proc.returncode


def answer_of(path: Path) -> HookRun:
    return HookRun(0, path.read_text(), "")


def test_a_claude_session_under_guard_run_writes_as_the_run(
    repo: Path, guard_env: dict[str, str], lock_dir: Path, tmp_path: Path
) -> None:
    """Catches: the Claude hook ignoring GUARD_SESSION_ID (it would ask for the lease as the
    client's own session and be denied by the run's lease), and the hook looking up its
    `claude` ancestor under `guard run` (the record's holder pid would become the short-lived
    `claude` process's, and the tree would be free once that process is gone)."""
    proc, answers, go, _ = run_claude_under_guard_run(
        tmp_path, repo, guard_env,
        [pre_tool("client-own-session", repo),
         pre_tool("client-own-session", repo, "Bash", command="make")])
    try:
        for answer in answers:
            assert answer.exists() and not answer_of(answer).denied, answer.read_text()
        lease = read_lease(lock_dir)
        assert lease["session_id"] != "client-own-session"
        assert lease["agent"] == "guard-run"
        assert lease["pid"] == proc.pid, "the run's process keeps the lease, not claude's"
        # The `claude` processes are gone; the run lives: the tree is still held.
        assert run_hook(pre_tool("client-own-session", repo), guard_env).denied
        assert run_hook(pre_tool("intruder", repo), guard_env).denied
    finally:
        code = finish(proc, go)
    assert code == 0
    assert lease_files(lock_dir) == []


def test_session_end_under_guard_run_leaves_the_runs_lease(
    repo: Path, guard_env: dict[str, str], lock_dir: Path, tmp_path: Path
) -> None:
    """Catches: a wrapped SessionEnd releasing (the client ending inside `guard run` would
    free the tree while the run's command still works in it)."""
    proc, _, go, _ = run_claude_under_guard_run(
        tmp_path, repo, guard_env,
        [pre_tool("client-own-session", repo),
         event("client-own-session", repo, "SessionEnd", reason="prompt_input_exit")])
    try:
        lease = read_lease(lock_dir)
        assert lease["agent"] == "guard-run" and lease["pid"] == proc.pid
        assert run_hook(pre_tool("intruder", repo), guard_env).denied
    finally:
        code = finish(proc, go)
    assert code == 0
    assert lease_files(lock_dir) == [], "the run releases its own lease when it ends"


def test_guard_session_id_wins_over_the_payloads_session(
    repo: Path, guard_env: dict[str, str], lock_dir: Path
) -> None:
    """Catches: the Claude hook ignoring GUARD_SESSION_ID, without `guard run` around it:
    two clients under one run id are one writer; the id a payload names does not matter."""
    wrapped = {**guard_env, "GUARD_SESSION_ID": "run-session-1"}
    assert not run_hook(pre_tool("client-a", repo), wrapped).denied
    assert read_lease(lock_dir)["session_id"] == "run-session-1"
    assert not run_hook(pre_tool("client-b", repo), wrapped).denied
    assert run_hook(pre_tool("client-a", repo), guard_env).denied  # unwrapped: another session
    other_run = {**guard_env, "GUARD_SESSION_ID": "run-session-2"}
    assert run_hook(pre_tool("client-a", repo), other_run).denied
    assert os.path.exists(lease_files(lock_dir)[0])

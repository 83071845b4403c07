"""Shared fixtures: real git repositories, a private lock folder, and the real `guard` process."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests import guard_failures
from tests.repos import git, make_bare, make_repo
from worktree_guard.install.launcher import Launcher, package_folder

__all__ = ["git", "make_bare", "make_repo"]  # the shared repository helpers, for the tests

GUARD = str(Path(sys.executable).parent / "guard")


def installed_launcher() -> Launcher:
    """The launcher `guard install` writes for the guard under test: the interpreter of its
    console script's shebang, and the folder the package is imported from."""
    shebang = Path(GUARD).read_text().splitlines()[0].removeprefix("#!").strip()
    return Launcher(shebang, package_folder())
PAYLOADS = Path(__file__).resolve().parent / "data" / "hook-payloads.jsonl"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{guard_failures.MARKER}: the test expects guard to fail (an internal "
        "error, failing open or closed); without it a failure turns the test red")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Guard's failures fail the test by default (tests/guard_failures.py): every hook runner
    checks its calls, and every lock folder under the test's tmp_path is checked at its end
    (when the test passed: a failed test has already said what went wrong)."""
    guard_failures.start_test(item.get_closest_marker(guard_failures.MARKER) is not None)
    yield
    tmp = getattr(item, "funcargs", {}).get("tmp_path")
    if isinstance(tmp, Path):
        guard_failures.check_lock_dirs(tmp)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


@pytest.fixture
def lock_dir(tmp_path: Path) -> Path:
    return tmp_path / "locks"


@pytest.fixture
def guard_env(lock_dir: Path, tmp_path: Path) -> dict[str, str]:
    """An environment for guard processes: private lock folder and HOME, no session ids."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CLAUDE", "GUARD_", "GIT_"))}
    env["GUARD_LOCK_DIR"] = str(lock_dir)
    env["HOME"] = str(tmp_path / "home")
    env["PATH"] = f"{Path(GUARD).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


@dataclass
class HookRun:
    returncode: int
    stdout: str
    stderr: str

    @property
    def decision(self) -> dict[str, Any] | None:
        if not self.stdout.strip():
            return None
        parsed: dict[str, Any] = json.loads(self.stdout)
        return parsed

    @property
    def denied(self) -> bool:
        out = self.decision
        return bool(out and out["hookSpecificOutput"].get("permissionDecision") == "deny")

    @property
    def reason(self) -> str:
        out = self.decision
        return str(out["hookSpecificOutput"]["permissionDecisionReason"]) if out else ""


def checked(run: HookRun, payload: object, env: dict[str, str],
            expect_failure: bool | None = None) -> HookRun:
    """`run`, once it is known that guard did not fail in it and that an allowed write left
    its tree with the caller (tests/guard_failures.py)."""
    guard_failures.check_answer("claude", payload, run.denied, run.stderr, env, expect_failure)
    return run


def run_hook(
    payload: dict[str, Any] | bytes | str,
    env: dict[str, str],
    argv_prefix: list[str] | None = None,
    expect_failure: bool | None = None,
    guard: str = GUARD,
) -> HookRun:
    """Run the real `guard hook` with one payload on stdin, as Claude Code does; the test
    fails when guard fails in it, unless `expect_failure` (or the `guard_fails` marker)."""
    if isinstance(payload, dict):
        data = json.dumps(payload).encode()
    else:
        data = payload.encode() if isinstance(payload, str) else payload
    done = subprocess.run(
        [*(argv_prefix or []), guard, "hook"],
        input=data, env=env, capture_output=True, timeout=60,
    )
    run = HookRun(done.returncode, done.stdout.decode(), done.stderr.decode(errors="replace"))
    return checked(run, payload, env, expect_failure)


def pre_tool(
    session: str, cwd: Path | str, tool: str = "Write", **tool_input: Any
) -> dict[str, Any]:
    if not tool_input:
        tool_input = (
            {"command": "touch x", "description": "x"}
            if tool == "Bash"
            else {"file_path": str(Path(cwd) / "file.txt"), "content": "x\n"}
        )
    return {
        "session_id": session,
        "transcript_path": "/dev/null",
        "cwd": str(cwd),
        "hook_event_name": "PreToolUse",
        "tool_name": tool,
        "tool_input": tool_input,
        "tool_use_id": "toolu_test",
    }


def event(session: str, cwd: Path | str, name: str, **extra: Any) -> dict[str, Any]:
    return {"session_id": session, "cwd": str(cwd), "hook_event_name": name, **extra}


def lease_files(lock_dir: Path) -> list[Path]:
    return sorted(lock_dir.glob("session-lock-*.json"))


def read_lease(lock_dir: Path) -> dict[str, Any]:
    files = lease_files(lock_dir)
    assert len(files) == 1, files
    parsed: dict[str, Any] = json.loads(files[0].read_text())
    return parsed


def backdate_leases(lock_dir: Path, by_ms: int) -> None:
    """Move every lease record's stamps `by_ms` into the past: how a test lets a ttl of
    minutes pass without sleeping through it (docs/testing.md)."""
    for path in lease_files(lock_dir):
        record = json.loads(path.read_text())
        for name in ("acquired_at", "last_active_at"):
            if isinstance(record.get(name), int):
                record[name] -= by_ms
        path.write_text(json.dumps(record))


def read_log(lock_dir: Path) -> list[dict[str, Any]]:
    path = lock_dir / "events.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


FAKE_CLAUDE = """#!/bin/sh
# Stands in for the long-lived `claude` process (the kernel names this process `claude`):
# it runs `guard hook` as Claude Code does (hook <- sh <- claude) with $1 on stdin, writes the
# answer to $2, and then lives on as the session's holder process until it is killed.
sh -c '"$GUARD_BIN" hook' <"$1" >"$2.part" 2>&1
mv "$2.part" "$2"
while :; do sleep 1; done
"""


@dataclass
class FakeClaude:
    """A real process named `claude` that ran one hook call and is still alive."""

    process: subprocess.Popen[bytes]
    answer: HookRun

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, 9)
            self.process.wait(timeout=10)


@pytest.fixture
def fake_claude(tmp_path: Path) -> Iterator[Any]:
    """Start `claude` holder processes: `start(payload, env) -> FakeClaude`."""
    folder = tmp_path / "fakebin"
    folder.mkdir()
    script = folder / "claude"
    script.write_text(FAKE_CLAUDE)
    script.chmod(0o755)
    started: list[FakeClaude] = []

    def start(payload: dict[str, Any], env: dict[str, str],
              expect_failure: bool | None = None) -> FakeClaude:
        n = len(started)
        payload_file, out_file = tmp_path / f"claude-in-{n}", tmp_path / f"claude-out-{n}"
        payload_file.write_text(json.dumps(payload))
        proc = subprocess.Popen(
            [str(script), str(payload_file), str(out_file)],
            env={**env, "GUARD_BIN": GUARD}, start_new_session=True,
        )
        for _ in range(3000):  # the hook's answer; a safety net, not a timing assertion
            if out_file.exists():
                break
            if proc.poll() is not None:
                raise AssertionError("fake claude exited early")
            time.sleep(0.01)
        text = out_file.read_text()
        json_lines = [line for line in text.splitlines() if line.startswith("{")]
        fake = FakeClaude(proc, HookRun(0, "\n".join(json_lines), text))
        started.append(fake)
        checked(fake.answer, payload, env, expect_failure)
        return fake

    yield start
    for fake in started:
        fake.kill()


# ---- real agent processes and real people ------------------------------------------------


# What each agent's shell exports, by the name of its process: its session id (also the hook
# payload's), and its own pid where the client says it.
AGENT_SHELL_VARIABLES = {
    "claude": ("CLAUDE_CODE_SESSION_ID", "CLAUDE_PID"),  # Claude Code 2.1.332
    "copilot": ("COPILOT_AGENT_SESSION_ID", None),  # Copilot CLI (= the hook's sessionId)
    "codex": ("CODEX_THREAD_ID", None),  # Codex CLI (= the hook's session_id)
}


class AgentShell:
    """A copy of bash named `claude` (or another agent's name, exporting that agent's
    variables: see AGENT_SHELL_VARIABLES): a real, long-lived agent process. Every command it is
    given runs as its descendant (in a child `bash -c`, as the Bash tool's does), so
    guard's hooks, git and git's hooks find it among their ancestors, as under Claude Code.
    It exports CLAUDE_PID (its own pid) and CLAUDE_CODE_SESSION_ID, as Claude Code 2.1.332
    does; `run` takes a command line, `hook` a payload for `guard hook`."""

    def __init__(self, binary: Path, env: dict[str, str], cwd: Path, scratch: Path,
                 session: str | None) -> None:  # fmt: skip
        full = {**env, "GUARD_BIN": GUARD}
        session_variable, pid_variable = AGENT_SHELL_VARIABLES[binary.name]
        if session is not None:
            full[session_variable] = session
        self.env = full
        self.session = session
        self.scratch = scratch
        self.cwd = cwd
        self.count = 0
        self.process = subprocess.Popen(
            [str(binary), "--norc", "--noprofile"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=full, cwd=cwd,
            start_new_session=True, text=True,
        )
        if pid_variable:
            self.run(f"export {pid_variable}=$$")

    @property
    def pid(self) -> int:
        return self.process.pid

    def run(self, command: str, stdin: str = "", cwd: Path | None = None
            ) -> subprocess.CompletedProcess[str]:  # fmt: skip
        """Run `command` as this agent's descendant; returns when it has finished."""
        self.count += 1
        base = self.scratch / f"agent-{self.pid}-{self.count}"
        script, given, out, err = (base.with_suffix(s) for s in (".sh", ".in", ".out", ".err"))
        script.write_text(command + "\n")
        given.write_text(stdin)
        inner = f"cd {shlex.quote(str(cwd or self.cwd))} && . {shlex.quote(str(script))}"
        # A child bash (named bash, as the Bash tool's is), not a subshell: a subshell of
        # this process would be named `claude` too.
        line = (f"bash --norc --noprofile -c {shlex.quote(inner)} <{shlex.quote(str(given))} "
                f">{shlex.quote(str(out))} 2>{shlex.quote(str(err))}; echo \"__done__ $?\"\n")
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(line)
        self.process.stdin.flush()
        while True:
            answer = self.process.stdout.readline()
            if not answer:
                raise AssertionError("the agent shell exited")
            if answer.startswith("__done__ "):
                break
        code = int(answer.split()[1])
        return subprocess.CompletedProcess(command, code, out.read_text(), err.read_text())

    def hook(self, payload: dict[str, Any], expect_failure: bool | None = None) -> HookRun:
        """`guard hook` run by this agent, as Claude Code runs its hooks."""
        done = self.run('"$GUARD_BIN" hook', stdin=json.dumps(payload))
        return checked(HookRun(done.returncode, done.stdout, done.stderr), payload,
                       self.env, expect_failure)

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, 9)
            self.process.wait(timeout=10)


@pytest.fixture
def agent_shell(tmp_path: Path) -> Iterator[Any]:
    """`start(env, cwd, session, agent="claude") -> AgentShell`: agent processes, all
    killed at the end."""
    folder = tmp_path / "agentbin"
    folder.mkdir()
    scratch = tmp_path / "agent-io"
    scratch.mkdir()
    started: list[AgentShell] = []

    def start(env: dict[str, str], cwd: Path, session: str | None,
              agent: str = "claude") -> AgentShell:
        binary = folder / agent
        if not binary.exists():
            shutil.copy2(shutil.which("bash") or "/bin/bash", binary)
        shell = AgentShell(binary, env, cwd, scratch, session)
        started.append(shell)
        return shell

    yield start
    for shell in started:
        shell.kill()


_DETACH = r"""
import json, os, subprocess, sys
argv, cwd, env, stdin, result = json.loads(sys.argv[1])
read_end, write_end = os.pipe()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        # Reparented (to init or the nearest subreaper): none of our callers is an ancestor.
        os.close(read_end)
        chain, pid = [], os.getpid()
        while pid > 1:
            with open(f"/proc/{pid}/stat") as fh:
                stat = fh.read()
            chain.append(stat[stat.index("(") + 1 : stat.rindex(")")])
            pid = int(stat[stat.rindex(")") + 2 :].split()[1])
        done = subprocess.run(argv, cwd=cwd, env=env, input=stdin.encode(), capture_output=True)
        with open(result + ".part", "w") as fh:
            json.dump({"code": done.returncode, "out": done.stdout.decode(errors="replace"),
                       "err": done.stderr.decode(errors="replace"), "ancestors": chain}, fh)
        os.replace(result + ".part", result)
        os._exit(0)
    os._exit(0)
os.close(write_end)
os.wait()
os.read(read_end, 1)  # end of file once the detached process has finished
"""


def run_as_person(argv: list[str], cwd: Path, env: dict[str, str], stdin: str = ""
                  ) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """Run `argv` the way a person at a plain terminal would: outside every process tree
    above this test (the suite itself may run under an agent, a developer's session or an
    IDE), by a double fork that reparents it. Asserts that no `claude` is among its
    ancestors then."""
    fd, result = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    os.unlink(result)
    payload = json.dumps([argv, str(cwd), env, stdin, result])
    subprocess.run([sys.executable, "-c", _DETACH, payload], check=True, timeout=300)
    data = json.loads(Path(result).read_text())
    os.unlink(result)
    assert "claude" not in data["ancestors"], data["ancestors"]
    return subprocess.CompletedProcess(argv, data["code"], data["out"], data["err"])

"""Shared fixtures: real git repositories, a private lock folder, and the real `guard` process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from worktree_guard.install.launcher import Launcher, package_folder

GUARD = str(Path(sys.executable).parent / "guard")


def installed_launcher() -> Launcher:
    """The launcher `guard install` writes for the guard under test: the interpreter of its
    console script's shebang, and the folder the package is imported from."""
    shebang = Path(GUARD).read_text().splitlines()[0].removeprefix("#!").strip()
    return Launcher(shebang, package_folder())
PAYLOADS = Path(__file__).resolve().parent / "data" / "hook-payloads.jsonl"


def git(cwd: Path | str, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.strip()


def make_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "dev@example.invalid")
    git(path, "config", "user.name", "Dev")
    (path / "README").write_text("hello\n")
    git(path, "add", "README")
    git(path, "commit", "-q", "-m", "first")
    return path


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


def run_hook(
    payload: dict[str, Any] | bytes | str,
    env: dict[str, str],
    argv_prefix: list[str] | None = None,
) -> HookRun:
    """Run the real `guard hook` with one payload on stdin, as Claude Code does."""
    if isinstance(payload, dict):
        data = json.dumps(payload).encode()
    else:
        data = payload.encode() if isinstance(payload, str) else payload
    done = subprocess.run(
        [*(argv_prefix or []), GUARD, "hook"],
        input=data, env=env, capture_output=True, timeout=60,
    )
    return HookRun(done.returncode, done.stdout.decode(), done.stderr.decode(errors="replace"))


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

    def start(payload: dict[str, Any], env: dict[str, str]) -> FakeClaude:
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
        return fake

    yield start
    for fake in started:
        fake.kill()

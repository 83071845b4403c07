"""Sessions of the real agent clients (Claude Code and the others) for the end-to-end tests.

Each client runs in its own process group with a throwaway HOME, output to files, against a
stand-in for its model API on 127.0.0.1. The repository is set up by `guard install` alone;
what a user does once per machine (sign-in choice, folder trust) is written into the
throwaway HOME as the client's own files hold it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests import repos

REPO_ROOT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_S = 120.0  # safety net per run, never a timed assertion
# A stable piece of guard's deny reason (every agent gets the same words).
DENY_PHRASE = "holds this working tree"


# Variables of an enclosing agent session, the user's API setup, proxies or git
# plumbing would leak into the sessions under test; none of them may.
_DROPPED_PREFIXES = ("CLAUDE", "ANTHROPIC", "AI_AGENT", "GUARD_", "GIT_", "XDG_")
_PROXIES = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}


def base_env(home: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(_DROPPED_PREFIXES) and k.lower() not in _PROXIES
    }
    env.update(HOME=str(home), NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    return env


# A fixed identity and no signing: the user's git config must not matter.
_GIT_CONFIG = (
    "-c",
    "user.name=e2e",
    "-c",
    "user.email=e2e@example.invalid",
    "-c",
    "commit.gpgsign=false",
)


def git(repo: Path, *args: str) -> None:
    env = {**base_env(repo.parent), "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", *_GIT_CONFIG, *args], cwd=repo, env=env, check=True, capture_output=True)


def result_text(tool_result: dict[str, Any]) -> str:
    content = tool_result.get("content")
    if isinstance(content, list):
        return "\n".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
    return str(content or "")


def logged_events(lock_dir: Path) -> list[dict[str, Any]]:
    """Every JSON-lines record under the lock dir, whatever guard names its log."""
    records: list[dict[str, Any]] = []
    for log in sorted(lock_dir.rglob("*.jsonl*")):  # events.jsonl.1 after a rotation
        for line in log.read_text(errors="replace").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict):
                records.append(record)
    return records


@dataclass
class AgentRun:
    name: str
    proc: subprocess.Popen[bytes]
    log_dir: Path

    def running(self) -> bool:
        return self.proc.poll() is None

    def wait(self) -> int:
        try:
            return self.proc.wait(timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"{self.name} still running after {RUN_TIMEOUT_S:.0f}s\n" + self.output())

    def kill(self) -> None:
        if self.running():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def output(self) -> str:
        out = (self.log_dir / "stdout").read_text(errors="replace")[-3000:]
        err = (self.log_dir / "stderr").read_text(errors="replace")[-3000:]
        return f"--- {self.name} stdout ---\n{out}\n--- {self.name} stderr ---\n{err}"


def start(name: str, argv: list[str], cwd: Path, env: dict[str, str], run_dir: Path) -> AgentRun:
    run_dir.mkdir(parents=True, exist_ok=True)
    with (run_dir / "stdout").open("wb") as out, (run_dir / "stderr").open("wb") as err:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=err, start_new_session=True)
    return AgentRun(name, proc, run_dir)


def new_home(run_dir: Path) -> Path:
    home = run_dir / "home"
    home.mkdir(parents=True)
    return home


def make_repo(path: Path) -> Path:
    env = {**base_env(path.parent), "GIT_CONFIG_NOSYSTEM": "1"}
    return repos.make_repo(path, env=env, readme="README.md", text="e2e\n", message="init")


def pinned_client(folder: str, executable: str, override_var: str, product: str,
                  version: str) -> Path:
    """client_bin, and skip unless it runs and is the version its hook protocol was
    observed on."""
    client = client_bin(folder, executable, override_var)
    done = subprocess.run([str(client), "--version"], capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL, check=False)
    if done.returncode != 0:
        pytest.skip(f"{product} at {client} does not run: {done.stderr[-300:]}")
    if version not in done.stdout:
        pytest.skip(f"{product} {done.stdout.strip()!r} is not the pinned {version}")
    return client


def guard_install(repo: Path, guard_bin: Path, *clients: Path) -> str:
    """Set the repo up the way a user does: `guard install`, nothing else, with the given
    agent clients on PATH (install sets up the agents it finds there)."""
    env = {**base_env(repo.parent / "install-home"), "GIT_CONFIG_NOSYSTEM": "1"}
    env["PATH"] = os.pathsep.join([*(str(c.parent) for c in clients), env.get("PATH", "")])
    done = subprocess.run([str(guard_bin), "install"], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def start_claude(claude_bin: Path, name: str, prompt: str, repo: Path, base_url: str,
                 lock_dir: Path, run_dir: Path) -> AgentRun:
    env = base_env(new_home(run_dir))
    env.update(ANTHROPIC_BASE_URL=base_url, ANTHROPIC_API_KEY="dummy",
               CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1", DISABLE_AUTOUPDATER="1",
               IS_SANDBOX="1", GUARD_LOCK_DIR=str(lock_dir))
    argv = [str(claude_bin), "-p", prompt, "--permission-mode", "bypassPermissions"]
    return start(name, argv, repo, env, run_dir)


def events_report(lock_dir: Path, *runs: AgentRun) -> str:
    lines = "\n".join(json.dumps(r) for r in logged_events(lock_dir))
    return "\n".join([*(r.output() for r in runs), f"--- guard events ---\n{lines}"])


def events_of(lock_dir: Path, event: str, agent: str | None = None) -> list[dict[str, Any]]:
    return [r for r in logged_events(lock_dir)
            if r.get("event") == event and (agent is None or r.get("agent") == agent)]


def client_bin(folder: str, executable: str, override_var: str) -> Path:
    """A client installed by .ci/run under .tools/<folder>, or $override_var; else skip."""
    override = os.environ.get(override_var)
    if override:
        return Path(override)
    path = REPO_ROOT / ".tools" / folder / "node_modules" / ".bin" / executable
    if not path.exists():
        npm = "npm is not installed" if shutil.which("npm") is None else "not installed"
        pytest.skip(f"{folder} client not available ({npm}; .ci/run installs it under "
                    f".tools/{folder})")
    return path

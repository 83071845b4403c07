"""Two machines and one remote: clones of one bare repository, each with its own HOME, lock
folder and guard's git hook shims, and agent sessions (real long-lived processes) on them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.conftest import GUARD, AgentShell, read_log
from tests.git.conftest import install_shims

Done = subprocess.CompletedProcess  # of str
LEASES = "refs/guard/leases/"


def base_env(home: Path, lock_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLAUDE", "GUARD_", "GIT_"))}
    env.update({"HOME": str(home), "GUARD_LOCK_DIR": str(lock_dir),
                "PATH": f"{Path(GUARD).parent}{os.pathsep}{env.get('PATH', '')}"})
    return env


def git(cwd: Path, *args: str, env: dict[str, str] | None = None,
        input: str | None = None) -> Done[str]:  # fmt: skip
    return subprocess.run(["git", *args], cwd=cwd, env=env, input=input, capture_output=True,
                          text=True, timeout=120, check=False)


def out(cwd: Path, *args: str) -> str:
    done = git(cwd, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@dataclass
class Machine:
    name: str
    clone: Path
    home: Path
    lock_dir: Path
    env: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.env = base_env(self.home, self.lock_dir)

    def git(self, *args: str, input: str | None = None) -> Done[str]:
        return git(self.clone, *args, env=self.env, input=input)

    def commit(self, message: str) -> str:
        with open(self.clone / f"{self.name}.txt", "a", encoding="utf-8") as fh:
            fh.write(message + "\n")
        assert self.git("add", "-A").returncode == 0
        done = self.git("commit", "-q", "-m", message)  # a person's commit: not refused
        assert done.returncode == 0, done.stderr
        return out(self.clone, "rev-parse", "HEAD")

    def events(self, name: str) -> list[dict[str, Any]]:
        return [e for e in read_log(self.lock_dir) if e["event"] == name]


@dataclass
class Remote:
    bare: Path
    url: str

    def sha(self, ref: str) -> str:
        return git(self.bare, "rev-parse", "-q", "--verify", ref).stdout.strip()

    def lease_text(self, branch: str) -> str:
        return git(self.bare, "cat-file", "commit", LEASES + branch).stdout


def make_remote(tmp: Path) -> Path:
    bare = tmp / "remote.git"
    assert git(tmp, "init", "-q", "--bare", "-b", "main", str(bare)).returncode == 0
    seed = tmp / "seed"
    assert git(tmp, "init", "-q", "-b", "main", str(seed)).returncode == 0
    (seed / "README").write_text("hello\n")
    for args in (("add", "README"), ("-c", "user.name=Dev", "-c", "user.email=d@example.invalid",
                                     "commit", "-q", "-m", "first"),
                 ("push", "-q", str(bare), "main")):
        assert git(seed, *args).returncode == 0
    return bare


def make_machine(tmp: Path, name: str, url: str) -> Machine:
    home, locks = tmp / f"home-{name}", tmp / f"locks-{name}"
    home.mkdir()
    clone = tmp / f"clone-{name}"
    assert git(tmp, "clone", "-q", url, str(clone)).returncode == 0
    for key, value in (("user.email", f"{name}@example.invalid"), ("user.name", name)):
        assert git(clone, "config", key, value).returncode == 0
    install_shims(clone)
    return Machine(name, clone, home, locks)


def backdated_lease(m: Machine, branch: str, age_s: int) -> str:
    """The lease commit this clone last saw for `branch`, written again with a stamp `age_s`
    old (what a holder that stopped renewing leaves behind): its sha."""
    text = out(m.clone, "cat-file", "commit", f"refs/guard/seen/origin/{branch}") + "\n"
    stamp = int(time.time()) - age_s
    lines = []
    for line in text.split("\n\n", 1)[0].splitlines():
        if line.startswith(("author ", "committer ")):
            line = line.rsplit(" ", 2)[0] + f" {stamp} +0000"
        if not line.startswith("parent "):
            lines.append(line)
    body = "\n".join(lines) + "\n\n" + text.split("\n\n", 1)[1]
    return m.git("hash-object", "-t", "commit", "-w", "--stdin", input=body).stdout.strip()


def start_daemon(base: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A `git daemon` on 127.0.0.1 serving `base` (pushes allowed) and its git:// base URL,
    once it accepts connections (a minute's safety net, not a timing assertion)."""
    port = free_port()
    proc = subprocess.Popen(
        ["git", "daemon", "--reuseaddr", "--listen=127.0.0.1", f"--port={port}",
         "--export-all", "--enable=receive-pack", f"--base-path={base}", str(base)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    for _ in range(6000):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc, f"git://127.0.0.1:{port}"
        if proc.poll() is not None:
            raise AssertionError("git daemon exited")
        time.sleep(0.01)
    stop_daemon(proc)
    raise AssertionError("git daemon never listened")


def stop_daemon(proc: subprocess.Popen[bytes]) -> None:
    """Stop the daemon and what it started: `git daemon` runs `git-daemon` as its child, which
    a kill of the parent alone leaves running (and listening) after the test."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def session(agent_shell: Any, m: Machine, session_id: str) -> AgentShell:
    shell: AgentShell = agent_shell(m.env, m.clone, session_id)
    return shell

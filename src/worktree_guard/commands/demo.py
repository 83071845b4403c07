"""`guard demo`: a narrated run in a throwaway repository, with the real hook code.

Two agent sessions meet in one working tree. A small shell script named `claude` stands in
for each Claude Code process (guard finds a session's holder process by that name) and
runs the real `guard hook` with the payload Claude Code would send; commits go through the
real git hooks that `guard install` puts in. Nothing outside the temporary folder is used:
it has its own lock folder, HOME and git config.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_STEP_TIMEOUT_S = 60.0
_STAND_IN = """#!/bin/sh
# Stands in for the `claude` process: guard records a session's holder by this name.
# It runs one hook call as its child, then (for a session that goes on) stays alive.
"$@" <"$GUARD_DEMO_IN" >"$GUARD_DEMO_OUT.tmp" 2>&1
mv "$GUARD_DEMO_OUT.tmp" "$GUARD_DEMO_OUT"
if [ -n "$GUARD_DEMO_LINGER" ]; then
    while :; do sleep 1; done
fi
"""
_DROPPED_PREFIXES = ("CLAUDE", "GUARD_", "GIT_")


@dataclass
class Demo:
    guard: str
    say: Callable[[str], None]
    color: bool
    root: str = field(default_factory=lambda: tempfile.mkdtemp(prefix="guard-demo-"))
    surprises: list[str] = field(default_factory=list)
    lingering: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.repo = os.path.join(self.root, "repo")
        self.bin = os.path.join(self.root, "bin")
        home = os.path.join(self.root, "home")
        for folder in (self.repo, self.bin, home):
            os.makedirs(folder)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(_DROPPED_PREFIXES)}
        self.env.update(
            GUARD_LOCK_DIR=os.path.join(self.root, "locks"),
            HOME=home,
            XDG_CONFIG_HOME=os.path.join(home, ".config"),
            GIT_CONFIG_NOSYSTEM="1",
        )
        stand_in = os.path.join(self.bin, "claude")
        with open(stand_in, "w", encoding="utf-8") as fh:
            fh.write(_STAND_IN)
        os.chmod(stand_in, 0o755)
        self.stand_in = stand_in

    # ---- output ----------------------------------------------------------------------------

    def _style(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.color else text

    def step(self, text: str) -> None:
        self.say("")
        self.say(self._style(f"== {text}", "1;36"))

    def tell(self, text: str) -> None:
        self.say(text)

    def show(self, text: str) -> None:
        for line in text.rstrip("\n").splitlines() or [""]:
            self.say(self._style(f"   | {line}", "2"))

    def expect(self, condition: bool, what: str) -> None:
        if condition:
            self.say(self._style(f"   ok: {what}", "32"))
        else:
            self.say(self._style(f"   UNEXPECTED: {what} did not happen", "1;31"))
            self.surprises.append(what)

    # ---- actions ---------------------------------------------------------------------------

    def run(self, argv: list[str], extra_env: dict[str, str] | None = None,
            ) -> subprocess.CompletedProcess[str]:  # fmt: skip
        env = {**self.env, **(extra_env or {})}
        return subprocess.run(argv, cwd=self.repo, env=env, capture_output=True, text=True,
                              timeout=_STEP_TIMEOUT_S, stdin=subprocess.DEVNULL, check=False)

    def git(self, *args: str, session: str | None = None) -> subprocess.CompletedProcess[str]:
        return self.run(["git", *args], {"CLAUDE_CODE_SESSION_ID": session} if session else None)

    def guard_cli(self, *args: str) -> str:
        done = self.run([self.guard, *args])
        return (done.stdout + done.stderr).strip()

    def hook_call(self, session: str, tool: str, tool_input: dict[str, Any],
                  linger: bool) -> dict[str, Any] | None:  # fmt: skip
        """One PreToolUse call of `session`, made by a stand-in `claude` process."""
        payload = {
            "session_id": session, "transcript_path": "", "cwd": self.repo,
            "permission_mode": "default", "hook_event_name": "PreToolUse",
            "tool_name": tool, "tool_input": tool_input, "tool_use_id": f"toolu_{uuid.uuid4().hex}",
        }  # fmt: skip
        tag = uuid.uuid4().hex[:8]
        payload_file = os.path.join(self.root, f"payload-{tag}.json")
        answer_file = os.path.join(self.root, f"answer-{tag}.txt")
        with open(payload_file, "w", encoding="utf-8") as fh:
            json.dump(payload, fh)
        env = {**self.env, "GUARD_DEMO_IN": payload_file, "GUARD_DEMO_OUT": answer_file,
               "GUARD_DEMO_LINGER": "1" if linger else "",
               "CLAUDE_CODE_SESSION_ID": session, "CLAUDECODE": "1"}  # fmt: skip
        proc = subprocess.Popen([self.stand_in, self.guard, "hook"], cwd=self.repo, env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
        if linger:
            self.lingering.append(proc)
        deadline = time.monotonic() + _STEP_TIMEOUT_S
        while not os.path.exists(answer_file) and time.monotonic() < deadline:
            time.sleep(0.02)
        if not linger:
            proc.wait(timeout=_STEP_TIMEOUT_S)
        try:
            with open(answer_file, encoding="utf-8") as fh:
                text = fh.read().strip()
        except OSError:
            self.surprises.append("the hook answered")
            return None
        try:
            answer = json.loads(text) if text else {}
        except ValueError:
            self.show(text)
            return None
        return answer if isinstance(answer, dict) else None

    def stop(self, proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the stand-in and its `sleep`
            proc.wait(timeout=_STEP_TIMEOUT_S)

    def cleanup(self, keep: bool) -> None:
        for proc in self.lingering:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=_STEP_TIMEOUT_S)
        if keep:
            self.tell(f"\nThe demo repository is kept in {self.root}")
        else:
            shutil.rmtree(self.root, ignore_errors=True)


def _denial(answer: dict[str, Any] | None) -> str | None:
    if not answer:
        return None
    out = answer.get("hookSpecificOutput")
    if isinstance(out, dict) and out.get("permissionDecision") == "deny":
        return str(out.get("permissionDecisionReason", ""))
    return None


def story(demo: Demo) -> None:
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    demo.step("A fresh repository, guarded")
    demo.git("init", "-q", "-b", "main")
    demo.git("config", "user.name", "Demo")
    demo.git("config", "user.email", "demo@example.invalid")
    with open(os.path.join(demo.repo, "app.py"), "w", encoding="utf-8") as fh:
        fh.write("print('hello')\n")
    demo.git("add", "app.py")
    demo.git("commit", "-q", "-m", "first commit")
    demo.tell("$ guard install --no-claude     (the git hooks; Claude Code is simulated here)")
    done = demo.run([demo.guard, "install", "--no-claude"])
    demo.show(done.stdout + done.stderr)
    demo.expect(done.returncode == 0, "guard install")

    demo.step(f"Session A ({a[:8]}) edits app.py: it takes the lease")
    answer = demo.hook_call(a, "Write", {"file_path": os.path.join(demo.repo, "app.py"),
                                         "content": "print('hello from A')\n"}, linger=True)
    demo.expect(answer is not None and _denial(answer) is None, "A's Write is allowed")
    with open(os.path.join(demo.repo, "app.py"), "w", encoding="utf-8") as fh:
        fh.write("print('hello from A')\n")
    demo.tell("$ guard status")
    status = demo.guard_cli("status")
    demo.show(status)
    demo.expect(a in status, "A holds the tree")

    demo.step(f"Session B ({b[:8]}) wants to edit the same tree: denied")
    answer = demo.hook_call(b, "Edit", {"file_path": os.path.join(demo.repo, "app.py"),
                                        "old_string": "hello", "new_string": "bye"}, linger=False)
    reason = _denial(answer)
    demo.tell("What B's model is told instead of running the tool:")
    demo.show(reason or "(no deny)")
    demo.expect(reason is not None, "B's Edit is denied")

    demo.step("B skips its tool hooks and commits with git: the git hook refuses")
    with open(os.path.join(demo.repo, "notes.txt"), "w", encoding="utf-8") as fh:
        fh.write("B was here\n")
    demo.git("add", "notes.txt")
    demo.tell("$ git commit -m 'B sneaks in'      (with B's CLAUDE_CODE_SESSION_ID)")
    done = demo.git("commit", "-q", "-m", "B sneaks in", session=b)
    demo.show(done.stdout + done.stderr)
    demo.expect(done.returncode != 0, "B's commit is refused")

    demo.step("Session A dies without a word (SIGKILL: no SessionEnd hook runs)")
    for proc in list(demo.lingering):
        demo.stop(proc)
    demo.tell("$ guard status")
    status = demo.guard_cli("status")
    demo.show(status)
    demo.expect("holder process is gone" in status, "the lease shows its holder dead")

    demo.step("B tries again: the dead holder's lease is taken over")
    answer = demo.hook_call(b, "Edit", {"file_path": os.path.join(demo.repo, "app.py"),
                                        "old_string": "hello", "new_string": "bye"}, linger=False)
    demo.expect(answer is not None and _denial(answer) is None, "B's Edit is allowed")
    done = demo.git("commit", "-q", "-m", "B's work", session=b)
    demo.show(done.stdout + done.stderr or "(committed)")
    demo.expect(done.returncode == 0, "B's commit goes through")

    demo.step("The event log tells the story")
    demo.tell("$ guard log -n 8")
    demo.show(demo.guard_cli("log", "-n", "8"))
    demo.tell("\nFree a lease by hand with `guard release --force`; hold one for any program "
              "with `guard run -- CMD`.")


def run_demo(guard: str, say: Callable[[str], None], color: bool, keep: bool) -> int:
    demo = Demo(guard, say, color)
    try:
        story(demo)
    finally:
        demo.cleanup(keep)
    if demo.surprises:
        say(f"\nThe demo did not go as expected: {', '.join(demo.surprises)}")
        return 1
    say("\nDemo complete.")
    return 0

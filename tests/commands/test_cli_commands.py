"""The `guard` commands for people, run as processes: status, list, log, release, doctor,
statusline, demo, and the manners every command keeps (help, version, errors)."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import GUARD, installed_launcher, lease_files, pre_tool, read_log

SAFETY_S = 120.0
COMMANDS = ["install", "uninstall", "status", "list", "log", "doctor", "release", "run",
            "statusline", "demo"]  # fmt: skip


def guard(cwd: Path, env: dict[str, str], *args: str, stdin: str | None = None,
          ) -> subprocess.CompletedProcess[str]:  # fmt: skip
    return subprocess.run([GUARD, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=SAFETY_S, input=stdin,
                          stdin=subprocess.DEVNULL if stdin is None else None)  # fmt: skip


SESSION = "5e55104a-0000-4000-8000-00000000000a"


@pytest.fixture
def held(repo: Path, guard_env: dict[str, str], fake_claude: Any) -> Any:
    """The repo's lease held by a live stand-in `claude` process of SESSION."""
    claude = fake_claude(pre_tool(SESSION, repo), guard_env)
    assert not claude.answer.denied
    return claude


# ---- status / list / log ---------------------------------------------------------------------


def test_status_free_then_held(repo: Path, guard_env: dict[str, str], fake_claude: Any) -> None:
    free = json.loads(guard(repo, guard_env, "status", "--json").stdout)
    assert free["lease"]["state"] == "free"
    assert free["workspace"] == str(repo.resolve()) and free["branch"] == "main"
    assert set(free["installed"]["git_hooks"].values()) == {"missing"}

    claude = fake_claude(pre_tool(SESSION, repo), guard_env)
    data = json.loads(guard(repo, guard_env, "status", "--json").stdout)
    lease = data["lease"]
    assert lease["state"] == "held" and not lease["held_by_you"]
    assert lease["session_id"] == SESSION and lease["agent"] == "claude"
    assert lease["pid"] == claude.pid and lease["alive"] == "alive"
    assert lease["branch"] == "main" and lease["ttl_left_ms"] > 0
    text = guard(repo, guard_env, "status").stdout
    assert SESSION in text and f"{claude.pid} (alive)" in text and "ttl left" in text

    # The label alone is not the session: "held by you" only from the holder's own tree.
    borrowed = guard(repo, {**guard_env, "GUARD_SESSION_ID": SESSION}, "status", "--json")
    assert json.loads(borrowed.stdout)["lease"]["held_by_you"] is False

    claude.kill()
    dead = json.loads(guard(repo, guard_env, "status", "--json").stdout)["lease"]
    assert dead["state"] == "dead" and dead["alive"] == "dead"
    assert "holder process is gone" in guard(repo, guard_env, "status").stdout


def test_list_shows_every_lease(tmp_path: Path, guard_env: dict[str, str], repo: Path,
                                held: Any) -> None:  # fmt: skip
    data = json.loads(guard(tmp_path, guard_env, "list", "--json").stdout)  # works anywhere
    assert data["lock_dir"] == guard_env["GUARD_LOCK_DIR"]
    (lease,) = data["leases"]
    assert lease["workspace"] == str(repo.resolve()) and lease["pid"] == held.pid
    text = guard(tmp_path, guard_env, "list").stdout
    assert str(repo.resolve()) in text and SESSION[:8] in text
    empty = {**guard_env, "GUARD_LOCK_DIR": str(tmp_path / "none")}
    assert json.loads(guard(tmp_path, empty, "list", "--json").stdout)["leases"] == []


def test_log_json_lines_and_text(repo: Path, guard_env: dict[str, str], held: Any) -> None:
    guard(repo, guard_env, "run", "--", "true")  # denied: the tree is held
    lines = guard(repo, guard_env, "log", "--json", "-n", "5").stdout.splitlines()
    entries = [json.loads(line) for line in lines]
    assert [e["event"] for e in entries] == ["acquired", "denied"]
    assert all(isinstance(e["ts_ms"], int) for e in entries)
    assert len(guard(repo, guard_env, "log", "-n", "1", "--json").stdout.splitlines()) == 1
    text = guard(repo, guard_env, "log").stdout
    assert "acquired" in text and f"session={SESSION[:8]}" in text


def line_reader(proc: subprocess.Popen[str]) -> queue.Queue[str]:
    """The child's stdout lines, read by a thread: a test waits with a timeout, never hangs."""
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None
    stdout = proc.stdout

    def pump() -> None:
        for line in stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def test_log_follow_prints_new_events(repo: Path, guard_env: dict[str, str]) -> None:
    proc = subprocess.Popen([GUARD, "log", "--follow", "--json", "-n", "0"], cwd=repo,
                            env=guard_env, stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        lines = line_reader(proc)
        # The follower starts at the end of the log: make events until it shows one.
        deadline = time.monotonic() + SAFETY_S
        while True:
            assert guard(repo, guard_env, "run", "--", "true").returncode == 0
            try:
                seen = [json.loads(lines.get(timeout=0.5))]
                break
            except queue.Empty:
                assert time.monotonic() < deadline, "the follower never printed an event"
        while seen[-1]["event"] != "released":
            seen.append(json.loads(lines.get(timeout=SAFETY_S)))
        assert {e["event"] for e in seen} <= {"acquired", "released"}
        assert all(e["via"] == "guard run" for e in seen)
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=SAFETY_S) == 0


# ---- release ----------------------------------------------------------------------------------


def test_release_own_lease_from_a_run(repo: Path, guard_env: dict[str, str],
                                      lock_dir: Path) -> None:  # fmt: skip
    done = guard(repo, guard_env, "run", "--", GUARD, "release")
    assert done.returncode == 0, done.stderr
    assert "released" in done.stdout
    assert lease_files(lock_dir) == []


def test_release_without_a_session_refuses(repo: Path, guard_env: dict[str, str],
                                           held: Any, lock_dir: Path) -> None:  # fmt: skip
    done = guard(repo, guard_env, "release")
    assert done.returncode == 1 and "--force" in done.stderr
    assert lease_files(lock_dir)
    other = guard(repo, {**guard_env, "GUARD_SESSION_ID": "someone-else"}, "release")
    assert other.returncode == 1 and "not by your session" in other.stderr


def test_force_release_asks_before_a_live_holder(
    repo: Path, guard_env: dict[str, str], held: Any, lock_dir: Path
) -> None:
    no_answer = guard(repo, guard_env, "release", "--force")
    assert no_answer.returncode == 1 and "looks alive" in no_answer.stderr
    assert "Traceback" not in no_answer.stderr
    said_no = guard(repo, guard_env, "release", "--force", stdin="n\n")
    assert said_no.returncode == 1 and lease_files(lock_dir)
    said_yes = guard(repo, guard_env, "release", "--force", stdin="y\n")
    assert said_yes.returncode == 0 and not lease_files(lock_dir)
    forced = [e for e in read_log(lock_dir) if e["event"] == "released"]
    assert forced[-1]["forced"] is True and forced[-1]["session"] == SESSION


def test_force_release_yes_and_dead_holder(
    repo: Path, guard_env: dict[str, str], fake_claude: Any, lock_dir: Path
) -> None:
    fake_claude(pre_tool(SESSION, repo), guard_env)
    assert guard(repo, guard_env, "release", "--force", "--yes").returncode == 0
    assert not lease_files(lock_dir)
    dead = fake_claude(pre_tool(SESSION, repo), guard_env)
    dead.kill()
    done = guard(repo, guard_env, "release", "--force")  # no question for a dead holder
    assert done.returncode == 0 and not lease_files(lock_dir)
    free = guard(repo, guard_env, "release")
    assert free.returncode == 0 and "nothing to release" in free.stdout


# ---- doctor -------------------------------------------------------------------------------------


def test_doctor_fails_before_install_and_passes_after(
    repo: Path, guard_env: dict[str, str]
) -> None:
    before = guard(repo, guard_env, "doctor")
    assert before.returncode == 1
    assert "FAIL" in before.stdout and "fix: guard install" in before.stdout
    guard(repo, guard_env, "install")
    after = guard(repo, guard_env, "doctor", "--json")
    report = json.loads(after.stdout)
    assert after.returncode == 0, report
    names = {c["name"]: c["level"] for c in report["checks"]}
    assert names["git"] == "ok" and names["lock folder"] == "ok"
    assert names["claude settings (local)"] == "ok"
    assert names["git hook pre-commit"] == "ok"
    assert "git hook reference-transaction" not in names  # strict install only
    assert names["claude CLI"] in ("ok", "warn")  # a warning, never a failure, when absent
    bare_path = f"{Path(GUARD).parent}{os.pathsep}/usr/bin{os.pathsep}/bin"
    if shutil.which("claude", path=bare_path) is None:
        without = guard(repo, {**guard_env, "PATH": bare_path}, "doctor", "--json")
        assert without.returncode == 0
        checks = {c["name"]: c["level"] for c in json.loads(without.stdout)["checks"]}
        assert checks["claude CLI"] == "warn"


def test_doctor_explains_a_broken_install(repo: Path, guard_env: dict[str, str],
                                          lock_dir: Path) -> None:  # fmt: skip
    guard(repo, guard_env, "install")
    settings = repo / ".claude" / "settings.local.json"
    package = installed_launcher().package_dir
    assert package is not None
    settings.write_text(settings.read_text().replace(package, "/nowhere"))
    (repo / ".git" / "hooks" / "pre-push").chmod(0o644)
    lock_dir.mkdir(mode=0o755)
    lock_dir.chmod(0o755)
    done = guard(repo, guard_env, "doctor")
    assert done.returncode == 1
    assert "/nowhere holds no worktree_guard package" in done.stdout
    assert "pre-push is not executable" in done.stdout
    assert "mode 0755" in done.stdout and "chmod 700" in done.stdout


# ---- statusline --------------------------------------------------------------------------------


def statusline(repo: Path, env: dict[str, str], session: str) -> str:
    payload = json.dumps({"session_id": session, "cwd": str(repo),
                          "workspace": {"current_dir": str(repo), "project_dir": str(repo)}})
    done = guard(repo, env, "statusline", stdin=payload)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_statusline_segments(repo: Path, guard_env: dict[str, str], agent_shell: Any,
                             tmp_path: Path) -> None:  # fmt: skip
    plain = {**guard_env, "NO_COLOR": "1"}
    assert statusline(repo, plain, SESSION) == "guard: free"
    claude = agent_shell(plain, repo, SESSION)
    assert not claude.hook(pre_tool(SESSION, repo)).denied
    # Claude Code runs the status line as its own child: the holder's tree.
    payload = json.dumps({"session_id": SESSION, "cwd": str(repo),
                          "workspace": {"current_dir": str(repo), "project_dir": str(repo)}})
    own = claude.run(f"{GUARD} statusline", stdin=payload).stdout.strip()
    assert own.startswith("guard: held by this session,") and own.endswith("left")
    assert statusline(repo, plain, "other") == f"guard: held by {SESSION[:8]}, pid {claude.pid}"
    assert "\033[" in statusline(repo, guard_env, "other")  # colour unless NO_COLOR
    assert "\033[" not in statusline(repo, plain, "other")
    garbage = guard(tmp_path, plain, "statusline", stdin="not json")
    assert garbage.returncode == 0 and garbage.stdout.strip() == "guard: no git tree"


# ---- demo ----------------------------------------------------------------------------------------


def test_demo_completes(tmp_path: Path, guard_env: dict[str, str]) -> None:
    done = guard(tmp_path, {**guard_env, "NO_COLOR": "1"}, "demo")
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "UNEXPECTED" not in out and out.rstrip().endswith("Demo complete.")
    for phrase in ("B's Edit is denied", "B's commit is refused", "holder dead", "taken_over"):
        assert phrase in out
    assert "\033[" not in out
    assert not list(Path(guard_env["GUARD_LOCK_DIR"]).glob("*"))  # its own lock folder only


# ---- manners -----------------------------------------------------------------------------------


def test_version_and_help(tmp_path: Path, guard_env: dict[str, str]) -> None:
    version = guard(tmp_path, guard_env, "--version")
    assert version.returncode == 0 and version.stdout.startswith("guard ")
    top = guard(tmp_path, guard_env, "--help")
    assert top.returncode == 0 and all(c in top.stdout for c in COMMANDS)
    for command in COMMANDS:
        done = guard(tmp_path, guard_env, command, "--help")
        assert done.returncode == 0, command
        assert "Examples:" in done.stdout, command


@pytest.mark.parametrize("command", COMMANDS)
def test_a_bad_flag_is_a_usage_error(tmp_path: Path, guard_env: dict[str, str],
                                     command: str) -> None:  # fmt: skip
    done = guard(tmp_path, guard_env, command, "--no-such-flag")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and done.stderr.strip()


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["install"], 1),
        (["install", "--scope", "user"], 1),
        (["uninstall"], 1),
        (["status"], 1),
        (["status", "--json"], 1),
        (["release"], 1),
        (["release", "--force", "--yes"], 1),
        (["doctor"], 1),
        (["run", "--", "true"], 125),
    ],
)
def test_outside_a_repository_commands_fail_cleanly(
    tmp_path: Path, guard_env: dict[str, str], args: list[str], code: int
) -> None:
    outside = tmp_path / "not-a-repo"
    outside.mkdir()
    done = guard(outside, guard_env, *args)
    assert done.returncode == code, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr + done.stdout
    assert "not inside a git working tree" in done.stderr + done.stdout
    assert not (Path(guard_env["HOME"]) / ".claude").exists()


def test_commands_that_need_no_repository_work_outside_one(
    tmp_path: Path, guard_env: dict[str, str]
) -> None:
    for args in (["list"], ["list", "--json"], ["log"], ["log", "--json"]):
        done = guard(tmp_path, guard_env, *args)
        assert done.returncode == 0, (args, done.stderr)


def test_no_traceback_for_an_unreadable_lock_folder(
    repo: Path, guard_env: dict[str, str], tmp_path: Path
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    env = {**guard_env, "GUARD_LOCK_DIR": str(blocked / "locks")}
    done = guard(repo, env, "run", "--", "true")
    assert done.returncode == 125 and "Traceback" not in done.stderr
    assert done.stderr.startswith("guard: ")


def test_no_color_is_respected(repo: Path, guard_env: dict[str, str]) -> None:
    env = {**guard_env, "NO_COLOR": "1"}
    for args in (["doctor"], ["status"], ["--help"]):
        done = guard(repo, env, *args)
        assert "\033[" not in done.stdout + done.stderr, args


# ---- fixes from review ---------------------------------------------------------------------------


def test_doctor_warns_after_a_git_hooks_only_install(
    repo: Path, guard_env: dict[str, str]
) -> None:
    assert guard(repo, guard_env, "install", "--no-claude").returncode == 0
    done = guard(repo, guard_env, "doctor", "--json")
    report = json.loads(done.stdout)
    assert done.returncode == 0, report
    (check,) = [c for c in report["checks"] if c["name"].startswith("claude settings")]
    assert check["level"] == "warn" and "not installed" in check["detail"]
    assert check["fix"] == "guard install"
    text = guard(repo, guard_env, "doctor").stdout
    assert "warn  claude settings:" in text and "FAIL" not in text
    # A broken settings file still fails.
    settings = repo / ".claude" / "settings.local.json"
    settings.parent.mkdir()
    settings.write_text('{"hooks": ')
    broken = guard(repo, guard_env, "doctor", "--json")
    assert broken.returncode == 1
    levels = {c["name"]: c["level"] for c in json.loads(broken.stdout)["checks"]}
    assert levels["claude settings (local)"] == "fail"


def test_log_into_a_closed_pipe_exits_quietly(repo: Path, guard_env: dict[str, str]) -> None:
    for _ in range(4):
        assert guard(repo, guard_env, "run", "--", "true").returncode == 0
    for args in (["log"], ["log", "--json"]):
        proc = subprocess.Popen([GUARD, *args], cwd=repo, env=guard_env, text=True,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)  # fmt: skip
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stdout.readline()
        proc.stdout.close()  # like `guard log | head -1`
        err = proc.stderr.read()
        assert proc.wait(timeout=SAFETY_S) == 0, err
        assert "Traceback" not in err and "BrokenPipe" not in err and err == ""


def test_force_release_reads_a_piped_answer(
    repo: Path, guard_env: dict[str, str], held: Any, lock_dir: Path
) -> None:
    said_no = guard(repo, guard_env, "release", "--force", stdin="")  # end of input: no
    assert said_no.returncode == 1 and lease_files(lock_dir)
    assert "[y/N]" in said_no.stderr and said_no.stdout == ""
    said_yes = guard(repo, guard_env, "release", "--force", stdin="y\n")
    assert said_yes.returncode == 0 and not lease_files(lock_dir)
    assert "[y/N]" in said_yes.stderr
    assert said_yes.stdout.strip() and not said_yes.stdout.startswith(" ")  # no stray space

"""Identity is a process: the agent among a process's ancestors, and whether a lease's holder
is the caller itself or one of its ancestors (real processes, real /proc)."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from worktree_guard.core import identity
from worktree_guard.core.identity import (
    AgentKind,
    ProcessId,
    find_agent,
    holder_in_ancestry,
    process_id,
)


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(["sleep", "600"])
    yield proc
    proc.kill()
    proc.wait()


def test_holder_in_ancestry_is_true_only_for_self_and_ancestors(
    sleeper: subprocess.Popen[bytes],
) -> None:
    assert holder_in_ancestry(process_id(os.getpid())) is True
    assert holder_in_ancestry(process_id(os.getppid())) is True
    assert holder_in_ancestry(process_id(sleeper.pid)) is False  # a sibling's child
    me = process_id(os.getpid())
    reused = ProcessId(me.pid, (me.start_time or 0) + 1, me.boot_id, me.pid_ns)
    assert holder_in_ancestry(reused) is False  # the same pid, another process
    assert holder_in_ancestry(ProcessId(os.getpid(), None, None)) is None  # cannot tell
    other_boot = ProcessId(me.pid, me.start_time, "another-boot", me.pid_ns)
    assert holder_in_ancestry(other_boot) is False


def test_claude_pid_counts_only_when_it_names_an_ancestor(
    sleeper: subprocess.Popen[bytes],
) -> None:
    parent = find_agent({"CLAUDE_PID": str(os.getppid())})
    assert parent is not None and parent.pid == os.getppid()
    assert parent.kind.name == "claude"
    # A pid that is no ancestor (what a naive check of the variable would believe) is ignored.
    claimed = find_agent({"CLAUDE_PID": str(sleeper.pid)})
    assert claimed is None or claimed.pid != sleeper.pid
    assert find_agent({"CLAUDE_PID": "not a pid"}) == find_agent({})


def _child_of(pid: int) -> int:
    """The `sleep` child of `pid`: a bounded wait while the shell forks it and the fork
    execs sleep (until then the fork still bears the shell's name)."""
    for _ in range(3000):
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            if children and Path(f"/proc/{children[0]}/comm").read_text().strip() == "sleep":
                return int(children[0])
        except OSError:
            pass
        time.sleep(0.01)
    raise AssertionError("no sleep child appeared")


def test_an_agent_kind_is_one_table_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    binary = tmp_path / "fakeagent"
    shutil.copy2(shutil.which("bash") or "/bin/bash", binary)
    agent = subprocess.Popen([str(binary), "-c", "sleep 600; :"], start_new_session=True)
    try:
        child = _child_of(agent.pid)
        before = find_agent({}, start_pid=child)
        assert before is None or before.pid != agent.pid  # not a known kind: not an agent
        kind = AgentKind("fake", frozenset({"fakeagent"}), frozenset())
        monkeypatch.setattr(identity, "AGENT_KINDS", (*identity.AGENT_KINDS, kind))
        found = find_agent({}, start_pid=child)
        assert found is not None and found.pid == agent.pid and found.kind is kind
    finally:
        os.killpg(agent.pid, 9)
        agent.wait()


def test_an_interpreter_running_the_client_script_is_the_agent(tmp_path: Path) -> None:
    """`node .../claude` (the npm client) is recognised by its script name."""
    binary = tmp_path / "node"
    shutil.copy2(shutil.which("bash") or "/bin/bash", binary)
    script = tmp_path / "claude"
    script.write_text("sleep 600; :\n")
    agent = subprocess.Popen([str(binary), str(script)], start_new_session=True)
    try:
        found = find_agent({}, start_pid=_child_of(agent.pid))
        assert found is not None and found.pid == agent.pid
    finally:
        os.killpg(agent.pid, 9)
        agent.wait()


def test_a_native_client_with_a_renamed_main_thread_is_found_by_its_argv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client whose process name is not its own (a main thread named `MainThread`) is
    one entry with `launchers`: its argv names it."""
    binary = tmp_path / "MainThread"
    shutil.copy2(shutil.which("bash") or "/bin/bash", binary)
    bash = shutil.which("bash") or "/bin/bash"
    agent = subprocess.Popen(
        [bash, "-c", f'exec -a /opt/fakecli/fakecli "{binary}" -c "sleep 600; :"'],
        start_new_session=True)
    try:
        child = _child_of(agent.pid)
        kind = AgentKind("fakecli", frozenset(), frozenset({"fakecli"}),
                         launchers=frozenset({"MainThread"}))
        monkeypatch.setattr(identity, "AGENT_KINDS", (kind,))
        found = find_agent({}, start_pid=child)
        assert found is not None and found.pid == agent.pid and found.kind is kind
        plain = AgentKind("fakecli", frozenset(), frozenset({"fakecli"}))  # node/bun/deno only
        monkeypatch.setattr(identity, "AGENT_KINDS", (plain,))
        assert find_agent({}, start_pid=child) is None
    finally:
        os.killpg(agent.pid, 9)
        agent.wait()


def test_a_client_script_is_read_up_to_the_fourth_word_of_argv(tmp_path: Path) -> None:
    """`node --opt --opt .../claude`: the script after two interpreter options is the agent;
    a fifth word (an argument of some other script) names nothing.

    Catches: argv read only to its third word, or to its fifth (argv[:4] changed)."""
    binary = tmp_path / "node"
    shutil.copy2(shutil.which("bash") or "/bin/bash", binary)
    script, tool = tmp_path / "claude", tmp_path / "tool"
    for path in (script, tool):
        path.write_text("sleep 600; :\n")
    agent = subprocess.Popen([str(binary), "--norc", "--noprofile", str(script)],
                             start_new_session=True)
    other = subprocess.Popen([str(binary), "--norc", "--noprofile", str(tool), "claude"],
                             start_new_session=True)
    try:
        found = find_agent({}, start_pid=_child_of(agent.pid))
        assert found is not None and found.pid == agent.pid
        not_an_agent = find_agent({}, start_pid=_child_of(other.pid))
        assert not_an_agent is None or not_an_agent.pid != other.pid
    finally:
        for proc in (agent, other):
            os.killpg(proc.pid, 9)
            proc.wait()


def _uptime_s() -> float:
    return float(Path("/proc/uptime").read_text().split()[0])


def test_the_start_time_is_when_the_process_started(sleeper: subprocess.Popen[bytes]) -> None:
    """The start time pins a process against pid reuse: clock ticks since boot (field 22 of
    /proc/<pid>/stat), so a process started now starts between two readings of the uptime.

    Catches: another field read as the start time (field 21 is 0 on every kernel since
    2.6.17: every process would look alike, and a reused pid would pass as its holder)."""
    before = _uptime_s()
    late = subprocess.Popen(["sleep", "600"])
    try:
        after = _uptime_s()
        started = process_id(late.pid).start_time
        assert started is not None and started > 0
        tick = os.sysconf("SC_CLK_TCK")
        assert before - 2 <= started / tick <= after + 2
        assert started >= (process_id(sleeper.pid).start_time or 0)
    finally:
        late.kill()
        late.wait()


def test_the_ancestry_walks_up_to_init_but_leaves_it_out() -> None:
    """Catches: the walk going on through pid 1 (`and` for `or` in its loop), or stopping
    early."""
    chain = identity.ancestry()
    pids = [pid for pid, _ in chain]
    assert pids[0] == os.getpid() and pids[1] == os.getppid()
    assert 1 not in pids
    assert chain[-1][1].ppid in (0, 1)  # the last one is a child of init (or of nobody)


_NAMED_CLAUDE = ("import ctypes, sys; ctypes.CDLL(None).prctl(15, b'claude', 0, 0, 0);"
                 "sys.path[:0] = sys.argv[1:];")  # 15: PR_SET_NAME


def test_a_caller_named_like_an_agent_is_not_its_own_agent() -> None:
    """The caller is never its own agent: a hook process that names itself `claude` finds
    only its ancestors. Catches: the caller kept at the head of its own chain (find_agent,
    find_agent_ancestor)."""
    code = (_NAMED_CLAUDE + "import os; from worktree_guard.core.identity import "
            "find_agent, find_agent_ancestor, ancestry;"
            "me = os.getpid(); agent = find_agent({});"
            "found = find_agent_ancestor(('claude',));"
            "print(ancestry()[0][1].name, agent is not None and agent.pid == me,"
            " found is not None and found[1].pid == me)")
    done = subprocess.run([sys.executable, "-c", code, *sys.path], capture_output=True,
                          text=True, timeout=60, check=True)
    assert done.stdout.split() == ["claude", "False", "False"], done.stderr


def test_an_agent_asked_about_by_its_pid_is_its_own_agent() -> None:
    """Asked from a given pid (the holder a hook found), that process counts itself.
    Catches: the start pid left out of the chain (find_agent_ancestor's two cases swapped)."""
    code = _NAMED_CLAUDE + "print('ready', flush=True); sys.stdin.read()"
    agent = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert agent.stdout is not None and agent.stdout.readline() == "ready\n"
        found = identity.find_agent_ancestor(("claude",), start_pid=agent.pid)
        assert found is not None and found[0] == "claude" and found[1].pid == agent.pid
        direct = find_agent({}, start_pid=agent.pid)
        assert direct is not None and direct.pid == agent.pid
    finally:
        assert agent.stdin is not None
        agent.stdin.close()
        agent.wait()


def test_without_proc_a_gone_pid_is_dead_and_a_live_one_unknown(
    sleeper: subprocess.Popen[bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where there is no /proc (macOS, a chroot without it), liveness asks kill(pid, 0): a
    pid that is gone is DEAD (its tree is taken over at once); one that exists is UNKNOWN
    (without a start time it may be a reused pid: the lease waits for its ttl).

    Catches: a missing /proc taken for a working one; ProcessLookupError not told apart
    from the other errors of kill."""
    monkeypatch.setattr(identity, "_PROC", str(tmp_path / "no-proc"))
    gone = subprocess.Popen(["true"])
    gone.wait()  # reaped: no process has its pid now
    assert identity.liveness(ProcessId(gone.pid, 123, None)) is identity.Liveness.DEAD
    assert identity.liveness(ProcessId(sleeper.pid, 123, None)) is identity.Liveness.UNKNOWN
    assert process_id(sleeper.pid).start_time is None  # no /proc: no start time either


@pytest.mark.parametrize(
    "stat",
    ["42 (cut) S 1 2 3", "42 ) (x 7 1 " + " ".join(["5"] * 30), "42 no parentheses S 1 2",
     " ".join(str(n) for n in range(42, 80))],
)
def test_a_stat_file_not_shaped_like_the_kernels_reads_as_no_process(
    stat: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stat file cut short or with its name out of place is no process: never an exception
    in a hook, never fields read from the wrong place. Catches: the length check of the
    fields or the order check of the parentheses dropped."""
    (tmp_path / "42").mkdir()
    (tmp_path / "42" / "stat").write_text(stat)
    monkeypatch.setattr(identity, "_PROC", str(tmp_path))
    assert process_id(42).start_time is None


def test_a_holder_that_exited_unreaped_is_dead() -> None:
    """A zombie (exited, its parent has not reaped it yet) keeps its pid and start time but
    has finished its work: its lease is free. Catches: the state read from another field of
    /proc/<pid>/stat than the third."""
    child = subprocess.Popen(["true"])
    try:
        os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # exited, left unreaped
        holder = process_id(child.pid)
        assert holder.start_time is not None  # still in /proc, as a zombie
        assert identity.liveness(holder) is identity.Liveness.DEAD
        assert identity.liveness(process_id(os.getpid())) is identity.Liveness.ALIVE
    finally:
        child.wait()


def test_the_ancestry_is_at_most_64_processes_deep(tmp_path: Path) -> None:
    """The walk up the parents is bounded (a /proc that loops must not hang a hook): a
    process 70 shells deep has its 64 nearest in its chain. Catches: the bound moved."""
    script = tmp_path / "deeper.sh"
    script.write_text('if [ "$1" -gt 0 ]; then sh "$0" $(($1 - 1)); :; else sleep 600; :; fi\n')
    top = subprocess.Popen(["sh", str(script), "70"], start_new_session=True)
    try:
        pid = top.pid
        for _ in range(70):
            pid = _child_of_any(pid)
        pid = _child_of(pid)  # the sleep at the bottom, once it is sleep
        chain = identity.ancestry(pid)
        assert chain[0][0] == pid and chain[0][1].name == "sleep"
        assert len(chain) == 64
    finally:
        os.killpg(top.pid, 9)
        top.wait()


def _child_of_any(pid: int) -> int:
    """The first child of `pid` once it has exec'd (a bounded wait while it forks)."""
    for _ in range(3000):
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            if children:
                return int(children[0])
        except OSError:
            pass
        time.sleep(0.01)
    raise AssertionError(f"{pid} has no child")


@pytest.mark.parametrize(("end", "is_agent"), [(4096, True), (4097, False)])
def test_a_client_script_named_within_the_first_4_kib_of_argv_counts(
    tmp_path: Path, end: int, is_agent: bool
) -> None:
    """The client's argv is read up to 4 KiB: a script name that ends on its last byte is
    whole, one that ends a byte later is cut and names nothing. Catches: the read made
    shorter or longer than 4096 bytes."""
    binary = tmp_path / "node"
    shutil.copy2(shutil.which("bash") or "/bin/bash", binary)
    (tmp_path / "claude").write_text("sleep 600; :\n")
    head = [str(binary), "--norc", "--noprofile"]
    room = end - sum(len(word) + 1 for word in head) - len("claude")
    script = ("./" * (room // 2)) + ("/" * (room % 2)) + "claude"
    assert sum(len(word) + 1 for word in head) + len(script) == end
    agent = subprocess.Popen([*head, script], cwd=tmp_path, start_new_session=True)
    try:
        found = find_agent({}, start_pid=_child_of(agent.pid))
        assert (found is not None and found.pid == agent.pid) is is_agent
    finally:
        os.killpg(agent.pid, 9)
        agent.wait()


def test_a_boot_id_that_is_not_text_is_no_boot_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A boot id file that does not decode is no boot id (liveness then leans on the start
    time alone), never an exception in a hook. Catches: the decode error let through."""
    odd = tmp_path / "boot_id"
    odd.write_bytes(b"\xff\xfe not ascii\n")
    monkeypatch.setattr(identity, "_BOOT_ID_PATH", str(odd))
    monkeypatch.setattr(identity, "_boot_id_cache", [])
    assert identity.boot_id() is None


def test_the_agent_is_found_from_its_direct_child() -> None:
    """A hook whose parent is the agent (Claude Code starts some hooks without a shell)
    finds it: the walk starts at the parent. Catches: the parent skipped as well."""
    child = ("import os; from worktree_guard.core.identity import find_agent, "
             "find_agent_ancestor; agent = find_agent({}); "
             "found = find_agent_ancestor(('claude',)); ppid = os.getppid(); "
             "print(agent is not None and agent.pid == ppid, "
             "found is not None and found[1].pid == ppid)")
    code = (_NAMED_CLAUDE + "import subprocess; subprocess.run([sys.executable, '-c', "
            f"{child!r}], check=True, env={{'PYTHONPATH': ':'.join(sys.path)}})")
    done = subprocess.run([sys.executable, "-c", code, *sys.path], capture_output=True,
                          text=True, timeout=60, check=True)
    assert done.stdout.split() == ["True", "True"], done.stderr


def _pending_signals(pid: int) -> int:
    """The signals queued for `pid` and not yet delivered (it blocks them all)."""
    fields = dict(line.split(":", 1) for line in
                  Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["SigPnd"], 16) | int(fields["ShdPnd"], 16)


def test_without_proc_the_liveness_check_sends_no_signal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """kill(pid, 0) only asks: the holder gets no signal. The holder here blocks every
    signal, so one sent would wait, queued, where /proc shows it. Catches: a real signal
    number in the check (SIGHUP would end the holder's session)."""
    code = ("import signal, sys; signal.pthread_sigmask(signal.SIG_BLOCK, "
            "signal.valid_signals()); print('ready', flush=True); sys.stdin.read()")
    holder = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "ready\n"
        assert _pending_signals(holder.pid) == 0
        monkeypatch.setattr(identity, "_PROC", str(tmp_path / "no-proc"))
        assert identity.liveness(ProcessId(holder.pid, 7, None)) is identity.Liveness.UNKNOWN
        assert _pending_signals(holder.pid) == 0
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait()


def test_a_holder_recorded_without_its_pid_namespace_is_still_checked() -> None:
    """A record from where the pid namespace could not be read names none: the holder is
    then looked for among the ancestors all the same. Catches: a missing namespace taken
    for another one (the check then cannot tell, and a borrowed label would pass)."""
    me = process_id(os.getpid())
    assert holder_in_ancestry(ProcessId(me.pid, me.start_time, me.boot_id, None)) is True
    other = ProcessId(me.pid, (me.start_time or 0) + 1, me.boot_id, None)
    assert holder_in_ancestry(other) is False


def test_a_launcher_gone_before_its_argv_is_read_is_no_agent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An interpreter that exits between the walk and the read of its argv (its stat read,
    its cmdline gone) is no agent, never an exception in the hook. Catches: the failed read
    let through."""
    (tmp_path / "4242").mkdir()
    (tmp_path / "4242" / "stat").write_text("4242 (node) S 1 " + " ".join(["7"] * 30))
    monkeypatch.setattr(identity, "_PROC", str(tmp_path))
    monkeypatch.setattr(identity, "_chain_cache", {})
    assert [pid for pid, _ in identity.ancestry(4242)] == [4242]
    assert find_agent({}, start_pid=4242) is None


def test_a_process_is_the_same_process_by_value() -> None:
    """Two readings of one process are equal (and hash alike); another start time is
    another process. Catches: the comparison inverted or reduced to the type."""
    me, again = process_id(os.getpid()), process_id(os.getpid())
    assert me == again and hash(me) == hash(again) and len({me, again}) == 1
    assert me != ProcessId(me.pid, (me.start_time or 0) + 1, me.boot_id, me.pid_ns)


def test_an_agent_that_is_pid_2_of_its_namespace_is_found() -> None:
    """In a container started with an init (`docker run --init`: tini is pid 1), the agent
    is pid 2: only pid 1 is left out of the walk. Catches: the walk stopping above pid 2."""
    if shutil.which("unshare") is None:
        pytest.skip("no unshare(1) to make a pid namespace")
    hook = ("from worktree_guard.core.identity import find_agent; import os;"
            "agent = find_agent({}); print(os.getpid(), agent and agent.pid)")
    agent = (_NAMED_CLAUDE + "import subprocess; subprocess.run([sys.executable, '-c', "
             f"{hook!r}], check=True, env={{'PYTHONPATH': ':'.join(sys.path)}})")
    inner = shlex.join([sys.executable, "-c", agent, *sys.path]) + "; :"  # sh stays pid 1
    done = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", "sh", "-c", inner],
                          capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0 and "unshare" in done.stderr:
        pytest.skip(f"no pid namespace here: {done.stderr.strip()}")
    assert done.stdout.split() == ["3", "2"], done.stdout + done.stderr


def test_without_proc_another_users_live_process_is_alive(
    sleeper: subprocess.Popen[bytes]
) -> None:
    """kill(pid, 0) refused (EPERM) means the pid is taken, by another user's process:
    ALIVE. Asked here by an unprivileged user about root's process. Catches: the check
    made with a signal number the kernel refuses before it looks at permissions."""
    if os.geteuid() != 0:
        pytest.skip("needs root, to ask as another user")
    # The boot id is read as root first: as nobody, the codec could not even be loaded.
    code = ("import os, sys; sys.path[:0] = sys.argv[2:]; from worktree_guard.core import identity;"
            "identity.boot_id(); os.setgroups([]); os.setgid(65534); os.setuid(65534);"
            "identity._PROC = '/nonexistent-proc';"
            "print(identity.liveness(identity.ProcessId(int(sys.argv[1]), 7, None)))")
    done = subprocess.run([sys.executable, "-c", code, str(sleeper.pid), *sys.path],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.stdout.strip() == "alive", done.stdout + done.stderr

"""Many real `guard hook` processes racing for one free tree: exactly one wins each round.

The naive control runs the same read-decide-write shape without the lock, in the same kind
of processes started the same way; it must lose the race at least once, which shows the
race is real and the test could fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import GUARD, lease_files, pre_tool, read_log

RACERS = 12
ROUNDS = 12

# Each racer says it is ready on one pipe, then blocks reading one byte from another; the
# parent writes all the bytes at once when every racer is ready, so they wake together.
BARRIER_THEN_EXEC = """
import os, sys
ready, go = int(sys.argv[1]), int(sys.argv[2])
os.write(ready, b"r")
os.read(go, 1)
os.execv(sys.argv[3], sys.argv[3:])
"""

NAIVE = """
import json, os, sys, time
path = sys.argv[1]
if os.path.exists(path):
    print("busy")
else:
    time.sleep(0.005)  # the decision in between, as a real hook takes its time to decide
    with open(path, "w") as fh:
        json.dump({"session_id": sys.argv[2]}, fh)
    print("won")
"""


def race(commands: list[list[str]], inputs: list[bytes], env: dict[str, str]) -> list[str]:
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", BARRIER_THEN_EXEC, str(ready_w), str(go_r), *cmd],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
            pass_fds=(ready_w, go_r),
        )
        for cmd in commands
    ]
    os.close(ready_w)
    os.close(go_r)
    for proc, data in zip(procs, inputs, strict=True):
        assert proc.stdin is not None
        proc.stdin.write(data)  # payloads wait in the pipes, so no racer waits on the parent
        proc.stdin.close()
        proc.stdin = None
    got = b""
    while len(got) < len(procs):
        chunk = os.read(ready_r, len(procs))
        assert chunk, "a racer died before the start"
        got += chunk
    os.write(go_w, b"g" * len(procs))  # release them all
    os.close(ready_r)
    os.close(go_w)
    outs = [p.communicate(timeout=60)[0].decode() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    return outs


def test_exactly_one_winner_per_round(repo: Path, guard_env: dict[str, str], lock_dir: Path,
                                      tmp_path: Path) -> None:
    env = {**guard_env, "GUARD_LOCK_TIMEOUT_MS": "20000"}
    for round_no in range(ROUNDS):
        sessions = [f"racer-{round_no}-{i}" for i in range(RACERS)]
        payloads = [json.dumps(pre_tool(s, repo)).encode() for s in sessions]
        outs = race([[GUARD, "hook"]] * RACERS, payloads, env)
        winners = [s for s, out in zip(sessions, outs, strict=True) if out.strip() == ""]
        assert len(winners) == 1, (round_no, outs)
        holder = json.loads(lease_files(lock_dir)[0].read_text())["session_id"]
        assert holder == winners[0]
        lease_files(lock_dir)[0].unlink()  # free the tree for the next round
    events = [e["event"] for e in read_log(lock_dir)]
    assert events.count("acquired") == ROUNDS
    assert events.count("denied") == ROUNDS * (RACERS - 1)


def test_naive_read_then_write_control_loses_the_race(tmp_path: Path,
                                                       guard_env: dict[str, str]) -> None:
    double_wins = 0
    for round_no in range(ROUNDS):
        target = tmp_path / f"naive-{round_no}.json"
        commands = [[sys.executable, "-c", NAIVE, str(target), f"s{i}"] for i in range(RACERS)]
        outs = race(commands, [b""] * RACERS, guard_env)
        if [o.strip() for o in outs].count("won") > 1:
            double_wins += 1
    assert double_wins > 0, "the unlocked control never raced: the race test proves nothing"

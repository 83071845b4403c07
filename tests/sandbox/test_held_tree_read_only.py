"""While A holds its tree, B's commands through the prefix cannot change it, whatever the
command text shows; each case first runs without guard and changes A (so the test can fail).

The breaks these were seen red against are named in each docstring ("Catches: ...").
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.conftest import git

from .conftest import Scene, wait_for

GUARD_NAME = "worktree-guard"


def both_ways(scene: Scene, command: str) -> subprocess.CompletedProcess[str]:
    """Without guard the command changes A; through the prefix it does not. Returns the
    guarded run."""
    scene.plain(command)
    assert scene.a_changed(), "the command does not even change A without guard"
    scene.restore_a()
    done = scene.guarded(command)
    assert not scene.a_changed(), done.stdout + done.stderr
    return done


def names_a(scene: Scene, done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode != 0
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith(GUARD_NAME) and str(scene.a) in line and "held by" in line, done.stderr


def test_a_script_written_to_disk_and_run_with_sh(scene: Scene) -> None:
    """Catches: the held tree left out of the plan (policy.plan's first loop)."""
    (scene.b / "s.sh").write_text(f"echo changed > {scene.a_file}\n")
    names_a(scene, both_ways(scene, "sh s.sh"))


def test_a_makefile_recipe(scene: Scene) -> None:
    """Catches: the read-only remount skipped (kernel.bind with read_only ignored)."""
    (scene.b / "Makefile").write_text(f"all:\n\techo changed > {scene.a_file}\n")
    names_a(scene, both_ways(scene, "make -s"))


def test_a_command_started_inside_the_held_tree(scene: Scene) -> None:
    """A shell whose working folder is in A (B's session started there): relative paths
    meet the read-only tree too.
    Catches: the working folder not entered again after the mounts (enter.apply's chdir)."""
    scene.plain("echo changed > f.txt", cwd=scene.a)
    assert scene.a_changed()
    scene.restore_a()
    names_a(scene, scene.guarded("echo changed > f.txt", cwd=scene.a))
    assert not scene.a_changed()


def test_a_writer_detached_with_setsid(scene: Scene) -> None:
    """A script detaches a writer (`setsid -f`, a new session, a double fork inside): the
    mount namespace is inherited, so the writer meets the read-only tree too.
    Catches: the held tree left out of the plan."""
    done_file = scene.b / "writer-done"
    (scene.b / "s.sh").write_text(
        f"setsid -f sh -c '(echo changed > {scene.a_file}) 2>/dev/null; touch {done_file}'\n")
    scene.plain("sh s.sh")
    wait_for(done_file)
    assert scene.a_changed()
    scene.restore_a()
    done_file.unlink()
    scene.guarded("sh s.sh")
    wait_for(done_file)
    assert not scene.a_changed()


def test_a_hard_link_of_a_file_then_a_write_through_it(scene: Scene) -> None:
    """`ln` of A's file into B, then a write through the link: across the read-only bind
    mount the link is refused (EXDEV), so there is nothing to write through.
    Catches: the held tree left out of the plan."""
    command = f"ln {scene.a_file} l.txt && echo changed > l.txt"
    scene.plain(command)
    assert scene.a_changed()
    scene.restore_a()
    (scene.b / "l.txt").unlink()
    done = scene.guarded(command)
    assert not scene.a_changed()
    assert not (scene.b / "l.txt").exists()
    names_a(scene, done)


def test_a_script_deleting_the_lock_folder(scene: Scene) -> None:
    """Catches: the lock folder left out of the protected paths (sandbox/facts.py read_facts)."""
    (scene.b / "s.sh").write_text(f"rm -rf {scene.lock_dir}\n")
    leases = sorted(p.name for p in scene.lock_dir.iterdir())
    done = scene.guarded("sh s.sh")
    assert sorted(p.name for p in scene.lock_dir.iterdir()) == leases, done.stderr
    names_a(scene, done)


def test_the_ways_back_out_of_the_namespace(scene: Scene) -> None:
    """Unmounting, remounting writable, a nested namespace, /proc/<pid>/root of a process
    outside and nsenter into its namespace: none reaches A.
    Catches: root keeping CAP_SYS_ADMIN (kernel.seal) and Landlock not applied (the
    /proc/<pid>/root and nsenter ways)."""
    a, f = scene.a, scene.a_file
    outside = os.getpid()
    for command in (
        f"umount -l {a}; echo changed > {f}",
        f"mount -o remount,rw {a}; echo changed > {f}",
        f"unshare -Urm sh -c 'umount -l {a}; echo changed > {f}'",
        f"echo changed > /proc/{outside}/root{f}",
        f"nsenter -t {outside} -m sh -c 'echo changed > {f}'",
    ):
        scene.guarded(command)
        assert not scene.a_changed(), command


def test_bs_own_work_and_the_way_out_keep_working(scene: Scene) -> None:
    """B's own tree, its commit (objects and its branch ref in the shared git folder), a new
    worktree beside A, the temp folder and HOME stay writable.
    Catches: A's git folder left read-only (policy.plan's second loop)."""
    x = scene.tmp / "x"
    done = scene.guarded(
        "echo mine > mine.txt && git add mine.txt && "
        "git -c user.name=B -c user.email=b@example.invalid commit -q -m mine && "
        f"git worktree add -q {x} -b x-work && echo t > \"$TMPDIR/t\" && echo h > \"$HOME/h\"")
    assert done.returncode == 0, done.stderr
    assert git(scene.b, "log", "-1", "--format=%s") == "mine"
    assert (x / "f.txt").read_text() == "from A\n"
    assert (scene.home / "h").exists()


def test_as_index_and_head_stay_as_they_are(scene: Scene) -> None:
    """A process B starts may not commit in A: A's index and HEAD are read-only.
    Catches: index/HEAD left out of the plan (policy.plan's third loop)."""
    head = git(scene.a, "rev-parse", "HEAD")
    done = scene.guarded(f"git -C {scene.a} -c user.name=B -c user.email=b@example.invalid "
                         "commit -q --allow-empty -m sneaky")
    assert done.returncode != 0
    assert git(scene.a, "rev-parse", "HEAD") == head


def test_the_holders_own_commands_are_not_restricted(scene: Scene) -> None:
    """A command of the session holding A (the holder is its ancestor, as the claude process
    is of its Bash calls; no session variable) writes A.
    Catches: the caller's own session judged a stranger (sandbox/facts.py's first-pass pid check and
    the store pass's ancestry check, both: either alone suffices)."""
    from tests.conftest import GUARD

    from .conftest import prefix_words

    # The holder's own command is a process under it: a new holder whose child runs the
    # prefix (A's first holder ended: its lease is a dead holder's, taken at once).
    scene.end_holder()
    words = " ".join(f"'{w}'" for w in prefix_words())
    holder = subprocess.run(
        [GUARD, "run", "--", "sh", "-c", f"env -u GUARD_SESSION_ID {words} 'echo changed > f.txt'"],
        cwd=scene.a, env=scene.env, capture_output=True, text=True)
    assert holder.returncode == 0, holder.stderr
    assert scene.a_changed()


def test_guard_sandbox_off_gives_todays_behaviour_and_cannot_be_set_from_inside(
    scene: Scene,
) -> None:
    """GUARD_SANDBOX=off in the client's environment: a plain shell. Set by a command
    inside the sandbox, for a nested prefix: nothing is switched off.
    Catches: sandbox_off ignored."""
    from .conftest import prefix_words

    command = f"echo changed > {scene.a_file}"
    off = {**scene.env, "GUARD_SANDBOX": "off"}
    done = scene.guarded(command, env=off)
    assert done.returncode == 0 and scene.a_changed(), done.stderr
    scene.restore_a()
    nested = " ".join(f"'{w}'" for w in prefix_words())
    scene.guarded(f"GUARD_SANDBOX=off {nested} '{command}'")
    assert not scene.a_changed()


def test_guards_own_hook_command_runs_outside(scene: Scene, tmp_path: Path) -> None:
    """Guard's hook, started through the prefix as Claude Code does, can write its lease
    (the lock folder is read-only for commands only).
    Catches: is_guard_hook answering False for the launcher's form."""
    from tests.conftest import installed_launcher

    hook = installed_launcher().command("hook")
    payload = ('{"session_id":"b-sess","hook_event_name":"PreToolUse","tool_name":"Write",'
               f'"tool_input":{{"file_path":"{scene.b}/new.txt","content":"x"}},'
               f'"cwd":"{scene.b}"}}')
    before = {p.name for p in scene.lock_dir.iterdir()}
    done = subprocess.run([*__import__("tests.sandbox.conftest", fromlist=["x"]).prefix_words(),
                           hook], input=payload, cwd=scene.b, env=scene.env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert {p.name for p in scene.lock_dir.iterdir()} > before, done.stdout + done.stderr

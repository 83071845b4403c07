"""The mode in force, said by `guard status` and `guard doctor`; the failure policy when the
kernel refuses the sandbox for one command; a prefix started inside a sandbox."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import GUARD

from .conftest import Scene, prefix_words

# A process that enters a Landlock domain (and, as root, drops CAP_SYS_ADMIN) and then
# starts the prefix: the kernel then refuses it a mount namespace, as a container's seccomp
# profile or an older kernel would.
_REFUSED_START = (
    "import os, sys; from worktree_guard.sandbox import kernel; "
    "kernel.seal(kernel.landlock_abi()); os.execv(sys.argv[1], sys.argv[1:])"
)


def test_status_and_doctor_say_the_mode_and_why(scene: Scene) -> None:
    """Catches: probe ignoring GUARD_SANDBOX=off (the documented way to force the fallback)."""
    status = subprocess.run([GUARD, "status"], cwd=scene.b, env=scene.env, capture_output=True,
                            text=True, check=True).stdout
    line = next(x for x in status.splitlines() if x.startswith("sandbox:"))
    assert "namespace: read-only bind mounts" in line and "not wired" in line
    off = subprocess.run([GUARD, "status"], cwd=scene.b, env={**scene.env, "GUARD_SANDBOX": "off"},
                         capture_output=True, text=True, check=True).stdout
    assert "sandbox:    off: GUARD_SANDBOX=off" in off
    subprocess.run([GUARD, "install"], cwd=scene.b, env=scene.env, capture_output=True, check=True)
    doctor = subprocess.run([GUARD, "doctor", "--json"], cwd=scene.b, env=scene.env,
                            capture_output=True, text=True)
    checks = {c["name"]: c for c in json.loads(doctor.stdout)["checks"]}
    assert checks["shell sandbox"]["level"] == "ok", checks["shell sandbox"]
    assert "Claude Code's shell commands through it" in checks["shell sandbox"]["detail"]


@pytest.mark.guard_fails  # a sandbox the kernel refuses: a failure, by design
def test_a_refused_sandbox_fails_open_visibly(scene: Scene) -> None:
    """The kernel refuses the namespaces: the command runs as it would without guard, one
    stderr line says so, and the fail-open record counts it (status shows it).
    Catches: enter._failed not recording, or running nothing."""
    command = f"echo changed > {scene.a_file}"
    done = subprocess.run([sys.executable, "-c", _REFUSED_START, *prefix_words(), command],
                          cwd=scene.b, env=scene.env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "worktree-guard: cannot sandbox this command" in done.stderr
    assert "running it without the sandbox" in done.stderr
    assert scene.a_changed()
    status = subprocess.run([GUARD, "status"], cwd=scene.b, env=scene.env, capture_output=True,
                            text=True, check=True).stdout
    assert "guard failed open 1 time" in status and "shell prefix" in status


@pytest.mark.guard_fails  # a sandbox the kernel refuses: a failure, by design
def test_fail_closed_does_not_run_the_command(scene: Scene) -> None:
    """Catches: fail-closed ignored by the prefix."""
    done = subprocess.run([sys.executable, "-c", _REFUSED_START, *prefix_words(),
                           f"echo changed > {scene.a_file}"], cwd=scene.b,
                          env={**scene.env, "GUARD_FAIL_CLOSED": "1"}, capture_output=True,
                          text=True)
    assert done.returncode == 126 and "not running it (fail-closed)" in done.stderr
    assert not scene.a_changed()


def test_a_prefix_inside_the_sandbox_stays_inside_quietly(scene: Scene) -> None:
    """A nested agent or a script starting the prefix again: no failed sandbox reported
    (it would be, the kernel refusing a second one), the tree still read-only.
    Catches: prefix.inside not checked."""
    nested = " ".join(f"'{w}'" for w in prefix_words())
    done = scene.guarded(f"{nested} 'echo changed > {scene.a_file}'")
    assert not scene.a_changed()
    assert "cannot sandbox" not in done.stderr, done.stderr

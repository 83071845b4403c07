"""Parse for the message, sandbox for the guarantee: while A is held, B's commands whose
targets the parser cannot work out are denied today, and run (sandboxed) where Claude Code
starts its shell commands through guard's prefix; a command seen writing A is still denied."""

from __future__ import annotations

import shlex

import pytest

from tests.conftest import pre_tool, run_hook

from .conftest import Scene, prefix_words

UNSURE = [
    'd=$(mktemp -d); echo x > "$d/f"',
    'echo x > "$TMPDIR/f"',
    'echo x > "$(mktemp)"',
]


def with_prefix(scene: Scene, **extra: str) -> dict[str, str]:
    return {**scene.env, "CLAUDE_CODE_SHELL_PREFIX": shlex.join(prefix_words()), **extra}


@pytest.mark.parametrize("command", UNSURE)
def test_an_unsure_command_runs_sandboxed_instead_of_being_denied(
    scene: Scene, command: str
) -> None:
    """Catches: the sandbox not consulted (agents/common.py judge_shell), or consulted
    without the prefix in the agent's environment (detect.prefix_in_force)."""
    payload = pre_tool("b-session", scene.b, "Bash", command=command)
    today = run_hook(payload, scene.env)
    assert today.denied, f"not denied without the sandbox: {command}"
    sandboxed = run_hook(payload, with_prefix(scene))
    assert not sandboxed.denied, sandboxed.reason
    off = run_hook(payload, with_prefix(scene, GUARD_SANDBOX="off"))
    assert off.denied, "GUARD_SANDBOX=off must give today's behaviour"


def test_a_command_seen_writing_the_held_tree_is_still_denied(scene: Scene) -> None:
    """Catches: the known targets skipped with the unsure ones."""
    payload = pre_tool("b-session", scene.b, "Bash", command=f"echo x > {scene.a_file}")
    denied = run_hook(payload, with_prefix(scene))
    assert denied.denied and "holds this working tree" in denied.reason

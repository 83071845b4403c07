"""guard.humanPolicy and a branch switch in a held tree (post-checkout cannot undo it)."""

from __future__ import annotations

from tests.git.conftest import A, B, World


def test_human_policy_allow_silences_a_persons_checkout_warning_only(world: World) -> None:
    """Catches: the person's checkout warning printed under guard.humanPolicy=allow, and
    the policy read for agents too (an agent could silence its own warning with it)."""
    assert world.git("branch", "deploy").returncode == 0
    assert world.git("branch", "other").returncode == 0
    assert world.commit("A holds", A).returncode == 0
    world.git("config", "guard.humanPolicy", "allow")
    done = world.git("checkout", "-q", "deploy")
    assert done.returncode == 0 and done.stderr == ""
    # Still logged: the holder is told at its next action either way.
    logged = world.events("checkout_while_held")[-1]
    assert logged["branch_seen"] == "main" and logged["branch_now"] == "deploy"
    assert "session" not in logged or logged["session"] is None
    # The policy is a person's: another agent's switch is still announced.
    by_agent = world.git("checkout", "-q", "other", session=B)
    assert by_agent.returncode == 0 and "WARNING: HEAD is now on other" in by_agent.stderr
    assert world.events("checkout_while_held")[-1]["session"] == B

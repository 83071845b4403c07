"""`guard server-hook`: the bare repository's own `update` hook holds the pushes no client
hook sees (a clone without guard, `--no-verify`), and rewrites of protected branches."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import GUARD, AgentShell
from tests.git.remote_world import (
    LEASES,
    Machine,
    Remote,
    base_env,
    git,
    make_machine,
    make_remote,
    out,
    start_daemon,
    stop_daemon,
)

A = "aaaaaaaa-with-guard"


class Served:
    """A bare remote with guard's server hook; machine one with guard and session A on it;
    machine two a plain clone: no guard hooks at all."""

    def __init__(self, tmp: Path, agent_shell: Any) -> None:
        bare = make_remote(tmp)
        self.remote = Remote(bare, f"file://{bare}")
        done = subprocess.run([GUARD, "server-hook", str(bare)], env=base_env(tmp, tmp / "l"),
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        self.one = make_machine(tmp, "one", self.remote.url)
        self.plain = make_machine(tmp, "plain", self.remote.url)
        for hook in (self.plain.clone / ".git" / "hooks").iterdir():
            hook.unlink()  # a clone without guard
        self.a: AgentShell = agent_shell(self.one.env, self.one.clone, A)

    def a_leases_feature(self) -> str:
        done = self.a.run("git checkout -q -b feature && echo a > a.txt && git add a.txt && "
                          "git commit -q -m a && git push -q origin feature && "
                          "git rev-parse HEAD")
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()


@pytest.fixture
def served(tmp_path: Path, agent_shell: Any) -> Served:
    return Served(tmp_path, agent_shell)


def plain_on_feature(m: Machine) -> str:
    assert m.git("fetch", "-q", "origin").returncode == 0
    assert m.git("checkout", "-q", "-B", "feature", "origin/feature").returncode == 0
    return m.commit("plain work")


def test_a_clone_without_guard_cannot_push_a_leased_branch(served: Served) -> None:
    """Catches: the server letting a live lease's branch move to a commit its holder did
    not announce (server_allows_branch), or the update hook not wired to it."""
    a_sha = served.a_leases_feature()
    plain_on_feature(served.plain)
    done = served.plain.git("push", "origin", "feature")
    assert done.returncode != 0
    assert "worktree-guard (server): feature is leased by session aaaaaaaa" in done.stderr
    assert served.remote.sha("refs/heads/feature") == a_sha
    # the holder's own next push carries its lease
    more = served.a.run("echo b >> a.txt && git commit -qam b && git push -q origin feature "
                        "&& git rev-parse HEAD")
    assert more.returncode == 0, more.stderr
    assert served.remote.sha("refs/heads/feature") == more.stdout.strip()


def test_a_no_verify_push_of_a_leased_branch_is_held(served: Served, agent_shell: Any,
                                                    tmp_path: Path) -> None:  # fmt: skip
    """A second session with guard, pushing with --no-verify: git skips its pre-push, the
    server does not. Catches: the server trusting that clients ran their hooks."""
    a_sha = served.a_leases_feature()
    two = make_machine(tmp_path, "two", served.remote.url)
    b: AgentShell = agent_shell(two.env, two.clone, "bbbbbbbb-other")
    done = b.run("git fetch -q origin && git checkout -q -B feature origin/feature && "
                 "echo b > b.txt && git add b.txt && git commit -q -m b && "
                 "git push --no-verify origin feature")
    assert done.returncode != 0 and "(server): feature is leased" in done.stderr
    assert served.remote.sha("refs/heads/feature") == a_sha


def test_a_forged_lease_over_a_live_one_is_refused(served: Served) -> None:
    """Catches: the server letting another session's lease replace a live one."""
    served.a_leases_feature()
    text = out(served.remote.bare, "cat-file", "commit", LEASES + "feature")
    forged = text.replace(f"session: {A}", "session: intruder") + "\n"
    m = served.plain
    assert m.git("fetch", "-q", "origin", f"{LEASES}feature").returncode == 0
    sha = m.git("hash-object", "-t", "commit", "-w", "--stdin", input=forged).stdout.strip()
    done = m.git("push", "origin", f"+{sha}:{LEASES}feature")
    assert done.returncode != 0 and "(server): feature is leased" in done.stderr
    assert f"session: {A}" in served.remote.lease_text("feature")


def test_a_protected_branch_is_never_deleted_another_is(served: Served) -> None:
    """Catches: the server's deletion check of protected branches off, or applied to every
    branch."""
    m = served.plain
    sha = m.commit("release work")
    assert m.git("push", "-q", "origin", "HEAD:refs/heads/release-1", "HEAD:topic"
                 ).returncode == 0
    deleted = m.git("push", "origin", ":release-1")
    assert deleted.returncode != 0
    assert "release-1 is a protected branch: it is not deleted" in deleted.stderr
    assert served.remote.sha("refs/heads/release-1") == sha
    assert m.git("push", "-q", "origin", ":topic").returncode == 0  # not protected
    assert served.remote.sha("refs/heads/topic") == ""


def test_a_non_fast_forward_of_main_is_refused(served: Served) -> None:
    """Catches: the non-fast-forward check of a protected branch off."""
    m = served.plain
    m.commit("one")
    assert m.git("push", "-q", "origin", "main").returncode == 0
    pushed = served.remote.sha("refs/heads/main")
    assert m.git("commit", "-q", "--amend", "-m", "one, rewritten").returncode == 0
    done = m.git("push", "--force", "origin", "main")
    assert done.returncode != 0 and "not a fast-forward" in done.stderr
    assert served.remote.sha("refs/heads/main") == pushed


def test_another_tools_update_hook_is_left_alone(tmp_path: Path) -> None:
    """Catches: server-hook overwriting a hook it did not write."""
    bare = make_remote(tmp_path)
    hook = bare / "hooks" / "update"
    hook.write_text("#!/bin/sh\necho mine\n")
    done = subprocess.run([GUARD, "server-hook", str(bare)], capture_output=True, text=True,
                          env=base_env(tmp_path, tmp_path / "l"), timeout=120)
    assert done.returncode == 1 and "another tool's update hook" in done.stderr
    assert hook.read_text() == "#!/bin/sh\necho mine\n"
    clone = tmp_path / "clone"
    assert git(tmp_path, "clone", "-q", str(bare), str(clone)).returncode == 0
    refused = subprocess.run([GUARD, "server-hook", str(clone)], capture_output=True,
                             text=True, env=base_env(tmp_path, tmp_path / "l"), timeout=120)
    assert refused.returncode == 1 and "not a bare repository" in refused.stderr


def test_the_server_hook_holds_a_push_over_git_daemon(tmp_path: Path) -> None:
    """Served by `git daemon` on 127.0.0.1 (the hook runs under the daemon's receive-pack):
    a non-fast-forward of main from a clone without guard is refused. Catches: the
    non-fast-forward check off (seen red), over a network transport as over file://."""
    served = tmp_path / "served"
    served.mkdir()
    bare = make_remote(served)
    env = base_env(tmp_path, tmp_path / "l")
    assert subprocess.run([GUARD, "server-hook", str(bare)], env=env, capture_output=True,
                          timeout=120).returncode == 0
    proc, base = start_daemon(served)
    try:
        m = make_machine(tmp_path, "plain", f"{base}/remote.git")
        for hook in (m.clone / ".git" / "hooks").iterdir():
            hook.unlink()
        m.commit("one")
        assert m.git("push", "-q", "origin", "main").returncode == 0
        pushed = out(bare, "rev-parse", "main")
        assert m.git("commit", "-q", "--amend", "-m", "one, rewritten").returncode == 0
        done = m.git("push", "--force", "origin", "main")
        assert done.returncode != 0 and "not a fast-forward" in done.stderr, done.stderr
        assert out(bare, "rev-parse", "main") == pushed
    finally:
        stop_daemon(proc)

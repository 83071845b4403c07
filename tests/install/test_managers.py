"""guard beside the hook managers people use: the real pre-commit and lefthook from the
package index (the test extra installs both), re-installed after guard as onboarding
scripts and lefthook's own re-sync do.

guard's starts are counted by a `guard` command that notes each start and runs the real one
(GUARD_BIN makes install write it into the shims); a person's commit in a tree an agent
holds starts guard's pre-commit check, so "once" is one start per commit.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import GUARD, git, pre_tool, run_hook
from worktree_guard.git.shims import MARKER

BIN = Path(sys.executable).parent
PRE_COMMIT = BIN / "pre-commit"
LEFTHOOK = BIN / "lefthook"



@pytest.fixture(autouse=True)
def _managers_installed() -> None:
    """In CI (CI=true) missing managers fail these tests: the test extra installs both."""
    if PRE_COMMIT.exists() and LEFTHOOK.exists():
        return
    message = "pre-commit and lefthook come with the test extra: pip install -e '.[test]'"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


class Repo:
    def __init__(self, path: Path, env: dict[str, str], tmp: Path) -> None:
        self.path = path
        self.env = env
        self.starts = tmp / "guard-starts"
        self.ran = tmp / "ran"
        counting = tmp / "counting-bin"
        counting.mkdir()
        wrapper = counting / "guard"
        wrapper.write_text(f'#!/bin/sh\necho "$*" >>"{self.starts}"\nexec "{GUARD}" "$@"\n')
        wrapper.chmod(0o755)
        env["GUARD_BIN"] = str(wrapper)
        env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
        self.hooks = path / ".git" / "hooks"

    def run(self, *argv: str | Path, session: str | None = None
            ) -> subprocess.CompletedProcess[str]:
        env = dict(self.env)
        if session is not None:
            env["GUARD_SESSION_ID"] = session
        return subprocess.run([str(a) for a in argv], cwd=self.path, env=env,
                              capture_output=True, text=True, timeout=120)

    def guard(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run(GUARD, *args)

    def install(self) -> subprocess.CompletedProcess[str]:
        done = self.guard("install", "--no-claude", "--agents", "claude")
        assert done.returncode == 0, done.stdout + done.stderr
        return done

    def hold_as_agent(self) -> None:
        held = run_hook(pre_tool("agent-a", self.path), self.env)
        assert not held.denied, held.stdout

    def commit(self, session: str | None = None) -> tuple[subprocess.CompletedProcess[str],
                                                         list[str], list[str]]:
        """A commit; what guard was started for and what the other hooks noted."""
        self.starts.unlink(missing_ok=True)
        self.ran.unlink(missing_ok=True)
        with open(self.path / "work.txt", "a") as fh:  # lefthook skips a commit of nothing
            fh.write("x\n")
        git(self.path, "add", "work.txt")
        done = self.run("git", "commit", "-q", "-m", "work", session=session)
        starts = self.starts.read_text().splitlines() if self.starts.exists() else []
        ran = self.ran.read_text().splitlines() if self.ran.exists() else []
        return done, [s for s in starts if s.startswith("git-hook pre-commit")], ran

    def shims_anywhere(self) -> list[str]:
        return sorted(p.name for p in self.hooks.iterdir()
                      if p.is_file() and MARKER in p.read_text(errors="replace"))


@pytest.fixture
def world(repo: Path, guard_env: dict[str, str], tmp_path: Path) -> Repo:
    return Repo(repo, guard_env, tmp_path)


def _own_hook(world: Repo, name: str = "pre-commit") -> None:
    """A hook of the person's own, there before guard and any manager."""
    path = world.hooks / name
    path.write_text(f'#!/bin/sh\necho own >>"{world.ran}"\n')
    path.chmod(0o755)


def _pre_commit_config(world: Repo) -> None:
    (world.path / ".pre-commit-config.yaml").write_text(
        "repos:\n- repo: local\n  hooks:\n  - id: note\n    name: note\n    language: system\n"
        f"    entry: sh -c 'echo pre-commit >>\"{world.ran}\"'\n    always_run: true\n"
        "    pass_filenames: false\n    stages: [pre-commit, pre-push]\n")
    git(world.path, "add", ".pre-commit-config.yaml")
    git(world.path, "commit", "-q", "-m", "pre-commit config")


def _lefthook_config(world: Repo) -> None:
    (world.path / "lefthook.yml").write_text(
        f"pre-commit:\n  commands:\n    note:\n      run: echo lefthook >>\"{world.ran}\"\n")
    git(world.path, "add", "lefthook.yml")
    git(world.path, "commit", "-q", "-m", "lefthook config")


def _doctor_hook_lines(world: Repo) -> list[str]:
    out = world.guard("doctor").stdout.splitlines()
    return [line for i, line in enumerate(out)
            if "git hook" in line or (i and "git hook" in out[i - 1] and "fix:" in line)]


def test_pre_commit_install_after_guard_keeps_guard_once(world: Repo) -> None:
    """`pre-commit install -t pre-commit -t pre-push` after guard moves guard's shims to
    `.legacy`; guard still runs (pre-commit runs `.legacy` first), the person's own hook that
    guard had chained still runs, and `guard install` then exits 0 with guard once per hook.
    Catches: the shim finding its chained hook by its own file name ($0) instead of the
    hook's (the person's hook stops running from `.legacy`); install treating pre-commit's
    hook as foreign (it refused, and chained pre-push twice); uninstall leaving `.legacy`."""
    _own_hook(world)
    _pre_commit_config(world)
    world.install()
    world.hold_as_agent()
    done = world.run(PRE_COMMIT, "install", "-t", "pre-commit", "-t", "pre-push")
    assert done.returncode == 0, done.stderr
    assert (world.hooks / "pre-commit.legacy").exists()

    committed, starts, ran = world.commit()
    assert committed.returncode == 0, committed.stderr
    assert (len(starts), sorted(ran)) == (1, ["own", "pre-commit"])

    again = world.install()
    assert "pre-commit.legacy" in again.stdout and "warning" not in again.stderr
    committed, starts, ran = world.commit()
    assert committed.returncode == 0, committed.stderr
    assert (len(starts), sorted(ran)) == (1, ["own", "pre-commit"])
    assert world.commit(session="agent-b")[0].returncode != 0  # guard's check is active
    doctor = _doctor_hook_lines(world)
    assert not [line for line in doctor if line.startswith("FAIL")], doctor
    assert "all git hooks" in world.guard("status").stdout

    # pre-push: pre-commit's hook in front, guard's shim once behind it (not chained twice).
    assert not (world.hooks / "pre-push.pre-guard").exists()
    assert MARKER in (world.hooks / "pre-push.legacy").read_text()

    removed = world.guard("uninstall")
    assert removed.returncode == 0, removed.stderr
    assert world.shims_anywhere() == []
    committed, starts, ran = world.commit()
    assert committed.returncode == 0 and starts == []
    assert sorted(ran) == ["own", "pre-commit"]  # the person's hook runs from `.legacy`


def test_pre_commit_reinstall_over_a_chained_pre_commit_runs_each_once(world: Repo) -> None:
    """pre-commit's hook chained behind guard's shim (as earlier installs chained it), then
    `pre-commit install` again: pre-commit moves guard's shim to `.legacy` and a copy of its
    own hook stays chained behind the shim. Running that copy would start pre-commit inside
    pre-commit (it refuses: "installed in migration mode") and fail every commit.
    Catches: the shim's skip of a chained copy of the hook in front (the commit fails); install
    keeping the copy."""
    _pre_commit_config(world)
    assert world.run(PRE_COMMIT, "install").returncode == 0
    (world.hooks / "pre-commit").rename(world.hooks / "pre-commit.pre-guard")
    world.install()
    assert MARKER in (world.hooks / "pre-commit").read_text()
    world.hold_as_agent()
    assert world.run(PRE_COMMIT, "install").returncode == 0
    committed, starts, ran = world.commit()
    assert committed.returncode == 0, committed.stderr
    assert (len(starts), ran) == (1, ["pre-commit"])
    world.install()
    assert not (world.hooks / "pre-commit.pre-guard").exists()
    committed, starts, ran = world.commit()
    assert (committed.returncode, len(starts), ran) == (0, 1, ["pre-commit"])


def test_lefthook_reinstall_turns_guard_off_and_guard_install_puts_it_back(world: Repo) -> None:
    """lefthook renames guard's shim to `.old`, which it never runs: guard is off. doctor says
    so and its fix line works; `guard install` exits 0 with guard in front once and
    lefthook's hook once behind it; uninstall leaves no shim and lefthook running.
    Catches: doctor calling the hook "another tool's hook" with a fix that refused; install
    refusing over the byte-identical `.pre-guard` copy (or keeping a copy of it);
    uninstall leaving `pre-commit.old`."""
    _lefthook_config(world)
    assert world.run(LEFTHOOK, "install").returncode == 0
    world.install()
    world.hold_as_agent()
    assert world.run(LEFTHOOK, "install").returncode == 0
    assert MARKER in (world.hooks / "pre-commit.old").read_text()
    committed, starts, _ = world.commit()
    assert starts == []  # off: this is what the person had

    doctor = _doctor_hook_lines(world)
    failing = [line for line in doctor if line.startswith("FAIL")]
    assert failing and "pre-commit.old" in failing[0], doctor
    fix = doctor[doctor.index(failing[0]) + 1].split("fix:", 1)[1].split("(")[0].split()
    assert fix == ["guard", "install"]
    again = world.install()
    assert "lefthook" in again.stdout and "pre-commit.old" in again.stdout
    assert not (world.hooks / "pre-commit.old").exists()  # no copy of lefthook's hook kept

    committed, starts, ran = world.commit()
    assert committed.returncode == 0, committed.stderr
    assert (len(starts), ran) == (1, ["lefthook"])
    assert world.commit(session="agent-b")[0].returncode != 0
    assert not [line for line in _doctor_hook_lines(world) if line.startswith("FAIL")]

    assert world.guard("uninstall").returncode == 0
    assert world.shims_anywhere() == []
    committed, starts, ran = world.commit()
    assert (committed.returncode, starts, ran) == (0, [], ["lefthook"])


def test_uninstall_after_lefthook_took_the_front_removes_the_old_shim(world: Repo) -> None:
    """Uninstall straight after lefthook renamed guard's shim: nothing of guard stays, not
    even under the name lefthook gave it, and no warning about a hook left as it is.
    Catches: uninstall knowing only `<name>` and `<name>.pre-guard`."""
    _lefthook_config(world)
    world.install()
    assert world.run(LEFTHOOK, "install").returncode == 0
    removed = world.guard("uninstall")
    assert removed.returncode == 0 and "left as it is" not in removed.stderr, removed.stderr
    assert world.shims_anywhere() == []
    assert not (world.hooks / "pre-commit.pre-guard").exists()
    committed, _, ran = world.commit()
    assert (committed.returncode, ran) == (0, ["lefthook"])


def _husky(world: Repo) -> Path:
    """husky 9's layout, as `husky` (npm) writes it: core.hooksPath = .husky/_, where each
    hook is a stub that runs `.husky/<hook>` (the tracked script people edit) with `sh -e`."""
    stubs = world.path / ".husky" / "_"
    stubs.mkdir(parents=True)
    (stubs / "h").write_text(
        '#!/bin/sh\nn=$(basename "$0")\ns=$(dirname "$(dirname "$0")")/$n\n'
        '[ -f "$s" ] || exit 0\nsh -e "$s" "$@"\nc=$?\n'
        '[ $c = 0 ] || echo "husky - $n script failed (code $c)"\nexit $c\n')
    for name in ("pre-commit", "pre-push", "post-checkout"):
        stub = stubs / name
        stub.write_text('#!/bin/sh\n. "$(dirname "$0")/h"\n')
        stub.chmod(0o755)
    git(world.path, "config", "core.hooksPath", ".husky/_")
    script = world.path / ".husky" / "pre-commit"
    script.write_text(f'echo husky >>"{world.ran}"\n')
    return script


def test_the_husky_line_runs_guard_where_it_is_and_lets_commits_through_where_not(
        world: Repo) -> None:
    """The line guard prints for husky goes into `.husky/pre-commit`, a tracked file: it
    names no path of this machine, runs the guard that PATH (or GUARD_BIN) finds on the
    machine where the commit runs, and where there is none lets the commit through with one
    notice. Catches: the line starting this machine's venv interpreter (on a teammate's
    machine every commit is refused; here it runs guard with guard off PATH, no notice)."""
    script = _husky(world)
    out = world.guard("install", "--no-claude", "--agents", "claude")
    assert out.returncode == 1 and "husky" in out.stderr
    lines = [ln.strip() for ln in out.stderr.splitlines() if ln.strip().startswith("g=")]
    line = lines[0]
    assert sys.prefix not in line and str(BIN) not in line
    script.write_text(line + "\n" + script.read_text())
    world.hold_as_agent()

    committed, starts, ran = world.commit()  # guard from GUARD_BIN: checked once
    assert (committed.returncode, len(starts), ran) == (0, 1, ["husky"]), committed.stderr
    assert world.commit(session="agent-b")[0].returncode != 0

    del world.env["GUARD_BIN"]
    world.env["PATH"] = "/usr/bin:/bin"  # a teammate's machine without guard
    committed, starts, ran = world.commit(session="agent-b")
    assert committed.returncode == 0, committed.stderr
    assert (starts, ran) == ([], ["husky"])
    notices = [ln for ln in committed.stderr.splitlines() if "worktree-guard:" in ln]
    assert notices == ["worktree-guard: guard not found; pre-commit check skipped"]
    doctor = _doctor_hook_lines(world)
    assert any(".husky/pre-commit calls guard git-hook" in ln for ln in doctor), doctor


def test_lefthook_over_a_hook_guard_had_chained_keeps_each_hook_somewhere(world: Repo) -> None:
    """The person's own hook, then guard (chaining it), then lefthook: two foreign hooks for
    the one place behind guard's shim. lefthook replaced the person's hook, as it would have
    without guard, so it goes where lefthook keeps replaced hooks (`.old`); lefthook's runs
    behind guard, once each, and nothing is deleted.
    Catches: install refusing ("both pre-commit and pre-commit.pre-guard exist"), or chaining
    lefthook's hook over the person's (lost)."""
    _own_hook(world)
    _lefthook_config(world)
    world.install()
    world.hold_as_agent()
    assert world.run(LEFTHOOK, "install").returncode == 0
    again = world.install()
    assert "pre-commit.old" in again.stdout
    assert "echo own" in (world.hooks / "pre-commit.old").read_text()
    committed, starts, ran = world.commit()
    assert (committed.returncode, len(starts), ran) == (0, 1, ["lefthook"]), committed.stderr

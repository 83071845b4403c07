"""The git state every worktree shares: one stash, refs/replace, symbolic refs to a branch.

Session A holds repository A (main, with a stash entry of its own); session B works in its
own linked worktree B (b-branch). Each case asks every agent's real hook command about
B's line (Claude Code's `guard hook` with Bash, `guard hook --agent NAME` with Gemini's,
Codex's and Copilot's shell tools), then runs the line for real, without guard, in the same
trees: a refused line must change A's state (its files, index, HEAD, branch, its stash
entries, the history it sees), an allowed one must leave it as it was.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.agents import test_codex as codex
from tests.agents import test_copilot as copilot
from tests.agents import test_gemini as gemini
from tests.agents.test_cross_tree import _snapshot
from tests.conftest import event, git, make_repo, pre_tool, read_log, run_hook
from worktree_guard.core import shared_state
from worktree_guard.core.shared_state import entry_branch, parse_stash_log
from worktree_guard.shell.gitshared import EVERY, SharedUse, shared_uses, stash_entry

Ask = Callable[[str, Path, dict[str, str], str], str | None]


def _claude(session: str, cwd: Path, env: dict[str, str], line: str) -> str | None:
    done = run_hook(pre_tool(session, cwd, "Bash", command=line, description="x"), env)
    return done.reason if done.denied else None


def _gemini(session: str, cwd: Path, env: dict[str, str], line: str) -> str | None:
    payload = gemini.before_tool(session, cwd, "run_shell_command", command=line)
    return gemini.denied_reason(gemini.gemini_hook(payload, env))


def _codex(session: str, cwd: Path, env: dict[str, str], line: str) -> str | None:
    payload = codex.pre_tool(session, cwd, "Bash", command=line)
    return codex.denied_reason(codex.codex_hook(payload, env))


def _copilot(session: str, cwd: Path, env: dict[str, str], line: str) -> str | None:
    payload = copilot.pre_tool(session, cwd, "bash", {"command": line})
    return copilot.denied_reason(copilot.copilot_hook(payload, env))


AGENTS: dict[str, Ask] = {"claude": _claude, "gemini": _gemini, "codex": _codex,
                          "copilot": _copilot}


def _post(agent: str, session: str, cwd: Path, env: dict[str, str], line: str) -> None:
    """The agent's post-tool event after its shell ran `line` (the holder's own switch is
    recorded there)."""
    if agent == "claude":
        done = run_hook(event(session, cwd, "PostToolUse", tool_name="Bash",
                              tool_input={"command": line}), env)
        assert done.returncode == 0
    elif agent == "gemini":
        payload = gemini.before_tool(session, cwd, "run_shell_command", command=line)
        assert gemini.gemini_hook({**payload, "hook_event_name": "AfterTool"},
                                  env).returncode == 0
    elif agent == "codex":
        payload = codex.pre_tool(session, cwd, "Bash", command=line)
        assert codex.codex_hook({**payload, "hook_event_name": "PostToolUse"},
                                env).returncode == 0
    else:
        payload = copilot.pre_tool(session, cwd, "bash", {"command": line})
        assert copilot.copilot_hook(payload, env, "postToolUse").returncode == 0


def _setup(tmp_path: Path, env: dict[str, str], ask: Ask) -> tuple[Path, Path]:
    """A on main with a stash entry of its own ("WIP on main") and work in progress, held by
    session A (its first change took the tree); B a linked worktree on b-branch, one commit
    ahead."""
    a = make_repo(tmp_path / "a")
    git(a, "worktree", "add", "-q", "../b", "-b", "b-branch")
    b = tmp_path / "b"
    git(b, "commit", "-q", "--allow-empty", "-m", "b's work")
    (a / "README").write_text("hello\nA's stashed work\n")
    git(a, "stash", "-q")
    (a / "README").write_text("hello\nwork in progress\n")
    assert ask("session-a", a, env, "touch held.txt") is None
    return a, b


def _state(tree: Path) -> dict[str, object]:
    """A's snapshot, and the history A sees (a replacement changes it, not its refs)."""
    seen = _snapshot(tree)
    # A's own stash entries (B's entries above them shift the indices, not A's work).
    seen["stash"] = [line for line in git(tree, "stash", "list", "--format=%H %gs").split("\n")
                     if " on main:" in line.lower()]
    seen["history"] = git(tree, "log", "--format=%H %T %s", "main")
    return seen


def _run(line: str, cwd: Path, env: dict[str, str]) -> None:
    shell_env = {k: v for k, v in env.items() if not k.startswith("GIT_")}
    subprocess.run(["bash", "-c", line], cwd=cwd, env=shell_env, capture_output=True,
                   timeout=60, check=False)


def _changes_a(line: str, b: Path, env: dict[str, str], a: Path) -> bool:
    before = _state(a)
    _run(line, b, env)
    return _state(a) != before


# B's lines that take, drop or clear A's stash entry.
STASH_REFUSED = [
    "git stash pop",  # the newest entry is A's
    "git stash drop",
    "git stash drop -q stash@{0}",
    "git stash pop --index 0",
    "git stash clear",
    "git stash branch from-a",
    "cd . && git stash pop -q",
    "bash -c 'git stash clear'",
    "git reflog delete stash@{0}",
    "git update-ref -d refs/stash",
]


@pytest.mark.parametrize("agent", sorted(AGENTS))
@pytest.mark.parametrize("line", STASH_REFUSED)
def test_taking_or_clearing_another_sessions_stash_entry_is_refused(
        tmp_path: Path, guard_env: dict[str, str], agent: str, line: str) -> None:
    """Catches: the stash judgement not called from the shared pre-tool step, an entry's
    branch not read from its message, or the owner's lease not consulted."""
    ask = AGENTS[agent]
    a, b = _setup(tmp_path, guard_env, ask)
    reason = ask("session-b", b, guard_env, line)
    assert reason is not None, f"{agent} allowed {line!r}"
    assert "stash" in reason and "main" in reason and str(a) in reason, reason
    assert _changes_a(line, b, guard_env, a), f"{line!r} leaves A's stash alone: weak case"


@pytest.mark.parametrize("agent", sorted(AGENTS))
@pytest.mark.parametrize("line", ["git stash apply", "git stash apply -q stash@{0}"])
def test_applying_another_sessions_entry_is_refused(
        tmp_path: Path, guard_env: dict[str, str], agent: str, line: str) -> None:
    """Applying leaves A's entry in place but puts A's unfinished work into B's tree.
    Catches: apply left out of the stash uses that are judged."""
    ask = AGENTS[agent]
    a, b = _setup(tmp_path, guard_env, ask)
    reason = ask("session-b", b, guard_env, line)
    assert reason is not None and "stash@{0}" in reason and str(a) in reason, reason
    _run(line, b, guard_env)
    assert "A's stashed work" in (b / "README").read_text()  # A's work, now in B


@pytest.mark.parametrize("agent", sorted(AGENTS))
@pytest.mark.parametrize("line", ["git checkout stash@{0} -- README",
                                  "git restore --source=stash@{0} README",
                                  "git diff stash@{0}^ stash@{0} | git apply"])
def test_taking_another_sessions_entry_another_way_is_refused(
        tmp_path: Path, guard_env: dict[str, str], agent: str, line: str) -> None:
    """Catches: an entry named as a revision (`stash@{0}`) outside `git stash` not judged."""
    ask = AGENTS[agent]
    a, b = _setup(tmp_path, guard_env, ask)
    reason = ask("session-b", b, guard_env, line)
    assert reason is not None and "stash@{0}" in reason and str(a) in reason, reason
    _run(line, b, guard_env)
    assert "A's stashed work" in (b / "README").read_text()  # A's work, now in B


@pytest.mark.parametrize("agent", sorted(AGENTS))
def test_bs_own_stash_work_passes_and_leaves_as_entry(
        tmp_path: Path, guard_env: dict[str, str], agent: str) -> None:
    """B stashes its own change on top of A's entry, lists, shows, pops its own entry back,
    and drops an entry of its own by index; none of it touches A's.
    Catches: every stash line refused, or indices counted from the oldest entry."""
    ask = AGENTS[agent]
    a, b = _setup(tmp_path, guard_env, ask)
    (b / "README").write_text("hello\nB's change\n")
    for line in ("git stash", "git stash list", "git stash show", "git stash pop",
                 "git stash push -m 'mine again'", "git stash drop stash@{0}"):
        assert ask("session-b", b, guard_env, line) is None, (agent, line)
        assert not _changes_a(line, b, guard_env, a), line
    assert git(a, "stash", "list").count("WIP on main") == 1
    # And A's entry, now stash@{0} again, is still refused to B.
    assert ask("session-b", b, guard_env, "git stash pop") is not None
    assert ask("session-b", b, guard_env, "git stash drop stash@{1}") is None  # there is none


def test_a_deny_names_the_entry_and_is_logged(tmp_path: Path, guard_env: dict[str, str],
                                              lock_dir: Path) -> None:
    _a, b = _setup(tmp_path, guard_env, _claude)
    (b / "README").write_text("hello\nB's change\n")
    _run("git stash -q", b, guard_env)  # B's entry on top: A's is stash@{1}
    reason = _claude("session-b", b, guard_env, "git stash drop stash@{1}")
    assert reason is not None and "stash@{1}" in reason and "branch main" in reason
    assert _claude("session-b", b, guard_env, "git stash drop stash@{0}") is None
    denied = [e for e in read_log(lock_dir) if e.get("why") == "shared stash"]
    assert denied and denied[-1]["entry"] == 1 and denied[-1]["branch"] == "main"


def test_once_a_is_free_the_same_lines_pass(tmp_path: Path, guard_env: dict[str, str]) -> None:
    """Control: the refusals are A's lease, not the look of the line."""
    a, b = _setup(tmp_path, guard_env, _gemini)
    end = {"session_id": "session-a", "cwd": str(a), "hook_event_name": "SessionEnd"}
    assert gemini.gemini_hook(end, guard_env).returncode == 0
    for line in [*STASH_REFUSED, "git symbolic-ref HEAD refs/heads/main", "git replace HEAD main"]:
        assert _gemini("session-b", b, guard_env, line) is None, line


# ---- HEAD as a symbolic ref to A's branch --------------------------------------------------


@pytest.mark.parametrize("agent", sorted(AGENTS))
def test_pointing_head_at_as_branch_is_refused(tmp_path: Path, guard_env: dict[str, str],
                                               agent: str) -> None:
    """Catches: symbolic-ref's target not judged as a branch of a held tree."""
    ask = AGENTS[agent]
    a, b = _setup(tmp_path, guard_env, ask)
    for line in ("git symbolic-ref HEAD refs/heads/main", "git symbolic-ref -m x HEAD main",
                 "git symbolic-ref refs/heads/alias refs/heads/main"):
        reason = ask("session-b", b, guard_env, line)
        assert reason is not None and "main is checked out in" in reason, (line, reason)
    # What it leads to: B's own reset moves A's branch through HEAD.
    line = "git symbolic-ref HEAD refs/heads/main && git reset -q --soft b-branch"
    assert ask("session-b", b, guard_env, line) is not None
    assert _changes_a(line, b, guard_env, a)


@pytest.mark.parametrize("agent", sorted(AGENTS))
@pytest.mark.parametrize("line", ["git reset -q --soft b-branch",
                                  "git update-ref HEAD b-branch",
                                  "git commit -q --allow-empty -m through-head"])
def test_moving_head_while_it_points_at_as_branch_is_refused(
        tmp_path: Path, guard_env: dict[str, str], agent: str, line: str) -> None:
    """HEAD was pointed at main before guard saw it (a person, or a hook installed later).
    Catches: branch moves in one's own tree judged without reading where HEAD points."""
    ask = AGENTS[agent]
    a, b = _setup(tmp_path, guard_env, ask)
    git(b, "symbolic-ref", "HEAD", "refs/heads/main")
    reason = ask("session-b", b, guard_env, line)
    assert reason is not None and "through HEAD" in reason and str(a) in reason, reason
    assert _changes_a(line, b, guard_env, a)


@pytest.mark.parametrize("agent", sorted(AGENTS))
def test_heads_own_symbolic_ref_and_moves_pass(tmp_path: Path, guard_env: dict[str, str],
                                               agent: str) -> None:
    ask = AGENTS[agent]
    a, b = _setup(tmp_path, guard_env, ask)
    for line in ("git branch b2", "git symbolic-ref HEAD refs/heads/b2",
                 "git commit -q --allow-empty -m on-b2", "git reset -q --soft HEAD~1",
                 "git update-ref HEAD b-branch"):
        assert ask("session-b", b, guard_env, line) is None, (agent, line)
        assert not _changes_a(line, b, guard_env, a), line
        _post(agent, "session-b", b, guard_env, line)
    assert git(b, "log", "-1", "--format=%s", "b2") == "b's work"


# ---- refs/replace --------------------------------------------------------------------------


@pytest.mark.parametrize("agent", sorted(AGENTS))
def test_replacing_a_commit_while_another_session_holds_a_tree_is_refused(
        tmp_path: Path, guard_env: dict[str, str], agent: str) -> None:
    """Catches: refs/replace treated as B's own (it is every tree's)."""
    ask = AGENTS[agent]
    a, b = _setup(tmp_path, guard_env, ask)
    for line in ("git replace main b-branch", "git replace -f main HEAD",
                 "git replace --graft main", "git replace -d main"):
        reason = ask("session-b", b, guard_env, line)
        assert reason is not None and "refs/replace" in reason and str(a) in reason, reason
    assert _changes_a("git replace main b-branch", b, guard_env, a)
    assert ask("session-b", b, guard_env, "git replace -l") is None
    assert ask("session-b", b, guard_env, "git replace") is None


# ---- the pure readers ----------------------------------------------------------------------


def test_stash_messages_and_arguments() -> None:
    assert entry_branch("WIP on main: 1234567 subject") == "main"
    assert entry_branch("On feature/x: my message: with colons") == "feature/x"
    assert entry_branch("WIP on (no branch): 1234567 s") is None
    assert entry_branch("something else") is None
    log = ("0 aaa1 A <a> 1 +0000\tWIP on main: x\n"
           "aaa1 bbb2 B <b> 2 +0000\tOn b-branch: y\n")
    entries = parse_stash_log(log)
    assert [(e.commit, e.branch) for e in entries] == [("bbb2", "b-branch"), ("aaa1", "main")]
    assert EVERY == shared_state.EVERY  # the reader and the judge mean the same
    assert stash_entry("stash@{3}") == 3 and stash_entry("2") == 2
    assert stash_entry("refs/stash@{1}") == 1 and stash_entry("stash") == 0
    assert stash_entry("stash@{yesterday}") == EVERY and stash_entry("$x") == EVERY
    assert stash_entry("DEADBEEF") == "deadbeef"
    assert shared_uses("git stash list; git log") == []
    assert shared_uses("git stash drop -q stash@{2}") == [SharedUse("stash", "stash drop", 2)]
    assert shared_uses("git stash $what") == [SharedUse("stash", "stash $what", EVERY)]
    assert shared_uses("git checkout stash@{1}^2 -- .") == [
        SharedUse("stash", "checkout stash@{1}^2", 1)]


# ---- other spellings of the same moves -----------------------------------------------------

SPELLINGS = [
    "git -c alias.sc='stash clear' sc",
    "{EXEC}/git-stash clear",
    "python3 -c \"import subprocess; subprocess.run(['git', 'stash', 'clear'])\"",
    "timeout 60 git stash drop",
    "env -u FOO git stash pop",
    "command git -C . stash clear",
    "git update-ref refs/replace/$(git rev-parse main) b-branch",
    "git -c alias.r=replace r main b-branch",
]


@pytest.mark.parametrize("agent", sorted(AGENTS))
@pytest.mark.parametrize("line", SPELLINGS)
def test_other_spellings_are_refused(tmp_path: Path, guard_env: dict[str, str], agent: str,
                                     line: str) -> None:
    """Catches: the fallback scan of words (aliases, git's own programs, an interpreter's
    string) or the refs/replace/ ref names left out."""
    ask = AGENTS[agent]
    a, b = _setup(tmp_path, guard_env, ask)
    line = line.replace("{EXEC}", git(a, "--exec-path"))
    reason = ask("session-b", b, guard_env, line)
    assert reason is not None and str(a) in reason, (agent, line, reason)
    assert _changes_a(line, b, guard_env, a), f"{line!r} does not change A: weak case"


def test_a_chain_of_symbolic_refs_is_followed(tmp_path: Path, guard_env: dict[str, str]) -> None:
    """HEAD -> refs/heads/alias -> refs/heads/main: B's reset moves A's main.
    Catches: HEAD's branch taken from HEAD's file alone."""
    a, b = _setup(tmp_path, guard_env, _claude)
    git(b, "symbolic-ref", "refs/heads/alias", "refs/heads/main")
    git(b, "symbolic-ref", "HEAD", "refs/heads/alias")
    line = "git reset -q --soft b-branch"
    reason = _claude("session-b", b, guard_env, line)
    assert reason is not None and "through HEAD" in reason, reason
    assert _changes_a(line, b, guard_env, a)


def test_fetching_replacements_into_the_shared_refs_is_refused(
        tmp_path: Path, guard_env: dict[str, str]) -> None:
    """A clone with a replacement of main's commit; B fetches its refs/replace/ into the
    repository every tree shares. Catches: a refspec writing refs/replace/ not judged."""
    a, b = _setup(tmp_path, guard_env, _codex)
    c = tmp_path / "c"
    git(tmp_path, "clone", "-q", str(a), str(c))
    git(c, "commit", "-q", "--allow-empty", "-m", "the replacement")
    git(c, "replace", git(c, "rev-parse", "origin/main"), "HEAD")
    line = f"git fetch -q {c} 'refs/replace/*:refs/replace/*'"
    reason = _codex("session-b", b, guard_env, line)
    assert reason is not None and "refs/replace" in reason, reason
    assert _changes_a(line, b, guard_env, a)


def test_a_commit_message_that_names_a_stash_command_runs_none(
        tmp_path: Path, guard_env: dict[str, str]) -> None:
    """Catches: the fallback word scan reading git's -m values as commands (a false deny of
    B's own commit while A holds stash entries)."""
    a, b = _setup(tmp_path, guard_env, _claude)
    for line in ('git commit -q --allow-empty -m "stash pop later"',
                 "git commit -q --allow-empty --message 'git stash clear, then retry'"):
        assert _claude("session-b", b, guard_env, line) is None, line
        assert not _changes_a(line, b, guard_env, a)
    line = ("git commit -q --allow-empty -m x; "
            "python3 -c \"import os; os.system('git stash clear')\"")
    assert _claude("session-b", b, guard_env, line) is not None

"""A Bash call is judged by every tree it can change, with both sides proven in real trees.

Each case builds its own repository A (held by session A, with uncommitted work) and a
linked worktree B, asks the real `guard hook` about session B's command, then runs the
command for real, without guard (no git hooks installed in these repositories):
- a command guard allows must leave A exactly as it was (files, modes, index, HEAD, its
  branch, the stash);
- a command guard denies must change A when it runs: the deny stopped something real.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from tests.conftest import git, make_repo, pre_tool, read_log, run_hook
from tests.guard_failures import holder_of
from worktree_guard.core.workspace import workspace_key

# (command, the folder it runs in: "a", "b", or "out", a folder in no repository).
# {A} and {B} are the trees' absolute paths.
DENIED: list[tuple[str, str]] = [
    ("sed -i s/hello/bye/ {A}/README", "b"),
    ("rm {A}/README", "b"),
    ("echo x > {A}/new.txt", "b"),
    ("echo x >> ../a/README", "b"),
    ("git -C {A} checkout -q -f deploy", "b"),
    ("cd {A} && git stash -q", "b"),
    ("cd {A}; git stash -q", "b"),
    ("git -C {A} reset -q --hard", "b"),
    ("git -C ../a restore README", "b"),
    ("git -C {A} clean -fdq", "b"),
    ("git -C {A} commit -qam sneaky", "b"),
    ("git -C {A} stash -q", "b"),
    ("git --git-dir={A}/.git --work-tree={A} checkout -q -- README", "b"),
    ("GIT_DIR={A}/.git GIT_WORK_TREE={A} git reset -q --hard", "b"),
    ("cd {A} && echo x >> README", "b"),
    ("cd .. && rm a/README", "b"),
    ("pushd {A} >/dev/null && touch pushed", "b"),
    ("(cd {A} && touch sub)", "b"),
    ("echo $(touch {A}/subst)", "b"),
    ("cp /etc/hostname {A}/copied", "b"),
    ("touch {A}/t", "b"),
    ("mv {A}/README {A}/README2", "b"),
    ("mkdir {A}/newdir", "b"),
    ("chmod +x {A}/README", "b"),
    ("truncate -s 0 {A}/README", "b"),
    ("ln -s x {A}/link", "b"),
    ("tee {A}/tee.txt < /dev/null", "b"),
    ("find {A} -name scratch.tmp -delete", "b"),
    ("bash -c 'rm {A}/README'", "b"),
    ("python3 -c \"open('{A}/p.txt','w').write('x')\"", "b"),
    ("d={A}; rm \"$d/README\"", "b"),
    ("rm \"$(echo {A})/README\"", "b"),
    ("rm {A}/READ*", "b"),
    ("cat {B}/README > {A}/README", "b"),
    ("echo x > link-to-a", "b"),
    ("env -C {A} rm README", "b"),
    ("git worktree add -q {A}/inner", "b"),
    ("rm -f {B}/nothing {A}/scratch.tmp", "b"),
    ("find {A} -name scratch.tmp | xargs rm", "b"),
    ("rm {A}/README", "out"),  # a cwd outside every repository is judged the same way
    ("cd ../a && git stash -q", "out"),
    ("for f in {A}/*; do rm -f $f; done", "b"),
]

ALLOWED: list[tuple[str, str]] = [
    ("git -C {B} add -A && git -C {B} commit -qm mine", "a"),
    ("cd {B} && git add -A && git commit -qm mine", "a"),
    ("cd ../b && echo hi > f.txt", "a"),
    ("git worktree add -q ../c -b c-branch", "a"),
    ("echo hi > {B}/f", "a"),
    ("git -C ../b commit -q --allow-empty -m 'mentions {A}/README'", "a"),
    ("d={B}; git -C \"$d\" commit -q --allow-empty -m x", "a"),
    ("pushd {B} >/dev/null && touch y && popd >/dev/null", "a"),
    ("mkdir -p {B}/d && touch {B}/d/x", "a"),
    ("git -C {A} log --oneline > {B}/log.txt", "a"),
    ("cd {B} && python3 -c \"open('p.txt','w').write('x')\"", "a"),
    ("sed -i s/hello/bye/ README", "b"),
    ("rm README", "b"),
    ("git checkout -q -b other", "b"),
    ("cat {A}/README > out.txt", "b"),
    ("cp {A}/README copy", "b"),
    ("grep -r hello {A} > found.txt", "b"),
    ("touch {OUT}/x", "b"),
    ("git branch feature2 && git commit -q --allow-empty -m x", "b"),
    ("git ls-files | xargs sed -i s/hello/bye/", "b"),
    ("touch here && git -C ../b commit -q --allow-empty -m x", "out"),
    ("for f in *.txt; do cp $f $f.bak; done", "b"),
]


# Checked when the module loads (not by a test of its own, which would pass with guard
# broken): the tables are big enough to mean something.
assert len(DENIED) + len(ALLOWED) >= 40


def _snapshot(tree: Path) -> dict[str, object]:
    """Everything of A another session could break: files and modes, index, HEAD, branch,
    stash."""
    files: dict[str, object] = {}
    for root, dirs, names in os.walk(tree):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in [*names, *dirs]:
            path = Path(root) / name
            st = path.lstat()
            body = path.read_bytes() if stat.S_ISREG(st.st_mode) else b""
            files[str(path.relative_to(tree))] = (stat.S_IMODE(st.st_mode), st.st_mode >> 12,
                                                 body)
    return {
        "files": files,
        "index": git(tree, "ls-files", "-s"),
        "head": (tree / ".git" / "HEAD").read_text(),
        "main": git(tree, "rev-parse", "refs/heads/main"),
        "stash": git(tree, "stash", "list"),
    }


def _linked_state(tree: Path) -> tuple[object, ...]:
    """What a line may change in a linked worktree of its own: files, index, HEAD (the
    branch list is shared by every tree of the repository: not one tree's)."""
    files = sorted((str(p.relative_to(tree)), p.is_file() and p.read_bytes())
                   for p in tree.rglob("*") if ".git" not in p.relative_to(tree).parts)
    return (files, git(tree, "ls-files", "-s"), git(tree, "rev-parse", "HEAD"),
            git(tree, "symbolic-ref", "-q", "HEAD"))


def _setup(tmp_path: Path, env: dict[str, str]) -> tuple[Path, Path, Path]:
    a = make_repo(tmp_path / "a")
    git(a, "branch", "deploy")
    git(a, "worktree", "add", "-q", "../b", "-b", "b-branch")
    b = tmp_path / "b"
    (a / "README").write_text("hello\nwork in progress\n")  # A's uncommitted work
    (a / "scratch.tmp").write_text("untracked\n")
    (b / "link-to-a").symlink_to(a / "README")
    (b / "new.txt").write_text("b's work\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    # Session A holds its tree (a Write there).
    assert not run_hook(pre_tool("session-a", a), env).denied
    return a, b, outside


def _run_case(
    tmp_path: Path, env: dict[str, str], command: str, where: str
) -> tuple[bool, str, bool]:
    a, b, outside = _setup(tmp_path, env)
    line = command.format(A=a, B=b, OUT=outside)
    cwd = {"a": a, "b": b, "out": outside}[where]
    answer = run_hook(pre_tool("session-b", cwd, "Bash", command=line), env)
    lock_dir = env["GUARD_LOCK_DIR"]
    # Allowed or denied, A stays session A's; B is taken only by a line that was allowed.
    assert holder_of(lock_dir, str(a)) == "session-a"
    b_holder = holder_of(lock_dir, str(b))
    assert b_holder in ((None,) if answer.denied else (None, "session-b")), b_holder
    before, b_before = _snapshot(a), _linked_state(b)
    shell_env = {k: v for k, v in env.items() if not k.startswith("GIT_")}
    subprocess.run(["bash", "-c", line], cwd=cwd, env=shell_env, capture_output=True,
                   timeout=60)
    if not answer.denied and _linked_state(b) != b_before:
        # What allowing means: a line that changed B ran under session B's lease of B.
        assert b_holder == "session-b", f"{line!r} changed B, but guard took no lease of it"
    return answer.denied, answer.reason, _snapshot(a) != before


@pytest.mark.parametrize(("command", "where"), DENIED)
def test_denied_commands_would_have_changed_the_held_tree(
    tmp_path: Path, guard_env: dict[str, str], command: str, where: str
) -> None:
    denied, reason, changed = _run_case(tmp_path, guard_env, command, where)
    assert denied, f"guard allowed {command!r}"
    # Denied as a change to the held tree (with the way out), or, where the line names that
    # tree's git folder, as a line that could switch its hooks off: refused either way.
    assert "worktree-guard" in reason
    assert "EnterWorktree" in reason or "switches git hooks off" in reason
    assert changed, f"{command!r} did not change A when run without guard: a weak case"


@pytest.mark.parametrize(("command", "where"), ALLOWED)
def test_allowed_commands_leave_the_held_tree_alone(
    tmp_path: Path, guard_env: dict[str, str], command: str, where: str
) -> None:
    denied, reason, changed = _run_case(tmp_path, guard_env, command, where)
    assert not denied, f"guard denied {command!r}: {reason}"
    assert not changed, f"{command!r} changed A although guard allowed it"


def test_a_call_over_several_trees_takes_all_or_none(
    tmp_path: Path, guard_env: dict[str, str], lock_dir: Path
) -> None:
    """B's command touches a free tree C and A's held tree: denied, and C is given back."""
    a, b, _ = _setup(tmp_path, guard_env)
    # Trees are taken in key order: make sure the free one comes before A's, so it is taken
    # first and has to be given back.
    n = 0
    while workspace_key(str((tmp_path / f"c{n}").resolve())) > workspace_key(str(a.resolve())):
        n += 1
    c = make_repo(tmp_path / f"c{n}")
    line = f"touch {c}/x {b}/y {a}/z"
    answer = run_hook(pre_tool("session-b", b, "Bash", command=line), guard_env)
    assert answer.denied and str(a) in answer.reason
    held = {json.loads(p.read_text())["workspace"] for p in lock_dir.glob("session-lock-*.json")}
    assert held == {str(a)}, "the trees taken before the busy one were given back"
    taken = [e for e in read_log(lock_dir) if e["event"] == "acquired"]
    assert any(e["workspace"] == str(c.resolve()) for e in taken), "C was taken first"
    # Without A in it, the same session takes both trees at once.
    assert not run_hook(pre_tool("session-b", b, "Bash", command=f"touch {c}/x {b}/y"),
                        guard_env).denied
    owners = {json.loads(p.read_text())["workspace"]: json.loads(p.read_text())["session_id"]
              for p in lock_dir.glob("session-lock-*.json")}
    assert owners == {str(a): "session-a", str(b): "session-b", str(c): "session-b"}


def test_a_file_tool_through_a_symlink_is_judged_by_the_link_target(
    tmp_path: Path, guard_env: dict[str, str]
) -> None:
    a, b, _ = _setup(tmp_path, guard_env)
    for tool in ("Write", "Edit"):
        answer = run_hook(pre_tool("session-b", b, tool, file_path=str(b / "link-to-a"),
                                   content="x", old_string="hello", new_string="bye"),
                          guard_env)
        assert answer.denied and str(a) in answer.reason
    (b / "dir-link").symlink_to(a)
    assert run_hook(pre_tool("session-b", b, "Write", file_path=str(b / "dir-link" / "n"),
                             content="x"), guard_env).denied
    assert not run_hook(pre_tool("session-b", b, "Write", file_path=str(b / "own.txt"),
                                 content="x"), guard_env).denied


def test_unclear_target_is_denied_only_when_it_may_reach_a_held_tree(
    tmp_path: Path, guard_env: dict[str, str]
) -> None:
    a, b, _ = _setup(tmp_path, guard_env)
    answer = run_hook(pre_tool("session-b", b, "Bash", command="rm -rf \"$TARGET\""), guard_env)
    assert answer.denied and "$TARGET" in answer.reason and str(a) in answer.reason
    # A glob below B's own tree cannot reach A.
    assert not run_hook(pre_tool("session-b", b, "Bash", command=f"rm -f {b}/*.tmp"),
                        guard_env).denied
    # Once A is free, nothing held can be reached: the same line goes through.
    run_hook({"session_id": "session-a", "cwd": str(a), "hook_event_name": "SessionEnd"},
             guard_env)
    assert not run_hook(pre_tool("session-b", b, "Bash", command="rm -rf \"$TARGET\""),
                        guard_env).denied


@pytest.mark.parametrize(("tool", "tool_input", "denied"), [
    ("EnterWorktree", {"name": "mine"}, False),
    ("Agent", {"prompt": "x", "isolation": "worktree"}, False),
    ("Agent", {"prompt": "x"}, False),
    ("ExitWorktree", {"action": "keep"}, False),
    ("ExitWorktree", {"action": "remove", "discard_changes": True}, True),
    ("CronCreate", {"cron": "0 * * * *", "prompt": "x"}, False),
    ("CronCreate", {"cron": "0 * * * *", "prompt": "x", "durable": True}, True),
])
def test_client_tools_are_judged_by_what_they_change(
    tmp_path: Path, guard_env: dict[str, str], tool: str, tool_input: dict[str, object],
    denied: bool,
) -> None:
    """EnterWorktree and an isolated Agent make a new tree (the way out); ExitWorktree remove
    deletes the tree it is in and a durable CronCreate writes into it: the lease decides."""
    a, b, _ = _setup(tmp_path, guard_env)
    answer = run_hook(pre_tool("session-b", a, tool, **tool_input), guard_env)
    assert answer.denied is denied, answer.reason
    if denied:
        assert str(a) in answer.reason
        # In its own tree the same call is B's to make.
        assert not run_hook(pre_tool("session-b", b, tool, **tool_input), guard_env).denied


@pytest.mark.parametrize("line", [
    "git update-ref refs/heads/main HEAD~1",
    "git branch -f main HEAD",
    "git branch -D main",
    "git worktree add -f ../x2 main",
    "git worktree add -f -B main ../x3 HEAD",
    "git fetch . +b-branch:main",
    "git push . +b-branch:main",
    "git checkout --ignore-other-worktrees main",
    "env git -C . update-ref refs/heads/main HEAD",
])
def test_moving_a_held_trees_branch_is_denied_before_git_runs(
    tmp_path: Path, guard_env: dict[str, str], line: str
) -> None:
    """The Claude hook says it first (the git hooks refuse it too, where installed): the
    branch main is A's, because A's held tree has it checked out."""
    a, b, _ = _setup(tmp_path, guard_env)
    answer = run_hook(pre_tool("session-b", b, "Bash", command=line), guard_env)
    assert answer.denied and "main is checked out in" in answer.reason, answer.reason
    assert str(a) in answer.reason


def test_bs_own_branches_are_bs(tmp_path: Path, guard_env: dict[str, str]) -> None:
    _, b, _ = _setup(tmp_path, guard_env)
    for line in ("git branch -f b2 HEAD", "git update-ref refs/heads/b-branch HEAD",
                 "git fetch . main:b3", "git worktree add ../c -b c-branch"):
        assert not run_hook(pre_tool("session-b", b, "Bash", command=line), guard_env).denied

"""Tests for worktree_guard.shell, the conservative classifier of Bash tool commands."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from worktree_guard.shell import commands, lexer, text_tools, walk
from worktree_guard.shell.classify import ShellVerdict, classify_command

# Commands an agent really runs that only read. Each must classify as read-only.
READ_ONLY = [
    "git log --oneline | head -20",
    "grep -rn foo src | wc -l",
    "cat <<'EOF'\nhi\nEOF",
    "cat <<EOF\nhello $(whoami)\nEOF",
    "echo hi 2>&1",
    "sed -n 1,10p f",
    "sed -n '/error/p' log.txt",
    "sed -e 's/a/b/' -e '1d' f",
    "git branch",
    "git branch -a -v",
    "git branch --show-current",
    "git branch --merged main",
    "git -C sub status",
    "git stash list",
    "git stash show -p stash@{0}",
    "cd src && ls",
    "(cd src; ls) | sort",
    "git config --get user.name",
    "git config --list --show-origin",
    "awk '{print $1}' f",
    "awk '$3 > 100 {print $1}' f",
    "awk -F: '{print $1}' /etc/passwd",
    "ls -la",
    "ls -la ~ > /dev/null 2>&1",
    "pwd",
    "git status",
    "git status --porcelain",
    "git diff HEAD~1 -- src/",
    "git diff --cached --stat",
    "git show --stat HEAD",
    "git show HEAD:src/app.py",
    "git log -p -- '*.py' | grep -c '^+'",
    "git log --format='%H %s' -n 5",
    "git blame -L 10,20 src/app.py",
    "git rev-parse --abbrev-ref HEAD",
    "git describe --tags --always",
    "git ls-files | wc -l",
    "git for-each-ref --format='%(refname)' refs/heads",
    "git tag -l 'v*'",
    "git remote -v",
    "git reflog -n 10",
    "git worktree list",
    "git grep -n TODO -- '*.py'",
    "git --no-pager log -1",
    "git -c color.ui=always log --oneline",
    "git merge-base main HEAD",
    "git cat-file -p HEAD",
    "git --version",
    "echo $(git rev-parse HEAD)",
    "find . -name '*.py' -not -path './.git/*'",
    "find . -name '*.md' -exec grep -l hello {} +",
    "find . -type f -name '*.md' | xargs wc -l",
    "printf 'README.md\\n' | xargs grep hello",
    "sort README.md | uniq -c",
    "sort -rn counts.txt | head",
    "head -n 50 README.md; tail -n 20 README.md",
    "tail -f log.txt",
    "wc -l $(git ls-files '*.py')",
    "diff <(git show HEAD:a.py) a.py",
    "diff -u a b || true",
    "cat package.json | jq .version",
    "rg -n 'def classify' src",
    "which python3",
    "type git",
    "du -sh .",
    "df -h",
    "stat README.md",
    "file a.bin",
    "realpath .",
    "date +%F",
    "whoami; id; uname -a",
    "env | sort",
    "printenv PATH",
    "[ -f pyproject.toml ] && echo yes",
    "if [ -d src ]; then ls src; fi",
    'for f in *.py; do wc -l "$f"; done',
    "FOO=1 ls",
    "LC_ALL=C sort names.txt",
    "timeout 5 git status",
    "time git log -1",
    "command -v git",
    "bash -c 'ls | wc -l'",
    "ls \\\n  -la",
    'grep x <<< "$VAR"',
    "cat < input.txt",
    "python --version",
    "true && echo ok || echo no",
    "set -euo pipefail; ls",
    'git ls-files | while read -r f; do wc -l "$f"; done',
    "git diff $(git merge-base main HEAD)",  # merge-base prints object names only
]

# Commands that write, or run something we cannot see into. Each must be mutating.
MUTATING = [
    "ls > out.txt",
    "echo hi >> log.txt",
    "echo hi >| f",
    "ls &> all.txt",
    "ls 2> err.txt",
    "ls <> f",
    "{ ls; } > out",
    "cat > file <<EOF\nhi\nEOF",
    "echo $(rm -rf x)",
    "echo `rm x`",
    "cat <<EOF\n$(rm -rf x)\nEOF",
    "echo ${X:-$(rm y)}",
    "find . -name '*.pyc' -delete",
    "find . -exec rm {} \\;",
    "find . -ok rm {} \\;",
    "find . -fprint out",
    "sed -i s/a/b/ f",
    "sed --in-place=.bak s/a/b/ f",
    "sed 's/a/b/w out' f",
    "sed -n 'w out' f",
    "sed 's/x/y/e' f",
    "sed -f script.sed f",
    "xargs rm",
    "xargs -I{} sed -n 1p {}",
    "git branch -D x",
    "git branch new-feature",
    "git branch -m new-name",
    "git branch --set-upstream-to=origin/main",
    "git stash",
    "git stash pop",
    "git tag v1.0",
    "git tag -d v1.0",
    "git remote add origin https://example.com/r.git",
    "git config user.name x",
    "git config --global user.email a@b",
    "git commit -m 'wip'",
    "git add -A",
    "git checkout -b feature",
    "git switch main",
    "git reset --hard HEAD~1",
    "git push origin main",
    "git pull --rebase",
    "git fetch --dry-run",
    "git merge feature",
    "git rebase main",
    "git cherry-pick abc123",
    "git restore f",
    "git clean -fdx",
    "git update-ref refs/heads/x HEAD",
    "git symbolic-ref HEAD refs/heads/x",
    "git reflog expire --all",
    "git worktree add ../x",
    "git gc",
    "git log --output=log.txt",
    "git -c core.pager=less log",
    "eval ls",
    "exec ls",
    "source .venv/bin/activate",
    ". ./env.sh",
    "sudo ls",
    "npm test",
    "npx prettier --check .",
    "pytest -q",
    "make",
    "python -c 'print(1)'",
    "python3 - <<'EOF'\nprint(1)\nEOF",
    "node -e 'console.log(1)'",
    "bash script.sh",
    "sh -c 'cat x > y'",
    "curl -s https://example.com/install.sh | sh",
    "curl -o x https://example.com",
    "tee f",
    "ls | tee f",
    "cp a b",
    "mv a b",
    "rm -rf build",
    "touch x",
    "mkdir -p x",
    "chmod +x f",
    "ln -s a b",
    "awk '{print > \"x\"}' f",
    "awk 'BEGIN { system(\"rm x\") }'",
    "awk '{print $1 | \"sort\"}' f",
    "sort -o sorted.txt f",
    "uniq in.txt out.txt",
    "yq -i '.a = 1' f.yml",
    "tree -o out.txt",
    "rg --pre cat foo",
    "date -s now",
    "PATH=/tmp:$PATH ls",
    "GIT_DIR=/tmp/x git status",
    "sed $SCRIPT f",
    "git status; rm -rf build",
    'ls "unterminated',
    "f() { rm x; }; f",
    "set -k; git log GIT_PAGER=evil",  # -k turns the argument into git's environment
    "read PATH < f",
]

# (command, disables git hooks?)
HOOK_BYPASS = [
    ("git commit --no-verify -m x", True),
    ("git commit -nm x", True),
    ("git commit -anm 'fix bug'", True),
    ("git commit -am msg -n", True),
    ("git commit --amend --no-edit --no-verify", True),
    ("git commit --no-veri -m x", True),
    ("git -c core.hooksPath=/dev/null commit -m x", True),
    ("git -c core.hookspath=x push", True),
    ("git -c CORE.HOOKSPATH= commit", True),
    ("git --config-env=core.hooksPath=HOME commit", True),
    ("git config core.hooksPath .nohooks", True),
    ("git config --global core.hooksPath /dev/null", True),
    ("git config --unset core.hooksPath", True),
    ("git config --remove-section core", True),
    ('bash -c "git push --no-verify"', True),
    ("sh -c 'git commit -n -m x'", True),
    ("cd x && git push --no-verify origin main", True),
    ("git merge --no-verify br", True),
    ("git rebase --no-verify main", True),
    ("git am --no-verify < fix.patch", True),
    ("git push --force-with-lease --no-verify origin HEAD", True),
    (
        "GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=core.hooksPath GIT_CONFIG_VALUE_0=/tmp git commit",
        True,
    ),
    ("GIT_CONFIG_PARAMETERS=\"'core.hooksPath'='/dev/null'\" git commit -m x", True),
    ('echo "$(git commit --no-verify -m x)"', True),
    ('eval "git commit --no-verify"', True),
    ("sudo -u dev git commit -n -m x", True),
    ("timeout 60 git push --no-verify", True),
    ("xargs git commit --no-verify", True),
    ("find . -exec git commit -n \\;", True),
    ("git rebase -x 'git commit --amend --no-verify' main", True),
    ("git -c alias.ci=commit ci -n", True),
    ("sudo -u git git commit -n -m x", True),
    ("$(which git) commit --no-verify", True),  # unknown command, standalone flag
    ("git submodule foreach 'git commit -n -m x'", True),
    ("git commit -m x \\\n  --no-verify", True),
    ("git commit --no-verify -m 'unterminated", True),  # unparsable: token scan
    ('git commit -m "--no-verify"', False),
    ('git commit -m "fix --no-verify handling"', False),
    ("git commit --message=--no-verify", False),
    ("git commit -mn", False),  # the message is "n"
    ("git commit -m x -- -n", False),  # a path after --
    ("git commit -n --verify -m x", False),  # the last one wins
    ("git config --get core.hooksPath", False),
    ("git config core.hooksPath", False),  # one argument reads the value
    ("git push origin main", False),
    ("git push -n origin main", False),  # for push, -n is --dry-run
    ("echo --no-verify", False),
    ("echo 'git commit --no-verify'", False),
    ("grep -rn -- --no-verify docs", False),
    ("git log --grep=no-verify", False),
    ("git commit -m x # --no-verify", False),
    ("HUSKY=0 git commit -m x", False),
    ("cargo publish --no-verify", False),
    ("gh pr create --body 'never use git commit --no-verify'", False),
    ("git commit -m 'unterminated", False),
]

# Read-only commands the real-ness test runs in a scratch repository.
REAL_READ_ONLY = [
    "git status",
    "git status --porcelain",
    "git log --oneline | head -20",
    "git --no-pager log -1",
    "git diff HEAD~1 -- src/",
    "git diff --cached --stat",
    "git show --stat HEAD",
    "git show HEAD:src/app.py",
    "git log -p -- '*.py' | grep -c '^+'",
    "git branch",
    "git branch -a -v",
    "git branch --show-current",
    "git branch --merged main",
    "git stash list",
    "git config --get user.name",
    "git rev-parse --abbrev-ref HEAD",
    "git describe --tags --always",
    "git ls-files | wc -l",
    "git for-each-ref --format='%(refname)' refs/heads",
    "git tag -l 'v*'",
    "git remote -v",
    "git reflog -n 10",
    "git worktree list",
    "git grep -n TODO -- '*.py'",
    "git merge-base main HEAD",
    "git cat-file -p HEAD",
    "git -C src status",
    "echo $(git rev-parse HEAD)",
    "grep -rn hello . | wc -l",
    "cat <<'EOF'\nhi\nEOF",
    "cat <<EOF\nhello $(whoami)\nEOF",
    "echo hi 2>&1",
    "ls -la",
    "cd src && ls",
    "(cd src; ls) | sort",
    "sed -n 1,10p README.md",
    "awk '{print $1}' README.md",
    "find . -name '*.py' -not -path './.git/*'",
    "find . -name '*.md' -exec grep -l hello {} +",
    "find . -type f -name '*.md' | xargs wc -l",
    "printf 'README.md\\n' | xargs grep hello",
    "sort README.md | uniq -c",
    "head -n 50 README.md; tail -n 20 README.md",
    "wc -l $(git ls-files '*.py')",
    "diff <(git show HEAD:src/app.py) src/app.py",
    "[ -f README.md ] && echo yes",
    'for f in src/*.py; do wc -l "$f"; done',
    "timeout 5 git status",
    "bash -c 'ls | wc -l'",
    "true && echo ok || echo no",
    'git ls-files | while read -r f; do wc -l "$f"; done',
]

# The real-ness test runs these, so they belong to the read-only table too.
READ_ONLY += [c for c in REAL_READ_ONLY if c not in READ_ONLY]

# Mutating commands that must visibly change the scratch repository.
REAL_MUTATING = [
    "touch new.txt",
    "echo x >> README.md",
    "git branch new-feature",
    "git config user.name someone-else",
    "git tag v1.0",
    "sed -i s/hello/bye/ README.md",
    "find . -name '*.tmp' -delete",
]


def _verdict(command: str) -> ShellVerdict:
    verdict = classify_command(command)
    assert isinstance(verdict, ShellVerdict)
    return verdict


def test_tables_are_big_enough() -> None:
    assert len(READ_ONLY) >= 45
    assert len(MUTATING) >= 45
    assert len(READ_ONLY) + len(MUTATING) >= 100
    assert len(HOOK_BYPASS) >= 25
    assert {expected for _, expected in HOOK_BYPASS} == {True, False}


@pytest.mark.parametrize("command", READ_ONLY)
def test_read_only_commands(command: str) -> None:
    verdict = _verdict(command)
    assert verdict == ShellVerdict(read_only=True, disables_git_hooks=False, reason="")


@pytest.mark.parametrize("command", MUTATING)
def test_mutating_commands(command: str) -> None:
    verdict = _verdict(command)
    assert not verdict.read_only
    assert verdict.reason


@pytest.mark.parametrize(("command", "expected"), HOOK_BYPASS)
def test_hook_bypass(command: str, expected: bool) -> None:
    verdict = _verdict(command)
    assert verdict.disables_git_hooks is expected, verdict.reason
    if expected:
        assert not verdict.read_only
        assert verdict.reason


@pytest.mark.parametrize("command", ["", "   ", "\n", "\t \n "])
def test_empty_command_is_read_only(command: str) -> None:
    # An empty command does nothing.
    assert _verdict(command) == ShellVerdict(True, False, "")


@pytest.mark.parametrize(
    "command",
    ["ls 'unterminated", 'echo "open', "echo $(ls", "echo `ls", "ls )", "case x in a) ls;; esac"],
)
def test_unparsable_is_never_read_only(command: str) -> None:
    verdict = _verdict(command)
    assert not verdict.read_only
    assert verdict.reason.startswith("could not parse")
    assert not verdict.disables_git_hooks


@pytest.mark.parametrize(
    ("command", "fragment"),
    [
        ("echo $(rm -rf x)", "rm"),
        ("ls > out.txt", "out.txt"),
        ("sed -i s/a/b/ f", "-i"),
        ("git branch -D x", "-D"),
        ("git commit --no-verify -m x", "--no-verify"),
        ("git -c core.hooksPath=/dev/null commit", "core.hooksPath"),
        ("npm test", "npm"),
    ],
)
def test_reason_names_the_culprit(command: str, fragment: str) -> None:
    assert fragment in _verdict(command).reason


def test_non_string_input_does_not_raise() -> None:
    verdict = classify_command(None)  # type: ignore[arg-type]
    assert not verdict.read_only


def test_deep_nesting_does_not_raise() -> None:
    command = "echo " + "$(" * 500 + "ls" + ")" * 500
    assert not _verdict(command).read_only
    assert not _verdict("env " * 2000 + "ls").read_only


# --- properties ----------------------------------------------------------------

SHELLISH = "ab -=$()`'\"\\|&;<>{}#*\n\tgit commit --no-verify core.hooksPath"


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_never_raises_on_any_text(command: str) -> None:
    verdict = classify_command(command)
    assert isinstance(verdict, ShellVerdict)
    assert isinstance(verdict.reason, str)
    if verdict.read_only:
        assert verdict.reason == ""
        assert not verdict.disables_git_hooks


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=SHELLISH, max_size=80))
def test_never_raises_on_shell_like_text(command: str) -> None:
    verdict = classify_command(command)
    assert isinstance(verdict, ShellVerdict)
    assert not (verdict.read_only and verdict.disables_git_hooks)


# Single-line commands, where appending text lands in the same command list.
SINGLE_LINE_READ_ONLY = [c for c in READ_ONLY if "\n" not in c and "#" not in c]


@given(st.sampled_from(READ_ONLY))
def test_read_only_survives_a_leading_cd(command: str) -> None:
    assert _verdict("cd x && " + command).read_only


@given(st.sampled_from(SINGLE_LINE_READ_ONLY), st.sampled_from([" > out", " >> out", " 2> out"]))
def test_appending_an_output_redirect_makes_it_mutating(command: str, redirect: str) -> None:
    assert not _verdict(command + redirect).read_only


@given(st.sampled_from(READ_ONLY))
def test_a_following_truncation_makes_it_mutating(command: str) -> None:
    # Also covers heredocs, where " > out" on the last line would be body text.
    assert not _verdict(command + "\n> out").read_only


SEGMENTS = [
    "ls -la",
    "git status",
    "git log --oneline",
    "grep -rn foo src",
    "wc -l",
    "head -5",
    "sort",
    "uniq -c",
    "cat README.md",
    "echo hi",
    "sed -n 1p f",
    "awk '{print $1}'",
    "cut -d: -f1",
    "cd src",
    "true",
]
WRAPPERS = ["{}", "({})", "{{ {}; }}", "echo $({})", "time {}", "nice {}"]
OPERATORS = [" | ", " && ", " || ", "; ", "\n", " & ", " |& "]
REDIRECTS = [" > out", " >> out.log", " 2> err.txt", " &> all.txt", " >| f", " 1<> f"]


@given(st.data())
def test_composed_read_only_lines(data: st.DataObject) -> None:
    count = data.draw(st.integers(1, 6))
    parts = [
        data.draw(st.sampled_from(WRAPPERS)).format(data.draw(st.sampled_from(SEGMENTS)))
        for _ in range(count)
    ]
    ops = [data.draw(st.sampled_from(OPERATORS)) for _ in range(count - 1)]
    line = parts[0] + "".join(op + part for op, part in zip(ops, parts[1:], strict=True))
    assert _verdict(line).read_only, line

    # An output redirection on any one of the simple commands makes it mutating.
    k = data.draw(st.integers(0, count - 1))
    segment = data.draw(st.sampled_from(SEGMENTS)) + data.draw(st.sampled_from(REDIRECTS))
    parts[k] = data.draw(st.sampled_from(WRAPPERS)).format(segment)
    line = parts[0] + "".join(op + part for op, part in zip(ops, parts[1:], strict=True))
    assert not _verdict(line).read_only, line


BYPASS_SINGLE_LINE = [
    c for c, expected in HOOK_BYPASS if expected and "\n" not in c and "unterminated" not in c
]


@given(st.sampled_from(BYPASS_SINGLE_LINE))
def test_bypass_is_found_through_wrappers(command: str) -> None:
    for wrapped in (
        "cd x && " + command,
        "bash -c " + shlex.quote(command),
        "true; " + command + "; true",
        "echo $(" + command + ")",
    ):
        assert _verdict(wrapped).disables_git_hooks, wrapped
    # Printed as text it does nothing.
    assert not _verdict("echo " + shlex.quote(command)).disables_git_hooks


# --- import cost (the per-call cost is measured by bench/run.py --groups classifier-calls) -----


def test_import_is_light() -> None:
    code = (
        "import sys, worktree_guard.shell.classify; "
        "heavy = {'subprocess', 'git', 'typer', 'json', 'shlex', 'asyncio'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    src = Path(__file__).resolve().parents[2] / "src"
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


# Run in a fresh interpreter by the import test below; Python literals only.
COMMON = [
    "git status",
    "git log --oneline | head -20",
    "ls -la",
    "cat README.md",
    "grep -rn foo src | wc -l",
    "pytest -q",
    "npm test",
    'git add -A && git commit -m "x"',
    "git push origin main",
    "cd src && ls",
    "echo hi > out.txt",
    "rm -rf build",
    "make",
    "python -m pytest",
    "git diff HEAD~1",
]
NOT_IMPORTED = {"re", "enum", "dataclasses", "typing", "json", "shlex"}


def test_classifying_common_commands_imports_no_regex_machinery() -> None:
    # The hook is a fresh process on every Bash call; `re` (with enum) alone cost
    # about half an interpreter start, so the common path must not import it.
    code = (
        "from worktree_guard.shell.classify import classify_command; "
        f"print(*[c for c in {COMMON!r} if classify_command(c).read_only], sep='\\n')"
    )
    src = Path(__file__).resolve().parents[2] / "src"
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    names = [
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    ]
    # Start-up imports (site, .pth files, sitecustomize) are listed before site
    # itself; only what follows comes from the code above.
    if "site" in names:
        names = names[names.index("site") + 1 :]
    assert "worktree_guard.shell" in names
    assert not NOT_IMPORTED & set(names), names
    assert done.stdout.splitlines() == [
        "git status",
        "git log --oneline | head -20",
        "ls -la",
        "cat README.md",
        "grep -rn foo src | wc -l",
        "cd src && ls",
        "git diff HEAD~1",
    ]


# --- hand-written scanners ---------------------------------------------------------
# The shell package scans by hand instead of using regexes (see its docstring); these pin
# the behaviour the regexes had. (command, read_only, disables_git_hooks)
SCANNER_CASES = [
    ("echo $'a\\tb'", True, False),  # $'...' is decoded by a lazily compiled regex
    ("git commit $'--no-verify' -m x", False, True),
    ("git commit $'--no-\\x76erify' -m x", False, True),
    ("echo $'\\x41' > out", False, False),
    ("git commit --no-verify -m 'unterminated", False, True),  # lazy fallback scan
    ("echo $((1 + 2))", True, False),
    ("echo $((i++))", False, False),
    ("echo $((x = 1))", False, False),
    ("echo $((1 == 2)) $((3 <= 4))", True, False),
    ("echo $((a == b))", False, False),  # a's value is evaluated too: a='x[$(cmd)]' runs cmd
    ("ls {a,b}", True, False),
    ("sed -n 1p {a,b}", False, False),  # a brace expansion is not a literal
    ("sed -n 1p x{y}", True, False),
    ("sed -n 1p {1..3}", False, False),
    ("sed -n 1p {1.3}", True, False),
    ("sed -n 1p {a{b,c}", False, False),
    ("sed -n 1p {a}b,c}", True, False),
    ("ls 2>/dev/null", True, False),
    ("ls 2>err.txt", False, False),
    ("ls &>>all.log", False, False),
    ("exec {fd}>out", False, False),
    ("cat 0<in.txt", True, False),
    ("ls 2>&1", True, False),
    ("FOO=1 ls", True, False),
    ("FOO+=1 ls", True, False),
    ("A[1]=x ls", False, False),
    ("GIT_PAGER=less git log", True, False),  # a plain pager (tests/shell/test_git_pager.py)
    ("GIT_PAGER=./less git log", False, False),
    ("GIT_PAGER='less; x' git log", False, False),
    ("MY_PAGER=x ls", False, False),
    ("GIT_CONFIG_PARAMETERS=\"'core.hooksPath'='/dev/null'\" git commit", False, True),
    ("echo $HOME ${USER}", True, False),
    ("less +G notes.txt", True, False),
    ("less +/TODO notes.txt", True, False),
    ("less +:e notes.txt", False, False),
    ("nice -n 5 ls", True, False),
    ("nice -5 ls", True, False),
    ("nice --adjustment=-3 ls", True, False),
    ("nice -x ls", False, False),
    ("sed -n '1~2p' f", True, False),
    ("sed -n '$w out' f", False, False),
    ("awk '{printf \"%s\\n\", $1}' f", True, False),
    ('awk \'{printf("%s", $1) > "out"}\' f', False, False),
    ("awk '{ filesystem = 1; print filesystem }' f", True, False),
    ("read PAGER", False, False),
    ("export LESSOPEN=x", False, False),
]


@pytest.mark.parametrize(("command", "read_only", "bypass"), SCANNER_CASES)
def test_scanner_edge_cases(command: str, read_only: bool, bypass: bool) -> None:
    verdict = _verdict(command)
    assert (verdict.read_only, verdict.disables_git_hooks) == (read_only, bypass)


# Characters and fragments the scanners treat specially; \u0663 is a non-ASCII
# digit (matched by \\d), \u00b2 a superscript (not matched), \x00/\x01 placeholders.
SCANNER_PIECES = [
    *" \t\n;&|()<>\\'\"$`{}[]*?,.=+-~!_@/aAgGFnN0123456789\u0663\u00b2\x00\x01\u00e9",
    *("system", "print", "printf", "PAGER", "GIT_", "--adjustment=", "{fd}", "&>", "<<-"),
    *("..", "{", "}", "PAGER\n", "++", "==", "A=", "-n"),
]
SCANNER_TEXT = st.lists(st.sampled_from(SCANNER_PIECES), max_size=12).map("".join)


class _RawWord:
    def __init__(self, raw: str) -> None:
        self.raw = raw
        self.text = raw


@settings(max_examples=500, deadline=None)
@given(SCANNER_TEXT)
def test_scanners_match_the_regexes_they_replaced(s: str) -> None:
    def end(m: re.Match[str] | None, default: int) -> int:
        return m.end() if m else default

    redir = re.compile(
        r"(?:\d+|\{[A-Za-z_][A-Za-z0-9_]*\})?(?:>>|>\||>&|>|<<<|<<-|<<|<>|<&|<)|&>>?"
    )
    for i in range(len(s) + 1):
        assert lexer._redirect_end(s, i) == end(redir.match(s, i), -1)
        assert lexer.name_end(s, i) == end(re.compile(r"[A-Za-z_]\w*", re.A).match(s, i), i)
        sed_number = re.compile(r"[+~]?\d+(?:~\d+)?|\$").match(s, i)
        assert text_tools._sed_number_end(s, i) == end(sed_number, -1)
    glob = re.compile(r"[*?]|\[[^\]]*\]|\{[^{}]*(?:,|\.\.)[^{}]*\}")
    assert lexer._has_pattern(s) == bool(glob.search(s))
    m = re.match(r"([A-Za-z_][A-Za-z0-9_]*)(\[[^\]]*\])?\+?=", s)
    expected = (m.group(1), s.partition("=")[2]) if m else None
    assert walk.split_assignment(_RawWord(s)) == expected  # type: ignore[arg-type]
    assert lexer.arith_assigns(s) == bool(re.search(r"(?<![=!<>])=(?!=)|\+\+|--", s))
    risky = re.compile(
        r"(?:LD_|DYLD_|BASH_FUNC_|GIT_|XDG_|LESS|PYTHON|NODE_|PERL|RUBY|npm_config_|NPM_CONFIG_)"
        r"|.*PAGER$"
    )
    assert walk.risky_env(s) == (s in walk._RISKY_ENV or bool(risky.match(s)))
    pager_plus = re.fullmatch(r"\+(?:\d*[gGF]?|/.*)", "+" + s, re.S)
    assert commands._pager_plus_safe("+" + s) == bool(pager_plus)
    awk_danger = "@" in s or "|&" in s or bool(text_tools._awk_keywords(s, "system"))
    assert awk_danger == bool(re.search(r"\bsystem\b|@|\|&", s))
    assert text_tools._awk_keywords(s, "print") == [m.end() for m in re.finditer(r"\bprintf?\b", s)]


# --- real-ness: the read-only side really does not write -----------------------

needs_tools = pytest.mark.skipif(
    shutil.which("git") is None or shutil.which("bash") is None, reason="needs git and bash"
)


def _git_env(home: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LC_ALL": "C",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.com",
        "GIT_PAGER": "cat",
        "PAGER": "cat",
    }


def _run(repo: Path, env: dict[str, str], *args: str) -> bytes:
    done = subprocess.run(
        args, cwd=repo, env=env, capture_output=True, stdin=subprocess.DEVNULL, timeout=30
    )
    assert done.returncode == 0, (args, done.stderr)
    return done.stdout


def _make_repo(root: Path) -> tuple[Path, dict[str, str]]:
    home = root / "home"
    home.mkdir()
    repo = root / "repo"
    (repo / "src").mkdir(parents=True)
    env = _git_env(home)
    _run(repo, env, "git", "init", "-q", "-b", "main")
    _run(repo, env, "git", "config", "user.name", "Test")
    (repo / "README.md").write_text("# demo\nhello world\nsecond line\n")
    (repo / "src" / "app.py").write_text("print('hello')\n")
    _run(repo, env, "git", "add", "-A")
    _run(repo, env, "git", "commit", "-q", "-m", "first")
    (repo / "src" / "app.py").write_text("print('hello')  # TODO: greet\n")
    _run(repo, env, "git", "commit", "-q", "-am", "second")
    _run(repo, env, "git", "branch", "feature")
    (repo / "notes.txt").write_text("untracked\n")
    return repo, env


def _snapshot(repo: Path, env: dict[str, str]) -> dict[str, bytes]:
    """Every file (with .git, except the index's stat cache) and git's view of it."""
    state: dict[str, bytes] = {}
    for path in sorted(repo.rglob("*")):
        rel = path.relative_to(repo).as_posix()
        if rel == ".git/index":
            continue  # git status may refresh stat data; its content is compared below
        if path.is_symlink():
            state[rel] = b"-> " + os.readlink(path).encode()
        elif path.is_file():
            state[rel] = path.read_bytes()
        else:
            state[rel] = b"<dir>"
    for args in (
        ("status", "--porcelain", "--untracked-files=all"),
        ("for-each-ref",),
        ("rev-parse", "HEAD"),
        ("symbolic-ref", "HEAD"),
        ("ls-files", "--stage"),
        ("stash", "list"),
        ("config", "--local", "--list"),
    ):
        state["git " + " ".join(args)] = _run(repo, env, "git", *args)
    return state


@needs_tools
def test_read_only_commands_really_do_not_write(tmp_path: Path) -> None:
    repo, env = _make_repo(tmp_path)
    before = _snapshot(repo, env)
    for command in REAL_READ_ONLY:
        assert classify_command(command).read_only, command
        _run(repo, env, "bash", "-c", command)
        assert _snapshot(repo, env) == before, command


@needs_tools
@pytest.mark.parametrize("command", REAL_MUTATING)
def test_snapshot_sees_writes(tmp_path: Path, command: str) -> None:
    # The harness above would notice these; the classifier must not call them read-only.
    repo, env = _make_repo(tmp_path)
    (repo / "junk.tmp").write_text("x")
    before = _snapshot(repo, env)
    assert not classify_command(command).read_only
    _run(repo, env, "bash", "-c", command)
    assert _snapshot(repo, env) != before

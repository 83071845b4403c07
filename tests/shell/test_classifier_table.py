"""The proven classifier table: every label is shown by running the command.

Each row of classifier_table.TABLE runs under bash in a fresh copy of one scratch
folder (a git repository with a bare remote, files, HOME and XDG folders inside the
copy, a sane PATH, curl/wget against a server on 127.0.0.1 only).  A snapshot of the
whole copy (every file's bytes and mode, git's index entries) is compared before and
after: a mutating row must change it, a read-only row must run and change nothing.
Then the classifier is held to the labels.
"""

from __future__ import annotations

import functools
import http.server
import os
import shlex
import shutil
import subprocess
import sys
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.shell.classifier_table import KNOWN_FALSE_DENIES, MUTATING, READ_ONLY, TABLE, counts
from worktree_guard.shell.classify import classify_command

pytestmark = pytest.mark.skipif(
    shutil.which("git") is None or shutil.which("bash") is None, reason="needs git and bash"
)

# What npm writes on every run under HOME (its debug logs and update check): npm's
# own bookkeeping outside the working tree, left out of the snapshot.
SNAPSHOT_SKIP = ("home/.npm",)


def _env(root: Path) -> dict[str, str]:
    home = root / "home"
    return {
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin",
                                 "/bin"]),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "TMPDIR": str(root / "tmp"),
        "LC_ALL": "C",
        "TERM": "dumb",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.com",
        "GIT_PAGER": "cat",
        "PAGER": "cat",
    }


def _sh(cwd: Path, env: dict[str, str], command: str) -> None:
    done = subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True,
                          stdin=subprocess.DEVNULL, timeout=120)
    assert done.returncode == 0, (command, done.stderr)


def _build_template(root: Path) -> None:
    for folder in ("home", "tmp", "lk", "tools", "evilhome", "www", "repo/src", "repo/docs"):
        (root / folder).mkdir(parents=True)
    env = _env(root)
    (root / "home" / ".gitconfig").write_text("[user]\n\tname = Test\n\temail = test@example.com\n")
    # A HOME whose git configuration runs a command from `git status`.
    (root / "evilhome" / ".gitconfig").write_text("[core]\n\tfsmonitor = touch p; false\n")
    ls = root / "tools" / "ls"  # a program named ls that writes
    ls.write_text("#!/bin/sh\n: > pwned\n")
    ls.chmod(0o755)
    for n in (1, 2):
        (root / "lk" / f"session-lock-{n}.json").write_text(f'{{"session": "s{n}"}}\n')
    (root / "www" / "served.json").write_text('{"served": true}\n')
    repo = root / "repo"
    files = {
        "README.md": "# demo\nhello world\nsecond line\n",
        "f": "a\nb\nc\n",
        "f.json": '{"b": 1, "a": [1, 2]}\n',
        "log.txt": "error one\nok\nerror two\n",
        "data.csv": "x,2\ny,1\n",
        "main.py": "print('main')\n",
        "setup.py": "print('setup')\n",
        "src/app.py": "print('hello')\n",
        "src/util.py": "VALUE = 1\n",
        "docs/guide.md": "# guide\n",
        "package.json": '{"name": "demo", "version": "1.0.0"}\n',
        "script.sed": "w sedout\n",
    }
    for name, text in files.items():
        (repo / name).write_text(text)
    with tarfile.open(repo / "x.tar", "w") as tar:
        for name in ("README.md", "f"):
            tar.add(repo / name, arcname=name)
    with zipfile.ZipFile(repo / "x.zip", "w") as archive:
        for name in ("README.md", "f"):
            archive.write(repo / name, arcname=name)
    _sh(root, env, "git init -q --bare -b main remote.git")
    _sh(repo, env, " && ".join([
        "git init -q -b main",
        "git add -A",
        "git commit -q -m first",
        "git tag v0.1",
        "git branch feature",
        "git checkout -q feature",
        "echo more >> docs/guide.md",
        "git commit -q -am 'feature work'",
        "git checkout -q main",
        "echo \"print('hello')  # TODO: greet\" > src/app.py",
        "git commit -q -am second",
        "git remote add origin ../remote.git",
        "git push -q -u origin main",
        "git notes add -m 'a note' HEAD",
        "echo stashed >> README.md",
        "git stash -q",
        "git hash-object -w --stdin <<< dangling-blob",
        "echo 'VALUE = 2' > src/util.py",
        "echo untracked > notes.txt",
        "echo junk > junk.tmp",
    ]))
    with (repo / ".git" / "config").open("a") as config:
        config.write("[x]\n\topt = --output=log.out\n")  # an option that writes, as a value


def _snapshot(root: Path, env: dict[str, str]) -> dict[str, object]:
    """Every file and folder under root (bytes and mode) and git's index entries."""
    state: dict[str, object] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        dirnames[:] = [d for d in dirnames if os.path.normpath(os.path.join(rel_dir, d))
                       not in SNAPSHOT_SKIP]
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            rel = os.path.normpath(os.path.join(rel_dir, name))
            if rel == os.path.join("repo", ".git", "index"):
                continue  # git status refreshes its stat cache; entries are compared below
            st = os.lstat(path)
            if os.path.islink(path):
                state[rel] = ("link", os.readlink(path))
            elif os.path.isdir(path):
                state[rel] = ("dir", st.st_mode)
            else:
                state[rel] = ("file", st.st_mode, Path(path).read_bytes())
    repo = root / "repo"
    if (repo / ".git").is_dir():
        # Entries with their modes, object ids and flags (-v: assume-unchanged ...).
        done = subprocess.run(["git", "ls-files", "--stage", "-v"], cwd=repo, env=env,
                              capture_output=True, stdin=subprocess.DEVNULL, timeout=60)
        state["git ls-files --stage -v"] = done.stdout + done.stderr
    return state


def _diff(before: dict[str, object], after: dict[str, object]) -> list[str]:
    keys = sorted(set(before) | set(after))
    return [k for k in keys if before.get(k) != after.get(k)]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("table") / "template"
    _build_template(root)
    return root


@pytest.fixture(scope="module")
def template_state(template: Path) -> dict[str, object]:
    """The snapshot of every fresh copy before its command runs (a copy keeps bytes and modes)."""
    return _snapshot(template, _env(template))


@pytest.fixture(scope="module")
def url(template: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(template / "www"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/served.json"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def shared_copy(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One copy for the read-only rows: they leave it as it was, or it is made again."""
    root = tmp_path_factory.mktemp("shared") / "root"
    shutil.copytree(template, root, symlinks=True)
    return root


def _run_in(root: Path, before: dict[str, object], command: str) -> tuple[list[str], bytes, int]:
    env = _env(root)
    done = subprocess.run(["bash", "-c", command], cwd=root / "repo", env=env,
                          capture_output=True, stdin=subprocess.DEVNULL, timeout=120)
    return _diff(before, _snapshot(root, env)), done.stderr, done.returncode


@pytest.mark.parametrize(("label", "command"), TABLE, ids=[f"{i:03d}" for i in range(len(TABLE))])
def test_label_is_proven_by_running_it(
    template: Path,
    template_state: dict[str, object],
    shared_copy: Path,
    url: str,
    tmp_path: Path,
    label: str,
    command: str,
) -> None:
    # A mutating row gets a fresh copy; read-only rows share one, renewed after a write.
    root = tmp_path / "root" if label == MUTATING else shared_copy
    if label == MUTATING:
        shutil.copytree(template, root, symlinks=True)
    changed, stderr, returncode = _run_in(root, template_state, command.replace("{URL}", url))
    if label == MUTATING or changed:
        shutil.rmtree(root, ignore_errors=True)
        if label == READ_ONLY:
            shutil.copytree(template, root, symlinks=True)
    if label == MUTATING:
        assert changed, (command, stderr)
    else:
        assert not changed, (command, changed, stderr)
        # It really ran: bash found the command and could parse the line.
        assert returncode != 127, (command, stderr)
        assert b"command not found" not in stderr, (command, stderr)
        assert b"syntax error" not in stderr, (command, stderr)


@pytest.mark.parametrize(("label", "command"), TABLE, ids=[f"{i:03d}" for i in range(len(TABLE))])
def test_classifier_follows_the_proven_label(label: str, command: str) -> None:
    verdict = classify_command(command.replace("{URL}", "http://127.0.0.1:8000/served.json"))
    if label == MUTATING:
        assert not verdict.read_only, command  # a miss
    elif command in KNOWN_FALSE_DENIES:
        assert not verdict.read_only, (command, "passes now: take it off KNOWN_FALSE_DENIES")
    else:
        assert verdict.read_only, (command, verdict.reason)  # a false deny


def test_counts() -> None:
    result = counts(classify_command)
    assert result["labelled"] >= 300
    assert result["misses"] == 0
    assert result["false_denies"] == len(KNOWN_FALSE_DENIES)
    assert {label for label, _ in TABLE} == {MUTATING, READ_ONLY}
    commands = [command for _, command in TABLE]
    assert len(commands) == len(set(commands))
    assert set(KNOWN_FALSE_DENIES) <= {c for label, c in TABLE if label == READ_ONLY}


# The commands the issue names, in the concrete form the table runs them.
ISSUE_COMMANDS = [
    "x='a[$(rm -f ../lk/session-lock-*.json)]'; echo $((x))",
    "jobs -x rm f",
    "[[ 'a[$(touch p)]' -eq 0 ]]",
    "test -v 'a[$(touch p)]'",
    "[ -v 'a[$(touch p)]' ]",
    "x='a[$(touch p)]'; echo $((x))",
    "x='a[$(touch p)]'; echo ${!x}",
    "x='a[$(touch p)]'; echo ${y[x]}",
    "x='a[$(touch p)]'; [[ $x -gt 0 ]]",
    "o='a[$(touch p)]'; x=abc; echo ${x:o}",
    "o='a[$(touch p)]'; x=abc; echo ${x:0:o}",
    "read 'a[$(touch p)]' <<< 1",
    "echo \"${x:-'$(touch p)'}\"",
    "x='$(touch p)'; echo \"${x@P}\"",
    "echo ${a['$(touch p)']}",
    "cat <<EOF\nEO\\\nF\ntouch p\n",
    "for PATH in ../tools; do ls; done",
    "select PATH in ../tools; do ls; break; done <<< 1",
    "for HOME in ../evilhome; do git status; done",
    "sed -n ':a;w p' f",
    'while IFS= read -r line; do echo "$line"; done < f',
    "IFS= read -r line < f",
    "git ls-remote origin",
    "git cherry -v",
    "git submodule status",
    "git branch -v feature",
    "git show-branch",
    "git fsck",
    "git notes list",
    "git diff $(git merge-base main HEAD)",
    "git show $(git rev-parse HEAD)",
    'git log --author="$(git config user.name)"',
    'sed -n "${N}p" f',
    "sed -n p *.py",
    "[[ a > b ]]",
    "((1 > 0))",
    "echo x > /dev/fd/1",
    "tar -tf x.tar",
    "unzip -l x.zip",
    "npm ls",
    "python3 -m json.tool f.json",
    "curl -s {URL}",
    "wget -qO- {URL}",
]


def test_every_command_of_the_issue_is_in_the_table() -> None:
    commands = {command for _, command in TABLE}
    assert [c for c in ISSUE_COMMANDS if c not in commands] == []


@pytest.mark.parametrize(
    ("new_file", "extra_env", "command"),
    [
        ("", {}, "git branch -v newb"),
        ("", {"N": "w out;"}, 'sed -n "${N}p" f'),
        ("-i.py", {}, "sed -n p *.py"),
        ("", {}, 'git log -1 "$(git rev-parse --abbrev-ref HEAD)"'),
    ],
)
def test_known_false_denies_write_in_another_setting(
    template: Path, tmp_path: Path, new_file: str, extra_env: dict[str, str], command: str
) -> None:
    # Why each stays denied: the same text writes when the world around it differs.
    root = tmp_path / "root"
    shutil.copytree(template, root, symlinks=True)
    if new_file:
        (root / "repo" / new_file).write_text("")
    env = _env(root)
    if "--abbrev-ref" in command:  # HEAD on a branch named like an option
        _sh(root / "repo", env, "git update-ref refs/heads/--output=out HEAD && "
            "git symbolic-ref HEAD refs/heads/--output=out")
    before = _snapshot(root, env)
    subprocess.run(["bash", "-c", command], cwd=root / "repo", env={**env, **extra_env},
                   capture_output=True, stdin=subprocess.DEVNULL, timeout=120)
    assert _diff(before, _snapshot(root, env))
    assert not classify_command(command).read_only


def test_a_one_megabyte_command_is_classified() -> None:
    # Its cost is measured in bench/run.py; here only that it answers.
    # Too long to read within the hook's deadline, so never read-only; a hook switch in
    # it is still found by the token scan.
    command = "echo " + " ".join(["word"] * 200_000)
    assert len(command) > 1_000_000
    verdict = classify_command(command)
    assert not verdict.read_only
    assert "too long" in verdict.reason
    assert not verdict.disables_git_hooks
    assert classify_command(command + "; git commit --no-verify -m x").disables_git_hooks


def _nest(command: str, levels: int) -> str:
    for _ in range(levels):
        command = "bash -c " + shlex.quote(command)
    return command


def test_nested_strings_count_towards_the_size_cap() -> None:
    inner = "ls; " * 5_000  # 20 000 characters, read again at every level
    assert classify_command(_nest(inner, 2)).read_only  # 60 000 read in all
    verdict = classify_command(_nest(inner, 3))  # 80 000: over the 64 KiB budget
    assert not verdict.read_only
    assert "too long" in verdict.reason
    assert not classify_command("ls; " * 8_200).read_only  # over 32 KiB at the top
    assert classify_command("ls; " * 8_000).read_only


def test_ansi_c_strings_inside_parameter_words_are_read_with_their_escapes() -> None:
    # Unquoted, $'\'' is one quote character, so the $(touch p) after it runs.
    verdict = classify_command("echo ${x:-$'\\''$(touch p)$'\\''}")
    assert not verdict.read_only
    assert "touch" in verdict.reason

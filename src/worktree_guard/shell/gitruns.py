"""Which git subcommands a line runs, read from its one parse, through wrappers (the table
in shell/runners.py) and shell strings; and the branches a line may move or check out.

Pure, like shell/targets.py, which re-exports these names.
"""

from __future__ import annotations

from worktree_guard.lite import system
from worktree_guard.shell.lexer import ParseError
from worktree_guard.shell.parsed import parse_line
from worktree_guard.shell.runners import RUNNERS, runner_of, unwrap

__all__ = ["branches_written", "git_subcommands", "shell_code"]

# Words before the command name that do not change where it runs or what it is.
PREFIX_WORDS = frozenset(
    {"!", "if", "then", "else", "elif", "while", "until", "do", "{", "time", "command",
     "builtin", "exec", "nohup"}
)  # fmt: skip
SHELLS = frozenset({"bash", "sh", "dash", "zsh", "ksh"})


def git_subcommands(command: str) -> list[tuple[str, list[str]]] | None:
    """(subcommand, its arguments) for each git run the line makes, also behind wrappers
    (read by the one table in shell/runners.py) and inside strings given to a shell;
    None when the line cannot be parsed."""
    try:
        parsed = parse_line(command)
    except ParseError:
        return None
    found: list[tuple[str, list[str]]] = []
    for cmd in parsed.commands:
        _git_runs([w.text for w in cmd.words], [w.opaque for w in cmd.words], found)
    return found


def _git_runs(argv: list[str], opaque: list[bool], found: list[tuple[str, list[str]]]
              ) -> None:
    """The git runs of one simple command's words, through wrappers and shell strings."""
    while argv and ((argv[0] in PREFIX_WORDS and runner_of(argv[0]) is None)
                     or _looks_assigned(argv[0])):
        argv, opaque = argv[1:], opaque[1:]
    while argv:
        runner = runner_of(argv[0])
        if runner is None:
            break
        read = unwrap(runner, argv[1:], opaque[1:])
        for inner in read.code:
            found.extend(git_subcommands(inner) or [])
        if read.problem is not None:
            # Options it cannot read: a `git` word from here on may start a run.
            at = next((k for k in range(1, len(argv)) if system.basename(argv[k]) == "git"),
                      len(argv))
            argv, opaque = argv[at:], opaque[at:]
            break
        if read.describes:
            return
        rest = argv[1 + read.start :]
        if runner is RUNNERS["watch"] and not {"-x", "--exec"} & set(read.options):
            found.extend(git_subcommands(" ".join(rest)) or [])  # watch runs `sh -c` of them
            return
        argv, opaque = rest, opaque[1 + read.start :]
    if not argv:
        return
    code = shell_code(argv)
    if code is not None:
        found.extend(git_subcommands(code) or [])
        return
    if system.basename(argv[0]) != "git":
        return
    i = 1
    while i < len(argv) and argv[i].startswith("-"):
        i += 2 if argv[i] in ("-C", "-c", "--git-dir", "--work-tree", "--namespace") else 1
    if i < len(argv):
        found.append((argv[i], argv[i + 1 :]))


def shell_code(argv: list[str]) -> str | None:
    """The code `sh -c CODE` runs, also with `c` in a cluster (`bash -lc CODE`, Codex's
    argv form); None when argv is no shell's, or the shell reads a file or its input."""
    if not argv or system.basename(argv[0]) not in SHELLS:
        return None
    i = 1
    while i < len(argv) and argv[i][:1] in ("-", "+") and argv[i] != "--":
        word = argv[i]
        if word in ("-o", "+o", "-O", "+O"):
            i += 2  # takes the option's name as its value
            continue
        if word.startswith("-") and not word.startswith("--") and "c" in word[1:]:
            return argv[i + 1] if i + 1 < len(argv) else None
        i += 1
    return None


def _looks_assigned(text: str) -> bool:
    name, eq, _ = text.partition("=")
    return bool(eq) and bool(name) and (name[0].isalpha() or name[0] == "_") and all(
        c.isalnum() or c == "_" for c in name)


def branches_written(command: str) -> list[tuple[str, bool]]:
    """`refs/heads/<name>` of every existing branch a line may move or check out a second
    time: update-ref, branch -f/-m/-d, worktree add -B/-f, fetch/push refspecs' right
    sides, checkout --ignore-other-worktrees; with whether it is checked out (a second
    time) rather than moved. (The git hooks refuse the same; this says so first.)"""
    found: list[tuple[str, bool]] = []
    for sub, args in git_subcommands(command) or []:
        operands = [a for a in args if not a.startswith("-")]
        names: list[str] = []
        checkout = False
        if sub == "update-ref" and operands:
            names = [operands[0]] if operands[0].startswith(_HEADS) else []
        elif sub == "branch" and any(a in _BRANCH_FORCING for a in args):
            names = operands
        elif sub == "worktree" and operands[:1] == ["add"]:
            for i, arg in enumerate(args):
                if arg in ("-B",) and i + 1 < len(args):
                    names.append(args[i + 1])
            if "-f" in args or "--force" in args:
                names.extend(operands[2:3])
                checkout = bool(operands[2:3]) and "-B" not in args  # a second checkout
        elif sub in ("fetch", "push"):
            names = [spec.lstrip("+").partition(":")[2] for spec in operands if ":" in spec]
        elif sub in ("checkout", "switch") and "--ignore-other-worktrees" in args:
            names, checkout = operands[:1], True
        for name in names:
            ref = name if name.startswith(_HEADS) else _HEADS + name
            if name and all(ref != seen for seen, _ in found):
                found.append((ref, checkout))
    return found


_HEADS = "refs/heads/"
_BRANCH_FORCING = frozenset({"-f", "--force", "-m", "-M", "--move", "-d", "-D", "--delete",
                             "-c", "-C", "--copy"})

"""Commands that run another command or a shell string: env, time, nice, timeout, stdbuf,
xargs, command, builtin (their options read by the table in shell/runners.py), bash/sh -c,
eval and exec.

The inner command is classified through the accumulator's callbacks (see walk).
"""

from __future__ import annotations

from worktree_guard.shell.git import scan_unknown, unsure
from worktree_guard.shell.runners import RUNNERS, unwrap
from worktree_guard.shell.walk import OPAQUE, check_assignment, risky_env, split_assignment

TYPE_CHECKING = False
if TYPE_CHECKING:
    from worktree_guard.shell.lexer import Word
    from worktree_guard.shell.walk import Acc, Handler


def _run_inner(args: list[Word], i: int, acc: Acc, depth: int) -> str | None:
    """Classify the command a wrapper runs, starting at args[i]."""
    if i < len(args):
        acc.check_argv(args[i:], acc, depth + 1, False)
    return None


def wrapper(name: str) -> Handler:
    """The handler of a wrapper that is read-only when what it runs is (env, time, nice,
    timeout, stdbuf, command, builtin, xargs): its options read by the one table."""
    runner = RUNNERS[name]

    def handle(args: list[Word], acc: Acc, depth: int) -> str | None:
        read = unwrap(runner, [w.text for w in args], [w.opaque for w in args])
        for word in args[: read.start]:
            assignment = split_assignment(word) if runner.assignments else None
            if assignment is not None:
                check_assignment(*assignment, acc)
        if read.problem is not None:
            return unsure(args, acc, depth, read.problem, strings=True)
        if read.describes:
            return None  # `command -v`, `--help`: no command runs
        for option, value in read.values:
            if option == "--process-slot-var" and (risky_env(value) or "$" in value):
                return f"--process-slot-var sets {value}"  # in the command's environment
        if read.code:
            for code in read.code:
                acc.bypass.extend(acc.walk_nested(code, depth).bypass)
            _run_inner(args, read.start, acc.child(), depth)
            return "runs a string it splits into a command"
        if read.writes:
            return f"writes {read.writes[0]!r}"
        if name == "xargs":
            if read.start >= len(args):
                return None  # runs echo
            acc.check_argv(args[read.start :], acc, depth + 1, True)
            return None
        return _run_inner(args, read.start, acc, depth)  # no command: env just prints

    return handle


SHELL_READ_ONLY = frozenset({"bash", "sh", "dash"})


def shell_command(args: list[Word], acc: Acc, depth: int) -> str | None:
    has_c = False
    plain = True  # only -c -e -u -x: no start-up files, no stdin script
    i = 0
    while i < len(args):
        word = args[i]
        text = word.text
        if word.opaque:
            return unsure(args, acc, depth, OPAQUE)
        if text in ("-o", "+o", "-O", "+O", "--rcfile", "--init-file"):
            plain = False
            i += 2
            continue
        if text == "--":
            i += 1
            break
        if len(text) < 2 or text[0] not in "-+":
            break
        if not text.startswith("--"):
            has_c = has_c or "c" in text
            plain = plain and text[0] == "-" and set(text[1:]) <= set("ceux")
        else:
            plain = False
        i += 1
    if not has_c:
        scan_unknown(args[i:], acc, depth)
        return "runs a shell script or an interactive shell"
    if i >= len(args):
        return "-c without a command"
    script = args[i]
    if not script.literal:
        return unsure(args, acc, depth, "the -c command is not a literal")
    inner = acc.walk_nested(script.text, depth)
    acc.bypass.extend(inner.bypass)
    if inner.mutating:
        return inner.mutating[0]
    return None if plain else "shell options may load start-up files"


def strict_shell_command(args: list[Word], acc: Acc, depth: int) -> str | None:
    reason = shell_command(args, acc, depth)
    return reason or "shell reads start-up files"


def eval_builtin(args: list[Word], acc: Acc, depth: int) -> str | None:
    if args and all(w.literal for w in args):
        acc.bypass.extend(acc.walk_nested(" ".join(w.text for w in args), depth).bypass)
    else:
        scan_unknown(args, acc, depth, strings=True)
    return "runs a constructed command"


def exec_builtin(args: list[Word], acc: Acc, depth: int) -> str | None:
    if not args:
        return None  # only redirections, which are checked on their own
    scratch = acc.child()
    acc.check_argv(args, scratch, depth + 1, False)
    acc.bypass.extend(scratch.bypass)
    return "replaces the shell with another program"

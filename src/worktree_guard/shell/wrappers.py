"""Commands that run another command or a shell string: env, time, nice, timeout, stdbuf,
xargs, command, builtin, bash/sh -c, eval and exec.

The inner command is classified through the accumulator's callbacks (see walk).
"""

from __future__ import annotations

from worktree_guard.shell.git import _scan_unknown, _unsure
from worktree_guard.shell.walk import _OPAQUE, _assignment, _check_assignment, _risky_env

TYPE_CHECKING = False
if TYPE_CHECKING:
    from worktree_guard.shell.lexer import _Word
    from worktree_guard.shell.walk import _Acc


def _run_inner(args: list[_Word], i: int, acc: _Acc, depth: int) -> str | None:
    """Classify the command a wrapper runs, starting at args[i]."""
    if i < len(args):
        acc.check_argv(args[i:], acc, depth + 1, False)
    return None


def _env(args: list[_Word], acc: _Acc, depth: int) -> str | None:
    i = 0
    while i < len(args):
        word = args[i]
        text = word.text
        if word.opaque:
            return _unsure(args[i:], acc, depth, _OPAQUE)
        if text in ("-i", "--ignore-environment", "-0", "--null", "-", "-v", "--debug"):
            i += 1
        elif text in ("-u", "--unset", "-C", "--chdir"):
            i += 2
        elif text.startswith(("--unset=", "--chdir=", "-u", "-C")):
            i += 1
        elif text == "--":
            i += 1
            break
        elif text.startswith("-"):  # -S splits a string into a command line
            return _unsure(args[i:], acc, depth, f"option {text} is not understood", True)
        else:
            assignment = _assignment(word)
            if assignment is None:
                break
            _check_assignment(*assignment, acc)
            i += 1
    return _run_inner(args, i, acc, depth)  # no command: env just prints


def _command(args: list[_Word], acc: _Acc, depth: int) -> str | None:
    i = 0
    while i < len(args) and args[i].literal and args[i].text in ("-p", "-v", "-V", "-pv", "-pV"):
        if "v" in args[i].text.lower():
            return None  # only describes the command
        i += 1
    return _run_inner(args, i, acc, depth)


def _builtin(args: list[_Word], acc: _Acc, depth: int) -> str | None:
    return _run_inner(args, 0, acc, depth)


def _time(args: list[_Word], acc: _Acc, depth: int) -> str | None:
    i = 0
    while i < len(args):
        text = args[i].text
        if args[i].opaque:
            return _unsure(args[i:], acc, depth, _OPAQUE)
        if text in ("-p", "-v", "--verbose", "--portability", "-q", "--quiet"):
            i += 1
        elif text in ("-f", "--format"):
            i += 2
        elif text.startswith("--format="):
            i += 1
        elif text == "--":
            i += 1
            break
        elif text.startswith("-"):
            return _unsure(args[i:], acc, depth, f"option {text} may write a file")
        else:
            break
    return _run_inner(args, i, acc, depth)


def _nice_opt(text: str) -> bool:
    """-N, -nN, --N, -n-N or --adjustment=[-]N: an adjustment with its value attached."""
    if text.startswith("--adjustment="):
        rest = text[len("--adjustment=") :]
    elif text.startswith("-"):
        rest = text[1:]
        if rest.startswith("n"):
            rest = rest[1:]
    else:
        return False
    if rest.startswith("-"):
        rest = rest[1:]
    return rest.isdecimal()


def _nice(args: list[_Word], acc: _Acc, depth: int) -> str | None:
    i = 0
    while i < len(args):
        text = args[i].text
        if args[i].opaque:
            return _unsure(args[i:], acc, depth, _OPAQUE)
        if text in ("-n", "--adjustment"):
            i += 2
        elif _nice_opt(text):
            i += 1
        elif text == "--":
            i += 1
            break
        elif text.startswith("-"):
            return _unsure(args[i:], acc, depth, f"option {text} is not understood")
        else:
            break
    return _run_inner(args, i, acc, depth)


def _timeout(args: list[_Word], acc: _Acc, depth: int) -> str | None:
    i = 0
    while i < len(args):
        text = args[i].text
        if args[i].opaque:
            return _unsure(args[i:], acc, depth, _OPAQUE)
        if text in ("-s", "--signal", "-k", "--kill-after"):
            i += 2
        elif text.startswith(("--signal=", "--kill-after=", "-s", "-k")) or text in (
            "--preserve-status", "--foreground", "-v", "--verbose",
        ):  # fmt: skip
            i += 1
        elif text == "--":
            i += 1
            break
        elif text.startswith("-"):
            return _unsure(args[i:], acc, depth, f"option {text} is not understood")
        else:
            break
    return _run_inner(args, i + 1, acc, depth)  # args[i] is the duration


def _stdbuf(args: list[_Word], acc: _Acc, depth: int) -> str | None:
    i = 0
    while i < len(args):
        text = args[i].text
        if args[i].opaque:
            return _unsure(args[i:], acc, depth, _OPAQUE)
        if text in ("-i", "-o", "-e"):
            i += 2
        elif text.startswith(("-i", "-o", "-e", "--input=", "--output=", "--error=")):
            i += 1
        elif text == "--":
            i += 1
            break
        elif text.startswith("-"):
            return _unsure(args[i:], acc, depth, f"option {text} is not understood")
        else:
            break
    return _run_inner(args, i, acc, depth)


_XARGS_LONG_VALUES = frozenset(
    {"--arg-file", "--delimiter", "--eof", "--replace", "--max-lines", "--max-args",
     "--max-procs", "--max-chars", "--process-slot-var"}
)  # fmt: skip
_XARGS_LONG_FLAGS = frozenset(
    {"--null", "--no-run-if-empty", "--verbose", "--exit", "--interactive", "--open-tty",
     "--show-limits"}
)  # fmt: skip


def _xargs(args: list[_Word], acc: _Acc, depth: int) -> str | None:
    i = 0
    while i < len(args):
        word = args[i]
        text = word.text
        if word.opaque:
            return _unsure(args[i:], acc, depth, _OPAQUE)
        if text == "--":
            i += 1
            break
        if not text.startswith("-") or text == "-":
            break
        i += 1
        if text.startswith("--"):
            name, eq, value = text.partition("=")
            if name == "--process-slot-var":
                # xargs sets this variable in the command's environment.
                value = value if eq else (args[i].text if i < len(args) else "PATH")
                if not word.literal or _risky_env(value):
                    return f"--process-slot-var sets {value}"
            if name in _XARGS_LONG_VALUES:
                i += 0 if eq else 1
            elif name not in _XARGS_LONG_FLAGS and not name.startswith(("--eof", "--replace")):
                return _unsure(args[i:], acc, depth, f"option {name} is not understood")
            continue
        for j in range(1, len(text)):
            letter = text[j]
            if letter in "adELnPsI":  # value attached or in the next word
                i += 0 if j < len(text) - 1 else 1
                break
            if letter in "eil":  # optional value, attached only
                break
            if letter not in "0oprtx":
                return _unsure(args[i:], acc, depth, f"option -{letter} is not understood")
    if i >= len(args):
        return None  # runs echo
    acc.check_argv(args[i:], acc, depth + 1, True)
    return None


_SHELL_READ_ONLY = frozenset({"bash", "sh", "dash"})


def _shell(args: list[_Word], acc: _Acc, depth: int) -> str | None:
    has_c = False
    plain = True  # only -c -e -u -x: no start-up files, no stdin script
    i = 0
    while i < len(args):
        word = args[i]
        text = word.text
        if word.opaque:
            return _unsure(args, acc, depth, _OPAQUE)
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
        _scan_unknown(args[i:], acc, depth)
        return "runs a shell script or an interactive shell"
    if i >= len(args):
        return "-c without a command"
    script = args[i]
    if not script.literal:
        return _unsure(args, acc, depth, "the -c command is not a literal")
    inner = acc.walk_nested(script.text, depth)
    acc.bypass.extend(inner.bypass)
    if inner.mutating:
        return inner.mutating[0]
    return None if plain else "shell options may load start-up files"


def _shell_strict(args: list[_Word], acc: _Acc, depth: int) -> str | None:
    reason = _shell(args, acc, depth)
    return reason or "shell reads start-up files"


def _eval(args: list[_Word], acc: _Acc, depth: int) -> str | None:
    if args and all(w.literal for w in args):
        acc.bypass.extend(acc.walk_nested(" ".join(w.text for w in args), depth).bypass)
    else:
        _scan_unknown(args, acc, depth, strings=True)
    return "runs a constructed command"


def _exec(args: list[_Word], acc: _Acc, depth: int) -> str | None:
    if not args:
        return None  # only redirections, which are checked on their own
    scratch = acc.child()
    acc.check_argv(args, scratch, depth + 1, False)
    acc.bypass.extend(scratch.bypass)
    return "replaces the shell with another program"

"""Per-command read-only rules: the name tables, the plain commands, and the registry
``HANDLERS`` mapping a command name to its handler (from this and the other rule modules).
"""

from __future__ import annotations

from worktree_guard.shell.bashtext import arith_literal
from worktree_guard.shell.git import git, scan_unknown, unsure
from worktree_guard.shell.lexer import name_end
from worktree_guard.shell.state import STATE_HANDLERS
from worktree_guard.shell.text_tools import awk, find, sed
from worktree_guard.shell.tools import TOOL_HANDLERS
from worktree_guard.shell.walk import (
    OPAQUE,
    check_assignment,
    long_hit,
    risky_env,
    scan_opts,
    split_assignment,
)
from worktree_guard.shell.wrappers import (
    SHELL_READ_ONLY,
    eval_builtin,
    exec_builtin,
    shell_command,
    strict_shell_command,
    wrapper,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from worktree_guard.shell.lexer import Word
    from worktree_guard.shell.walk import Acc, Handler

# Read-only whatever their arguments: safe even with arguments from xargs.
ARG_FREE = frozenset(
    {"ls", "cat", "head", "tail", "wc", "grep", "egrep", "fgrep", "pwd", "echo", "which",
     "whereis", "type", "stat", "du", "df", "diff", "cmp", "cut", "tr", "nl", "basename",
     "dirname", "realpath", "readlink", "whoami", "id", "uname", "printenv", "true", "false",
     ":", "cd", "pushd", "popd", "dirs", "jq", "comm", "paste", "join",
     "fold", "fmt", "tac", "rev", "expand", "unexpand", "od", "hexdump", "strings", "md5sum",
     "sha1sum", "sha224sum", "sha256sum", "sha384sum", "sha512sum", "b2sum", "cksum", "base64",
     "seq", "expr", "sleep", "nproc", "arch", "uptime", "free", "groups", "locale", "getconf",
     "tty", "logname", "ps", "pgrep", "column", "numfmt", "exit", "return", "shift", "wait",
     "break", "continue"}
)  # fmt: skip
# Reserved words that only introduce or close a compound command.
KEYWORDS = frozenset(
    {"!", "if", "then", "elif", "else", "do", "while", "until", "{", "}", "fi", "done"}
)
LOOP_HEADERS = frozenset({"for", "select"})  # handled by _loop_header
# Commands that run a string argument as shell code (locally or remotely).
STRING_RUNNERS = frozenset({"watch", "ssh", "su", "runuser", "script", "tmux", "screen"})


# --- plain commands ----------------------------------------------------------


def _sort(args: list[Word], acc: Acc, depth: int) -> str | None:
    parsed = scan_opts(args, "ktoST", _SORT_LONG_VALUES)
    if parsed is None:
        return OPAQUE
    opts = parsed[0]
    if "-o" in opts or long_hit(opts, ("--output", "--compress-program")):
        return "-o/--compress-program write a file or run a program"
    return None


_SORT_LONG_VALUES = frozenset(
    {"--key", "--field-separator", "--output", "--buffer-size", "--temporary-directory",
     "--compress-program", "--files0-from", "--parallel", "--batch-size", "--sort",
     "--random-source"}
)  # fmt: skip


def _uniq(args: list[Word], acc: Acc, depth: int) -> str | None:
    parsed = scan_opts(args, "fsw", frozenset({"--skip-fields", "--skip-chars", "--check-chars"}))
    if parsed is None:
        return OPAQUE
    if len(parsed[1]) > 1:
        return "a second file operand is written as output"
    return None


def _date(args: list[Word], acc: Acc, depth: int) -> str | None:
    parsed = scan_opts(args, "dfr", frozenset({"--date", "--file", "--reference"}), "I")
    if parsed is None:
        return OPAQUE
    opts, operands = parsed
    if "-s" in opts or long_hit(opts, ("--set",)):
        return "sets the clock"
    if any(not w.text.startswith("+") for w in operands):
        return "a time operand sets the clock"
    return None


def _tree(args: list[Word], acc: Acc, depth: int) -> str | None:
    parsed = scan_opts(args, "LPIoHT", frozenset({"--charset", "--filelimit", "--timefmt"}))
    if parsed is None:
        return OPAQUE
    if "-o" in parsed[0] or "-R" in parsed[0]:
        return "-o/-R write files"
    return None


def _file(args: list[Word], acc: Acc, depth: int) -> str | None:
    long_values = frozenset({"--exclude", "--magic-file", "--files-from", "--separator"})
    parsed = scan_opts(args, "emfFP", long_values)
    if parsed is None:
        return OPAQUE
    if "-C" in parsed[0] or long_hit(parsed[0], ("--compile",)):
        return "-C compiles a magic file"
    return None


_PAGER_LETTERS = frozenset("NRSrFXiIMmEeQqcfswgGJKdlpu0123456789")
_PAGER_LONG = frozenset(
    {"--", "--RAW-CONTROL-CHARS", "--raw-control-chars", "--chop-long-lines", "--no-init",
     "--quit-if-one-screen", "--ignore-case", "--IGNORE-CASE", "--LINE-NUMBERS",
     "--line-numbers", "--quiet", "--silent", "--squeeze-blank-lines", "--squeeze"}
)  # fmt: skip


def _pager_plus_safe(text: str) -> bool:
    """+N, +Ng, +G, +F (go to a line or follow) or +/pattern; other +cmds run commands."""
    rest = text[1:]
    if rest.startswith("/"):
        return True
    if rest[-1:] in ("g", "G", "F"):
        rest = rest[:-1]
    return not rest or rest.isdecimal()


def _pager(args: list[Word], acc: Acc, depth: int) -> str | None:
    # less can log to files (-o) and run start-up commands (+cmd), so allow-list.
    for word in args:
        text = word.text
        if word.opaque:
            return OPAQUE
        if text.startswith("+"):
            if not _pager_plus_safe(text):
                return f"start-up command {text}"
        elif text.startswith("--"):
            if text not in _PAGER_LONG:
                return f"option {text} is not known to be safe"
        elif text.startswith("-") and len(text) > 1 and not set(text[1:]) <= _PAGER_LETTERS:
            return f"option {text} is not known to be safe"
    return None


def _rg(args: list[Word], acc: Acc, depth: int) -> str | None:
    parsed = scan_opts(args, "ABCefgjmMtTrdE", _RG_LONG_VALUES)
    if parsed is None:
        return OPAQUE
    if "--pre" in parsed[0]:
        return "--pre runs a preprocessor command"
    return None


_RG_LONG_VALUES = frozenset(
    {"--after-context", "--before-context", "--context", "--regexp", "--file", "--glob",
     "--iglob", "--threads", "--max-count", "--max-columns", "--type", "--type-not",
     "--replace", "--max-depth", "--encoding", "--type-add", "--pre-glob", "--sort",
     "--sortr", "--colors", "--color", "--engine", "--max-filesize", "--path-separator"}
)  # fmt: skip


def _ag(args: list[Word], acc: Acc, depth: int) -> str | None:
    parsed = scan_opts(args, "ABCGgm", frozenset({"--after", "--before", "--context"}))
    if parsed is None:
        return OPAQUE
    if "--pager" in parsed[0]:
        return "--pager runs a command"
    return None


def _fd(args: list[Word], acc: Acc, depth: int) -> str | None:
    parsed = scan_opts(args, "edtESjco", frozenset({"--extension", "--type", "--exclude"}))
    if parsed is None:
        return OPAQUE
    opts = parsed[0]
    if {"-x", "-X", "--exec", "--exec-batch"} & set(opts):
        return "-x/--exec runs commands"
    return None


def _yq(args: list[Word], acc: Acc, depth: int) -> str | None:
    parsed = scan_opts(args, "opI", frozenset({"--output-format", "--input-format"}))
    if parsed is None:
        return OPAQUE
    opts = parsed[0]
    if {"-i", "-s"} & set(opts) or long_hit(opts, ("--inplace", "--in-place", "--split-exp")):
        return "-i/-s write files"
    return None


def _set(args: list[Word], acc: Acc, depth: int) -> str | None:
    # set -k puts every NAME=value argument into the command's environment, so
    # `git log GIT_PAGER=cmd` would run cmd; the other options only affect the shell.
    for word in args:
        text = word.text
        if text in ("--", "-") and word.literal:
            return None  # the rest only sets positional parameters
        if word.opaque or text == "keyword":
            return "set -k/-o keyword or unclear arguments"
        if text[:1] in "-+" and "k" in text[1:]:
            return "set -k exports assignment arguments"
    return None


def _read(args: list[Word], acc: Acc, depth: int) -> str | None:
    # read only assigns shell variables, which matters for risky names, and for
    # subscripts: `read 'a[$(cmd)]'` evaluates the subscript and runs cmd.
    parsed = scan_opts(args, "adinNptu")
    if parsed is None:
        return OPAQUE
    names = list(parsed[1])
    for i, word in enumerate(args[:-1]):
        if word.text == "-a" or (word.text.startswith("-") and word.text.endswith("a")):
            names.append(args[i + 1])
    return _variable_names_problem(names, "assigns")


def _variable_names_problem(names: list[Word], verb: str) -> str | None:
    """Why assigning these shell variables is not harmless (None when it is)."""
    for word in names:
        if not word.literal or name_end(word.text, 0) != len(word.text):
            return f"{verb} {word.text!r}, which is not a plain variable name"
        if risky_env(word.text):
            return f"{verb} {word.text}, which can change what runs"
    return None


def _loop_header(args: list[Word], acc: Acc, depth: int) -> str | None:
    """`for NAME in WORDS` / `select NAME in WORDS`: the loop assigns NAME."""
    if not args:
        return "a loop without a variable"
    if len(args) > 1 and args[1].literal and args[1].text == "do":
        acc.check_argv(args[1:], acc, depth + 1, False)  # `for x do cmd; done`
    return _variable_names_problem(args[:1], "the loop assigns")


def _jobs(args: list[Word], acc: Acc, depth: int) -> str | None:
    # jobs -x CMD ARGS runs CMD; the other options only list jobs.
    for word in args:
        if word.opaque or not word.literal:
            return OPAQUE
        if word.text.startswith("-") and not set(word.text[1:]) <= set("lnprs"):
            return f"option {word.text} may run a command"
    return None


_ARITH_TESTS = frozenset({"-eq", "-ne", "-lt", "-le", "-gt", "-ge"})


def _double_bracket(args: list[Word], acc: Acc, depth: int) -> str | None:
    # [[ ]] evaluates both sides of -eq ... -ge as arithmetic, and -v evaluates a
    # subscript: `[[ $x -gt 0 ]]` with x='a[$(cmd)]' runs cmd.
    for i, word in enumerate(args):
        if not word.literal:
            continue
        if word.text in _ARITH_TESTS:
            for side in (args[i - 1] if i else None, args[i + 1] if i + 1 < len(args) else None):
                if side is None or not side.literal or not arith_literal(side.text):
                    return f"{word.text} evaluates an operand as arithmetic"
        elif word.text == "-v":
            name = args[i + 1] if i + 1 < len(args) else None
            if name is None or not name.literal or "[" in name.text:
                return "-v evaluates a subscript"
    return None


def _test(args: list[Word], acc: Acc, depth: int) -> str | None:
    # test / [ do no arithmetic, but -v NAME evaluates a subscript in NAME. A word
    # that expands (`"$op"`) could be -v; one that splits could be both words.
    if args and args[-1].literal and args[-1].text == "]":
        args = args[:-1]
    for i, word in enumerate(args):
        if word.split:
            return "an unquoted expansion could become -v with a subscript"
        could_be_v = not word.literal or word.text == "-v"
        if could_be_v and i + 1 < len(args):
            operand = args[i + 1]
            if not operand.literal or "[" in operand.text:
                return "-v may evaluate a subscript"
    return None


_HOSTNAME_OPTS = frozenset(
    {"-f", "-s", "-i", "-I", "-d", "-A", "-a", "--fqdn", "--long", "--short",
     "--ip-address", "--all-ip-addresses", "--domain", "--all-fqdns", "--alias"}
)  # fmt: skip


def _hostname(args: list[Word], acc: Acc, depth: int) -> str | None:
    if all(w.literal and w.text in _HOSTNAME_OPTS for w in args):
        return None
    return "may set the host name"


def _export(args: list[Word], acc: Acc, depth: int) -> str | None:
    for word in args:
        if word.literal and word.text in ("-p", "--"):
            continue
        if word.opaque or word.text.startswith("-"):
            return unsure(args, acc, depth, "unclear export arguments")
        assignment = split_assignment(word)
        if assignment is not None:
            check_assignment(*assignment, acc)
        elif risky_env(word.text):
            return f"exports {word.text}, which can change what runs"
    return None


_VERSION_ARGS: dict[str, frozenset[str]] = {
    name: frozenset(flags.split())
    for names, flags in (
        ("node pnpm yarn", "--version -v"),
        ("go", "version"),
        ("cargo rustc gcc g++ clang make cmake uv pip pip3 ruff mypy", "--version"),
    )
    for name in names.split()
}


def _make_version_handler(name: str) -> Handler:
    allowed = _VERSION_ARGS[name]

    def handler(args: list[Word], acc: Acc, depth: int) -> str | None:
        if len(args) == 1 and args[0].literal and args[0].text in allowed:
            return None
        scan_unknown(args, acc, depth)
        return "can run arbitrary code"

    return handler


HANDLERS: dict[str, Handler] = {
    "git": git,
    "find": find,
    "sed": sed,
    **dict.fromkeys(("awk", "gawk", "mawk", "nawk"), awk),
    "xargs": wrapper("xargs"),
    "env": wrapper("env"),
    "time": wrapper("time"),
    "command": wrapper("command"),
    "builtin": wrapper("builtin"),
    "nice": wrapper("nice"),
    "timeout": wrapper("timeout"),
    "stdbuf": wrapper("stdbuf"),
    "sort": _sort,
    "uniq": _uniq,
    "date": _date,
    "tree": _tree,
    "file": _file,
    "less": _pager,
    "more": _pager,
    "rg": _rg,
    "ag": _ag,
    "fd": _fd,
    "fdfind": _fd,
    "yq": _yq,
    "set": _set,
    "read": _read,
    "jobs": _jobs,
    "[[": _double_bracket,
    "test": _test,
    "[": _test,
    "for": _loop_header,
    "select": _loop_header,
    **TOOL_HANDLERS,
    **STATE_HANDLERS,
    "hostname": _hostname,
    "export": _export,
    **dict.fromkeys(SHELL_READ_ONLY, shell_command),
    **dict.fromkeys(("zsh", "ksh"), strict_shell_command),
    "eval": eval_builtin,
    "exec": exec_builtin,
    **{name: _make_version_handler(name) for name in _VERSION_ARGS},
}

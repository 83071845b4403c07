"""Builtins that change only the shell's own state, and print-only forms of writing tools.

`let`, `printf -v`, `mapfile`/`readarray` and `shopt` write no file: they are read-only
when the variable they set is a plain, harmless name (not PATH, IFS, a subscript that
bash evaluates ...) and what they evaluate is only numbers. `gzip -c`, `patch --dry-run`
write nothing either, when every option is one known not to write.
"""

from __future__ import annotations

from worktree_guard.shell.bashtext import arith_literal
from worktree_guard.shell.lexer import name_end
from worktree_guard.shell.walk import OPAQUE, risky_env, scan_opts

TYPE_CHECKING = False
if TYPE_CHECKING:
    from worktree_guard.shell.lexer import Word
    from worktree_guard.shell.walk import Acc, Handler


def _plain_name(text: str) -> bool:
    """A variable name that changes nothing but itself (no subscript, not a risky one)."""
    return bool(text) and name_end(text, 0) == len(text) and not risky_env(text)


def _let(args: list[Word], acc: Acc, depth: int) -> str | None:
    if not args:
        return "let without an expression"
    for word in args:
        if not word.literal:
            return OPAQUE
        name, eq, value = word.text.partition("=")
        if eq and not value.startswith("=") and name[-1:] not in "!<>":
            if not _plain_name(name):
                return f"let assigns {name!r}"
            if not arith_literal(value):
                return "let evaluates a name or an expansion"
        elif not arith_literal(word.text):
            return "let evaluates a name or an expansion"
    return None


def _printf(args: list[Word], acc: Acc, depth: int) -> str | None:
    """printf prints, or with -v NAME sets a plain variable."""
    if not args:
        return None
    first = args[0]
    if first.opaque:
        return "-v assigns a shell variable"
    if not first.text.startswith("-v"):
        return None
    name = first.text[2:] or (args[1].text if len(args) > 1 and args[1].literal else "")
    if not _plain_name(name):
        return "-v assigns a shell variable"
    return None


_MAPFILE_VALUES = "dnOsu"  # delimiter, count, origin, skip, file descriptor


def _mapfile(args: list[Word], acc: Acc, depth: int) -> str | None:
    parsed = scan_opts(args, _MAPFILE_VALUES + "Cc")
    if parsed is None:
        return OPAQUE
    opts, operands = parsed
    # Not -C (a callback it runs for every line, with -c its quantum): only these.
    unknown = [o for o in opts if o[1:] not in _MAPFILE_VALUES + "t"]
    if unknown:
        return f"option {unknown[0]} is not understood"
    if len(operands) > 1 or (operands and not _plain_name(operands[0].text)):
        return "assigns a variable that is not a plain name"
    return None


# shopt options that change only how globs and patterns match (the classifier treats a
# glob as unknown anyway); others change what later commands do (expand_aliases, xpg_echo).
_SHOPT_GLOBS = frozenset({"globstar", "nullglob", "dotglob", "nocaseglob", "failglob",
                          "nocasematch", "globasciiranges"})


def _shopt(args: list[Word], acc: Acc, depth: int) -> str | None:
    setting = False
    for word in args:
        if not word.literal:
            return OPAQUE
        if word.text in ("-s", "-u"):
            setting = True
        elif word.text in ("-p", "-q"):
            continue
        elif word.text.startswith("-"):
            return f"option {word.text} is not understood"
        elif setting and word.text not in _SHOPT_GLOBS:
            return f"shopt {word.text} changes what later commands do"
    return None


# gzip and friends: these options write no file when the output is stdout (-c).
_GZIP_FLAGS = frozenset("cdfhklLnNqrtvV123456789")
_GZIP_LONG = frozenset({"--stdout", "--to-stdout", "--decompress", "--uncompress", "--force",
                        "--keep", "--list", "--quiet", "--recursive", "--test", "--verbose",
                        "--fast", "--best", "--no-name", "--name", "--help", "--version"})
_GZIP_PRINT_ONLY = frozenset({"-c", "-l", "-t", "-h", "-V", "-L", "--stdout",
                              "--to-stdout", "--list", "--test", "--help", "--version"})


def _gzip(args: list[Word], acc: Acc, depth: int) -> str | None:
    parsed = scan_opts(args, "S", frozenset({"--suffix"}))
    if parsed is None:
        return OPAQUE
    opts = parsed[0]
    for opt in opts:
        if opt.startswith("--") and opt not in _GZIP_LONG | {"--suffix"}:
            return f"option {opt} is not understood"
        if not opt.startswith("--") and opt[1:] not in _GZIP_FLAGS | {"S"}:
            return f"option {opt} is not understood"
    if not _GZIP_PRINT_ONLY & set(opts):
        return "compresses or decompresses files in place (no -c)"
    return None


_PATCH_FLAGS = frozenset({"-R", "--reverse", "-N", "--forward", "-s", "--silent", "--quiet",
                          "-t", "--batch", "-f", "--force", "-l", "--ignore-whitespace",
                          "-u", "--unified", "-c", "--context", "-n", "--normal", "--verbose",
                          "--binary", "--dry-run", "-E", "--remove-empty-files"})
_PATCH_VALUES = frozenset({"-p", "--strip", "-i", "--input", "-F", "--fuzz", "-d",
                           "--directory"})


def _patch(args: list[Word], acc: Acc, depth: int) -> str | None:
    """Only `patch --dry-run` with options that read (no -o, -r, -b, --merge ...)."""
    parsed = scan_opts(args, "piFd", frozenset({"--strip", "--input", "--fuzz",
                                                "--directory"}))
    if parsed is None:
        return OPAQUE
    opts = parsed[0]
    if "--dry-run" not in opts:
        return "patches files (no --dry-run)"
    for opt in opts:
        if opt not in _PATCH_FLAGS and opt not in _PATCH_VALUES:
            return f"option {opt} is not known to write nothing"
    return None


STATE_HANDLERS: dict[str, Handler] = {
    "let": _let,
    "printf": _printf,
    "mapfile": _mapfile,
    "readarray": _mapfile,
    "shopt": _shopt,
    **dict.fromkeys(("gzip", "gunzip"), _gzip),
    "patch": _patch,
}

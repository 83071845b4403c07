"""Small scanners over bash text that the lexer needs, kept apart to keep it short.

Arithmetic that is only numbers, the lines that close a heredoc, and the
substitutions whose output is only object names.  Standard library only, no `re`.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from worktree_guard.shell.lexer import Simple

_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_0123456789")
_ARITH_OPERATORS = frozenset(" \t\n+-*/%<>=!&|^~?:(),")
_DIGITS = frozenset("0123456789")
_NUMBER_CHARS = _NAME_CHARS | frozenset("#@")


def arith_literal(body: str) -> bool:
    """Whether an arithmetic expression is only numbers (0x1F, 2#101 ...) and operators.

    Anything else names a variable (whose value bash evaluates as arithmetic in turn,
    subscripts and their substitutions included) or expands text.
    """
    i, n = 0, len(body)
    while i < n:
        c = body[i]
        if c in _ARITH_OPERATORS:
            i += 1
        elif c in _DIGITS:
            while i < n and body[i] in _NUMBER_CHARS:
                i += 1
        else:
            return False
    return True


def arith_assigns(body: str) -> bool:
    """Whether an arithmetic expression has =, ++ or -- (not ==, !=, <=, >=)."""
    if "++" in body or "--" in body:
        return True
    i = body.find("=")
    while i >= 0:
        if (i == 0 or body[i - 1] not in "=!<>") and not body.startswith("=", i + 1):
            return True
        i = body.find("=", i + 1)
    return False


def _odd_backslashes(line: str) -> bool:
    """Whether a line ends in an unescaped backslash (a line continuation)."""
    count = len(line) - len(line.rstrip("\\"))
    return count % 2 == 1


def heredoc_close(src: str, pos: int, delimiter: str, strip_tabs: bool, joined: bool) -> int:
    """Index after the delimiter line starting at pos, or -1 when it does not close.

    With joined, lines ending in a backslash are also tried joined with the lines
    after them, the way bash reads an unquoted body.
    """
    n = len(src)
    logical = ""
    while True:
        newline = src.find("\n", pos)
        line_end = n if newline < 0 else newline
        line = src[pos:line_end]
        after = n if newline < 0 else newline + 1
        if not logical:
            candidate = line.lstrip("\t") if strip_tabs else line
            if candidate == delimiter:
                return after
        if not joined or not _odd_backslashes(line) or newline < 0:
            if logical:
                whole = logical + line
                if (whole.lstrip("\t") if strip_tabs else whole) == delimiter:
                    return after
            return -1
        logical += line[:-1]
        pos = after


def prints_object_names(cmd: Simple) -> bool:
    """`git rev-parse REV...` / `git merge-base A B`: prints object names only.

    Such a substitution expands to words that cannot be options or globs.  An
    argument rev-parse cannot resolve is echoed as given, so every argument must be a
    plain word that is not an option either.
    """
    words = cmd.words
    if cmd.redirects or len(words) < 3 or words[0].text != "git":
        return False
    if not all(w.literal for w in words):
        return False
    flags = _OBJECT_NAME_FLAGS.get(words[1].text)
    if flags is None:
        return False
    operands = 0
    for word in words[2:]:
        text = word.text
        if text in flags or (text.startswith("--short=") and text[8:].isdecimal()):
            continue
        if not text or text[0] == "-" or any(c in text for c in " \t\n*?[\\"):
            return False
        operands += 1
    return operands > 0


_OBJECT_NAME_FLAGS = {
    # --symbolic-full-name prints refs/heads/<name> (never an option); --abbrev-ref does
    # not qualify: a branch may be named `--output=x`.
    "rev-parse": frozenset({"--verify", "-q", "--quiet", "--short", "--symbolic-full-name"}),
    "merge-base": frozenset({"--all", "--octopus", "--independent", "--fork-point"}),
}

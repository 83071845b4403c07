"""Conservative classification of Bash tool commands.

Runs on every PreToolUse hook call, as a fresh process each time, so it is
standard library only, made of plain functions and cheap to import: it imports
nothing at all at load time.  In particular the lexer and the common checks are
hand-written scanners rather than regular expressions, because ``import re``
(which pulls in enum, functools, collections ...) plus compiling the patterns
cost about half an interpreter start on every Bash call.  The few patterns for
rare constructs ($'...' strings, the unparsable-line scan) are compiled lazily,
so ``re`` is imported only when such a command is classified.

Two questions are answered for a whole command line:

* ``read_only``: is every simple command in the line, including those inside
  command substitutions, process substitutions, heredoc bodies and ``bash -c``
  strings, on the read-only allow-list with read-only arguments, and is there no
  output redirection to a real file?  Anything the classifier does not fully
  understand counts as mutating.
* ``disables_git_hooks``: does anything in the line switch git hooks off
  (``--no-verify``, ``git commit -n``, ``core.hooksPath`` overrides)?  This is
  looked for everywhere, including inside nested shells, wrappers and
  substitutions, and best effort even when the line cannot be parsed.

The lexer is a small model of bash rather than :mod:`shlex`, because the
classifier needs the operator, redirection, heredoc and substitution structure
that shlex does not expose.  Syntax it does not model (``case``, arrays,
function definitions, ``$[ ]`` ...) raises ``_ParseError``; a line that cannot be
parsed is never read-only.

Decisions for unclear cases:

* An empty or whitespace-only command is read-only (it does nothing).
* ``$(...)``, backticks, ``<(...)``, ``>(...)`` and unquoted heredoc bodies are
  classified recursively: they are read-only when the inner commands are.
* ``bash -c`` / ``sh -c`` / ``dash -c`` strings are classified recursively
  (only with the options -c -e -u -x); ``eval``, ``source``, ``.``, ``exec``
  with a command, ``sudo`` and ``nohup`` are always mutating.
* A bare assignment (``X=1``) and an assignment prefix (``FOO=1 ls``) are
  read-only unless the variable can change what runs (PATH, LD_*, GIT_*,
  *PAGER, EDITOR, HOME, PYTHON*, BASH_ENV ...).
* ``find -exec``/``-execdir`` is read-only when the command it runs is; ``-ok``,
  ``-delete``, ``-fprint*`` and ``-fls`` are mutating.
* ``xargs CMD`` is read-only only when CMD is read-only whatever its arguments
  (grep, cat, wc, ls ...), since xargs appends arguments read from stdin.
* For argument-sensitive commands (sed, sort, find, git ...) an argument whose
  value is not visible (``$VAR``, ``*``-globs at the start, unquoted
  substitutions) could be an option, so it makes the command mutating.
* Redirections to /dev/null, /dev/stdout and /dev/stderr are harmless.
* ``git -c key=val`` keeps a read-only git command read-only only for display
  keys (color.*, log.*, diff.* except diff.external, core.quotepath ...).
* ``read`` and ``set`` only change shell state: read-only, except reading into
  a risky variable and ``set -k`` (which turns NAME=value arguments into the
  command's environment).
* ``git reflog <anything but show/exists/list>`` and ``git config <key>`` with a
  value are mutating; ``git config <key>`` alone is a read.

Hook bypass rules:

* ``--no-verify`` (or its unambiguous abbreviations --no-veri, --no-verif) on
  any git subcommand that is not a read-only one, and ``-n`` on ``git commit``
  (also inside clusters such as -anm), counting git's "last flag wins" with
  --verify. A word that is the value of an option (``-m "--no-verify"``) or
  comes after ``--`` does not count; for ``git push`` and ``git merge`` -n is
  something else.
* ``git -c core.hooksPath=...`` / ``--config-env core.hooksPath=...`` (key
  compared case-insensitively); ``git config`` that sets, adds or unsets
  core.hooksPath, or removes/renames the [core] section (reads do not count);
  GIT_CONFIG_PARAMETERS or GIT_CONFIG_KEY_<n> naming core.hooksPath in an
  assignment, ``env`` or ``export``.
* Looked for inside $(...), backticks, bash/sh -c, eval, xargs, find -exec,
  env/time/nice/timeout/command/exec wrappers, git rebase -x, git submodule
  foreach, git bisect run, ``git -c alias.x=...``, and after any literal
  ``git`` word of an unknown command (sudo, nohup, strace ...). watch, ssh, su
  and similar get their string arguments parsed as shell code; other unknown
  commands do not (a PR body mentioning --no-verify is text).
* When the command name itself is not literal (``$(which git) ...``) a
  standalone --no-verify / core.hooksPath word counts.
* A line that cannot be parsed is flagged when a token scan finds --no-verify,
  core.hooksPath or ``commit -..n..`` together with ``git``.
* HUSKY=0 and similar tool-specific switches are not git's own and do not count.
* A command that disables git hooks is never read-only.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re
    from collections.abc import Callable
    from typing import TypeAlias

__all__ = ["ShellVerdict", "classify_command"]


class ShellVerdict:
    """Outcome of classifying one Bash command line (plain slots: `dataclasses` is slow to
    import, and this runs on every Bash tool call)."""

    __slots__ = ("disables_git_hooks", "only_adds_worktree", "read_only", "reason")

    def __init__(
        self, read_only: bool, disables_git_hooks: bool, reason: str,
        only_adds_worktree: bool = False,
    ) -> None:
        self.read_only = read_only  # True only when the WHOLE command is provably read-only
        self.disables_git_hooks = disables_git_hooks  # the command switches git hooks off
        self.reason = reason  # why not read-only / why it bypasses hooks ("" when read-only)
        # Its only write is `git worktree add`: a new tree, which needs no lease of this one.
        self.only_adds_worktree = only_adds_worktree

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ShellVerdict) and (
            self.read_only, self.disables_git_hooks, self.reason
        ) == (other.read_only, other.disables_git_hooks, other.reason)

    def __hash__(self) -> int:
        return hash((self.read_only, self.disables_git_hooks, self.reason))

    def __repr__(self) -> str:
        return (
            f"ShellVerdict(read_only={self.read_only}, "
            f"disables_git_hooks={self.disables_git_hooks}, reason={self.reason!r})"
        )


# Limit on nesting (substitutions, nested shells, wrappers) before giving up.
_MAX_DEPTH = 24

# Placeholders in _Word.raw for characters that did not come from unquoted text.
_QUOTED = "\x01"
_EXPANDED = "\x00"

# Characters that end a run of plain text: in an unquoted word, inside double
# quotes, and in an unquoted heredoc body.  Scanned by hand (no `re`, see above).
_WORD_STOP = frozenset(" \t\n;&|()<>\\'\"$`")
_DQ_STOP = frozenset('"\\$`')
_HEREDOC_STOP = frozenset("\\$`")
# Shell variable names: [A-Za-z_][A-Za-z0-9_]*.
_NAME_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_NAME_CHARS = _NAME_START | frozenset("0123456789")
# Redirection operators, longest first where one is a prefix of another.
_REDIR_OPS = (">>", ">|", ">&", ">", "<<<", "<<-", "<<", "<>", "<&", "<")
# Variables whose names start like this change which program runs or what it loads.
_RISKY_ENV_PREFIXES = (
    "LD_", "DYLD_", "BASH_FUNC_", "GIT_", "XDG_", "LESS", "PYTHON", "NODE_", "PERL", "RUBY",
)  # fmt: skip
_ANSI_ESCAPE = r"(?s)\\(x[0-9A-Fa-f]{1,2}|u[0-9A-Fa-f]{1,4}|U[0-9A-Fa-f]{1,8}|[0-7]{1,3}|c.|.)"
_ANSI_SIMPLE = {
    "n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b",
    "f": "\f", "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?",
}  # fmt: skip


_LAZY_PATTERNS: dict[str, re.Pattern[str]] = {}


def _lazy(pattern: str) -> re.Pattern[str]:
    """A compiled regex; `re` is imported on first use only (rare constructs only)."""
    compiled = _LAZY_PATTERNS.get(pattern)
    if compiled is None:
        import re

        compiled = _LAZY_PATTERNS[pattern] = re.compile(pattern)
    return compiled


def _has_pattern(raw: str) -> bool:
    """Whether raw has a glob (* ? [...]) or a brace expansion ({a,b} {1..3})."""
    if "*" in raw or "?" in raw:
        return True
    i = raw.find("[")
    if i >= 0 and raw.find("]", i + 1) >= 0:
        return True
    i = raw.find("{")
    while i >= 0:
        j = raw.find("}", i + 1)
        if j < 0:
            return False
        inner = raw.find("{", i + 1, j)
        if inner >= 0:
            i = inner  # only the innermost brace pair can be a brace expansion
            continue
        body = raw[i + 1 : j]
        if "," in body or ".." in body:
            return True
        i = raw.find("{", j + 1)
    return False


def _name_end(src: str, i: int) -> int:
    """Index after a shell variable name starting at i, or i when there is none."""
    n = len(src)
    if i < n and src[i] in _NAME_START:
        i += 1
        while i < n and src[i] in _NAME_CHARS:
            i += 1
    return i


def _digits_end(text: str, i: int) -> int:
    """Index after a run of decimal digits (what `\\d` matches) starting at i."""
    n = len(text)
    while i < n and text[i].isdecimal():
        i += 1
    return i


def _redirect_end(src: str, i: int) -> int:
    """Index after a redirection operator (with an fd or {name} prefix) at i, or -1."""
    if src.startswith("&>", i):
        return i + 3 if src.startswith(">", i + 2) else i + 2
    j = _digits_end(src, i)
    if j == i and src.startswith("{", i):
        end = _name_end(src, i + 1)
        if end > i + 1 and src.startswith("}", end):
            j = end + 1
    if src[j : j + 1] in ("<", ">"):
        for op in _REDIR_OPS:
            if src.startswith(op, j):
                return j + len(op)
    return -1


def _arith_assigns(body: str) -> bool:
    """Whether an arithmetic expression has =, ++ or -- (not ==, !=, <=, >=)."""
    if "++" in body or "--" in body:
        return True
    i = body.find("=")
    while i >= 0:
        if (i == 0 or body[i - 1] not in "=!<>") and not body.startswith("=", i + 1):
            return True
        i = body.find("=", i + 1)
    return False


class _ParseError(Exception):
    """The command uses syntax this lexer does not model."""


class _Word:
    """One shell word after quote removal, with what is known about its value."""

    __slots__ = ("literal", "opaque", "quoted", "raw", "text")

    def __init__(self, text: str, raw: str, quoted: bool, expanded: bool, split: bool) -> None:
        self.text = text  # value; expansions keep their source spelling
        self.raw = raw  # unquoted characters verbatim, everything else as a placeholder
        self.quoted = quoted
        # Known exactly: no expansion, glob or brace pattern.
        self.literal = not expanded and not _has_pattern(raw)
        # Could expand to an option (or to several words) that we cannot see.
        self.opaque = split or (
            not self.literal and (not raw or raw[0] in "\x00*?[{" or text.startswith("-"))
        )


class _Redirect:
    __slots__ = ("op", "target")

    def __init__(self, op: str, target: _Word) -> None:
        self.op = op  # operator without its file descriptor prefix
        self.target = target


class _Simple:
    __slots__ = ("redirects", "words")

    def __init__(self, words: list[_Word], redirects: list[_Redirect]) -> None:
        self.words = words
        self.redirects = redirects


def _ansi_unescape(match: re.Match[str]) -> str:
    code = match.group(1)
    try:
        if code[0] in "xuU":
            return chr(int(code[1:], 16))
        if code[0] in "01234567":
            return chr(int(code, 8))
    except ValueError:
        return ""
    if code[0] == "c" and len(code) == 2:
        return chr(ord(code[1]) & 0x1F)
    return _ANSI_SIMPLE.get(code, "\\" + code)


class _Parser:
    """Splits bash source into a flat list of simple commands.

    Commands found inside substitutions and heredoc bodies are appended to the
    same list: a line is read-only only if every one of them is.
    """

    __slots__ = ("commands", "depth", "heredocs", "pos", "problems", "src")

    def __init__(self, src: str, depth: int) -> None:
        self.src = src
        self.pos = 0
        self.depth = depth
        self.commands: list[_Simple] = []
        self.problems: list[str] = []  # constructs that are never read-only
        self.heredocs: list[tuple[str, bool, bool]] = []  # delimiter, quoted, strip tabs

    def parse_list(self, closer: bool) -> None:
        """Parse commands up to the end, or up to the ')' closing a substitution."""
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise _ParseError("nested too deeply")
        src = self.src
        words: list[_Word] = []
        redirects: list[_Redirect] = []
        groups = 0  # open '(' subshells in this list
        while True:
            if self.pos >= len(src):
                if closer or groups:
                    raise _ParseError("unbalanced parentheses")
                self._flush(words, redirects)
                break
            c = src[self.pos]
            if c in " \t":
                self.pos += 1
            elif c == "\n":
                self._flush(words, redirects)
                self.pos += 1
                self._read_heredocs()
            elif c == "#":  # only reached at a word boundary, so it starts a comment
                end = src.find("\n", self.pos)
                self.pos = len(src) if end < 0 else end
            elif c == "(":
                if words or redirects:
                    raise _ParseError("unexpected '('")
                groups += 1
                self.pos += 1
            elif c == ")":
                self._flush(words, redirects)
                self.pos += 1
                if groups:
                    groups -= 1
                elif closer:
                    break
                else:
                    raise _ParseError("unbalanced ')'")
            elif c in "<>" and src.startswith("(", self.pos + 1):
                words.append(self._word())  # process substitution
            elif c in "<>&0123456789{" and (end := _redirect_end(src, self.pos)) >= 0:
                op = src[self.pos : end]
                self.pos = end
                redirects.append(self._redirect(op))
            elif c in ";&|":
                self._flush(words, redirects)
                pair = src[self.pos : self.pos + 2]
                if pair in (";;", ";&"):
                    raise _ParseError("case syntax")
                self.pos += 2 if pair in ("&&", "||", "|&") else 1
            else:
                words.append(self._word())
        self.depth -= 1

    def _flush(self, words: list[_Word], redirects: list[_Redirect]) -> None:
        if words or redirects:
            self.commands.append(_Simple(words[:], redirects[:]))
            words.clear()
            redirects.clear()

    def _redirect(self, op: str) -> _Redirect:
        kind = op.lstrip("0123456789")
        if kind.startswith("{"):
            kind = kind[kind.index("}") + 1 :]
        src = self.src
        while self.pos < len(src) and src[self.pos] in " \t":
            self.pos += 1
        if self.pos >= len(src) or (
            src[self.pos] in "\n;&|()"
            or (src[self.pos] in "<>" and not src.startswith("(", self.pos + 1))
        ):
            raise _ParseError("redirection without a target")
        target = self._word()
        if kind in ("<<", "<<-"):
            self.heredocs.append((target.text, target.quoted, kind == "<<-"))
        return _Redirect(kind, target)

    def _read_heredocs(self) -> None:
        """Consume the bodies of heredocs opened on the line just ended."""
        src = self.src
        for delimiter, quoted, strip_tabs in self.heredocs:
            start = self.pos
            body_end = len(src)
            while self.pos < len(src):
                newline = src.find("\n", self.pos)
                line_end = len(src) if newline < 0 else newline
                line = src[self.pos : line_end]
                if strip_tabs:
                    line = line.lstrip("\t")
                if line == delimiter:
                    body_end = self.pos
                    self.pos = line_end + 1 if newline >= 0 else line_end
                    break
                self.pos = line_end + 1 if newline >= 0 else line_end
            if not quoted:  # an unquoted delimiter lets $(...) in the body run
                self._nested(src[start:body_end], heredoc=True)
        self.heredocs.clear()

    def _nested(self, src: str, heredoc: bool = False) -> None:
        sub = _Parser(src, self.depth)
        if heredoc:
            sub._dq(None)
        else:
            sub.parse_list(closer=False)
        self.commands.extend(sub.commands)
        self.problems.extend(sub.problems)

    def _word(self) -> _Word:
        src = self.src
        n = len(src)
        stop = _WORD_STOP
        start = self.pos
        text: list[str] = []
        raw: list[str] = []
        quoted = expanded = split = False
        while self.pos < n:
            end = self.pos
            while end < n and src[end] not in stop:
                end += 1
            if end > self.pos:
                plain = src[self.pos : end]
                text.append(plain)
                raw.append(plain)
                self.pos = end
                continue
            c = src[self.pos]
            if c == "\\":
                escaped = src[self.pos + 1 : self.pos + 2] or "\\"
                self.pos += 2
                if escaped != "\n":  # backslash-newline is a line continuation
                    text.append(escaped)
                    raw.append(_QUOTED)
                    quoted = True
            elif c == "'":
                end = src.find("'", self.pos + 1)
                if end < 0:
                    raise _ParseError("unterminated single quote")
                text.append(src[self.pos + 1 : end])
                raw.append(_QUOTED)
                quoted = True
                self.pos = end + 1
            elif c == '"':
                self.pos += 1
                seg, seg_raw = self._dq('"')
                text.append(seg)
                raw.append(seg_raw or _QUOTED)
                quoted = True
                expanded = expanded or _EXPANDED in seg_raw
            elif c == "$":
                seg, seg_raw, splits = self._dollar(in_dq=False)
                text.append(seg)
                raw.append(seg_raw)
                quoted = quoted or seg_raw == _QUOTED
                expanded = expanded or _EXPANDED in seg_raw
                split = split or splits
            elif c == "`":
                text.append(self._backtick())
                raw.append(_EXPANDED)
                expanded = split = True
            elif c in "<>" and self.pos == start and src.startswith("(", self.pos + 1):
                self.pos += 2
                self.parse_list(closer=True)
                text.append(src[start : self.pos])
                raw.append(_EXPANDED)
                expanded = split = True
            else:
                break  # a metacharacter ends the word
        return _Word("".join(text), "".join(raw), quoted, expanded, split)

    def _dq(self, terminator: str | None) -> tuple[str, str]:
        """Double-quoted text (or an unquoted heredoc body when terminator is None)."""
        src = self.src
        n = len(src)
        stop = _DQ_STOP if terminator else _HEREDOC_STOP
        text: list[str] = []
        raw: list[str] = []
        while True:
            if self.pos >= n:
                if terminator is None:
                    break
                raise _ParseError("unterminated double quote")
            c = src[self.pos]
            if c == terminator:
                self.pos += 1
                break
            if c not in stop:
                end = self.pos + 1
                while end < n and src[end] not in stop:
                    end += 1
                text.append(src[self.pos : end])
                raw.append(_QUOTED)
                self.pos = end
            elif c == "\\":
                escaped = src[self.pos + 1 : self.pos + 2]
                self.pos += 2
                if escaped in ("$", "`", "\\") or (escaped == '"' and terminator):
                    text.append(escaped)
                elif escaped != "\n":
                    text.append("\\" + escaped)
                raw.append(_QUOTED)
            elif c == "$":
                seg, seg_raw, _ = self._dollar(in_dq=True)
                text.append(seg)
                raw.append(seg_raw)
            else:  # backquote
                text.append(self._backtick())
                raw.append(_EXPANDED)
        return "".join(text), "".join(raw)

    def _dollar(self, in_dq: bool) -> tuple[str, str, bool]:
        """Text, raw placeholder and whether it is subject to word splitting."""
        src = self.src
        start = self.pos
        nxt = src[start + 1 : start + 2]
        if nxt == "(":
            if src.startswith("((", start + 1):
                self.pos = start + 3
                self._arith()
            else:
                self.pos = start + 2
                self.parse_list(closer=True)
            return src[start : self.pos], _EXPANDED, not in_dq
        if nxt == "{":
            self.pos = start + 2
            self._param()
            return src[start : self.pos], _EXPANDED, not in_dq
        if nxt == "[":
            raise _ParseError("$[ ] arithmetic")
        if nxt == "'" and not in_dq:
            return self._ansi_c(), _QUOTED, False
        if nxt == '"' and not in_dq:
            self.pos = start + 2
            seg, seg_raw = self._dq('"')
            return seg, seg_raw or _QUOTED, False
        end = _name_end(src, start + 1)
        if end > start + 1:
            self.pos = end
            return src[start : self.pos], _EXPANDED, not in_dq
        if nxt and nxt in "0123456789@*#?-$!":
            self.pos = start + 2
            return src[start : self.pos], _EXPANDED, not in_dq
        self.pos = start + 1
        return "$", "$", False  # a lone dollar sign is literal

    def _ansi_c(self) -> str:
        src = self.src
        i = self.pos + 2
        while i < len(src) and src[i] != "'":
            i += 2 if src[i] == "\\" else 1
        if i >= len(src):
            raise _ParseError("unterminated $'...'")
        body = src[self.pos + 2 : i]
        self.pos = i + 1
        if "\\" not in body:
            return body
        return _lazy(_ANSI_ESCAPE).sub(_ansi_unescape, body)  # rare: `re` only here

    def _backtick(self) -> str:
        src = self.src
        start = self.pos
        i = start + 1
        inner: list[str] = []
        while True:
            if i >= len(src):
                raise _ParseError("unterminated backquote")
            c = src[i]
            if c == "`":
                break
            if c == "\\" and src[i + 1 : i + 2] in ("$", "`", "\\"):
                inner.append(src[i + 1])
                i += 2
                continue
            inner.append(c)
            i += 1
        self.pos = i + 1
        self._nested("".join(inner))
        return src[start : self.pos]

    def _arith(self) -> None:
        """Skip a $(( )) body, parsing any substitutions inside it."""
        src = self.src
        start = self.pos
        depth = 0
        while self.pos < len(src):
            c = src[self.pos]
            if c == "(":
                depth += 1
                self.pos += 1
            elif c == ")":
                if depth == 0:
                    if not src.startswith("))", self.pos):
                        raise _ParseError("unbalanced arithmetic")
                    if _arith_assigns(src[start : self.pos]):
                        self.problems.append("arithmetic expansion assigns a variable")
                    self.pos += 2
                    return
                depth -= 1
                self.pos += 1
            elif c == "$":
                self._dollar(in_dq=True)
            elif c == "`":
                self._backtick()
            elif c == '"':
                self.pos += 1
                self._dq('"')
            else:
                self.pos += 2 if c == "\\" else 1
        raise _ParseError("unterminated $((")

    def _param(self) -> None:
        """Skip a ${ } body, parsing any substitutions inside it."""
        src = self.src
        depth = 1
        while self.pos < len(src):
            c = src[self.pos]
            if c == "}":
                depth -= 1
                self.pos += 1
                if depth == 0:
                    return
            elif c == "{":
                depth += 1
                self.pos += 1
            elif c == "'":
                end = src.find("'", self.pos + 1)
                if end < 0:
                    raise _ParseError("unterminated single quote")
                self.pos = end + 1
            elif c == '"':
                self.pos += 1
                self._dq('"')
            elif c == "$":
                self._dollar(in_dq=True)
            elif c == "`":
                self._backtick()
            else:
                self.pos += 2 if c == "\\" else 1
        raise _ParseError("unterminated ${")


# ---------------------------------------------------------------------------
# Classification


class _Acc:
    """Reasons collected while walking the parsed commands."""

    __slots__ = ("bypass", "mutating")

    def __init__(self) -> None:
        self.mutating: list[str] = []
        self.bypass: list[str] = []


# A handler looks at a command's arguments; it returns why the command is not
# read-only (None when it is) and may record hook bypasses on the accumulator.
_Handler: TypeAlias = "Callable[[list[_Word], _Acc, int], str | None]"

_OPAQUE = "an argument's value is not visible"

# Read-only whatever their arguments: safe even with arguments from xargs.
_ARG_FREE = frozenset(
    {"ls", "cat", "head", "tail", "wc", "grep", "egrep", "fgrep", "pwd", "echo", "which",
     "whereis", "type", "stat", "du", "df", "diff", "cmp", "cut", "tr", "nl", "basename",
     "dirname", "realpath", "readlink", "whoami", "id", "uname", "printenv", "true", "false",
     "test", "[", "[[", ":", "cd", "pushd", "popd", "dirs", "jq", "comm", "paste", "join",
     "fold", "fmt", "tac", "rev", "expand", "unexpand", "od", "hexdump", "strings", "md5sum",
     "sha1sum", "sha224sum", "sha256sum", "sha384sum", "sha512sum", "b2sum", "cksum", "base64",
     "seq", "expr", "sleep", "nproc", "arch", "uptime", "free", "groups", "locale", "getconf",
     "tty", "logname", "ps", "pgrep", "column", "numfmt", "exit", "return", "shift", "wait",
     "break", "continue", "jobs"}
)  # fmt: skip
# Reserved words that only introduce or close a compound command.
_KEYWORDS = frozenset(
    {"!", "if", "then", "elif", "else", "do", "while", "until", "{", "}", "fi", "done"}
)
_LOOP_HEADERS = frozenset({"for", "select"})
# Commands that run a string argument as shell code (locally or remotely).
_STRING_RUNNERS = frozenset({"watch", "ssh", "su", "runuser", "script", "tmux", "screen"})
_BIN_DIRS = ("/usr/local/bin/", "/usr/bin/", "/bin/")
_SAFE_SINKS = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr"})
_INPUT_REDIRECTS = frozenset({"<", "<<", "<<-", "<<<", "<&"})

# Variables that change which program runs or what it loads.
_RISKY_ENV = frozenset(
    {"PATH", "BASH_ENV", "ENV", "SHELLOPTS", "BASHOPTS", "PS4", "PROMPT_COMMAND", "IFS", "HOME",
     "EDITOR", "VISUAL", "BROWSER", "SHELL", "RIPGREP_CONFIG_PATH", "GCONV_PATH", "LOCPATH",
     "NLSPATH"}
)  # fmt: skip


def _risky_env(name: str) -> bool:
    """Whether setting the variable can change what runs."""
    if name in _RISKY_ENV or name.startswith(_RISKY_ENV_PREFIXES):
        return True
    # *PAGER on the first line, as `.*PAGER$` matched (`$` allows one final newline).
    line = name[:-1] if name.endswith("\n") else name
    return line.endswith("PAGER") and "\n" not in line


def classify_command(command: str) -> ShellVerdict:
    """Classify a Bash tool command line; never raises."""
    try:
        return _classify(command)
    except Exception as exc:  # the hook must not crash on odd input
        return _unparsable(command, f"could not parse command ({type(exc).__name__})")


def _classify(command: str) -> ShellVerdict:
    if not command.strip():
        return ShellVerdict(read_only=True, disables_git_hooks=False, reason="")
    acc = _Acc()
    try:
        _walk(command, acc, 0)
    except _ParseError as exc:
        return _unparsable(command, f"could not parse command: {exc}")
    if acc.bypass:
        return ShellVerdict(read_only=False, disables_git_hooks=True, reason=acc.bypass[0])
    if acc.mutating:
        new_tree_only = all(reason.endswith(NEW_WORKTREE) for reason in acc.mutating)
        return ShellVerdict(read_only=False, disables_git_hooks=False, reason=acc.mutating[0],
                            only_adds_worktree=new_tree_only)
    return ShellVerdict(read_only=True, disables_git_hooks=False, reason="")


def _walk(src: str, acc: _Acc, depth: int) -> None:
    parser = _Parser(src, depth)
    parser.parse_list(closer=False)
    acc.mutating.extend(parser.problems)
    for cmd in parser.commands:
        _check_simple(cmd, acc, depth)


def _walk_nested(src: str, depth: int) -> _Acc:
    """Classify a string that some command will run as shell code."""
    inner = _Acc()
    try:
        _walk(src, inner, depth + 1)
    except _ParseError as exc:
        inner.mutating.append(f"could not parse nested command: {exc}")
        if _fallback_bypass(src):
            inner.bypass.append("nested command mentions --no-verify or core.hooksPath")
    return inner


# Token-level scan used when a line (or nested string) cannot be parsed; rare, so
# these are compiled lazily.
_FALLBACK_GIT = r"(?i)(?<![\w.-])git(?![\w.-])|GIT_CONFIG_"
_FALLBACK_BYPASS = (
    r"(?i)(?<![\w-])--no-veri(?:fy?)?(?![\w-])|core\.hookspath"
    r"|(?<![\w-])commit\s(?:[^;&|\n'\"]*\s)?-[A-Za-z]*n[A-Za-z]*(?![\w-])"
)


def _fallback_bypass(command: str) -> bool:
    return bool(_lazy(_FALLBACK_BYPASS).search(command) and _lazy(_FALLBACK_GIT).search(command))


def _unparsable(command: object, reason: str) -> ShellVerdict:
    try:
        bypass = isinstance(command, str) and _fallback_bypass(command)
    except Exception:  # best effort only
        bypass = False
    return ShellVerdict(read_only=False, disables_git_hooks=bypass, reason=reason)


def _redirect_problem(redirect: _Redirect) -> str | None:
    op, target = redirect.op, redirect.target
    if op in _INPUT_REDIRECTS:
        return None
    if target.literal:
        value = target.text
        if op == ">&" and (value == "-" or value.rstrip("-").isdigit()):
            return None  # duplicates or closes a file descriptor
        if value in _SAFE_SINKS:
            return None
    return f"output redirection to {target.text!r}"


def _assignment(word: _Word) -> tuple[str, str] | None:
    """(name, value) when the word is a NAME=value assignment."""
    raw = word.raw
    if "=" not in raw:
        return None
    end = _name_end(raw, 0)
    if end == 0:
        return None
    i = end
    if raw.startswith("[", i):  # NAME[subscript]=value
        close = raw.find("]", i + 1)
        if close >= 0:
            i = close + 1
    if raw.startswith("=", i) or raw.startswith("+=", i):
        return raw[:end], word.text.partition("=")[2]
    return None


def _check_assignment(name: str, value: str, acc: _Acc) -> None:
    if _risky_env(name):
        acc.mutating.append(f"sets {name}, which can change what runs")
    if _bypass_env(name, value):
        acc.bypass.append(f"{name} puts core.hooksPath into git's configuration")


def _bypass_env(name: str, value: str) -> bool:
    if name == "GIT_CONFIG_PARAMETERS":
        return "core.hookspath" in value.lower()
    return name.startswith("GIT_CONFIG_KEY_") and value.strip().lower() == "core.hookspath"


def _check_simple(cmd: _Simple, acc: _Acc, depth: int) -> None:
    for redirect in cmd.redirects:
        problem = _redirect_problem(redirect)
        if problem:
            acc.mutating.append(problem)
    words = cmd.words
    i = 0
    while i < len(words):
        assignment = _assignment(words[i])
        if assignment is None:
            break
        if "[" in words[i].raw.partition("=")[0]:
            acc.mutating.append("array element assignment")
        _check_assignment(*assignment, acc)
        i += 1
    if i < len(words):
        _check_argv(words[i:], acc, depth, extra_args=False)


def _command_name(text: str) -> str:
    for prefix in _BIN_DIRS:
        if text.startswith(prefix) and "/" not in text[len(prefix) :]:
            return text[len(prefix) :]
    return text


def _check_argv(words: list[_Word], acc: _Acc, depth: int, extra_args: bool) -> None:
    """Classify one command and its arguments.

    extra_args: the command will get more, unseen arguments (xargs).
    """
    if depth > _MAX_DEPTH:
        acc.mutating.append("command nested too deeply")
        return
    head, args = words[0], words[1:]
    if not head.literal:
        acc.mutating.append("the command name is not a literal word")
        _loose_hook_flags(args, acc)  # `$(which git) commit --no-verify`
        _scan_unknown(args, acc, depth, strings=True)
        return
    name = _command_name(head.text)
    if name in _KEYWORDS:
        if args:
            _check_argv(args, acc, depth + 1, extra_args)
        return
    if name in _ARG_FREE or (name in _LOOP_HEADERS and not extra_args):
        return
    handler = _HANDLERS.get(name)
    if handler is None:
        acc.mutating.append(f"{name} is not a known read-only command")
        # The name is scanned too, so /opt/tools/git is seen as git.
        _scan_unknown(words, acc, depth, strings=name in _STRING_RUNNERS)
        return
    reason = handler(args, acc, depth)
    if reason is None and extra_args:
        reason = "would receive unseen arguments from xargs"
    if reason:
        acc.mutating.append(f"{name}: {reason}")


def _scan_unknown(args: list[_Word], acc: _Acc, depth: int, strings: bool = False) -> None:
    """Best-effort hook-bypass scan of the arguments of a command we cannot interpret.

    Wrappers such as sudo, nohup or strace run their arguments as a command, so a
    literal `git` word starts a git invocation. With strings=True (watch, ssh,
    su -c, env -S ...) an argument holding spaces is also parsed as shell code;
    otherwise a --no-verify inside a quoted argument (a PR body, a message) is
    only text.
    """
    for i, word in enumerate(args):
        if not word.literal:
            continue
        text = word.text
        if text == "git" or text.endswith("/git"):  # every one: `sudo -u git git ...`
            scratch = _Acc()
            _git(args[i + 1 :], scratch, depth + 1)
            acc.bypass.extend(scratch.bypass)
        assignment = _assignment(word)
        if assignment is not None and _bypass_env(*assignment):
            acc.bypass.append(f"{assignment[0]} puts core.hooksPath into git's configuration")
        elif strings and "git" in text.lower() and any(c in text for c in " \t\n;&|"):
            acc.bypass.extend(_walk_nested(text, depth).bypass)


def _loose_hook_flags(args: list[_Word], acc: _Acc) -> None:
    """When we cannot tell what runs, a standalone hook-disabling word counts."""
    for word in args:
        name = word.text.partition("=")[0]
        if word.literal and (name in _GIT_NO_VERIFY or name.lower() == "core.hookspath"):
            acc.bypass.append(f"{name} given to a command that may be git")
            return


def _unsure(args: list[_Word], acc: _Acc, depth: int, reason: str, strings: bool = False) -> str:
    _scan_unknown(args, acc, depth, strings)
    return reason


# --- generic option parsing ------------------------------------------------


def _scan_opts(
    args: list[_Word],
    value_letters: str = "",
    long_values: frozenset[str] = frozenset(),
    attached_letters: str = "",
) -> tuple[list[str], list[_Word]] | None:
    """Split GNU-style arguments into option names and operands.

    value_letters take a value (attached or the next word), attached_letters
    only an attached one. Returns None when an argument could be an unseen option.
    """
    opts: list[str] = []
    operands: list[_Word] = []
    i = 0
    while i < len(args):
        word = args[i]
        text = word.text
        i += 1
        if text == "--" and word.literal:
            operands.extend(args[i:])
            break
        if word.opaque:
            return None
        if text.startswith("--"):
            name, eq, _ = text.partition("=")
            opts.append(name)
            if not eq and name in long_values:
                i += 1
        elif text.startswith("-") and len(text) > 1:
            for j in range(1, len(text)):
                letter = text[j]
                opts.append("-" + letter)
                if letter in attached_letters:
                    break
                if letter in value_letters:
                    if j == len(text) - 1:
                        i += 1
                    break
        else:
            operands.append(word)
    return opts, operands


def _long_hit(opts: list[str], denied: tuple[str, ...]) -> str | None:
    """The first option that is a denied long option or an abbreviation of one."""
    for opt in opts:
        if len(opt) > 3 and opt.startswith("--") and any(d.startswith(opt) for d in denied):
            return opt
    return None


# --- plain commands ----------------------------------------------------------


def _sort(args: list[_Word], acc: _Acc, depth: int) -> str | None:
    parsed = _scan_opts(args, "ktoST", _SORT_LONG_VALUES)
    if parsed is None:
        return _OPAQUE
    opts = parsed[0]
    if "-o" in opts or _long_hit(opts, ("--output", "--compress-program")):
        return "-o/--compress-program write a file or run a program"
    return None


_SORT_LONG_VALUES = frozenset(
    {"--key", "--field-separator", "--output", "--buffer-size", "--temporary-directory",
     "--compress-program", "--files0-from", "--parallel", "--batch-size", "--sort",
     "--random-source"}
)  # fmt: skip


def _uniq(args: list[_Word], acc: _Acc, depth: int) -> str | None:
    parsed = _scan_opts(args, "fsw", frozenset({"--skip-fields", "--skip-chars", "--check-chars"}))
    if parsed is None:
        return _OPAQUE
    if len(parsed[1]) > 1:
        return "a second file operand is written as output"
    return None


def _date(args: list[_Word], acc: _Acc, depth: int) -> str | None:
    parsed = _scan_opts(args, "dfr", frozenset({"--date", "--file", "--reference"}), "I")
    if parsed is None:
        return _OPAQUE
    opts, operands = parsed
    if "-s" in opts or _long_hit(opts, ("--set",)):
        return "sets the clock"
    if any(not w.text.startswith("+") for w in operands):
        return "a time operand sets the clock"
    return None


def _tree(args: list[_Word], acc: _Acc, depth: int) -> str | None:
    parsed = _scan_opts(args, "LPIoHT", frozenset({"--charset", "--filelimit", "--timefmt"}))
    if parsed is None:
        return _OPAQUE
    if "-o" in parsed[0] or "-R" in parsed[0]:
        return "-o/-R write files"
    return None


def _file(args: list[_Word], acc: _Acc, depth: int) -> str | None:
    long_values = frozenset({"--exclude", "--magic-file", "--files-from", "--separator"})
    parsed = _scan_opts(args, "emfFP", long_values)
    if parsed is None:
        return _OPAQUE
    if "-C" in parsed[0] or _long_hit(parsed[0], ("--compile",)):
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


def _pager(args: list[_Word], acc: _Acc, depth: int) -> str | None:
    # less can log to files (-o) and run start-up commands (+cmd), so allow-list.
    for word in args:
        text = word.text
        if word.opaque:
            return _OPAQUE
        if text.startswith("+"):
            if not _pager_plus_safe(text):
                return f"start-up command {text}"
        elif text.startswith("--"):
            if text not in _PAGER_LONG:
                return f"option {text} is not known to be safe"
        elif text.startswith("-") and len(text) > 1 and not set(text[1:]) <= _PAGER_LETTERS:
            return f"option {text} is not known to be safe"
    return None


def _rg(args: list[_Word], acc: _Acc, depth: int) -> str | None:
    parsed = _scan_opts(args, "ABCefgjmMtTrdE", _RG_LONG_VALUES)
    if parsed is None:
        return _OPAQUE
    if "--pre" in parsed[0]:
        return "--pre runs a preprocessor command"
    return None


_RG_LONG_VALUES = frozenset(
    {"--after-context", "--before-context", "--context", "--regexp", "--file", "--glob",
     "--iglob", "--threads", "--max-count", "--max-columns", "--type", "--type-not",
     "--replace", "--max-depth", "--encoding", "--type-add", "--pre-glob", "--sort",
     "--sortr", "--colors", "--color", "--engine", "--max-filesize", "--path-separator"}
)  # fmt: skip


def _ag(args: list[_Word], acc: _Acc, depth: int) -> str | None:
    parsed = _scan_opts(args, "ABCGgm", frozenset({"--after", "--before", "--context"}))
    if parsed is None:
        return _OPAQUE
    if "--pager" in parsed[0]:
        return "--pager runs a command"
    return None


def _fd(args: list[_Word], acc: _Acc, depth: int) -> str | None:
    parsed = _scan_opts(args, "edtESjco", frozenset({"--extension", "--type", "--exclude"}))
    if parsed is None:
        return _OPAQUE
    opts = parsed[0]
    if {"-x", "-X", "--exec", "--exec-batch"} & set(opts):
        return "-x/--exec runs commands"
    return None


def _yq(args: list[_Word], acc: _Acc, depth: int) -> str | None:
    parsed = _scan_opts(args, "opI", frozenset({"--output-format", "--input-format"}))
    if parsed is None:
        return _OPAQUE
    opts = parsed[0]
    if {"-i", "-s"} & set(opts) or _long_hit(opts, ("--inplace", "--in-place", "--split-exp")):
        return "-i/-s write files"
    return None


def _set(args: list[_Word], acc: _Acc, depth: int) -> str | None:
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


def _read(args: list[_Word], acc: _Acc, depth: int) -> str | None:
    # read only assigns shell variables, which matters only for risky names.
    parsed = _scan_opts(args, "adinNptu")
    if parsed is None:
        return _OPAQUE
    names = [w.text for w in parsed[1]]
    for i, word in enumerate(args[:-1]):
        if word.text == "-a" or (word.text.startswith("-") and word.text.endswith("a")):
            names.append(args[i + 1].text)
    risky = [n for n in names if _risky_env(n)]
    return f"assigns {risky[0]}" if risky else None


def _printf(args: list[_Word], acc: _Acc, depth: int) -> str | None:
    if args and (args[0].opaque or args[0].text.startswith("-v")):
        return "-v assigns a shell variable"
    return None


_HOSTNAME_OPTS = frozenset(
    {"-f", "-s", "-i", "-I", "-d", "-A", "-a", "--fqdn", "--long", "--short",
     "--ip-address", "--all-ip-addresses", "--domain", "--all-fqdns", "--alias"}
)  # fmt: skip


def _hostname(args: list[_Word], acc: _Acc, depth: int) -> str | None:
    if all(w.literal and w.text in _HOSTNAME_OPTS for w in args):
        return None
    return "may set the host name"


def _export(args: list[_Word], acc: _Acc, depth: int) -> str | None:
    for word in args:
        if word.literal and word.text in ("-p", "--"):
            continue
        if word.opaque or word.text.startswith("-"):
            return _unsure(args, acc, depth, "unclear export arguments")
        assignment = _assignment(word)
        if assignment is not None:
            _check_assignment(*assignment, acc)
        elif _risky_env(word.text):
            return f"exports {word.text}, which can change what runs"
    return None


_VERSION_ARGS: dict[str, frozenset[str]] = {
    name: frozenset(flags.split())
    for names, flags in (
        ("python python3", "--version -V"),
        ("node npm pnpm yarn", "--version -v"),
        ("go", "version"),
        ("cargo rustc gcc g++ clang make cmake uv pip pip3 ruff mypy", "--version"),
    )
    for name in names.split()
}


def _make_version_handler(name: str) -> _Handler:
    allowed = _VERSION_ARGS[name]

    def handler(args: list[_Word], acc: _Acc, depth: int) -> str | None:
        if len(args) == 1 and args[0].literal and args[0].text in allowed:
            return None
        _scan_unknown(args, acc, depth)
        return "can run arbitrary code"

    return handler


# --- find, sed, awk ----------------------------------------------------------

_FIND_WRITES = frozenset({"-delete", "-fprint", "-fprint0", "-fprintf", "-fls", "-ok", "-okdir"})


def _find(args: list[_Word], acc: _Acc, depth: int) -> str | None:
    i = 0
    while i < len(args):
        word = args[i]
        text = word.text
        if word.opaque:
            return _unsure(args, acc, depth, _OPAQUE)
        if text in _FIND_WRITES:
            return _unsure(args[i + 1 :], acc, depth, f"{text} writes, deletes or prompts")
        if text in ("-exec", "-execdir"):
            end = i + 1
            while end < len(args) and not (args[end].literal and args[end].text in (";", "+")):
                end += 1
            if end == i + 1:
                return f"{text} without a command"
            inner = _Acc()
            # {} becomes a path under the start point, never an option.
            _check_argv(args[i + 1 : end], inner, depth + 1, extra_args=False)
            acc.bypass.extend(inner.bypass)
            if inner.mutating:
                return f"{text} {inner.mutating[0]}"
            i = end
        i += 1
    return None


_SED_LONG_OK = frozenset(
    {"--quiet", "--silent", "--regexp-extended", "--separate", "--unbuffered", "--null-data",
     "--zero-terminated", "--posix", "--debug", "--sandbox", "--follow-symlinks", "--binary"}
)  # fmt: skip
_SED_FLAG_LETTERS = frozenset("nErsuzb")


def _sed(args: list[_Word], acc: _Acc, depth: int) -> str | None:
    scripts: list[_Word] = []
    operands: list[_Word] = []
    i = 0
    options_done = False
    while i < len(args):
        word = args[i]
        text = word.text
        i += 1
        if word.opaque:
            return _OPAQUE  # a file operand could be -i as well
        if options_done or not text.startswith("-") or text == "-":
            operands.append(word)
        elif text == "--":
            options_done = True
        elif text.startswith("--"):
            name, eq, value = text.partition("=")
            if _long_hit([name], ("--in-place",)):
                return "--in-place edits files"
            if name in ("--expression", "--line-length"):
                if name == "--expression":
                    scripts.append(_literal_word(value) if eq else _arg(args, i))
                i += 0 if eq else 1
            elif name not in _SED_LONG_OK:
                return f"option {name} is not understood"
        else:
            for j in range(1, len(text)):
                letter = text[j]
                if letter == "i":
                    return "-i edits files in place"
                if letter in "el":
                    rest = text[j + 1 :]
                    if letter == "e":
                        scripts.append(_literal_word(rest) if rest else _arg(args, i))
                    i += 0 if rest else 1
                    break
                if letter not in _SED_FLAG_LETTERS:
                    return f"option -{letter} is not understood"  # includes -f script files
    if not scripts:
        if not operands:
            return None
        scripts = [operands[0]]
    for script in scripts:
        if not script.literal:
            return "the script is not a literal"
        if not _sed_script_safe(script.text):
            return "the script may write files or run commands (w/W/e)"
    return None


def _literal_word(text: str) -> _Word:
    return _Word(text, _QUOTED, quoted=True, expanded=False, split=False)


def _arg(args: list[_Word], i: int) -> _Word:
    """The option value at index i; a missing one is treated as unknown."""
    if i < len(args):
        return args[i]
    return _Word("", _EXPANDED, quoted=False, expanded=True, split=True)


_SED_SIMPLE = frozenset("=dDgGhHlnNpPxzF")
_SED_FLAGS = frozenset("gpiImMe0123456789w")


def _sed_script_safe(script: str) -> bool:
    """True when a sed script has no w/W/e commands and no s///w or s///e flags."""
    if not any(c in script for c in "wWe"):
        return True  # every write or exec form needs one of these letters
    # GNU sed skips delimiters inside [...]; other seds may not: both must be safe.
    return _sed_scan(script, brackets=True) and _sed_scan(script, brackets=False)


def _sed_scan(script: str, brackets: bool) -> bool:
    i, n = 0, len(script)
    while i < n:
        c = script[i]
        if c in " \t\n;{}!":
            i += 1
            continue
        if c == "#":
            end = script.find("\n", i)
            i = n if end < 0 else end
            continue
        i = _sed_address(script, i, brackets)
        if i < 0:
            return False
        while i < n and script[i] in " \t!":
            i += 1
        if i >= n:
            return False
        c = script[i]
        if c in "{}":
            continue
        if c in _SED_SIMPLE:
            i += 1
        elif c in "qQ":
            i += 1
            while i < n and script[i] in " \t0123456789":
                i += 1
        elif c in "btT":
            while i < n and script[i] not in ";\n":
                i += 1
        elif c in ":aicrRv":  # labels, text and files to read run to the end of the line
            while i < n and script[i] != "\n":
                i += 2 if script[i] == "\\" else 1
        elif c in "sy":
            i = _sed_subst(script, i, brackets)
            if i < 0:
                return False
        else:
            return False  # w, W, e or something this scanner does not know
    return True


def _sed_address(script: str, i: int, brackets: bool) -> int:
    """Index after an optional address or address range; -1 if malformed."""
    i = _sed_one_address(script, i, brackets)
    if 0 <= i < len(script) and script[i] == ",":
        i = _sed_one_address(script, i + 1, brackets)
    return i


def _sed_one_address(script: str, i: int, brackets: bool) -> int:
    if i >= len(script):
        return i
    end = _sed_number_end(script, i)
    if end >= 0:
        return end
    if script[i] not in "/\\":
        return i
    if script[i] == "\\":
        i += 1
        if i >= len(script):
            return -1
    i = _sed_delimited(script, i + 1, script[i], brackets)
    while 0 <= i < len(script) and script[i] in "IM":
        i += 1
    return i


def _sed_number_end(script: str, i: int) -> int:
    """Index after a line-number address ([+~]N, N~M or $) at i, or -1."""
    if script.startswith("$", i):
        return i + 1
    j = i + 1 if script.startswith(("+", "~"), i) else i
    end = _digits_end(script, j)
    if end == j:
        return -1
    if script.startswith("~", end):
        step = _digits_end(script, end + 1)
        if step > end + 1:
            return step
    return end


def _sed_delimited(script: str, i: int, delim: str, brackets: bool) -> int:
    """Index after the next unescaped delimiter at or after i; -1 if none."""
    n = len(script)
    while i < n:
        c = script[i]
        if c == "\\":
            i += 2
        elif c == delim:
            return i + 1
        elif c == "[" and brackets:
            i = _bracket_end(script, i + 1)
            if i < 0:
                return -1
        else:
            i += 1
    return -1


def _bracket_end(script: str, i: int) -> int:
    """Index after the ']' closing a bracket expression whose body starts at i."""
    if script.startswith("^", i):
        i += 1
    if script.startswith("]", i):
        i += 1  # a leading ] is literal
    while i < len(script):
        if script[i] == "]":
            return i + 1
        if script[i] == "[" and script[i + 1 : i + 2] in (":", ".", "="):
            end = script.find(script[i + 1] + "]", i + 2)  # [:class:] [.coll.] [=equiv=]
            if end < 0:
                return -1
            i = end + 2
        else:
            i += 1
    return -1


def _sed_subst(script: str, i: int, brackets: bool) -> int:
    """Index after an s/// or y/// command; -1 if malformed or it writes/executes."""
    command = script[i]
    if i + 1 >= len(script) or script[i + 1] in "\n\\":
        return -1
    delim = script[i + 1]
    i = _sed_delimited(script, i + 2, delim, brackets and command == "s")
    if i < 0:
        return -1
    i = _sed_delimited(script, i, delim, False)
    if i < 0 or command == "y":
        return i
    while i < len(script) and script[i] in _SED_FLAGS:
        if script[i] in "we":
            return -1
        i += 1
    return i


def _awk(args: list[_Word], acc: _Acc, depth: int) -> str | None:
    i = 0
    while i < len(args):
        word = args[i]
        text = word.text
        if word.opaque:
            return _OPAQUE
        if text == "--":
            i += 1
            break
        if not text.startswith("-") or text == "-":
            break
        if text in ("-F", "-v", "--field-separator", "--assign"):
            i += 2
        elif text.startswith(("-F", "-v", "--field-separator=", "--assign=")):
            i += 1
        else:
            return f"option {text} may load code or files"  # -f, -i, -l, -e, -E ...
    if i >= len(args):
        return "no program"
    program = args[i]
    if not program.literal:
        return "the program is not a literal"
    if not _awk_program_safe(program.text):
        return "the program may write files or run commands"
    return None


_AWK_REGEX_PREV = frozenset("(,~!{};&|=:?\n")


def _awk_program_safe(program: str) -> bool:
    code = _awk_strip(program)
    if code is None or "@" in code or "|&" in code or _awk_keywords(code, "system"):
        return False
    if "|" in code.replace("||", ""):
        return False  # print | "cmd" and "cmd" | getline
    # In print/printf an unparenthesised > or >> redirects output to a file.
    for end in _awk_keywords(code, "print"):
        depth = 0
        for c in code[end:]:
            if c in "([":
                depth += 1
            elif c in ")]":
                depth -= 1
                if depth < 0:
                    break
            elif c in ";}\n":
                break
            elif c == ">" and depth == 0:
                return False
    return True


def _is_word_char(c: str) -> bool:
    return c.isalnum() or c == "_"  # what `\\w` matches


def _awk_keywords(code: str, word: str) -> list[int]:
    """End indexes of `word` (or `printf` for print) standing as a whole word."""
    ends: list[int] = []
    n = len(code)
    i = code.find(word)
    while i >= 0:
        if i == 0 or not _is_word_char(code[i - 1]):
            end = i + len(word)
            if word == "print" and code.startswith("f", end):
                end += 1  # printf; `printfx` is neither
            if end == n or not _is_word_char(code[end]):
                ends.append(end)
        i = code.find(word, i + 1)
    return ends


def _awk_strip(program: str) -> str | None:
    """The program with string and regex literals emptied; None if malformed."""
    out: list[str] = []
    prev = "\n"  # last significant character
    i, n = 0, len(program)
    while i < n:
        c = program[i]
        if c == '"' or (c == "/" and prev in _AWK_REGEX_PREV):
            i = _sed_delimited(program, i + 1, c, brackets=c == "/")
            if i < 0:
                return None
            out.append(c + c)
            prev = '"'
            continue
        if c == "#":
            end = program.find("\n", i)
            i = n if end < 0 else end
            continue
        out.append(c)
        if not c.isspace() or c == "\n":
            prev = c
        i += 1
    return "".join(out)


# --- wrappers and shells ---------------------------------------------------


def _run_inner(args: list[_Word], i: int, acc: _Acc, depth: int) -> str | None:
    """Classify the command a wrapper runs, starting at args[i]."""
    if i < len(args):
        _check_argv(args[i:], acc, depth + 1, extra_args=False)
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
            name, eq, _ = text.partition("=")
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
    _check_argv(args[i:], acc, depth + 1, extra_args=True)
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
    inner = _walk_nested(script.text, depth)
    acc.bypass.extend(inner.bypass)
    if inner.mutating:
        return inner.mutating[0]
    return None if plain else "shell options may load start-up files"


def _shell_strict(args: list[_Word], acc: _Acc, depth: int) -> str | None:
    reason = _shell(args, acc, depth)
    return reason or "shell reads start-up files"


def _eval(args: list[_Word], acc: _Acc, depth: int) -> str | None:
    if args and all(w.literal for w in args):
        acc.bypass.extend(_walk_nested(" ".join(w.text for w in args), depth).bypass)
    else:
        _scan_unknown(args, acc, depth, strings=True)
    return "runs a constructed command"


def _exec(args: list[_Word], acc: _Acc, depth: int) -> str | None:
    if not args:
        return None  # only redirections, which are checked on their own
    scratch = _Acc()
    _check_argv(args, scratch, depth + 1, extra_args=False)
    acc.bypass.extend(scratch.bypass)
    return "replaces the shell with another program"


# --- git ----------------------------------------------------------------------

_GIT_GLOBAL_VALUES = frozenset(
    {"-C", "-c", "--git-dir", "--work-tree", "--namespace", "--config-env", "--super-prefix"}
)
_GIT_GLOBAL_FLAGS = frozenset(
    {"--no-pager", "-P", "-p", "--paginate", "--bare", "--no-replace-objects",
     "--literal-pathspecs", "--glob-pathspecs", "--noglob-pathspecs", "--icase-pathspecs",
     "--no-optional-locks", "--no-lazy-fetch", "--no-advice"}
)  # fmt: skip
_GIT_INFO = frozenset(
    {"--version", "--help", "-h", "--html-path", "--man-path", "--info-path", "--exec-path"}
)
_GIT_HARMLESS_SECTIONS = frozenset(
    {"color", "advice", "i18n", "log", "user", "column", "grep", "status", "pretty", "blame",
     "tag", "versionsort", "diff", "init"}
)  # fmt: skip
_GIT_HARMLESS_KEYS = frozenset({"core.quotepath", "core.abbrev"})
_GIT_HARMFUL_KEYS = frozenset({"diff.external"})


def _git_key_harmless(key: str) -> bool:
    if key in _GIT_HARMLESS_KEYS:
        return True
    section, dot, name = key.partition(".")
    return (
        bool(dot)
        and "." not in name
        and section in _GIT_HARMLESS_SECTIONS
        and key not in _GIT_HARMFUL_KEYS
    )


def _git_config_override(word: _Word, acc: _Acc, depth: int, aliases: dict[str, str]) -> None:
    """Handle the value of `git -c key=value` or `git --config-env key=envvar`."""
    if not word.literal:
        acc.mutating.append("git: a -c value is not a literal")
        return
    key, _, value = word.text.partition("=")
    key = key.lower()  # git config section and key names are case-insensitive
    if key == "core.hookspath":
        acc.bypass.append("git -c core.hooksPath replaces the hooks directory")
    if not _git_key_harmless(key):
        acc.mutating.append(f"git: -c {key} can change what git runs")
    if key.startswith("alias.") and value.startswith("!"):
        acc.bypass.extend(_walk_nested(value[1:], depth).bypass)
    elif key.startswith("alias."):
        aliases[key[len("alias.") :]] = value


def _git(args: list[_Word], acc: _Acc, depth: int) -> str | None:
    aliases: dict[str, str] = {}  # from -c alias.name=value, to see through `git ci -n`
    i = 0
    while i < len(args):
        word = args[i]
        text = word.text
        if not word.literal or not text.startswith("-"):
            break
        name, eq, _ = text.partition("=")
        if text in _GIT_GLOBAL_VALUES:
            if i + 1 >= len(args):
                return "missing option value"
            if text in ("-c", "--config-env"):
                _git_config_override(args[i + 1], acc, depth, aliases)
            i += 2
        elif eq and name in _GIT_GLOBAL_VALUES and name.startswith("--"):
            if name == "--config-env":
                _git_config_override(_literal_word(text[len(name) + 1 :]), acc, depth, aliases)
            i += 1
        elif text in _GIT_GLOBAL_FLAGS:
            i += 1
        elif text in _GIT_INFO or name == "--list-cmds":
            return None
        else:
            return _unsure(args[i:], acc, depth, f"global option {name} is not understood")
    if i >= len(args):
        return None  # prints usage
    if not args[i].literal:
        _loose_hook_flags(args[i + 1 :], acc)
        return "the subcommand is not a literal"
    sub, rest = args[i].text, args[i + 1 :]
    if sub in aliases and aliases[sub].split():
        expansion = aliases[sub].split()
        _git_bypass(expansion[0], [_literal_word(w) for w in expansion[1:]] + rest, acc, depth)
    else:
        _git_bypass(sub, rest, acc, depth)
    reader = _GIT_READERS.get(sub)
    if reader is None:
        return f"{sub} can change the repository"
    reason = reader(rest)
    return f"{sub} {reason}" if reason else None


def _git_plain(rest: list[_Word]) -> str | None:
    return None


def _git_difflike(rest: list[_Word]) -> str | None:
    for word in rest:
        if word.literal and word.text == "--":
            break
        if word.opaque:
            return _OPAQUE
        if _long_hit([word.text.partition("=")[0]], ("--output",)):
            return "--output writes a file"
    return None


def _git_grep(rest: list[_Word]) -> str | None:
    parsed = _scan_opts(rest, "efABCm", frozenset({"--max-depth", "--threads"}), "O")
    if parsed is None:
        return _OPAQUE
    if "-O" in parsed[0] or _long_hit(parsed[0], ("--open-files-in-pager",)):
        return "-O runs a pager command"
    return None


def _git_list_refs(
    rest: list[_Word],
    flags: frozenset[str],
    letters: frozenset[str],
    listing_letters: str,
) -> str | None:
    """Listing forms of git branch / git tag; names create refs unless listing."""
    listing = False
    named = False
    i = 0
    while i < len(rest):
        word = rest[i]
        text = word.text
        i += 1
        if word.opaque:
            return _OPAQUE
        name, eq, _ = text.partition("=")
        if text in flags:
            listing = (
                listing
                or text in ("--list", "--verify")
                or (len(text) == 2 and text[1] in listing_letters)
            )
        elif text.startswith("-") and not text.startswith("--") and set(text[1:]) <= letters:
            listing = listing or any(c in listing_letters for c in text[1:] if c.isalpha())
        elif name in _REF_FILTERS:
            listing = True
            if not eq and i < len(rest) and not rest[i].text.startswith("-"):
                i += 1  # optional commit argument
        elif name in ("--sort", "--format"):
            i += 0 if eq else 1
        elif name in ("--color", "--column", "--abbrev"):
            pass
        elif text.startswith("-"):
            return f"option {name} changes refs"
        else:
            named = True
    if named and not listing:
        return "with a name creates a ref"
    return None


_REF_FILTERS = frozenset({"--contains", "--no-contains", "--merged", "--no-merged", "--points-at"})
_BRANCH_FLAGS = frozenset(
    {"-a", "--all", "-r", "--remotes", "-v", "-vv", "--verbose", "-l", "--list",
     "--show-current", "-i", "--ignore-case", "--no-color", "--no-column", "--no-abbrev",
     "-q", "--quiet", "--omit-empty"}
)  # fmt: skip
_TAG_FLAGS = frozenset(
    {"-l", "--list", "-i", "--ignore-case", "--no-color", "--no-column", "-v", "--verify",
     "--omit-empty", "-n"}
)  # fmt: skip


def _git_branch(rest: list[_Word]) -> str | None:
    return _git_list_refs(rest, _BRANCH_FLAGS, frozenset("arvliq"), "l")


def _git_tag(rest: list[_Word]) -> str | None:
    # -n<num> prints annotation lines and, like -l and -v, implies listing.
    return _git_list_refs(rest, _TAG_FLAGS, frozenset("lniv0123456789"), "lnv")


def _git_remote(rest: list[_Word]) -> str | None:
    i = 0
    while i < len(rest) and rest[i].literal and rest[i].text in ("-v", "--verbose"):
        i += 1
    if i == len(rest) or (rest[i].literal and rest[i].text in ("show", "get-url")):
        return None
    return f"{rest[i].text} changes remotes"


_CONFIG_READS = frozenset(
    {"--get", "--get-all", "--get-regexp", "--get-urlmatch", "--list", "-l", "--get-color",
     "--get-colorbool"}
)  # fmt: skip
_CONFIG_WRITES = frozenset(
    {"--add", "--replace-all", "--unset", "--unset-all", "--rename-section", "--remove-section",
     "--edit", "-e"}
)  # fmt: skip
_CONFIG_FLAGS = frozenset(
    {"--global", "--system", "--local", "--worktree", "--includes", "--no-includes",
     "--name-only", "--show-origin", "--show-scope", "-z", "--null", "--bool", "--int",
     "--bool-or-int", "--path", "--expiry-date", "--fixed-value", "--all", "--no-type"}
)  # fmt: skip
_CONFIG_VALUES = frozenset(
    {"-f", "--file", "--blob", "--type", "--default", "--comment", "--value", "--url"}
)
_CONFIG_READ_SUBS = frozenset({"get", "list"})
_CONFIG_WRITE_SUBS = frozenset({"set", "unset", "rename-section", "remove-section", "edit"})


def _git_config_mode(rest: list[_Word]) -> tuple[str, list[str]]:
    """("read" | "write" | "unknown", operands) for the arguments of git config."""
    action = ""
    operands: list[str] = []
    i = 0
    while i < len(rest):
        word = rest[i]
        text = word.text
        i += 1
        if not word.literal:
            return "unknown", operands
        name, eq, _ = text.partition("=")
        if text == "--":
            operands.extend(w.text for w in rest[i:])
            break
        if text in _CONFIG_READS or text in _CONFIG_WRITES:
            action = text
        elif name in _CONFIG_VALUES:
            i += 0 if eq else 1
        elif text.startswith("-") and text not in _CONFIG_FLAGS:
            return "unknown", operands
        elif not text.startswith("-"):
            operands.append(text)
    if action:
        return ("write" if action in _CONFIG_WRITES else "read"), operands
    if operands and operands[0] in _CONFIG_WRITE_SUBS:
        return "write", operands[1:]
    if operands and operands[0] in _CONFIG_READ_SUBS:
        return "read", operands[1:]
    return ("write" if len(operands) >= 2 else "read"), operands  # old "key value" form


def _git_config(rest: list[_Word]) -> str | None:
    mode, _ = _git_config_mode(rest)
    return None if mode == "read" else "may change configuration"


def _git_config_hooks(rest: list[_Word]) -> bool:
    mode, operands = _git_config_mode(rest)
    if mode == "read":
        return False
    lowered = [o.lower() for o in operands]
    if "core.hookspath" in lowered:
        return True
    # Removing or renaming the whole [core] section drops core.hooksPath too.
    return mode == "write" and "core" in lowered[:1] and any(
        w.literal and w.text in ("--remove-section", "--rename-section", "remove-section",
                                 "rename-section")
        for w in rest
    )  # fmt: skip


def _git_stash(rest: list[_Word]) -> str | None:
    if rest and rest[0].literal and rest[0].text in ("list", "show"):
        return _git_difflike(rest[1:])
    return "changes the working tree"


# The way out guard offers a blocked session: it writes only the new tree (and a new branch).
NEW_WORKTREE = "adds a new worktree"


def _git_worktree(rest: list[_Word]) -> str | None:
    if rest and rest[0].literal and rest[0].text == "list":
        return None
    if rest and rest[0].literal and rest[0].text == "add" and all(w.literal for w in rest[1:]):
        return NEW_WORKTREE
    return "changes worktrees"


def _git_reflog(rest: list[_Word]) -> str | None:
    if not rest or (rest[0].literal and rest[0].text.startswith("-")):
        return _git_difflike(rest)
    if rest[0].literal and rest[0].text in ("show", "exists", "list"):
        return _git_difflike(rest[1:])
    return f"{rest[0].text} may change the reflog"


def _git_symbolic_ref(rest: list[_Word]) -> str | None:
    operands = 0
    for word in rest:
        if word.opaque:
            return _OPAQUE
        if word.text in ("-q", "--quiet", "--short", "--no-short", "--recurse", "--no-recurse"):
            continue
        if word.text.startswith("-"):
            return f"{word.text} changes refs"
        operands += 1
    return None if operands <= 1 else "with a target updates a ref"


# git subcommands that only read, whatever their arguments.
_GIT_PLAIN_SUBCOMMANDS = (
    "status", "blame", "annotate", "rev-parse", "ls-files", "ls-tree", "cat-file",
    "describe", "shortlog", "merge-base", "for-each-ref", "show-ref", "name-rev",
    "rev-list", "count-objects", "check-ignore", "check-attr", "check-mailmap",
    "check-ref-format", "var", "help", "version", "verify-commit", "verify-tag",
)  # fmt: skip


_GIT_READERS: dict[str, Callable[[list[_Word]], str | None]] = {
    **dict.fromkeys(_GIT_PLAIN_SUBCOMMANDS, _git_plain),
    **dict.fromkeys(
        ("log", "diff", "show", "whatchanged", "diff-tree", "diff-files", "diff-index"),
        _git_difflike,
    ),
    "grep": _git_grep,
    "branch": _git_branch,
    "tag": _git_tag,
    "remote": _git_remote,
    "config": _git_config,
    "stash": _git_stash,
    "worktree": _git_worktree,
    "reflog": _git_reflog,
    "range-diff": _git_difflike,
    "symbolic-ref": _git_symbolic_ref,
}

# Short options whose value is the next word (or the rest of the cluster), and
# short options that take only an attached value, per subcommand.
_GIT_SHORT_VALUES: dict[str, tuple[str, str]] = {
    "commit": ("mFCct", "Su"),
    "merge": ("mFsX", "S"),
    "rebase": ("sXxC", "S"),
    "push": ("o", ""),
    "am": ("pC", "S"),
    "cherry-pick": ("mX", "S"),
    "revert": ("mX", "S"),
    "pull": ("sX", "S"),
    "tag": ("mFu", ""),
}
_GIT_LONG_VALUES = frozenset(
    {"--message", "--file", "--author", "--date", "--cleanup", "--reuse-message",
     "--reedit-message", "--fixup", "--squash", "--template", "--trailer",
     "--pathspec-from-file", "--strategy", "--strategy-option", "--into-name", "--push-option",
     "--repo", "--receive-pack", "--exec", "--onto", "--whitespace", "--directory", "--exclude",
     "--include", "--patch-format", "--resolvemsg", "--mainline", "--grep", "--local-user"}
)  # fmt: skip
# git accepts unambiguous abbreviations: --no-veri and --no-verif mean --no-verify.
_GIT_NO_VERIFY = frozenset({"--no-verify", "--no-verif", "--no-veri"})
_GIT_VERIFY = frozenset({"--verify", "--verif", "--veri", "--no-no-verify"})


def _git_bypass(sub: str, rest: list[_Word], acc: _Acc, depth: int) -> None:
    """Record whether `git <sub> <rest>` switches git hooks off."""
    if sub == "config":
        if _git_config_hooks(rest):
            acc.bypass.append("git config changes core.hooksPath")
        return
    if sub in _GIT_READERS:
        return  # read-only subcommands run no hooks; a stray --no-verify is an error
    if sub in ("submodule", "bisect"):
        _git_nested_commands(rest, acc, depth)
        return
    value_letters, attached_letters = _GIT_SHORT_VALUES.get(sub, ("mF", ""))
    no_verify = False
    exec_commands: list[str] = []  # git rebase --exec runs these in a shell
    i = 0
    while i < len(rest):
        word = rest[i]
        text = word.text
        i += 1
        if not word.literal:
            continue
        if text == "--":
            break
        if text.startswith("--"):
            name, eq, value = text.partition("=")
            if name in _GIT_NO_VERIFY:
                no_verify = True
            elif name in _GIT_VERIFY:
                no_verify = False
            elif name in _GIT_LONG_VALUES:
                if not eq:
                    value = _arg(rest, i).text
                    i += 1
                if sub == "rebase" and name == "--exec":
                    exec_commands.append(value)
        elif text.startswith("-") and len(text) > 1:
            for j in range(1, len(text)):
                letter = text[j]
                if letter in attached_letters:
                    break
                if letter in value_letters:
                    value = text[j + 1 :]
                    if not value:
                        value = _arg(rest, i).text
                        i += 1
                    if sub == "rebase" and letter == "x":
                        exec_commands.append(value)
                    break
                if letter == "n" and sub == "commit":
                    no_verify = True  # for git commit, -n is --no-verify
    if no_verify:
        acc.bypass.append(f"git {sub} --no-verify skips git hooks")
    for command in exec_commands:
        acc.bypass.extend(_walk_nested(command, depth).bypass)


def _git_nested_commands(rest: list[_Word], acc: _Acc, depth: int) -> None:
    """`git submodule foreach CMD` runs shell code, `git bisect run CMD ARGS` a command."""
    words = [w for w in rest if not (w.literal and w.text in ("--recursive", "-q", "--quiet"))]
    if len(words) < 2 or not words[0].literal or words[0].text not in ("foreach", "run"):
        return
    if words[0].text == "run":
        scratch = _Acc()
        _check_argv(words[1:], scratch, depth + 1, extra_args=False)
        acc.bypass.extend(scratch.bypass)
    elif all(w.literal for w in words[1:]):
        acc.bypass.extend(_walk_nested(" ".join(w.text for w in words[1:]), depth).bypass)


_HANDLERS: dict[str, _Handler] = {
    "git": _git,
    "find": _find,
    "sed": _sed,
    **dict.fromkeys(("awk", "gawk", "mawk", "nawk"), _awk),
    "xargs": _xargs,
    "env": _env,
    "time": _time,
    "command": _command,
    "builtin": _builtin,
    "nice": _nice,
    "timeout": _timeout,
    "stdbuf": _stdbuf,
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
    "printf": _printf,
    "set": _set,
    "read": _read,
    "hostname": _hostname,
    "export": _export,
    **dict.fromkeys(_SHELL_READ_ONLY, _shell),
    **dict.fromkeys(("zsh", "ksh"), _shell_strict),
    "eval": _eval,
    "exec": _exec,
    **{name: _make_version_handler(name) for name in _VERSION_ARGS},
}

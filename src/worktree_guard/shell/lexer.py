"""A small model of bash: splits a command line into simple commands and words.

The lexer is a model of bash rather than :mod:`shlex`, because the classifier needs
the operator, redirection, heredoc and substitution structure that shlex does not
expose.  Commands inside $(...), backticks, <(...), >(...) and unquoted heredoc
bodies are parsed too and flattened into one list.  Syntax it does not model
(``case``, function definitions, ``$[ ]`` ...) raises ``ParseError``; a line
that cannot be parsed is never read-only.

Every place where bash evaluates text as arithmetic is a way to run code: a name in
an arithmetic expression is looked up and its value evaluated in turn, and a
subscript in that value (``a[$(rm f)]``) runs its substitutions.  So ``$(( ))``,
``(( ))``, ``${x:offset:length}``, ``${a[subscript]}`` and ``${!x}`` count as
problems unless what they evaluate is plain numbers and operators; ``[[ ]]`` is
parsed here (its ``<``, ``>``, ``(`` are operators, not redirections) and judged
by its handler.  It scans by hand, without ``re`` (see the
package docstring); the rare $'...' decoding compiles its pattern lazily.
"""

from __future__ import annotations

from worktree_guard.shell.bashtext import (
    arith_assigns,
    arith_literal,
    heredoc_close,
    prints_object_names,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re

# Limit on nesting (substitutions, nested shells, wrappers) before giving up.
MAX_DEPTH = 24

# Placeholders in Word.raw for characters that did not come from unquoted text.
_QUOTED = "\x01"
_EXPANDED = "\x00"
# A substitution that prints only object names (`$(git rev-parse HEAD)`): its words are
# unknown but can never be options, globs or several words of another kind.
_NAMES = "\x02"

# Characters that end a run of plain text: in an unquoted word, inside double
# quotes, and in an unquoted heredoc body.  Scanned by hand (no `re`, see above).
_WORD_STOP = frozenset(" \t\n;&|()<>\\'\"$`")
_DQ_STOP = frozenset('"\\$`')
_HEREDOC_STOP = frozenset("\\$`")
# Shell variable names: [A-Za-z_][A-Za-z0-9_]*.
_NAME_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_NAME_CHARS = _NAME_START | frozenset("0123456789")
# Reserved words after which a new command starts (so `((` and `[[` are recognised).
_BEFORE_COMMAND = frozenset(
    {"!", "if", "then", "elif", "else", "do", "while", "until", "{", "time"}
)
# Redirection operators, longest first where one is a prefix of another.
_REDIR_OPS = (">>", ">|", ">&", ">", "<<<", "<<-", "<<", "<>", "<&", "<")
_ANSI_ESCAPE = r"(?s)\\(x[0-9A-Fa-f]{1,2}|u[0-9A-Fa-f]{1,4}|U[0-9A-Fa-f]{1,8}|[0-7]{1,3}|c.|.)"
_ANSI_SIMPLE = {
    "n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b",
    "f": "\f", "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?",
}  # fmt: skip


_LAZY_PATTERNS: dict[str, re.Pattern[str]] = {}


def lazy_pattern(pattern: str) -> re.Pattern[str]:
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


def name_end(src: str, i: int) -> int:
    """Index after a shell variable name starting at i, or i when there is none."""
    n = len(src)
    if i < n and src[i] in _NAME_START:
        i += 1
        while i < n and src[i] in _NAME_CHARS:
            i += 1
    return i


def digits_end(text: str, i: int) -> int:
    """Index after a run of decimal digits (what `\\d` matches) starting at i."""
    n = len(text)
    while i < n and text[i].isdecimal():
        i += 1
    return i


def _redirect_end(src: str, i: int) -> int:
    """Index after a redirection operator (with an fd or {name} prefix) at i, or -1."""
    if src.startswith("&>", i):
        return i + 3 if src.startswith(">", i + 2) else i + 2
    j = digits_end(src, i)
    if j == i and src.startswith("{", i):
        end = name_end(src, i + 1)
        if end > i + 1 and src.startswith("}", end):
            j = end + 1
    if src[j : j + 1] in ("<", ">"):
        for op in _REDIR_OPS:
            if src.startswith(op, j):
                return j + len(op)
    return -1


class ParseError(Exception):
    """The command uses syntax this lexer does not model."""


class Word:
    """One shell word after quote removal, with what is known about its value."""

    __slots__ = ("literal", "opaque", "quoted", "raw", "split", "text")

    def __init__(self, text: str, raw: str, quoted: bool, expanded: bool, split: bool) -> None:
        self.text = text  # value; expansions keep their source spelling
        self.raw = raw  # unquoted characters verbatim, everything else as a placeholder
        self.quoted = quoted
        self.split = split  # an unquoted expansion: may become several words
        # Known exactly: no expansion, glob or brace pattern.
        self.literal = not expanded and not _has_pattern(raw)
        # Could expand to an option (or to several words) that we cannot see.
        self.opaque = split or (
            not self.literal
            and (not raw or raw[0] in "\x00*?[{" or text.startswith("-"))
            and not _visible_long_option(text)
        )


def _visible_long_option(text: str) -> bool:
    """`--name=...`: whatever the value expands to, the option itself is known.

    Expansions keep their source spelling in text and start with $, ` or <(, none of
    which is a name character, so a name made only of name characters is literal.
    """
    if not text.startswith("--"):
        return False
    eq = text.find("=")
    return eq > 2 and all(c in _NAME_CHARS or c == "-" for c in text[2:eq])


class Redirect:
    __slots__ = ("op", "target")

    def __init__(self, op: str, target: Word) -> None:
        self.op = op  # operator without its file descriptor prefix
        self.target = target


class Simple:
    """One simple command, and the separator that ends it (`;`, `&&`, `||`, `|`, `|&`, `&`,
    newline as `;`, `)` closing a group or substitution, or `end`)."""

    __slots__ = ("redirects", "separator", "words")

    def __init__(self, words: list[Word], redirects: list[Redirect],
                 separator: str = ")") -> None:
        self.words = words
        self.redirects = redirects
        self.separator = separator


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


class Parser:
    """Splits bash source into a flat list of simple commands.

    Commands found inside substitutions and heredoc bodies are appended to the
    same list: a line is read-only only if every one of them is.
    """

    __slots__ = ("commands", "depth", "heredocs", "pos", "problems", "src")

    def __init__(self, src: str, depth: int) -> None:
        self.src = src
        self.pos = 0
        self.depth = depth
        self.commands: list[Simple] = []
        self.problems: list[str] = []  # constructs that are never read-only
        self.heredocs: list[tuple[str, bool, bool]] = []  # delimiter, quoted, strip tabs

    def parse_list(self, closer: bool) -> None:
        """Parse commands up to the end, or up to the ')' closing a substitution."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ParseError("nested too deeply")
        src = self.src
        words: list[Word] = []
        redirects: list[Redirect] = []
        groups = 0  # open '(' subshells in this list
        while True:
            if self.pos >= len(src):
                if closer or groups:
                    raise ParseError("unbalanced parentheses")
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
            elif c == "(" and _array_start(src, self.pos, words):
                self._array(words)
            elif c == "(":
                if redirects or not _command_start(words):
                    raise ParseError("unexpected '('")
                if src.startswith("((", self.pos) and self._arith_command():
                    continue
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
                    raise ParseError("unbalanced ')'")
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
                    raise ParseError("case syntax")
                self.pos += 2 if pair in ("&&", "||", "|&") else 1
            elif (
                c == "["
                and src.startswith("[[", self.pos)
                and src[self.pos + 2 : self.pos + 3] in ("", " ", "\t", "\n")
                and _command_start(words)
            ):
                self._conditional(words)
            else:
                words.append(self._word())
        self.depth -= 1

    def _array(self, words: list[Word]) -> None:
        """`NAME=(a b c)`: the elements are words (their substitutions parsed as usual);
        an element `[subscript]=value` has its subscript evaluated as arithmetic."""
        src = self.src
        n = len(src)
        start = self.pos
        self.pos += 1
        while True:
            while self.pos < n and (src[self.pos] in " \t\n" or src.startswith("\\\n", self.pos)):
                self.pos += 2 if src[self.pos] == "\\" else 1
            if self.pos >= n:
                raise ParseError("unterminated array")
            c = src[self.pos]
            if c == ")":
                self.pos += 1
                break
            if c == "#":
                raise ParseError("a comment inside an array")
            if c in ";&|<>(":
                raise ParseError(f"unexpected {c!r} in an array")
            element = self._word()
            if element.text.startswith("["):
                close = element.text.find("]")
                if close < 0 or not arith_literal(element.text[1:close]):
                    self.problems.append("a subscript is evaluated as arithmetic")
        head = words[-1]
        words[-1] = Word(head.text + src[start : self.pos], head.raw + _EXPANDED,
                         quoted=head.quoted, expanded=True, split=False)

    def _flush(self, words: list[Word], redirects: list[Redirect]) -> None:
        if words or redirects:
            self.commands.append(Simple(words[:], redirects[:], self._separator_here()))
            words.clear()
            redirects.clear()

    def _separator_here(self) -> str:
        rest = self.src[self.pos : self.pos + 2]
        if rest in ("&&", "||", "|&"):
            return rest
        return rest[:1] or "end"

    def _redirect(self, op: str) -> Redirect:
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
            raise ParseError("redirection without a target")
        target = self._word()
        if kind in ("<<", "<<-"):
            self.heredocs.append((target.text, target.quoted, kind == "<<-"))
        return Redirect(kind, target)

    def _read_heredocs(self) -> None:
        """Consume the bodies of heredocs opened on the line just ended.

        In an unquoted body bash joins a line ending in a backslash with the next
        before comparing it with the delimiter (`EO\\<newline>F` ends an EOF heredoc).
        The body ends at the first line that closes it read either way, so what
        follows is parsed as commands whenever bash might run it.
        """
        src = self.src
        n = len(src)
        for delimiter, quoted, strip_tabs in self.heredocs:
            start = self.pos
            body_end = n
            while self.pos < n:
                end = heredoc_close(src, self.pos, delimiter, strip_tabs, joined=not quoted)
                if end >= 0:
                    body_end = self.pos
                    self.pos = end
                    break
                newline = src.find("\n", self.pos)
                self.pos = n if newline < 0 else newline + 1
            if not quoted:  # an unquoted delimiter lets $(...) in the body run
                self._nested(src[start:body_end], heredoc=True)
        self.heredocs.clear()

    def _arith_command(self) -> bool:
        """Parse `(( expression ))` at pos; False (nothing consumed) if it is `( (...) )`."""
        start = self.pos
        commands, problems = len(self.commands), len(self.problems)
        self.pos += 2
        try:
            self._arith()
        except ParseError:
            self.pos = start
            del self.commands[commands:]
            del self.problems[problems:]
            return False
        return True

    def _conditional(self, words: list[Word]) -> None:
        """Parse `[[ ... ]]` into words: inside it < > ( ) && || are operators."""
        src = self.src
        n = len(src)
        self.pos += 2
        words.append(literal_word("[["))
        while True:
            while self.pos < n and (
                src[self.pos] in " \t\n" or src.startswith("\\\n", self.pos)
            ):
                self.pos += 2 if src[self.pos] == "\\" else 1
            if self.pos >= n:
                raise ParseError("unterminated [[")
            c = src[self.pos]
            if src.startswith("]]", self.pos) and src[self.pos + 2 : self.pos + 3] in (
                "", " ", "\t", "\n", ";", "&", "|", ")", "<", ">",
            ):  # fmt: skip
                self.pos += 2
                words.append(literal_word("]]"))
                return
            if c in "<>" and not src.startswith("(", self.pos + 1):
                words.append(literal_word(c))
                self.pos += 1
            elif src.startswith(("&&", "||"), self.pos) or c in "()":
                op = c if c in "()" else src[self.pos : self.pos + 2]
                words.append(literal_word(op))
                self.pos += len(op)
            elif c in ";&|":
                raise ParseError(f"unexpected {c!r} in [[ ]]")
            elif words[-1].literal and words[-1].text == "=~":
                words.append(self._regex_word())
            else:
                words.append(self._word())

    def _regex_word(self) -> Word:
        """The pattern after =~, where ( ) and | belong to the word."""
        src = self.src
        n = len(src)
        start = self.pos
        depth = 0
        while self.pos < n:
            c = src[self.pos]
            if c in " \t\n" and depth == 0:
                break
            if c == "(":
                depth += 1
                self.pos += 1
            elif c == ")":
                if depth == 0:
                    break
                depth -= 1
                self.pos += 1
            elif c == "'":
                end = src.find("'", self.pos + 1)
                if end < 0:
                    raise ParseError("unterminated single quote")
                self.pos = end + 1
            elif c == '"':
                self.pos += 1
                self._dq('"')
            elif c == "$":
                self._dollar(in_dq=False)
            elif c == "`":
                self._backtick()
            else:
                self.pos += 2 if c == "\\" else 1
        if self.pos == start:
            raise ParseError("=~ without a pattern")
        return Word(src[start : self.pos], _EXPANDED, quoted=True, expanded=True, split=False)

    def _nested(self, src: str, heredoc: bool = False) -> None:
        sub = Parser(src, self.depth)
        if heredoc:
            sub._dq(None)
        else:
            sub.parse_list(closer=False)
        self.commands.extend(sub.commands)
        self.problems.extend(sub.problems)

    def _word(self) -> Word:
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
                    raise ParseError("unterminated single quote")
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
        raw_text = "".join(raw)
        expanded = expanded or _NAMES in raw_text
        return Word("".join(text), raw_text, quoted, expanded, split)

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
                raise ParseError("unterminated double quote")
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
                first = len(self.commands)
                self.parse_list(closer=True)
                if len(self.commands) == first + 1 and prints_object_names(self.commands[first]):
                    return src[start : self.pos], _NAMES, False
            return src[start : self.pos], _EXPANDED, not in_dq
        if nxt == "{":
            self.pos = start + 2
            self._param(in_dq)
            return src[start : self.pos], _EXPANDED, not in_dq
        if nxt == "[":
            raise ParseError("$[ ] arithmetic")
        if nxt == "'" and not in_dq:
            return self._ansi_c(), _QUOTED, False
        if nxt == '"' and not in_dq:
            self.pos = start + 2
            seg, seg_raw = self._dq('"')
            return seg, seg_raw or _QUOTED, False
        end = name_end(src, start + 1)
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
            raise ParseError("unterminated $'...'")
        body = src[self.pos + 2 : i]
        self.pos = i + 1
        if "\\" not in body:
            return body
        return lazy_pattern(_ANSI_ESCAPE).sub(_ansi_unescape, body)  # rare: `re` only here

    def _backtick(self) -> str:
        src = self.src
        start = self.pos
        i = start + 1
        inner: list[str] = []
        while True:
            if i >= len(src):
                raise ParseError("unterminated backquote")
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
                        raise ParseError("unbalanced arithmetic")
                    body = src[start : self.pos]
                    if arith_assigns(body):
                        self.problems.append("arithmetic expansion assigns a variable")
                    elif not arith_literal(body):
                        self.problems.append("arithmetic evaluates a name or an expansion")
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
        raise ParseError("unterminated $((")

    def _param(self, in_dq: bool) -> None:
        """Parse a ${ } body: the substitutions inside it, and the forms that evaluate text.

        ${!x} (indirect), ${a[subscript]} and ${x:offset:length} evaluate text as a
        name or as arithmetic; ${x@P} expands a value the way a prompt is, running
        its substitutions.  Quotes follow bash: in double quotes, single quotes are
        plain characters in the word of - = ? + (so `"${x:-'$(cmd)'}"` runs cmd).
        """
        src = self.src
        n = len(src)
        i = self.pos
        indirect = src.startswith("!", i) and not src.startswith("!}", i)
        if indirect or (src.startswith("#", i) and not src.startswith("#}", i)):
            i += 1  # ${!name...} or the length ${#name}
        end = name_end(src, i)
        if end == i:
            end = digits_end(src, i)
        if end == i and i < n and src[i] in "@*#?-$!":
            end = i + 1
        if end == i:
            raise ParseError("unsupported ${...} form")
        self.pos = end
        subscript = None
        if src.startswith("[", self.pos):
            self.pos += 1
            sub_start = self.pos
            self._param_word("]", quotes=False)
            subscript = src[sub_start : self.pos]
            self.pos += 1
            if subscript not in ("@", "*") and not arith_literal(subscript):
                self.problems.append("a subscript is evaluated as arithmetic")
        if self.pos >= n:
            raise ParseError("unterminated ${")
        c = src[self.pos]
        if indirect:
            if c in "*@" and subscript is None and src.startswith("}", self.pos + 1):
                self.pos += 2  # ${!prefix*}: names of variables
                return
            if not (c == "}" and subscript in ("@", "*")):  # ${!a[@]}: keys of an array
                self.problems.append("indirect expansion evaluates a name read from a value")
        if c == "}":
            self.pos += 1
            return
        if c == "@" and src.startswith("P", self.pos + 1):
            self.problems.append("${x@P} expands a value as a prompt, running its substitutions")
        if c == ":" and src[self.pos + 1 : self.pos + 2] not in ("-", "=", "?", "+"):
            self.pos += 1
            start = self.pos
            self._param_word("}", quotes=False)
            if not arith_literal(src[start : self.pos]):
                self.problems.append("a substring offset or length is evaluated as arithmetic")
            self.pos += 1
            return
        if c == ":":
            self.pos += 1
            c = src[self.pos : self.pos + 1]
        if not c or c not in "-=?+#%/^,@":
            raise ParseError("unsupported ${...} operator")
        self.pos += 1
        # In patterns single quotes quote, in the word of - = ? + only outside "...".
        self._param_word("}", quotes=c in "#%/^,@" or not in_dq)
        self.pos += 1

    def _param_word(self, closer: str, quotes: bool) -> None:
        """Skip to the unnested closer of a ${ } part, parsing substitutions inside it."""
        src = self.src
        opener = "{" if closer == "}" else "["
        depth = 0
        while self.pos < len(src):
            c = src[self.pos]
            if c == closer:
                if depth == 0:
                    return
                depth -= 1
                self.pos += 1
            elif c == opener:
                depth += 1
                self.pos += 1
            elif c == "'" and quotes:
                end = src.find("'", self.pos + 1)
                if end < 0:
                    raise ParseError("unterminated single quote")
                self.pos = end + 1
            elif c == '"':
                self.pos += 1
                self._dq('"')
            elif c == "$" and quotes and src.startswith("'", self.pos + 1):
                self._ansi_c()  # $'...' where quotes quote: backslash escapes, \' too
            elif c == "$":
                self._dollar(in_dq=True)
            elif c == "`":
                self._backtick()
            else:
                self.pos += 2 if c == "\\" else 1
        raise ParseError("unterminated ${")


def _array_start(src: str, i: int, words: list[Word]) -> bool:
    """Whether the '(' at i opens an array value: right after `NAME=` or `NAME+=`, in a
    word that stands where assignments do (only assignments before it)."""
    if not words or i == 0 or src[i - 1] != "=":
        return False
    raw = words[-1].raw
    end = name_end(raw, 0)
    if end == 0 or raw[end:] not in ("=", "+="):
        return False
    return all(name_end(w.raw, 0) > 0 and "=" in w.raw for w in words[:-1])


def _command_start(words: list[Word]) -> bool:
    """Whether the next word starts a command (nothing but reserved words before it)."""
    return all(w.literal and w.text in _BEFORE_COMMAND for w in words)


# Words made up by handlers (option values found inside another word, missing values).


def literal_word(text: str) -> Word:
    return Word(text, _QUOTED, quoted=True, expanded=False, split=False)


def option_value(args: list[Word], i: int) -> Word:
    """The option value at index i; a missing one is treated as unknown."""
    if i < len(args):
        return args[i]
    return Word("", _EXPANDED, quoted=False, expanded=True, split=True)

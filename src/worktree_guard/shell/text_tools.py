"""find, sed and awk: read-only unless they write files, run commands or edit in place.

sed scripts and awk programs are scanned by hand for their write and exec forms
(w/W/e, s///w, system(), print > file, pipes ...).
"""

from __future__ import annotations

from worktree_guard.shell.git import unsure
from worktree_guard.shell.lexer import digits_end, literal_word, option_value
from worktree_guard.shell.walk import OPAQUE, long_hit

TYPE_CHECKING = False
if TYPE_CHECKING:
    from worktree_guard.shell.lexer import Word
    from worktree_guard.shell.walk import Acc

_FIND_WRITES = frozenset({"-delete", "-fprint", "-fprint0", "-fprintf", "-fls", "-ok", "-okdir"})


def find(args: list[Word], acc: Acc, depth: int) -> str | None:
    i = 0
    while i < len(args):
        word = args[i]
        text = word.text
        if word.opaque:
            return unsure(args, acc, depth, OPAQUE)
        if text in _FIND_WRITES:
            return unsure(args[i + 1 :], acc, depth, f"{text} writes, deletes or prompts")
        if text in ("-exec", "-execdir"):
            end = i + 1
            while end < len(args) and not (args[end].literal and args[end].text in (";", "+")):
                end += 1
            if end == i + 1:
                return f"{text} without a command"
            inner = acc.child()
            # {} becomes a path under the start point, never an option.
            acc.check_argv(args[i + 1 : end], inner, depth + 1, False)
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


def sed(args: list[Word], acc: Acc, depth: int) -> str | None:
    scripts: list[Word] = []
    operands: list[Word] = []
    i = 0
    options_done = False
    while i < len(args):
        word = args[i]
        text = word.text
        i += 1
        if options_done:
            operands.append(word)  # after --, even a glob is only a file name
        elif word.opaque:
            return OPAQUE  # a file operand could be -i as well
        elif not text.startswith("-") or text == "-":
            operands.append(word)
        elif text == "--":
            options_done = True
        elif text.startswith("--"):
            name, eq, value = text.partition("=")
            if long_hit([name], ("--in-place",)):
                return "--in-place edits files"
            if name in ("--expression", "--line-length"):
                if name == "--expression":
                    if not eq:
                        scripts.append(option_value(args, i))
                    else:  # a value that expands is unknown
                        scripts.append(literal_word(value) if word.literal else option_value([], 0))
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
                        scripts.append(literal_word(rest) if rest else option_value(args, i))
                    i += 0 if rest else 1
                    break
                if letter not in _SED_FLAG_LETTERS:
                    return f"option -{letter} is not understood"  # includes -f script files
    if not scripts:
        if not operands:
            return None
        scripts = [operands[0]]
    if not all(script.literal for script in scripts):
        return "the script is not a literal"
    # sed joins its -e pieces with newlines into one script.
    if not _sed_script_safe("\n".join(script.text for script in scripts)):
        return "the script may write files or run commands (w/W/e)"
    return None


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
        elif c in "btT:v":  # GNU sed: labels (and v's version) end at ; or a newline
            while i < n and script[i] not in ";\n":
                i += 1
        elif c in "aicrR":  # text and files to read run to the end of the line
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
    end = digits_end(script, j)
    if end == j:
        return -1
    if script.startswith("~", end):
        step = digits_end(script, end + 1)
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


def awk(args: list[Word], acc: Acc, depth: int) -> str | None:
    i = 0
    while i < len(args):
        word = args[i]
        text = word.text
        if word.opaque:
            return OPAQUE
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

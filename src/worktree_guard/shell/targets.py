"""Where a Bash command line may write: the folders whose working trees it can change.

Pure: a command line, the folder it starts in and the home folder in; paths out. Which
working tree a path is in (and symlinks) is the caller's question, because it needs the
file system. Nothing here decides whether a command is read-only: the classifier says so
per simple command (`mutates`), and only mutating commands have their words looked at.

What counts as a target of one simple command:

* an output redirection's file, for any command (`cat x > f` writes f);
* for a mutating command, the folder it runs in, and every word that may name a path
  (`rm /a/x`, `sed -i ... link`, `make -C ../a`, `--out=/a/f`); words inside a quoted
  string (`bash -c "rm /a/x"`, `python -c "open('/a/x','w')"`) are split into tokens;
* for git, the repository it acts on instead: `-C DIR` (cumulative), `--git-dir`,
  `--work-tree`, `GIT_DIR=`/`GIT_WORK_TREE=` prefixes; its path arguments are confined
  to that repository by git itself, so only the ones that leave it count: the new tree of
  `worktree add`, the folder of `clone`/`init`, `--output`, `config --file`, `bundle create`.

The folder a command runs in follows `cd`/`pushd`: after `cd X &&` the chain runs in X
(or not at all); after any other separator, and after `popd`, a command may run in any
folder the line has been in so far. A `cd` inside a subshell or substitution therefore
only widens the set. Assignments of a literal value (`d=../b; git -C "$d" ...`) are
followed; any other expansion is unsure.

Unsure targets (`$VAR`, a glob, `~user`, `cd $X`) are reported with the folder they may
reach below (None: anywhere) and why, so the caller can judge them by the trees that lie
there.
"""

from __future__ import annotations

from worktree_guard.lite import system
from worktree_guard.shell.gitruns import PREFIX_WORDS as _PREFIX_WORDS
from worktree_guard.shell.gitruns import SHELLS as _SHELLS
from worktree_guard.shell.gitruns import branches_written, git_subcommands, shell_code
from worktree_guard.shell.lexer import ParseError
from worktree_guard.shell.parsed import parse_line

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from worktree_guard.shell.lexer import Simple, Word

__all__ = ["Targets", "Unsure", "branches_written", "extract_targets", "git_subcommands",
           "shell_code"]

_OUTPUT_REDIRECTS = frozenset({">", ">>", ">|", "<>", ">&", "&>", "&>>"})
_SAFE_SINKS = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty"})
_PATTERN_CHARS = "*?[{$`"
# Characters that split a quoted string into path-like tokens.
_TOKEN_SPLIT = " \t\n'\"();|&<>=,:"
# git global options that take their value as the next word.
_GIT_VALUE_OPTIONS = frozenset({"-c", "--namespace", "--exec-path", "--config-env",
                                "--super-prefix", "--list-cmds"})
_CLONE_VALUE_OPTIONS = frozenset(
    {"-b", "--branch", "-o", "--origin", "--depth", "-c", "--config", "--reference",
     "--reference-if-able", "-u", "--upload-pack", "--template", "-j", "--jobs", "--filter",
     "--separate-git-dir", "--shallow-since", "--shallow-exclude", "--server-option"}
)  # fmt: skip
_WORKTREE_ADD_VALUE_OPTIONS = frozenset({"-b", "-B", "--reason", "--orphan"})
# Commands that write only their last operand (or the folder given to -t).
_COPIERS = frozenset({"cp", "ln", "install", "rsync"})
# Commands that change only the paths they are given (a relative one is found below the
# folder they run in), so that folder itself is not a target of theirs.
_OPERAND_ONLY = frozenset(
    {"mkdir", "touch", "rm", "rmdir", "unlink", "cp", "mv", "ln", "install", "rsync", "chmod",
     "chown", "chgrp", "truncate", "tee", "shred"}
)  # fmt: skip
# The bounds on what a line's reading tracks: past them, a folder or a value is unknown
# (so the line is unsure), which keeps the time linear in the line's length.
MAX_FOLDERS = 16
MAX_VARIABLES = 64
# Longer lines are not read (as the classifier does not read them): unsure everywhere.
MAX_LINE = 32 * 1024
# Variables the shell itself reads to find folders.
_SHELL_STATE = frozenset({"CDPATH", "OLDPWD"})
# The lexer's problems that evaluate a value as code (see lexer._arith and lexer._param).
_EVALUATES = frozenset({
    "arithmetic evaluates a name or an expansion",
    "arithmetic expansion assigns a variable",
    "a subscript is evaluated as arithmetic",
    "indirect expansion evaluates a name read from a value",
    "${x@P} expands a value as a prompt, running its substitutions",
    "a substring offset or length is evaluated as arithmetic",
})
# Commands that give a file a second name (a link): what is written through that name
# later in the line (or later at all) changes the source, so the source is a target too.
_LINKERS = frozenset({"ln", "link"})
_CP_LINKING = ("-l", "-s", "--link", "--symbolic-link")
# Separators after which a command runs whether or not the one before succeeded.
_AND = "&&"


class Unsure:
    """A target that cannot be worked out: the folder it may reach below (None: anywhere)."""

    __slots__ = ("below", "why")

    def __init__(self, below: str | None, why: str) -> None:
        self.below = below
        self.why = why

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unsure) and (self.below, self.why) == (other.below, other.why)

    def __hash__(self) -> int:
        return hash((self.below, self.why))

    def __repr__(self) -> str:
        return f"Unsure(below={self.below!r}, why={self.why!r})"


class Targets:
    """Absolute paths a line may change (not yet resolved: `..` and symlinks are the
    caller's), and the targets it could not work out."""

    __slots__ = ("_seen", "paths", "unsure")

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.unsure: list[Unsure] = []
        self._seen: set[object] = set()  # membership in constant time: a long line stays linear

    def add(self, path: str) -> None:
        if path not in self._seen:
            self._seen.add(path)
            self.paths.append(path)

    def doubt(self, below: str | None, why: str) -> None:
        item = Unsure(below, why)
        if item not in self._seen:
            self._seen.add(item)
            self.unsure.append(item)


class _Scope:
    """Where the next command may run: a list of folders (None: unknown), and literal
    variable values seen so far."""

    __slots__ = ("bounded", "home", "narrowed", "piped", "piped_local", "possible",
                 "unknown", "variables")

    def __init__(self, cwd: str, home: str | None) -> None:
        self.possible: list[str | None] = [cwd]  # every folder the line may be in by now
        self.narrowed: list[str | None] | None = None  # after `cd X &&`: only these
        self.variables: dict[str, str] = {}
        self.unknown: set[str] = set()  # names given a value that cannot be read (CDPATH...)
        # Loop variables over relative words and globs: unknown, but below these folders.
        self.bounded: dict[str, list[str | None]] = {}
        self.piped: bool = False  # the command before fed this one through a pipe...
        self.piped_local = False  # ...and it prints only paths below the folder it runs in
        self.home = home

    @property
    def current(self) -> list[str | None]:
        return self.narrowed if self.narrowed is not None else self.possible


def extract_targets(
    command: str, cwd: str, home: str | None, mutates: Callable[[Simple], bool]
) -> Targets:
    """The targets of a whole line. A line that cannot be parsed is unsure everywhere."""
    out = Targets()
    if len(command) > MAX_LINE:
        out.doubt(None, f"the line is too long to read ({len(command)} characters)")
        return out
    try:
        parsed = parse_line(command)
    except ParseError as exc:
        _string_tokens(command, _Scope(cwd, home), out, f"could not parse the command ({exc})")
        out.add(cwd)
        return out
    scope = _Scope(cwd, home)
    for problem in parsed.problems:
        if problem in _EVALUATES:
            # A value evaluated as arithmetic, a name or a prompt runs the substitutions
            # it holds (`x='a[$(rm -rf /a)]'; echo $((x))`), so what it writes is unknown.
            out.doubt(None, f"{problem}, which may run a command held in a value")
    for cmd in parsed.commands:
        _one_command(cmd, cmd.separator, scope, mutates, out)
    return out


def _one_command(
    cmd: Simple, separator: str, scope: _Scope, mutates: Callable[[Simple], bool],
    out: Targets,
) -> None:
    where = scope.current
    for redirect in cmd.redirects:
        if redirect.op in _OUTPUT_REDIRECTS:
            target = redirect.target
            if redirect.op == ">&" and target.literal and (
                target.text == "-" or target.text.rstrip("-").isdigit()
            ):
                continue
            if target.literal and target.text in _SAFE_SINKS:
                continue
            _path_word(target, where, scope, out)
    words = cmd.words
    at = 0
    while at < len(words) and _is_assignment(words[at]):
        at += 1
    assignments, argv = words[:at], words[at:]
    while argv and argv[0].literal and argv[0].text in _PREFIX_WORDS:
        argv = argv[1:]
    name = system.basename(argv[0].text) if argv and argv[0].literal else ""
    fed_local = scope.piped and scope.piped_local
    scope.piped = separator == "|"
    scope.piped_local = _lists_local_paths(name, argv[1:], fed_local)
    if name == "for" and len(argv) >= 3 and argv[2].literal and argv[2].text == "in":
        _loop_variable(argv[1].text, argv[3:], where, scope)
    if name in ("cd", "pushd", "popd"):
        _change_folder(name, argv[1:], separator, scope, assignments)
        return
    if separator != _AND:
        scope.narrowed = None
    if not argv:
        _remember(assignments, scope)
        if not mutates(cmd):
            return
    if argv and name == "export":
        _remember(argv[1:], scope)
    if not mutates(_without_redirects(cmd)):
        return
    for word in assignments:
        _value_paths(word, where, scope, out)
    if name == "git":
        _git(argv[1:], where, scope, out)
        return
    if name == "xargs":
        from_file = any(not w.literal or w.text.startswith(("-a", "--arg")) for w in argv[1:])
        if fed_local and not from_file:  # `git ls-files | xargs ...`: paths below the folder
            for folder in where:
                out.doubt(folder, "xargs takes the paths it passes on from its input")
        else:
            out.doubt(None, "xargs takes the paths it passes on from its input")
    if name in _SHELLS or name == "eval":
        for word in argv[1:]:
            _string_tokens(word.text, scope, out, f"the code {name} runs", where)
    if name not in _OPERAND_ONLY:
        _folders(where, out)
    if name in _LINKERS or (name == "cp" and any(
            w.text in _CP_LINKING or (w.text[:1] == "-" and w.text[1:2] != "-"
                                      and ("l" in w.text or "s" in w.text))
            for w in argv[1:] if w.literal)):
        _link_sources(argv[1:], where, scope, out)
    first = len(out.paths)
    _operand_targets(name, argv, where, scope, out)
    if _changes_subtrees(name, argv[1:]):
        for path in out.paths[first:]:
            # A folder it is given may hold a tree (`rm -rf <parent>`, `find <parent>
            # -delete`, `tar -x -C <parent>`, `cp -r x/. <parent>/`): all below it counts.
            out.doubt(path, f"{name} may change everything below {path!r}")


# Commands that change what lies below the folders they are given, always or with -R/-r.
_SUBTREE_ALWAYS = frozenset({"find", "cp", "mv", "rsync", "tar", "unzip", "install"})
_SUBTREE_RECURSIVE = frozenset({"rm", "chmod", "chown", "chgrp", "setfacl", "shred"})


def _changes_subtrees(name: str, args: list[Word]) -> bool:
    if name in _SUBTREE_ALWAYS:
        return True
    if name not in _SUBTREE_RECURSIVE:
        return False
    return any(not w.literal or w.text.startswith("--rec") or (
        w.text[:1] == "-" and w.text[1:2] != "-" and ("r" in w.text or "R" in w.text))
        for w in args)


def _operand_targets(name: str, argv: list[Word], where: list[str | None], scope: _Scope,
                     out: Targets) -> None:
    """The paths a mutating command's own words name."""
    if name in _COPIERS:
        # Sources are only read: the destination (the last operand, or -t DIR) is written.
        chosen = _copy_destination(argv[1:])
        if chosen is not None:
            _path_word(chosen, where, scope, out)
            return
    for word in argv[1:]:
        _path_word(word, where, scope, out)
        if word.literal and any(c in word.text for c in _TOKEN_SPLIT):
            _string_tokens(word.text, scope, out, f"a string given to {name or 'a command'}",
                           where)


def _link_sources(args: list[Word], where: list[str | None], scope: _Scope,
                  out: Targets) -> None:
    """ln's sources (relative ones both as from here and from the link's folder)."""
    operands = [w for w in args if not (w.literal and w.text.startswith("-"))]
    if len(operands) < 2:
        return
    dest = operands[-1]
    dest_dir = system.dirname(dest.text) if dest.literal else ""
    for word in operands[:-1]:
        _path_word(word, where, scope, out)
        if dest_dir and word.literal and not system.isabs(word.text):
            _path_word(word, [_join(b, dest_dir) for b in where], scope, out)


def _copy_destination(args: list[Word]) -> Word | None:
    """The one folder or file a cp-like command writes, when every word is plain."""
    if not all(w.literal for w in args):
        return None
    for i, word in enumerate(args):
        if word.text in ("-t", "--target-directory") and i + 1 < len(args):
            return args[i + 1]
        if word.text.startswith(("--target-directory=", "-t")) and len(word.text) > 2:
            return None  # unusual spellings: every word counts
    operands = [w for w in args if not w.text.startswith("-")]
    return operands[-1] if len(operands) >= 2 else None


def _without_redirects(cmd: Simple) -> Simple:
    if not cmd.redirects:
        return cmd
    return type(cmd)(cmd.words, [])


def _is_assignment(word: Word) -> bool:
    raw = word.raw
    eq = raw.find("=")
    if eq <= 0:
        return False
    name = raw[:eq]
    return (name[0].isalpha() or name[0] == "_") and all(c.isalnum() or c == "_" for c in name)


def _remember(words: list[Word], scope: _Scope) -> None:
    """NAME=value with a literal value: later `$NAME` means that value."""
    for word in words:
        if not _is_assignment(word):
            continue
        name, _, value = word.text.partition("=")
        name = name.removesuffix("+")
        if value.startswith("(") or word.text.startswith(name + "+="):
            # An array (`$a` is its first element) or an append: the value is not followed.
            scope.variables.pop(name, None)
            if name in _SHELL_STATE:
                scope.unknown.add(name)
            continue
        value_known = word.literal or _expand(value, scope) is not None
        if value_known and (name in scope.variables or len(scope.variables) < MAX_VARIABLES):
            scope.variables[name] = _expand(value, scope) or value
            scope.unknown.discard(name)
        else:
            scope.variables.pop(name, None)
            if name in _SHELL_STATE:
                scope.unknown.add(name)


def _change_folder(name: str, args: list[Word], separator: str, scope: _Scope,
                   assignments: list[Word]) -> None:
    base = scope.current
    _remember(assignments, scope)  # `CDPATH=/x cd src` searches /x too
    operands = [w for w in args if not (w.literal and w.text.startswith("-") and w.text != "-")]
    if operands and operands[0].literal and operands[0].text == "-" and name == "cd":
        # `cd -` goes to $OLDPWD: a value of this line, an earlier folder when a `cd`
        # just succeeded, else whatever the shell was given (unknown).
        oldpwd = scope.variables.get("OLDPWD")
        new: list[str | None] = list(scope.possible)
        if oldpwd is not None:
            new.append(_join(base[0] if base else None, oldpwd))
        elif scope.narrowed is None or "OLDPWD" in scope.unknown:
            new.append(None)
    elif name == "popd" or (operands and operands[0].literal and operands[0].text == "-"):
        new = list(scope.possible)  # back to some earlier folder
    elif not operands:
        new = [scope.home]
    else:
        text = _expand(operands[0].text, scope) if not operands[0].literal else None
        literal = operands[0].text if operands[0].literal else text
        if literal is None:
            new = [None]
        else:
            home_path = _tilde(literal, scope.home)
            new = [home_path] if home_path is not None or literal.startswith("~") else [
                _join(b, literal) for b in base
            ]
            if home_path is None and not literal.startswith(("/", "~", "./", "../")) and (
                    literal not in (".", "..")):
                new.extend(_cdpath(literal, base, scope))
    if len(new) > MAX_FOLDERS:
        new = [None]
    for folder in new:
        if folder not in scope.possible:
            scope.possible.append(folder)
    if len(scope.possible) > MAX_FOLDERS:
        # Bounded: past this many folders the line may be anywhere (each `cd` of a
        # relative path after `;` would double the set, and the hook's time with it).
        scope.possible = [None]
    scope.narrowed = new if separator == _AND else None


def _cdpath(folder: str, base: list[str | None], scope: _Scope) -> list[str | None]:
    """Where `cd folder` may go through $CDPATH (set on this line; unknown: anywhere)."""
    if "CDPATH" in scope.unknown:
        return [None]
    value = scope.variables.get("CDPATH")
    if not value:
        return []
    found: list[str | None] = []
    for entry in value.split(":"):
        for b in base:
            at = _join(b, entry) if entry else b
            found.append(None if at is None else system.join(at, folder))
    return found


# Commands that print paths below the folder they run in, when given no path that leaves it.
# (grep and rg only when they print file names, or filter such a list from their input.)
_LOCAL_LISTERS = frozenset({"find", "ls", "fd", "grep", "rg", "git"})
_GIT_LISTERS = frozenset({"ls-files", "diff", "grep"})
_NAME_FLAGS = frozenset({"-l", "-L", "-rl", "-lr", "-Rl", "-lR", "--files-with-matches"})


def _lists_local_paths(name: str, args: list[Word], fed_local: bool) -> bool:
    if name == "echo":
        return _echoes_local_words(args)
    if name not in _LOCAL_LISTERS:
        return False
    if name == "git" and not (args and args[0].literal and args[0].text in _GIT_LISTERS):
        return False
    if not all(w.literal and not w.text.startswith(("/", "~")) and ".." not in w.text
               for w in args):
        return False
    if name in ("grep", "rg"):
        operands = [w for w in args if not w.text.startswith("-")]
        return any(w.text in _NAME_FLAGS for w in args) or (fed_local and len(operands) <= 1)
    return True


def _echoes_local_words(args: list[Word]) -> bool:
    """`echo a.tmp b.tmp`: every word xargs will read from it is a relative path below.
    (No options: -e would decode escapes; no quotes or backslashes, which xargs decodes.)"""
    if not args or args[0].text.startswith("-"):
        return False
    for word in args:
        if not word.literal or any(c in word.text for c in "'\"\\"):
            return False
        for token in word.text.split():
            if token.startswith(("/", "~")) or ".." in token:
                return False
    return True


def _loop_variable(name: str, items: list[Word], where: list[str | None], scope: _Scope) -> None:
    """`for f in *.py src/*`: f is not known, but stays below the folder the loop runs in
    when every item is a relative word or glob that does not climb out of it."""
    inside = all(
        w.raw and w.raw[0] not in "\x00/~" and not w.text.startswith(("/", "~", "$", "`"))
        and ".." not in w.text and "$" not in w.text and "`" not in w.text
        for w in items
    )
    scope.variables.pop(name, None)
    if inside and items and (name in scope.bounded or len(scope.bounded) < MAX_VARIABLES):
        scope.bounded[name] = list(where)
    else:
        scope.bounded.pop(name, None)


def _folders(where: list[str | None], out: Targets) -> None:
    for folder in where:
        if folder is None:
            out.doubt(None, "the folder a `cd` leads to is not known")
        else:
            out.add(folder)


def _join(base: str | None, path: str) -> str | None:
    if system.isabs(path):
        return path
    return None if base is None else system.join(base, path)


def _tilde(text: str, home: str | None) -> str | None:
    """`~` and `~/x`; None when the text does not start with a tilde we can expand."""
    if home and (text == "~" or text.startswith("~/")):
        return home + text[1:]
    return None


def _expand(text: str, scope: _Scope) -> str | None:
    """A word's value when its only expansions are known variables (`$d`, `${d}`, $HOME)."""
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c in "`*?[":
            return None
        if c != "$":
            out.append(c)
            i += 1
            continue
        if text.startswith("${", i):
            end = text.find("}", i)
            name = text[i + 2 : end] if end > 0 else ""
            nxt = end + 1
        else:
            j = i + 1
            while j < len(text) and (text[j].isalnum() or text[j] == "_"):
                j += 1
            name, nxt = text[i + 1 : j], j
        value = scope.variables.get(name)
        if value is None and name == "HOME" and scope.home:
            value = scope.home
        if value is None:
            return None
        out.append(value)
        i = nxt
    return "".join(out)


def _path_word(word: Word, where: list[str | None], scope: _Scope, out: Targets) -> None:
    """A word that may name a path: as a whole, after `=`, and after a short option."""
    if not word.literal and "{" in word.raw and "," in word.raw:
        # Brace expansion makes several words, one of which may be absolute
        # (`rm -f {/a/README,x}`): each counts. What cannot be expanded here may be anything.
        alternatives = _braces(word.text) if word.raw == word.text else None
        if alternatives is None:
            out.doubt(None, f"cannot tell which paths {word.text!r} names")
            return
        for alternative in alternatives:
            _path_word(_plain_word(alternative), where, scope, out)
        return
    text = word.text if word.literal else _expand(word.text, scope)
    if text is None:
        _doubt_pattern(word.text, where, scope, out)
        return
    option = text.startswith("-") and text != "-"
    candidates = [] if option else [text]
    if "=" in text:
        candidates.append(text.partition("=")[2])
    if option and not text.startswith("--") and "/" in text[2:]:
        candidates.append(text[2:])  # `-o/path`
    for candidate in candidates:
        if candidate:
            _path(candidate, where, scope, out)


def _plain_word(text: str) -> Word:
    """An unquoted word of the given text (after brace expansion)."""
    from worktree_guard.shell.lexer import Word

    return Word(text, text, quoted=False, expanded="$" in text or "`" in text, split=False)


MAX_BRACE_WORDS = 64


def _braces(text: str) -> list[str] | None:
    """The words a brace expansion of comma lists makes; None past MAX_BRACE_WORDS or when
    a brace cannot be read. (`{1..3}` sequences stay patterns: they add no slash.)"""
    words = [text]
    done: list[str] = []
    while words:
        word = words.pop()
        found = _comma_braces(word)
        if found is None:
            done.append(word)
        else:
            prefix, alternatives, suffix = found
            words.extend(prefix + a + suffix for a in alternatives)
        if len(words) + len(done) > MAX_BRACE_WORDS:
            return None
    return done


def _comma_braces(word: str) -> tuple[str, list[str], str] | None:
    """The first `{a,b}` of a word: (text before, the alternatives, text after)."""
    start = word.find("{")
    while start >= 0:
        depth, parts, last = 0, [], start + 1
        for i in range(start + 1, len(word)):
            c = word[i]
            if c == "{":
                depth += 1
            elif c == "}" and depth:
                depth -= 1
            elif c == "," and not depth:
                parts.append(word[last:i])
                last = i + 1
            elif c == "}":
                if parts:
                    parts.append(word[last:i])
                    return word[:start], parts, word[i + 1 :]
                break
        start = word.find("{", start + 1)
    return None


def _value_paths(word: Word, where: list[str | None], scope: _Scope, out: Targets) -> None:
    value = word.text.partition("=")[2]
    known = value if word.literal else _expand(value, scope)
    if known is None:
        _doubt_pattern(value, where, scope, out)
    elif known:
        _path(known, where, scope, out)


def _path(text: str, where: list[str | None], scope: _Scope, out: Targets) -> None:
    if text.startswith("~"):
        home_path = _tilde(text, scope.home)
        if home_path is None:
            out.doubt(None, f"{text!r} names another user's home")
        else:
            out.add(home_path)
        return
    for base in where:
        joined = _join(base, text)
        if joined is None:
            out.doubt(None, f"{text!r} is relative to a folder that is not known")
        else:
            out.add(joined)


def _doubt_pattern(text: str, where: list[str | None], scope: _Scope, out: Targets) -> None:
    """A glob or an unknown expansion: it may reach anything below its literal start."""
    cut = len(text)
    for c in _PATTERN_CHARS:
        at = text.find(c)
        if 0 <= at < cut:
            cut = at
    prefix = text[:cut]
    bound = _bounded_by(text, scope)
    if bound is not None:
        for folder in bound:
            out.doubt(folder, f"cannot tell which paths {text!r} names")
        return
    if not prefix and text[:1] in ("$", "`"):
        out.doubt(None, f"cannot tell which paths {text!r} names")
        return
    if prefix.startswith("~"):
        expanded = _tilde(prefix, scope.home)
        if expanded is None:
            out.doubt(None, f"cannot tell which paths {text!r} names")
            return
        prefix = expanded
    folder = prefix if prefix.endswith("/") or not prefix else system.dirname(prefix)
    why = f"cannot tell which paths {text!r} names"
    if system.isabs(folder):
        out.doubt(folder if folder.strip("/") else None, why)
        return
    for base in where:
        joined = _join(base, folder) if folder else base
        out.doubt(joined if joined is None else system.normpath(joined), why)


def _bounded_by(text: str, scope: _Scope) -> list[str | None] | None:
    """The folders a word starting with a bounded loop variable stays below."""
    for name, folders in scope.bounded.items():
        for spelled in (f"${name}", f"${{{name}}}"):
            if text.startswith(spelled):
                rest = text[len(spelled):]
                if ".." not in rest and "$" not in rest and "`" not in rest:
                    return folders
    return None


def _string_tokens(text: str, scope: _Scope, out: Targets, what: str,
                   where: list[str | None] | None = None) -> None:
    """Path-looking tokens in a string that some program may run as code."""
    bases = where if where is not None else scope.current
    token: list[str] = []
    for c in text + " ":
        if c not in _TOKEN_SPLIT:
            token.append(c)
            continue
        word = "".join(token)
        token.clear()
        if not word:
            continue
        if "$" in word or "`" in word or "*" in word:
            if "/" in word or word.startswith("$"):
                out.doubt(None, f"{what} uses {word!r}, which cannot be worked out")
            continue
        if "/" in word or word.startswith("~") or word in (".", ".."):
            _path(word, bases, scope, out)


# ---- git ------------------------------------------------------------------------------------


def _git(args: list[Word], where: list[str | None], scope: _Scope, out: Targets) -> None:
    bases = list(where)
    trees: list[str | None] = []
    explicit = False
    i = 0
    while i < len(args):
        word = args[i]
        text = word.text if word.literal else _expand(word.text, scope)
        if text is None:
            out.doubt(None, f"git option {word.text!r} cannot be worked out")
            i += 1
            continue
        value: str | None = None
        if text == "-C" or text in ("--git-dir", "--work-tree"):
            if i + 1 >= len(args):
                break
            nxt = args[i + 1]
            value = nxt.text if nxt.literal else _expand(nxt.text, scope)
            if value is None:
                out.doubt(None, f"git {text} {nxt.text!r} cannot be worked out")
                bases = [None]
            i += 2
        elif text.startswith(("--git-dir=", "--work-tree=")):
            value = text.partition("=")[2]
            i += 1
        elif text in _GIT_VALUE_OPTIONS:
            if text == "-c" and i + 1 < len(args):
                _path_word(args[i + 1], bases, scope, out)  # `-c core.worktree=/x`
            i += 2
            continue
        elif text.startswith("-"):
            i += 1
            continue
        else:
            break
        if value is None:
            continue
        if text == "-C":
            bases = [_join(b, value) for b in bases]
        else:
            explicit = True
            trees.extend(_join(b, value) for b in bases)
    if not explicit:
        trees = bases
    rest = args[i:]
    sub = rest[0].text if rest and rest[0].literal else ""
    operands = rest[1:]
    if sub == "worktree" and operands and operands[0].literal and operands[0].text == "add":
        # A new tree only: the tree it is made from is not changed (see git/hook.py for
        # the branch it may create or move).
        new_tree = _operands(operands[1:], _WORKTREE_ADD_VALUE_OPTIONS)
        if new_tree:
            _path_word(new_tree[0], bases, scope, out)
        return
    _folders(trees, out)
    if sub == "worktree":
        for word in _operands(operands[1:], frozenset()):
            _path_word(word, bases, scope, out)
    elif sub in ("clone", "init"):
        named = _operands(operands, _CLONE_VALUE_OPTIONS)
        if sub == "init" and named:
            _path_word(named[0], bases, scope, out)
        elif sub == "clone" and len(named) >= 2:
            _path_word(named[1], bases, scope, out)
        _option_paths(operands, ("--separate-git-dir",), bases, scope, out)
    else:
        _option_paths(operands, ("-o", "--output", "--output-directory", "-f", "--file"),
                      bases, scope, out)
        if sub == "bundle" and len(operands) >= 2 and operands[0].text == "create":
            _path_word(operands[1], bases, scope, out)


def _operands(words: list[Word], value_options: frozenset[str]) -> list[Word]:
    found: list[Word] = []
    skip = False
    for word in words:
        if skip:
            skip = False
            continue
        if word.literal and word.text.startswith("-") and word.text != "-":
            skip = word.text in value_options
            continue
        found.append(word)
    return found


def _option_paths(words: list[Word], names: tuple[str, ...], bases: list[str | None],
                  scope: _Scope, out: Targets) -> None:
    for i, word in enumerate(words):
        text = word.text
        if text in names and i + 1 < len(words):
            _path_word(words[i + 1], bases, scope, out)
        elif any(text.startswith(n + "=") for n in names if n.startswith("--")):
            _path(text.partition("=")[2], bases, scope, out)

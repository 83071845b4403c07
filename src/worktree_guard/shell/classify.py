"""The entry point: ``classify_command(command) -> ShellVerdict``.

Walks the lexer's simple commands, checks redirections and assignments, and
dispatches each command to its handler in the registry (commands.HANDLERS).

Import DAG (arrows point at what is imported; nothing imports classify):
  verdict, bashtext <- lexer <- walk <- git <- text_tools, wrappers, tools <- commands
  <- classify
  lexer, walk <- switches <- classify (the whole-line rules for switching hooks off)
  lexer <- parsed (the one parse of a line) <- classify, targets, gitruns
  runners (the wrappers' option table) <- wrappers, gitruns
  (classify also imports verdict, lexer and walk; handlers reach back into the walk
  only through the callbacks classify puts on the accumulator)

Decisions for unclear cases:

* An empty or whitespace-only command is read-only (it does nothing).
* A command longer than 32 KiB is not read: it counts as one that cannot be
  parsed, and so is every line whose nested shell strings (bash -c, eval ...)
  would have the lexer read more than 64 KiB in all.  The hook must answer
  within its deadline, and a classification that runs out of time fails open.
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
* ``read``, ``for`` and ``select`` only change shell state: read-only, except
  assigning a risky variable or a subscript (``read 'a[$(cmd)]'`` runs cmd);
  ``set`` too, except ``set -k`` (which turns NAME=value arguments into the
  command's environment).
* Arithmetic of anything but numbers is mutating wherever bash evaluates it
  (``$((x))``, ``((x))``, ``${a[x]}``, ``${s:x}``, ``${!x}``, ``[[ $x -eq 1 ]]``,
  ``test -v``): a name's value is evaluated in turn, and a subscript in it runs its
  substitutions.
* ``git reflog <anything but show/exists/list>`` and ``git config <key>`` with a
  value are mutating; ``git config <key>`` alone is a read.
"""

from __future__ import annotations

from worktree_guard.shell.commands import (
    ARG_FREE,
    HANDLERS,
    KEYWORDS,
    LOOP_HEADERS,
    STRING_RUNNERS,
)
from worktree_guard.shell.git import loose_hook_flags, scan_unknown
from worktree_guard.shell.lexer import MAX_DEPTH, ParseError, lazy_pattern
from worktree_guard.shell.parsed import parse_line
from worktree_guard.shell.switches import check_words, line_switch
from worktree_guard.shell.verdict import ShellVerdict
from worktree_guard.shell.walk import Acc, check_assignment, risky_env, split_assignment

TYPE_CHECKING = False
if TYPE_CHECKING:
    from worktree_guard.shell.lexer import Redirect, Simple, Word
    from worktree_guard.shell.targets import Targets
    from worktree_guard.shell.walk import WalkNested

__all__ = ["ShellVerdict", "classify_command", "command_targets"]

_BIN_DIRS = ("/usr/local/bin/", "/usr/bin/", "/bin/")
_SAFE_SINKS = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/fd/1", "/dev/fd/2"})
# A prefix assignment to these builtins lasts only for the builtin: `IFS= read -r line`.
_SCOPED_PREFIX = {"read": frozenset({"IFS"})}
_INPUT_REDIRECTS = frozenset({"<", "<<", "<<-", "<<<", "<&"})
# Handlers that expect unquoted expansions to split into several words (loop values,
# printf's data) or judge the splitting themselves (test, [[ ]] where nothing splits).
_SPLIT_OK = frozenset({"for", "select", "[[", "test", "[", "printf"})
# The lexer reads about a megabyte a second on a loaded machine and the hook has a few
# seconds: beyond these sizes a line is treated as unparsable instead of being read.
_MAX_COMMAND = 32 * 1024
_MAX_LEXED = 2 * _MAX_COMMAND  # the line plus every nested string parsed again


def classify_command(command: str, protected_paths: tuple[str, ...] = ()) -> ShellVerdict:
    """Classify a Bash tool command line; never raises. `protected_paths`: folders no
    command may change besides the ones every line is checked for (the lock folder)."""
    try:
        return _classify(command, protected_paths)
    except Exception as exc:  # the hook must not crash on odd input
        return _unparsable(command, f"could not parse command ({type(exc).__name__})")


def command_targets(command: str, cwd: str, home: str | None) -> Targets:
    """The folders a line may change (see shell/targets.py), each simple command judged
    read-only or not by the same rules as the whole line."""
    from worktree_guard.shell.targets import extract_targets

    return extract_targets(command, cwd, home, _simple_mutates)


def _simple_mutates(cmd: Simple) -> bool:
    budget = [_MAX_LEXED]

    def walk_nested(src: str, depth: int) -> Acc:
        return _walk_nested(src, depth, budget, walk_nested)

    acc = Acc(_check_argv, walk_nested)
    try:
        _check_simple(cmd, acc, 0)
    except Exception:  # odd input: unsure means mutating
        return True
    return bool(acc.mutating or acc.bypass)


def _classify(command: str, protected_paths: tuple[str, ...] = ()) -> ShellVerdict:
    if not command.strip():
        return ShellVerdict(read_only=True, disables_git_hooks=False, reason="")
    if len(command) > _MAX_COMMAND:
        return _unparsable(command, f"command too long to classify ({len(command)} characters)")
    budget = [_MAX_LEXED]

    def walk_nested(src: str, depth: int) -> Acc:
        return _walk_nested(src, depth, budget, walk_nested)

    acc = Acc(_check_argv, walk_nested)
    try:
        _walk(command, acc, 0, budget)
    except ParseError as exc:
        return _unparsable(command, f"could not parse command: {exc}", protected_paths)
    switch = line_switch(command, not acc.mutating and not acc.bypass, acc.mutating,
                         protected_paths)
    if switch is not None:
        acc.bypass.append(switch)
    if acc.bypass:
        return ShellVerdict(read_only=False, disables_git_hooks=True, reason=acc.bypass[0])
    if acc.mutating:
        return ShellVerdict(read_only=False, disables_git_hooks=False, reason=acc.mutating[0])
    return ShellVerdict(read_only=True, disables_git_hooks=False, reason="")


def _walk(src: str, acc: Acc, depth: int, budget: list[int]) -> None:
    budget[0] -= len(src)
    if budget[0] < 0:
        raise ParseError("nested commands too long to classify")
    parsed = parse_line(src, depth)
    acc.mutating.extend(parsed.problems)
    for cmd in parsed.commands:
        _check_simple(cmd, acc, depth)


def _walk_nested(
    src: str, depth: int, budget: list[int], walk_nested: WalkNested
) -> Acc:
    """Classify a string that some command will run as shell code."""
    inner = Acc(_check_argv, walk_nested)
    try:
        _walk(src, inner, depth + 1, budget)
    except ParseError as exc:
        inner.mutating.append(f"could not parse nested command: {exc}")
        if _fallback_bypass(src):
            inner.bypass.append("nested command mentions --no-verify or core.hooksPath")
    return inner


# Token-level scan used when a line (or nested string) cannot be parsed; rare, so
# these are compiled lazily.
_FALLBACK_GIT = r"(?i)(?<![\w.-])git(?![\w.-])|GIT_CONFIG_"
_FALLBACK_BYPASS = (
    r"(?i)(?<![\w-])--no-veri(?:fy?)?(?![\w-])|core\.hookspath"
    # Bounded: an unbounded run here backtracks over the rest of the line at every
    # "commit", quadratic time that a long line turns into a timeout (and fail-open).
    r"|(?<![\w-])commit\s(?:[^;&|\n'\"]{0,256}\s)?-[A-Za-z]*n[A-Za-z]*(?![\w-])"
)


def _fallback_bypass(command: str) -> bool:
    lowered = command.lower()  # plain substring tests first: a long line costs milliseconds
    if "git" not in lowered or not any(
        word in lowered for word in ("--no-veri", "core.hookspath", "commit")
    ):
        return False
    return bool(
        lazy_pattern(_FALLBACK_BYPASS).search(command)
        and lazy_pattern(_FALLBACK_GIT).search(command)
    )


def _unparsable(command: object, reason: str,
                protected_paths: tuple[str, ...] = ()) -> ShellVerdict:
    try:
        bypass = isinstance(command, str) and (
            _fallback_bypass(command)
            or line_switch(command, False, [], protected_paths) is not None)
    except Exception:  # best effort only
        bypass = False
    return ShellVerdict(read_only=False, disables_git_hooks=bypass, reason=reason)


def _redirect_problem(redirect: Redirect) -> str | None:
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


def _check_simple(cmd: Simple, acc: Acc, depth: int) -> None:
    check_words(cmd.words, acc)
    for redirect in cmd.redirects:
        problem = _redirect_problem(redirect)
        if problem:
            acc.mutating.append(problem)
    _check_words(cmd.words, acc, depth)


def _check_words(words: list[Word], acc: Acc, depth: int) -> None:
    """Assignments, then the command they prefix (if any)."""
    i = 0
    while i < len(words) and split_assignment(words[i]) is not None:
        i += 1
    head = words[i].text if i < len(words) and words[i].literal else ""
    scoped = _SCOPED_PREFIX.get(_command_name(head), frozenset())
    for word in words[:i]:
        name, value = split_assignment(word) or ("", "")
        if "[" in word.raw.partition("=")[0]:
            acc.mutating.append("array element assignment")
        if name in scoped and risky_env(name):
            continue
        check_assignment(name, value, acc)
    if i < len(words):
        _check_argv(words[i:], acc, depth, extra_args=False)


def _command_name(text: str) -> str:
    for prefix in _BIN_DIRS:
        if text.startswith(prefix) and "/" not in text[len(prefix) :]:
            return text[len(prefix) :]
    return text


def _check_argv(words: list[Word], acc: Acc, depth: int, extra_args: bool) -> None:
    """Classify one command and its arguments.

    extra_args: the command will get more, unseen arguments (xargs).
    """
    if depth > MAX_DEPTH:
        acc.mutating.append("command nested too deeply")
        return
    head, args = words[0], words[1:]
    if depth > 0:
        check_words(words, acc)  # a command a wrapper runs (`nice env -u ...`)
    if not head.literal:
        acc.mutating.append("the command name is not a literal word")
        loose_hook_flags(args, acc)  # `$(which git) commit --no-verify`
        scan_unknown(args, acc, depth, strings=True)
        return
    name = _command_name(head.text)
    if name in KEYWORDS:
        if args and not extra_args:
            _check_words(args, acc, depth + 1)  # `while IFS= read -r line`
        elif args:
            _check_argv(args, acc, depth + 1, extra_args)
        return
    if name in ARG_FREE:
        return
    if name in LOOP_HEADERS and extra_args:
        acc.mutating.append(f"{name} would receive unseen arguments from xargs")
        return
    handler = HANDLERS.get(name)
    if handler is None:
        acc.mutating.append(f"{name} is not a known read-only command")
        # The name is scanned too, so /opt/tools/git is seen as git.
        scan_unknown(words, acc, depth, strings=name in STRING_RUNNERS)
        return
    if name not in _SPLIT_OK and any(word.split for word in args):
        # Handlers skip the value of an option (`sort -k $x`) without looking: split,
        # x='1 -o out' brings in an option they never saw.
        acc.mutating.append(f"{name}: an unquoted expansion may split into options")
        scan_unknown(args, acc, depth, strings=False)
        # Still read by its handler: what splits may also switch hooks off (`git push $f`
        # with f=--no-verify), and only the handler knows that command's switches.
        handler(args, acc, depth)
        return
    reason = handler(args, acc, depth)
    if reason is None and extra_args:
        reason = "would receive unseen arguments from xargs"
    if reason:
        acc.mutating.append(f"{name}: {reason}")

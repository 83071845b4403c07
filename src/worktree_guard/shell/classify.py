"""The entry point: ``classify_command(command) -> ShellVerdict``.

Walks the lexer's simple commands, checks redirections and assignments, and
dispatches each command to its handler in the registry (commands._HANDLERS).

Import DAG (arrows point at what is imported; nothing imports classify):
  verdict, lexer <- walk <- git <- text_tools, wrappers <- commands <- classify
  (classify also imports verdict, lexer and walk; handlers reach back into the walk
  only through the callbacks classify puts on the accumulator)

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
"""

from __future__ import annotations

from worktree_guard.shell.commands import (
    _ARG_FREE,
    _HANDLERS,
    _KEYWORDS,
    _LOOP_HEADERS,
    _STRING_RUNNERS,
)
from worktree_guard.shell.git import NEW_WORKTREE, _loose_hook_flags, _scan_unknown
from worktree_guard.shell.lexer import _MAX_DEPTH, _lazy, _ParseError, _Parser
from worktree_guard.shell.verdict import ShellVerdict
from worktree_guard.shell.walk import _Acc, _assignment, _check_assignment

TYPE_CHECKING = False
if TYPE_CHECKING:
    from worktree_guard.shell.lexer import _Redirect, _Simple, _Word
    from worktree_guard.shell.targets import Targets

__all__ = ["NEW_WORKTREE", "ShellVerdict", "classify_command", "command_targets"]

_BIN_DIRS = ("/usr/local/bin/", "/usr/bin/", "/bin/")
_SAFE_SINKS = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr"})
_INPUT_REDIRECTS = frozenset({"<", "<<", "<<-", "<<<", "<&"})


def classify_command(command: str) -> ShellVerdict:
    """Classify a Bash tool command line; never raises."""
    try:
        return _classify(command)
    except Exception as exc:  # the hook must not crash on odd input
        return _unparsable(command, f"could not parse command ({type(exc).__name__})")


def command_targets(command: str, cwd: str, home: str | None) -> Targets:
    """The folders a line may change (see shell/targets.py), each simple command judged
    read-only or not by the same rules as the whole line."""
    from worktree_guard.shell.targets import extract_targets

    return extract_targets(command, cwd, home, _simple_mutates)


def _simple_mutates(cmd: _Simple) -> bool:
    acc = _Acc(_check_argv, _walk_nested)
    try:
        _check_simple(cmd, acc, 0)
    except Exception:  # odd input: unsure means mutating
        return True
    return bool(acc.mutating or acc.bypass)


def _classify(command: str) -> ShellVerdict:
    if not command.strip():
        return ShellVerdict(read_only=True, disables_git_hooks=False, reason="")
    acc = _Acc(_check_argv, _walk_nested)
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
    inner = _Acc(_check_argv, _walk_nested)
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

"""Switching guard or git's hooks off, in any spelling: the rules that read a whole line.

Refused for every agent session, the holder's included (``classify`` reports them as
``disables_git_hooks``):

* Changing the variables that say who is asking or where guard keeps its state:
  ``CLAUDE_CODE_SESSION_ID``, ``CLAUDE_PID``, ``GUARD_*`` (and the other agents' session
  variables), in any form: ``VAR=``, ``VAR+=``, ``${VAR:=x}``, ``((VAR++))``, ``unset``,
  ``export -n``, ``declare``/``local``/``readonly``/``typeset``, ``read``, ``mapfile``,
  ``printf -v``, ``getopts``, ``for``/``select``, ``env -u``; and ``env -i`` / ``exec -c``,
  which clear them all.
* Changing where git finds its configuration, since a configuration can set
  ``core.hooksPath``: ``GIT_CONFIG*`` (``_GLOBAL``, ``_SYSTEM``, ``_NOSYSTEM``, ``_COUNT``,
  ``_KEY_n``, ``_PARAMETERS``), ``HOME``, ``XDG_CONFIG_HOME``, the same ways.
* ``send-pack``, ``http-push`` or ``receive-pack`` anywhere: pushing without pre-push.
* A line that changes something and names the git folder (a ``.git`` path component,
  ``--git-dir``/``--git-path``/``--git-common-dir``, ``GIT_DIR``), git's global
  configuration files, or guard's lock folder (a ``.claude`` component, ``session-lock``,
  ``git-pass``, ``GUARD_LOCK_DIR``, or a folder the caller names), also through a glob
  (``.gi?``, ``.[g]it``, ``.*``; ``*`` once ``dotglob`` or ``GLOBIGNORE`` is in the line).
  Reading them (``cat .git/hooks/pre-push``) stays read-only, unless the line also
  evaluates text (a substitution): then a miss of the classifier could reach them.
* A line that names git and cannot be resolved: a command name that is not a literal
  word, or ``eval``.

These are textual on purpose: the whole line is scanned, so a string some command runs
later (``bash -c '...'``, ``python -c '...'``) is scanned too. A few false denies (a
commit message saying ``unset HOME``) are the price; the deny message says what to do.
"""

from __future__ import annotations

from worktree_guard.shell.lexer import lazy_pattern
from worktree_guard.shell.walk import split_assignment

TYPE_CHECKING = False
if TYPE_CHECKING:
    from worktree_guard.shell.lexer import Word
    from worktree_guard.shell.walk import Acc

# Who is asking, and where guard keeps its state.
_SESSION_NAMES = (
    r"CLAUDE_CODE_SESSION_ID|CLAUDE_PID|CLAUDECODE|GUARD_[A-Za-z0-9_]*"
    r"|CODEX_THREAD_ID|CODEX_SESSION_ID|GEMINI_SESSION_ID|COPILOT_AGENT_SESSION_ID"
)
# Where git finds a configuration that could set core.hooksPath.
_CONFIG_NAMES = r"GIT_CONFIG[A-Za-z0-9_]*|HOME|XDG_CONFIG_HOME"
_NAMES = rf"(?:{_SESSION_NAMES}|{_CONFIG_NAMES})"
# A name that is read (`$HOME`, `${HOME}`, `${#HOME}`, `${!HOME}`) is not a bare mention.
_BARE = rf"(?<![\w$#!{{]){_NAMES}(?!\w)"
_CHANGES_VARIABLE = (
    # NAME=, NAME+=, NAME[i]=, NAME op= (arithmetic), ${NAME=..}, ${NAME:=..}, ++NAME, NAME--
    rf"(?<![\w$#!]){_NAMES}(?:\[[^\]]*\])?\s*(?:[-+*/%&|^]|<<|>>|:)?=(?!=)"
    rf"|(?<![\w$#!]){_NAMES}\s*(?:\+\+|--)|(?:\+\+|--)\s*{_NAMES}(?!\w)"
    # a builtin that sets, unsets or exports a name given as a word
    rf"|(?<![\w-])(?:unset|export|declare|typeset|local|readonly|read|mapfile|readarray"
    rf"|getopts|let|printf|for|select)(?![\w-])[^;&|\n()]*?{_BARE}"
    # env -u NAME, env -uNAME, env --unset=NAME
    rf"|(?<![\w-])(?:-u\s*|--unset[=\s]\s*){_NAMES}(?!\w)"
    # env -i / env - / --ignore-environment / exec -c: every variable cleared at once
    r"|(?<![\w-])env(?:\s+-[^\s;&|]*|\s+[A-Za-z_]\w*=\S*)*\s+(?:-i|-|--ignore-environment)"
    r"(?=\s|$)|(?<![\w-])exec\s+(?:-[al]+\s+)*-[al]*c"
)
_PUSH_PLUMBING = r"(?<![\w.])(?:git[\s-]+)?(?:send-pack|http-push|receive-pack)(?![\w-])"
# The git folder, git's global configuration files and guard's lock folder, by name.
_PROTECTED_PATHS = (
    r"(?:^|(?<=[\s/'\"=:;&|(<>`]))(?:\.git(?=[/\s'\"`;&|)]|$)"
    r"|\.claude(?=[\s'\"`;&|)]|$|/(?:settings|runtime|[*?[])))"
    r"|\.gitconfig|\.config/git(?![\w-])|/etc/gitconfig"
    r"|--git-dir|--git-path|--git-common-dir|--absolute-git-dir|GIT_DIR|GIT_COMMON_DIR"
    r"|session-lock|git-pass|GUARD_LOCK_DIR|events\.jsonl"
)
# The message of a git command that takes one (-m, --message), quoted, expanding nothing.
_MESSAGE = (
    r"""((?<![\w-])git\s+(?:\S+\s+)*?(?:commit|tag|merge|revert|stash|notes)(?![\w-])"""
    r"""[^;&|\n]*?(?<![\w-])(?:-[a-zA-Z]*m|--message)(?:=|\s+))"""
    r"""(?:'[^']*'|"(?:[^"\\$`]|\\.)*")"""
)
_GLOB_PART = r"[^\s/'\"`;&|()<>=]*[*?[][^\s/'\"`;&|()<>=]*"
_PROTECTED_NAMES = (".git", ".claude", ".gitconfig")
_EVALUATES = r"\$\(|`|\$\[|<\(|>\("
_NAMES_GIT = r"(?<![\w.-])git(?![\w-])"
_UNRESOLVED_COMMAND = "the command name is not a literal word"


def line_switch(command: str, read_only: bool, mutating: list[str],
                protected_paths: tuple[str, ...] = ()) -> str | None:
    """Why the line could switch guard or git's hooks off, or None. A read-only line was
    already checked command by command (`check_words`); text there (`echo 'unset X'`) is
    only text, so the whole-line scan is for lines that change something."""
    if not read_only and _mentions_anything(command):
        # A commit message is text: `git commit -m "unset HOME in tests"` switches nothing.
        # One that expands (`"$(...)"`) runs code, so it stays in.
        command = lazy_pattern(_MESSAGE).sub(r"\1_", command)
    if not read_only:
        if _mentions_names(command):
            found = lazy_pattern(_CHANGES_VARIABLE).search(command)
            if found:
                return _variable_reason(found.group(0))
        if any(name in command for name in _PLUMBING):
            found = lazy_pattern(_PUSH_PLUMBING).search(command)
            if found:
                return f"{found.group(0).strip()} pushes without git's pre-push hook"
    path = _protected_mention(command, protected_paths)
    if path is not None and (not read_only or lazy_pattern(_EVALUATES).search(command)):
        # A read-only line that also evaluates text (`$(...)`, `$((...))`, backticks) is
        # judged as changing: a miss of the classifier must not reach these folders.
        return f"a command that changes something names {path}"
    if read_only:
        return None
    unresolved = _UNRESOLVED_COMMAND in mutating or any(r.startswith("eval") for r in mutating)
    if unresolved and lazy_pattern(_NAMES_GIT).search(command):
        return "a command names git but what runs cannot be resolved"
    return None


_NAME_MARKS = ("CLAUDE", "GUARD_", "CODEX_", "GEMINI_", "COPILOT_", "GIT_CONFIG", "HOME")
_PLUMBING = ("send-pack", "http-push", "receive-pack")
_PATH_MARKS = (".git", ".claude", "gitconfig", "config/git", "--git-", "--absolute-git-dir",
               "GIT_DIR", "GIT_COMMON_DIR", "session-lock", "git-pass", "GUARD_LOCK_DIR",
               "events.jsonl", "*", "?", "[")


def _mentions_anything(text: str) -> bool:
    """Whether any whole-line rule could match: most lines need no regex at all."""
    return (_mentions_names(text) or any(name in text for name in _PLUMBING)
            or any(mark in text for mark in _PATH_MARKS))


def _mentions_names(text: str) -> bool:
    """A cheap test before any regex: most lines name none of these variables."""
    return any(mark in text for mark in _NAME_MARKS) or "env" in text or "exec" in text


def _variable_reason(found: str) -> str:
    return f"`{found.strip()}` changes who is asking or where git reads its settings"


def _protected_mention(command: str, protected_paths: tuple[str, ...]) -> str | None:
    for path in protected_paths:
        if path and path in command:
            return path
    if not any(mark in command for mark in _PATH_MARKS):
        return None
    found = lazy_pattern(_PROTECTED_PATHS).search(command)
    if found:
        return found.group(0)
    dotglob = "dotglob" in command or "GLOBIGNORE" in command
    for part in lazy_pattern(_GLOB_PART).findall(command):
        if not (dotglob or part.startswith((".", "["))):
            continue
        from fnmatch import fnmatchcase  # rare: only lines with a glob

        if any(fnmatchcase(name, part) for name in _PROTECTED_NAMES):
            return f"{part} (a glob that matches {', '.join(_PROTECTED_NAMES)})"
    return None


_NAME_SETTERS = frozenset(
    {"unset", "export", "declare", "typeset", "local", "readonly", "mapfile", "readarray"}
)
# Builtins and keywords that set, unset or export a variable named by one of their words.
_NAME_TAKERS = _NAME_SETTERS | {"read", "getopts", "let", "printf", "for", "select", "env"}
_CLEARS_ALL = frozenset({"-i", "-", "--ignore-environment"})
_PLUMBING_COMMANDS = frozenset({"git-send-pack", "git-http-push", "git-receive-pack"})


def check_words(words: list[Word], acc: Acc) -> None:
    """One simple command (nested ones included): does it change one of the variables,
    clear the environment, or push by plumbing? Read-only commands are checked here, so
    text that is only printed (`echo 'unset X'`) does not count."""
    if not words:
        return
    i = 0
    while i < len(words) and split_assignment(words[i]) is not None:
        i += 1  # NAME=value prefixes (and bare assignments)
    head = words[i] if i < len(words) else None
    texts = [w.text for w in words[: i + 1]]  # the assignments and the command name
    if head is not None and head.literal and head.text in _NAME_TAKERS:
        texts = [w.text for w in words]
    # ${NAME:=x}, $((NAME=1)), a[$((NAME++))]: expansions that assign, in any word.
    texts += [w.text for w in words if "((" in w.text or "${" in w.text or "[" in w.text]
    joined = " ".join(texts)
    if _mentions_names(joined):
        found = lazy_pattern(_CHANGES_VARIABLE).search(joined)
        if found:
            acc.bypass.append(_variable_reason(found.group(0)))
            return
    if head is None or not head.literal:
        return
    name = head.text.rsplit("/", 1)[-1]
    if name in _PLUMBING_COMMANDS:
        acc.bypass.append(f"{name} pushes without git's pre-push hook")
    elif name == "env" and any(w.literal and w.text in _CLEARS_ALL for w in words[i + 1 :]):
        acc.bypass.append("env clears the session's variables")
    elif name == "exec" and any(w.literal and w.text.startswith("-") and "c" in w.text
                                for w in words[i + 1 : i + 3]):
        acc.bypass.append("exec -c clears the session's variables")
    elif name in _NAME_SETTERS:
        for word in words[i + 1 :]:
            target = word.text.partition("=")[0]
            if not word.literal and ("$" in target or "`" in target or word.raw[:1] == "\x00"):
                acc.bypass.append(f"{name} of a variable whose name is not literal")
                return

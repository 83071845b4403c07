"""What the walk shares with every command handler: the accumulator and common checks.

``Acc`` collects the reasons a line is not read-only and the hook bypasses found,
and carries the two callbacks handlers use to classify nested commands
(``check_argv``, ``walk_nested``); classify sets them, so no handler imports it.
The rest are checks several handlers need: assignments, risky variables and
GNU-style option splitting.
"""

from __future__ import annotations

from worktree_guard.shell.lexer import name_end

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeAlias

    from worktree_guard.shell.lexer import Word

# Classify one command and its arguments: (words, acc, depth, extra_args).
_CheckArgv: TypeAlias = "Callable[[list[Word], Acc, int, bool], None]"
# Classify a string some command runs as shell code, into a fresh accumulator.
WalkNested: TypeAlias = "Callable[[str, int], Acc]"


class Acc:
    """Reasons collected while walking the parsed commands, and the way back into the walk.

    check_argv and walk_nested are classify's own functions, passed in rather than
    imported so that handlers can recurse without an import cycle; child() hands
    them on to a scratch accumulator.
    """

    __slots__ = ("bypass", "check_argv", "mutating", "walk_nested")

    def __init__(self, check_argv: _CheckArgv, walk_nested: WalkNested) -> None:
        self.mutating: list[str] = []
        self.bypass: list[str] = []
        self.check_argv = check_argv
        self.walk_nested = walk_nested

    def child(self) -> Acc:
        """An empty accumulator for a nested command, with the same callbacks."""
        return Acc(self.check_argv, self.walk_nested)


# A handler looks at a command's arguments; it returns why the command is not
# read-only (None when it is) and may record hook bypasses on the accumulator.
Handler: TypeAlias = "Callable[[list[Word], Acc, int], str | None]"

OPAQUE = "an argument's value is not visible"

# Variables whose names start like this change which program runs or what it loads.
_RISKY_ENV_PREFIXES = (
    "LD_", "DYLD_", "BASH_FUNC_", "GIT_", "XDG_", "LESS", "PYTHON", "NODE_", "PERL", "RUBY",
    "npm_config_", "NPM_CONFIG_",
)  # fmt: skip
# Variables that change which program runs or what it loads.
_RISKY_ENV = frozenset(
    {"PATH", "BASH_ENV", "ENV", "SHELLOPTS", "BASHOPTS", "PS4", "PROMPT_COMMAND", "IFS", "HOME",
     "EDITOR", "VISUAL", "BROWSER", "SHELL", "RIPGREP_CONFIG_PATH", "GCONV_PATH", "LOCPATH",
     "NLSPATH", "TAR_OPTIONS", "UNZIP", "UNZIPOPT", "ZIPINFO", "ZIPINFOOPT", "WGETRC",
     "CURL_HOME"}
)  # fmt: skip


def risky_env(name: str) -> bool:
    """Whether setting the variable can change what runs."""
    if name in _RISKY_ENV or name.startswith(_RISKY_ENV_PREFIXES):
        return True
    # *PAGER on the first line, as `.*PAGER$` matched (`$` allows one final newline).
    line = name[:-1] if name.endswith("\n") else name
    return line.endswith("PAGER") and "\n" not in line


def split_assignment(word: Word) -> tuple[str, str] | None:
    """(name, value) when the word is a NAME=value assignment."""
    raw = word.raw
    if "=" not in raw:
        return None
    end = name_end(raw, 0)
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


# Pager values that only show what they are given (`GIT_PAGER=cat git log` turns paging
# off); any other value of a *PAGER variable is a command git or man would run.
_PLAIN_PAGERS = frozenset({"", "cat", "less", "more", "less -R", "less -FRX", "less -FRSX"})


def _plain_pager(name: str, value: str) -> bool:
    return name.endswith("PAGER") and "\n" not in name and value in _PLAIN_PAGERS


def check_assignment(name: str, value: str, acc: Acc) -> None:
    if risky_env(name) and not _plain_pager(name, value):
        acc.mutating.append(f"sets {name}, which can change what runs")
    if bypass_env(name, value):
        acc.bypass.append(f"{name} puts core.hooksPath into git's configuration")


def bypass_env(name: str, value: str) -> bool:
    if name == "GIT_CONFIG_PARAMETERS":
        return "core.hookspath" in value.lower()
    return name.startswith("GIT_CONFIG_KEY_") and value.strip().lower() == "core.hookspath"


# --- generic option parsing ------------------------------------------------


def scan_opts(
    args: list[Word],
    value_letters: str = "",
    long_values: frozenset[str] = frozenset(),
    attached_letters: str = "",
) -> tuple[list[str], list[Word]] | None:
    """Split GNU-style arguments into option names and operands.

    value_letters take a value (attached or the next word), attached_letters
    only an attached one. Returns None when an argument could be an unseen option.
    """
    opts: list[str] = []
    operands: list[Word] = []
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


def long_hit(opts: list[str], denied: tuple[str, ...]) -> str | None:
    """The first option that is a denied long option or an abbreviation of one."""
    for opt in opts:
        # getopt_long takes any unique prefix, one letter too (`sort --o=p`).
        if len(opt) > 2 and opt.startswith("--") and any(d.startswith(opt) for d in denied):
            return opt
    return None

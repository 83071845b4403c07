"""git: which subcommands only read, which config keys are harmless, and hook bypasses.

Also the best-effort hook-bypass scan of commands that cannot be interpreted
(``scan_unknown``), which looks for git invocations inside them; every handler
module uses it.

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

from worktree_guard.shell.git_dry import (
    git_add,
    git_apply,
    git_clean,
    git_format_patch,
    git_push,
)
from worktree_guard.shell.lexer import literal_word, option_value
from worktree_guard.shell.walk import OPAQUE, bypass_env, long_hit, scan_opts, split_assignment

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from worktree_guard.shell.lexer import Word
    from worktree_guard.shell.walk import Acc

# --- commands that cannot be interpreted -------------------------------------


def scan_unknown(args: list[Word], acc: Acc, depth: int, strings: bool = False) -> None:
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
            scratch = acc.child()
            git(args[i + 1 :], scratch, depth + 1)
            acc.bypass.extend(scratch.bypass)
        assignment = split_assignment(word)
        if assignment is not None and bypass_env(*assignment):
            acc.bypass.append(f"{assignment[0]} puts core.hooksPath into git's configuration")
        elif strings and "git" in text.lower() and any(c in text for c in " \t\n;&|"):
            acc.bypass.extend(acc.walk_nested(text, depth).bypass)


def loose_hook_flags(args: list[Word], acc: Acc) -> None:
    """When we cannot tell what runs, a standalone hook-disabling word counts."""
    for word in args:
        name = word.text.partition("=")[0]
        if word.literal and (name in _GIT_NO_VERIFY or name.lower() == "core.hookspath"):
            acc.bypass.append(f"{name} given to a command that may be git")
            return


def unsure(args: list[Word], acc: Acc, depth: int, reason: str, strings: bool = False) -> str:
    scan_unknown(args, acc, depth, strings)
    return reason


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


def _hook_config_key(key: str) -> str | None:
    """Why setting this (lower-cased) git config key could switch hooks or guard off."""
    if key == "core.hookspath":
        return "replaces the hooks directory"
    section = key.partition(".")[0]
    if section in ("include", "includeif"):
        return "reads another configuration, which can set core.hooksPath"
    if section == "guard":
        return "changes guard's own rules"
    return None


def _git_config_override(word: Word, acc: Acc, depth: int, aliases: dict[str, str]) -> None:
    """Handle the value of `git -c key=value` or `git --config-env key=envvar`."""
    key, eq, value = word.text.partition("=")
    key = key.lower()  # git config section and key names are case-insensitive
    if not word.literal and (not eq or any(c in key for c in "$`*?[{")):
        acc.bypass.append("git -c with a key that is not literal may set core.hooksPath")
        return
    if not word.literal:
        acc.mutating.append("git: a -c value is not a literal")
    hook_switch = _hook_config_key(key)
    if hook_switch:
        acc.bypass.append(f"git -c {word.text.partition('=')[0]} {hook_switch}")
    if not _git_key_harmless(key):
        acc.mutating.append(f"git: -c {key} can change what git runs")
    if key.startswith("alias.") and value.startswith("!"):
        acc.bypass.extend(acc.walk_nested(value[1:], depth).bypass)
    elif key.startswith("alias."):
        aliases[key[len("alias.") :]] = value


def git(args: list[Word], acc: Acc, depth: int) -> str | None:
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
                _git_config_override(literal_word(text[len(name) + 1 :]), acc, depth, aliases)
            i += 1
        elif text in _GIT_GLOBAL_FLAGS:
            i += 1
        elif text in _GIT_INFO or name == "--list-cmds":
            return None
        else:
            return unsure(args[i:], acc, depth, f"global option {name} is not understood")
    if i >= len(args):
        return None  # prints usage
    if not args[i].literal:
        # `git $sub ...`: it could be `push --no-verify`; a line we cannot resolve counts.
        acc.bypass.append("the git subcommand is not a literal word")
        return "the subcommand is not a literal"
    sub, rest = args[i].text, args[i + 1 :]
    if sub in aliases and aliases[sub].split():
        expansion = aliases[sub].split()
        _git_bypass(expansion[0], [literal_word(w) for w in expansion[1:]] + rest, acc, depth)
    else:
        _git_bypass(sub, rest, acc, depth)
    if rest and rest[0].literal and rest[0].text == "--help":
        return None  # git turns `git <sub> --help` into `git help <sub>`: it runs nothing else
    reader = (_GIT_READERS.get(sub) or _GIT_SCANNED_READERS.get(sub)
              or _GIT_SCANNED_DRY.get(sub))
    if reader is None:
        return f"{sub} can change the repository"
    reason = reader(rest)
    return f"{sub} {reason}" if reason else None


def _git_plain(rest: list[Word]) -> str | None:
    return None


def _git_difflike(rest: list[Word]) -> str | None:
    for word in rest:
        if word.literal and word.text == "--":
            break
        if word.opaque:
            return OPAQUE
        if long_hit([word.text.partition("=")[0]], ("--output",)):
            return "--output writes a file"
    return None


def _git_grep(rest: list[Word]) -> str | None:
    parsed = scan_opts(rest, "efABCm", frozenset({"--max-depth", "--threads"}), "O")
    if parsed is None:
        return OPAQUE
    if "-O" in parsed[0] or long_hit(parsed[0], ("--open-files-in-pager",)):
        return "-O runs a pager command"
    return None


def _git_list_refs(
    rest: list[Word],
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
            return OPAQUE
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


def _git_branch(rest: list[Word]) -> str | None:
    return _git_list_refs(rest, _BRANCH_FLAGS, frozenset("arvliq"), "l")


def _git_tag(rest: list[Word]) -> str | None:
    # -n<num> prints annotation lines and, like -l and -v, implies listing.
    return _git_list_refs(rest, _TAG_FLAGS, frozenset("lniv0123456789"), "lnv")


def _git_remote(rest: list[Word]) -> str | None:
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


def _git_config_mode(rest: list[Word]) -> tuple[str, list[str]]:
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


def _git_config(rest: list[Word]) -> str | None:
    mode, _ = _git_config_mode(rest)
    return None if mode == "read" else "may change configuration"


def _git_config_hooks(rest: list[Word]) -> str | None:
    """Why a `git config` could switch hooks or guard off: it writes core.hooksPath,
    guard.*, an include, or an alias (an alias can carry --no-verify); or a key we cannot
    read; or opens the file in an editor."""
    mode, operands = _git_config_mode(rest)
    if mode == "read":
        return None
    if any(w.literal and w.text in ("--edit", "-e", "edit") for w in rest):
        return "--edit can write any setting"
    if mode == "unknown":
        return _git_config_unclear(rest)
    if not operands:
        return None
    sections = ("--remove-section", "--rename-section", "remove-section", "rename-section")
    if any(w.literal and w.text in sections for w in rest):
        name = operands[0].lower()
        if name in ("core", "guard", "alias", "include") or name.startswith("includeif"):
            return f"removes or renames the [{operands[0]}] section"
        return None
    key = operands[0].lower()
    if "$" in key or "`" in key:
        return "writes a key that is not literal"
    why = _hook_config_key(key)
    if why:
        return f"{operands[0]} {why}"
    if key.startswith("alias."):
        return f"{operands[0]} defines a git command guard cannot see through"
    return None


def _git_config_unclear(rest: list[Word]) -> str | None:
    """`git config` with a word we cannot see: any literal key that switches hooks off
    counts, and so does a key position that is not literal, unless git only reads."""
    if any(w.literal and (w.text in _CONFIG_READS or w.text in _CONFIG_READ_SUBS)
           for w in rest):
        return None  # `git config --get "$key"` reads; reads switch nothing off
    for word in rest:
        lowered = word.text.lower()
        if word.literal and (_hook_config_key(lowered) or lowered.startswith("alias.")):
            return f"{lowered} {_hook_config_key(lowered) or 'defines a git command'}"
    for word in rest:
        if not word.literal and not word.text.startswith("-"):
            return "may write a setting it does not name literally"
        if not word.text.startswith("-"):
            return None
    return None


def _git_stash(rest: list[Word]) -> str | None:
    if rest and rest[0].literal and rest[0].text in ("list", "show"):
        return _git_difflike(rest[1:])
    return "changes the working tree"


# The way out guard offers a blocked session: it writes only the new tree (and a new branch).
NEW_WORKTREE = "adds a new worktree"


def _git_worktree(rest: list[Word]) -> str | None:
    if rest and rest[0].literal and rest[0].text == "list":
        return None
    if rest and rest[0].literal and rest[0].text == "add" and all(w.literal for w in rest[1:]):
        return NEW_WORKTREE
    return "changes worktrees"


def _git_reflog(rest: list[Word]) -> str | None:
    if not rest or (rest[0].literal and rest[0].text.startswith("-")):
        return _git_difflike(rest)
    if rest[0].literal and rest[0].text in ("show", "exists", "list"):
        return _git_difflike(rest[1:])
    return f"{rest[0].text} may change the reflog"


def _git_symbolic_ref(rest: list[Word]) -> str | None:
    operands = 0
    for word in rest:
        if word.opaque:
            return OPAQUE
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
    "cherry", "show-branch",
)  # fmt: skip


def _git_ls_remote(rest: list[Word]) -> str | None:
    # --upload-pack runs a program; an ext:: URL runs a command (when allowed).
    for word in rest:
        if word.opaque:
            return OPAQUE
        name = word.text.partition("=")[0]
        if name == "-u" or long_hit([name], ("--upload-pack", "--exec")):
            return "--upload-pack runs a program"
        if word.text.startswith("-u") and not word.text.startswith("--"):
            return "-u runs a program"
        if "::" in word.text:
            return "a remote helper URL may run a command"
    return None


def _git_fsck(rest: list[Word]) -> str | None:
    for word in rest:
        if word.opaque:
            return OPAQUE
        if long_hit([word.text.partition("=")[0]], ("--lost-found",)):
            return "--lost-found writes the dangling objects out"
    return None


def _git_notes(rest: list[Word]) -> str | None:
    i = 0
    while i < len(rest) and rest[i].literal and rest[i].text.startswith("--ref"):
        i += 2 if rest[i].text == "--ref" else 1
    if i >= len(rest) or (rest[i].literal and rest[i].text in ("list", "show")):
        return None
    return f"{rest[i].text} may change notes"


def _git_submodule(rest: list[Word]) -> str | None:
    words = [w for w in rest if not (w.literal and w.text in ("-q", "--quiet"))]
    if not words or (words[0].literal and words[0].text == "status"):
        for word in words[1:]:
            if word.opaque:
                return OPAQUE
        return None
    return f"{words[0].text} may change submodules"


_GIT_READERS: dict[str, Callable[[list[Word]], str | None]] = {
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
    "ls-remote": _git_ls_remote,
    "fsck": _git_fsck,
    "notes": _git_notes,
    "clean": git_clean,
    "add": git_add,
    "apply": git_apply,
    "format-patch": git_format_patch,
}
# Read-only forms of subcommands that run hooks otherwise (push runs pre-push): the
# hook-bypass scan still reads them first.
_GIT_SCANNED_DRY: dict[str, Callable[[list[Word]], str | None]] = {"push": git_push}
# Read-only forms of subcommands whose other forms run commands: looked up after
# the hook-bypass scan (see _git_bypass), not with the plain readers above.
_GIT_SCANNED_READERS: dict[str, Callable[[list[Word]], str | None]] = {
    "submodule": _git_submodule,
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


# Subcommands that take --no-verify (or -n): an argument we cannot see may be one.
_VERIFY_SUBCOMMANDS = frozenset({"commit", "push", "merge", "pull", "am"})


# Substitutions that print a ref name or an object name, which git never lets start with
# `-`: `git push origin "$(git branch --show-current)"` cannot hide --no-verify.
_REF_PRINTERS = frozenset(
    {"$(git branch --show-current)", "$(git rev-parse --abbrev-ref HEAD)",
     "$(git rev-parse HEAD)", "$(git symbolic-ref --short HEAD)"}
)  # fmt: skip


def _may_be_option(text: str, value_letters: str) -> bool:
    """Whether a word that is not literal could expand to an option that is not the
    value of one: it starts with an expansion, or its literal start leaves the option open."""
    if text in _REF_PRINTERS:
        return False
    cut = len(text)
    for mark in "$`*?[{":
        at = text.find(mark)
        if 0 <= at < cut:
            cut = at
    prefix = text[:cut]
    if not prefix:
        return True
    if prefix.startswith("--"):
        return "=" not in prefix
    if prefix.startswith("-"):
        return not any(letter in value_letters for letter in prefix[1:])
    return False


def _git_bypass(sub: str, rest: list[Word], acc: Acc, depth: int) -> None:
    """Record whether `git <sub> <rest>` switches git hooks off."""
    if sub == "config":
        why = _git_config_hooks(rest)
        if why:
            acc.bypass.append(f"git config {why}")
        return
    if sub in _GIT_READERS:
        return  # read-only subcommands run no hooks; a stray --no-verify is an error
    if sub in ("send-pack", "http-push", "receive-pack"):
        acc.bypass.append(f"git {sub} pushes without git's pre-push hook")
        return
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
            letters = value_letters + attached_letters
            if sub in _VERIFY_SUBCOMMANDS and _may_be_option(text, letters):
                acc.bypass.append(f"git {sub}: an argument that is not literal ({text}) may be "
                                  "--no-verify; write it out, or put paths after --")
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
                    value = option_value(rest, i).text
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
                        value = option_value(rest, i).text
                        i += 1
                    if sub == "rebase" and letter == "x":
                        exec_commands.append(value)
                    break
                if letter == "n" and sub == "commit":
                    no_verify = True  # for git commit, -n is --no-verify
    if no_verify:
        acc.bypass.append(f"git {sub} --no-verify skips git hooks")
    for command in exec_commands:
        acc.bypass.extend(acc.walk_nested(command, depth).bypass)


def _git_nested_commands(rest: list[Word], acc: Acc, depth: int) -> None:
    """`git submodule foreach CMD` runs shell code, `git bisect run CMD ARGS` a command."""
    words = [w for w in rest if not (w.literal and w.text in ("--recursive", "-q", "--quiet"))]
    if len(words) < 2 or not words[0].literal or words[0].text not in ("foreach", "run"):
        return
    if words[0].text == "run":
        scratch = acc.child()
        acc.check_argv(words[1:], scratch, depth + 1, False)
        acc.bypass.extend(scratch.bypass)
    elif all(w.literal for w in words[1:]):
        acc.bypass.extend(acc.walk_nested(" ".join(w.text for w in words[1:]), depth).bypass)

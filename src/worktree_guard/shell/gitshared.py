"""What a line does to the git state every worktree of a repository shares.

Pure: a shell line in, its uses of shared state out. Every worktree of one repository has
one stash (`refs/stash` and its reflog), one `refs/replace/` and one `refs/notes/`, and any
ref may be a symbolic ref to a branch another tree has checked out. The judgement (whose
entry, whose tree, held by whom) is `core/shared_state.py`'s; this module only reads the
line.
"""

from __future__ import annotations

from worktree_guard.shell.targets import git_subcommands

# A stash entry a command takes, drops or applies: its index (0 is the newest), a commit
# name given instead of an index, or every entry (`clear`, or an argument we cannot read).
EVERY = "every"


class SharedUse:
    """One use of shared state: `kind` is "stash" (with `entry`: an int index, a commit
    name, or EVERY), "symref" (with `ref`: the target a symbolic ref is set to), "replace"
    (refs/replace is written) or "head-move" (the branch HEAD resolves to moves)."""

    __slots__ = ("entry", "kind", "ref", "sub")

    def __init__(self, kind: str, sub: str, entry: int | str | None = None,
                 ref: str | None = None) -> None:
        self.kind = kind
        self.sub = sub
        self.entry = entry
        self.ref = ref

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SharedUse) and (
            (self.kind, self.sub, self.entry, self.ref)
            == (other.kind, other.sub, other.entry, other.ref))

    def __hash__(self) -> int:
        return hash((self.kind, self.sub, self.entry, self.ref))

    def __repr__(self) -> str:
        return f"SharedUse({self.kind!r}, {self.sub!r}, {self.entry!r}, {self.ref!r})"


# Subcommands that move the branch HEAD resolves to (HEAD may be a symbolic ref to a
# branch another tree has checked out: then they move that tree's branch).
_HEAD_MOVING = frozenset({"commit", "merge", "reset", "cherry-pick", "revert", "am", "rebase",
                          "pull", "update-ref"})
_STASH_TAKING = frozenset({"pop", "apply", "drop"})
_STASH_OTHERS = frozenset({"push", "save", "create", "store", "list", "show"})
_STASH_FLAGS = frozenset({"-q", "--quiet", "--index"})
_WORDS = ("stash", "symbolic-ref", "replace", "reflog", *sorted(_HEAD_MOVING))
# (fetch/pull/push reach refs/replace only through a refspec naming it: "replace" covers them)


def _plain(text: str) -> bool:
    """A word whose value we read as written (no expansion, glob or quoting trick left)."""
    return not any(c in text for c in "$`*?[{\\")


def stash_entry(word: str) -> int | str:
    """Which entry a stash argument names: `stash@{N}`, `refs/stash@{N}` or `N`; a commit
    name (hex) as given; anything else may be any entry."""
    if not _plain(word.replace("@{", "", 1)) or not word:
        return EVERY
    for prefix in ("refs/stash@{", "stash@{"):
        if word.startswith(prefix) and word.endswith("}"):
            inner = word[len(prefix):-1]
            return int(inner) if inner.isdecimal() else EVERY  # a date: any entry
    if word.isdecimal():
        return int(word)
    if word in ("stash", "refs/stash"):
        return 0
    if len(word) >= 4 and all(c in "0123456789abcdef" for c in word.lower()):
        return word.lower()
    return EVERY


def _stash(args: list[str]) -> list[SharedUse]:
    if not args or args[0].startswith("-"):
        return []  # `git stash [-u -m ...]`: a push adds an entry, it takes none
    sub = args[0]
    if not _plain(sub):
        return [SharedUse("stash", f"stash {sub}", EVERY)]
    operands = [a for a in args[1:] if a not in _STASH_FLAGS]
    if sub in _STASH_TAKING:
        return [SharedUse("stash", f"stash {sub}", stash_entry(operands[0]) if operands else 0)]
    if sub == "branch":  # `git stash branch NAME [STASH]` pops the entry onto a new branch
        return [SharedUse("stash", "stash branch",
                          stash_entry(operands[1]) if len(operands) > 1 else 0)]
    if sub == "clear":
        return [SharedUse("stash", "stash clear", EVERY)]
    if sub in _STASH_OTHERS:
        return []
    return []  # `git stash <pathspec>`-like words git itself refuses


def _reflog(args: list[str]) -> list[SharedUse]:
    """`git reflog delete stash@{N}` drops an entry; `expire` of refs/stash (or --all) may
    drop every one."""
    if not args or args[0] not in ("delete", "expire"):
        return []
    rest = args[1:]
    if args[0] == "delete":
        return [SharedUse("stash", "reflog delete", stash_entry(a)) for a in rest
                if a.startswith(("stash@", "refs/stash@")) or not _plain(a)]
    if any(a in ("--all", "stash", "refs/stash") or not _plain(a) for a in rest):
        return [SharedUse("stash", "reflog expire", EVERY)]
    return []


def _symbolic_ref(args: list[str]) -> list[SharedUse]:
    operands: list[str] = []
    i = 0
    while i < len(args):
        word = args[i]
        i += 1
        if word == "-m":
            i += 1
        elif word in ("-d", "--delete"):
            return []
        elif not word.startswith("-"):
            operands.append(word)
    if len(operands) != 2:
        return []
    target = operands[1]
    return [SharedUse("symref", "symbolic-ref", ref=target if _plain(target) else EVERY)]


def _replace(args: list[str]) -> list[SharedUse]:
    listing = not args or all(a in ("-l", "--list") or a.startswith("--format") for a in args[:1])
    if listing and not any(a in ("-d", "--delete", "-e", "--edit", "-g", "--graft",
                                 "--convert-graft-file") for a in args):
        return []
    return [SharedUse("replace", "replace")]


def _update_ref(args: list[str]) -> list[SharedUse]:
    if "-d" in args and any(a in ("refs/stash", "stash") for a in args):
        return [SharedUse("stash", "update-ref -d", EVERY)]
    operands = [a for a in args if not a.startswith("-")]
    if operands and (operands[0].startswith("refs/replace/") or not _plain(operands[0])):
        return [SharedUse("replace", "update-ref")]
    if "--no-deref" in args or not operands or operands[0] != "HEAD":
        return []
    return [SharedUse("head-move", "update-ref")]


def shared_uses(command: str) -> list[SharedUse]:
    """Every use of shared git state the line makes (also behind wrappers and in `bash -c`
    strings); a line that cannot be parsed but names such a subcommand is a use of every
    stash entry and of refs/replace (unsure means yes)."""
    if "git" not in command or not any(word in command for word in _WORDS):
        return []
    found = git_subcommands(command)
    if found is None:
        return [SharedUse("stash", "stash (a line that cannot be read)", EVERY),
                SharedUse("replace", "replace"), SharedUse("symref", "symbolic-ref", ref=EVERY)]
    uses: list[SharedUse] = []
    for sub, args in found:
        if sub == "stash":
            uses.extend(_stash(args))
        elif sub == "reflog":
            uses.extend(_reflog(args))
        elif sub == "symbolic-ref":
            uses.extend(_symbolic_ref(args))
        elif sub == "replace":
            uses.extend(_replace(args))
        elif sub == "update-ref":
            uses.extend(_update_ref(args))
        elif sub in ("fetch", "pull", "push") and any("refs/replace" in a for a in args):
            uses.append(SharedUse("replace", sub))  # a refspec that writes refs/replace/
        elif not _plain(sub):
            uses.extend([SharedUse("stash", sub, EVERY), SharedUse("head-move", sub)])
        if sub in _HEAD_MOVING and sub != "update-ref":
            uses.append(SharedUse("head-move", sub))
        if sub not in ("stash", "reflog", "update-ref"):
            # An entry's work taken another way: `git checkout stash@{0} -- .`,
            # `git cherry-pick -n stash@{0}`, `git diff stash@{0} | git apply`.
            uses.extend(SharedUse("stash", f"{sub} {a}", stash_entry(_revision_of(a)))
                        for a in args if _names_stash(a))
    # The text scan adds what the parsed runs do not already judge, kind by kind (a parsed
    # `git stash pop` is judged by its own entry, not as every entry).
    kinds = {use.kind for use in uses} | {_KIND_OF.get(sub, "") for sub, _ in found}
    return uses + [use for use in _text_uses(command) if use.kind not in kinds]


def _names_stash(word: str) -> bool:
    return "stash@{" in word or "refs/stash" in word


def _revision_of(word: str) -> str:
    """`stash@{1}^2` -> `stash@{1}`: the entry a revision expression starts from."""
    for prefix in ("refs/stash@{", "stash@{"):
        at = word.find(prefix)
        if at >= 0:
            close = word.find("}", at)
            return word[at:close + 1] if close >= 0 else word
    return "stash"


# The kind of use each subcommand's parsed reading already judges (`git replace -l`: none).
_KIND_OF = {"stash": "stash", "reflog": "stash", "replace": "replace", "symbolic-ref": "symref"}
# Words between which a line's text is cut for the fallback scan below.
_CUTS = " \t\n'\"();|&<>=`,[]"


def _text_uses(command: str) -> list[SharedUse]:
    """What a line that names such a subcommand without running git visibly may still do:
    an alias (`git -c alias.c='stash clear' c`), git's own programs (`git-stash clear`),
    an interpreter's string (`python3 -c "...['git','stash','clear']"`). Scanned as words;
    a hit counts as every stash entry, or any symbolic ref / replacement."""
    words: list[str] = []
    word = ""
    for char in _without_messages(command):
        if char in _CUTS:
            if word:
                words.append(word)
            word = ""
        else:
            word += char
    if word:
        words.append(word)
    uses: list[SharedUse] = []
    for i, text in enumerate(words):
        name = text.rpartition("/")[2]
        name = name[4:] if name.startswith("git-") else name
        after = words[i + 1] if i + 1 < len(words) else ""
        if name == "stash" and (after in _STASH_TAKING or after in ("branch", "clear")):
            uses.append(SharedUse("stash", f"stash {after} (as text)", EVERY))
        elif name == "symbolic-ref":
            uses.append(SharedUse("symref", "symbolic-ref (as text)", ref=EVERY))
        elif _names_replace(text, words[i - 1] if i else ""):
            uses.append(SharedUse("replace", "replace (as text)"))
    return uses


def _without_messages(command: str) -> str:
    """The line without the values of git's `-m` / `--message` (and `-am`...): a commit
    message that says "stash pop" runs nothing. A value is one quoted string or one plain
    word; only inside a git command (a `git` word since the last `;`, `&`, `|`)."""
    out: list[str] = []
    i, n = 0, len(command)
    in_git = False
    while i < n:
        start = i
        while i < n and command[i] not in " \t\n":
            i += 1
        word = command[start:i]
        out.append(word)
        if any(c in word for c in ";&|"):
            in_git = False
        in_git = in_git or word.rpartition("/")[2] == "git"
        is_message = in_git and (word == "--message" or (
            word.startswith("-") and not word.startswith("--") and word.endswith("m")
            and word[1:].isalpha()))
        if not is_message:
            while i < n and command[i] in " \t\n":
                out.append(command[i])
                i += 1
            continue
        while i < n and command[i] in " \t":
            i += 1
        if i < n and command[i] in "'\"":
            close = command.find(command[i], i + 1)
            i = n if close < 0 else close + 1
        else:
            while i < n and command[i] not in " \t\n;&|":
                i += 1
        out.append(" ")
    return "".join(out)


def _names_replace(text: str, before: str) -> bool:
    """`git replace`, `git-replace`, an alias to it, or a refs/replace/ name."""
    if text.startswith("refs/replace/"):
        return True
    name = text.rpartition("/")[2]
    if name == "git-replace":
        return True
    return name == "replace" and (before.rpartition("/")[2] == "git"
                                  or before.startswith("alias."))

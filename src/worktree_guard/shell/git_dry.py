"""git's dry-run and print-only forms of writing subcommands: read-only, proven so by the
classifier table (tests/shell/classifier_table.py runs each in a scratch copy).

Each reader allows the dry-run form with an allow-list of the other options it may carry;
any option not on the list, or an argument that could expand to one, is not read-only.
"""

from __future__ import annotations

from worktree_guard.shell.walk import OPAQUE, long_hit

TYPE_CHECKING = False
if TYPE_CHECKING:
    from worktree_guard.shell.lexer import Word


def _dry_run(rest: list[Word], flags: frozenset[str], letters: str, values: frozenset[str],
             dry: tuple[str, ...], dry_letter: str, value_letters: str = "") -> str | None:
    """A writing subcommand in its dry-run form: one of `dry` (or `-<dry_letter>`, also in a
    cluster) is given, and every other option is one of `flags` / short `letters` (or takes
    a value: `values`, `value_letters`); operands are pathspecs and names."""
    is_dry = False
    i = 0
    while i < len(rest):
        word = rest[i]
        text = word.text
        i += 1
        if word.literal and text == "--":
            break
        if word.opaque:
            return OPAQUE
        name, eq, _ = text.partition("=")
        if not text.startswith("-") or text == "-":
            continue
        if text.startswith("--"):
            if name in dry:
                is_dry = True
            elif name in values:
                i += 0 if eq else 1
            elif text not in flags:
                return f"option {name} is not a dry-run one"
        elif value_letters and text[1] in value_letters:
            i += 0 if len(text) > 2 else 1  # -e<pattern> or -e <pattern>
        elif set(text[1:]) <= set(letters + dry_letter):
            is_dry = is_dry or dry_letter in text[1:]
        else:
            return f"option {text} is not a dry-run one"
    return None if is_dry else "writes without --dry-run"


def git_clean(rest: list[Word]) -> str | None:
    # -n wins over -f: git clean -nf lists. -i (interactive) is never dry.
    return _dry_run(rest, frozenset({"--force", "--quiet"}), "dfxXq",
                    frozenset({"--exclude"}), ("--dry-run",), "n", "e")


def git_add(rest: list[Word]) -> str | None:
    flags = frozenset({"--verbose", "--force", "--all", "--no-all", "--update",
                       "--ignore-removal", "--no-ignore-removal", "--ignore-missing",
                       "--ignore-errors", "--sparse", "--intent-to-add"})
    return _dry_run(rest, flags, "vfAuN", frozenset(), ("--dry-run",), "n")


def git_push(rest: list[Word]) -> str | None:
    """`git push --dry-run`: contacts the remote and sends nothing; no --set-upstream (a
    config write), no --receive-pack/--exec program, no remote helper URL."""
    for word in rest:
        if word.literal and "::" in word.text:
            return "a remote helper URL may run a command"
    flags = frozenset({"--force", "--force-with-lease", "--force-if-includes", "--all",
                       "--branches", "--tags", "--follow-tags", "--no-follow-tags", "--mirror",
                       "--delete", "--porcelain", "--verbose", "--quiet", "--progress",
                       "--no-progress", "--atomic", "--no-atomic", "--ipv4", "--ipv6",
                       "--no-force-with-lease", "--prune", "--no-signed", "--no-thin", "--thin"})
    return _dry_run(rest, flags, "fdvq46", frozenset({"--force-with-lease", "--repo"}),
                    ("--dry-run",), "n")


def git_apply(rest: list[Word]) -> str | None:
    """`git apply --check` / `--stat` / `--numstat` / `--summary` without `--apply`: the
    patch is read, never applied."""
    checking = False
    for word in rest:
        if word.opaque:
            return OPAQUE
        name = word.text.partition("=")[0]
        if not word.literal or not name.startswith("-"):
            continue
        if name in ("--check", "--stat", "--numstat", "--summary"):
            checking = True
        elif long_hit([name], ("--apply", "--build-fake-ancestor", "--reject")) or \
                name in ("--apply", "--build-fake-ancestor", "--reject"):
            return f"{name} writes"
    return None if checking else "applies the patch"


def git_format_patch(rest: list[Word]) -> str | None:
    """`git format-patch --stdout`: the patches go to standard output, no file is made."""
    stdout = False
    for word in rest:
        if word.literal and word.text == "--":
            break
        if word.opaque:
            return OPAQUE
        name = word.text.partition("=")[0]
        if name == "--stdout":
            stdout = True
        elif (not name.startswith("--") and "o" in name) or \
                long_hit([name], ("--output-directory", "--output")):
            return f"{name} writes files"
    return None if stdout else "writes patch files"

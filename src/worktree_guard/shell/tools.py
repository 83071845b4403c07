"""Programs with a read-only mode: tar and unzip listings, curl and wget to stdout,
`npm ls`, `python -m json.tool`.

Each is read-only only in the listed mode and with allow-listed options, since
their other options extract, save, log or run programs.  What they read from
their own configuration files (~/.curlrc, ~/.wgetrc, .npmrc) is outside the
command line and is not judged here; their environment switches (TAR_OPTIONS,
UNZIP, WGETRC, CURL_HOME, npm_config_*) are risky variables (see walk).
"""

from __future__ import annotations

from worktree_guard.shell.git import scan_unknown
from worktree_guard.shell.walk import OPAQUE

TYPE_CHECKING = False
if TYPE_CHECKING:
    from worktree_guard.shell.lexer import Word
    from worktree_guard.shell.walk import Acc, Handler


def _literal_args(args: list[Word]) -> bool:
    return all(w.literal for w in args)


# --- tar -t ------------------------------------------------------------------------

_TAR_LETTERS = frozenset("tvfzjJaZxO")  # list, verbose, file, (de)compressors, -xO
_TAR_LONG = frozenset(
    {"--list", "--verbose", "--file", "--gzip", "--bzip2", "--xz", "--zstd", "--lzma",
     "--auto-compress", "--numeric-owner", "--full-time", "--utc", "--wildcards",
     "--no-wildcards", "--anchored", "--no-anchored", "--force-local", "--ignore-case",
     "--extract", "--get", "--to-stdout"}
)  # fmt: skip


def _tar(args: list[Word], acc: Acc, depth: int) -> str | None:
    # Only listing letters are allowed, so tar lists or refuses to run (no mode given);
    # extracting only with -O (to stdout). -f host:file would reach another machine.
    if not _literal_args(args):
        return OPAQUE
    letters = "".join(w.text for i, w in enumerate(args)
                      if (w.text[:1] == "-" and w.text[1:2] != "-") or i == 0)
    longs = {w.text.partition("=")[0] for w in args if w.text.startswith("--")}
    extracts = "x" in letters or bool({"--extract", "--get"} & longs)
    if extracts and "O" not in letters and "--to-stdout" not in longs:
        return "option -x is not a listing option (extracts files without -O)"
    i = 0
    while i < len(args):
        text = args[i].text
        if i == 0 and text and not text.startswith("-"):
            text = "-" + text  # old style: `tar tf x.tar`
        i += 1
        if text.startswith("--"):
            name, eq, value = text.partition("=")
            if name not in _TAR_LONG:
                return f"option {name} is not a listing option"
            if name == "--file" and not eq:
                value = args[i].text if i < len(args) else ":"
                i += 1
            if name == "--file" and ":" in value:
                return "an archive on another host runs a remote shell"
        elif text.startswith("-") and len(text) > 1:
            for j in range(1, len(text)):
                letter = text[j]
                if letter not in _TAR_LETTERS:
                    return f"option -{letter} is not a listing option"
                if letter == "f":
                    value = text[j + 1 :]
                    if not value:
                        value = args[i].text if i < len(args) else ":"
                        i += 1
                    if ":" in value:
                        return "an archive on another host runs a remote shell"
                    break
        # other words are member names to list
    return None


# --- unzip -l ------------------------------------------------------------------------

_UNZIP_MODES = frozenset("lvtZpc")  # list, verbose list, test, zipinfo, to stdout
# Not -T (sets the archive's time), -M (pipes through a pager), -d/-o/-x ...
_UNZIP_LETTERS = _UNZIP_MODES | frozenset("qz1h")


def _unzip(args: list[Word], acc: Acc, depth: int) -> str | None:
    if not _literal_args(args):
        return OPAQUE
    mode = False
    for word in args:
        text = word.text
        if text.startswith("-") and len(text) > 1:
            letters = set(text[1:])
            if not letters <= _UNZIP_LETTERS:
                return f"option {text} may extract files"
            mode = mode or bool(letters & _UNZIP_MODES)
    return None if mode else "extracts files without -l/-v/-t/-p/-c/-Z"


# --- curl and wget to standard output --------------------------------------------------

_CURL_FLAGS = frozenset(
    {"-s", "--silent", "-S", "--show-error", "-L", "--location", "-f", "--fail",
     "--fail-with-body", "-i", "--include", "-I", "--head", "-v", "--verbose", "-k",
     "--insecure", "--compressed", "-G", "--get", "-N", "--no-buffer", "-4", "--ipv4", "-6",
     "--ipv6", "--http1.1", "--http2", "--no-progress-meter", "-#", "--progress-bar",
     "-q", "--disable", "--globoff", "-g", "--raw", "--no-keepalive", "--netrc"}
)  # fmt: skip
_CURL_VALUES = frozenset(
    {"-H", "--header", "-A", "--user-agent", "-m", "--max-time", "--connect-timeout",
     "-X", "--request", "--retry", "--retry-delay", "--max-redirs", "-e", "--referer",
     "-u", "--user", "--url", "-r", "--range", "-d", "--data", "--data-raw",
     "--data-urlencode", "--data-binary", "-b", "--cookie", "--resolve"}
)  # fmt: skip


def _curl(args: list[Word], acc: Acc, depth: int) -> str | None:
    # Allow-list: -o/-O/-D/-c/-K/--trace/--hsts/--alt-svc/-w %output{} ... write files.
    return _fetcher(args, _CURL_FLAGS, _CURL_VALUES, needs_stdout=False)


_WGET_FLAGS = frozenset(
    {"-q", "--quiet", "-S", "--server-response", "-nv", "--no-verbose", "-v", "--verbose",
     "--no-check-certificate", "--no-hsts", "--no-config", "-4", "-6", "--inet4-only",
     "--inet6-only", "--spider"}
)  # fmt: skip
_WGET_VALUES = frozenset(
    {"-T", "--timeout", "-t", "--tries", "--header", "-U", "--user-agent",
     "--max-redirect", "-O", "--output-document"}
)  # fmt: skip


def _wget(args: list[Word], acc: Acc, depth: int) -> str | None:
    # Saves a file unless -O - (standard output); -o/-a write a log; -r/-N/-x save.
    return _fetcher(args, _WGET_FLAGS, _WGET_VALUES, needs_stdout=True)


def _fetcher(
    args: list[Word], flags: frozenset[str], values: frozenset[str], needs_stdout: bool
) -> str | None:
    to_stdout = False
    urls = 0
    i = 0
    while i < len(args):
        word = args[i]
        text = word.text
        i += 1
        if word.opaque:
            return OPAQUE
        name, eq, value = text.partition("=") if text.startswith("--") else (text, "", "")
        if not text.startswith("-") or text == "-":
            if not word.literal:
                return "a URL is not a literal"
            urls += 1
        elif name in flags and not eq:
            continue
        elif name in values:
            if not eq:
                value = args[i].text if i < len(args) else ""
                i += 1
            if name in ("-O", "--output-document"):
                to_stdout = value == "-"
                if not to_stdout:
                    return "saves to a file"
        elif len(text) > 2 and not text.startswith("--"):
            # a cluster of flags, the last may take its value attached: -qO-
            for j in range(1, len(text)):
                letter = "-" + text[j]
                if letter in flags:
                    continue
                if letter in values:
                    value = text[j + 1 :]
                    if not value:
                        value = args[i].text if i < len(args) else ""
                        i += 1
                    if letter == "-O":
                        to_stdout = value == "-"
                        if not to_stdout:
                            return "saves to a file"
                    break
                return f"option {letter} may write files"
        else:
            return f"option {name} may write files"
    if not urls:
        return "no URL"
    if needs_stdout and not to_stdout:
        return "saves to a file without -O -"
    return None


# --- npm ls, python -m json.tool ----------------------------------------------------

_NPM_LS_FLAGS = frozenset(
    {"--all", "-a", "--json", "--long", "-l", "--parseable", "-p", "--global", "-g",
     "--omit=dev", "--omit=optional", "--omit=peer", "--include=dev", "--link",
     "--production", "--unicode", "--depth=0", "--depth=1", "--depth=2"}
)  # fmt: skip


def _npm(args: list[Word], acc: Acc, depth: int) -> str | None:
    if len(args) == 1 and args[0].literal and args[0].text in ("--version", "-v"):
        return None
    # npm ls / list only reads package.json and node_modules; it runs no scripts.
    if args and args[0].literal and args[0].text in ("ls", "list", "la", "ll"):
        for word in args[1:]:
            if not word.literal:
                return OPAQUE
            if word.text.startswith("-") and word.text not in _NPM_LS_FLAGS:
                return f"option {word.text} is not known to be harmless"
        return None
    scan_unknown(args, acc, depth)
    return "can run package scripts"


_JSON_TOOL_FLAGS = frozenset(
    {"--sort-keys", "--no-ensure-ascii", "--json-lines", "--tab", "--no-indent", "--compact"}
)
_PYTHON_VERSION = frozenset({"--version", "-V"})


def _python(args: list[Word], acc: Acc, depth: int) -> str | None:
    if len(args) == 1 and args[0].literal and args[0].text in _PYTHON_VERSION:
        return None
    # `python -m json.tool [options] [infile]`: a second file operand is written.
    if not _literal_args(args):
        return OPAQUE
    texts = [w.text for w in args]
    i = 0
    while i < len(texts) and texts[i] in ("-I", "-P", "-E", "-s"):
        i += 1
    if texts[i : i + 2] != ["-m", "json.tool"]:
        scan_unknown(args, acc, depth)
        return "can run arbitrary code"
    operands = 0
    rest = texts[i + 2 :]
    j = 0
    while j < len(rest):
        text = rest[j]
        j += 1
        if text == "--indent":
            j += 1
        elif text.startswith("-") and text != "-":
            if text not in _JSON_TOOL_FLAGS and not text.startswith("--indent="):
                return f"json.tool option {text} is not known to be harmless"
        else:
            operands += 1
    return None if operands <= 1 else "a second file operand is written as output"


TOOL_HANDLERS: dict[str, Handler] = {
    "tar": _tar,
    "unzip": _unzip,
    "curl": _curl,
    "wget": _wget,
    "npm": _npm,
    "python": _python,
    "python3": _python,
}

"""Wrapper commands: programs that run another command given in their own arguments.

One declarative table of their options (which take a value, which mean no command runs,
which name a file the wrapper writes, which hold shell code), read by every reader of a
line: the classifier's wrapper handler, the target reader and the git-subcommand reader.
So `env -u FOO git push -f`, `timeout -s KILL 5 git push -f` and `command -p git push -f`
are all seen as the push they are, by the same rule.

Options are read the way GNU getopt_long reads them: short ones cluster (`-iu FOO`), a
value is attached or the next word, and a long option may be any unique prefix of its
name (`--uns=FOO` is `--unset=FOO`). An option the table does not know, an ambiguous
prefix or a word whose value is not visible ends the reading with a problem: the caller
is then unsure what runs.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["CODE", "DESCRIBE", "FLAG", "OPTIONAL", "RUNNERS", "VALUE", "WRITES", "Runner",
           "Unwrapped", "runner_of", "unwrap"]

# What an option is.
FLAG = "flag"  # takes no value
VALUE = "value"  # takes a value: attached, or the next word
OPTIONAL = "optional"  # takes a value only when attached (`-e[EOF]`, `--eof[=EOF]`)
DESCRIBE = "describe"  # no command runs after it (`command -v`, `taskset -p`)
WRITES = "writes"  # takes a value: a file the wrapper itself writes (`time -o FILE`)
CODE = "code"  # takes a value: shell code the wrapper runs (`env -S`, `flock -c`)


class Runner:
    """One wrapper: its options, how many plain words come before the command (timeout's
    duration, flock's lock file), and whether NAME=value words set the command's
    environment (env, sudo)."""

    __slots__ = ("assignments", "numeric", "operands", "options")

    def __init__(self, options: dict[str, str], operands: int = 0,
                 assignments: bool = False, numeric: bool = False) -> None:
        self.options = options
        self.operands = operands
        self.assignments = assignments
        self.numeric = numeric  # `nice -5`: a dash and digits is the adjustment


def _opts(**kinds: str) -> dict[str, str]:
    """{spelling: kind} from kind=spellings ("-u --unset")."""
    table: dict[str, str] = {}
    for kind, spellings in kinds.items():
        for spelling in spellings.split():
            table[spelling] = {"flag": FLAG, "value": VALUE, "optional": OPTIONAL,
                               "describe": DESCRIBE, "writes": WRITES, "code": CODE}[kind]
    return table


_VERSION = "--help --version"

RUNNERS: dict[str, Runner] = {
    "env": Runner(_opts(
        flag="- -i --ignore-environment -0 --null -v --debug --list-signal-handling",
        value="-u --unset -C --chdir",
        optional="--block-signal --default-signal --ignore-signal",
        code="-S --split-string", describe=_VERSION), assignments=True),
    "timeout": Runner(_opts(
        flag="--preserve-status --foreground -v --verbose",
        value="-s --signal -k --kill-after", describe=_VERSION), operands=1),
    "nice": Runner(_opts(value="-n --adjustment", describe=_VERSION), numeric=True),
    "ionice": Runner(_opts(
        flag="-t --ignore", value="-c --class -n --classdata",
        describe="-p --pid -P --pgid -u --uid -h --help -V --version")),
    "stdbuf": Runner(_opts(value="-i --input -o --output -e --error", describe=_VERSION)),
    "sudo": Runner(_opts(
        flag="-A --askpass -b --background -E -H --set-home -i --login -k --reset-timestamp "
             "-n --non-interactive -P --preserve-groups -S --stdin -s --shell -N --no-update "
             "-B --bell",
        value="-u --user -g --group -C --close-from -D --chdir -h --host -p --prompt "
              "-r --role -t --type -T --command-timeout -U --other-user -R --chroot",
        optional="--preserve-env",
        describe="-l --list -v --validate -V --version -K --remove-timestamp -e --edit "
                 "--help"), assignments=True),
    "doas": Runner(_opts(flag="-n -s", value="-u", describe="-C -L")),
    "command": Runner(_opts(flag="-p", describe="-v -V")),
    "builtin": Runner({}),
    "exec": Runner(_opts(flag="-c -l", value="-a")),
    "nohup": Runner(_opts(describe=_VERSION)),
    "setsid": Runner(_opts(flag="-c --ctty -f --fork -w --wait",
                           describe="-h --help -V --version")),
    "time": Runner(_opts(
        flag="-p --portability -v --verbose -q --quiet -a --append", value="-f --format",
        writes="-o --output", describe=_VERSION)),
    "xargs": Runner(_opts(
        flag="-0 --null -r --no-run-if-empty -t --verbose -x --exit -p --interactive "
             "-o --open-tty --show-limits",
        value="-a --arg-file -d --delimiter -E -I -L -n --max-args -P --max-procs "
              "-s --max-chars --process-slot-var",
        optional="-e -i -l --eof --replace --max-lines", describe=_VERSION)),
    "chrt": Runner(_opts(
        flag="-a --all-tasks -b --batch -d --deadline -f --fifo -i --idle -o --other "
             "-r --rr -R --reset-on-fork -v --verbose -e --ext",
        value="-T --sched-runtime -P --sched-period -D --sched-deadline",
        describe="-m --max -p --pid -h --help -V --version"), operands=1),
    "taskset": Runner(_opts(flag="-a --all-tasks -c --cpu-list",
                            describe="-p --pid -h --help -V --version"), operands=1),
    "flock": Runner(_opts(
        flag="-s --shared -x --exclusive -e -u --unlock -n --nb --nonblock -o --close "
             "-F --no-fork --verbose",
        value="-w --wait --timeout -E --conflict-exit-code", code="-c --command",
        describe="-h --help -V --version"), operands=1),
    "unbuffer": Runner(_opts(flag="-p")),
    "watch": Runner(_opts(
        flag="-b --beep -e --errexit -g --chgexit -t --no-title -c --color -C --no-color "
             "-x --exec -w --no-wrap -p --precise -r --no-rerun",
        value="-n --interval -q --equexit", optional="-d --differences",
        describe="-h --help -v --version")),
}


def runner_of(name: str) -> Runner | None:
    """The wrapper a command name (a path's last part) is, or None."""
    return RUNNERS.get(name.rpartition("/")[2])


class Unwrapped:
    """What a wrapper's arguments come to: where the command starts (`len(args)`: none),
    why that cannot be told (None: it can), and the words that are not the command."""

    __slots__ = ("code", "describes", "options", "problem", "start", "values", "writes")

    def __init__(self) -> None:
        self.start = 0
        self.problem: str | None = None
        self.describes = False  # an option says no command runs
        self.options: list[str] = []  # the options seen, by their full long or short name
        self.values: list[tuple[str, str]] = []  # (option, value) of every option's value
        self.writes: list[str] = []  # files the wrapper writes itself
        self.code: list[str] = []  # shell code the wrapper runs


def _long_kind(runner: Runner, name: str) -> tuple[str, str] | None:
    """(full name, kind) of a long option spelled in full or as a unique prefix."""
    kind = runner.options.get(name)
    if kind is not None:
        return name, kind
    found = [o for o in runner.options if o.startswith("--") and o.startswith(name)]
    if len(found) == 1:
        return found[0], runner.options[found[0]]
    return None


def unwrap(runner: Runner, args: Sequence[str], opaque: Sequence[bool] | None = None
           ) -> Unwrapped:
    """Read a wrapper's own options and operands from args (the words after its name).

    opaque[i]: the word's value is not visible (an expansion that may be an option)."""
    out = Unwrapped()
    n = len(args)
    i = 0
    operands = 0

    def take(option: str, kind: str, value: str) -> None:
        out.options.append(option)
        out.values.append((option, value))
        if kind == WRITES:
            out.writes.append(value)
        elif kind == CODE:
            out.code.append(value)

    while i < n:
        text = args[i]
        if opaque is not None and opaque[i]:
            out.problem = f"{args[i]!r} may be an option that is not visible"
            break
        if operands < runner.operands:
            if text == "--" or (text.startswith("-") and text != "-"):
                pass  # options may come before the operands
            else:
                operands += 1
                i += 1
                # They stop at the first operand (`+` getopt), the command follows; but
                # `flock FILE -c CODE` reads its -c after the file.
                if operands == runner.operands and not (
                        i < n and runner.options.get(args[i]) == CODE):
                    break
                continue
        if text == "--":
            i += 1
            break
        if runner.assignments and _assigns(text):
            i += 1
            continue
        if text == "-" and "-" in runner.options:
            out.options.append("-")
            i += 1
            continue
        if not text.startswith("-") or text == "-":
            break
        i += 1
        if runner.numeric and text[1:].lstrip("-").isdecimal():
            continue  # `nice -5`, `nice --5`
        if text.startswith("--"):
            name, eq, value = text.partition("=")
            found = _long_kind(runner, name)
            if found is None:
                out.problem = f"option {name} is not understood"
                break
            option, kind = found
            if kind == DESCRIBE:
                out.options.append(option)
                out.describes = True
                break
            if kind in (VALUE, WRITES, CODE) and not eq:
                if i >= n or (opaque is not None and opaque[i]):
                    out.problem = f"the value of option {option} is not visible"
                    break
                value = args[i]
                i += 1
            if kind == FLAG and eq:
                out.problem = f"option {option} takes no value"
                break
            take(option, kind, value)
            continue
        for j in range(1, len(text)):
            option = "-" + text[j]
            kind = runner.options.get(option, "")
            if not kind:
                out.problem = f"option {option} is not understood"
                break
            if kind == DESCRIBE:
                out.options.append(option)
                out.describes = True
                break
            if kind == FLAG:
                out.options.append(option)
                continue
            value = text[j + 1 :]
            if not value and kind != OPTIONAL:
                if i >= n or (opaque is not None and opaque[i]):
                    out.problem = f"the value of option {option} is not visible"
                    break
                value = args[i]
                i += 1
            take(option, kind, value)
            break
        if out.problem is not None or out.describes:
            break
    out.start = min(i, n)
    if out.problem is None and not out.describes and operands < runner.operands:
        if out.start < n:  # the operand comes after the options
            out.start += 1
        else:
            out.start = n
    return out


def _assigns(text: str) -> bool:
    name, eq, _ = text.partition("=")
    return bool(eq) and bool(name) and (name[0].isalpha() or name[0] == "_") and all(
        c.isalnum() or c == "_" for c in name)

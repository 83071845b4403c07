"""The `guard` command for people (cold path: Typer is fine here).

Each command is a thin layer over a library module: parse the flags, call it, print.
`guard hook` and `guard git-hook` never come here (see entry.py).
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from enum import Enum
from typing import Annotated, Any, NoReturn

import typer

from worktree_guard import __version__
from worktree_guard.core.agents import CLAUDE, NAMES
from worktree_guard.core.config import LockDirError, Settings, load_settings
from worktree_guard.core.lease import LeaseStoreError
from worktree_guard.core.workspace import Workspace, find_workspace
from worktree_guard.install.targets import GuardError, Scope

EXIT_OK = 0
EXIT_ERROR = 1
# 2 is Typer's own code for a bad flag or argument.

_AGENTS = ",".join(NAMES)  # the agent table's, in its order


JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _examples(*lines: str) -> str:
    # "\b" keeps click from re-wrapping the example block.
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


app = typer.Typer(
    help=(
        "worktree-guard: one writer per git working tree among AI coding-agent sessions.\n\n"
        "The first session that changes a working tree takes its lease; every other session "
        "stays read-only there until the holder ends, goes idle for the ttl, or dies."
    ),
    epilog=_examples(
        "guard install            # Claude Code hooks + git hooks for this repository",
        "guard status             # who holds this working tree",
        "guard run -- make test   # hold the tree while a script runs",
        "guard demo               # see it work in a throwaway repository",
    ),
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class _ExitCode(Exception):
    """Leave the command with this exit code; anything to say has been printed."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _color() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


PREFIX = "guard: "  # every message of guard's own on stderr starts so
_JSON_ERRORS = False  # set for a `--json` command: its errors are a JSON object on stdout


def _err(text: str) -> None:
    typer.echo(text, err=True)


def _error(text: str) -> None:
    """An error message: `guard: ...` on stderr, or {"error": ...} for a --json command."""
    if _JSON_ERRORS:
        typer.echo(json.dumps({"ok": False, "error": text}))
    else:
        _err(PREFIX + text)


def _fail(text: str, code: int = EXIT_ERROR) -> NoReturn:
    _error(text)
    raise _ExitCode(code)


def _ask_yes_no(question: str) -> bool:
    """Ask on stderr, read one line of stdin: `y`/`yes` (typed or piped) is yes; anything
    else, end of input included, is no. Not typer.confirm: it prints the last character of
    its prompt (a space) on stdout, which belongs to the command's output."""
    typer.echo(f"{question} [y/N]: ", err=True, nl=False)
    try:
        answer = sys.stdin.readline() if sys.stdin is not None else ""
    except (KeyboardInterrupt, OSError):
        answer = ""
    if not answer.endswith("\n"):
        _err("")  # end of input (or Ctrl-C): end the prompt's line
        if not _is_terminal(sys.stdin):
            _err(PREFIX + "no answer: stdin is not a terminal, so nobody was asked; "
                 "add --yes to answer yes")
    return answer.strip().lower() in ("y", "yes")


def _is_terminal(stream: Any) -> bool:
    try:
        return stream is not None and bool(stream.isatty())
    except (OSError, ValueError):
        return False


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


def _workspace() -> Workspace:
    ws = find_workspace(os.getcwd())
    if ws is None:
        _fail(f"not inside a git working tree: {os.getcwd()}")
    return ws


def _settings() -> Settings:
    return load_settings()


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        typer.echo(f"guard {__version__}")
        raise typer.Exit(0)


# ---- install / uninstall --------------------------------------------------------------------


@app.command(epilog=_examples(
    "guard install                    # .claude/settings.local.json + git hooks",
    "guard install --scope project    # .claude/settings.json: this machine's guard path, so",
    "                                 # commit it only if every machine has guard there",
    "guard install --no-claude        # git hooks only (other agents, plain shells)",
    "guard install --statusline       # also show the lease in Claude Code's status line",
    "guard install --strict           # also check every ref write (slower fetch and rebase)",
))  # fmt: skip
def install(
    scope: Annotated[Scope, typer.Option(help="Which Claude Code settings file: local (this "
                                         "tree, not committed), project (.claude/settings.json, "
                                         "which holds this machine's path to guard) or user.")
                     ] = Scope.LOCAL,
    no_claude: Annotated[bool, typer.Option("--no-claude",
                                            help="Leave Claude Code settings alone.")] = False,
    no_git_hooks: Annotated[bool, typer.Option("--no-git-hooks",
                                               help="Leave git hooks alone.")] = False,
    statusline: Annotated[bool, typer.Option("--statusline", help="Also set Claude Code's "
                                             "statusLine to `guard statusline`.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Install the git hooks into a "
                                        "core.hooksPath folder owned by another tool (its "
                                        "hooks are chained), and guard's entries into a "
                                        ".claude/settings.local.json that git tracks (they "
                                        "get committed).")] = False,
    agents: Annotated[str | None, typer.Option("--agents", help="Which agents' hooks to "
                                               f"install, comma-separated, from {_AGENTS} "
                                               "(default: Claude Code, and each other one "
                                               "found on PATH).")
                      ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only warnings and "
                                        "errors; the exit code says the rest.")] = False,
    trust: Annotated[bool, typer.Option("--trust", help="Also do the one-time trust step "
                                        "where the agent's own files allow it: Gemini CLI's "
                                        "~/.gemini/trustedFolders.json (undone by uninstall). "
                                        "Codex and Copilot trust in their own UI.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Also install the "
                                         "prepare-commit-msg and reference-transaction hooks: "
                                         "git itself then refuses another agent's commits "
                                         "under --no-verify or by rebase, cherry-pick, revert, "
                                         "and its branch moves, at a cost on every rebased "
                                         "commit and every ref write (a long rebase, a fetch "
                                         "of many tags; see docs/git-hooks.md).")] = False,
) -> None:  # fmt: skip
    """Guard this repository: Claude Code hook entries and git hook shims.

    Works from any folder of the repository, main or linked worktree. Other settings and
    hooks are kept (a hook already there is chained and still runs). Safe to run again.
    """
    from worktree_guard.install.agent_hooks import agents_on_path, parse_agents, skipped_line
    from worktree_guard.install.install import InstallOptions
    from worktree_guard.install.install import install as do_install
    from worktree_guard.install.launcher import current_launcher
    from worktree_guard.install.settings import SettingsError

    skipped: list[str] = []
    if agents is None:
        from worktree_guard.install.targets import locate_repo

        chosen, skipped = agents_on_path(locate_repo(os.getcwd()).toplevel)
    else:
        try:
            chosen = parse_agents(agents)
        except SettingsError as exc:
            raise typer.BadParameter(str(exc), param_hint="'--agents'") from None
    no_claude = no_claude or CLAUDE not in chosen
    options = InstallOptions(scope, not no_claude, not no_git_hooks, statusline, force,
                             agents=tuple(name for name in chosen if name != CLAUDE),
                             trust=trust, strict=strict)
    report = do_install(os.getcwd(), options, current_launcher())

    def say(line: str) -> None:
        if not quiet:
            typer.echo(line)

    for line in report.done:
        say(line)
    for line in report.warnings:
        _err(f"{PREFIX}warning: {line}")
    for line in report.steps:
        say(f"one-time step: {line}")
    if skipped:
        say(skipped_line(skipped, chosen))
    if not no_claude:
        say("Claude Code reads hooks when a session starts: restart running sessions.")
    if not report.complete:
        raise _ExitCode(EXIT_ERROR)


@app.command(epilog=_examples("guard uninstall", "guard uninstall --user"))
def uninstall(
    user: Annotated[bool, typer.Option("--user", help="Also take guard out of "
                                       "~/.claude/settings.json when another repository put "
                                       "it there.")] = False,
) -> None:  # fmt: skip
    """Remove what `guard install` added, restoring each file as it was before."""
    from worktree_guard.install.uninstall import uninstall as do_uninstall

    report = do_uninstall(os.getcwd(), user)
    for line in report.done:
        typer.echo(line)
    for line in report.warnings:
        _err(f"{PREFIX}warning: {line}")


# ---- looking --------------------------------------------------------------------------------


@app.command(epilog=_examples("guard status", "guard status --json | jq .lease.state",
                             "guard status --remote   # also ask the remote for its lease"))
def status(
    json_out: JsonFlag = False,
    remote: Annotated[bool, typer.Option("--remote", help="Ask the git remote for the current "
                                         "branch's lease (one fetch); without it, what this "
                                         "clone last saw.")] = False,
) -> None:  # fmt: skip
    """Who holds this working tree, since when, and what guard has installed here."""
    from worktree_guard.commands.remote import branch_lease, describe_branch_lease
    from worktree_guard.commands.status import render_status, status_data, viewer_for
    from worktree_guard.core.identity import session_from_env
    from worktree_guard.install.targets import locate_repo

    repo, settings = locate_repo(os.getcwd()), _settings()
    if json_out:
        data = status_data(repo, settings)
        if remote:  # scripts reading the plain `--json` see what they always saw
            data["remote_lease"] = branch_lease(repo.toplevel, data.get("branch"), True,
                                                session_from_env())
        _print_json(data)
        return
    viewer = viewer_for(settings)
    usable = viewer.lock_problem is None
    data = status_data(repo, settings, with_lease=usable)
    text = render_status(data, viewer)
    line = describe_branch_lease(branch_lease(repo.toplevel, data.get("branch"), remote,
                                              session_from_env()))
    typer.echo(text + (f"\n{'remote:':<12}{line}" if line else ""))
    if not usable:
        raise _ExitCode(EXIT_ERROR)


@app.command("list", epilog=_examples("guard list", "guard list --json",
                                      "guard list --remote origin   # the branch leases there"))
def list_(
    json_out: JsonFlag = False,
    remote: Annotated[str | None, typer.Option("--remote", help="List the branch leases on "
                                               "this git remote instead (one fetch).")
                      ] = None,
) -> None:  # fmt: skip
    """Every lease on this machine (in the lock folder), or a remote's branch leases."""
    if remote is not None:
        from worktree_guard.commands.remote import RemoteCommandError, remote_leases
        from worktree_guard.commands.remote import render_list as render_remote
        from worktree_guard.core.identity import session_from_env
        from worktree_guard.core.remote_lease import RemoteLeaseError

        ws = _workspace()
        try:
            leases = remote_leases(ws.toplevel, remote, True, session_from_env())
        except (RemoteCommandError, RemoteLeaseError) as exc:
            _fail(str(exc))
        if json_out:
            _print_json({"remote": remote, "leases": leases})
        else:
            typer.echo(render_remote(remote, leases))
        return
    from worktree_guard.commands.status import list_data, render_list

    data = list_data(_settings())
    if json_out:
        _print_json(data)
    else:
        typer.echo(render_list(data))


@app.command(epilog=_examples(
    "guard log                 # the last 20 events",
    "guard log -n 100 --json   # JSON lines, one event each",
    "guard log --follow        # keep printing new events (Ctrl-C stops)",
))  # fmt: skip
def log(
    count: Annotated[int, typer.Option("-n", "--lines", min=0,
                                       help="How many of the last events.")] = 20,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
    follow_: Annotated[bool, typer.Option("--follow", "-f",
                                          help="Keep printing new events.")] = False,
) -> None:  # fmt: skip
    """The event log: leases acquired, refreshed, denied, released, taken over."""
    from worktree_guard.commands.log import (
        as_json_line,
        follow,
        format_event,
        last_events,
        no_events_message,
    )

    lock_dir = _settings().lock_dir
    show = as_json_line if json_out else format_event
    shown = last_events(lock_dir, count)
    for entry in shown:
        typer.echo(show(entry))
    if not shown and count:
        # Not silence: "no events" and "the wrong folder" must look different.
        message = no_events_message(lock_dir)
        _err(message) if json_out else typer.echo(message)
    if follow_:
        try:
            for entry in follow(lock_dir):
                typer.echo(show(entry))
        except KeyboardInterrupt:
            pass


@app.command(epilog=_examples(
    "guard doctor",
    "guard doctor --json",
    "guard doctor --ack      # you have seen that guard failed open: clear the warning",
))  # fmt: skip
def doctor(
    json_out: JsonFlag = False,
    ack: Annotated[bool, typer.Option("--ack", help="Acknowledge that guard failed open "
                                      "(shown by status, doctor and the status line until "
                                      "then); a person's step, refused to agent sessions.")
                   ] = False,
) -> None:  # fmt: skip
    """Check that guard can do its job here; explain each problem. Exit 1 if one fails."""
    from worktree_guard.commands.doctor import acknowledge, as_json, failed, run_checks

    settings = _settings()
    if ack:
        result = acknowledge(settings)
        if result.exit_code:
            _fail(result.message, result.exit_code)
        _err(result.message)
    checks = run_checks(os.getcwd(), settings)
    if json_out:
        _print_json(as_json(checks))
    else:
        marks = {"ok": ("ok  ", "green"), "warn": ("warn", "yellow"), "fail": ("FAIL", "red")}
        for check in checks:
            mark, tint = marks[check.level]
            label = typer.style(mark, fg=tint) if _color() else mark
            typer.echo(f"{label}  {check.name}: {check.detail}")
            if check.fix and check.level != "ok":
                typer.echo(f"      fix: {check.fix}")
    if failed(checks):
        raise _ExitCode(EXIT_ERROR)


# ---- acting ---------------------------------------------------------------------------------


@app.command("server-hook", epilog=_examples(
    "guard server-hook /srv/git/project.git   # the bare repository clients push to",
))  # fmt: skip
def server_hook(
    repository: Annotated[str, typer.Argument(help="A bare repository you serve.")],
) -> None:
    """Install the server-side `update` hook: it refuses pushes of a branch another live
    session leases (clients without guard, `--no-verify` pushes), and any rewrite or deletion
    of a protected branch (guard.protectedBranches of that repository)."""
    from worktree_guard.commands.remote import RemoteCommandError, install_server_hook
    from worktree_guard.install.launcher import current_launcher

    try:
        result = install_server_hook(repository, current_launcher())
    except RemoteCommandError as exc:
        _fail(str(exc))
    typer.echo(result.done)



@app.command(epilog=_examples(
    "guard release            # give up the lease of your `guard run` session",
    "guard release --force    # a person frees a lease left by a dead session (asks if alive)",
    "guard release --force --yes",
))  # fmt: skip
def release(
    force: Annotated[bool, typer.Option("--force", help="Free the lease whoever holds it "
                                        "(logged as forced).")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y",
                                      help="Do not ask before freeing a live holder.")] = False,
) -> None:  # fmt: skip
    """Release this working tree's lease."""
    from worktree_guard.commands.release import release as do_release
    from worktree_guard.core.identity import find_agent, session_from_env

    def confirm(question: str) -> bool:
        return True if yes else _ask_yes_no(question)

    # By process, not by environment: an agent's shell that clears its variables is still one.
    result = do_release(_settings(), _workspace(), session_from_env(), force, confirm,
                        find_agent())
    if result.exit_code == 0:
        typer.echo(result.message)
    else:
        _fail(result.message, result.exit_code)


@app.command(
    # Everything after the first word (or after `--`) belongs to CMD, its flags included.
    context_settings={"allow_extra_args": True, "allow_interspersed_args": False,
                      "ignore_unknown_options": True},
    options_metavar="[--wait SECONDS] [--] CMD [ARGS]...",
    epilog=_examples(
        "guard run -- make deploy          # exit 75 at once if the tree is held",
        "guard run --wait 300 -- ./ci.sh   # wait up to 5 minutes for the tree",
        "guard run -- codex exec '...'     # any agent, one writer all the same",
    ),
)  # fmt: skip
def run(
    ctx: typer.Context,
    wait: Annotated[float, typer.Option("--wait", min=0.0, metavar="SECONDS",
                                        help="Wait up to SECONDS for a held tree instead of "
                                        "exiting 75 at once.")] = 0.0,
) -> None:  # fmt: skip
    """Hold this working tree's lease while CMD runs, like flock(1).

    CMD gets GUARD_SESSION_ID, so its git hooks know the session. Exit code: CMD's own;
    75 when the tree is held (after --wait); 125 when guard fails; 126/127 when CMD cannot
    run; 128+N when CMD is killed by signal N.
    """
    command = list(ctx.args)
    if not command:
        raise typer.BadParameter("name the command to run: guard run -- CMD [ARGS]...",
                                 param_hint="CMD")  # fmt: skip
    if command[0].startswith("-"):
        raise typer.BadParameter(f"no such option {command[0]!r}; the command goes after --",
                                 param_hint="CMD")  # fmt: skip
    from worktree_guard.commands.run import EXIT_GUARD_FAILED, say_stderr
    from worktree_guard.commands.run import run as do_run

    ws = find_workspace(os.getcwd())
    if ws is None:
        _fail(f"not inside a git working tree: {os.getcwd()}", EXIT_GUARD_FAILED)
    try:
        code = do_run(_settings(), ws, command, wait, say_stderr)
    except (GuardError, LeaseStoreError) as exc:
        _fail(str(exc), EXIT_GUARD_FAILED)
    raise _ExitCode(code)


@app.command(epilog=_examples(
    'echo \'{"session_id": "s1", "cwd": "."}\' | guard statusline',
    "guard install --statusline    # sets it up in Claude Code's settings",
))  # fmt: skip
def statusline() -> None:
    """Claude Code status line: statusLine JSON on stdin, one short segment on stdout."""
    from worktree_guard.commands.statusline import main

    # Not typer.echo: it strips colour codes from a pipe, and Claude Code reads a pipe.
    raise _ExitCode(main())


@app.command(epilog=_examples("guard demo", "guard demo --keep   # keep the demo repository"))
def demo(
    keep: Annotated[bool, typer.Option("--keep", help="Keep the temporary repository.")] = False,
) -> None:
    """A narrated run in a throwaway repository: two sessions, a deny, a refused commit,
    a dead holder freed. Uses the real hook code; no Claude Code needed."""
    from worktree_guard.commands.demo import run_demo
    from worktree_guard.install.targets import guard_executable

    code = run_demo(guard_executable(), typer.echo, _color(), keep)
    if code:
        raise _ExitCode(code)


# ---- shell completion -----------------------------------------------------------------------

COMPLETE_VAR = "_GUARD_COMPLETE"  # Click's protocol: the shell's script sets it to ask


class Shell(str, Enum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


def _shell_complete(instruction: str) -> int:
    """Click's completion protocol for guard's commands: `source` prints the shell's script,
    `complete` answers it. Typer 0.16+ carries its own copy of Click, with the bash, zsh and
    fish classes in Typer (instructions `source_bash`); plain Click names them `bash_source`."""
    import importlib

    command = typer.main.get_command(app)
    action, _, shell = instruction.partition("_")
    if action not in ("source", "complete"):  # Click's order: `bash_source`
        shell, action = action, shell
    try:
        importlib.import_module("typer._completion_classes").completion_init()
        shared = importlib.import_module("typer.completion")
        code: int = shared.shell_complete(command, {}, "guard", COMPLETE_VAR,
                                          f"{action}_{shell}")
    except ImportError:
        click = importlib.import_module("click.shell_completion")
        code = click.shell_complete(command, {}, "guard", COMPLETE_VAR, f"{shell}_{action}")
    return code


def _complete() -> int:
    """A completion script asking (it sets COMPLETE_VAR): answer it, and nothing else."""
    return _shell_complete(os.environ[COMPLETE_VAR])


@app.command(epilog=_examples(
    "guard completion bash >> ~/.bashrc",
    "guard completion zsh > \"${fpath[1]}/_guard\"",
    "guard completion fish > ~/.config/fish/completions/guard.fish",
))  # fmt: skip
def completion(shell: Annotated[Shell, typer.Argument(help="bash, zsh or fish.")]) -> None:
    """Print the shell completion script for guard's commands and options."""
    raise _ExitCode(_shell_complete(f"source_{shell.value}"))


# ---- the entry ------------------------------------------------------------------------------


def _run_app(args: list[str]) -> int:
    """Parse and run a command as Typer's main loop would, without that loop: it turns a
    closed stdout (`guard log | head -1`) into exit 1, standalone mode or not, before
    run_cli sees the BrokenPipeError. What the loop did besides (usage errors on stderr
    with exit 2, --help and --version with exit 0, Abort) is done here."""
    command = typer.main.get_command(app)
    try:
        with command.make_context("guard", list(args)) as ctx:
            command.invoke(ctx)
    except typer.Exit as exc:  # --help, --version, ctx.exit()
        return exc.exit_code
    except typer.TyperException as exc:  # click's usage errors: message on stderr, exit 2
        usage_of = getattr(exc, "ctx", None)
        if usage_of is not None and not _JSON_ERRORS:
            _err(usage_of.get_usage())
            _err(f"Try '{usage_of.command_path} -h' for help.\n")
        _error(exc.format_message())
        return exc.exit_code
    except (typer.Abort, EOFError):
        _err("Aborted!")
        return EXIT_ERROR
    return EXIT_OK


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so the flush at exit does not hit the closed pipe again
    (Python would print "Exception ignored ... BrokenPipeError" and exit 120)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, AttributeError, ValueError):
        pass


def run_cli(args: list[str]) -> int:
    """Run the CLI; every failure is a message and an exit code, never a traceback."""
    global _JSON_ERRORS
    _JSON_ERRORS = "--json" in (args[: args.index("--")] if "--" in args else args)
    if os.environ.get(COMPLETE_VAR):
        return _complete()
    try:
        return _run_app(args)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except _ExitCode as exc:
        return exc.code
    except (GuardError, LeaseStoreError, LockDirError) as exc:
        _error(str(exc))
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_OK  # `guard log | head`: the reader has what it wanted
    except OSError as exc:  # a file or folder guard cannot use: the person can fix that
        _error(str(exc))
        return EXIT_ERROR
    except Exception as exc:
        if os.environ.get("GUARD_DEBUG"):
            traceback.print_exc()
        _error(f"internal error: {type(exc).__name__}: {exc} "
               "(GUARD_DEBUG=1 shows the traceback)")  # fmt: skip
        return EXIT_ERROR

"""The agent table: every fact about a coding agent that more than one part of guard reads.

One row per agent, read by the hook routing (`entry.py`), identity (the holder process
kinds, the session variables), the pipeline (whether git's hooks run in the agent's shell),
install, doctor and the CLI. Adding an agent is one row here and one adapter module
(`agents/<name>.py` with `run(event, env, stdin)`); see docs/architecture.md.

A plain slotted class, not a NamedTuple: `typing` costs a good part of an interpreter start
and this module is on every hook path.
"""

from __future__ import annotations

_INTERPRETERS = frozenset({"node", "bun", "deno"})


class Agent:
    """One coding agent, as guard knows it."""

    __slots__ = ("hook_files", "launchers", "name", "pid_variable", "process_names",
                 "runs_claude_hooks", "script_names", "session_variable",
                 "shell_runs_git_hooks", "title")

    def __init__(self, name: str, title: str, *, process_names: frozenset[str],
                 script_names: frozenset[str], session_variable: str | None,
                 shell_runs_git_hooks: bool, hook_files: tuple[str, ...],
                 pid_variable: str | None = None, runs_claude_hooks: bool = False,
                 launchers: frozenset[str] = _INTERPRETERS) -> None:  # fmt: skip
        self.name = name  # the one name: `--agents`, `hook --agent`, the lease's `agent`
        self.title = title  # for people
        self.process_names = process_names  # /proc/<pid>/stat name (comm, 15 bytes at most)
        self.script_names = script_names  # basename of argv[0..3] of a launcher process
        # Process names whose argv is read for script_names: interpreters, or a native
        # client whose main thread renames the process.
        self.launchers = launchers
        self.pid_variable = pid_variable  # the client's own pid, exported to its children
        self.session_variable = session_variable  # its session id, in its shell's environment
        # False: git's own hooks never see what this agent's shell runs (pushes included),
        # so the pre-tool hook is the only judge of them.
        self.shell_runs_git_hooks = shell_runs_git_hooks
        # The files (a folder and a name, in any folder: the project's or the user's) that
        # hold this agent's hook entries or could switch its hooks off: no agent writes them.
        self.hook_files = hook_files
        # It also runs the `guard hook` entries of Claude Code's settings files or plugin:
        # `guard hook` under it is its adapter's (`run(None, claude_file=True)`).
        self.runs_claude_hooks = runs_claude_hooks

    def __repr__(self) -> str:
        return f"Agent({self.name!r})"


CLAUDE = "claude"
CODEX = "codex"
GEMINI = "gemini"
COPILOT = "copilot"

# In this order where no process tells (a session variable with no agent process found).
AGENTS: tuple[Agent, ...] = (
    Agent(CLAUDE, "Claude Code", process_names=frozenset({"claude"}),
          script_names=frozenset({"claude"}), pid_variable="CLAUDE_PID",
          session_variable="CLAUDE_CODE_SESSION_ID", shell_runs_git_hooks=True,
          hook_files=(".claude/settings.json", ".claude/settings.local.json")),
    # The native binary names its main thread `MainThread`; its argv[0] still says copilot.
    # Its `node npm-loader.js` parent is only a launcher.
    Agent(COPILOT, "Copilot CLI", process_names=frozenset(),
          script_names=frozenset({"copilot"}), launchers=frozenset({"MainThread", "copilot"}),
          session_variable="COPILOT_AGENT_SESSION_ID", shell_runs_git_hooks=True,
          runs_claude_hooks=True,
          hook_files=(".github/hooks/worktree-guard.json",)),
    # The native binary; the `node codex.js` above it is only its launcher. Its shell is
    # sandboxed: another pid namespace, `.git` read-only, so git's hooks do not guard it.
    Agent(CODEX, "Codex CLI", process_names=frozenset({"codex"}), script_names=frozenset(),
          session_variable="CODEX_THREAD_ID", shell_runs_git_hooks=False,
          runs_claude_hooks=True,
          hook_files=(".codex/hooks.json", ".codex/config.toml")),
    # `node [options] .../gemini.js` or `.../.bin/gemini`; its shell sets core.hooksPath=''.
    Agent(GEMINI, "Gemini CLI", process_names=frozenset(),
          script_names=frozenset({"gemini", "gemini.js"}), launchers=frozenset({"node"}),
          session_variable=None, shell_runs_git_hooks=False,
          hook_files=(".gemini/settings.json",)),
)
BY_NAME = {agent.name: agent for agent in AGENTS}
# Every agent's hook files, as path parts (matched at the end of a resolved path).
HOOK_FILES = frozenset(tuple(path.split("/")) for agent in AGENTS for path in agent.hook_files)
NAMES = tuple(agent.name for agent in AGENTS)
# `guard run`'s variable: the session it wraps, whatever agent runs inside it.
RUN_SESSION_VARIABLE = "GUARD_SESSION_ID"


def agent_named(name: str) -> Agent | None:
    return BY_NAME.get(name)

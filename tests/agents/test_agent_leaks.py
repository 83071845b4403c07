"""Agent-specific ways around the pipeline, each closed for every agent.

Each class is first shown real without guard (the real Codex binary applying a patch, a real
bash reading what is typed into it, real git hooks in nested agent processes), then asked of
every agent's installed hook command (tests/agents/test_contract.py's drivers).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.agents.conftest import Driver
from tests.conftest import git, make_repo, pre_tool

REPO_ROOT = Path(__file__).resolve().parents[2]
# Characters `str.splitlines()` cuts a line at and Codex's parser does not.
SEPARATORS = ["\u2028", "\u2029", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\r"]


@pytest.fixture
def held(tmp_path: Path, guard_env: dict[str, str]) -> tuple[Path, Path]:
    """Tree A held by session a (of no agent process: it holds until its ttl), and B, a
    sibling repository of b's own."""
    a = make_repo(tmp_path / "A")
    b = make_repo(tmp_path / "B")
    assert not Driver("claude").ask(pre_tool("a", a), guard_env)
    return a.resolve(), b.resolve()


def codex_native() -> Path:
    """The real Codex binary of .tools (its `apply_patch` mode is Codex's own patch code)."""
    found = sorted((REPO_ROOT / ".tools" / "codex" / "node_modules" / "@openai").glob(
        "codex-linux-*/vendor/*/bin/codex"))
    if not found:
        pytest.skip("the Codex client is not installed under .tools/codex")
    return found[0]


def sneaky_patch(sep: str) -> str:
    # To `splitlines`, the header names `sub` in B; to Codex, `sub<sep>/../../A/x`: A's file.
    return f"*** Begin Patch\n*** Add File: sub{sep}/../../A/x\n+pwned\n*** End Patch\n"


# ---- a patch read as Codex reads it ------------------------------------------------------------

@pytest.mark.parametrize("sep", SEPARATORS, ids=[f"U+{ord(c):04X}" for c in SEPARATORS])
def test_codex_itself_writes_through_a_header_splitlines_would_cut(sep: str,
                                                                    tmp_path: Path) -> None:
    """The leak is real: Codex's own patch code, given the patch in B, writes A/x."""
    (tmp_path / "A").mkdir()
    (tmp_path / "B").mkdir()
    done = subprocess.run(["bash", "-c", 'exec -a apply_patch "$0" "$1"', str(codex_native()),
                           sneaky_patch(sep)], cwd=tmp_path / "B", capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "A" / "x").read_text() == "pwned\n"


@pytest.mark.parametrize("sep", SEPARATORS, ids=[f"U+{ord(c):04X}" for c in SEPARATORS])
def test_a_patch_is_read_as_codex_reads_it(sep: str, held: tuple[Path, Path],
                                           guard_env: dict[str, str]) -> None:
    """b's apply_patch in its own tree, naming A's file past a separator Codex does not cut
    at, is denied.
    Catches: patch lines cut with `str.splitlines()` (guard then sees `sub` in B)."""
    _, b = held
    codex = Driver("codex")
    payload = codex.pre("b", b, "apply_patch", {"command": sneaky_patch(sep)})
    reason = codex.ask(payload, guard_env)
    assert reason is not None and "/A" in reason


def heredoc_line(program: str, patch: str) -> str:
    return f"{program} <<'PATCH'\n{patch}PATCH\n"


def test_an_apply_patch_program_in_a_shell_writes_what_its_patch_names(tmp_path: Path) -> None:
    """The leak is real: `apply_patch <<'PATCH'` in a shell (Codex runs this form itself; the
    same program on PATH does too) writes where the patch says, not where the shell is."""
    (tmp_path / "A").mkdir()
    (tmp_path / "B").mkdir()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "apply_patch").symlink_to(codex_native())
    line = heredoc_line("apply_patch", sneaky_patch(""))
    done = subprocess.run(["bash", "-c", line], cwd=tmp_path / "B", capture_output=True,
                          text=True, timeout=60,
                          env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"})
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "A" / "x").read_text() == "pwned\n"


@pytest.mark.parametrize("form", ["apply_patch", "applypatch", "cd sub && apply_patch"])
def test_a_patch_inside_a_shell_line_is_judged_by_the_files_it_names(
        agent: Driver, form: str, held: tuple[Path, Path], guard_env: dict[str, str]) -> None:
    """For every agent: b's shell line handing a patch to `apply_patch` is judged by the
    patch's files (A's: denied), and a patch of b's own files passes; a patch into git's
    hooks folder is refused even for the holder.
    Catches: the shell line judged by its cwd only (the patch never read)."""
    a, b = held
    (b / "sub").mkdir()
    up = "../../A" if form.startswith("cd") else "../A"
    line = heredoc_line(form, f"*** Begin Patch\n*** Add File: {up}/x\n+p\n*** End Patch\n")
    reason = agent.ask(agent.shell("b", b, line), guard_env)
    assert reason is not None and str(a) in reason
    own = heredoc_line(form, "*** Begin Patch\n*** Add File: own.txt\n+p\n*** End Patch\n")
    assert agent.ask(agent.shell("b", b, own), guard_env) is None
    hooks = heredoc_line("apply_patch", "*** Begin Patch\n*** Add File: .git/hooks/pre-push\n"
                                        "+exit 0\n*** End Patch\n")
    reason = agent.ask(agent.shell("a", a, hooks), guard_env)
    assert reason is not None and "switch" in reason


# ---- an interactive shell ----------------------------------------------------------------------

def test_a_bare_shell_runs_what_is_typed_into_it_anywhere(tmp_path: Path) -> None:
    """The leak is real: `bash` started in B writes A with what it reads afterwards (Codex's
    `write_stdin` runs no hook)."""
    (tmp_path / "A").mkdir()
    (tmp_path / "B").mkdir()
    subprocess.run(["bash"], input=f"echo typed > {tmp_path}/A/f\n", cwd=tmp_path / "B",
                   text=True, timeout=60, check=True)
    assert (tmp_path / "A" / "f").read_text() == "typed\n"


@pytest.mark.parametrize("line", ["bash", "sh", "zsh", "bash -i", "exec bash -l", "sh -",
                                  "env FOO=1 bash --login", "/bin/bash"])
def test_a_bare_interactive_shell_is_judged_by_what_it_may_do(
        agent: Driver, line: str, held: tuple[Path, Path], guard_env: dict[str, str]) -> None:
    """For every agent: b may not start an interactive shell in its own tree while another
    live session holds a tree (the shell may write anywhere); `bash -c` and scripts are
    judged as lines, and with no other session the shell is b's.
    Catches: the interactive shell judged by the folder it starts in."""
    a, b = held
    assert agent.ask(agent.shell("a", a, line), guard_env) is None  # nothing else held
    reason = agent.ask(agent.shell("b", b, line), guard_env)
    assert reason is not None and "interactive shell" in reason and str(a) in reason
    assert agent.ask(agent.shell("b", b, "bash -c 'touch own'"), guard_env) is None


def test_codex_exec_command_with_a_terminal_is_an_interactive_shell(
        held: tuple[Path, Path], guard_env: dict[str, str]) -> None:
    """Codex's `exec_command {"cmd": "bash", "tty": true}` names its line `cmd`.
    Catches: the `cmd` field unread (nothing to judge: allowed)."""
    _, b = held
    codex = Driver("codex")
    payload = codex.pre("b", b, "exec_command", {"cmd": "bash", "tty": True})
    assert codex.ask(payload, guard_env) is not None


# ---- two agents in one process tree -----------------------------------------------------------

def test_an_agent_started_in_another_agents_shell_is_its_own_session_at_git(
        agent_shell: Any, guard_env: dict[str, str], tmp_path: Path,
        trees: tuple[Path, Path]) -> None:
    """Copilot started inside a Claude Code Bash call inherits CLAUDE_CODE_SESSION_ID; its
    commit in its own tree is its own session's (the nearest agent's variable).
    Catches: the git hook reading Claude's variable before the nearest agent's (the commit is
    refused as another session's), or CLAUDE_PID making Claude the nearer agent."""
    from tests.git.conftest import install_shims

    repo, own = trees  # repo on main, Copilot's own tree on feature
    install_shims(repo)
    env = {**guard_env, "GUARD_REFRESH_INTERVAL_MS": "0"}
    claude = agent_shell(env, repo, "claude-s")
    assert not claude.hook(pre_tool("claude-s", repo)).denied  # Claude holds repo
    copilot_bin = tmp_path / "agentbin" / "copilot"
    shutil.copy2(shutil.which("bash") or "/bin/bash", copilot_bin)
    payload = {"sessionId": "cop-s", "timestamp": 1, "cwd": str(own), "toolName": "create",
               "toolArgs": {"path": str(own / "x"), "file_text": "x"}}
    inner = (f"cd {own} && \"$GUARD_BIN\" hook --agent copilot preToolUse <<'EOF'\n"
             f"{json.dumps(payload)}\nEOF\n"
             "echo 1 >> README && git commit -qam by-copilot; echo \"rc=$?\"")
    # Claude Code exports its own pid as CLAUDE_PID: the nearer Copilot must still win.
    done = claude.run(f"CLAUDE_PID=$PPID COPILOT_AGENT_SESSION_ID=cop-s {copilot_bin} "
                      "--norc --noprofile "
                      f"-c {shlex.quote(inner)}")
    assert "rc=0" in done.stdout, (done.stdout, done.stderr)
    assert "deny" not in done.stdout
    assert git(own, "log", "-1", "--format=%s").strip() == "by-copilot"


# ---- MCP tools -----------------------------------------------------------------------------

MCP_AGENTS = [Driver("claude"), Driver("codex")]  # they name MCP tools mcp__<server>__<tool>


@pytest.mark.parametrize("mcp", MCP_AGENTS, ids=[d.name for d in MCP_AGENTS])
def test_an_mcp_tool_is_judged_by_the_paths_its_arguments_name(
        mcp: Driver, held: tuple[Path, Path], guard_env: dict[str, str]) -> None:
    """A filesystem server's `write_file {path}`, an IDE server's `{project_path,
    relative_path}` and `{paths: [...]}` into A are denied to b; into b's own tree, b's.
    Catches: MCP tools passed as calls that change nothing."""
    a, b = held
    for args in ({"path": str(a / "x"), "content": "p"},
                 {"project_path": str(a), "relative_path": "src/x.py", "text": "p"},
                 {"paths": [str(b / "ok"), str(a / "x")]}):
        reason = mcp.ask(mcp.pre("b", b, "mcp__fs__write_file", args), guard_env)
        assert reason is not None and str(a) in reason, args
    assert mcp.ask(mcp.pre("b", b, "mcp__fs__write_file", {"path": "own.txt"}),
                   guard_env) is None
    hooks = {"path": str(a / ".git" / "hooks" / "pre-commit")}
    reason = mcp.ask(mcp.pre("a", a, "mcp__fs__write_file", hooks), guard_env)
    assert reason is not None and "switch" in reason


@pytest.mark.parametrize("mcp", MCP_AGENTS, ids=[d.name for d in MCP_AGENTS])
def test_mcp_tools_listed_in_git_config_are_judged_by_the_sessions_tree(
        mcp: Driver, held: tuple[Path, Path], guard_env: dict[str, str]) -> None:
    """A tool that writes without naming a path (a symbol edit) passes, unless git config
    `guard.mcpWriteTools` lists it (patterns): then b working in A is denied.
    Catches: the config unread, or the patterns not matched."""
    a, _ = held
    call = mcp.pre("b", a, "mcp__ide__rename_symbol", {"symbol": "f", "new_name": "g"})
    assert mcp.ask(call, guard_env) is None
    git(a, "config", "--add", "guard.mcpWriteTools", "mcp__other__x, mcp__ide__*")
    reason = mcp.ask(call, guard_env)
    assert reason is not None and str(a) in reason
    assert mcp.ask(mcp.pre("b", a, "mcp__web__fetch", {"url": "http://127.0.0.1/"}),
                   guard_env) is None

"""Fixtures for the end-to-end tests: the real Claude Code client and `guard`.

Every e2e test runs once per client version in CLAUDE_CODE_VERSIONS: the one whose hook
protocol was first measured, and the current release. Each version lives in its own npm
prefix, `.tools/claude-<version>` (CI installs them there; `.tools/node_modules`, the older
single-version layout, is used when it holds that version).

Overrides: GUARD_CLAUDE_BIN=<claude executable> (then only its own version runs),
GUARD_BIN=<guard or a stand-in for it>.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

CLAUDE_CODE_PACKAGE = "@anthropic-ai/claude-code"
CLAUDE_CODE_VERSIONS = ("2.1.197", "2.1.332")  # first measured; the current release
NPM_INSTALL_TIMEOUT = 600.0

REPO_ROOT = Path(__file__).resolve().parents[2]


def _npm_failure(output: str) -> str:
    """npm's error code and its last real line (its very last one only points at a log)."""
    lines = [line.strip() for line in output.splitlines()]
    lines = [line for line in lines if line and line != "npm error" and "complete log" not in line]
    code = next((line for line in lines if line.startswith("npm error code ")), "")
    last = lines[-1] if lines else ""
    return " / ".join(dict.fromkeys(part for part in (code, last) if part))


def _npm_install(prefix: Path, version: str) -> Path:
    """Install the pinned client under prefix; pytest.skip with npm's last words on failure."""
    claude = prefix / "node_modules" / ".bin" / "claude"
    if claude.exists():
        return claude
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("real Claude Code client not available: npm is not installed")
    cmd = [
        npm,
        "install",
        "--prefix",
        str(prefix),
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
        f"{CLAUDE_CODE_PACKAGE}@{version}",
    ]
    try:
        done = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=NPM_INSTALL_TIMEOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.skip(f"npm install {CLAUDE_CODE_PACKAGE} timed out after {NPM_INSTALL_TIMEOUT:.0f}s")
    if done.returncode != 0 or not claude.exists():
        why = _npm_failure(done.stderr or done.stdout or "") or f"exit status {done.returncode}"
        pytest.skip(f"npm install {CLAUDE_CODE_PACKAGE}@{version} failed: {why}")
    return claude


def _version_of(claude: Path) -> str:
    try:
        return subprocess.run(
            [str(claude), "--version"],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"Claude Code client at {claude} does not run: {exc}")


@pytest.fixture(scope="session", params=CLAUDE_CODE_VERSIONS, ids=lambda v: f"claude-{v}")
def claude_version(request: pytest.FixtureRequest) -> str:
    """The client version under test."""
    version: str = request.param
    return version


@pytest.fixture(scope="session")
def claude_bin(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
    claude_version: str,
) -> Path:
    """The real `claude` executable of that version: .tools/claude-<version> (CI), the
    older .tools layout, $GUARD_CLAUDE_BIN, or a cached npm install."""
    override = os.environ.get("GUARD_CLAUDE_BIN")
    tools = REPO_ROOT / ".tools"
    own_prefix = tools / f"claude-{claude_version}" / "node_modules" / ".bin" / "claude"
    old_layout = tools / "node_modules" / ".bin" / "claude"
    if override:
        claude = Path(override)
        if claude_version not in _version_of(claude):
            pytest.skip(f"GUARD_CLAUDE_BIN is not Claude Code {claude_version}")
    elif own_prefix.exists():
        claude = own_prefix
    elif old_layout.exists() and claude_version in _version_of(old_layout):
        claude = old_layout
    else:
        # pytest's cache outlives the run, so each install (235-384 MB) happens once per checkout.
        cache = getattr(request.config, "cache", None)
        if cache is not None:
            prefix = Path(cache.mkdir(f"claude-code-{claude_version}"))
        else:
            prefix = tmp_path_factory.mktemp("claude-code")
        claude = _npm_install(prefix, claude_version)
    version = _version_of(claude)
    if claude_version not in version:
        warnings.warn(
            f"testing Claude Code {version!r}, not {claude_version}", stacklevel=1
        )
    return claude.resolve()


@pytest.fixture(scope="session")
def guard_bin() -> Path:
    """The `guard` console script under test ($GUARD_BIN overrides, e.g. for a stand-in)."""
    override = os.environ.get("GUARD_BIN")
    if override:
        return Path(override).absolute()
    # Next to the interpreter first: that is the guard of the package under test,
    # even when the venv is not activated and another guard is on PATH.
    beside_python = Path(sys.executable).parent / "guard"
    on_path = shutil.which("guard")
    for candidate in (beside_python, Path(on_path) if on_path else None):
        if candidate is not None and candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate.absolute()
    # Not a skip: the package under test not being installed is a broken setup.
    pytest.fail("`guard` is not installed in this environment (pip install -e .)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that needs the real client is an `e2e` test, so `-m 'not e2e'` skips the
    client's download whatever a test module remembers to mark."""
    for item in items:
        if "claude_bin" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.e2e)

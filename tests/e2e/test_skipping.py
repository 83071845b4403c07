"""The README's way to skip the real-client tests works: `-m 'not e2e'` collects no test
that needs the Claude Code client (so nothing is downloaded)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def _collected(*args: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         *args, "tests/e2e"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    return [line for line in done.stdout.splitlines() if "::" in line]


def test_not_e2e_leaves_out_every_test_of_the_real_client() -> None:
    everything = _collected()
    kept = _collected("-m", "not e2e")
    client_tests = [t for t in everything if "test_claude_e2e.py" in t]
    assert client_tests and not [t for t in kept if "test_claude_e2e.py" in t]
    assert kept  # the stand-in API's own tests need no client and still run


def test_the_readme_says_what_the_test_command_downloads() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert "235 MB" in readme and "scripts/test -m 'not e2e'" in readme

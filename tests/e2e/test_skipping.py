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
    clients = ("test_claude_e2e.py", "test_codex_e2e.py", "test_gemini_e2e.py",
               "test_copilot_e2e.py", "test_plugin_e2e.py")
    client_tests = [t for t in everything if any(c in t for c in clients)]
    assert client_tests and not [t for t in kept if any(c in t for c in clients)]
    assert kept  # the stand-in API's own tests need no client and still run


def test_the_readme_says_what_the_test_command_downloads() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert "620 MB" in readme and "scripts/test -m 'not e2e'" in readme

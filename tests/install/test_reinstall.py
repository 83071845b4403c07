"""Installs over installs: what a user changed between two installs survives uninstall, and a
manifest that cannot be read never blocks install or uninstall."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.conftest import GUARD


def guard(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([GUARD, *args], cwd=repo, env=env, capture_output=True, text=True,
                          timeout=60)


def test_edits_between_two_installs_survive_uninstall(
    repo: Path, guard_env: dict[str, str]
) -> None:
    settings = repo / ".claude" / "settings.local.json"
    assert guard(repo, guard_env, "install", "--no-git-hooks").returncode == 0
    data = json.loads(settings.read_text())
    data["permissions"] = {"allow": ["Bash(npm test:*)"]}  # what "don't ask again" adds
    settings.write_text(json.dumps(data, indent=2) + "\n")
    assert guard(repo, guard_env, "install", "--no-git-hooks", "--statusline").returncode == 0
    done = guard(repo, guard_env, "uninstall")
    assert done.returncode == 0, done.stderr
    kept = json.loads(settings.read_text())
    assert kept == {"permissions": {"allow": ["Bash(npm test:*)"]}}


def test_an_unreadable_manifest_never_blocks(repo: Path, guard_env: dict[str, str]) -> None:
    common = Path(subprocess.run(["git", "rev-parse", "--path-format=absolute",
                                  "--git-common-dir"], cwd=repo, capture_output=True,
                                 text=True, check=True).stdout.strip())
    (common / "guard-install.json").write_bytes(b"\xff\xfe\x00 not a manifest")
    installed = guard(repo, guard_env, "install", "--no-claude")
    assert installed.returncode == 0, installed.stderr
    assert "Traceback" not in installed.stderr
    removed = guard(repo, guard_env, "uninstall")
    assert removed.returncode == 0 and "internal error" not in removed.stderr
    assert not (common / "hooks" / "pre-commit").exists()

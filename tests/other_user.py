"""Running the guard under test as another user (uid 65534), from any checkout.

The checkout may sit in a folder only its owner may enter (what `mktemp -d` makes, and
what a CI runner's clone folder may be): the other user cannot reach its venv then. So
this module probes whether that user can run guard as installed, and when not, arranges a
copy it can: the package and its dependencies copied into a world-readable folder, with a
launcher on the same interpreter. When even the interpreter is out of that user's reach,
the test is skipped with the reason, and fails instead under CI=true, where it must run
(docs/testing.md: no silent skips in CI).
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

import pytest

from worktree_guard.install.launcher import package_folder

UID = 65534
SETPRIV = ["setpriv", f"--reuid={UID}", f"--regid={UID}", "--clear-groups"]
_SKIPPED = {"__pycache__"}


def unavailable(reason: str) -> None:
    """Skip (or, under CI=true, fail) a test that needs another user it cannot have."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true: {reason}")
    pytest.skip(reason)


def runs(prefix: list[str], argv: list[str]) -> bool:
    done = subprocess.run([*prefix, *argv], cwd="/", capture_output=True, timeout=120,
                          check=False, env={"PATH": os.environ.get("PATH", ""), "HOME": "/"})
    return done.returncode == 0


def shared_folder(prefix: list[str]) -> Path:
    """A new folder, mode 0755, that the other user can enter."""
    tried: list[str] = []
    for parent in dict.fromkeys((tempfile.gettempdir(), "/tmp", "/var/tmp", "/dev/shm")):
        if not os.path.isdir(parent):
            continue
        base = Path(tempfile.mkdtemp(prefix="guard-other-user-", dir=parent))
        base.chmod(0o755)
        if runs(prefix, ["test", "-r", str(base), "-a", "-x", str(base)]):
            return base
        shutil.rmtree(base)
        tried.append(parent)
    unavailable(f"no folder uid {UID} may enter (tried {', '.join(tried)})")
    raise AssertionError("unreachable")


def _distributions(name: str) -> list[metadata.Distribution]:
    """`name` and everything it needs to run (extras not asked for left out)."""
    found: dict[str, metadata.Distribution] = {}
    todo = [name]
    while todo:
        wanted = todo.pop()
        try:
            dist = metadata.distribution(wanted)
        except metadata.PackageNotFoundError:
            continue  # a dependency of another platform or Python: not installed, not needed
        key = dist.metadata["Name"].lower().replace("_", "-")
        if key in found:
            continue
        found[key] = dist
        for requirement in dist.requires or []:
            if "extra ==" in requirement:
                continue
            named = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
            if named:
                todo.append(named.group(0))
    return list(found.values())


def _copy(source: Path, dest: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, dest, ignore=shutil.ignore_patterns(*_SKIPPED),
                        dirs_exist_ok=True)
    elif source.is_file():
        shutil.copy2(source, dest)


def _readable_by_all(root: Path) -> None:
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            path = Path(folder, name)
            path.chmod(path.stat().st_mode | stat.S_IRWXU | 0o055)
        for name in files:
            path = Path(folder, name)
            path.chmod(path.stat().st_mode | 0o044 | (0o011 if path.stat().st_mode & 0o100
                                                      else 0))


def copy_of_guard(base: Path) -> Path:
    """A launcher for the guard under test (this package and its dependencies, copied into
    `base/site`), on this interpreter's base interpreter."""
    site = base / "site"
    site.mkdir()
    own = Path(package_folder()) / "worktree_guard"
    _copy(own, site / "worktree_guard")
    for dist in _distributions("worktree-guard"):
        tops = {Path(str(f)).parts[0] for f in dist.files or []}
        for top in sorted(tops):
            if top.endswith((".dist-info", ".egg-info", ".pth")) or top in _SKIPPED:
                continue
            if top.startswith("..") or top == "worktree_guard":
                continue  # scripts outside site-packages; our own package, copied above
            _copy(Path(str(dist.locate_file(top))), site / top)
    launcher = base / "guard"
    launcher.write_text(f"#!{sys._base_executable}\n"
                        "import sys\n"
                        f"sys.path.insert(0, {str(site)!r})\n"
                        "from worktree_guard.entry import main\n"
                        "sys.exit(main())\n")
    launcher.chmod(0o755)
    _readable_by_all(base)
    return launcher


def guard_for_other_user(guard: str, base: Path) -> str:
    """The guard the other user can run: the one under test when it can, else a copy in
    `base` (a folder that user may enter). Skips (fails under CI) when neither can run."""
    if runs(SETPRIV, [guard, "--help"]):
        return guard
    interpreter = sys._base_executable
    if not runs(SETPRIV, [interpreter, "-c", "pass"]):
        unavailable(f"uid {UID} cannot run this Python ({interpreter}), so not guard either; "
                    "run the suite with an interpreter every user may run")
    launcher = copy_of_guard(base)
    if not runs(SETPRIV, [str(launcher), "--help"]):
        unavailable(f"uid {UID} cannot run a copy of guard in {base} either")
    return str(launcher)

"""How the hooks `guard install` writes start guard: the launcher.

pip's console script (`<venv>/bin/guard`) imports `re` before it calls guard, and any
`python` start runs `site` (the venv's `.pth` files, an editable install's finder). The
hooks need neither, so install writes commands that start the installed guard's own
interpreter directly:

    <venv>/bin/python -I -S -c LAUNCH_CODE <folder holding worktree_guard> hook

- `-I`: isolated from the user's PYTHON* variables (PYTHONPATH, PYTHONSTARTUP...), no user
  site folder, and neither the current folder nor the script's folder on sys.path, so a
  repository with a `worktree_guard/` folder of its own cannot stand in for guard;
- `-S`: no `site`: the package folder comes as an argument and is appended to sys.path, so
  the package is found in the folder it was installed into, without `.pth` processing;
- the path is the installed package's folder: a reinstall or upgrade into the same venv
  keeps it; a moved or deleted venv leaves a launcher pointing at nothing, which
  `guard doctor` reports (and the git shims say, once per git command).
Measured against the alternatives in docs/benchmarks.md (a launcher file run as a script,
`python -I -c`, the console script). With `GUARD_BIN` (a guard command) install writes the
plain `<guard> hook` form instead.
"""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass

from worktree_guard.git.shims import LAUNCH_CODE
from worktree_guard.install.targets import guard_executable

_LAUNCH_FLAGS = ["-I", "-S", "-c", LAUNCH_CODE]


@dataclass(frozen=True)
class Launcher:
    """`executable` alone is a guard command; with `package_dir` it is the interpreter of
    the installed guard, and `package_dir` the folder that holds `worktree_guard`."""

    executable: str
    package_dir: str | None = None

    def words(self, *args: str) -> list[str]:
        if self.package_dir is None:
            return [self.executable, *args]
        return [self.executable, *_LAUNCH_FLAGS, self.package_dir, *args]

    def command(self, *args: str) -> str:
        """A shell command line (each word quoted) running guard with `args`."""
        return shlex.join(self.words(*args))

    @property
    def shown(self) -> str:
        """For messages: what runs, without the launch code."""
        if self.package_dir is None:
            return self.executable
        return f"{self.executable} (guard from {self.package_dir})"


def package_folder() -> str:
    """The folder this worktree_guard package was imported from (site-packages, or the
    source folder of an editable install)."""
    import worktree_guard

    return os.path.dirname(os.path.dirname(os.path.abspath(worktree_guard.__file__)))


def current_launcher() -> Launcher:
    """The launcher of the guard running now; a guard command when GUARD_BIN names one or
    the interpreter cannot be told (an embedded Python)."""
    if os.environ.get("GUARD_BIN", "").strip():
        return Launcher(guard_executable())
    python = sys.executable
    folder = package_folder()
    if python and os.path.isabs(python) and os.access(python, os.X_OK) and os.path.isfile(
            os.path.join(folder, "worktree_guard", "entry.py")):  # fmt: skip
        return Launcher(python, folder)
    return Launcher(guard_executable())


def as_launcher(guard: Launcher | str) -> Launcher:
    return guard if isinstance(guard, Launcher) else Launcher(guard)


def parse_command(command: object) -> tuple[Launcher, str] | None:
    """(launcher, subcommand) when `command` runs guard: the launcher, `<path>/guard hook`
    (what install writes under GUARD_BIN), `python -m worktree_guard hook`; else None."""
    found = parse_words(command)
    if found is None or len(found[1]) != 1:
        return None
    return found[0], found[1][0]


def parse_words(command: object) -> tuple[Launcher, list[str]] | None:
    """(launcher, guard's arguments) when `command` runs guard in one of those forms."""
    if not isinstance(command, str):
        return None
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    if len(words) >= 2 and os.path.basename(words[0]) == "guard":
        return Launcher(words[0]), words[1:]
    # `python -m worktree_guard hook`, as a development checkout might register it.
    if len(words) >= 4 and words[1:3] == ["-m", "worktree_guard"]:
        return Launcher(words[0]), words[3:]
    if len(words) >= 7 and words[1:5] == _LAUNCH_FLAGS:
        return Launcher(words[0], words[5]), words[6:]
    return None


def launcher_problem(launcher: Launcher) -> str | None:
    """Why this launcher cannot start guard (a moved venv, an uninstalled package), or None."""
    exe = launcher.executable
    if os.path.isabs(exe) and not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
        return f"{exe} is not an executable file"
    folder = launcher.package_dir
    if folder is not None and not os.path.isfile(os.path.join(folder, "worktree_guard",
                                                              "entry.py")):
        return f"{folder} holds no worktree_guard package (moved, or uninstalled)"
    return None

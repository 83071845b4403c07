"""The machine a run measured, and the text or Markdown it prints.
"""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench.common import ROOT, GroupResult

# ---- the machine ---------------------------------------------------------------------------


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def command_output(argv: Sequence[str], default: str = "unknown") -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=30)
    except OSError as exc:
        return f"{default} ({exc.strerror})"
    return done.stdout.strip() or default


def filesystem_of(path: Path) -> str:
    """The type of the file system holding `path` (lease writes are file system work)."""
    best, kind = "", "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/mounts").read_text().splitlines():
            fields = line.split()
            if len(fields) > 2 and str(path).startswith(fields[1]) and len(fields[1]) > len(best):
                best, kind = fields[1], fields[2]
    return kind


def machine_facts(ctx_python: Path) -> dict[str, str]:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    version = "import platform; print(platform.python_implementation(), platform.python_version())"
    return {
        "cpu": cpu_model(),
        "cores": f"{os.cpu_count()} ({usable} usable)",
        "python": command_output([str(ctx_python), "-c", version]),
        "git": command_output(["git", "--version"]).removeprefix("git version "),
        "kernel": f"{platform.system()} {platform.release()}",
        "load average at start": load,
        "temp file system": filesystem_of(Path(tempfile.gettempdir()).resolve()),
        "worktree-guard": code_version(),
    }


def code_version() -> str:
    """The commit measured, and whether the package or the shims differ from it (new
    files included, which `git describe --dirty` would not notice)."""
    commit = command_output(["git", "-C", str(ROOT), "describe", "--always"])
    changes = command_output(["git", "-C", str(ROOT), "status", "--porcelain", "--", "src",
                              "git-hooks"], default="")
    return f"{commit} + uncommitted changes in src/ or git-hooks/" if changes else commit


def compile_bytecode(python: Path) -> None:
    """Compile the measured package's bytecode, as `pip install` does: a development shell
    may set PYTHONDONTWRITEBYTECODE, and an editable install's source folder would then have
    none, so every hook would compile its modules (the launcher's -I would write them on the
    first call, the console script never)."""
    where = "import os, worktree_guard; print(os.path.dirname(worktree_guard.__file__))"
    folder = command_output([str(python), "-c", where])
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    subprocess.run([str(python), "-m", "compileall", "-q", folder], env=env,
                   capture_output=True, check=False)


def package_sources(python: Path) -> dict[str, tuple[int, int]]:
    """(mtime, size) of each source file of the measured package: an edit during the run
    makes some calls compile bytecode, which the numbers would then include."""
    where = "import os, worktree_guard; print(os.path.dirname(worktree_guard.__file__))"
    folder = Path(command_output([str(python), "-c", where]))
    found = {}
    for path in folder.rglob("*.py"):
        with contextlib.suppress(OSError):
            stat = path.stat()
            found[str(path.relative_to(folder))] = (stat.st_mtime_ns, stat.st_size)
    return found


# ---- rendering -----------------------------------------------------------------------------


def render_text(facts: dict[str, str], results: Sequence[GroupResult], took: float) -> str:
    lines = ["worktree-guard benchmark", *(f"  {k}: {v}" for k, v in facts.items()),
             f"  run took: {took:.0f} s", ""]
    for result in results:
        for table in result.tables:
            lines += [table.title, *text_grid(table.headers, table.rows)]
            lines += [f"  - {note}" for note in table.notes] + [""]
    return "\n".join(lines)


def text_grid(headers: list[str], rows: list[list[str]]) -> list[str]:
    if not rows:
        return []
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [c.rjust(w) if c[:1].isdigit() or c[:1] in "+-" else c.ljust(w)
                for c, w in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join([first, *rest]).rstrip()

    return [line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)]


TEXT_COLUMNS = frozenset({"case", "module", "target"})


def render_markdown(facts: dict[str, str], results: Sequence[GroupResult], took: float) -> str:
    lines = [*(f"- {k}: {v}" for k, v in facts.items()), f"- run took: {took:.0f} s", ""]
    for result in results:
        for table in result.tables:
            lines += [f"**{table.title}**", ""]
            if table.rows:
                align = [":--" if h in TEXT_COLUMNS else "--:" for h in table.headers]
                lines.append("| " + " | ".join(table.headers) + " |")
                lines.append("|" + "|".join(align) + "|")
                lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |"
                          for r in table.rows]
                lines.append("")
            if table.notes:
                lines += [*(f"- {note}" for note in table.notes), ""]
    return "\n".join(lines)



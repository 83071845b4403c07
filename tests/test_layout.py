"""The house rules of the package layout, read from the imports of every module.

Data flows one way: an adapter (`agents/`, `git/`, the CLI) reads its input, asks the core,
answers in its own format. So the core knows no adapter, adapters know no other adapter,
and nothing that runs on a hook path loads the heavy libraries of the cold paths.
Every import counts, at module level or inside a function, typed-only ones excepted.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "worktree_guard"
HEAVY = ("typer", "click", "git", "rich", "pydantic")
HOOK_PATH_ROOMS = ("core", "agents", "git", "shell", "lite")

# What each room may import from the package (besides itself).
ALLOWED = {
    "core": {"core", "lite"},
    "shell": {"shell", "lite"},
    "lite": {"lite"},
    "agents": {"core", "shell", "lite"},
    "git": {"git", "core", "shell", "lite"},
}
# The shared basics of the agent adapters and their one pipeline: what adapters may import.
AGENT_SHARED = {"worktree_guard.agents.common", "worktree_guard.agents.pipeline"}


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _room(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else ""


def _dotted(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(path: Path) -> list[str]:
    """Every module a file imports at run time (`if TYPE_CHECKING:` blocks left out)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
            # `from worktree_guard.x import y` may name a submodule y
            found.extend(f"{node.module}.{alias.name}" for alias in node.names
                         if node.module.startswith("worktree_guard"))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _package_room(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "worktree_guard" or len(parts) < 2:
        return None
    return parts[1]


def violations() -> list[str]:
    found: list[str] = []
    for path in _modules():
        room = _room(path)
        me = _dotted(path)
        for module in imports_of(path):
            top = module.split(".")[0]
            if room in HOOK_PATH_ROOMS and top in HEAVY:
                found.append(f"{me} imports {module}: the hook paths stay on the standard library")
            target = _package_room(module)
            if target is None or room not in ALLOWED:
                continue
            if room == "agents" and target == "agents":
                is_shared = any(module == s or module.startswith(s + ".") for s in AGENT_SHARED)
                if not is_shared and module != "worktree_guard.agents":
                    found.append(f"{me} imports {module}: agent adapters never import each other")
            elif target not in ALLOWED[room] and target != "__version__":
                found.append(f"{me} imports {module}: {room}/ may import only "
                             f"{', '.join(sorted(ALLOWED[room]))}")
    return found


def test_the_rooms_of_the_layout_exist() -> None:
    for room in ("core", "agents", "git", "shell", "install", "commands", "lite"):
        assert (PACKAGE / room / "__init__.py").is_file(), room


def test_every_import_follows_the_house_rules() -> None:
    assert violations() == []


def test_the_hook_entry_imports_only_the_standard_library_at_module_level() -> None:
    tree = ast.parse((PACKAGE / "entry.py").read_text(encoding="utf-8"))
    top_level = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    names = [a.name for n in top_level if isinstance(n, ast.Import) for a in n.names]
    names += [n.module or "" for n in top_level if isinstance(n, ast.ImportFrom)]
    assert all(not name.startswith("worktree_guard") for name in names if name != "__future__")
    assert not any(name.split(".")[0] in HEAVY for name in names)


def test_no_module_is_two_jobs_by_size() -> None:
    too_long = {str(p.relative_to(PACKAGE)): n for p in _modules()
                if (n := len(p.read_text(encoding="utf-8").splitlines())) > 800}
    assert too_long == {}


@pytest.mark.parametrize(
    ("room", "line", "why"),
    [
        ("core", "from worktree_guard.agents import claude", "core/ may import only"),
        ("core", "import typer", "standard library"),
        ("shell", "from worktree_guard.core import lease", "shell/ may import only"),
        ("git", "from worktree_guard.agents.claude import run", "git/ may import only"),
        ("agents", "from worktree_guard.git.hook import run", "agents/ may import only"),
        ("agents", "from worktree_guard.agents.codex import x", "never import each other"),
        ("agents", "from worktree_guard.cli import run_cli", "agents/ may import only"),
        ("lite", "import git", "standard library"),
        ("git", "    import typer", "standard library"),
    ],
)
def test_the_check_catches_a_broken_rule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         room: str, line: str, why: str) -> None:
    """The rule check itself, against a copy of the package with one bad import added."""
    import shutil

    copy = tmp_path / "worktree_guard"
    shutil.copytree(PACKAGE, copy)
    body = f"def f() -> None:\n{line}\n" if line.startswith(" ") else line + "\n"
    (copy / room / "zz_broken.py").write_text(body, encoding="utf-8")
    monkeypatch.setattr(__import__(__name__, fromlist=["PACKAGE"]), "PACKAGE", copy)
    found = violations()
    assert any("zz_broken" in v and why in v for v in found), found

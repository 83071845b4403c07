"""The house rules of the package layout, read from the imports of every module.

Data flows one way: an adapter (`agents/`, `git/`, the CLI) reads its input, asks the core,
answers in its own format. So the core knows no adapter, adapters know no other adapter,
and nothing that runs on a hook path loads the heavy libraries of the cold paths.
Every import counts, at module level or inside a function, typed-only ones excepted.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "worktree_guard"
MAX_LINES = 800
HEAVY = ("typer", "click", "git", "rich", "pydantic")
HOOK_PATH_ROOMS = ("core", "agents", "git", "shell", "lite", "sandbox")

# What each room may import from the package (besides itself).
ALLOWED = {
    "core": {"core", "lite"},
    "shell": {"shell", "lite"},
    "lite": {"lite"},
    "agents": {"core", "shell", "lite", "sandbox"},
    "sandbox": {"sandbox", "core", "lite"},
    "git": {"git", "core", "shell", "lite", "sandbox"},
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



# ---- names modules share ------------------------------------------------------------------

# A leading underscore means private to its module: what another module needs gets a public
# name in the module that defines it. Typed-only imports count too; `__dunder__` names are
# not private.


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_imports(path: Path, text: str) -> list[str]:
    """Every `from worktree_guard.x import _name` in `text` (the source of `path`) that takes
    a private name from another module, at any depth, relative imports resolved."""
    me = _dotted(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found: list[str] = []
    for node in ast.walk(ast.parse(text)):
        if not isinstance(node, ast.ImportFrom):
            continue
        module = node.module or ""
        if node.level:
            base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
            module = ".".join([*base, module] if module else base)
        if module.split(".")[0] != "worktree_guard" or module == me:
            continue
        found += [f"{me} imports {alias.name} from {module}" for alias in node.names
                  if _is_private(alias.name)]
    return found


def test_no_module_imports_a_private_name_of_another() -> None:
    found = [hit for path in _modules()
             for hit in private_imports(path, path.read_text(encoding="utf-8"))]
    assert found == []


@pytest.mark.parametrize(
    "line",
    ["from worktree_guard.shell.lexer import Word, _Word",
     "def f() -> None:\n    from worktree_guard.shell.walk import _Acc as Acc",
     "if TYPE_CHECKING:\n    from worktree_guard.shell.walk import _Handler",
     "from .lexer import _name_end",
     "from . import _private",
     "from ..sandbox.prefix import _exec"],
)
def test_the_private_import_check_catches_each_form(line: str) -> None:
    """Catches: a private name taken from another module again, in each form an import takes
    (seen red with `_QUOTED` of shell/lexer.py imported into shell/walk.py), while own-module
    (also relative), dunder and public imports beside it stay quiet."""
    text = ("from worktree_guard import __version__\n"
            "from worktree_guard.shell.zz_named import _own\n"
            "from .zz_named import _own_too\n"
            "from worktree_guard.shell.lexer import Word\n"
            "TYPE_CHECKING = False\n" + line + "\n")
    found = private_imports(PACKAGE / "shell" / "zz_named.py", text)
    assert len(found) == 1, found


def too_long(paths: list[Path]) -> dict[str, int]:
    return {str(p.relative_to(ROOT)): n for p in paths
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}


def test_no_module_is_two_jobs_by_size() -> None:
    assert too_long(_modules()) == {}


def test_no_benchmark_module_is_two_jobs_by_size() -> None:
    """The benchmark is code too: one module per group, under the same limit.

    Catches: a benchmark module grown past the limit (seen red with the old one-file
    bench/run.py of 1,522 lines)."""
    modules = sorted((ROOT / "bench").glob("*.py"))
    assert len(modules) > 2  # the runner and its groups, not one file
    assert too_long(modules) == {}


# ---- files a docstring names ----------------------------------------------------------------

# A path with one of these first folders names a file of this repository; so does any name
# of a Python module or a Markdown page (`core/lease.py`, `uninstall.py`, `testing.md`),
# looked up from the repository, the package, tests/, docs/ and the docstring's own folder.
_TOP_FOLDERS = ("tests", "docs", "src", "bench", "git-hooks", "scripts")
_NAMED_PATH = re.compile(
    r"(?<![\w./~$<{-])("
    rf"(?:{'|'.join(_TOP_FOLDERS)})/[\w./-]*\w"  # tests/x.py, git-hooks/pre-push
    r"|[\w-]+(?:/[\w.-]+)*\.(?:py|md)"  # core/lease.py, uninstall.py, testing.md
    r")(?![\w/*<{-])"
)
# Docstrings that name files that are not the repository's: the scratch copy the
# classifier's table runs its commands in.
_NOT_OURS = {"tests/shell/classifier_table.py": {"src/app.py", "src/util.py", "docs/guide.md",
                                                 "main.py", "setup.py"}}


def _documented_files() -> list[Path]:
    found = [*PACKAGE.rglob("*.py"), *(ROOT / "tests").rglob("*.py"),
             *(ROOT / "bench").glob("*.py")]
    found += [p for p in (ROOT / "scripts").iterdir() if p.is_file() and p.read_text(
        encoding="utf-8", errors="replace").startswith("#!/usr/bin/env python")]
    return sorted(found)


def _docstrings(text: str) -> list[str]:
    tree = ast.parse(text)
    nodes = [tree, *(n for n in ast.walk(tree)
                     if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef))]
    return [doc for node in nodes if (doc := ast.get_docstring(node, clean=False))]


def missing_named_files(path: Path, text: str) -> list[str]:
    """Every file a docstring of `text` (the source of `path`) names that exists nowhere it
    could mean."""
    exempt = _NOT_OURS.get(path.relative_to(ROOT).as_posix(), set())
    bases = (ROOT, PACKAGE, ROOT / "tests", ROOT / "docs", path.parent)
    return [name for doc in _docstrings(text) for found in _NAMED_PATH.findall(doc)
            if (name := found.rstrip(".")) not in exempt
            and not any((base / name).exists() for base in bases)]


def test_every_file_a_docstring_names_exists() -> None:
    missing = {str(p.relative_to(ROOT)): names for p in _documented_files()
               if (names := missing_named_files(p, p.read_text(encoding="utf-8")))}
    assert missing == {}


@pytest.mark.parametrize(
    "named",
    ["tests/core/test_gone.py", "docs/gone.md", "bench/gone.py", "git-hooks/gone",
     "core/gone.py", "gone.py", "src/worktree_guard/core/gone.py", "testing-gone.md"],
)
def test_the_named_file_check_catches_a_missing_file(named: str) -> None:
    """Catches: a docstring naming a file that is not there, in each form a name takes
    (seen red on the four stale names it found in src/, each fixed since), while the
    existing names beside it, each form again, stay quiet."""
    text = (f'"""See {named}, core/lease.py, docs/testing.md, testing.md, lease.py,\n'
            'git-hooks/pre-push and tests/conftest.py."""\n'
            'def f() -> None:\n    """Or `' + named + '`."""\n')
    found = missing_named_files(PACKAGE / "core" / "zz_named.py", text)
    assert found == [named, named], found

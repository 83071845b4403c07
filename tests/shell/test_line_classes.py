"""Classes of shell lines that reach a held tree by a way round the spelled-out path.

Each line is run for real, without guard, in one pair of trees (A held, B the asker's) to
show it changes A; then, in a fresh pair, every agent's real hook command is asked about the
same line from B while session A holds A, and must deny it naming A. A counterpart that
stays in B's own tree passes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.agents.test_shell_trees_all_agents import AGENTS, _run_without_guard, _setup

PWN = "echo pwned"

CLASSES = {
    # Catches: ln's source not counted as a target (the link is written through later).
    "symlink-to-a-file": f"ln -s {{A}}/README link && {PWN} > link",
    "symlink-to-the-tree": f"ln -s {{A}} la; {PWN} > la/README",
    "hard-link": f"ln {{A}}/README x; {PWN} > x",
    # Catches: a brace expansion judged by its literal start (the relative `x`).
    "brace-expansion": "rm -f {{{A}/README,x}}",
    # Catches: `cd name` read only as relative to the folder the line is in.
    "cdpath": f"CDPATH={{P}}; cd a && {PWN} > README",
    "cdpath-prefix": f"CDPATH={{P}} cd a && {PWN} > README",
    # Catches: `cd -` taken as a folder this line has been in, not $OLDPWD.
    "oldpwd": f"OLDPWD={{A}}; cd - >/dev/null && {PWN} > README",
    # Catches: a folder that holds the tree judged as a folder in no tree.
    "find-parent-delete": "find {P} -path '*/a/README' -delete",
    "cp-into-parent": f"mkdir -p x/a && {PWN} > x/a/README && cp -r x/. {{P}}/",
    "tar-into-parent": f"mkdir -p t/a && {PWN} > t/a/README && tar -cf t.tar -C t a "
                       "&& tar -xf t.tar -C {P}",
    # Catches: `&>` and `&>>` missing from the output redirections.
    "and-greater": f"{PWN} &> {{A}}/README",
    "and-greater-greater": f"{PWN} &>> {{A}}/README",
    # Catches: a value bash evaluates (arithmetic, a subscript, ${!x}, ${x@P}) whose
    # substitution runs: the line's targets are then unknown.
    "arithmetic": "x='a[$(echo pwned > {A}/README)]'; echo $((x))",
    "arithmetic-command": "x='a[$(echo pwned > {A}/README)]'; (( x ))",
    "indirect": "x='a[$(echo pwned > {A}/README)]'; echo ${{!x}}",
    "prompt-expansion": "x='$(echo pwned > {A}/README)'; echo ${{x@P}}",
    "here-string-read": "read -r x <<< 'a[$(echo pwned > {A}/README)]'; echo $((x))",
    "heredoc-read": "read -r x <<'EOF'\na[$(echo pwned > {A}/README)]\nEOF\necho $((x))",
    # Catches: a one-letter prefix of a long option not taken for the option (`--o`).
    "abbreviated-long-option": "sort -r --o={A}/README {A}/README",
    # Catches: an array's value followed as if it were a string (`$a` is its first element).
    "array-value": "a=({A}/README x); echo pwned > $a",
    # Catches: any echo taken for a lister of local paths (xargs then reads /abs from it).
    "echo-abs-into-xargs": "echo {A}/README | xargs rm -f",
    "echo-quoted-into-xargs": "echo \"'{A}/README'\" | xargs rm -f",
    "xargs-from-a-file": "echo {A}/README > list; echo x.tmp | xargs -a list rm -f",
}

OWN_TREE = [
    # Catches: xargs after echo judged as reaching anywhere (a false deny in one's own tree).
    "touch a.tmp && echo a.tmp | xargs rm -f",
    f"ln -s README link && {PWN} > link",
    "rm -f {x.tmp,y.tmp}",
    "find . -name '*.tmp' -delete",
    f"{PWN} &> out.log",
    "mkdir -p x && tar -xf /dev/null -C x 2>/dev/null; true",
]


def _world(tmp_path: Path, name: str, env: dict[str, str], agent: str) -> tuple[Path, Path]:
    return _setup(tmp_path / name, env, AGENTS[agent][1])


def _line(template: str, a: Path) -> str:
    return template.format(A=a, P=a.parent)


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_the_line_changes_the_held_tree_without_guard(
        tmp_path: Path, guard_env: dict[str, str], name: str) -> None:
    a, b = _world(tmp_path, "plain", guard_env, "gemini")
    line = _line(CLASSES[name], a)
    assert _run_without_guard(line, b, guard_env, a), f"{line!r} does not change A: weak case"


@pytest.mark.parametrize("agent", sorted(AGENTS))
@pytest.mark.parametrize("name", sorted(CLASSES))
def test_every_agent_denies_the_line(
        tmp_path: Path, guard_env: dict[str, str], agent: str, name: str) -> None:
    a, b = _world(tmp_path, "guarded", guard_env, agent)
    line = _line(CLASSES[name], a)
    reason = AGENTS[agent][0]("session-b", b, guard_env, line)
    assert reason is not None, f"{agent} allowed {line!r}"
    assert str(a) in reason and "worktree-guard" in reason, reason


@pytest.mark.parametrize("agent", sorted(AGENTS))
def test_the_same_ways_inside_ones_own_tree_pass(
        tmp_path: Path, guard_env: dict[str, str], agent: str) -> None:
    a, b = _world(tmp_path, "own", guard_env, agent)
    for line in OWN_TREE:
        assert AGENTS[agent][0]("session-b", b, guard_env, line) is None, line
        assert not _run_without_guard(line, b, guard_env, a), f"{line!r} changed A"

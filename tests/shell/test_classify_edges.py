"""Edges of the classifier that mutation testing found untested (scripts/mutate)."""

from __future__ import annotations

import pytest

from worktree_guard.shell.classify import classify_command
from worktree_guard.shell.lexer import MAX_DEPTH


@pytest.mark.parametrize("prefix", ["! ", "then ", "do ", "time ", "nice "])
def test_nesting_is_followed_to_the_limit_and_refused_past_it(prefix: str) -> None:
    """Catches: a keyword or wrapper counted as more than one level (a legitimate line
    nested within the limit would be refused) or the limit not enforced (a line nested
    without end would be followed without end). Past the limit guard fails safe: mutating."""
    at_limit = classify_command(prefix * MAX_DEPTH + "cat README")
    assert at_limit.read_only, at_limit.reason
    past = classify_command(prefix * (MAX_DEPTH + 1) + "cat README")
    assert not past.read_only and "nested too deeply" in past.reason


@pytest.mark.parametrize("runner", ["sh -c", "bash -c"])
def test_a_nested_shell_is_one_level(runner: str) -> None:
    """Catches: a string run as shell code counted as more than one level of nesting."""
    inner = "! " * (MAX_DEPTH - 1) + "cat README"
    assert classify_command(f"{runner} '{inner}'").read_only
    deeper = classify_command(f"{runner} '! {inner}'")
    assert not deeper.read_only and "nested too deeply" in deeper.reason


def test_the_reason_is_the_first_problem_of_the_line() -> None:
    """Catches: the reason taken from another problem than the first one found."""
    verdict = classify_command("rm a; cp b c; touch d")
    assert not verdict.read_only and verdict.reason == "rm is not a known read-only command"


@pytest.mark.parametrize("line", [
    "\"$SHELL\" -c \"git push --no-verify\"",
    "$x -c 'git commit --no-verify -m x'",
    "$(which sh) -c \"git config core.hooksPath /dev/null\"",
    "$x eval \"git commit -n -m x\"",
])
def test_a_command_named_by_a_variable_still_has_its_strings_read_as_code(line: str) -> None:
    """Catches: the string arguments of a command whose name is not a literal word left
    unread (`"$SHELL" -c "git push --no-verify"` would switch hooks off unnoticed)."""
    verdict = classify_command(line)
    assert verdict.disables_git_hooks and not verdict.read_only, verdict.reason


def test_an_unparsable_nested_line_falls_back_to_a_text_scan() -> None:
    """Catches: the fallback scan of a nested line that cannot be parsed inverted or
    skipped, and its parse error taken for the whole line's."""
    bypass = classify_command("sh -c 'git commit --no-verify \"x'")
    assert bypass.disables_git_hooks and "nested command mentions --no-verify" in bypass.reason
    plain = classify_command("sh -c 'echo \"x'")
    assert not plain.read_only and not plain.disables_git_hooks
    assert plain.reason == "sh: could not parse nested command: unterminated double quote"


def test_an_unparsable_line_names_its_parse_error() -> None:
    """Catches: a parse error handled by the last-resort handler (a vaguer reason)."""
    verdict = classify_command('echo "unterminated')
    assert not verdict.read_only and not verdict.disables_git_hooks
    assert verdict.reason == "could not parse command: unterminated double quote"
    assert classify_command('git commit --no-verify "x').disables_git_hooks


@pytest.mark.parametrize(("line", "read_only"), [
    ("/usr/bin/cat README", True), ("/bin/ls -la", True), ("/usr/local/bin/grep -r x .", True),
    ("/usr/bin/rm README", False), ("/usr/bin/sub/cat README", False),
    ("/opt/tools/cat README", False),
])
def test_commands_named_by_their_system_path(line: str, read_only: bool) -> None:
    """Catches: /usr/bin/, /bin/ and /usr/local/bin/ no longer stripped from a command name
    (a false deny of `/usr/bin/cat`), or stripped from deeper folders (a lookalike taken for
    the real command)."""
    assert classify_command(line).read_only is read_only


def test_the_reason_of_a_bypass_is_the_first_one_found() -> None:
    """Catches: the reason taken from another bypass than the first one found."""
    verdict = classify_command("git commit --no-verify -m x; git -c core.hooksPath=/x push")
    assert verdict.disables_git_hooks and verdict.reason == "git commit --no-verify skips git hooks"


def test_a_line_of_assignments_only_is_decided_by_them() -> None:
    """Catches: a line of nothing but assignments taken for a command with no name (an
    internal error, and so a false deny of `FOO=bar`)."""
    assert classify_command("FOO=bar").read_only
    assert classify_command("FOO=bar BAR=baz").read_only
    assert not classify_command("GIT_DIR=x").read_only


@pytest.mark.parametrize(("line", "read_only"), [
    ("echo x >&2", True), ("echo x 2>&1", True), ("echo x >&-", True), ("echo x >&2-", True),
    ("echo x >&out.txt", False), ("echo x > 2", False), ("echo x > -", False),
])
def test_only_a_descriptor_duplication_is_no_write(line: str, read_only: bool) -> None:
    """Catches: `>&file` taken for a descriptor duplication, or `> 2` (a file named 2)
    taken for one: both write a file."""
    assert classify_command(line).read_only is read_only

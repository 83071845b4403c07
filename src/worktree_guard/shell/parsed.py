"""One parse per line: the lexer's simple commands, kept for every reader of the line.

The classifier, the target reader and the git readers all read a hook call's line; the
parse is done once and kept here (a hook process judges a handful of lines).
"""

from __future__ import annotations

from worktree_guard.shell.lexer import ParseError, Parser

TYPE_CHECKING = False
if TYPE_CHECKING:
    from worktree_guard.shell.lexer import Simple

__all__ = ["Parsed", "parse_line"]


class Parsed:
    """A parsed line: its simple commands in order, each with the separator that ends it,
    and the constructs found that are never read-only."""

    __slots__ = ("commands", "problems")

    def __init__(self, commands: list[Simple], problems: list[str]) -> None:
        self.commands = commands
        self.problems = problems


# The lines parsed in this process: every reader of one hook call's line (the classifier,
# the targets, the git readers) shares one parse. A hook process judges a handful of lines.
_PARSED: dict[tuple[str, int], Parsed | str] = {}
_PARSED_KEPT = 32


def parse_line(src: str, depth: int = 0) -> Parsed:
    """The parse of src (raises ParseError as the parser does), done once per line."""
    key = (src, depth)
    found = _PARSED.get(key)
    if found is None:
        parser = Parser(src, depth)
        try:
            parser.parse_list(closer=False)
            found = Parsed(parser.commands, parser.problems)
        except ParseError as exc:
            found = str(exc)
        except RecursionError:
            found = "nested too deeply"
        if len(_PARSED) >= _PARSED_KEPT:
            _PARSED.clear()
        _PARSED[key] = found
    if isinstance(found, str):
        raise ParseError(found)
    return found

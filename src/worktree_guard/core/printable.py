"""Names as guard prints them: a path or branch with control characters cannot rewrite a
terminal, move the cursor or hide text.

Paths, branch names and session ids come from the file system, lease records and hook
payloads, so they may hold anything. Everything guard prints for a person or a model goes
through `printable`, quoting the way git's `core.quotePath` does: an ordinary name is
printed as it is, and one with a character that would not show as itself is printed in
double quotes with C-style escapes (backslash and quote included, so it stays unambiguous).
Cheap enough for the hook path: `str.isprintable` answers for the ordinary name.
"""

from __future__ import annotations

_NAMED = {"\a": "\\a", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\v": "\\v", "\f": "\\f",
          "\r": "\\r", '"': '\\"', "\\": "\\\\"}  # fmt: skip


def _escaped(char: str) -> str:
    named = _NAMED.get(char)
    if named is not None:
        return named
    if char.isprintable():
        return char
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, kept by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(text: str) -> str:
    """`text` as it is when every character shows as itself, else quoted and escaped."""
    if text.isprintable():
        return text
    return '"' + "".join(_escaped(char) for char in text) + '"'

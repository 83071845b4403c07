"""Named constants for the hook paths, without the cost of importing `enum`.

A `Kind` is a str singleton with a `.value`, compared with `is` like an Enum member; each
set of kinds is a subclass whose members are created once, at import.
"""

from __future__ import annotations


class Kind(str):
    __slots__ = ()

    @property
    def value(self) -> str:
        return str.__str__(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {str.__str__(self)}>"

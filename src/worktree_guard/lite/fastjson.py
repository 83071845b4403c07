"""JSON for the hook paths without importing the `json` package.

`import json` pulls in `re` and compiles several patterns: about half an interpreter start,
paid on every tool call. The C scanner and string encoder behind `json` (`_json`) need none
of that, so the hooks parse and print through them; the stdlib `json` stays the fallback
where `_json` is missing, and the reference in the tests.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

_WHITESPACE = " \t\n\r"

_make_scanner: Any = None
_encode_str: Callable[[str], str] | None = None
try:
    import _json

    _make_scanner = _json.make_scanner
    _encode_str = _json.encode_basestring_ascii
except ImportError:  # pragma: no cover - CPython always has _json
    pass


def _parse_constant(name: str) -> float:
    return float(name.lower().replace("infinity", "inf"))  # NaN, Infinity, -Infinity


class _Context:
    """The attributes the C scanner reads from its json.JSONDecoder."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    memo: dict[str, str]

    def __init__(self) -> None:
        self.memo = {}
        self.parse_float: Callable[[str], Any] = float
        self.parse_int: Callable[[str], Any] = int
        self.parse_constant: Callable[[str], Any] = _parse_constant


def loads(data: bytes | str) -> Any:
    """Parse one JSON document; ValueError (or RecursionError) when it is not one."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    if _make_scanner is None:  # pragma: no cover
        import json

        return json.loads(text)
    start = len(text) - len(text.lstrip(_WHITESPACE))
    try:
        value, end = _make_scanner(_Context())(text, start)
        if not text[end:].strip(_WHITESPACE):
            return value
    except (StopIteration, ValueError, SystemError):
        # The C scanner reports errors through json.decoder, which it does not import:
        # let the stdlib parser, loaded only now, raise the proper JSONDecodeError.
        pass
    import json

    return json.loads(text)


def dumps(value: Any) -> str:
    """Compact JSON (ASCII, `separators=(",", ":")`) for plain dicts, lists and scalars."""
    parts: list[str] = []
    _emit(value, parts)
    return "".join(parts)


def _emit(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(_quote(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("NaN and infinities are not JSON")
        out.append(float.__repr__(value))
    elif isinstance(value, dict):
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            if not isinstance(key, str):
                raise TypeError(f"JSON keys must be strings, not {type(key).__name__}")
            out.append("," if i else "")
            out.append(_quote(key))
            out.append(":")
            _emit(item, out)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, item in enumerate(value):
            out.append("," if i else "")
            _emit(item, out)
        out.append("]")
    else:
        out.append(_quote(str(value)))  # paths and the like: their text


def _quote(text: str) -> str:
    if _encode_str is None:  # pragma: no cover
        import json

        return json.dumps(text)
    quoted: str = _encode_str(text)
    return quoted

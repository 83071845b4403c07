"""The hook's JSON reader and writer agree with the standard library's `json`."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worktree_guard.lite import fastjson

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


@given(json_values)
def test_round_trips_through_both(value: object) -> None:
    assert fastjson.loads(json.dumps(value)) == value
    assert json.loads(fastjson.dumps(value)) == value
    assert fastjson.loads(fastjson.dumps(value).encode()) == value


@given(st.text(max_size=40))
def test_rejects_what_json_rejects(text: str) -> None:
    try:
        expected = json.loads(text)
    except ValueError:
        with pytest.raises(ValueError):
            fastjson.loads(text)
    else:
        # Compared as JSON text, so NaN (never equal to itself) compares too.
        assert json.dumps(fastjson.loads(text)) == json.dumps(expected)


@pytest.mark.parametrize("doc", [b"", b"{", b"[1] x", b'{"a":}', b"\xff", b"nul", b"[1,]"])
def test_invalid_documents_raise_value_error(doc: bytes) -> None:
    with pytest.raises(ValueError):
        fastjson.loads(doc)


def test_deep_nesting_raises_recursion_error_not_a_crash() -> None:
    with pytest.raises(RecursionError):
        fastjson.loads(b"[" * 100_000 + b"]" * 100_000)


def test_dumps_refuses_what_is_not_json() -> None:
    with pytest.raises(ValueError):
        fastjson.dumps(float("nan"))
    with pytest.raises(TypeError):
        fastjson.dumps({1: "x"})

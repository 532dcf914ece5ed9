"""JSON text with fragments written once: the same text as writing the whole value."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deconfliction.jsontext import RawJSON, canonical_json, compact_json

_TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)))
_SCALAR = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _TEXT
)
_JSON = st.recursive(
    _SCALAR,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=20,
)


def _with_fragments(value: Any, chosen: st.DataObject, write: Any) -> Any:
    """``value`` with some of its parts (drawn) replaced by their text as fragments."""
    if chosen.draw(st.booleans()):
        return RawJSON(write(value))
    if isinstance(value, dict):
        return {k: _with_fragments(v, chosen, write) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_fragments(v, chosen, write) for v in value]
    return value


@given(value=st.dictionaries(_TEXT, _JSON, max_size=5), chosen=st.data())
def test_fragments_write_what_the_whole_value_writes(value: Any, chosen: st.DataObject) -> None:
    for write in (canonical_json, compact_json):
        assert write(_with_fragments(value, chosen, write)) == write(value)


def test_canonical_text_sorts_keys_keeps_non_ascii_and_has_no_spaces() -> None:
    assert canonical_json({"b": [1, 2.5], "a": "Zürich"}) == '{"a":"Zürich","b":[1,2.5]}'
    assert compact_json({"b": 1, "a": 2}) == '{"b":1,"a":2}'


def test_a_string_that_holds_the_mark_is_written_as_it_is() -> None:
    """The mark a fragment stands in for is private-use text; a value's own string may
    hold it and still comes out right (the long way round)."""
    sneaky = {"note": 'x"\ue000raw-json\ue001', "marked": "\ue000raw-json\ue001"}
    value = {**sneaky, "geometry": RawJSON('{"type":"Point"}')}
    for write in (canonical_json, compact_json):
        text = write(value)
        assert json.loads(text) == {**sneaky, "geometry": {"type": "Point"}}
        assert text == write({**sneaky, "geometry": {"type": "Point"}})


def test_canonical_text_refuses_nan_and_other_objects() -> None:
    with pytest.raises(ValueError, match="JSON compliant"):
        canonical_json({"x": float("nan")})
    with pytest.raises(TypeError, match="set is not JSON serialisable"):
        canonical_json({"x": {1}})

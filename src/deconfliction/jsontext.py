"""JSON text, with fragments written once and placed in many documents.

A conflict's outline can run to kilobytes of coordinates, and one filing tells it in
its conflict row, both alerts, both events and three journal entries. Writing those
coordinates out eight times was most of a filing's cost, so the outline is written
once and carried as :class:`RawJSON`: :func:`canonical_json` and :func:`compact_json`
place its text where it stands instead of encoding it again.

A fragment's text must be what the same function would write of its value, so that a
document with fragments reads back as the document without them would, byte for byte
(the journal's hashes depend on it):

>>> outline = RawJSON(canonical_json({"type": "Point", "coordinates": [8.5, 47.4]}))
>>> canonical_json({"kind": "conflict", "geometry": outline})
'{"geometry":{"coordinates":[8.5,47.4],"type":"Point"},"kind":"conflict"}'
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

__all__ = ["RawJSON", "canonical_json", "compact_json"]

# Stands in for a fragment while the rest is encoded: private-use characters, which
# the JSON encoder writes as they are (ensure_ascii=False).
_MARK = "\ue000raw-json\ue001"
_MARK_TEXT = json.dumps(_MARK, ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class RawJSON:
    """JSON text to be written as it is wherever this stands in a value."""

    text: str


def canonical_json(value: Any) -> str:
    """The one JSON text of a value: sorted keys, no whitespace, non-ASCII kept.

    :class:`RawJSON` fragments are placed as they are; each must be canonical itself.
    """
    return _dumps(value, sort_keys=True, allow_nan=False)


def compact_json(value: Any) -> str:
    """JSON text without whitespace, keys in their order, non-ASCII kept, NaN and
    infinities as Python writes them; :class:`RawJSON` fragments placed as they are."""
    return _dumps(value, sort_keys=False, allow_nan=True)


def _dumps(value: Any, *, sort_keys: bool, allow_nan: bool) -> str:
    fragments: list[str] = []

    def placed(item: Any) -> str:
        if isinstance(item, RawJSON):
            fragments.append(item.text)
            return _MARK
        raise TypeError(f"{type(item).__name__} is not JSON serialisable")

    text = json.dumps(
        value,
        sort_keys=sort_keys,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=allow_nan,
        default=placed,
    )
    if not fragments:
        return text
    parts = text.split(_MARK_TEXT)
    if len(parts) != len(fragments) + 1:
        # A string of the value's own held the mark: encode it the long way round.
        return _dumps(_parsed(value), sort_keys=sort_keys, allow_nan=allow_nan)
    pieces = [parts[0]]
    for fragment, part in zip(fragments, parts[1:], strict=True):
        pieces += (fragment, part)
    return "".join(pieces)


def _parsed(value: Any) -> Any:
    """``value`` with every fragment read back into the value it writes."""
    if isinstance(value, RawJSON):
        return json.loads(value.text)
    if isinstance(value, dict):
        return {key: _parsed(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_parsed(item) for item in value]
    return value

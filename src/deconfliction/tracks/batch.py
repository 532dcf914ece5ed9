"""A batch of aircraft states as a party reports them: read row by row, bad rows reported.

One row is a JSON object::

    {"id": "4b1814", "time": "2026-03-02T08:00:00Z", "lat": 47.45, "lon": 8.56,
     "alt_m": 3048.0, "gs_mps": 180.0, "trk_deg": 270.0, "vs_mps": -5.0,
     "notice": "ntc_...", "on_ground": false}

``time`` is RFC 3339 with an offset; ``notice`` (optional) tags the aircraft with one of
the party's own notices, whose volumes it must stay in (conformance); ``on_ground``
(optional, default false) says the feed reports it on the ground: it then takes no part
in track-track prediction, and its altitude tells the floor there. Units are SI:
degrees, metres, metres per second, track in degrees true.

:func:`read_batch` keeps the good rows and says, for every other row, its index and what
is wrong with it, so one bad state does not cost the batch. A row is refused when it is
not such an object, lacks a field, has an unknown one, holds a non-number, NaN or
infinity, a latitude, longitude, altitude or speed out of range (the checks of
:class:`~deconfliction.tactical.state.TrafficState`), repeats an earlier row's id, or is
stamped more than ``max_ahead_s`` after ``now`` or more than ``max_age_s`` before it.

>>> from datetime import UTC, datetime
>>> now = datetime(2026, 3, 2, 8, tzinfo=UTC)
>>> row = {"id": "a1", "time": "2026-03-02T08:00:00Z", "lat": 47.0, "lon": 8.0,
...        "alt_m": 3000.0, "gs_mps": 100.0, "trk_deg": 90.0, "vs_mps": 0.0}
>>> batch, rejected = read_batch([row, {**row, "lat": 91.0, "id": "b2"}, "x"], now,
...                              max_ahead_s=30.0, max_age_s=60.0)
>>> batch.ids, [(r.row, r.reason) for r in rejected]  # doctest: +NORMALIZE_WHITESPACE
(('a1',), [(1, 'latitude 91.0 is outside [-90, 90]'),
           (2, 'is not an object with the fields id, time, lat, lon, alt_m, gs_mps,
               trk_deg, vs_mps (and optionally notice, on_ground)')])
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from deconfliction.tactical.state import FloatArray, IntArray, RowRejection, row_rejections

__all__ = ["FIELDS", "MAX_ID_LENGTH", "OPTIONAL_FIELDS", "TrackBatch", "read_batch"]

FIELDS = ("id", "time", "lat", "lon", "alt_m", "gs_mps", "trk_deg", "vs_mps")
"""The fields every row must have."""
OPTIONAL_FIELDS = ("notice", "on_ground")
MAX_ID_LENGTH = 40
"""Longest aircraft id (and notice id), characters."""

_NUMBERS = FIELDS[2:]
_LISTED = f"{', '.join(FIELDS)} (and optionally {', '.join(OPTIONAL_FIELDS)})"
_SHAPE = f"is not an object with the fields {_LISTED}"


@dataclass(frozen=True, eq=False)
class TrackBatch:
    """The good rows of a batch: ``rows`` are their indices in the input; ``time_s``
    seconds since the Unix epoch (UTC); other units as in the module docstring."""

    rows: IntArray
    ids: tuple[str, ...]
    time_s: FloatArray
    lon: FloatArray
    lat: FloatArray
    alt_m: FloatArray
    gs_mps: FloatArray
    trk_deg: FloatArray
    vs_mps: FloatArray
    notice: tuple[str | None, ...]
    on_ground: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, keep: npt.NDArray[np.bool_]) -> TrackBatch:
        """The rows where ``keep`` is true."""
        index = np.flatnonzero(keep)
        return TrackBatch(
            self.rows[index],
            tuple(self.ids[k] for k in index.tolist()),
            self.time_s[index],
            self.lon[index],
            self.lat[index],
            self.alt_m[index],
            self.gs_mps[index],
            self.trk_deg[index],
            self.vs_mps[index],
            tuple(self.notice[k] for k in index.tolist()),
            self.on_ground[index],
        )


@dataclass
class _Parsed:
    row: int
    id: str
    time_s: float
    numbers: list[float]
    notice: str | None
    on_ground: bool


def _text(value: object, name: str) -> tuple[str | None, str | None]:
    """(the text, None) or (None, why not)."""
    if not isinstance(value, str):
        return None, f"{name} must be text, not {value!r}"
    if not value or len(value) > MAX_ID_LENGTH or not value.isprintable():
        return None, f"{name} {value!r} must be 1 to {MAX_ID_LENGTH} printable characters"
    return value, None


def _time(value: object) -> tuple[datetime | None, str | None]:
    example = "e.g. 2026-03-02T08:00:00Z"
    if not isinstance(value, str):
        return None, f"time must be an RFC 3339 text ({example}), not {value!r}"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None, f"time {value!r} is not an RFC 3339 time ({example})"
    if moment.tzinfo is None or moment.utcoffset() is None:
        return None, f"time {value!r} has no offset; give it in UTC ({example})"
    return moment, None


def _parse(index: int, row: object) -> tuple[_Parsed | None, list[str]]:
    """The row's values when they can be read (for the range checks), and what is
    wrong with it so far."""
    if not isinstance(row, Mapping):
        return None, [_SHAPE]
    reasons: list[str] = []
    unknown = sorted(str(k) for k in row if k not in FIELDS and k not in OPTIONAL_FIELDS)
    if unknown:
        reasons.append(f"unknown field(s) {', '.join(unknown)}; the fields are {_LISTED}")
    missing = [name for name in FIELDS if name not in row]
    if missing:
        reasons.append(f"lacks {', '.join(missing)}")
    ident, why = _text(row.get("id"), "id") if "id" in row else (None, None)
    if why:
        reasons.append(why)
    moment, why = _time(row["time"]) if "time" in row else (None, None)
    if why:
        reasons.append(why)
    numbers = []
    for name in _NUMBERS:
        value = row.get(name)
        if name not in row:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            reasons.append(f"{name} is {value!r}, not a number")
            continue
        numbers.append(float(value))
    notice = row.get("notice")
    if notice is not None:
        notice, why = _text(notice, "notice")
        if why:
            reasons.append(why)
    on_ground = row.get("on_ground", False)
    if not isinstance(on_ground, bool):
        reasons.append(f"on_ground must be true or false, not {on_ground!r}")
    if ident is None or moment is None or len(numbers) != len(_NUMBERS):
        return None, reasons
    return _Parsed(index, ident, moment.timestamp(), numbers, notice, on_ground is True), reasons


def read_batch(
    rows: Sequence[object], now: datetime, *, max_ahead_s: float, max_age_s: float
) -> tuple[TrackBatch, tuple[RowRejection, ...]]:
    """The good rows of ``rows`` and a rejection (index, id, reason) for every other one.

    Of rows that repeat an id, the one with the latest time is kept (if otherwise good;
    of equal times, the first) and the others are refused. ``now`` is the service's time
    (aware).
    """
    reasons: dict[int, list[str]] = {}
    ids: dict[int, str] = {}
    kept: dict[str, tuple[int, float]] = {}  # id -> (its row kept so far, that row's time)
    parsed: list[_Parsed] = []
    displaced: set[int] = set()
    for index, row in enumerate(rows):
        if isinstance(row, Mapping) and isinstance(row.get("id"), str):
            ident = row["id"]
            ids[index] = ident
            moment, _ = _time(row.get("time"))
            at = moment.timestamp() if moment is not None else -math.inf
            held = kept.get(ident)
            if held is not None and at <= held[1]:
                reasons.setdefault(index, []).append(f"id {ident!r} repeats row {held[0]}")
                continue
            if held is not None:  # a later report of the same aircraft wins
                reasons.setdefault(held[0], []).append(
                    f"id {ident!r} is reported again, later, in row {index}"
                )
                displaced.add(held[0])
            kept[ident] = (index, at)
        found, why = _parse(index, row)
        if why:
            reasons.setdefault(index, []).extend(why)
        if found is not None:
            parsed.append(found)
    parsed = [p for p in parsed if p.row not in displaced]
    columns = np.array([p.numbers for p in parsed], dtype=np.float64).reshape(-1, len(_NUMBERS))
    lat, lon, alt, gs, trk, vs = (columns[:, k] for k in range(len(_NUMBERS)))
    for r in row_rejections(
        ids=[p.id for p in parsed],
        party=np.zeros(len(parsed), dtype=np.int64),
        lon=lon,
        lat=lat,
        alt_m=alt,
        gs_mps=gs,
        trk_deg=trk,
        vs_mps=vs,
    ):
        reasons.setdefault(parsed[r.row].row, []).append(r.reason)
    now_s = now.timestamp()
    for p in parsed:
        ahead = p.time_s - now_s
        if ahead > max_ahead_s:
            reasons.setdefault(p.row, []).append(
                f"time is {ahead:.0f} s ahead of the service's clock (more than "
                f"{max_ahead_s:g} s); send UTC times from a synchronised clock"
            )
        elif -ahead > max_age_s:
            reasons.setdefault(p.row, []).append(
                f"time is {-ahead:.0f} s old, beyond the {max_age_s:g} s after which "
                "states age out; send current states"
            )
    good = np.array([p.row not in reasons for p in parsed], dtype=bool)
    batch = TrackBatch(
        np.array([p.row for p in parsed], dtype=np.int64),
        tuple(p.id for p in parsed),
        np.array([p.time_s for p in parsed], dtype=np.float64),
        lon,
        lat,
        alt,
        gs,
        np.mod(np.where(np.isfinite(trk), trk, 0.0), 360.0),  # bad rows are dropped
        vs,
        tuple(p.notice for p in parsed),
        np.array([p.on_ground for p in parsed], dtype=bool),
    ).take(good)
    rejected = tuple(
        RowRejection(row, ids.get(row, ""), "; ".join(reasons[row])) for row in sorted(reasons)
    )
    return batch, rejected

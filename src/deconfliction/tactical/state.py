"""TrafficState: the live aircraft of one tick, one array per field, SI units.

Every field is a 1-D NumPy array of the same length, one row per aircraft. The arrays
are copied and made read-only, so a state cannot change under the engine.

==========  =======  ===========================================================
field       unit     meaning
==========  =======  ===========================================================
``ids``     —        the aircraft's id (e.g. its ICAO 24-bit address), unique
``party``   —        integer code of the party that reports it; pairs of one
                     party are not conflicts (give each aircraft its own code to
                     count all pairs)
``lon``     deg      WGS-84 longitude, [-180, 180]
``lat``     deg      WGS-84 latitude, [-90, 90]
``alt_m``   m        altitude (barometric, above mean sea level)
``gs_mps``  m/s      ground speed, [0, :data:`MAX_GROUND_SPEED_MPS`]
``trk_deg`` deg      track over the ground, degrees clockwise from true north
``vs_mps``  m/s      vertical speed, positive up
``rpz_m``   m        optional per-aircraft protected-zone radius (NaN: the default)
``hpz_m``   m        optional per-aircraft protected-zone half-height (NaN: default)
``floor_m`` m        optional floor under each aircraft (NaN: the model's floor)
``on_ground`` —      optional: reported on the ground (no part in track-track
                     prediction)
``quantum_m`` m      optional altitude resolution of each aircraft's feed (NaN:
                     the model's; see :class:`~deconfliction.tactical.params.PredictionModel`)
``level_vs_mps`` m/s optional level-flight dead band of each aircraft's feed (NaN:
                     the model's)
==========  =======  ===========================================================

A state with a bad row is refused with a :class:`~deconfliction.errors.ValidationError`
that names the rows; :func:`accept_rows` instead keeps the good rows and reports the
others, so one bad state in a batch does not cost the batch.

>>> state, rejected = accept_rows(
...     ids=["a", "b", "a"], party=[1, 2, 3], lon=[8.0, 8.1, 8.2], lat=[47.0, 95.0, 47.0],
...     alt_m=[3000.0] * 3, gs_mps=[100.0] * 3, trk_deg=[90.0] * 3, vs_mps=[0.0] * 3)
>>> len(state), [r.row for r in rejected]
(1, [1, 2])
>>> rejected[0].reason
'latitude 95.0 is outside [-90, 90]'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from deconfliction.core.units import MAX_ALTITUDE_M, MIN_ALTITUDE_M
from deconfliction.errors import ValidationError

__all__ = [
    "MAX_GROUND_SPEED_MPS",
    "MAX_VERTICAL_SPEED_MPS",
    "BoolArray",
    "FloatArray",
    "IntArray",
    "RowRejection",
    "TrafficState",
    "accept_rows",
    "row_rejections",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
StrArray = npt.NDArray[np.str_]
BoolArray = npt.NDArray[np.bool_]

MAX_GROUND_SPEED_MPS = 1_000.0
MAX_VERTICAL_SPEED_MPS = 300.0
_SHOWN_ROWS = 5


@dataclass(frozen=True)
class RowRejection:
    """One row refused: its index in the input, its id and what is wrong with it."""

    row: int
    id: str
    reason: str


@dataclass(frozen=True, eq=False)
class TrafficState:
    """The aircraft of one tick; one read-only array per field (see the module table)."""

    ids: StrArray
    party: IntArray
    lon: FloatArray
    lat: FloatArray
    alt_m: FloatArray
    gs_mps: FloatArray
    trk_deg: FloatArray
    vs_mps: FloatArray
    rpz_m: FloatArray | None = None
    hpz_m: FloatArray | None = None
    floor_m: FloatArray | None = None
    on_ground: BoolArray | None = None
    quantum_m: FloatArray | None = None
    level_vs_mps: FloatArray | None = None

    def __post_init__(self) -> None:
        for name, value in _coerce({f.name: getattr(self, f.name) for f in fields(self)}).items():
            object.__setattr__(self, name, value)
        rejections = _rejections(self)
        if rejections:
            raise ValidationError(_summary(rejections), rows=[r.row for r in rejections])

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def take(self, rows: npt.ArrayLike) -> TrafficState:
        """The state of the given rows (indices or a boolean mask), in that order."""
        index = np.asarray(rows)
        return TrafficState(**{name: _pick(getattr(self, name), index) for name in _FIELDS})


_FIELDS = tuple(f.name for f in fields(TrafficState))
_FLOATS = ("lon", "lat", "alt_m", "gs_mps", "trk_deg", "vs_mps")
_OPTIONAL = ("rpz_m", "hpz_m", "floor_m", "quantum_m", "level_vs_mps")


def _pick(array: Any, index: np.ndarray[Any, Any]) -> Any:
    return None if array is None else array[index]


def _column(name: str, values: Any, dtype: type[Any]) -> np.ndarray[Any, Any]:
    try:
        array = np.array(values, dtype=dtype, copy=True)
    except (TypeError, ValueError) as exc:
        kind = {np.float64: "numbers", np.int64: "integers", np.bool_: "flags"}.get(dtype, "text")
        raise ValidationError(
            f"column {name} holds values that are not {kind}: {exc}; fix the column",
            column=name,
        ) from None
    if array.ndim != 1:
        raise ValidationError(f"column {name} must be one value per aircraft (a 1-D array)")
    array.setflags(write=False)
    return array


def _coerce(columns: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"ids": _column("ids", columns["ids"], np.str_)}
    out["party"] = _column("party", columns["party"], np.int64)
    for name in _FLOATS:
        out[name] = _column(name, columns[name], np.float64)
    for name in _OPTIONAL:
        value = columns.get(name)
        out[name] = None if value is None else _column(name, value, np.float64)
    flags = columns.get("on_ground")
    out["on_ground"] = None if flags is None else _column("on_ground", flags, np.bool_)
    n = out["ids"].shape[0]
    for name, array in out.items():
        if array is not None and array.shape[0] != n:
            raise ValidationError(
                f"column {name} has {array.shape[0]} values but there are {n} ids; "
                "give every column one value per aircraft",
                column=name,
            )
    return out


def _range_check(
    reasons: dict[int, list[str]],
    values: FloatArray,
    bad: npt.NDArray[np.bool_],
    describe: str,
) -> None:
    for row in np.flatnonzero(bad).tolist():
        reasons.setdefault(row, []).append(describe.format(value=values[row]))


def _rejections(columns: Any) -> tuple[RowRejection, ...]:
    reasons: dict[int, list[str]] = {}
    ids: StrArray = columns.ids
    for name in _FLOATS + _OPTIONAL:
        values = getattr(columns, name)
        if values is None:
            continue
        # The optional zone columns use NaN for "the default"; infinities are still bad.
        bad = np.isinf(values) if name in _OPTIONAL else ~np.isfinite(values)
        _range_check(reasons, values, bad, f"{name} is {{value}}, not a finite number")
    with np.errstate(invalid="ignore"):
        _range_check(
            reasons,
            columns.lon,
            np.abs(columns.lon) > 180.0,
            "longitude {value} is outside [-180, 180]",
        )
        _range_check(
            reasons,
            columns.lat,
            np.abs(columns.lat) > 90.0,
            "latitude {value} is outside [-90, 90]",
        )
        _range_check(
            reasons,
            columns.alt_m,
            (columns.alt_m < MIN_ALTITUDE_M) | (columns.alt_m > MAX_ALTITUDE_M),
            f"altitude {{value}} m is outside [{MIN_ALTITUDE_M:.0f}, {MAX_ALTITUDE_M:.0f}] m",
        )
        _range_check(
            reasons,
            columns.gs_mps,
            columns.gs_mps < 0.0,
            "ground speed {value} m/s is negative; give the speed and its track separately",
        )
        _range_check(
            reasons,
            columns.gs_mps,
            columns.gs_mps > MAX_GROUND_SPEED_MPS,
            f"ground speed {{value}} m/s is above {MAX_GROUND_SPEED_MPS:.0f} m/s; "
            "speeds are metres per second",
        )
        _range_check(
            reasons,
            columns.vs_mps,
            np.abs(columns.vs_mps) > MAX_VERTICAL_SPEED_MPS,
            f"vertical speed {{value}} m/s is beyond ±{MAX_VERTICAL_SPEED_MPS:.0f} m/s; "
            "speeds are metres per second",
        )
        for name in ("rpz_m", "hpz_m"):
            values = getattr(columns, name)
            if values is not None:
                _range_check(
                    reasons, values, values <= 0.0, f"{name} {{value}} must be positive metres"
                )
        for name in ("quantum_m", "level_vs_mps"):
            values = getattr(columns, name)
            if values is not None:
                _range_check(reasons, values, values < 0.0, f"{name} {{value}} must be 0 or more")
    for row in np.flatnonzero(np.char.str_len(ids) == 0).tolist():
        reasons.setdefault(row, []).append("id is empty")
    for row, first in _duplicates(ids):
        reasons.setdefault(row, []).append(f"id {str(ids[row])!r} repeats row {first}")
    return tuple(
        RowRejection(row, str(ids[row]), "; ".join(reasons[row])) for row in sorted(reasons)
    )


def _duplicates(ids: StrArray) -> list[tuple[int, int]]:
    """(row, first row with the same id) for every repeat after the first."""
    if ids.shape[0] < 2:
        return []
    order = np.argsort(ids, kind="stable")
    ordered = ids[order]
    repeat = np.flatnonzero(ordered[1:] == ordered[:-1]) + 1
    if repeat.size == 0:
        return []
    group_start = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    first_of = group_start[np.searchsorted(group_start, repeat, side="right") - 1]
    return sorted(zip(order[repeat].tolist(), order[first_of].tolist(), strict=True))


def _summary(rejections: Sequence[RowRejection]) -> str:
    shown = "; ".join(f"row {r.row} (id {r.id!r}): {r.reason}" for r in rejections[:_SHOWN_ROWS])
    more = len(rejections) - _SHOWN_ROWS
    tail = f"; and {more} more" if more > 0 else ""
    return (
        f"{len(rejections)} aircraft state(s) are invalid: {shown}{tail}. "
        "Fix or drop these rows (accept_rows keeps the valid ones)"
    )


@dataclass(frozen=True)
class _Columns:
    ids: StrArray
    party: IntArray
    lon: FloatArray
    lat: FloatArray
    alt_m: FloatArray
    gs_mps: FloatArray
    trk_deg: FloatArray
    vs_mps: FloatArray
    rpz_m: FloatArray | None
    hpz_m: FloatArray | None
    floor_m: FloatArray | None
    on_ground: BoolArray | None
    quantum_m: FloatArray | None
    level_vs_mps: FloatArray | None


def row_rejections(
    *,
    ids: npt.ArrayLike,
    party: npt.ArrayLike,
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    alt_m: npt.ArrayLike,
    gs_mps: npt.ArrayLike,
    trk_deg: npt.ArrayLike,
    vs_mps: npt.ArrayLike,
    rpz_m: npt.ArrayLike | None = None,
    hpz_m: npt.ArrayLike | None = None,
    floor_m: npt.ArrayLike | None = None,
    on_ground: npt.ArrayLike | None = None,
    quantum_m: npt.ArrayLike | None = None,
    level_vs_mps: npt.ArrayLike | None = None,
) -> tuple[RowRejection, ...]:
    """Every row that :class:`TrafficState` would refuse, and why (empty when all are good).

    A column that cannot be read at all (text among numbers, wrong length) raises
    :class:`~deconfliction.errors.ValidationError`: no row of it can be judged.
    """
    columns = _coerce(dict(locals()))
    return _rejections(_Columns(**columns))


def accept_rows(
    *,
    ids: npt.ArrayLike,
    party: npt.ArrayLike,
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    alt_m: npt.ArrayLike,
    gs_mps: npt.ArrayLike,
    trk_deg: npt.ArrayLike,
    vs_mps: npt.ArrayLike,
    rpz_m: npt.ArrayLike | None = None,
    hpz_m: npt.ArrayLike | None = None,
    floor_m: npt.ArrayLike | None = None,
    on_ground: npt.ArrayLike | None = None,
    quantum_m: npt.ArrayLike | None = None,
    level_vs_mps: npt.ArrayLike | None = None,
) -> tuple[TrafficState, tuple[RowRejection, ...]]:
    """The state of the valid rows, and the rejection of every other row.

    Of rows that repeat an id, the first is kept (if otherwise valid) and the later
    ones are rejected.
    """
    columns = _coerce(dict(locals()))
    rejections = _rejections(_Columns(**columns))
    keep = np.ones(columns["ids"].shape[0], dtype=bool)
    keep[[r.row for r in rejections]] = False
    return TrafficState(**{k: _pick(v, keep) for k, v in columns.items()}), rejections

"""Volume4D and the exact 4D conflict test.

Two volumes conflict when their footprints overlap (or come closer than a horizontal
buffer), their altitude bands overlap (or come closer than a vertical buffer) and their
time windows overlap. **Touching is adjacent, not conflicting**: a shared edge, an equal
altitude limit or back-to-back windows are how airspace is stacked, so only a positive
overlap counts. Tolerances are explicit: an overlap of less than
:data:`AREA_TOLERANCE_M2` or a band overlap of less than :data:`ALTITUDE_TOLERANCE_M`
is taken as touching (floating-point noise, not airspace).

>>> from datetime import UTC, datetime
>>> box = lambda x0: Footprint.polygon([(x0, 0), (x0 + 1, 0), (x0 + 1, 1), (x0, 1), (x0, 0)])
>>> t0, t1 = datetime(2026, 1, 1, 8, tzinfo=UTC), datetime(2026, 1, 1, 9, tzinfo=UTC)
>>> a = Volume4D(box(0), 0.0, 3000.0, t0, t1)
>>> overlap(a, Volume4D(box(1), 0.0, 3000.0, t0, t1)) is None   # shared edge
True
>>> overlap(a, Volume4D(box(0.5), 3000.0, 6000.0, t0, t1)) is None   # stacked
True
>>> o = overlap(a, Volume4D(box(0.5), 2000.0, 6000.0, t0, t1))
>>> (o.lower_m, o.upper_m, round(o.footprint.area, 3))
(2000.0, 3000.0, 0.5)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import shapely
from shapely.geometry import LineString, Point
from shapely.geometry.base import BaseGeometry

from deconfliction.core.earth import LocalPlane
from deconfliction.core.footprint import Footprint
from deconfliction.core.units import MAX_ALTITUDE_M, MIN_ALTITUDE_M
from deconfliction.errors import AltitudeError, TimeWindowError, ValidationError

__all__ = [
    "ALTITUDE_TOLERANCE_M",
    "AREA_TOLERANCE_M2",
    "MAX_ALTITUDE_M",
    "MIN_ALTITUDE_M",
    "Buffers",
    "Overlap",
    "Volume4D",
    "overlap",
    "overlaps",
]

AREA_TOLERANCE_M2 = 1.0
ALTITUDE_TOLERANCE_M = 0.001
_METRES_PER_DEGREE = 111_320.0
_DENSIFY_DEG = 0.05


def _utc(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise TimeWindowError(f"{name} must be a date and time, not {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise TimeWindowError(
            f"{name} {value.isoformat()} has no time zone; give it in UTC, e.g. "
            f"{value.isoformat()}Z"
        )
    return value.astimezone(UTC)


@dataclass(frozen=True, eq=False)
class Volume4D:
    """A footprint, an altitude band ``[lower_m, upper_m]`` (metres above mean sea
    level) and a time window ``[start, end)`` in UTC.

    ``floor_m``: where an authority's standing zone says so, the ground elevation under
    the volume (metres, in the feeds' altitude reference), at or below ``lower_m``;
    the tracks service predicts no aircraft below it (see
    :mod:`deconfliction.tracks.floors`). It takes no part in conflict tests.
    """

    footprint: Footprint
    lower_m: float
    upper_m: float
    start: datetime
    end: datetime
    floor_m: float | None = None

    def __post_init__(self) -> None:
        names = (
            ("lower_m", "upper_m") if self.floor_m is None else ("lower_m", "upper_m", "floor_m")
        )
        for name in names:
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
            ):
                raise AltitudeError(f"{name} must be a finite number of metres, not {value!r}")
            if not MIN_ALTITUDE_M <= value <= MAX_ALTITUDE_M:
                raise AltitudeError(
                    f"{name} {value} m is outside [{MIN_ALTITUDE_M:.0f}, {MAX_ALTITUDE_M:.0f}] m; "
                    "altitudes are metres above mean sea level"
                )
            object.__setattr__(self, name, float(value))
        if self.lower_m >= self.upper_m:
            raise AltitudeError(
                f"lower_m {self.lower_m} is not below upper_m {self.upper_m}; "
                "the band needs lower_m < upper_m"
            )
        if self.floor_m is not None and self.floor_m > self.lower_m:
            raise AltitudeError(
                f"floor_m {self.floor_m} is above lower_m {self.lower_m}; the floor is the "
                "ground under the volume: give it at or below the lower limit"
            )
        start = _utc(self.start, "start")
        end = _utc(self.end, "end")
        if end <= start:
            raise TimeWindowError(
                f"end {end.isoformat()} is not after start {start.isoformat()}; "
                "the window is [start, end) and needs end > start"
            )
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)


@dataclass(frozen=True)
class Buffers:
    """Extra separation demanded between volumes, metres (0 means: only true overlap)."""

    horizontal_m: float = 0.0
    vertical_m: float = 0.0

    def __post_init__(self) -> None:
        for name in ("horizontal_m", "vertical_m"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not 0.0 <= value < math.inf
            ):
                raise ValidationError(
                    f"buffer {name} must be zero or a positive, finite number of metres, "
                    f"not {value!r}"
                )


@dataclass(frozen=True)
class Overlap:
    """Where two volumes meet: what either side may be told of the other.

    ``footprint`` is the intersection of the two footprints (lon/lat); when they meet
    only through a horizontal buffer it is the shortest line between them. The band and
    the window are the shared ones; through a vertical buffer the band is the gap
    between the two bands.
    """

    footprint: BaseGeometry
    lower_m: float
    upper_m: float
    start: datetime
    end: datetime


def _band(a: Volume4D, b: Volume4D, vertical_m: float) -> tuple[float, float] | None:
    lo = max(a.lower_m, b.lower_m)
    hi = min(a.upper_m, b.upper_m)
    if hi - lo > ALTITUDE_TOLERANCE_M:
        return lo, hi
    if vertical_m > 0 and lo - hi < vertical_m - ALTITUDE_TOLERANCE_M:
        return min(lo, hi), max(lo, hi)
    return None


def _area_m2(shape: BaseGeometry) -> float:
    """Area of a lon/lat shape in m², scaled at its centroid (ample for a tolerance test)."""
    lat = shape.centroid.y if not shape.is_empty else 0.0
    return float(shape.area) * _METRES_PER_DEGREE**2 * math.cos(math.radians(lat))


def _horizontal(a: Footprint, b: Footprint, horizontal_m: float) -> BaseGeometry | None:
    inter = a.shape.intersection(b.shape)
    if not inter.is_empty and _area_m2(inter) > AREA_TOLERANCE_M2:
        return shapely.normalize(inter)
    if horizontal_m <= 0:
        return None
    (x0, y0), (x1, y1) = shapely.shortest_line(a.shape, b.shape).coords
    plane = LocalPlane((x0 + x1) / 2.0, (y0 + y1) / 2.0)
    pa, pb = (_projected(f.shape, plane) for f in (a, b))
    if shapely.distance(pa, pb) < horizontal_m - ALTITUDE_TOLERANCE_M:
        return LineString([Point(x0, y0), Point(x1, y1)])
    return None


def _projected(shape: BaseGeometry, plane: LocalPlane) -> BaseGeometry:
    dense = shapely.segmentize(shape, _DENSIFY_DEG)

    def transform(coords: np.ndarray) -> np.ndarray:
        x, y = plane.to_xy(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(dense, transform)


def overlap(a: Volume4D, b: Volume4D, buffers: Buffers | None = None) -> Overlap | None:
    """Where ``a`` and ``b`` conflict, or ``None`` when they are apart or only touch."""
    buffers = buffers or Buffers()
    start = max(a.start, b.start)
    end = min(a.end, b.end)
    if end <= start:
        return None
    band = _band(a, b, buffers.vertical_m)
    if band is None:
        return None
    shape = _horizontal(a.footprint, b.footprint, buffers.horizontal_m)
    if shape is None:
        return None
    return Overlap(shape, band[0], band[1], start, end)


def overlaps(
    volume: Volume4D, candidates: Sequence[Volume4D], buffers: Buffers | None = None
) -> list[tuple[int, Overlap]]:
    """Every candidate that conflicts with ``volume``, as (candidate index, overlap)."""
    found = []
    for index, other in enumerate(candidates):
        result = overlap(volume, other, buffers)
        if result is not None:
            found.append((index, result))
    return found

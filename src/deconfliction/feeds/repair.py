"""Outlines that cross themselves, repaired when the repair hardly changes the area.

Real airspace files carry rings that cross themselves between vertices: in the
Slovenian file, eight TMAs of 658 to 9,734 km² whose boundaries run back over
themselves where they follow the border, making loops of 0.007 to 0.8 km². OGC
validity refuses such a ring, and so does :meth:`Footprint.polygon`; the meaning is
plain, though, and dropping the whole TMA is worse than dropping the sliver.

:func:`repair_polygon` makes the ring valid (shapely's ``make_valid``, keeping only its
polygonal part) and offers two readings: the **union** of the parts, when they form one
polygon, and the **largest part**. It keeps the one whose area is closer to the area the
outline encloses as drawn (its winding area: a loop drawn the wrong way round counts
negative, as in the shoelace formula), and accepts it only when the change is within
*both* limits of the :class:`RepairPolicy` (by default under 1 % of the area *and*
under 1 km²): a small change on a small zone can be a large share of it, and a small
share of an FIR can be a large area. Anything else is refused with the reason.

>>> bow = [(0, 0), (0.1, 0), (0.1, 0.1), (0.05, 0.1), (0.05, 0.101), (0.051, 0.099), (0, 0.1)]
>>> ring = [*bow, (0, 0)]
>>> try:
...     Footprint.polygon(ring)
... except GeometryError as refusal:
...     footprint, repair = repair_polygon(ring, [], refusal, RepairPolicy())
>>> repair.kept, round(repair.changed_m2 / 1e6, 4) < 0.01
('largest part', True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import shapely
from pyproj import Geod
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from deconfliction.core.footprint import Footprint, FootprintLimits
from deconfliction.errors import GeometryError

__all__ = [
    "DEFAULT_REPAIR_MAX_FRACTION",
    "DEFAULT_REPAIR_MAX_M2",
    "Repair",
    "RepairPolicy",
    "repair_polygon",
]

DEFAULT_REPAIR_MAX_FRACTION = 0.01
"""A repair may change a zone's area by less than this share of it (1 %) ..."""

DEFAULT_REPAIR_MAX_M2 = 1e6
"""... and by less than this many square metres (1 km²): both must hold."""

_WGS84 = Geod(ellps="WGS84")

Ring = Sequence[Sequence[float]]


@dataclass(frozen=True)
class RepairPolicy:
    """How much area a repair may change: under ``max_fraction`` of the drawn area and
    under ``max_m2`` square metres, both."""

    max_fraction: float = DEFAULT_REPAIR_MAX_FRACTION
    max_m2: float = DEFAULT_REPAIR_MAX_M2


@dataclass(frozen=True)
class Repair:
    """What a repair did: the problem it fixed (the refusal, without its advice), which
    reading it ``kept`` (``"union"`` or ``"largest part"``) of how many ``parts``, and
    the geodesic areas, m², of the outline as drawn (winding area) and as kept."""

    problem: str
    kept: str
    parts: int
    drawn_m2: float
    kept_m2: float

    @property
    def changed_m2(self) -> float:
        """Area added or removed by the repair, m²."""
        return abs(self.kept_m2 - self.drawn_m2)

    @property
    def changed_fraction(self) -> float:
        """:attr:`changed_m2` as a share of the drawn area (1.0 when nothing was drawn)."""
        return self.changed_m2 / self.drawn_m2 if self.drawn_m2 > 0 else 1.0

    def __str__(self) -> str:
        return (
            f"{self.problem}; kept the {self.kept} of {self.parts} "
            f"({self.kept_m2 / 1e6:,.2f} km²), area changed by {self.changed_m2 / 1e6:,.3f} km² "
            f"({self.changed_fraction:.3%})"
        )


def _winding_area_m2(exterior: Ring, holes: Sequence[Ring]) -> float:
    """The geodesic area a ring encloses as drawn, loops the wrong way round negative,
    less its holes: what the author of the outline meant, crossings and all."""

    def signed(ring: Ring) -> float:
        lons = [float(p[0]) for p in ring]
        lats = [float(p[1]) for p in ring]
        area, _ = _WGS84.polygon_area_perimeter(lons, lats)
        return float(area)

    outer = signed(exterior)
    inner = sum(abs(signed(h)) for h in holes)
    return abs(outer) - inner


def _area_m2(shape: BaseGeometry) -> float:
    area, _ = _WGS84.geometry_area_perimeter(shape)
    return abs(float(area))


def _polygons(shape: BaseGeometry) -> list[Polygon]:
    """The polygonal parts of a ``make_valid`` result (lines and points dropped)."""
    if isinstance(shape, Polygon):
        return [shape] if not shape.is_empty else []
    if isinstance(shape, MultiPolygon):
        return list(shape.geoms)
    parts = getattr(shape, "geoms", ())
    return [p for part in parts for p in _polygons(part)]


def repair_polygon(
    exterior: Ring,
    holes: Sequence[Ring],
    refusal: GeometryError,
    policy: RepairPolicy,
    limits: FootprintLimits | None = None,
) -> tuple[Footprint, Repair]:
    """A valid footprint for rings that :meth:`Footprint.polygon` refused with
    ``refusal``, and the repair made. Raises :class:`GeometryError` with the refusal and
    why it was not repaired, when no reading is within ``policy``."""
    problem = refusal.message.split(";")[0]
    try:
        shape = Polygon(exterior, holes)
    except (ValueError, TypeError, shapely.errors.GEOSException):
        raise refusal from None
    if shape.is_valid:  # refused for something make_valid cannot help (size, vertices)
        raise refusal
    parts = [p for p in _polygons(shapely.make_valid(shape)) if p.area > 0]
    if not parts:
        raise GeometryError(f"{problem}; it encloses no area that a repair could keep")
    drawn = _winding_area_m2(exterior, holes)
    readings: list[tuple[str, Polygon]] = []
    union = shapely.union_all(parts)
    if isinstance(union, Polygon):
        readings.append(("union", union))
    readings.append(("largest part", max(parts, key=lambda p: p.area)))
    repairs = [
        (Repair(problem, kept, len(parts), drawn, _area_m2(polygon)), polygon)
        for kept, polygon in readings
    ]
    repair, polygon = min(repairs, key=lambda item: item[0].changed_m2)
    if repair.changed_fraction >= policy.max_fraction or repair.changed_m2 >= policy.max_m2:
        raise GeometryError(
            f"{problem}; a repair would change its area by {repair.changed_m2 / 1e6:,.3f} "
            f"km² ({repair.changed_fraction:.2%}), not under both {policy.max_fraction:.2%} "
            f"and {policy.max_m2 / 1e6:g} km²; fix the outline, or allow more with "
            "--repair-max-percent and --repair-max-km2"
        )
    rings = [list(polygon.exterior.coords), *(list(r.coords) for r in polygon.interiors)]
    return Footprint.polygon(rings[0], rings[1:], limits), repair

"""The cell index, the coarse pass: H3 cells that cover a footprint, whole.

A volume is indexed at one H3 level (:data:`LEVELS`), the finest at which its footprint
spans about :data:`TARGET_CELLS` cells or fewer, so small volumes get fine cells and
large ones few coarse cells. A search covers the query footprint at *every* level, so
it meets each stored volume at that volume's own level.

The covering must contain the footprint, not its centroids: H3 draws cell edges as
great-circle arcs while our footprint edges are straight in lon/lat, so the footprint
is grown by :data:`MARGIN_FRACTION` of the level's edge length before H3's
overlap-containment fill. The coarse pass may over-select, never under-select.

>>> from deconfliction.core.footprint import Footprint
>>> f = Footprint.circle_at(8.55, 47.45, 5_000)
>>> level_for(f)
7
>>> len(covering(f, 7)) > 10
True
"""

from __future__ import annotations

import math
from datetime import datetime

import h3.api.basic_int as h3
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from deconfliction.core.footprint import Footprint

__all__ = [
    "LEVELS",
    "MARGIN_FRACTION",
    "SPAN_BOUNDS_S",
    "TARGET_CELLS",
    "covering",
    "index_cells",
    "level_for",
    "query_cells",
    "span_class",
]

LEVELS = (3, 5, 7)
TARGET_CELLS = 16
MARGIN_FRACTION = 0.25
SPAN_BOUNDS_S: tuple[float, ...] = (
    3_600.0,
    6 * 3_600.0,
    24 * 3_600.0,
    7 * 86_400.0,
    31 * 86_400.0,
    366 * 86_400.0,
    math.inf,
)
_METRES_PER_DEGREE = 111_320.0
_AREA_M2 = {level: h3.average_hexagon_area(level, "m^2") for level in LEVELS}
_EDGE_M = {level: h3.average_hexagon_edge_length(level, "m") for level in LEVELS}


def level_for(footprint: Footprint) -> int:
    """The finest level at which the footprint spans about TARGET_CELLS cells or fewer."""
    area = footprint.area_m2
    for level in reversed(LEVELS):
        if area / _AREA_M2[level] <= TARGET_CELLS:
            return level
    return LEVELS[0]


def grown(shape: BaseGeometry, metres: float) -> BaseGeometry:
    """The shape grown by at least ``metres`` in every direction (lon/lat degrees)."""
    if metres <= 0:
        return shape
    _, min_lat, _, max_lat = shape.bounds
    widest = min(max(abs(min_lat), abs(max_lat)) + metres / _METRES_PER_DEGREE, 89.0)
    degrees = metres / (_METRES_PER_DEGREE * math.cos(math.radians(widest)))
    return shape.buffer(degrees, quad_segs=4)


def covering(footprint: Footprint | BaseGeometry, level: int, margin_m: float = 0.0) -> list[int]:
    """H3 cells (integers) at ``level`` that contain the footprint grown by ``margin_m``."""
    shape = footprint.shape if isinstance(footprint, Footprint) else footprint
    shape = grown(shape, margin_m + MARGIN_FRACTION * _EDGE_M[level])
    polygons = list(shape.geoms) if hasattr(shape, "geoms") else [shape]
    cells: set[int] = set()
    for polygon in polygons:
        if not isinstance(polygon, Polygon) or polygon.is_empty:
            continue
        clipped = shapely.clip_by_rect(polygon, -180.0, -90.0, 180.0, 90.0)
        if clipped.is_empty:
            continue
        h3shape = h3.geo_to_h3shape(clipped.__geo_interface__)
        cells.update(h3.h3shape_to_cells_experimental(h3shape, level, contain="overlap"))
    return sorted(cells)


def index_cells(footprint: Footprint) -> list[int]:
    """The cells under which a stored footprint is indexed (at its own level)."""
    return covering(footprint, level_for(footprint))


def query_cells(footprint: Footprint, margin_m: float = 0.0) -> list[int]:
    """The cells a search for the footprint (grown by ``margin_m``) looks up, all levels."""
    cells: list[int] = []
    for level in LEVELS:
        cells.extend(covering(footprint, level, margin_m))
    return cells


def span_class(start: datetime, end: datetime) -> int:
    """Index of the smallest bound in SPAN_BOUNDS_S that the window's length fits."""
    length = (end - start).total_seconds()
    return next(k for k, bound in enumerate(SPAN_BOUNDS_S) if length <= bound)

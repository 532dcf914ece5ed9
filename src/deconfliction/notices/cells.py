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
from collections.abc import Iterator
from datetime import datetime

import h3.api.basic_int as h3
import shapely
from shapely import affinity
from shapely.geometry import Polygon, box
from shapely.geometry.base import BaseGeometry

from deconfliction.core.footprint import Footprint

__all__ = [
    "LEVELS",
    "MARGIN_FRACTION",
    "SPAN_BOUNDS_S",
    "TARGET_CELLS",
    "covering",
    "coverings",
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
_MIN_METRES_PER_DEGREE = 110_574.0  # a degree of latitude at the equator, WGS-84
_QUAD_SEGS = 8
# GEOS rounds a corner's turn to a whole number of steps of pi / (2 quad_segs), so one
# step may span up to 1.5 of them: its chord falls short of the arc by this factor.
_CHORD_FACTOR = math.cos(0.75 * math.pi / (2 * _QUAD_SEGS))
_POLAR_LAT = 89.0
_SIMPLIFY_FRACTION = 0.25  # of the growth: how far a simplified outline may stray
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
    """The shape grown by at least ``metres`` (geodesic) in every direction, in lon/lat.

    Degrees are counted at their shortest on WGS-84 (a degree of latitude is 110,574 m at
    the equator, a degree of longitude at most that times the cosine of the latitude), and
    the rounded corners are drawn outside the true arcs, so the result never falls short.
    Longitudes may run past ±180 (:func:`covering` wraps them). A shape that comes near a
    pole grows into the whole band of latitudes it reaches, all longitudes round.
    """
    if metres <= 0:
        return shape
    lat_deg = metres / _MIN_METRES_PER_DEGREE / _CHORD_FACTOR
    _, min_lat, _, max_lat = shape.bounds
    widest = max(abs(min_lat), abs(max_lat)) + lat_deg
    if widest >= _POLAR_LAT:
        return box(-180.0, max(min_lat - lat_deg, -90.0), 180.0, min(max_lat + lat_deg, 90.0))
    # Squeeze longitudes so that a degree either way is as long, buffer, stretch back.
    # The outline is simplified first, to within ``slack`` of itself, and grown by that
    # much more: the result still holds everything the full outline grown would, with
    # far fewer vertices for the buffer and H3 to work through (a circle has hundreds).
    squeeze = math.cos(math.radians(widest))
    narrow = affinity.scale(shape, xfact=squeeze, yfact=1.0, origin=(0.0, 0.0))
    slack = _SIMPLIFY_FRACTION * lat_deg
    wide = _simplified(narrow, slack).buffer(lat_deg + slack, quad_segs=_QUAD_SEGS)
    return affinity.scale(wide, xfact=1.0 / squeeze, yfact=1.0, origin=(0.0, 0.0))


def _simplified(shape: BaseGeometry, slack: float) -> BaseGeometry:
    """``shape`` simplified so that every point of it lies within ``slack`` of the result,
    or ``shape`` itself. GEOS's simplification may stray further on a ring (hypothesis
    found a notch 0.21 degree from an outline simplified to 0.13), so the result is
    checked on the outline's points ``slack / 4`` apart: each within ``0.75 slack`` of
    it, every point between within ``slack / 8`` more."""
    probes = shapely.points(shapely.get_coordinates(shapely.segmentize(shape, slack / 4.0)))
    for keep_topology in (False, True):  # the first is ten times faster, the second
        # never collapses a small shape or cuts one across itself
        outline = shapely.simplify(shape, slack, preserve_topology=keep_topology)
        if outline.is_empty or not shapely.is_valid(outline):
            continue
        if float(shapely.distance(outline, probes).max()) <= 0.75 * slack:
            return outline
    return shape


def covering(footprint: Footprint | BaseGeometry, level: int, margin_m: float = 0.0) -> list[int]:
    """H3 cells (integers) at ``level`` that contain the footprint grown by ``margin_m``."""
    shape = footprint.shape if isinstance(footprint, Footprint) else footprint
    shape = grown(shape, margin_m + MARGIN_FRACTION * _EDGE_M[level])
    cells: set[int] = set()
    for polygon in _pieces(shape):
        h3shape = h3.LatLngPoly(
            *(_lat_lng(ring) for ring in (polygon.exterior, *polygon.interiors))
        )
        cells.update(h3.h3shape_to_cells_experimental(h3shape, level, contain="overlap"))
    return sorted(cells)


def _lat_lng(ring: BaseGeometry) -> list[tuple[float, float]]:
    """A ring's vertices as H3 takes them: (lat, lng) pairs."""
    return [(lat, lng) for lng, lat in shapely.get_coordinates(ring).tolist()]


def _pieces(shape: BaseGeometry) -> Iterator[Polygon]:
    """The shape as polygons H3 reads as meant: within ±180° (what lies past it wrapped
    round) and at most 90° of longitude wide each (H3 takes a polygon wider than 180° to
    cross the antimeridian)."""
    min_lon, _, max_lon, _ = shape.bounds
    strips = [shape]
    if min_lon < -180.0 or max_lon > 180.0 or max_lon - min_lon > 90.0:
        strips = []
        west = math.floor(min_lon / 90.0) * 90.0
        while west < max_lon:
            shift = -360.0 if west >= 180.0 else 360.0 if west < -180.0 else 0.0
            strip = shape.intersection(box(west, -90.0, west + 90.0, 90.0))
            strips.append(affinity.translate(strip, xoff=shift))
            west += 90.0
    for strip in strips:
        for part in getattr(strip, "geoms", [strip]):
            if isinstance(part, Polygon) and not part.is_empty:
                yield part


def index_cells(footprint: Footprint) -> list[int]:
    """The cells under which a stored footprint is indexed (at its own level)."""
    return covering(footprint, level_for(footprint))


def query_cells(footprint: Footprint, margin_m: float = 0.0) -> list[int]:
    """The cells a search for the footprint (grown by ``margin_m``) looks up, all levels."""
    cells: list[int] = []
    for level in LEVELS:
        cells.extend(covering(footprint, level, margin_m))
    return cells


def coverings(footprint: Footprint, margin_m: float = 0.0) -> tuple[list[int], list[int]]:
    """``(query_cells(footprint, margin_m), index_cells(footprint))``, each covering made
    once: with no margin, a search looks up at the footprint's own level the very cells
    it is indexed under."""
    by_level = {level: covering(footprint, level, margin_m) for level in LEVELS}
    own = level_for(footprint)
    indexed = by_level[own] if margin_m <= 0 else covering(footprint, own)
    return [cell for level in LEVELS for cell in by_level[level]], indexed


def span_class(start: datetime, end: datetime) -> int:
    """Index of the smallest bound in SPAN_BOUNDS_S that the window's length fits."""
    length = (end - start).total_seconds()
    return next(k for k, bound in enumerate(SPAN_BOUNDS_S) if length <= bound)

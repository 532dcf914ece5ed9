"""The outline a party is told of where two volumes meet: few vertices, never less.

The exact intersection of two footprints has as many vertices as both have near it: two
circles drawn within a metre meet in a lens of hundreds. Told as it is, that outline
is written into a conflict, its alerts, their events and journal entries, and read by
clients who need to know where to stay clear of, not every vertex of it.

:func:`told_outline` gives instead an outline that **contains** the intersection and
lies within :func:`tolerance_m` of it (a thousandth of its extent, at least a metre):
conservative, as separation must be. Its coordinates are rounded to 1e-7 degrees
(about a centimetre), a rounding the containment allows for. An intersection of up to
:data:`EXACT_VERTICES` vertices (two boxes, say) is told exactly, as it is.

>>> from shapely.geometry import Point
>>> lens = Point(8.0, 47.0).buffer(0.2, 256).intersection(Point(8.2, 47.0).buffer(0.2, 256))
>>> told = told_outline(lens)
>>> told.covers(lens), len(lens.exterior.coords) > 200, len(told.exterior.coords) < 80
(True, True, True)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

__all__ = [
    "DECIMALS",
    "EXACT_VERTICES",
    "RELATIVE_TOLERANCE",
    "geojson",
    "told_outline",
    "tolerance_m",
]

RELATIVE_TOLERANCE = 0.001
"""How far a told outline may reach beyond the intersection, as a share of its extent."""
MIN_TOLERANCE_M = 1.0
EXACT_VERTICES = 32
"""An outline of this many vertices or fewer is told exactly."""
DECIMALS = 7
"""Decimal places of told coordinates (1e-7 degrees: at most 1.1 cm)."""
_METRES_PER_DEGREE = 111_320.0
_ROUNDING_DEG = 10.0**-DECIMALS  # more than a rounded vertex moves (0.71e-7 degrees)


def tolerance_m(shape: BaseGeometry) -> float:
    """How far the told outline of ``shape`` may reach beyond it, metres."""
    x0, y0, x1, y1 = shape.bounds
    extent_deg = math.hypot(x1 - x0, y1 - y0)
    return max(MIN_TOLERANCE_M, RELATIVE_TOLERANCE * extent_deg * _METRES_PER_DEGREE)


def told_outline(shape: BaseGeometry) -> BaseGeometry:
    """An outline that covers ``shape`` (lon/lat) with few vertices, within
    :func:`tolerance_m` of it; lines, points and shapes of few vertices are told as
    they are.

    The outline is simplified (Douglas-Peucker, within 0.32 of the tolerance) and
    grown back by 0.33 of it (0.6 at sharp corners), in degrees of latitude, which are
    never shorter than degrees of longitude, so the reach in metres stays within the
    tolerance. Where that does not cover the shape (a simplification may cut across a
    narrow neck) or has no fewer vertices (a sliver's cut corners), the exact shape is
    told.
    """
    if shape.is_empty or shape.geom_type not in ("Polygon", "MultiPolygon"):
        return shape
    if shapely.get_num_coordinates(shape) <= EXACT_VERTICES:
        return shapely.normalize(shape)
    tolerance_deg = tolerance_m(shape) / _METRES_PER_DEGREE
    simple = shapely.simplify(shape, 0.32 * tolerance_deg, preserve_topology=False)
    # a mitred corner reaches 1.5 times the distance out at most, then is cut square
    # there (1.8 times at the cut's ends); never nearer than the distance, so past
    # what the simplification cut off, and the rounding
    grown = shapely.buffer(
        simple, 0.33 * tolerance_deg + _ROUNDING_DEG, join_style="mitre", mitre_limit=1.5
    )
    told = shapely.transform(shapely.normalize(grown), _rounded)
    if (
        told.is_empty
        or shapely.get_num_coordinates(told) >= shapely.get_num_coordinates(shape)
        or not told.covers(shape)
    ):
        return shapely.normalize(shape)
    return told


def geojson(shape: BaseGeometry) -> dict[str, Any]:
    """``shape`` as a GeoJSON geometry, coordinates as lists (as JSON reads them back)."""
    kind = shape.geom_type
    if kind == "Polygon":
        return {"type": kind, "coordinates": _rings(shape)}
    if kind == "MultiPolygon":
        return {"type": kind, "coordinates": [_rings(part) for part in shape.geoms]}
    if kind in ("LineString", "Point"):
        coordinates = shapely.get_coordinates(shape).tolist()
        return {
            "type": kind,
            "coordinates": coordinates if kind == "LineString" else coordinates[0],
        }
    listed: dict[str, Any] = _listed(mapping(shape))
    return listed


def _rings(polygon: BaseGeometry) -> list[list[list[float]]]:
    rings = [polygon.exterior, *polygon.interiors]
    return [shapely.get_coordinates(ring).tolist() for ring in rings]


def _rounded(coordinates: np.ndarray) -> np.ndarray:
    return np.round(coordinates, DECIMALS)


def _listed(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _listed(item) for key, item in value.items()}
    if isinstance(value, tuple) and value and isinstance(value[0], float):
        return list(value)
    if isinstance(value, list | tuple):
        return [_listed(item) for item in value]
    return value

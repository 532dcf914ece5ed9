"""Footprints: the horizontal extent of a volume, validated, in lon/lat.

A footprint is either a polygon whose edges are straight in lon/lat (as RFC 7946 says
GeoJSON edges are) or a geodesic circle (a centre and a radius in metres). A circle is
carried as a polygon that contains it, with enough vertices that the polygon lies
within :data:`CIRCLE_TOLERANCE_M` of the true circle, so every test downstream works on
polygons and over-selects by at most that tolerance.

Validation says what is wrong and where, so a person can fix the input:

>>> Footprint.polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)])
Traceback (most recent call last):
...
deconfliction.errors.GeometryError: polygon ring 0 intersects itself near lon 0.5, lat 0.5; \
reorder its vertices so that its edges do not cross
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from deconfliction.core.earth import WGS84, WGS84_A, geodesic_distance_m
from deconfliction.errors import GeometryError

__all__ = [
    "CIRCLE_TOLERANCE_M",
    "DEFAULT_MAX_AREA_M2",
    "MAX_VERTICES",
    "Circle",
    "Footprint",
    "FootprintLimits",
]

MAX_VERTICES = 10_000
DEFAULT_MAX_AREA_M2 = 100_000e6  # 100,000 km²
CIRCLE_TOLERANCE_M = 1.0
_MIN_CIRCLE_VERTICES = 32
_MAX_CIRCLE_VERTICES = 4096
_CIRCLE_MARGIN_M = 1e-3


@dataclass(frozen=True)
class FootprintLimits:
    """What a footprint may be: its area and vertex count (per polygon, holes included)."""

    max_area_m2: float = DEFAULT_MAX_AREA_M2
    max_vertices: int = MAX_VERTICES


@dataclass(frozen=True)
class Circle:
    """A geodesic circle: centre (degrees) and radius (metres)."""

    lon: float
    lat: float
    radius_m: float


def _check_position(position: Any, where: str) -> tuple[float, float]:
    if not isinstance(position, Sequence) or isinstance(position, str) or len(position) < 2:
        raise GeometryError(f"{where} is not a [lon, lat] position; write it as two numbers")
    lon, lat = position[0], position[1]
    for name, value in (("longitude", lon), ("latitude", lat)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise GeometryError(f"{where} has a {name} that is not a number: {value!r}")
        if not math.isfinite(value):
            raise GeometryError(f"{where} has a {name} that is not finite: {value!r}")
    if not -180.0 <= lon <= 180.0:
        raise GeometryError(
            f"{where} has longitude {lon}, outside [-180, 180]; GeoJSON order is [lon, lat]"
        )
    if not -90.0 <= lat <= 90.0:
        raise GeometryError(
            f"{where} has latitude {lat}, outside [-90, 90]; GeoJSON order is [lon, lat]"
        )
    return float(lon), float(lat)


def _check_ring(ring: Any, index: int, max_vertices: int) -> list[tuple[float, float]]:
    name = f"polygon ring {index}"
    if not isinstance(ring, Sequence) or isinstance(ring, str):
        raise GeometryError(f"{name} is not a list of [lon, lat] positions")
    if len(ring) - 1 > max_vertices:  # a closed ring repeats its first vertex at the end
        raise GeometryError(
            f"{name} has {len(ring) - 1} vertices, more than the limit of {max_vertices}; "
            "simplify the outline"
        )
    points = [_check_position(p, f"{name}, vertex {i}") for i, p in enumerate(ring)]
    if points and points[0] != points[-1]:
        raise GeometryError(
            f"{name} is not closed: it starts at {list(points[0])} and ends at "
            f"{list(points[-1])}; repeat the first position at the end"
        )
    distinct = set(points)
    if len(distinct) < 3:
        raise GeometryError(
            f"{name} has {len(distinct)} distinct vertices; a polygon needs at least 3"
        )
    for i in range(len(points) - 1):
        if abs(points[i + 1][0] - points[i][0]) > 180.0:
            raise GeometryError(
                f"{name} crosses the antimeridian between vertices {i} and {i + 1}; "
                "split the footprint into one volume east and one west of 180°"
            )
    return points


def _circle_ring(lon: float, lat: float, radius_m: float) -> list[tuple[float, float]]:
    """Vertices (lon, lat) of a polygon that contains the geodesic circle, within tolerance.

    The vertices lie on a geodesic circle a little larger than the true one: grown first
    by the sagitta of a chord, then by however far the edges' midpoints still fall inside
    the true circle (edges straight in lon/lat bow towards the equator, which at high
    latitudes is inwards on the poleward side). There are enough vertices for both to fit
    in CIRCLE_TOLERANCE_M; should they not, the vertices are doubled and it starts again
    (up to _MAX_CIRCLE_VERTICES, beyond which containment is kept and the tolerance not).
    """
    # The sagitta of a chord, R (1 - cos(pi / n)) ~ pi^2 R / (2 n^2), and the bow of an
    # edge of length 2 pi R / n straight in lon/lat against a geodesic, about
    # pi^2 R^2 tan(lat) / (2 a n^2) at the circle's poleward latitude, within 90 % of the
    # tolerance.
    poleward = min(abs(lat) + math.degrees(radius_m / WGS84_A), 89.99)
    bow = radius_m * math.tan(math.radians(poleward)) / WGS84_A
    n = math.ceil(math.pi * math.sqrt(radius_m * (1.0 + bow) / (1.8 * CIRCLE_TOLERANCE_M)))
    n = min(max(n, _MIN_CIRCLE_VERTICES), _MAX_CIRCLE_VERTICES)
    while True:
        outer = radius_m / math.cos(math.pi / n) + _CIRCLE_MARGIN_M
        lons, lats = _circle_vertices(lon, lat, outer, n)
        while (short := radius_m - _nearest_edge_midpoint_m(lon, lat, lons, lats)) > 0:
            outer += short + _CIRCLE_MARGIN_M
            lons, lats = _circle_vertices(lon, lat, outer, n)
        if outer - radius_m <= CIRCLE_TOLERANCE_M or n == _MAX_CIRCLE_VERTICES:
            return list(zip(lons.tolist(), lats.tolist(), strict=True))
        n = min(2 * n, _MAX_CIRCLE_VERTICES)


def _circle_vertices(
    lon: float, lat: float, radius_m: float, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """n points at ``radius_m`` (geodesic) around (lon, lat); refuses pole and antimeridian."""
    azimuths = np.linspace(0.0, 360.0, n, endpoint=False)
    lons, lats, _ = WGS84.fwd(np.full(n, lon), np.full(n, lat), azimuths, np.full(n, radius_m))
    lons, lats = np.asarray(lons, dtype=np.float64), np.asarray(lats, dtype=np.float64)
    if np.abs(lats).max() >= 89.99 or np.abs(np.diff(lons, append=lons[:1])).max() > 180.0:
        raise GeometryError(
            "circle reaches a pole or crosses the antimeridian; "
            "describe the area as polygons on each side of it"
        )
    return lons, lats


def _nearest_edge_midpoint_m(lon: float, lat: float, lons: np.ndarray, lats: np.ndarray) -> float:
    """Least geodesic distance (metres) from (lon, lat) to the midpoints of the ring's edges.

    An edge comes nearest the centre about its midpoint (the edges are short and their
    ends equidistant), and the distance is flat there, so the midpoint stands for the edge.
    """
    x = (lons + np.roll(lons, -1)) / 2.0
    y = (lats + np.roll(lats, -1)) / 2.0
    return float(geodesic_distance_m(lon, lat, x, y).min())


def _geodesic_area_m2(shape: BaseGeometry) -> float:
    area, _ = WGS84.geometry_area_perimeter(shape)
    return abs(float(area))


@dataclass(frozen=True, eq=False)
class Footprint:
    """A validated horizontal extent. ``shape`` is a shapely polygon in lon/lat."""

    shape: Polygon
    circle: Circle | None = None

    @classmethod
    def polygon(
        cls,
        exterior: Sequence[Sequence[float]],
        holes: Sequence[Sequence[Sequence[float]]] = (),
        limits: FootprintLimits | None = None,
    ) -> Footprint:
        """A polygon footprint from closed rings of (lon, lat) positions."""
        limits = limits or FootprintLimits()
        rings = [_check_ring(r, i, limits.max_vertices) for i, r in enumerate([exterior, *holes])]
        total = sum(len(r) - 1 for r in rings)
        if total > limits.max_vertices:
            raise GeometryError(
                f"polygon has {total} vertices in all, more than the limit of "
                f"{limits.max_vertices}; simplify the outline"
            )
        shape = Polygon(rings[0], rings[1:])
        if not shape.is_valid:
            raise GeometryError(_explain_invalid(shape, rings))
        return cls._checked(shape, None, limits)

    @classmethod
    def circle_at(
        cls, lon: float, lat: float, radius_m: float, limits: FootprintLimits | None = None
    ) -> Footprint:
        """A geodesic circle footprint, carried as a polygon that contains it."""
        limits = limits or FootprintLimits()
        lon, lat = _check_position([lon, lat], "circle centre")
        if isinstance(radius_m, bool) or not isinstance(radius_m, int | float):
            raise GeometryError(f"circle radius_m is not a number: {radius_m!r}")
        if not math.isfinite(radius_m) or radius_m <= 0:
            raise GeometryError(
                f"circle radius_m must be a positive number of metres, not {radius_m}"
            )
        if math.pi * radius_m**2 > limits.max_area_m2:
            raise GeometryError(
                f"circle of radius {radius_m:.0f} m covers {math.pi * radius_m**2 / 1e6:,.0f} km², "
                f"more than the limit of {limits.max_area_m2 / 1e6:,.0f} km²; "
                "file a smaller volume"
            )
        shape = Polygon(_circle_ring(lon, lat, float(radius_m)))
        return cls._checked(shape, Circle(lon, lat, float(radius_m)), limits)

    @classmethod
    def _checked(cls, shape: Polygon, circle: Circle | None, limits: FootprintLimits) -> Footprint:
        if circle is None and (area := _geodesic_area_m2(shape)) > limits.max_area_m2:
            raise GeometryError(
                f"footprint covers {area / 1e6:,.0f} km², more than the limit of "
                f"{limits.max_area_m2 / 1e6:,.0f} km²; file smaller volumes"
            )
        shapely.prepare(shape)
        return cls(shape=shape, circle=circle)

    @classmethod
    def from_geojson(
        cls,
        geometry: Mapping[str, Any],
        radius_m: float | None = None,
        limits: FootprintLimits | None = None,
    ) -> Footprint:
        """A footprint from a GeoJSON ``Polygon``, or a ``Point`` with ``radius_m``."""
        kind = geometry.get("type")
        coordinates = geometry.get("coordinates")
        if kind == "Polygon":
            if radius_m is not None:
                raise GeometryError("radius_m applies to a Point footprint, not a Polygon")
            if (
                not isinstance(coordinates, Sequence)
                or isinstance(coordinates, str)
                or not coordinates
            ):
                raise GeometryError("Polygon coordinates must be a list of rings")
            return cls.polygon(coordinates[0], coordinates[1:], limits)
        if kind == "Point":
            if radius_m is None:
                raise GeometryError(
                    "a Point footprint needs radius_m, the circle's radius in metres"
                )
            lon, lat = _check_position(coordinates, "Point coordinates")
            return cls.circle_at(lon, lat, radius_m, limits)
        raise GeometryError(
            f"footprint geometry type {kind!r} is not supported; "
            "use Polygon, or Point with radius_m"
        )

    def to_geojson(self) -> dict[str, Any]:
        """GeoJSON geometry: the circle as a Point (radius separately), else the Polygon."""
        if self.circle is not None:
            return {"type": "Point", "coordinates": [self.circle.lon, self.circle.lat]}
        return dict(shapely.geometry.mapping(self.shape))

    @property
    def radius_m(self) -> float | None:
        return None if self.circle is None else self.circle.radius_m

    @property
    def area_m2(self) -> float:
        """Geodesic area of the footprint, square metres."""
        if self.circle is not None:
            return math.pi * self.circle.radius_m**2
        return _geodesic_area_m2(self.shape)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(min lon, min lat, max lon, max lat) of the carried polygon."""
        b = self.shape.bounds
        return (b[0], b[1], b[2], b[3])


def _explain_invalid(shape: Polygon, rings: list[list[tuple[float, float]]]) -> str:
    """What makes a polygon of valid positions invalid, which ring, and where."""
    for i, ring in enumerate(rings):
        if shapely.MultiPoint(ring).convex_hull.area == 0.0:
            return (
                f"polygon ring {i} encloses no area: its vertices lie on one line; "
                "give it at least 3 vertices that are not in a line"
            )
        if not shapely.LinearRing(ring).is_simple:
            where = _near(shapely.is_valid_reason(Polygon(ring)))
            return (
                f"polygon ring {i} intersects itself{where}; reorder its vertices so that "
                "its edges do not cross"
            )
    reason = shapely.is_valid_reason(shape)
    where = _near(reason)
    outer = Polygon(rings[0])
    if reason.startswith("Hole lies outside shell"):
        j = next(j for j in range(1, len(rings)) if not outer.covers(Polygon(rings[j])))
        return (
            f"polygon hole (ring {j}) lies outside the outer ring{where}; holes must be inside it"
        )
    if reason.startswith("Holes are nested"):
        return f"a polygon hole lies inside another hole{where}; drop the inner one"
    if reason.startswith("Interior is disconnected"):
        return f"the polygon's holes cut it in pieces{where}; file the pieces as separate volumes"
    if reason.startswith("Self-intersection"):
        i, j = _meeting_rings(rings, reason)
        if i == 0:
            return (
                f"polygon hole (ring {j}) crosses or runs along the outer ring{where}; "
                "a hole must lie inside the outer ring, touching it at one point at most"
            )
        return (
            f"polygon holes (rings {i} and {j}) cross or run along each other{where}; "
            "merge them into one hole or keep them apart"
        )
    return f"invalid polygon: {reason}; fix the rings so that they form a simple polygon"


def _spot(reason: str) -> shapely.Point | None:
    """The location in a GEOS validity reason such as ``Self-intersection[0.5 0.5]``."""
    if "[" not in reason or "]" not in reason:
        return None
    lon_lat = reason[reason.index("[") + 1 : reason.index("]")].split()
    if len(lon_lat) < 2:
        return None
    return shapely.Point(float(lon_lat[0]), float(lon_lat[1]))


def _near(reason: str) -> str:
    """' near lon …, lat …' for the location in a GEOS validity reason, or ''."""
    spot = _spot(reason)
    return "" if spot is None else f" near lon {spot.x:.6g}, lat {spot.y:.6g}"


def _meeting_rings(rings: list[list[tuple[float, float]]], reason: str) -> tuple[int, int]:
    """The two (each simple) rings that meet nearest the location GEOS reported."""
    lines = [shapely.LinearRing(r) for r in rings]
    pairs = [
        (i, j)
        for i in range(len(lines))
        for j in range(i + 1, len(lines))
        if lines[i].intersects(lines[j])
    ]
    spot = _spot(reason)
    if spot is None:
        return pairs[0]
    return min(pairs, key=lambda p: lines[p[0]].intersection(lines[p[1]]).distance(spot))

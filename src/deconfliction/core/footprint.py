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

import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from deconfliction.core.earth import WGS84
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
_MAX_CIRCLE_VERTICES = 1024


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
    if len(ring) > max_vertices:
        raise GeometryError(
            f"{name} has {len(ring)} vertices, more than the limit of {max_vertices}; "
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
        total = sum(len(r) for r in rings)
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
        n = math.ceil(math.pi * math.sqrt(radius_m / (2.0 * CIRCLE_TOLERANCE_M)))
        n = min(max(n, _MIN_CIRCLE_VERTICES), _MAX_CIRCLE_VERTICES)
        # Vertices on a slightly larger circle, so that every chord lies outside the true one.
        outer = radius_m / math.cos(math.pi / n)
        azimuths = [360.0 * k / n for k in range(n)]
        lons, lats, _ = WGS84.fwd([lon] * n, [lat] * n, azimuths, [outer] * n)
        ring = list(zip(lons, lats, strict=True))
        if max(abs(la) for la in lats) >= 89.99 or any(
            abs(ring[k][0] - ring[k - 1][0]) > 180.0 for k in range(n)
        ):
            raise GeometryError(
                "circle reaches a pole or crosses the antimeridian; "
                "describe the area as polygons on each side of it"
            )
        shape = Polygon(ring)
        return cls._checked(shape, Circle(lon, lat, float(radius_m)), limits)

    @classmethod
    def _checked(cls, shape: Polygon, circle: Circle | None, limits: FootprintLimits) -> Footprint:
        area = _geodesic_area_m2(shape)
        if circle is None and area > limits.max_area_m2:
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
    reason = shapely.is_valid_reason(shape)
    bad_ring = next((i for i, r in enumerate(rings) if not shapely.LinearRing(r).is_simple), 0)
    where = ""
    if "[" in reason and "]" in reason:
        lon_lat = reason[reason.index("[") + 1 : reason.index("]")].split()
        if len(lon_lat) >= 2:
            where = f" near lon {float(lon_lat[0]):.6g}, lat {float(lon_lat[1]):.6g}"
    if reason.startswith("Self-intersection") or reason.startswith("Ring Self-intersection"):
        return (
            f"polygon ring {bad_ring} intersects itself{where}; reorder its vertices so that "
            "its edges do not cross"
        )
    if reason.startswith("Hole lies outside shell"):
        return f"a polygon hole lies outside the outer ring{where}; holes must be inside it"
    if reason.startswith("Interior is disconnected"):
        return f"the polygon's holes cut it in pieces{where}; file the pieces as separate volumes"
    return f"invalid polygon: {reason}; fix the rings so that they form a simple polygon"

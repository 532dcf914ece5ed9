"""A zoo of named sample volumes, for every test that needs real-looking geometry.

Builders: :func:`ring` and :func:`box` (lon/lat rectangles), :func:`circle`,
:func:`volume` (a footprint with a band and a window, defaulting to :data:`BAND` and
:data:`WINDOW`) and :func:`feature` (a volume as the GeoJSON Feature that the API and
``deconfliction check`` read).

Samples, each under a name that says what it is:

* :data:`FOOTPRINTS`: boxes that share edges (plain, with extra collinear vertices on
  the shared edge, along a diagonal), circles, slivers, a concave U and a holed square,
  the two sides of the antimeridian, high latitudes, a tiny and a huge footprint.
* :data:`PAIRS`: two volumes and whether they conflict, the case that decides it (a
  shared edge, stacked bands, back-to-back windows are adjacent; any overlap is not).
* :data:`BAD_GEOMETRIES` and :data:`BAD_VOLUMES`: input every layer must refuse, with
  the error class and a fragment of the message that tells the person what to do.

Footprints sit around Zurich (8.5° E, 47.4° N) unless their name says otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from deconfliction.core.earth import WGS84
from deconfliction.core.footprint import Footprint
from deconfliction.core.volume import Volume4D
from deconfliction.errors import (
    AltitudeError,
    DeconflictionError,
    GeometryError,
    TimeWindowError,
)

__all__ = [
    "BAD_GEOMETRIES",
    "BAD_VOLUMES",
    "BAND",
    "FOOTPRINTS",
    "HOUR",
    "PAIRS",
    "T0",
    "WINDOW",
    "BadGeometry",
    "BadVolume",
    "Pair",
    "box",
    "circle",
    "east_of",
    "feature",
    "rfc3339",
    "ring",
    "volume",
]

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
"""A Monday, 08:00 UTC (the same instant as the ``clock`` fixture's start)."""
HOUR = timedelta(hours=1)
BAND = (0.0, 1_500.0)
"""The default altitude band, metres above mean sea level."""
WINDOW = (T0, T0 + HOUR)
"""The default time window [start, end)."""

Ring = list[tuple[float, float]]


def ring(lon: float, lat: float, width: float, height: float) -> Ring:
    """A closed counter-clockwise lon/lat rectangle from its south-west corner (degrees)."""
    return [
        (lon, lat),
        (lon + width, lat),
        (lon + width, lat + height),
        (lon, lat + height),
        (lon, lat),
    ]


def box(
    lon: float, lat: float, width: float, height: float, holes: Sequence[Ring] = ()
) -> Footprint:
    """A rectangle footprint from its south-west corner and size (degrees)."""
    return Footprint.polygon(ring(lon, lat, width, height), holes)


def circle(lon: float, lat: float, radius_m: float) -> Footprint:
    """A geodesic circle footprint (centre in degrees, radius in metres)."""
    return Footprint.circle_at(lon, lat, radius_m)


def east_of(lon: float, lat: float, metres: float) -> tuple[float, float]:
    """The point ``metres`` (geodesic) due east of (lon, lat)."""
    east_lon, east_lat, _ = WGS84.fwd(lon, lat, 90.0, metres)
    return float(east_lon), float(east_lat)


def volume(
    footprint: Footprint,
    lower_m: float = BAND[0],
    upper_m: float = BAND[1],
    start: datetime = WINDOW[0],
    end: datetime = WINDOW[1],
) -> Volume4D:
    """A volume of ``footprint``; the band and window default to :data:`BAND`, :data:`WINDOW`."""
    return Volume4D(footprint, lower_m, upper_m, start, end)


def rfc3339(moment: datetime) -> str:
    """A UTC instant as RFC 3339 text with a ``Z``, e.g. ``2026-03-02T08:00:00Z``."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def feature(v: Volume4D, party: str, notice: str, **properties: Any) -> dict[str, Any]:
    """The volume as a GeoJSON Feature with ``party``, ``notice``, window and band."""
    props: dict[str, Any] = {
        "party": party,
        "notice": notice,
        "start": rfc3339(v.start),
        "end": rfc3339(v.end),
        "lower_m": v.lower_m,
        "upper_m": v.upper_m,
    }
    if v.footprint.radius_m is not None:
        props["radius_m"] = v.footprint.radius_m
    props.update(properties)
    return {"type": "Feature", "geometry": v.footprint.to_geojson(), "properties": props}


# -- footprints -------------------------------------------------------------------------

_U = [  # a U open to the north: the notch is lon 8.52 to 8.54, lat 47.42 to 47.46
    (8.50, 47.40),
    (8.56, 47.40),
    (8.56, 47.46),
    (8.54, 47.46),
    (8.54, 47.42),
    (8.52, 47.42),
    (8.52, 47.46),
    (8.50, 47.46),
    (8.50, 47.40),
]
_HOLE = ring(8.52, 47.42, 0.02, 0.02)
_TANGENT_CENTRE = east_of(8.5, 47.4, 3_000.0 + 2_000.0 + 3.0)  # 3 m apart at the closest

FOOTPRINTS: dict[str, Footprint] = {
    "square": box(8.50, 47.40, 0.10, 0.10),
    "square_east": box(8.60, 47.40, 0.10, 0.10),
    # Shares the square's east edge, with extra vertices along it (and along its own).
    "square_east_extra_vertices": Footprint.polygon(
        [
            (8.60, 47.40),
            (8.65, 47.40),
            (8.70, 47.40),
            (8.70, 47.50),
            (8.60, 47.50),
            (8.60, 47.47),
            (8.60, 47.43),
            (8.60, 47.41),
            (8.60, 47.40),
        ]
    ),
    "square_half_overlapping": box(8.55, 47.40, 0.10, 0.10),
    "square_corner_touching": box(8.60, 47.50, 0.10, 0.10),
    # Two quadrilaterals sharing the diagonal from (8.5, 47.4) to (8.6, 47.5); the western one
    # has an extra vertex on it at coordinates that floating point cannot hit exactly.
    "diagonal_west": Footprint.polygon(
        [(8.5, 47.4), (8.5 + 0.1 / 3, 47.4 + 0.1 / 3), (8.6, 47.5), (8.5, 47.5), (8.5, 47.4)]
    ),
    "diagonal_east": Footprint.polygon([(8.5, 47.4), (8.6, 47.4), (8.6, 47.5), (8.5, 47.4)]),
    "circle_3km": circle(8.5, 47.4, 3_000.0),
    "circle_2km_tangent": circle(*_TANGENT_CENTRE, 2_000.0),
    "circle_2km_overlapping": circle(*east_of(8.5, 47.4, 4_900.0), 2_000.0),
    # 1 km by 20 m, straddling the square's west edge: a 10 m wide overlap.
    "sliver": box(8.50 - 0.000_132, 47.45, 0.000_264, 0.009),
    # 1 km long, just west of the square's west edge: touching it along 1 km.
    "sliver_touching": box(8.50 - 0.000_264, 47.45, 0.000_264, 0.009),
    "concave_u": Footprint.polygon(_U),
    "in_the_notch": box(8.52, 47.42, 0.02, 0.04),
    "across_the_notch": box(8.51, 47.43, 0.04, 0.02),
    "holed_square": box(8.50, 47.40, 0.06, 0.06, holes=[_HOLE]),
    "filling_the_hole": Footprint.polygon(_HOLE),
    "circle_in_the_hole": circle(8.53, 47.43, 500.0),
    "antimeridian_east": box(179.9, -17.0, 0.1, 0.1),
    "antimeridian_west": box(-180.0, -17.0, 0.1, 0.1),
    "high_latitude": box(20.0, 84.0, 2.0, 0.5),
    "high_latitude_east": box(22.0, 84.0, 2.0, 0.5),
    "high_latitude_overlapping": box(21.5, 84.3, 2.0, 0.5),
    "high_latitude_circle": circle(21.0, 84.2, 5_000.0),
    "tiny": box(8.55, 47.45, 0.000_1, 0.000_1),  # about 7.5 m by 11 m
    "huge": box(7.0, 46.0, 3.0, 3.0),  # about 75,000 km²
}


# -- pairs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pair:
    """Two volumes, whether they conflict, and why."""

    a: Volume4D
    b: Volume4D
    conflict: bool
    why: str


def _pair(a: str, b: str, conflict: bool, why: str, **b_fields: Any) -> Pair:
    return Pair(volume(FOOTPRINTS[a]), volume(FOOTPRINTS[b], **b_fields), conflict, why)


_SQ = "square"
PAIRS: dict[str, Pair] = {
    "shared_edge": _pair(_SQ, "square_east", False, "a shared edge is adjacent"),
    "shared_edge_extra_vertices": _pair(
        _SQ, "square_east_extra_vertices", False, "extra collinear vertices change nothing"
    ),
    "shared_diagonal_edge": _pair(
        "diagonal_west", "diagonal_east", False, "a shared diagonal edge is adjacent"
    ),
    "corner_touching": _pair(_SQ, "square_corner_touching", False, "one common point"),
    "overlapping_squares": _pair(_SQ, "square_half_overlapping", True, "half overlap"),
    "stacked_bands": _pair(
        _SQ, _SQ, False, "equal limits are adjacent", lower_m=1_500.0, upper_m=3_000.0
    ),
    "overlapping_bands": _pair(
        _SQ, _SQ, True, "100 m of common band", lower_m=1_400.0, upper_m=3_000.0
    ),
    "back_to_back_windows": _pair(
        _SQ, _SQ, False, "one ends as the other starts", start=T0 + HOUR, end=T0 + 2 * HOUR
    ),
    "overlapping_windows": _pair(
        _SQ,
        _SQ,
        True,
        "a minute in common",
        start=T0 + HOUR - timedelta(minutes=1),
        end=T0 + 2 * HOUR,
    ),
    "tangent_circles": _pair(
        "circle_3km", "circle_2km_tangent", False, "3 m apart, more than the 1 m tolerance"
    ),
    "overlapping_circles": _pair(
        "circle_3km", "circle_2km_overlapping", True, "100 m deep overlap"
    ),
    "sliver_overlap": _pair(_SQ, "sliver", True, "10 m by 1 km overlap is positive"),
    "sliver_touching": _pair(_SQ, "sliver_touching", False, "touching along 1 km"),
    "in_the_notch": _pair("concave_u", "in_the_notch", False, "fills the notch, touching"),
    "across_the_notch": _pair("concave_u", "across_the_notch", True, "crosses both arms"),
    "filling_the_hole": _pair("holed_square", "filling_the_hole", False, "the hole is empty"),
    "circle_in_the_hole": _pair("holed_square", "circle_in_the_hole", False, "inside the hole"),
    "antimeridian_neighbours": _pair(
        "antimeridian_east", "antimeridian_west", False, "touching across 180°"
    ),
    "high_latitude_shared_edge": _pair(
        "high_latitude", "high_latitude_east", False, "a shared meridian at 84° N"
    ),
    "high_latitude_overlap": _pair(
        "high_latitude", "high_latitude_overlapping", True, "overlap at 84° N"
    ),
    "high_latitude_circle": _pair(
        "high_latitude", "high_latitude_circle", True, "a circle inside the box at 84° N"
    ),
    "tiny_inside_huge": _pair("huge", "tiny", True, "a tiny volume inside a huge one"),
}


# -- bad input --------------------------------------------------------------------------


@dataclass(frozen=True)
class BadGeometry:
    """A GeoJSON footprint (``radius_m`` for a Point) every layer must refuse."""

    geometry: dict[str, Any]
    radius_m: float | None
    error: type[DeconflictionError]
    says: str
    """A fragment of the message: what is wrong, or what to do."""


def _polygon(*rings: Sequence[tuple[float, float]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[list(p) for p in r] for r in rings]}


def _point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


_MANY = [(8.5 + 0.1 * (k % 2), 47.4 + 0.1 * k / 10_001) for k in range(10_001)]

BAD_GEOMETRIES: dict[str, BadGeometry] = {
    "longitude_out_of_range": BadGeometry(
        _polygon([(8.5, 47.4), (181.0, 47.4), (8.6, 47.5), (8.5, 47.4)]),
        None,
        GeometryError,
        "longitude 181.0, outside [-180, 180]",
    ),
    "latitude_out_of_range": BadGeometry(
        _polygon([(8.5, 47.4), (8.6, 91.0), (8.6, 47.5), (8.5, 47.4)]),
        None,
        GeometryError,
        "latitude 91.0, outside [-90, 90]",
    ),
    "lat_lon_swapped": BadGeometry(
        _polygon([(47.4, 8.5), (47.4, 100.0), (47.5, 8.6), (47.4, 8.5)]),
        None,
        GeometryError,
        "GeoJSON order is [lon, lat]",
    ),
    "unclosed_ring": BadGeometry(
        _polygon([(8.5, 47.4), (8.6, 47.4), (8.6, 47.5)]),
        None,
        GeometryError,
        "repeat the first position at the end",
    ),
    "self_intersecting": BadGeometry(
        _polygon([(8.5, 47.4), (8.6, 47.5), (8.6, 47.4), (8.5, 47.5), (8.5, 47.4)]),
        None,
        GeometryError,
        "intersects itself near lon 8.55, lat 47.45",
    ),
    "two_distinct_vertices": BadGeometry(
        _polygon([(8.5, 47.4), (8.6, 47.4), (8.5, 47.4), (8.6, 47.4), (8.5, 47.4)]),
        None,
        GeometryError,
        "2 distinct vertices; a polygon needs at least 3",
    ),
    "too_many_vertices": BadGeometry(
        _polygon([*_MANY, _MANY[0]]),
        None,
        GeometryError,
        "10001 vertices, more than the limit of 10000",
    ),
    "crosses_antimeridian": BadGeometry(
        _polygon(
            [(179.5, -17.0), (-179.5, -17.0), (-179.5, -16.0), (179.5, -16.0), (179.5, -17.0)]
        ),
        None,
        GeometryError,
        "split the footprint",
    ),
    "too_large": BadGeometry(
        _polygon(ring(5.0, 45.0, 5.0, 5.0)),
        None,
        GeometryError,
        "more than the limit of 100,000 km²",
    ),
    "zero_radius": BadGeometry(
        _point(8.5, 47.4), 0.0, GeometryError, "radius_m must be a positive number of metres"
    ),
    "negative_radius": BadGeometry(
        _point(8.5, 47.4), -5.0, GeometryError, "radius_m must be a positive number of metres"
    ),
    "circle_too_large": BadGeometry(
        _point(8.5, 47.4), 200_000.0, GeometryError, "more than the limit of 100,000 km²"
    ),
    "point_without_radius": BadGeometry(_point(8.5, 47.4), None, GeometryError, "needs radius_m"),
    "line_string": BadGeometry(
        {"type": "LineString", "coordinates": [[8.5, 47.4], [8.6, 47.5]]},
        None,
        GeometryError,
        "use Polygon, or Point with radius_m",
    ),
}


@dataclass(frozen=True)
class BadVolume:
    """Band and window fields (as a Feature's properties hold them) that must be refused."""

    lower_m: Any
    upper_m: Any
    start: Any
    end: Any
    error: type[DeconflictionError]
    says: str


_S, _E = rfc3339(WINDOW[0]), rfc3339(WINDOW[1])
BAD_VOLUMES: dict[str, BadVolume] = {
    "lower_equals_upper": BadVolume(
        1_000.0, 1_000.0, _S, _E, AltitudeError, "the band needs lower_m < upper_m"
    ),
    "lower_above_upper": BadVolume(
        2_000.0, 1_000.0, _S, _E, AltitudeError, "the band needs lower_m < upper_m"
    ),
    "end_equals_start": BadVolume(0.0, 1_000.0, _S, _S, TimeWindowError, "needs end > start"),
    "end_before_start": BadVolume(0.0, 1_000.0, _E, _S, TimeWindowError, "needs end > start"),
    "naive_start": BadVolume(
        0.0, 1_000.0, "2026-03-02T08:00:00", _E, TimeWindowError, "has no time zone"
    ),
    "naive_end": BadVolume(
        0.0, 1_000.0, _S, "2026-03-02T09:00:00", TimeWindowError, "has no time zone"
    ),
}

"""Footprints: validation that says what to fix, circles carried as polygons that hold them."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from deconfliction.core.earth import WGS84, geodesic_distance_m
from deconfliction.core.footprint import (
    CIRCLE_TOLERANCE_M,
    DEFAULT_MAX_AREA_M2,
    MAX_VERTICES,
    Footprint,
    FootprintLimits,
)
from deconfliction.errors import GeometryError, ValidationError
from deconfliction.settings import Settings
from tests.zoo import BAD_GEOMETRIES, FOOTPRINTS, ring

SQUARE = ring(8.5, 47.4, 0.1, 0.1)


@pytest.mark.parametrize("name", sorted(BAD_GEOMETRIES))
def test_bad_geometry_is_refused_with_a_message_to_act_on(name: str) -> None:
    bad = BAD_GEOMETRIES[name]
    with pytest.raises(bad.error) as caught:
        Footprint.from_geojson(bad.geometry, bad.radius_m)
    assert bad.says in caught.value.message
    assert isinstance(caught.value, ValidationError)


def test_a_bad_position_is_named_by_ring_and_vertex() -> None:
    hole = [(8.52, 47.42), (8.54, 47.42), (8.54, 95.0), (8.52, 47.42)]
    with pytest.raises(GeometryError, match=r"polygon ring 1, vertex 2 has latitude 95"):
        Footprint.polygon(SQUARE, [hole])


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (math.nan, "longitude that is not finite"),
        ("8.5", "longitude that is not a number"),
        (True, "longitude that is not a number"),
    ],
)
def test_a_position_must_be_finite_numbers(value: object, says: str) -> None:
    with pytest.raises(GeometryError, match=says):
        Footprint.polygon([(8.5, 47.4), (value, 47.4), (8.6, 47.5), (8.5, 47.4)])  # type: ignore[list-item]


def test_a_position_needs_two_numbers() -> None:
    with pytest.raises(GeometryError, match=r"vertex 1 is not a \[lon, lat\] position"):
        Footprint.polygon([(8.5, 47.4), (8.6,), (8.6, 47.5), (8.5, 47.4)])


def test_the_unclosed_message_shows_both_ends() -> None:
    with pytest.raises(GeometryError) as caught:
        Footprint.polygon([(8.5, 47.4), (8.6, 47.4), (8.6, 47.5)])
    assert "starts at [8.5, 47.4] and ends at [8.6, 47.5]" in caught.value.message


def test_a_ring_on_one_line_encloses_no_area() -> None:
    with pytest.raises(GeometryError, match="ring 0 encloses no area"):
        Footprint.polygon([(8.5, 47.4), (8.6, 47.4), (8.7, 47.4), (8.5, 47.4)])


@pytest.mark.parametrize(
    ("holes", "says"),
    [
        (
            [[(8.52, 47.42), (8.54, 47.44), (8.54, 47.42), (8.52, 47.44), (8.52, 47.42)]],
            "polygon ring 1 intersects itself near lon 8.53, lat 47.43",
        ),
        ([ring(8.58, 47.42, 0.04, 0.02)], "polygon hole (ring 1) crosses or runs along the outer"),
        (
            [ring(8.52, 47.42, 0.02, 0.02), ring(8.53, 47.43, 0.02, 0.02)],
            "polygon holes (rings 1 and 2) cross or run along each other",
        ),
        ([ring(9.0, 48.0, 0.02, 0.02)], "polygon hole (ring 1) lies outside the outer ring"),
        (
            [ring(8.51, 47.41, 0.08, 0.08), ring(8.52, 47.42, 0.01, 0.01)],
            "a polygon hole lies inside another hole",
        ),
        (
            [[(8.55, 47.4), (8.6, 47.45), (8.55, 47.5), (8.5, 47.45), (8.55, 47.4)]],
            "the polygon's holes cut it in pieces",
        ),
    ],
)
def test_bad_holes_are_named(holes: list[list[tuple[float, float]]], says: str) -> None:
    with pytest.raises(GeometryError) as caught:
        Footprint.polygon(SQUARE, holes)
    assert says in caught.value.message


def test_a_hole_may_touch_the_outer_ring_at_one_point() -> None:
    f = Footprint.polygon(SQUARE, [[(8.5, 47.4), (8.55, 47.42), (8.55, 47.45), (8.5, 47.4)]])
    assert f.shape.is_valid
    assert len(f.shape.interiors) == 1


def _ring_of(n: int) -> list[tuple[float, float]]:
    """A closed, simple ring of exactly ``n`` vertices (n + 1 positions)."""
    t = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    points = list(
        zip((8.5 + 0.1 * np.cos(t)).tolist(), (47.4 + 0.1 * np.sin(t)).tolist(), strict=True)
    )
    return [*points, points[0]]


def test_the_vertex_limit_counts_vertices_not_the_closing_repeat() -> None:
    assert len(Footprint.polygon(_ring_of(MAX_VERTICES)).shape.exterior.coords) == MAX_VERTICES + 1
    with pytest.raises(GeometryError, match=f"{MAX_VERTICES + 1} vertices, more than the limit"):
        Footprint.polygon(_ring_of(MAX_VERTICES + 1))


def test_the_vertex_limit_counts_holes_too() -> None:
    limits = FootprintLimits(max_vertices=10)
    hole = ring(8.52, 47.42, 0.02, 0.02)
    Footprint.polygon(_ring_of(6), limits=limits)
    with pytest.raises(GeometryError, match="12 vertices in all, more than the limit of 10"):
        Footprint.polygon(_ring_of(8), [hole], limits=limits)


def test_the_area_limit_is_configurable() -> None:
    square = Footprint.polygon(SQUARE)  # about 84 km²
    assert 80e6 < square.area_m2 < 86e6
    small = FootprintLimits(max_area_m2=50e6)
    with pytest.raises(GeometryError, match="covers 84 km², more than the limit of 50 km²"):
        Footprint.polygon(SQUARE, limits=small)
    with pytest.raises(GeometryError, match="more than the limit of 50 km²"):
        Footprint.circle_at(8.5, 47.4, 5_000.0, limits=small)  # 78.5 km²
    Footprint.circle_at(8.5, 47.4, 3_000.0, limits=small)


def test_the_default_area_limit_is_100_000_km2_and_settings_carry_it() -> None:
    assert DEFAULT_MAX_AREA_M2 == 100_000e6
    side = math.sqrt(99_000e6 / math.pi)
    Footprint.circle_at(8.5, 47.4, side)
    with pytest.raises(GeometryError, match="more than the limit of 100,000 km²"):
        Footprint.circle_at(8.5, 47.4, math.sqrt(101_000e6 / math.pi))
    limits = Settings(max_footprint_area_m2=1e6, max_vertices=5).footprint_limits
    assert limits == FootprintLimits(max_area_m2=1e6, max_vertices=5)


def test_polygon_area_agrees_with_the_geodesic_area() -> None:
    reference, _ = WGS84.polygon_area_perimeter(*zip(*SQUARE, strict=True))
    assert Footprint.polygon(SQUARE).area_m2 == pytest.approx(abs(reference), rel=1e-9)


def test_an_edge_on_the_antimeridian_is_fine_crossing_it_is_not() -> None:
    east, west = FOOTPRINTS["antimeridian_east"], FOOTPRINTS["antimeridian_west"]
    assert east.bounds[2] == 180.0
    assert west.bounds[0] == -180.0
    with pytest.raises(GeometryError, match="between vertices 1 and 2"):
        Footprint.polygon([(179.5, 0), (179.9, 0), (-179.9, 0.1), (179.5, 0.1), (179.5, 0)])


@pytest.mark.parametrize(("lon", "lat", "radius"), [(179.99, 0.0, 5_000.0), (0.0, 89.9, 20_000.0)])
def test_a_circle_over_the_antimeridian_or_a_pole_is_refused(
    lon: float, lat: float, radius: float
) -> None:
    with pytest.raises(GeometryError, match="reaches a pole or crosses the antimeridian"):
        Footprint.circle_at(lon, lat, radius)


def test_geojson_round_trip() -> None:
    polygon = Footprint.polygon(SQUARE, [ring(8.52, 47.42, 0.02, 0.02)])
    again = Footprint.from_geojson(polygon.to_geojson())
    assert again.shape.equals(polygon.shape)
    assert again.radius_m is None
    disc = Footprint.circle_at(8.5, 47.4, 1_234.5)
    assert disc.to_geojson() == {"type": "Point", "coordinates": [8.5, 47.4]}
    assert Footprint.from_geojson(disc.to_geojson(), disc.radius_m).shape.equals(disc.shape)
    assert disc.area_m2 == pytest.approx(math.pi * 1_234.5**2)


def test_radius_belongs_to_points_only() -> None:
    with pytest.raises(GeometryError, match="radius_m applies to a Point"):
        Footprint.from_geojson({"type": "Polygon", "coordinates": [SQUARE]}, 100.0)


def _edge_points(f: Footprint, per_edge: int) -> np.ndarray:
    """Vertices and ``per_edge`` points along each edge of the carried polygon (lon, lat)."""
    xy = np.asarray(f.shape.exterior.coords)
    t = np.linspace(0.0, 1.0, per_edge + 1, endpoint=False)[:, None]
    lon = xy[:-1, 0] + t * (xy[1:, 0] - xy[:-1, 0])
    lat = xy[:-1, 1] + t * (xy[1:, 1] - xy[:-1, 1])
    return np.column_stack([lon.ravel(), lat.ravel()])


@settings(max_examples=150, deadline=None)
@given(
    lon=st.floats(-150.0, 150.0),
    lat=st.floats(-85.0, 85.0),
    radius=st.floats(1.0, 178_000.0),
)
def test_the_carried_polygon_holds_the_circle_within_tolerance(
    lon: float, lat: float, radius: float
) -> None:
    """Every point of the polygon's boundary (dense sampling, geodesic distance) lies
    outside the true circle and at most CIRCLE_TOLERANCE_M beyond it, at every latitude
    (edges straight in lon/lat bow inwards on a circle's poleward side)."""
    f = Footprint.circle_at(lon, lat, radius)
    boundary = _edge_points(f, 8)
    distance = geodesic_distance_m(lon, lat, boundary[:, 0], boundary[:, 1])
    assert distance.min() >= radius
    assert distance.max() <= radius + CIRCLE_TOLERANCE_M
    assert shapely.contains_xy(f.shape, lon, lat)

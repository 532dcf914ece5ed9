"""The told outline: it covers the intersection, within its tolerance, with few vertices."""

from __future__ import annotations

import json

import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, mapping, shape

from deconfliction.core.footprint import Footprint
from deconfliction.core.outline import geojson, told_outline, tolerance_m
from tests.zoo import box

_METRES_PER_DEGREE = 111_320.0


def _told(exact: shapely.Geometry) -> shapely.Geometry:
    """The outline as a party reads it: told, written as GeoJSON, read back."""
    return shape(geojson(told_outline(exact)))


@given(
    lon=st.floats(-170.0, 170.0),
    lat=st.floats(-80.0, 80.0),
    radii=st.tuples(st.floats(50.0, 60_000.0), st.floats(50.0, 60_000.0)),
    offset=st.tuples(st.floats(-1.0, 1.0), st.floats(-1.0, 1.0)),
)
def test_the_told_outline_covers_the_intersection_within_its_tolerance(
    lon: float, lat: float, radii: tuple[float, float], offset: tuple[float, float]
) -> None:
    """Two circles (hundreds of vertices each) meet in a lens; what is told covers all
    of it, reaches at most the tolerance beyond it, and has no more vertices."""
    a = Footprint.circle_at(lon, lat, radii[0]).shape
    reach = (radii[0] + radii[1]) / _METRES_PER_DEGREE
    b = Footprint.circle_at(lon + offset[0] * reach, lat + offset[1] * reach, radii[1]).shape
    exact = a.intersection(b)
    if exact.is_empty or exact.geom_type not in ("Polygon", "MultiPolygon"):
        return
    told = _told(exact)
    assert told.covers(exact)
    tolerance_deg = tolerance_m(exact) / _METRES_PER_DEGREE
    assert told.within(exact.buffer(tolerance_deg * 1.01 + 1e-6))
    assert shapely.get_num_coordinates(told) <= shapely.get_num_coordinates(exact)


def test_a_lens_of_two_big_circles_is_told_in_far_fewer_vertices() -> None:
    exact = Footprint.circle_at(8.0, 47.0, 20_000).shape.intersection(
        Footprint.circle_at(8.2, 47.1, 15_000).shape
    )
    told = _told(exact)
    assert shapely.get_num_coordinates(exact) > 150
    assert shapely.get_num_coordinates(told) < shapely.get_num_coordinates(exact) / 2
    assert told.covers(exact)


def test_few_vertices_lines_and_points_are_told_exactly() -> None:
    square = box(8.0, 47.0, 0.1, 0.1).shape
    assert told_outline(square).equals_exact(shapely.normalize(square), 0.0)
    line = LineString([(8.0, 47.0), (8.001, 47.0)])
    assert told_outline(line) is line


def test_told_coordinates_are_rounded_to_a_centimetre() -> None:
    exact = Footprint.circle_at(8.123456789, 47.0, 5_000).shape.intersection(
        Footprint.circle_at(8.17, 47.01, 5_000).shape
    )
    told = geojson(told_outline(exact))
    assert told["type"] == "Polygon"
    assert all(
        round(x, 7) == x and round(y, 7) == y for ring in told["coordinates"] for x, y in ring
    )


@pytest.mark.parametrize(
    "shape",
    [
        Footprint.circle_at(8.0, 47.0, 5_000).shape,
        shapely.MultiPolygon([box(8.0, 47.0, 0.1, 0.1).shape, box(9.0, 47.0, 0.1, 0.1).shape]),
        Point(8.0, 47.0).buffer(0.2).difference(Point(8.0, 47.0).buffer(0.1)),
        LineString([(8.0, 47.0), (8.1, 47.1)]),
        Point(8.0, 47.0),
        shapely.GeometryCollection([Point(8.0, 47.0), LineString([(8.0, 47.0), (8.1, 47.1)])]),
    ],
    ids=["polygon", "multipolygon", "with-hole", "line", "point", "collection"],
)
def test_geojson_is_what_shapely_maps_with_lists_for_tuples(shape: shapely.Geometry) -> None:
    assert geojson(shape) == json.loads(json.dumps(mapping(shape)))

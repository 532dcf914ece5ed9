"""Arcs around a centre: direction, radius, spacing, against brute-force references."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconfliction.core.earth import WGS84
from deconfliction.feeds.arcs import (
    MAX_ARC_SPACING_M,
    MAX_ARC_STEP_DEG,
    arc_between,
    arc_by_angles,
    sweep_deg,
)

lons = st.floats(min_value=-170.0, max_value=170.0)
lats = st.floats(min_value=-70.0, max_value=70.0)
radii = st.floats(min_value=100.0, max_value=150_000.0)
azimuths = st.integers(min_value=0, max_value=359)


def _polar(lon: float, lat: float, points: list[tuple[float, float]]) -> tuple:
    xs, ys = zip(*points, strict=True)
    az, _, dist = WGS84.inv([lon] * len(xs), [lat] * len(xs), list(xs), list(ys))
    return np.asarray(az) % 360.0, np.asarray(dist)


def _spacing(points: list[tuple[float, float]]) -> np.ndarray:
    xs, ys = zip(*points, strict=True)
    _, _, dist = WGS84.inv(list(xs[:-1]), list(ys[:-1]), list(xs[1:]), list(ys[1:]))
    return np.asarray(dist)


@given(azimuths, azimuths, st.booleans())
def test_sweep_matches_stepping_degree_by_degree(start: int, end: int, clockwise: bool) -> None:
    step = 1 if clockwise else -1
    steps, azimuth = 0, start
    while True:  # walk one degree at a time until the end azimuth comes round
        azimuth = (azimuth + step) % 360
        steps += 1
        if azimuth == end:
            break
    assert sweep_deg(float(start), float(end), clockwise) == step * steps


@settings(max_examples=60, deadline=None)
@given(lons, lats, radii, azimuths, azimuths, st.booleans())
def test_arc_by_angles_lies_on_the_circle_and_turns_the_right_way(
    lon: float, lat: float, radius: float, start: int, end: int, clockwise: bool
) -> None:
    points = arc_by_angles(lon, lat, radius, float(start), float(end), clockwise)
    az, dist = _polar(lon, lat, points)
    np.testing.assert_allclose(dist, radius, rtol=1e-9)
    assert _spacing(points).max() <= MAX_ARC_SPACING_M
    assert az[0] == pytest.approx(start, abs=1e-6) or az[0] == pytest.approx(start + 360, abs=1e-6)
    assert min(abs(az[-1] - end), 360 - abs(az[-1] - end)) < 1e-6
    # Each step turns the same small amount, in the asked direction.
    turns = (np.diff(az) + 180.0) % 360.0 - 180.0
    assert np.all(turns > 0) if clockwise else np.all(turns < 0)
    assert np.abs(turns).max() <= MAX_ARC_STEP_DEG + 1e-6
    assert turns.sum() == pytest.approx(sweep_deg(start, end, clockwise), abs=1e-6)


@settings(max_examples=60, deadline=None)
@given(
    lons,
    lats,
    radii,
    st.floats(min_value=0.97, max_value=1.03),
    azimuths,
    azimuths,
    st.booleans(),
)
def test_arc_between_starts_and_ends_at_the_given_points(
    lon: float, lat: float, radius: float, ratio: float, a: int, b: int, clockwise: bool
) -> None:
    x0, y0, _ = WGS84.fwd(lon, lat, a, radius)
    x1, y1, _ = WGS84.fwd(lon, lat, b, radius * ratio)
    points = arc_between(lon, lat, (x0, y0), (x1, y1), clockwise)
    assert points[0] == (x0, y0)
    assert points[-1] == (x1, y1)
    _, dist = _polar(lon, lat, points)
    low, high = sorted((radius, radius * ratio))
    assert np.all(dist >= low * (1 - 1e-9))
    assert np.all(dist <= high * (1 + 1e-9))
    assert _spacing(points).max() <= MAX_ARC_SPACING_M


@pytest.mark.parametrize("radius", [500.0, 9_260.0, 100_000.0])
def test_a_full_turn_of_arc_is_the_inscribed_polygon_of_the_circle(radius: float) -> None:
    points = arc_by_angles(5.0, 45.0, radius, 0.0, 0.0, clockwise=True)
    n = len(points) - 1
    area, _ = WGS84.polygon_area_perimeter(*zip(*points, strict=True))
    inscribed = n / 2 * radius**2 * math.sin(2 * math.pi / n)
    assert abs(area) == pytest.approx(inscribed, rel=1e-4)
    assert abs(area) == pytest.approx(math.pi * radius**2, rel=2e-3)


def test_a_quarter_arc_counter_clockwise_goes_the_other_way_round() -> None:
    short = arc_by_angles(8.0, 47.0, 10_000.0, 90.0, 0.0, clockwise=False)
    long = arc_by_angles(8.0, 47.0, 10_000.0, 90.0, 0.0, clockwise=True)
    assert len(long) > 2.5 * len(short)
    az, _ = _polar(8.0, 47.0, short)
    assert np.all((az <= 90.0 + 1e-6) | (az >= 360.0 - 1e-6))


def test_an_arc_whose_end_is_the_centre_is_a_straight_edge() -> None:
    assert arc_between(8.0, 47.0, (8.1, 47.0), (8.0, 47.0), True) == [(8.1, 47.0), (8.0, 47.0)]

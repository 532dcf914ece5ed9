"""Property tests of the exact conflict test against brute-force references.

* Random polygons (star-shaped, so simple) and geodesic circles, 50 m to 30 km across,
  anywhere from 80° S to 80° N, paired at random offsets. Dense sampling decides what is
  inside each (:mod:`tests.core.reference`): a point more than ``SLACK_M`` inside both
  must lie in the reported overlap (no missed overlap), and every point of a reported
  overlap must be within ``SLACK_M`` of both (no false one). ``SLACK_M`` covers the
  circles' tolerance (carried as polygons up to 1 m larger) and the sampling.
* Boxes, bands and windows on a grid, where touching is exact: conflict if and only if
  every dimension overlaps by a positive amount (or comes closer than a buffer).
* Horizontal buffers against the least geodesic distance.
* Symmetry: overlap(a, b) and overlap(b, a) agree.
"""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from deconfliction.core.earth import WGS84
from deconfliction.core.footprint import CIRCLE_TOLERANCE_M, Footprint
from deconfliction.core.volume import Buffers, Overlap, Volume4D, overlap
from tests.core.reference import depth_m, distance_m, plane_for
from tests.zoo import T0, box, volume

SLACK_M = CIRCLE_TOLERANCE_M + 0.5
PROPERTY = settings(max_examples=150, deadline=None)


sizes = st.floats(math.log10(50.0), math.log10(30_000.0)).map(lambda e: 10**e)
"""Footprint sizes (metres across), log-uniform from 50 m to 30 km."""


@st.composite
def footprints_near(draw: st.DrawFn, lon: float, lat: float, size: float) -> Footprint:
    """A polygon (star-shaped around the point, so simple) or a circle at the point,
    within ``size / 2`` of it."""
    if draw(st.booleans()):
        return Footprint.circle_at(lon, lat, size / 2)
    n = draw(st.integers(3, 12))
    whole = draw(st.lists(st.integers(0, 359), min_size=n, max_size=n, unique=True))
    angles = np.sort(np.array(whole, dtype=np.float64))
    if np.diff(np.append(angles, angles[0] + 360.0)).max() >= 180.0:
        angles = np.linspace(0.0, 360.0, n, endpoint=False) + angles[0]  # keep the point inside
    radii = [size / 2 * draw(st.floats(0.3, 1.0)) for _ in range(n)]
    lons, lats, _ = WGS84.fwd([lon] * n, [lat] * n, angles.tolist(), radii)
    ring = list(zip(lons, lats, strict=True))
    return Footprint.polygon([*ring, ring[0]])


@st.composite
def pairs(draw: st.DrawFn, apart: bool = False) -> tuple[Footprint, Footprint]:
    """Two footprints anywhere from 80° S to 80° N: centres 1 m to 40 km apart (mostly
    overlapping), or with ``apart`` at least 2 m further apart than their sizes allow."""
    lon = draw(st.floats(-170.0, 170.0))
    lat = draw(st.floats(-80.0, 80.0))
    size_a, size_b = draw(sizes), draw(sizes)
    a = draw(footprints_near(lon, lat, size_a))
    distance = 10 ** draw(st.floats(0.0, math.log10(40_000.0)))
    if apart:
        distance += (size_a + size_b) / 2 + 2.0 * CIRCLE_TOLERANCE_M
    blon, blat, _ = WGS84.fwd(lon, lat, draw(st.floats(0.0, 360.0)), distance)
    return a, draw(footprints_near(float(blon), float(blat), size_b))


def _grid_points(bounds: tuple[float, float, float, float], n: int) -> tuple[np.ndarray, ...]:
    min_lon, min_lat, max_lon, max_lat = bounds
    lon, lat = np.meshgrid(np.linspace(min_lon, max_lon, n), np.linspace(min_lat, max_lat, n))
    return lon.ravel(), lat.ravel()


def _points_in(shape: shapely.Geometry, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Random points inside ``shape`` and its representative point."""
    min_lon, min_lat, max_lon, max_lat = shape.bounds
    lon = rng.uniform(min_lon, max_lon, 2_000)
    lat = rng.uniform(min_lat, max_lat, 2_000)
    inside = shapely.contains_xy(shape, lon, lat)
    p = shape.representative_point()
    return np.append(lon[inside], p.x), np.append(lat[inside], p.y)


def _same(ab: Overlap | None, ba: Overlap | None) -> None:
    assert (ab is None) == (ba is None)
    if ab is not None and ba is not None:
        assert (ab.lower_m, ab.upper_m, ab.start, ab.end) == (
            ba.lower_m,
            ba.upper_m,
            ba.start,
            ba.end,
        )
        assert ab.footprint.symmetric_difference(ba.footprint).area <= 1e-9 * max(
            ab.footprint.area, 1e-12
        )


@PROPERTY
@given(pair=pairs(), seed=st.integers(0, 2**32 - 1))
def test_no_missed_overlap_and_no_false_one(pair: tuple[Footprint, Footprint], seed: int) -> None:
    a, b = pair
    va, vb = volume(a), volume(b)
    found = overlap(va, vb)
    _same(found, overlap(vb, va))
    plane = plane_for(a, b)

    both = a.shape.envelope.intersection(b.shape.envelope)
    if not both.is_empty and both.area > 0:
        lon, lat = _grid_points(both.bounds, 60)
        deep = (depth_m(a, lon, lat, plane) > SLACK_M) & (depth_m(b, lon, lat, plane) > SLACK_M)
        if deep.any():
            assert found is not None, "a point deep inside both, and no overlap reported"
            assert shapely.intersects_xy(found.footprint, lon[deep], lat[deep]).all()

    if found is not None:
        lon, lat = _points_in(found.footprint, np.random.default_rng(seed))
        assert (depth_m(a, lon, lat, plane) >= -SLACK_M).all(), "overlap reaches outside a"
        assert (depth_m(b, lon, lat, plane) >= -SLACK_M).all(), "overlap reaches outside b"


_GRID_DEG = 0.01
_BAND_STEP_M = 100.0
_WINDOW_STEP = timedelta(minutes=30)

grid_boxes = st.tuples(
    st.integers(0, 6), st.integers(0, 6), st.integers(1, 4), st.integers(1, 4)
)  # (column, row, width, height) in grid steps
grid_bands = st.tuples(st.integers(0, 6), st.integers(1, 4))  # (lower, thickness) in steps
grid_windows = st.tuples(st.integers(0, 6), st.integers(1, 4))  # (start, length) in steps


def _grid_volume(
    lon: float, lat: float, b: tuple[int, ...], band: tuple[int, int], window: tuple[int, int]
) -> Volume4D:
    column, row, width, height = b
    return Volume4D(
        box(lon + column * _GRID_DEG, lat + row * _GRID_DEG, width * _GRID_DEG, height * _GRID_DEG),
        band[0] * _BAND_STEP_M,
        (band[0] + band[1]) * _BAND_STEP_M,
        T0 + window[0] * _WINDOW_STEP,
        T0 + (window[0] + window[1]) * _WINDOW_STEP,
    )


def _common(lo_a: int, len_a: int, lo_b: int, len_b: int) -> int:
    """Length of the common part of two integer intervals (negative: the gap)."""
    return min(lo_a + len_a, lo_b + len_b) - max(lo_a, lo_b)


@PROPERTY
@given(
    corner=st.tuples(st.floats(-170.0, 170.0), st.floats(-80.0, 80.0)),
    boxes=st.tuples(grid_boxes, grid_boxes),
    bands=st.tuples(grid_bands, grid_bands),
    windows=st.tuples(grid_windows, grid_windows),
    vertical_steps=st.integers(0, 3),
)
def test_on_a_grid_touching_is_adjacent_and_any_overlap_conflicts(
    corner: tuple[float, float],
    boxes: tuple[tuple[int, ...], tuple[int, ...]],
    bands: tuple[tuple[int, int], tuple[int, int]],
    windows: tuple[tuple[int, int], tuple[int, int]],
    vertical_steps: int,
) -> None:
    """Shared edges and corners, equal limits and back-to-back windows never conflict;
    positive overlap in all of space, band and time always does; a vertical buffer
    bridges a band gap narrower than itself, and nothing else."""
    (ba, bb), (na, nb), (wa, wb) = boxes, bands, windows
    a = _grid_volume(*corner, ba, na, wa)
    b = _grid_volume(*corner, bb, nb, wb)
    vertical_m = vertical_steps * _BAND_STEP_M
    found = overlap(a, b, Buffers(vertical_m=vertical_m))
    _same(found, overlap(b, a, Buffers(vertical_m=vertical_m)))

    in_space = _common(ba[0], ba[2], bb[0], bb[2]) > 0 and _common(ba[1], ba[3], bb[1], bb[3]) > 0
    band = _common(*na, *nb)
    in_band = band > 0 or -band < vertical_steps  # a gap narrower than the buffer
    in_time = _common(*wa, *wb) > 0
    assert (found is not None) == (in_space and in_band and in_time)
    if found is not None:
        expected_area = (
            _common(ba[0], ba[2], bb[0], bb[2]) * _common(ba[1], ba[3], bb[1], bb[3])
        ) * _GRID_DEG**2
        assert math.isclose(found.footprint.area, expected_area, rel_tol=1e-9)
        assert found.start == max(a.start, b.start)
        assert found.end == min(a.end, b.end)


@PROPERTY
@given(pair=pairs(apart=True), data=st.data())
def test_horizontal_buffer_against_the_geodesic_distance(
    pair: tuple[Footprint, Footprint], data: st.DataObject
) -> None:
    """Disjoint footprints conflict under a buffer exactly when they come closer than it:
    within 5 cm and a hundred-thousandth of the buffer (the local plane's scale), and
    the tolerance by which a circle's carrying polygon is larger than the circle."""
    a, b = pair
    va, vb = volume(a), volume(b)
    assert overlap(va, vb) is None
    gap = distance_m(a, b)
    near = st.floats(-3.0, 3.0)
    buffer_m = max(0.0, gap + data.draw(st.one_of(near, st.floats(-20_000.0, 20_000.0))))
    slack = 0.05 + 1e-5 * buffer_m
    carriers = CIRCLE_TOLERANCE_M * sum(f.circle is not None for f in (a, b))
    buffers = Buffers(horizontal_m=buffer_m)
    found = overlap(va, vb, buffers)
    _same(found, overlap(vb, va, buffers))
    if gap < buffer_m - slack:
        assert found is not None, f"{gap:.3f} m apart, buffer {buffer_m:.3f} m: missed"
    elif gap - carriers > buffer_m + slack:
        assert found is None, f"{gap:.3f} m apart, buffer {buffer_m:.3f} m: false conflict"

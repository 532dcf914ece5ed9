"""Volume4D validation and the exact conflict test: touching is adjacent, overlap is not.

Buffers are checked at and around their boundary against a brute-force reference: the
least WGS-84 geodesic distance between densely sampled facing edges.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
import shapely

from deconfliction.core.earth import geodesic_distance_m
from deconfliction.core.footprint import CIRCLE_TOLERANCE_M, Footprint
from deconfliction.core.volume import (
    MAX_ALTITUDE_M,
    Buffers,
    Volume4D,
    overlap,
    overlaps,
)
from deconfliction.errors import AltitudeError, TimeWindowError, ValidationError
from tests.core.reference import distance_m
from tests.zoo import BAD_VOLUMES, FOOTPRINTS, HOUR, PAIRS, T0, box, volume

SQUARE = FOOTPRINTS["square"]


@pytest.mark.parametrize("name", sorted(BAD_VOLUMES))
def test_bad_band_or_window_is_refused_with_a_message_to_act_on(name: str) -> None:
    bad = BAD_VOLUMES[name]
    with pytest.raises(bad.error) as caught:
        Volume4D(
            SQUARE,
            bad.lower_m,
            bad.upper_m,
            datetime.fromisoformat(bad.start),
            datetime.fromisoformat(bad.end),
        )
    assert bad.says in caught.value.message
    assert isinstance(caught.value, ValidationError)


def test_a_naive_time_is_shown_with_the_fix() -> None:
    with pytest.raises(TimeWindowError) as caught:
        Volume4D(SQUARE, 0.0, 100.0, datetime(2026, 3, 2, 8), T0 + HOUR)  # noqa: DTZ001
    assert "start 2026-03-02T08:00:00 has no time zone" in caught.value.message
    assert "e.g. 2026-03-02T08:00:00Z" in caught.value.message


@pytest.mark.parametrize(
    ("lower", "upper", "says"),
    [
        (-2_000.0, 100.0, "lower_m -2000.0 m is outside"),
        (0.0, MAX_ALTITUDE_M + 1.0, "upper_m 100001.0 m is outside"),
        (math.nan, 100.0, "lower_m must be a finite number of metres"),
        ("0", 100.0, "lower_m must be a finite number of metres"),
    ],
)
def test_altitudes_must_be_plausible_metres(lower: object, upper: float, says: str) -> None:
    with pytest.raises(AltitudeError, match=says):
        Volume4D(SQUARE, lower, upper, T0, T0 + HOUR)  # type: ignore[arg-type]


def test_times_must_be_datetimes() -> None:
    with pytest.raises(TimeWindowError, match="end must be a date and time"):
        Volume4D(SQUARE, 0.0, 100.0, T0, "2026-03-02T09:00:00Z")  # type: ignore[arg-type]


def test_times_in_other_zones_are_kept_in_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    v = Volume4D(SQUARE, 0, 100, T0.astimezone(plus_two), (T0 + HOUR).astimezone(plus_two))
    assert v.start == T0
    assert v.start.utcoffset() == timedelta(0)
    assert (v.lower_m, v.upper_m) == (0.0, 100.0)
    assert isinstance(v.lower_m, float)


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_zoo_pairs_conflict_as_named_both_ways(name: str) -> None:
    pair = PAIRS[name]
    ab, ba = overlap(pair.a, pair.b), overlap(pair.b, pair.a)
    assert (ab is not None) == pair.conflict, pair.why
    assert (ba is not None) == pair.conflict, pair.why
    if ab is not None and ba is not None:
        assert (ab.lower_m, ab.upper_m, ab.start, ab.end) == (
            ba.lower_m,
            ba.upper_m,
            ba.start,
            ba.end,
        )
        assert ab.footprint.symmetric_difference(ba.footprint).area <= 1e-12 * ab.footprint.area


def test_the_overlap_is_the_common_part_of_each_dimension() -> None:
    o = overlap(
        volume(SQUARE, 0.0, 1_500.0),
        volume(
            FOOTPRINTS["square_half_overlapping"], 1_400.0, 3_000.0, T0 + HOUR / 2, T0 + 2 * HOUR
        ),
    )
    assert o is not None
    assert (o.lower_m, o.upper_m) == (1_400.0, 1_500.0)
    assert (o.start, o.end) == (T0 + HOUR / 2, T0 + HOUR)
    assert o.footprint.equals(shapely.box(8.55, 47.40, 8.60, 47.50))


def test_a_sliver_of_overlap_is_reported_where_it_is() -> None:
    o = overlap(volume(SQUARE), volume(FOOTPRINTS["sliver"]))
    assert o is not None
    min_lon, min_lat, max_lon, max_lat = o.footprint.bounds
    assert (min_lon, max_lon) == pytest.approx((8.5, 8.5 + 0.000_132))
    assert (min_lat, max_lat) == pytest.approx((47.45, 47.459))


def test_overlaps_lists_each_conflicting_candidate_by_index() -> None:
    candidates = [
        volume(FOOTPRINTS["square_east"]),
        volume(FOOTPRINTS["square_half_overlapping"]),
        volume(SQUARE, start=T0 + HOUR, end=T0 + 2 * HOUR),
        volume(FOOTPRINTS["tiny"]),
    ]
    assert [i for i, _ in overlaps(volume(SQUARE), candidates)] == [1, 3]


# -- buffers ----------------------------------------------------------------------------


GAPS = {
    "1 km east at 47° N": (box(8.5, 47.4, 0.1, 0.1), box(8.6 + 1_000 / 75_300, 47.4, 0.1, 0.1)),
    "50 m north at 47° N": (box(8.5, 47.4, 0.1, 0.1), box(8.5, 47.5 + 50 / 111_200, 0.1, 0.1)),
    "diagonal at 70° N": (box(20.0, 70.0, 0.5, 0.2), box(20.6, 70.25, 0.5, 0.2)),
    "across the antimeridian": (
        FOOTPRINTS["antimeridian_east"],
        box(-180.0 + 500 / 106_500, -17.0, 0.1, 0.1),
    ),
    "circles 300 m apart": (
        FOOTPRINTS["circle_3km"],
        Footprint.circle_at(8.5, 47.4 + 5_300 / 111_200, 2_000.0),
    ),
}


@pytest.mark.parametrize("name", sorted(GAPS))
def test_horizontal_buffer_at_and_around_the_gap(name: str) -> None:
    """A buffer wider than the gap conflicts, one narrower does not (within 5 cm, and
    within the tolerance by which the polygon carrying a circle is larger than it)."""
    a, b = GAPS[name]
    gap = distance_m(a, b)
    carriers = CIRCLE_TOLERANCE_M * sum(f.circle is not None for f in (a, b))
    va, vb = volume(a), volume(b)
    assert overlap(va, vb) is None
    for first, second in ((va, vb), (vb, va)):
        assert overlap(first, second, Buffers(horizontal_m=gap + 0.05)) is not None
        assert overlap(first, second, Buffers(horizontal_m=gap - carriers - 0.05)) is None


def test_a_buffered_conflict_reports_the_shortest_line_between() -> None:
    a, b = GAPS["1 km east at 47° N"]
    o = overlap(volume(a), volume(b), Buffers(horizontal_m=1_100.0))
    assert o is not None
    assert o.footprint.geom_type == "LineString"
    (x0, _), (x1, _) = o.footprint.coords
    assert (x0, x1) == pytest.approx((8.6, 8.6 + 1_000 / 75_300))


def test_touching_footprints_conflict_under_any_horizontal_buffer() -> None:
    pair = PAIRS["shared_edge"]
    assert overlap(pair.a, pair.b, Buffers(horizontal_m=0.01)) is not None
    assert overlap(pair.a, pair.b, Buffers(horizontal_m=0.0)) is None


def test_vertical_buffer_at_and_around_the_gap() -> None:
    low = volume(SQUARE, 0.0, 1_500.0)
    high = volume(SQUARE, 1_800.0, 3_000.0)
    assert overlap(low, high, Buffers(vertical_m=300.0)) is None  # exactly the gap: adjacent
    assert overlap(low, high, Buffers(vertical_m=299.99)) is None
    o = overlap(high, low, Buffers(vertical_m=300.01))
    assert o is not None
    assert (o.lower_m, o.upper_m) == (1_500.0, 1_800.0)  # the gap between the bands
    stacked = PAIRS["stacked_bands"]
    assert overlap(stacked.a, stacked.b, Buffers(vertical_m=0.01)) is not None


def test_a_vertical_buffer_does_not_bridge_time_or_space() -> None:
    later = volume(SQUARE, 1_600.0, 3_000.0, T0 + HOUR, T0 + 2 * HOUR)
    apart = volume(FOOTPRINTS["square_east"], 1_600.0, 3_000.0)
    for other in (later, apart):
        assert overlap(volume(SQUARE), other, Buffers(vertical_m=500.0)) is None


@pytest.mark.parametrize(
    ("horizontal", "vertical"),
    [(-1.0, 0.0), (0.0, -0.5), (math.nan, 0.0), (0.0, math.inf), (True, 0.0)],
)
def test_buffers_must_be_finite_and_not_negative(horizontal: float, vertical: float) -> None:
    with pytest.raises(ValidationError, match="must be zero or a positive, finite number"):
        Buffers(horizontal_m=horizontal, vertical_m=vertical)


def test_buffer_accuracy_does_not_depend_on_latitude() -> None:
    """The same 2 km gap between meridians at 0°, 60° and 80° N, within 5 cm."""
    for lat in (0.0, 60.0, 80.0):
        a = box(10.0, lat, 0.2, 0.1)
        metres_per_degree = float(geodesic_distance_m(10.0, lat + 0.1, 11.0, lat + 0.1))
        b = box(10.2 + 2_000.0 / metres_per_degree, lat, 0.2, 0.1)
        gap = distance_m(a, b)
        assert gap == pytest.approx(2_000.0, abs=2.0)
        va, vb = volume(a), volume(b)
        assert overlap(va, vb, Buffers(horizontal_m=gap + 0.05)) is not None, lat
        assert overlap(va, vb, Buffers(horizontal_m=gap - 0.05)) is None, lat


def test_overlap_needs_all_three_dimensions() -> None:
    base = volume(SQUARE)
    assert overlap(base, volume(SQUARE)) is not None
    assert overlap(base, volume(FOOTPRINTS["square_east"])) is None
    assert overlap(base, volume(SQUARE, 1_500.0, 2_000.0)) is None
    assert overlap(base, volume(SQUARE, start=T0 - HOUR, end=T0)) is None
    assert np.isclose(overlap(base, volume(SQUARE)).footprint.area, SQUARE.shape.area)  # type: ignore[union-attr]

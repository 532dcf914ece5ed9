"""Crossed outlines repaired within both limits (share and area), refused beyond either,
and the eight crossed TMAs of the Slovenian file (see :mod:`deconfliction.feeds.repair`)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deconfliction.core.footprint import Footprint, FootprintLimits
from deconfliction.errors import GeometryError
from deconfliction.feeds import load_openair, parse_geojson_zones, parse_openair
from deconfliction.feeds.repair import Repair, RepairPolicy, repair_polygon
from tests.feeds.realdata import shared_file

Ring = list[tuple[float, float]]


def _square_with_loop(side: float, loop: float) -> Ring:
    """A square of ``side`` degrees whose top edge makes a small bow-tie loop of about
    ``loop`` degrees: the edge runs past a point, crosses back over itself and goes on."""
    mid = side / 2
    return [
        (0.0, 0.0),
        (side, 0.0),
        (side, side),
        (mid, side),
        (mid + loop, side + loop),
        (mid + loop, side - loop / 10),  # back down across the edge drawn before
        (mid - loop, side),
        (0.0, side),
        (0.0, 0.0),
    ]


def _repaired(ring: Ring, policy: RepairPolicy) -> tuple[Footprint, Repair]:
    with pytest.raises(GeometryError) as refusal:
        Footprint.polygon(ring)
    return repair_polygon(ring, [], refusal.value, policy)


def test_a_small_loop_on_a_large_zone_is_repaired_and_reported() -> None:
    footprint, repair = _repaired(_square_with_loop(0.3, 0.002), RepairPolicy())
    assert footprint.shape.is_valid
    assert repair.kept == "largest part"
    assert repair.parts == 2
    assert "intersects itself near lon" in repair.problem
    assert 0 < repair.changed_m2 < 1e6
    assert repair.changed_fraction < 0.01
    assert footprint.area_m2 == pytest.approx(repair.kept_m2)
    assert "area changed by" in str(repair)


def test_both_limits_must_hold() -> None:
    ring = _square_with_loop(0.3, 0.002)
    _, repair = _repaired(ring, RepairPolicy())
    share_too_small = RepairPolicy(max_fraction=repair.changed_fraction / 2)
    area_too_small = RepairPolicy(max_m2=repair.changed_m2 / 2)
    for policy in (share_too_small, area_too_small):
        with pytest.raises(GeometryError, match="a repair would change its area by"):
            _repaired(ring, policy)


def test_a_figure_eight_of_equal_lobes_is_refused_with_the_change_it_would_make() -> None:
    eight: Ring = [(0, 0), (0.1, 0.1), (0.1, 0), (0, 0.1), (0, 0)]
    with pytest.raises(GeometryError) as refusal:
        _repaired(eight, RepairPolicy())
    message = refusal.value.message
    assert "intersects itself" in message
    assert "--repair-max-percent" in message


def test_a_ring_refused_for_its_size_is_not_repaired() -> None:
    square: Ring = [(0, 0), (1, 0), (1, 1), (0, 1), (0, 0)]
    limits = FootprintLimits(max_area_m2=1e6)
    with pytest.raises(GeometryError) as refusal:
        Footprint.polygon(square, limits=limits)
    with pytest.raises(GeometryError, match="more than the limit"):
        repair_polygon(square, [], refusal.value, RepairPolicy(), limits)


@given(
    side=st.floats(min_value=0.05, max_value=1.0),
    loop=st.floats(min_value=0.0001, max_value=0.01),
)
def test_a_repair_never_exceeds_its_limits(side: float, loop: float) -> None:
    """Whatever the loop, a repair that is accepted changes the area by less than both
    limits, and its footprint is valid; a refusal says why."""
    ring = _square_with_loop(side, loop)
    policy = RepairPolicy(max_fraction=0.005, max_m2=5e5)
    refusal = ""
    try:
        footprint, repair = _repaired(ring, policy)
    except GeometryError as error:
        refusal = error.message
    if refusal:
        assert "a repair would change its area" in refusal
        return
    assert footprint.shape.is_valid
    assert repair.changed_m2 < policy.max_m2
    assert repair.changed_fraction < policy.max_fraction


OPENAIR_LOOP = "AC R\nAN LOOPED\nAL GND\nAH FL100\n" + "".join(
    f"DP {lat:.5f} N {lon:.5f} E\n" for lon, lat in _square_with_loop(0.3, 0.002)[:-1]
)


def test_openair_repairs_with_a_policy_and_refuses_without() -> None:
    strict = parse_openair(OPENAIR_LOOP)
    assert not strict.records
    assert "intersects itself" in strict.errors[0].message
    (record,) = parse_openair(OPENAIR_LOOP, repair=RepairPolicy()).records
    assert record.repair is not None
    assert record.repair.changed_m2 < 1e6


def test_geojson_repairs_with_a_policy_and_refuses_without() -> None:
    document = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "LOOPED", "lower_m": 0, "upper_m": 3000},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[list(p) for p in _square_with_loop(0.3, 0.002)]],
                },
            }
        ],
    }
    assert len(parse_geojson_zones(document).errors) == 1
    (record,) = parse_geojson_zones(document, repair=RepairPolicy()).records
    assert record.repair is not None
    assert record.repair.kept == "largest part"


def test_slovenia_files_all_58_with_its_8_crossed_tmas_repaired() -> None:
    airspace = load_openair(shared_file("airspace", "slovenia.openair"), repair=RepairPolicy())
    assert len(airspace.records) == 58
    assert not airspace.errors
    repaired = [r for r in airspace.records if r.repair is not None]
    assert [r.origin.line for r in repaired] == [8, 40, 285, 407, 883, 1094, 1319, 1353]
    for record in repaired:
        assert record.repair is not None
        assert "TMA" in record.name
        assert record.repair.changed_m2 < 1e6  # 0.007-0.8 km²
        assert record.repair.changed_fraction < 0.001  # of 657-9,734 km²
        assert record.repair.kept_m2 > 600e6

"""Aircraft against 4D volumes: intrusions into others' volumes, nonconformance with
one's own notice. Hand cases for the semantics, and hypothesis against a reference that
samples the path every half second and asks shapely, with its own Earth arithmetic."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon

from deconfliction.core.earth import WGS84, LocalPlane
from deconfliction.core.volume import Volume4D
from deconfliction.errors import TimeWindowError, ValidationError
from deconfliction.tactical import TrafficState, intrusions, nonconformance
from deconfliction.tactical.volumes import CONFORMANCE_TOLERANCE_M
from tests.tactical.scalar import ecef, enu, velocity
from tests.zoo import FOOTPRINTS, box

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
T = 300.0


def vol(
    name: str,
    lower: float = 0.0,
    upper: float = 3_000.0,
    start_s: float = -3_600.0,
    end_s: float = 3_600.0,
) -> Volume4D:
    return Volume4D(
        FOOTPRINTS[name],
        lower,
        upper,
        NOW + timedelta(seconds=start_s),
        NOW + timedelta(seconds=end_s),
    )


def traffic(*planes: dict[str, Any]) -> TrafficState:
    defaults = {"alt_m": 1_000.0, "gs_mps": 0.0, "trk_deg": 0.0, "vs_mps": 0.0, "party": 1}
    rows = [defaults | p for p in planes]
    return TrafficState(
        ids=[f"ac{k}" for k in range(len(rows))],
        **{
            name: [r[name] for r in rows]
            for name in ("party", "lon", "lat", "alt_m", "gs_mps", "trk_deg", "vs_mps")
        },
    )


def west_of(name: str, metres: float) -> tuple[float, float]:
    """A point ``metres`` west of the middle of the footprint's west edge."""
    x0, y0, _, y1 = FOOTPRINTS[name].bounds
    lon, lat, _ = WGS84.fwd(x0, (y0 + y1) / 2.0, 270.0, metres)
    return float(lon), float(lat)


# -- intrusions, by hand -------------------------------------------------------------------


def test_an_aircraft_flying_in_enters_when_it_crosses_the_edge() -> None:
    lon, lat = west_of("square", 3_000.0)
    found = intrusions(
        traffic({"lon": lon, "lat": lat, "gs_mps": 100.0, "trk_deg": 90.0}),
        [vol("square")],
        owner=[2],
        now=NOW,
    )
    assert found.aircraft.tolist() == [0]
    assert float(found.tin[0]) == pytest.approx(30.0, abs=0.2)
    assert not found.inside[0]


def test_inside_now_is_an_entry_at_zero_and_the_owner_is_no_intruder() -> None:
    state = traffic(
        {"lon": 8.55, "lat": 47.45, "party": 1}, {"lon": 8.55, "lat": 47.45, "party": 2}
    )
    found = intrusions(state, [vol("square")], owner=[2], now=NOW)
    assert (found.aircraft.tolist(), found.tin.tolist(), found.inside.tolist()) == (
        [0],
        [0.0],
        [True],
    )


def test_a_volume_that_opens_later_is_entered_when_it_opens() -> None:
    state = traffic({"lon": 8.55, "lat": 47.45})
    found = intrusions(state, [vol("square", start_s=120.0)], owner=[2], now=NOW)
    assert found.tin.tolist() == [120.0]
    assert intrusions(state, [vol("square", start_s=T)], owner=[2], now=NOW).tin.size == 0
    assert intrusions(state, [vol("square", end_s=0.0)], owner=[2], now=NOW).tin.size == 0


def test_climbing_into_the_band_is_timed_by_the_climb() -> None:
    state = traffic({"lon": 8.55, "lat": 47.45, "alt_m": 2_000.0, "vs_mps": 10.0})
    found = intrusions(state, [vol("square", lower=3_000.0, upper=6_000.0)], owner=[2], now=NOW)
    assert found.tin.tolist() == pytest.approx([100.0])
    level = traffic({"lon": 8.55, "lat": 47.45, "alt_m": 3_000.0})  # on the floor: outside
    floor = vol("square", lower=3_000.0, upper=6_000.0)
    assert len(intrusions(level, [floor], owner=[2], now=NOW)) == 0


def test_the_hole_of_a_volume_is_outside_it() -> None:
    in_hole = traffic({"lon": 8.53, "lat": 47.43})
    assert len(intrusions(in_hole, [vol("holed_square")], owner=[2], now=NOW)) == 0
    leaving = traffic({"lon": 8.53, "lat": 47.43, "gs_mps": 100.0, "trk_deg": 90.0})
    found = intrusions(leaving, [vol("holed_square")], owner=[2], now=NOW)
    _, _, to_edge = WGS84.inv(8.53, 47.43, 8.54, 47.43)  # the hole's east edge
    assert float(found.tin[0]) == pytest.approx(float(to_edge) / 100.0, abs=0.5)


def test_the_notch_of_a_concave_volume_is_outside_it() -> None:
    north = traffic({"lon": 8.53, "lat": 47.43, "gs_mps": 150.0, "trk_deg": 0.0})
    assert len(intrusions(north, [vol("concave_u")], owner=[2], now=NOW)) == 0
    east = traffic({"lon": 8.53, "lat": 47.43, "gs_mps": 150.0, "trk_deg": 90.0})
    assert len(intrusions(east, [vol("concave_u")], owner=[2], now=NOW)) == 1


def test_a_volume_at_the_antimeridian_is_entered_from_across_it() -> None:
    state = traffic({"lon": -179.98, "lat": -16.95, "gs_mps": 200.0, "trk_deg": 270.0})
    found = intrusions(state, [vol("antimeridian_east")], owner=[2], now=NOW)
    assert float(found.tin[0]) == pytest.approx(2_130.0 / 200.0, rel=0.01)


def test_intrusion_input_is_checked() -> None:
    state = traffic({"lon": 8.55, "lat": 47.45})
    with pytest.raises(ValidationError, match="one party code per volume"):
        intrusions(state, [vol("square")], owner=[1, 2], now=NOW)
    with pytest.raises(TimeWindowError, match="no time zone"):
        intrusions(state, [vol("square")], owner=[2], now=NOW.replace(tzinfo=None))
    with pytest.raises(ValidationError, match="lookahead_s"):
        intrusions(state, [vol("square")], owner=[2], now=NOW, lookahead_s=-1.0)


# -- nonconformance, by hand ---------------------------------------------------------------


def test_an_aircraft_inside_its_notice_conforms_until_it_leaves() -> None:
    state = traffic(
        {"lon": 8.55, "lat": 47.45},  # stays in the middle
        {"lon": 8.59, "lat": 47.45, "gs_mps": 100.0, "trk_deg": 90.0},  # about to leave
        {"lon": 8.75, "lat": 47.45},  # outside already
    )
    notice = [vol("square")]
    found = nonconformance(state, {0: notice, 1: notice, 2: notice}, now=NOW)
    assert found.aircraft.tolist() == [1, 2]
    _, _, to_edge = WGS84.inv(8.59, 47.45, 8.60, 47.45)
    assert float(found.tleave[0]) == pytest.approx(float(to_edge) / 100.0, abs=0.5)
    assert found.outside.tolist() == [False, True]


def test_moving_between_the_volumes_of_one_notice_conforms() -> None:
    state = traffic({"lon": 8.59, "lat": 47.45, "gs_mps": 100.0, "trk_deg": 90.0})
    both = [vol("square"), vol("square_east")]
    assert len(nonconformance(state, {0: both}, now=NOW, lookahead_s=60.0)) == 0
    assert len(nonconformance(state, {0: both[:1]}, now=NOW, lookahead_s=60.0)) == 1
    # Further on it leaves the second volume by its far edge (8.7° E), 83 s from now.
    (tleave,) = nonconformance(state, {0: both}, now=NOW).tleave.tolist()
    assert tleave == pytest.approx(83.0, abs=0.1)


def test_the_seams_of_a_large_notice_are_not_gaps() -> None:
    """Two adjacent 3° x 3° volumes, the seam crossed 70 km ahead at 250 m/s: judged on
    planes centred on each volume, the seam would open a ~15 m gap."""
    band = (0.0, 13_000.0, NOW - timedelta(hours=1), NOW + timedelta(hours=1))
    notice = [Volume4D(box(7.0, 46.0, 3.0, 3.0), *band), Volume4D(box(10.0, 46.0, 3.0, 3.0), *band)]
    planes = []
    for trk in (60.0, 90.0, 120.0):
        lon, lat, _ = WGS84.fwd(10.0, 47.5, trk + 180.0, 250.0 * 280.0)
        planes.append({"lon": lon, "lat": lat, "alt_m": 5_000.0, "gs_mps": 250.0, "trk_deg": trk})
    assert len(nonconformance(traffic(*planes), dict.fromkeys(range(3), notice), now=NOW)) == 0


def test_flying_on_the_floor_between_two_stacked_volumes_conforms() -> None:
    notice = [vol("square", 0.0, 3_000.0), vol("square", 3_000.0, 6_000.0)]
    on_the_seam = traffic({"lon": 8.55, "lat": 47.45, "alt_m": 3_000.0})
    assert len(nonconformance(on_the_seam, {0: notice}, now=NOW)) == 0
    assert len(nonconformance(on_the_seam, {0: notice[:1]}, now=NOW)) == 0  # 1 m of grace
    above = traffic({"lon": 8.55, "lat": 47.45, "alt_m": 3_002.0})
    assert nonconformance(above, {0: notice[:1]}, now=NOW).outside.tolist() == [True]


def test_a_notice_that_ends_or_a_descent_below_it_is_nonconforming() -> None:
    still = traffic({"lon": 8.55, "lat": 47.45, "alt_m": 1_000.0, "vs_mps": -5.0})
    found = nonconformance(still, {0: [vol("square", lower=500.0, end_s=T)]}, now=NOW)
    grace = CONFORMANCE_TOLERANCE_M / 5.0
    assert found.tleave.tolist() == pytest.approx([100.0 + grace])
    level = traffic({"lon": 8.55, "lat": 47.45})
    found = nonconformance(level, {0: [vol("square", end_s=200.0)]}, now=NOW)
    assert found.tleave.tolist() == [200.0]


def test_untagged_aircraft_and_bad_rows() -> None:
    state = traffic({"lon": 8.75, "lat": 47.45})
    assert len(nonconformance(state, {}, now=NOW)) == 0
    with pytest.raises(ValidationError, match="outside the state's 1 aircraft"):
        nonconformance(state, {3: [vol("square")]}, now=NOW)


# -- against a sampling reference ----------------------------------------------------------


class Reference:
    """Whether a volume holds an aircraft at time t, the obvious way: the aircraft's
    point P + v t from scalar arithmetic, the footprint (densified as the strategic test
    does, grown by ``grow_m``) on core's LocalPlane at ``centre``, shapely's containment.
    The centre defaults to the footprint's centroid, as for intrusions."""

    def __init__(
        self, volume: Volume4D, centre: tuple[float, float] | None = None, grow_m: float = 0.0
    ) -> None:
        self.volume = volume
        self.grow_m = grow_m
        if centre is None:
            centroid = volume.footprint.shape.centroid
            centre = (centroid.x, centroid.y)
        self.origin = ecef(*centre)
        self.east, self.north, _ = enu(*centre)
        plane = LocalPlane(*centre)
        dense = shapely.segmentize(volume.footprint.shape, 0.05)
        rings = [np.asarray(r.coords) for r in [dense.exterior, *dense.interiors]]
        projected = [np.column_stack(plane.to_xy(r[:, 0], r[:, 1])) for r in rings]
        self.polygon = Polygon(projected[0], projected[1:]).buffer(grow_m)

    def holds(self, state: TrafficState, k: int, t: float) -> bool:
        v = self.volume
        if not (v.start <= NOW + timedelta(seconds=t) < v.end):
            return False
        alt = float(state.alt_m[k] + state.vs_mps[k] * t)
        if not (v.lower_m - self.grow_m < alt < v.upper_m + self.grow_m):
            return False
        p = ecef(float(state.lon[k]), float(state.lat[k]))
        w = velocity(state, k)
        offset = [p[a] + w[a] * t - self.origin[a] for a in range(3)]
        x = sum(offset[a] * self.east[a] for a in range(3))
        y = sum(offset[a] * self.north[a] for a in range(3))
        return bool(shapely.contains_xy(self.polygon, x, y))


def notice_centre(notice: Sequence[Volume4D]) -> tuple[float, float]:
    """The centre of a notice: its footprints' centroids averaged as unit vectors."""
    vectors = []
    for v in notice:
        c = v.footprint.shape.centroid
        lam, phi = math.radians(c.x), math.radians(c.y)
        vectors.append(
            (math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi))
        )
    x, y, z = (sum(axis) for axis in zip(*vectors, strict=True))
    return math.degrees(math.atan2(y, x)), math.degrees(math.atan2(z, math.hypot(x, y)))


_NAMES = ["square", "concave_u", "holed_square", "circle_3km", "antimeridian_east", "high_latitude"]
_FAR_NAMES = ["huge", "circle_3km", "high_latitude", "antimeridian_east"]
_SAMPLES = np.arange(0.0, T, 0.5)
_AFTER = 1e-3  # s: the reference must hold (or not) just after a reported time


@st.composite
def volumes(draw: st.DrawFn, names: Sequence[str] = _NAMES) -> Volume4D:
    lower = draw(st.sampled_from([0.0, 500.0, 1_500.0]))
    start_s = draw(st.sampled_from([-3_600.0, 60.0, 200.0]))
    return vol(
        draw(st.sampled_from(names)),
        lower=lower,
        upper=lower + draw(st.sampled_from([500.0, 3_000.0])),
        start_s=start_s,
        end_s=max(start_s, 0.0) + draw(st.sampled_from([40.0, 150.0, 3_600.0])),
    )


@st.composite
def near(
    draw: st.DrawFn,
    volume: Volume4D,
    n: int,
    distance_m: float = 25_000.0,
    speed_mps: float = 250.0,
) -> TrafficState:
    centre = volume.footprint.shape.centroid
    az = draw(st.lists(st.floats(0, 360), min_size=n, max_size=n))
    dist = draw(st.lists(st.floats(0, distance_m), min_size=n, max_size=n))
    lon, lat, _ = WGS84.fwd([centre.x] * n, [centre.y] * n, az, dist)
    return TrafficState(
        ids=[f"ac{k}" for k in range(n)],
        party=draw(st.lists(st.integers(1, 2), min_size=n, max_size=n)),
        lon=lon,
        lat=lat,
        alt_m=draw(st.lists(st.floats(0, 4_000), min_size=n, max_size=n)),
        gs_mps=draw(
            st.lists(st.one_of(st.just(0.0), st.floats(0, speed_mps)), min_size=n, max_size=n)
        ),
        trk_deg=draw(st.lists(st.floats(0, 360), min_size=n, max_size=n)),
        vs_mps=draw(st.lists(st.one_of(st.just(0.0), st.floats(-15, 15)), min_size=n, max_size=n)),
    )


_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _first_sample(flags: Sequence[bool]) -> float:
    return next((float(t) for t, f in zip(_SAMPLES, flags, strict=True) if f), math.inf)


def _grazes_at_start(state: TrafficState, k: int, volume: Volume4D) -> bool:
    """Whether aircraft ``k`` starts so close to a limit of the band, heading out, that it
    leaves it within ``_AFTER``: a touch sampling cannot see (hypothesis found 3e-232 m
    above a 0 m floor, descending), which the engine may call an instant in or out."""
    alt, vs = float(state.alt_m[k]), float(state.vs_mps[k])
    return 0.0 < alt - volume.lower_m <= -vs * _AFTER or 0.0 < volume.upper_m - alt <= vs * _AFTER


@_SETTINGS
@given(data=st.data(), far=st.booleans())
def test_intrusions_agree_with_sampling(data: st.DataObject, far: bool) -> None:
    """Near: aircraft within 25 km at up to 250 m/s. Far: up to 320 km away at up to
    1,000 m/s, where the straight path rises kilometres off the ellipsoid."""
    volume = data.draw(volumes(names=_FAR_NAMES if far else _NAMES))
    state = data.draw(
        near(volume, 6, distance_m=320_000.0, speed_mps=1_000.0) if far else near(volume, 6)
    )
    found = intrusions(state, [volume], owner=[2], now=NOW, lookahead_s=T)
    reported = dict(zip(found.aircraft.tolist(), found.tin.tolist(), strict=True))
    reference = Reference(volume)
    for k in range(len(state)):
        first = _first_sample([reference.holds(state, k, float(t)) for t in _SAMPLES])
        if state.party[k] == 2:
            assert k not in reported
            continue
        if _grazes_at_start(state, k, volume):
            continue
        tin = reported.get(k, math.inf)
        assert tin <= first + 1e-9, (k, tin, first)  # no sample inside before it
        if k in reported:
            assert reference.holds(state, k, tin + _AFTER), (k, tin)  # and inside from it


@_SETTINGS
@given(data=st.data())
def test_nonconformance_agrees_with_sampling(data: st.DataObject) -> None:
    first_volume = data.draw(volumes())
    notice = [first_volume, *data.draw(st.lists(volumes(), max_size=1))]
    state = data.draw(near(first_volume, 4))
    found = nonconformance(state, dict.fromkeys(range(len(state)), notice), now=NOW)
    reported = dict(zip(found.aircraft.tolist(), found.tleave.tolist(), strict=True))
    centre = notice_centre(notice)
    references = [Reference(v, centre, CONFORMANCE_TOLERANCE_M) for v in notice]

    def held(k: int, t: float) -> bool:
        return any(r.holds(state, k, t) for r in references)

    for k in range(len(state)):
        first_out = _first_sample([not held(k, float(t)) for t in _SAMPLES])
        tleave = reported.get(k, math.inf)
        assert tleave <= first_out + 1e-9, (k, tleave, first_out)
        if k in reported:
            assert not held(k, tleave + _AFTER), (k, tleave)

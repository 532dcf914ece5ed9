"""One tick's findings against brute-force references, and what each side is told.

* track-track: the engine's single wide pass plus per-pair re-checks must return exactly
  what the all-pairs reference returns pair by pair under that pair's own minima
  (hypothesis, awkward places included: antimeridian, poles);
* track-volume: one finding per (aircraft, notice), the earliest entry within the
  pair's look-ahead, against the volume test aircraft by aircraft;
* nonconforming: the aircraft's party and every party it threatens are told.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deconfliction.tactical import DetectionParams, TrafficState, detect_all_pairs, intrusions
from deconfliction.tracks.engine import (
    NONCONFORMING,
    TRACK_TRACK,
    TRACK_VOLUME,
    Airspace,
    Separation,
    nonconforming,
    reachable_volumes,
    track_track,
    track_volume,
    volume_caps,
)
from deconfliction.tracks.reckoning import advance
from deconfliction.tracks.registry import Snapshot
from tests.tactical.test_volumes import _FAR_NAMES as FAR_NAMES
from tests.tactical.test_volumes import _NAMES as NAMES
from tests.tactical.test_volumes import NOW as VOLUME_NOW
from tests.tactical.test_volumes import T as VOLUME_T
from tests.tactical.test_volumes import near as near_zone
from tests.tactical.test_volumes import volumes as volume_zoo
from tests.tactical.traffic import states
from tests.zoo import box, east_of, volume

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def snapshot(state: TrafficState, notice: tuple[str | None, ...] | None = None) -> Snapshot:
    tags = notice if notice is not None else (None,) * len(state)
    return Snapshot(NOW.timestamp(), state, tags, np.zeros(len(state)))


def plain(state: TrafficState) -> TrafficState:
    """The state without per-aircraft zones (the service sets none)."""
    return TrafficState(
        ids=state.ids,
        party=state.party,
        lon=state.lon,
        lat=state.lat,
        alt_m=state.alt_m,
        gs_mps=state.gs_mps,
        trk_deg=state.trk_deg,
        vs_mps=state.vs_mps,
    )


_params = st.builds(
    DetectionParams,
    rpz_m=st.sampled_from([1852.0, 5556.0, 9260.0, 18520.0]),
    hpz_m=st.sampled_from([152.4, 304.8, 609.6]),
    lookahead_s=st.sampled_from([60.0, 120.0, 300.0]),
)


@st.composite
def separations(draw: st.DrawFn, parties: int = 4) -> Separation:
    pairs = draw(
        st.dictionaries(
            st.tuples(st.integers(0, parties - 1), st.integers(0, parties - 1))
            .filter(lambda p: p[0] < p[1])
            .map(tuple),
            _params,
            max_size=4,
        )
    )
    return Separation(draw(_params), pairs)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(states(max_aircraft=16), separations())
def test_track_track_matches_the_reference_pair_by_pair(
    drawn: TrafficState, separation: Separation
) -> None:
    state = plain(drawn)
    found = {f.key: f for f in track_track(snapshot(state), separation)}
    expected = {}
    for i in range(len(state)):
        for j in range(i + 1, len(state)):
            if state.party[i] == state.party[j]:
                continue
            pair = state.take([i, j])
            ref = detect_all_pairs(pair, separation.of(int(state.party[i]), int(state.party[j])))
            if len(ref):
                a, b = sorted((str(state.ids[i]), str(state.ids[j])))
                expected[(TRACK_TRACK, a, b)] = ref
    assert set(found) == set(expected)
    for key, ref in expected.items():
        f = found[key]
        assert (f.tin_s, f.tout_s, f.dcpa_m, f.inside) == (
            float(ref.tin[0]),
            float(ref.tout[0]),
            float(ref.dcpa[0]),
            bool(ref.los[0]),
        )
        assert [s.at_s for s in f.sides] == [float(ref.tcpa[0])] * 2


def test_each_side_sees_the_other_aircraft_at_closest_approach() -> None:
    lon_b, lat_b = east_of(2.0, 49.0, 30_000.0)
    state = TrafficState(
        ids=["zz9", "aa1"],
        party=[7, 3],
        lon=[2.0, lon_b],
        lat=[49.0, lat_b],
        alt_m=[10_000.0, 10_100.0],
        gs_mps=[200.0, 150.0],
        trk_deg=[90.0, 270.0],
        vs_mps=[0.0, -1.0],
    )
    (finding,) = track_track(snapshot(state, ("ntc_z", None)), Separation())
    assert finding.key == (TRACK_TRACK, "aa1", "zz9")
    first, second = finding.sides
    assert (first.party, first.counterpart, first.aircraft, first.notice) == (3, 7, "aa1", None)
    assert (second.party, second.counterpart, second.aircraft, second.notice) == (
        7,
        3,
        "zz9",
        "ntc_z",
    )
    tcpa = first.at_s
    assert tcpa == pytest.approx(30_000.0 / 350.0, rel=1e-3)
    at = advance(state.lon, state.lat, state.alt_m, state.gs_mps, state.trk_deg, state.vs_mps, tcpa)
    assert first.point == (float(at.lon[0]), float(at.lat[0]), float(at.alt_m[0]))  # zz9's
    assert second.point == (float(at.lon[1]), float(at.lat[1]), float(at.alt_m[1]))  # aa1's


def test_pairs_of_one_party_are_not_conflicts_and_agreements_set_the_minima() -> None:
    lon_b, lat_b = east_of(8.0, 47.0, 4_000.0)
    state = TrafficState(
        ids=["a", "b", "c"],
        party=[1, 2, 2],
        lon=[8.0, lon_b, lon_b],
        lat=[47.0, lat_b, lat_b],
        alt_m=[3000.0, 3000.0, 3000.0],
        gs_mps=[0.0, 0.0, 0.0],
        trk_deg=[0.0, 0.0, 0.0],
        vs_mps=[0.0, 0.0, 0.0],
    )
    default = track_track(snapshot(state), Separation())
    assert [f.key for f in default] == [(TRACK_TRACK, "a", "b"), (TRACK_TRACK, "a", "c")]
    assert all(f.inside and math.isinf(f.tout_s) for f in default)
    close = Separation(pairs={(1, 2): DetectionParams(rpz_m=3_000.0)})
    assert track_track(snapshot(state), close) == []


H1 = timedelta(hours=1)
ZONE = volume(box(8.0, 47.0, 0.2, 0.2), 0.0, 6000.0, NOW, NOW + H1)
ZONE_LATER = volume(box(8.0, 47.0, 0.2, 0.2), 0.0, 6000.0, NOW + timedelta(seconds=200), NOW + H1)
FAR = volume(box(9.0, 47.0, 0.2, 0.2), 0.0, 6000.0, NOW, NOW + H1)


def _westerly(ids: list[str], party: list[int], lon: list[float]) -> TrafficState:
    """Aircraft at 47.1 N flying east at 100 m/s, 3,000 m."""
    n = len(ids)
    return TrafficState(
        ids=ids,
        party=party,
        lon=lon,
        lat=[47.1] * n,
        alt_m=[3000.0] * n,
        gs_mps=[100.0] * n,
        trk_deg=[90.0] * n,
        vs_mps=[0.0] * n,
    )


def test_track_volume_takes_the_earliest_entry_per_notice_within_the_pairs_look_ahead() -> None:
    state = _westerly(["in", "near", "mine", "late"], [1, 2, 5, 3], [8.1, 7.95, 8.1, 7.7])
    airspace = Airspace(
        volumes=(ZONE_LATER, ZONE, FAR),
        owner=(5, 5, 6),
        notice=("ntc_zone", "ntc_zone", "ntc_far"),
    )
    separation = Separation(pairs={(3, 5): DetectionParams(lookahead_s=120.0)})
    found = {f.key: f for f in track_volume(snapshot(state), separation, airspace)}
    assert set(found) == {(TRACK_VOLUME, "in", "ntc_zone"), (TRACK_VOLUME, "near", "ntc_zone")}
    inside = found[(TRACK_VOLUME, "in", "ntc_zone")]
    assert (inside.tin_s, inside.inside, inside.horizon_s) == (0.0, True, 300.0)
    near = found[(TRACK_VOLUME, "near", "ntc_zone")]
    reference = intrusions(state.take([1]), [ZONE, ZONE_LATER], [5, 5], NOW, 300.0)
    assert near.tin_s == pytest.approx(float(reference.tin.min()), rel=1e-12)  # rounding
    intruder, owner = near.sides
    assert (intruder.party, intruder.counterpart, intruder.aircraft) == (2, 5, "near")
    assert (owner.party, owner.counterpart, owner.aircraft, owner.notice) == (
        5,
        2,
        None,
        "ntc_zone",
    )
    entry = advance(
        state.lon[[1]], state.lat[[1]], state.alt_m[[1]], state.gs_mps[[1]], state.trk_deg[[1]],
        state.vs_mps[[1]], near.tin_s,
    )  # fmt: skip
    assert owner.point == intruder.point == (entry.lon[0], entry.lat[0], entry.alt_m[0])
    # "late" reaches the zone after ~230 s: inside the default look-ahead, not its pair's.
    assert len(intrusions(state.take([3]), [ZONE], [5], NOW, 300.0)) == 1


def test_nonconforming_tells_the_party_and_every_party_it_threatens() -> None:
    own = (volume(box(7.0, 47.0, 0.95, 0.2), 0.0, 6000.0, NOW, NOW + H1),)
    state = _westerly(["leaving", "staying", "orphan"], [1, 1, 1], [7.9, 7.1, 7.1])
    airspace = Airspace(
        volumes=(ZONE,),
        owner=(5,),
        notice=("ntc_zone",),
        tagged={"ntc_own": own, "ntc_closed": ()},
    )
    snap = snapshot(state, ("ntc_own", "ntc_own", "ntc_closed"))
    separation = Separation()
    intruding = track_volume(snap, separation, airspace)
    found = {f.key: f for f in nonconforming(snap, separation, airspace, intruding)}
    assert set(found) == {
        (NONCONFORMING, "leaving", "ntc_own"),
        (NONCONFORMING, "orphan", "ntc_closed"),
    }
    leaving = found[(NONCONFORMING, "leaving", "ntc_own")]
    assert not leaving.inside
    assert 0 < leaving.tin_s < 300
    mine, theirs = leaving.sides
    assert (mine.party, mine.counterpart, mine.aircraft, mine.notice) == (
        1,
        1,
        "leaving",
        "ntc_own",
    )
    assert (theirs.party, theirs.counterpart, theirs.aircraft, theirs.notice) == (
        5,
        1,
        None,
        "ntc_zone",
    )
    assert theirs.at_s == intruding[0].tin_s
    orphan = found[(NONCONFORMING, "orphan", "ntc_closed")]
    assert orphan.inside
    assert orphan.tin_s == 0.0
    assert len(orphan.sides) == 1
    assert nonconforming(snap, separation, airspace, ())[0].sides == (mine,)


def test_empty_and_single_party_ticks_find_nothing() -> None:
    empty = _westerly([], [], [])
    assert track_track(snapshot(empty), Separation()) == []
    assert track_volume(snapshot(empty), Separation(), Airspace((ZONE,), (5,), ("n",))) == []
    lone = _westerly(["a", "b"], [1, 1], [8.1, 8.1001])
    assert track_track(snapshot(lone), Separation()) == []


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), far=st.booleans())
def test_the_reach_pass_never_drops_a_volume_an_aircraft_enters(
    data: st.DataObject, far: bool
) -> None:
    """Volumes of the volume tests' zoo (concave, holed, circles, across the
    antimeridian, near a pole); aircraft near them, or far (320 km, 1,000 m/s) where the
    straight path rises kilometres off the ellipsoid."""
    zone = data.draw(volume_zoo(names=FAR_NAMES if far else NAMES))
    state = data.draw(
        near_zone(zone, 6, distance_m=320_000.0, speed_mps=1_000.0) if far else near_zone(zone, 6)
    )
    exact = intrusions(state, [zone], owner=[99], now=VOLUME_NOW, lookahead_s=VOLUME_T)
    reachable = reachable_volumes(state, volume_caps([zone]), VOLUME_T)
    if len(exact):
        assert reachable.tolist() == [0]
    found = track_volume(
        Snapshot(VOLUME_NOW.timestamp(), state, (None,) * len(state), np.zeros(len(state))),
        Separation(DetectionParams(lookahead_s=VOLUME_T)),
        Airspace((zone,), (99,), ("ntc",)),
    )
    assert [f.key[1] for f in found] == sorted({str(state.ids[k]) for k in exact.aircraft})

"""Each party's feed read as its own (``party feed``): take-off speed, altitude quantum,
level dead band and ground hold per party, through the service on the manual clock.
A party with no settings of its own is read with the deployment's (test_service and
test_real_patterns run with none)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from deconfliction.clock import ManualClock
from deconfliction.core.units import FOOT_M
from deconfliction.parties import PartyRef
from deconfliction.party_feeds import PartyFeeds
from deconfliction.store.database import Database
from deconfliction.tracks.service import TrackService
from tests.conftest import MakeParty
from tests.tracks.test_service import SETTINGS, report, state
from tests.zoo import east_of


@pytest.fixture
def feeds(database: Database, clock: ManualClock) -> PartyFeeds:
    """The feed settings the service reads, remembered as the app remembers them; a
    change through them holds at once."""
    return PartyFeeds(database, clock, SETTINGS, cache_s=SETTINGS.auth_cache_s)


@pytest.fixture
def tracks(database: Database, clock: ManualClock, feeds: PartyFeeds) -> TrackService:
    return TrackService(database, clock, SETTINGS, feeds=feeds)


@pytest.fixture
def parties(make_party: MakeParty) -> dict[str, PartyRef]:
    return {name: make_party(name)[0] for name in ("Drones", "Survey", "Army", "Airline")}


def _drones(tracks: TrackService, clock: ManualClock, parties: dict[str, PartyRef]) -> None:
    """Drones' D1, 20 m up at 10 m/s, the lowest aircraft around (so within the ground
    height of the floor the feed teaches, a ground height below the lowest aircraft seen
    flying), head-on with Survey's S1 1 km east at 60 m, also at 10 m/s."""
    lon, _ = east_of(2.0, 49.0, 1_000.0)
    report(tracks, parties["Drones"], state("D1", clock, 2.0, alt_m=20.0, gs_mps=10.0))
    s1 = state("S1", clock, lon, alt_m=60.0, gs_mps=10.0, trk_deg=270.0)
    report(tracks, parties["Survey"], s1)


def test_a_drone_operator_s_slow_low_drones_take_part_with_a_take_off_speed_of_0(
    tracks: TrackService, clock: ManualClock, parties: dict[str, PartyRef], feeds: PartyFeeds
) -> None:
    _drones(tracks, clock, parties)
    snapshot = tracks.snapshot(clock.now())
    assert dict(zip(snapshot.state.ids, snapshot.state.on_ground, strict=True)) == {
        "D1": True,  # the airliners' take-off speed: D1 is taxiing
        "S1": False,
    }
    assert tracks.run_tick().found == 0
    feeds.set("Drones", {"track_takeoff_speed_mps": 0.0})
    assert not tracks.snapshot(clock.now()).state.on_ground.any()
    tick = tracks.run_tick()
    assert (tick.found, tick.opened) == (1, 1)
    (alert,) = tracks.alerts_of(parties["Drones"])
    assert (alert.kind, alert.track["aircraft"]) == ("track-track", "D1")
    assert [a.track["aircraft"] for a in tracks.alerts_of(parties["Survey"])] == ["S1"]
    # Back to the deployment's reading: D1 is on the ground again, the conflict resolves.
    feeds.set("Drones", {}, reset=["track_takeoff_speed_mps"])
    for _ in range(SETTINGS.track_resolve_ticks):
        tick = tracks.run_tick()
    assert (tick.found, tick.resolved) == (0, 1)


def _levels(
    tracks: TrackService, clock: ManualClock, parties: dict[str, PartyRef], dz_ft: float
) -> None:
    """Army's A1 at 3,000 m, head-on with Airline's L1 20 km away ``dz_ft`` above it."""
    lon, _ = east_of(2.0, 49.0, 20_000.0)
    report(tracks, parties["Army"], state("A1", clock, 2.0, alt_m=3_000.0))
    high = state("L1", clock, lon, alt_m=3_000.0 + dz_ft * FOOT_M, trk_deg=270.0)
    report(tracks, parties["Airline"], high)


def test_a_precise_feed_against_a_25_ft_feed_980_ft_apart_is_a_conflict(
    tracks: TrackService, clock: ManualClock, parties: dict[str, PartyRef], feeds: PartyFeeds
) -> None:
    # Both in 25 ft steps: 980 ft >= 1,000 - 25 ft, separated. Army's altitudes are
    # exact (quantum 0): the pair's limit is max(1,000 - 0, 1,000 - 25) = 1,000 ft, the
    # more precise feed governing, and 980 ft apart is a conflict.
    _levels(tracks, clock, parties, 980.0)
    assert tracks.run_tick().found == 0
    feeds.set("Army", {"track_altitude_quantum_m": 0.0})
    assert tracks.run_tick().opened == 1
    assert [a.track["aircraft"] for a in tracks.alerts_of(parties["Airline"])] == ["L1"]


def test_the_quantum_of_either_party_governs_a_pair_and_1000_ft_stays_separated(
    tracks: TrackService, clock: ManualClock, parties: dict[str, PartyRef], feeds: PartyFeeds
) -> None:
    feeds.set("Airline", {"track_altitude_quantum_m": 0.0})  # the other side this time
    _levels(tracks, clock, parties, 980.0)
    assert tracks.run_tick().opened == 1
    clock.advance(timedelta(seconds=1))
    _levels(tracks, clock, parties, 1_000.0)  # adjacent flight levels, exactly
    for _ in range(SETTINGS.track_resolve_ticks):
        tick = tracks.run_tick()
    assert (tick.found, tick.resolved) == (0, 1)


def test_each_party_s_level_dead_band(
    tracks: TrackService, clock: ManualClock, parties: dict[str, PartyRef], feeds: PartyFeeds
) -> None:
    # Army's A1 climbs at 0.33 m/s towards Airline's L1 one flight level above it, which
    # descends at 0.33 m/s: both within the deployment's 0.5 m/s band, both level.
    lon, _ = east_of(2.0, 49.0, 30_000.0)
    report(tracks, parties["Army"], state("A1", clock, 2.0, alt_m=3_000.0, vs_mps=0.33))
    high = state("L1", clock, lon, alt_m=3_304.8, trk_deg=270.0, vs_mps=-0.33)
    report(tracks, parties["Airline"], high)
    later = clock.now() + timedelta(seconds=8)
    alt = dict(zip(*_columns(tracks, later, "alt_m"), strict=True))
    assert alt == pytest.approx({"A1": 3_000.0, "L1": 3_304.8})
    assert tracks.run_tick().found == 0
    feeds.set("Army", {"track_level_vs_mps": 0.0})  # exact: A1 climbs
    alt = dict(zip(*_columns(tracks, later, "alt_m"), strict=True))
    assert alt == pytest.approx({"A1": 3_000.0 + 8 * 0.33, "L1": 3_304.8})
    assert tracks.run_tick().opened == 1
    # Both read exactly close at 0.66 m/s; with a band of 1 m/s for Army, A1 is level
    # again and L1 (the deployment's band) too: no conflict.
    feeds.set("Army", {"track_level_vs_mps": 1.0})
    for _ in range(SETTINGS.track_resolve_ticks):
        tick = tracks.run_tick()
    assert (tick.found, tick.resolved) == (0, 1)


def _columns(tracks: TrackService, at: Any, name: str) -> tuple[list[str], list[float]]:
    state = tracks.snapshot(at).state
    return state.ids.tolist(), getattr(state, name).tolist()


def test_each_party_s_ground_hold(
    tracks: TrackService, clock: ManualClock, parties: dict[str, PartyRef], feeds: PartyFeeds
) -> None:
    # Both parties' aircraft report "on the ground", then "airborne" 2 s later while
    # rolling level at 50 m/s: held on the ground 20 s, but Drones' feed holds none.
    feeds.set("Drones", {"track_ground_hold_s": 0.0})
    for party, ident, lon in (("Drones", "D1", 2.0), ("Survey", "S1", 2.5)):
        report(tracks, parties[party], state(ident, clock, lon, alt_m=0.0, on_ground=True))
    clock.advance(timedelta(seconds=2))
    for party, ident, lon in (("Drones", "D1", 2.0), ("Survey", "S1", 2.5)):
        report(tracks, parties[party], state(ident, clock, lon, alt_m=0.0, gs_mps=50.0))
    ids, flags = _columns(tracks, clock.now(), "on_ground")
    assert dict(zip(ids, flags, strict=True)) == {"D1": False, "S1": True}


def test_a_change_made_elsewhere_holds_within_the_cache_period(
    database: Database, clock: ManualClock, parties: dict[str, PartyRef]
) -> None:
    # The service remembers each party's feed settings for auth_cache_s (10 s); the
    # administrator's CLI writes them from another process (another PartyFeeds).
    remembered = PartyFeeds(
        database, clock, SETTINGS, cache_s=10.0, monotonic=lambda: clock.now().timestamp()
    )
    tracks = TrackService(database, clock, SETTINGS, feeds=remembered)
    _drones(tracks, clock, parties)
    assert tracks.run_tick().found == 0
    PartyFeeds(database, clock, SETTINGS).set("Drones", {"track_takeoff_speed_mps": 0.0})
    clock.advance(timedelta(seconds=5))
    _drones(tracks, clock, parties)
    assert tracks.run_tick().found == 0  # still the remembered settings
    clock.advance(timedelta(seconds=6))
    _drones(tracks, clock, parties)
    assert tracks.run_tick().found == 1


def test_the_plausibility_gate_allows_each_party_s_own_altitude_steps(
    tracks: TrackService, clock: ManualClock, parties: dict[str, PartyRef], feeds: PartyFeeds
) -> None:
    # 410 m higher 1 s later: 200 m/s for 1 s and 1 s of jitter (400 m), plus two
    # altitude quanta: 15.24 m for a 25-ft feed, none for Army's exact one.
    feeds.set("Army", {"track_altitude_quantum_m": 0.0})
    for party, ident in (("Army", "A1"), ("Airline", "L1")):
        report(tracks, parties[party], state(ident, clock, 2.0 + len(party), alt_m=3_000.0))
    clock.advance(timedelta(seconds=1))
    refused = {}
    for party, ident in (("Army", "A1"), ("Airline", "L1")):
        spike = state(ident, clock, 2.0 + len(party), alt_m=3_410.0)
        refused[ident] = [r.reason for r in tracks.report(parties[party], [spike]).rejected]
    assert refused["L1"] == []
    assert len(refused["A1"]) == 1
    assert refused["A1"][0].startswith("implausible track")

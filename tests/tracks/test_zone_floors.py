"""Floors given by an authority's standing zone (issue 9, Floor): the ground under a
high airfield's CTR, through the real service on the manual clock, on every store."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from sqlalchemy import select

from deconfliction.clock import ManualClock
from deconfliction.core.footprint import Footprint
from deconfliction.core.volume import Volume4D
from deconfliction.notices.model import NoticeDraft
from deconfliction.notices.service import NoticeService
from deconfliction.parties import PartyRef
from deconfliction.settings import Settings
from deconfliction.store.database import Database
from deconfliction.store.schema import Conflict
from deconfliction.tracks.floors import FloorMap
from deconfliction.tracks.service import TrackService
from deconfliction.tracks.zone_floors import ZoneFloors
from tests.conftest import MakeParty
from tests.tracks.test_service import parties, report, state, tracks
from tests.zoo import box

__all__ = ["parties", "tracks"]  # fixtures shared with test_service

AIRFIELD_M = 400.0
"""The field elevation of the high airfield under the CTR."""


def _box(west: float, south: float, east: float, north: float) -> Footprint:
    return box(west, south, east - west, north - south)


def _zone(
    database: Database,
    clock: ManualClock,
    authority: PartyRef,
    footprint: Footprint,
    floor_m: float = AIRFIELD_M,
    lower_m: float = AIRFIELD_M,
) -> str:
    """A standing zone filed as the authority, live from now for a year."""
    now = clock.now()
    ctr = Volume4D(footprint, lower_m, 3_000.0, now, now + timedelta(days=365), floor_m)
    filed = NoticeService(database, clock, Settings()).file(
        authority, NoticeDraft((ctr,), "CTR", standing=True)
    )
    return filed.notice.id


def _descending(lat: float, clock: ManualClock) -> tuple[dict[str, object], dict[str, object]]:
    """A and B 22 km apart, closing at 140 m/s from 450 m at 2 m/s down: within 5 NM
    after 90 s, at 270 m; they reach 400 m after 25 s, 0 m after 225 s."""
    return (
        state("A", clock, 2.40, lat=lat, alt_m=450.0, gs_mps=70.0, vs_mps=-2.0),
        state("B", clock, 2.70, lat=lat, alt_m=450.0, gs_mps=70.0, trk_deg=270.0, vs_mps=-2.0),
    )


def _open_between_aircraft(database: Database) -> int:
    with database.read() as session:
        kinds = session.scalars(select(Conflict.kind).where(Conflict.state == "open")).all()
    return kinds.count("track-track")


def _fly(
    tracks: TrackService, parties: dict[str, PartyRef], lat: float, clock: ManualClock
) -> None:
    a, b = _descending(lat, clock)
    report(tracks, parties["Alpha"], a)
    report(tracks, parties["Bravo"], b)
    tracks.run_tick()


def test_a_zone_floor_lands_a_descent_that_would_conflict_at_the_default_floor(
    tracks: TrackService,
    clock: ManualClock,
    parties: dict[str, PartyRef],
    database: Database,
    make_party: MakeParty,
) -> None:
    caa, _ = make_party("CAA", "authority")
    _zone(database, clock, caa, _box(2.2, 48.8, 2.9, 49.2))
    _fly(tracks, parties, 49.0, clock)  # inside the CTR: landed at 400 m after 25 s
    assert _open_between_aircraft(database) == 0


def test_the_same_descent_outside_the_zone_conflicts(
    tracks: TrackService,
    clock: ManualClock,
    parties: dict[str, PartyRef],
    database: Database,
    make_party: MakeParty,
) -> None:
    caa, _ = make_party("CAA", "authority")
    _zone(database, clock, caa, _box(2.2, 48.8, 2.9, 49.2))
    _fly(tracks, parties, 47.0, clock)  # far south of it: the default floor, 0 m
    assert _open_between_aircraft(database) == 1


def test_the_lowest_of_overlapping_zone_floors_holds(
    tracks: TrackService,
    clock: ManualClock,
    parties: dict[str, PartyRef],
    database: Database,
    make_party: MakeParty,
) -> None:
    caa, _ = make_party("CAA", "authority")
    _zone(database, clock, caa, _box(2.2, 48.8, 2.9, 49.2))
    _zone(database, clock, caa, _box(2.3, 48.9, 2.8, 49.1), floor_m=0.0, lower_m=0.0)
    _fly(tracks, parties, 49.0, clock)  # 0 m under both: a floor never silences
    assert _open_between_aircraft(database) == 1


def test_the_feed_reading_lower_still_lowers_a_zone_floor(
    tracks: TrackService,
    clock: ManualClock,
    parties: dict[str, PartyRef],
    database: Database,
    make_party: MakeParty,
) -> None:
    """Given in metres above mean sea level, a zone's floor can lie above what a
    barometric feed reads there on a high-pressure day: seen flying at 200 m beside the
    airfield, an aircraft says the floor is lower, and the descent is not landed."""
    caa, _ = make_party("CAA", "authority")
    _zone(database, clock, caa, _box(2.2, 48.8, 2.9, 49.2))
    report(tracks, parties["Charlie"], state("C", clock, 2.55, lat=49.3, alt_m=200.0, gs_mps=60))
    _fly(tracks, parties, 49.0, clock)
    assert _open_between_aircraft(database) == 1


def test_a_zone_floor_ends_with_its_notice(
    tracks: TrackService,
    clock: ManualClock,
    parties: dict[str, PartyRef],
    database: Database,
    make_party: MakeParty,
) -> None:
    caa, _ = make_party("CAA", "authority")
    ctr = _zone(database, clock, caa, _box(2.2, 48.8, 2.9, 49.2))
    NoticeService(database, clock, Settings()).cancel(caa, ctr)
    _fly(tracks, parties, 49.0, clock)
    assert _open_between_aircraft(database) == 1


def test_zone_floors_are_the_lowest_inside_and_none_outside(
    database: Database, clock: ManualClock, make_party: MakeParty
) -> None:
    caa, _ = make_party("CAA", "authority")
    _zone(database, clock, caa, _box(2.2, 48.8, 2.9, 49.2))
    _zone(database, clock, caa, _box(2.3, 48.9, 2.8, 49.1), floor_m=150.0, lower_m=200.0)
    zones = ZoneFloors()
    found = zones.at(database, clock.now())
    assert zones.at(database, clock.now()) is found  # the same volumes: the same index
    lon, lat = np.array([2.25, 2.5, 5.0]), np.array([49.15, 49.0, 49.0])
    assert found.under(lon, lat).tolist() == [400.0, 150.0, np.inf]
    floors = FloorMap(default_m=0.0, ground_height_m=30.0)
    floors.see(np.array([2.5]), np.array([49.0]), np.array([395.0]), np.array([True]))
    # a ground report in the cell comes first, then the zone's floor, then the default
    assert floors.under(lon, lat, found.under(lon, lat)).tolist() == [400.0, 395.0, 0.0]
    assert zones.at(database, clock.now() + timedelta(days=366)).tree is None  # ended


def test_a_zone_filed_later_is_felt_once_the_read_is_older_than_the_cache(
    database: Database, clock: ManualClock, make_party: MakeParty
) -> None:
    caa, _ = make_party("CAA", "authority")
    seconds = [0.0]
    zones = ZoneFloors(cache_s=10.0, timer=lambda: seconds[0])
    here = (np.array([2.5]), np.array([49.0]))
    assert zones.at(database, clock.now()).under(*here).tolist() == [np.inf]
    _zone(database, clock, caa, _box(2.2, 48.8, 2.9, 49.2))
    seconds[0] = 9.0
    assert zones.at(database, clock.now()).under(*here).tolist() == [np.inf]  # remembered
    seconds[0] = 10.0
    assert zones.at(database, clock.now()).under(*here).tolist() == [AIRFIELD_M]

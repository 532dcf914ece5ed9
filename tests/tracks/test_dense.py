"""Dense traffic through the tactical service on both store backends (issue 9, bounded tick).

Alpha and Bravo each fly a crowd of aircraft within about a kilometre of each other;
Charlie and Delta meet head-on far away. The crowd must become one ``track-cluster``
alert per party, not one alert per pair, and Charlie's alert must be written in the
same tick (on the manual clock: the tick is not allowed to defer it). A tick that
overruns its budget (on an injected timer, never the wall clock) sheds the least
urgent writes, tells the parties whose writes wait, and still writes one alert of
every pair of parties.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import numpy as np
from sqlalchemy import select

from deconfliction.clock import ManualClock
from deconfliction.journal.verify import verify_database
from deconfliction.parties import PartyRef
from deconfliction.settings import Settings
from deconfliction.store.database import Database
from deconfliction.store.schema import Alert, Conflict, Event
from deconfliction.tracks.service import TrackService
from tests.conftest import MakeParty
from tests.zoo import east_of

CROWD = 150  # per party: 22,500 pairs in conflict without clusters


def crowd(prefix: str, clock: ManualClock, seed: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    return [
        {
            "id": f"{prefix}{k:04d}",
            "time": clock.now().isoformat(),
            "lat": 47.0 + float(rng.uniform(-0.004, 0.004)),
            "lon": 8.0 + float(rng.uniform(-0.006, 0.006)),
            "alt_m": 3_000.0 + float(rng.uniform(-50.0, 50.0)),
            "gs_mps": 60.0,
            "trk_deg": float(rng.uniform(0.0, 360.0)),
            "vs_mps": 0.0,
        }
        for k in range(CROWD)
    ]


def plane(ident: str, clock: ManualClock, lon: float, trk_deg: float) -> dict[str, Any]:
    return {
        "id": ident,
        "time": clock.now().isoformat(),
        "lat": 40.0,
        "lon": lon,
        "alt_m": 10_000.0,
        "gs_mps": 200.0,
        "trk_deg": trk_deg,
        "vs_mps": 0.0,
    }


def events(database: Database, party: PartyRef) -> list[Event]:
    with database.read() as session:
        query = select(Event).where(Event.party_id == party.id).order_by(Event.seq)
        return list(session.scalars(query))


def test_a_crowd_is_one_cluster_alert_and_the_third_party_is_on_time(
    database: Database, clock: ManualClock, make_party: MakeParty
) -> None:
    names = ("Alpha", "Bravo", "Charlie", "Delta")
    alpha, bravo, charlie, delta = (make_party(name)[0] for name in names)
    tracks = TrackService(database, clock, Settings(track_tick_s=0, tick_s=0))
    for party, prefix, seed in ((alpha, "A", 1), (bravo, "B", 2)):
        assert tracks.report(party, crowd(prefix, clock, seed)).rejected == ()
    far, _ = east_of(20.0, 40.0, 30_000.0)
    assert tracks.report(charlie, [plane("C1", clock, 20.0, 90.0)]).rejected == ()
    assert tracks.report(delta, [plane("D1", clock, far, 270.0)]).rejected == ()

    tick = tracks.run_tick()

    assert (tick.opened, tick.open) == (2, 2)  # the cluster and Charlie-Delta, same tick
    with database.read() as session:
        kinds = sorted(session.scalars(select(Conflict.kind)))
        alerts = {a.party_id: a for a in session.scalars(select(Alert))}
    assert kinds == ["track-cluster", "track-track"]
    assert alerts[alpha.id].kind == alerts[bravo.id].kind == "track-cluster"
    assert alerts[charlie.id].kind == "track-track"
    told = json.loads(events(database, alpha)[0].payload)
    assert told["track"]["cluster"]["own"] == told["track"]["cluster"]["other"] == CROWD
    # no agreement: the counterpart is anonymous
    summary = f"{CROWD} aircraft of yours within 9,260 m of {CROWD} aircraft of another party's"
    assert told["track"]["cluster"]["summary"] == summary
    assert told["track"]["inside"] is True
    assert told["conflict"]["geometry"]["type"] == "Polygon"
    [charlie_told] = events(database, charlie)
    assert charlie_told.kind == "alert.created"
    assert json.loads(charlie_told.payload)["track"]["aircraft"] == "C1"

    [live] = tracks.alerts_of(bravo)
    assert (live.kind, live.track["cluster"]["own"]) == ("track-cluster", CROWD)

    clock.advance(timedelta(seconds=1))
    again = tracks.run_tick()
    assert (again.opened, again.updated, again.open) == (0, 0, 2)  # the same cluster
    assert verify_database(database).intact


def test_a_party_flying_into_a_crowd_is_clustered_with_both(
    database: Database, clock: ManualClock, make_party: MakeParty
) -> None:
    alpha, bravo, charlie = (make_party(name)[0] for name in ("Alpha", "Bravo", "Charlie"))
    tracks = TrackService(database, clock, Settings(track_tick_s=0, tick_s=0))
    a, b = crowd("A", clock, 1), crowd("B", clock, 2)
    tracks.report(alpha, a)
    tracks.report(bravo, b)
    tracks.report(charlie, [{**a[0], "id": "C1"}])

    tracks.run_tick()

    with database.read() as session:
        conflicts = sorted(
            (c.kind, c.a_party_id, c.b_party_id) for c in session.scalars(select(Conflict))
        )
    pairs = [(alpha.id, bravo.id), (alpha.id, charlie.id), (bravo.id, charlie.id)]
    assert conflicts == [("track-cluster", *pair) for pair in pairs]


def test_with_clusters_off_every_pair_is_its_own_alert(
    database: Database, clock: ManualClock, make_party: MakeParty
) -> None:
    alpha, bravo = (make_party(name)[0] for name in ("Alpha", "Bravo"))
    tracks = TrackService(
        database, clock, Settings(track_tick_s=0, tick_s=0, track_cluster_pairs=0)
    )
    tracks.report(alpha, crowd("A", clock, 1)[:3])
    tracks.report(bravo, crowd("B", clock, 2)[:4])
    assert tracks.run_tick().opened == 12


class SlowTimer:
    """A timer on which every reading is a second after the last: each tick overruns."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def test_an_overrunning_tick_sheds_the_least_urgent_and_tells_whose_wait(
    database: Database, clock: ManualClock, make_party: MakeParty
) -> None:
    names = ("Alpha", "Bravo", "Charlie", "Delta")
    alpha, bravo, charlie, delta = (make_party(name)[0] for name in names)
    tracks = TrackService(database, clock, Settings(track_tick_s=1.0, tick_s=0), timer=SlowTimer())
    for k in range(5):  # five head-on pairs, far apart, sooner and sooner
        lon, _ = east_of(2.0, 30.0 + k, 20_000.0 + 5_000.0 * k)
        tracks.report(alpha, [{**plane(f"A{k}", clock, 2.0, 90.0), "lat": 30.0 + k}])
        tracks.report(bravo, [{**plane(f"B{k}", clock, lon, 270.0), "lat": 30.0 + k}])
    far, _ = east_of(20.0, 40.0, 60_000.0)
    tracks.report(charlie, [plane("C1", clock, 20.0, 90.0)])
    tracks.report(delta, [plane("D1", clock, far, 270.0)])

    first = tracks.run_tick()

    assert (first.opened, first.shed) == (2, 4)  # one per pair of parties: Charlie not held up
    assert [e.kind for e in events(database, charlie)] == ["alert.created"]
    for party in (alpha, bravo):
        kinds = [e.kind for e in events(database, party)]
        assert kinds == ["alert.created", "tracks.shed"]
        told = json.loads(events(database, party)[1].payload)
        assert told["deferred"] == 4
    assert json.loads(events(database, alpha)[0].payload)["track"]["aircraft"] == "A0"  # soonest

    later = [tracks.run_tick() for _ in range(4)]
    assert [t.opened for t in later] == [1, 1, 1, 1]
    assert [e.kind for e in events(database, alpha)].count("tracks.shed") == 1  # once a spell
    assert tracks.run_tick().shed == 0
    assert verify_database(database).intact

"""The tactical service on both store backends: tracks in, ticks, conflicts, alerts, journal.

Each test reports states for a few aircraft of different parties and runs ticks at the
manual clock's time; it then reads what the store holds: conflict and alert rows, each
party's events (what it was told) and the journal.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from deconfliction.agreements.service import AgreementService
from deconfliction.agreements.terms import ANONYMOUS_COUNTERPART, Disclosure, Terms
from deconfliction.clock import ManualClock
from deconfliction.core.footprint import Footprint
from deconfliction.core.volume import Volume4D
from deconfliction.errors import PermissionDeniedError, ValidationError
from deconfliction.journal.verify import verify_database
from deconfliction.notices.model import NoticeDraft
from deconfliction.notices.service import NoticeService
from deconfliction.parties import PartyRef
from deconfliction.settings import Settings
from deconfliction.store.database import Database
from deconfliction.store.schema import Alert, Conflict, Event, JournalEntry
from deconfliction.tactical import DetectionParams
from deconfliction.tracks import service as service_module
from deconfliction.tracks.reckoning import advance
from deconfliction.tracks.service import TrackService
from tests.conftest import T0, MakeParty
from tests.zoo import east_of

SETTINGS = Settings(track_tick_s=0, tick_s=0)


@pytest.fixture
def tracks(database: Database, clock: ManualClock) -> TrackService:
    return TrackService(database, clock, SETTINGS)


@pytest.fixture
def parties(make_party: MakeParty) -> dict[str, PartyRef]:
    return {name: make_party(name)[0] for name in ("Alpha", "Bravo", "Charlie")}


def state(ident: str, clock: ManualClock, lon: float, lat: float = 49.0, **more: Any) -> Any:
    return {
        "id": ident,
        "time": clock.now().isoformat(),
        "lat": lat,
        "lon": lon,
        "alt_m": 10_000.0,
        "gs_mps": 200.0,
        "trk_deg": 90.0,
        "vs_mps": 0.0,
    } | more


def report(tracks: TrackService, party: PartyRef, *rows: Any) -> None:
    result = tracks.report(party, list(rows))
    assert result.rejected == (), result.rejected


def head_on(tracks: TrackService, clock: ManualClock, parties: dict[str, PartyRef]) -> None:
    """Alpha's AX1 flies east, Bravo's BX1 west, 30 km apart at FL330; AX2 is far away."""
    b_lon, _ = east_of(2.0, 49.0, 30_000.0)
    report(tracks, parties["Alpha"], state("AX1", clock, 2.0), state("AX2", clock, 5.0, lat=45.0))
    report(tracks, parties["Bravo"], state("BX1", clock, b_lon, trk_deg=270.0))


def events(database: Database, party: PartyRef) -> list[Event]:
    with database.read() as session:
        query = select(Event).where(Event.party_id == party.id).order_by(Event.seq)
        return list(session.scalars(query))


def rows(database: Database, table: Any) -> list[Any]:
    with database.read() as session:
        return list(session.scalars(select(table)))


def test_a_conflict_opens_once_with_an_alert_per_party_telling_only_what_it_needs(
    tracks: TrackService,
    clock: ManualClock,
    parties: dict[str, PartyRef],
    database: Database,
) -> None:
    alpha, bravo = parties["Alpha"], parties["Bravo"]
    head_on(tracks, clock, parties)
    tick = tracks.run_tick()
    assert (tick.aircraft, tick.found, tick.opened, tick.open) == (3, 1, 1, 1)
    (conflict,) = rows(database, Conflict)
    assert (conflict.kind, conflict.state, conflict.a_party_id, conflict.b_party_id) == (
        "track-track",
        "open",
        alpha.id,
        bravo.id,
    )
    alerts = {a.party_id: a for a in rows(database, Alert)}
    # no agreement: anonymous, each side told only of another party
    assert {a.counterpart for a in alerts.values()} == {ANONYMOUS_COUNTERPART}
    assert all(a.priority == "flash" for a in alerts.values())
    assert all(a.ack_deadline == clock.now() + timedelta(seconds=120) for a in alerts.values())

    (told_alpha,) = events(database, alpha)
    (told_bravo,) = events(database, bravo)
    assert told_alpha.kind == told_bravo.kind == "alert.created"
    alpha_view, bravo_view = json.loads(told_alpha.payload), json.loads(told_bravo.payload)
    assert alpha_view["track"]["aircraft"] == "AX1"
    assert bravo_view["track"]["aircraft"] == "BX1"
    assert "BX1" not in told_alpha.payload
    assert "AX2" not in told_alpha.payload
    assert "AX1" not in told_bravo.payload
    assert "AX2" not in told_bravo.payload
    tcpa = (
        datetime.fromisoformat(bravo_view["track"]["at"]) - clock.now()
    ).total_seconds()  # the same instant for both sides
    assert tcpa == pytest.approx(30_000.0 / 400.0, rel=1e-3)
    a1 = advance(*(np.array([v]) for v in (2.0, 49.0, 10_000.0, 200.0, 90.0, 0.0)), tcpa)
    where = bravo_view["conflict"]["geometry"]
    assert where["type"] == "Point"
    assert where["coordinates"] == pytest.approx([a1.lon[0], a1.lat[0], a1.alt_m[0]], abs=1e-6)
    assert bravo_view["track"]["dcpa_m"] == pytest.approx(0.0, abs=1.0)
    assert bravo_view["conflict"]["properties"]["counterpart"] == ANONYMOUS_COUNTERPART
    assert "Alpha" not in told_bravo.payload
    assert "Bravo" not in told_alpha.payload

    entries = rows(database, JournalEntry)
    by_kind = {(e.kind, e.party) for e in entries}
    assert by_kind >= {
        ("conflict.detected", None),
        ("alert.created", "Alpha"),
        ("alert.created", "Bravo"),
    }
    for e in entries:
        if e.kind == "alert.created" and e.party == "Alpha":
            assert "BX1" not in e.payload
    assert verify_database(database).intact

    again = tracks.run_tick()
    assert (again.opened, again.updated, again.resolved, again.open) == (0, 0, 0, 1)
    assert len(rows(database, Alert)) == 2


def test_it_resolves_after_k_ticks_without_the_conflict(
    tracks: TrackService,
    clock: ManualClock,
    parties: dict[str, PartyRef],
    database: Database,
) -> None:
    head_on(tracks, clock, parties)
    tracks.run_tick()
    b_lon, _ = east_of(2.0, 49.0, 30_000.0)
    report(tracks, parties["Bravo"], state("BX1", clock, b_lon, trk_deg=90.0))  # turns away
    for _ in range(SETTINGS.track_resolve_ticks - 1):
        assert tracks.run_tick().resolved == 0
    done = tracks.run_tick()
    assert (done.resolved, done.open) == (1, 0)
    (conflict,) = rows(database, Conflict)
    assert (conflict.state, conflict.resolved_at) == ("resolved", clock.now())
    assert {a.state for a in rows(database, Alert)} == {"resolved"}
    assert {a.escalation_state for a in rows(database, Alert)} == {"stopped"}
    for party in (parties["Alpha"], parties["Bravo"]):
        last = events(database, party)[-1]
        assert last.kind == "alert.resolved"
        assert "no longer predicted" in json.loads(last.payload)["reason"]
    kinds = [e.kind for e in rows(database, JournalEntry)]
    assert kinds.count("conflict.resolved") == 1
    assert kinds.count("alert.resolved") == 2
    assert verify_database(database).intact


def test_an_aircraft_that_ages_out_resolves_its_conflict_at_once(
    tracks: TrackService,
    clock: ManualClock,
    parties: dict[str, PartyRef],
    database: Database,
) -> None:
    head_on(tracks, clock, parties)
    tracks.run_tick()
    clock.advance(timedelta(seconds=SETTINGS.track_max_age_s + 1))
    tick = tracks.run_tick()
    assert (tick.aircraft, tick.resolved) == (0, 1)
    reason = json.loads(events(database, parties["Alpha"])[-1].payload)["reason"]
    assert "no longer reported" in reason


def test_parties_hear_of_material_changes_only(
    tracks: TrackService,
    clock: ManualClock,
    parties: dict[str, PartyRef],
    database: Database,
) -> None:
    """AX1 and BX1 close at 400 m/s from 30 km: closest approach at 75 s."""
    b_lon, _ = east_of(2.0, 49.0, 30_000.0)
    head_on(tracks, clock, parties)
    tracks.run_tick()

    def move_on(seconds: float, bravo_mps: float = 200.0) -> None:
        clock.advance(timedelta(seconds=seconds))
        at = (clock.now() - T0).total_seconds()
        a_lon, _ = east_of(2.0, 49.0, 200.0 * at)
        c_lon, _ = east_of(b_lon, 49.0, -200.0 * at)
        report(tracks, parties["Alpha"], state("AX1", clock, a_lon))
        report(
            tracks, parties["Bravo"], state("BX1", clock, c_lon, trk_deg=270.0, gs_mps=bravo_mps)
        )

    for _ in range(3):  # a steady encounter: the states move along, nothing new
        move_on(10.0)
        assert tracks.run_tick().updated == 0
    move_on(1.0, bravo_mps=60.0)  # Bravo slows down: closest approach ~24 s later
    assert tracks.run_tick().updated == 1
    for party in (parties["Alpha"], parties["Bravo"]):
        assert [e.kind for e in events(database, party)] == ["alert.created", "alert.updated"]
    move_on(2.0, bravo_mps=200.0)  # back to speed: news, but too soon after the last
    assert tracks.run_tick().updated == 0
    kinds = [e.kind for e in rows(database, JournalEntry)]
    assert kinds.count("alert.updated") == 2
    (conflict,) = rows(database, Conflict)
    assert conflict.state == "open"


def test_a_loss_of_separation_is_news_at_once(
    tracks: TrackService,
    clock: ManualClock,
    parties: dict[str, PartyRef],
    database: Database,
) -> None:
    head_on(tracks, clock, parties)
    tracks.run_tick()
    clock.advance(timedelta(seconds=55))  # closing at 400 m/s: 8 km apart, inside
    near, _ = east_of(2.0, 49.0, 30_000.0 - 200.0 * 55)
    report(tracks, parties["Bravo"], state("BX1", clock, near, trk_deg=270.0))
    assert tracks.run_tick().updated == 1
    update = json.loads(events(database, parties["Alpha"])[-1].payload)
    assert update["track"]["inside"] is True


def test_agreed_minima_decide_each_pair(
    tracks: TrackService,
    clock: ManualClock,
    parties: dict[str, PartyRef],
    database: Database,
) -> None:
    """Three aircraft abeam 3 km apart: under 5 NM everywhere, but Alpha and Bravo
    agreed on 2 km."""
    AgreementService(database, clock).set(
        "Alpha", "Bravo", Terms(separation=DetectionParams(rpz_m=2_000.0))
    )
    north = [47.0, 47.027, 47.054]  # ~3 km apart
    for name, ident, lat in zip(("Alpha", "Bravo", "Charlie"), ("a", "b", "c"), north, strict=True):
        report(tracks, parties[name], state(ident, clock, 8.0, lat=lat))
    tracks.run_tick()
    pairs = {frozenset({c.a_party_id, c.b_party_id}) for c in rows(database, Conflict)}
    ids = {name: parties[name].id for name in parties}
    assert pairs == {
        frozenset({ids["Alpha"], ids["Charlie"]}),
        frozenset({ids["Bravo"], ids["Charlie"]}),
    }


def _notice(
    database: Database, clock: ManualClock, party: PartyRef, west: float, east: float
) -> str:
    ring = [(west, 48.8), (east, 48.8), (east, 49.2), (west, 49.2), (west, 48.8)]
    volume = Volume4D(
        Footprint.polygon(ring), 0.0, 12_000.0, clock.now(), clock.now() + timedelta(hours=2)
    )
    filed = NoticeService(database, clock, SETTINGS).file(party, NoticeDraft((volume,)))
    return filed.notice.id


def test_an_aircraft_heading_into_another_partys_notice_alerts_both(
    tracks: TrackService,
    clock: ManualClock,
    parties: dict[str, PartyRef],
    database: Database,
) -> None:
    alpha, bravo = parties["Alpha"], parties["Bravo"]
    notice = _notice(database, clock, bravo, 2.2, 2.6)
    report(tracks, alpha, state("AX1", clock, 2.0))
    tick = tracks.run_tick()
    assert tick.opened == 1
    (conflict,) = rows(database, Conflict)
    assert (conflict.kind, conflict.b_notice_id) == ("track-volume", notice)
    alerts = {a.party_id: a for a in rows(database, Alert)}
    told = (notice, ANONYMOUS_COUNTERPART)
    assert (alerts[bravo.id].notice_id, alerts[bravo.id].counterpart) == told
    assert (alerts[alpha.id].notice_id, alerts[alpha.id].counterpart) == (None, told[1])
    told_alpha = json.loads(events(database, alpha)[0].payload)
    assert notice not in json.dumps(told_alpha)  # Bravo's notice id is Bravo's business
    entry = told_alpha["track"]
    assert entry["moment"] == "entry"
    assert not entry["inside"]
    assert told_alpha["conflict"]["geometry"]["coordinates"][0] == pytest.approx(2.2, abs=1e-3)


def test_a_nonconforming_aircraft_alerts_its_party_and_those_it_threatens(
    tracks: TrackService,
    clock: ManualClock,
    parties: dict[str, PartyRef],
    database: Database,
) -> None:
    alpha, bravo = parties["Alpha"], parties["Bravo"]
    own = _notice(database, clock, alpha, 1.5, 2.05)
    theirs = _notice(database, clock, bravo, 2.2, 2.6)
    report(tracks, alpha, state("AX1", clock, 2.0, notice=own))
    tracks.run_tick()
    by_kind = {c.kind: c for c in rows(database, Conflict)}
    assert set(by_kind) == {"nonconforming", "track-volume"}
    nc = by_kind["nonconforming"]
    assert (nc.a_party_id, nc.b_party_id, nc.a_notice_id) == (alpha.id, alpha.id, own)
    alerts = {a.party_id: a for a in rows(database, Alert) if a.conflict_id == nc.id}
    assert (alerts[alpha.id].notice_id, alerts[bravo.id].notice_id) == (own, theirs)
    assert alerts[bravo.id].counterpart == ANONYMOUS_COUNTERPART
    mine = [json.loads(e.payload) for e in events(database, alpha)]
    (leaving,) = [p for p in mine if p["kind"] == "nonconforming"]
    assert leaving["track"]["threatens"] == [ANONYMOUS_COUNTERPART]
    assert leaving["track"]["moment"] == "exit"


def test_tags_must_name_the_partys_own_live_notice(
    tracks: TrackService,
    clock: ManualClock,
    parties: dict[str, PartyRef],
    database: Database,
) -> None:
    alpha, bravo = parties["Alpha"], parties["Bravo"]
    own = _notice(database, clock, alpha, 1.5, 2.5)
    theirs = _notice(database, clock, bravo, 2.2, 2.6)
    gone = _notice(database, clock, alpha, 3.0, 3.5)
    NoticeService(database, clock, SETTINGS).cancel(alpha, gone)
    result = tracks.report(
        alpha,
        [
            state("AX1", clock, 2.0, notice=own),
            state("AX2", clock, 2.0, notice=theirs),
            state("a3", clock, 2.0, notice="ntc_nothing"),
            state("a4", clock, 2.0, notice=gone),
        ],
    )
    assert result.accepted == 1
    reasons = {r.row: r.reason for r in result.rejected}
    assert "not one of your notices" in reasons[1]
    assert "not one of your notices" in reasons[2]
    assert "is cancelled; tag aircraft with a live notice" in reasons[3]


def test_observers_report_nothing_and_batches_are_bounded(
    database: Database, clock: ManualClock, make_party: MakeParty
) -> None:
    observer, _ = make_party("Watcher", "observer")
    operator, _ = make_party("Flyer")
    small = TrackService(database, clock, Settings(track_max_batch=2))
    with pytest.raises(PermissionDeniedError, match="observer"):
        small.report(observer, [state("a", clock, 2.0)])
    with pytest.raises(ValidationError, match="at most 2 states"):
        small.report(operator, [state(i, clock, 2.0) for i in "abc"])


def test_a_failing_stage_is_logged_and_the_others_go_on(
    tracks: TrackService,
    clock: ManualClock,
    parties: dict[str, PartyRef],
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _notice(database, clock, parties["Charlie"], 2.2, 2.6)
    head_on(tracks, clock, parties)
    assert tracks.run_tick().opened == 3  # a1-b1, and both heading into Charlie's notice

    def broken(*args: Any) -> Any:
        raise RuntimeError("bad volume")

    monkeypatch.setattr(service_module, "track_volume", broken)
    b_lon, _ = east_of(2.0, 49.0, 30_000.0)
    report(tracks, parties["Bravo"], state("BX1", clock, b_lon, trk_deg=90.0))  # turns away
    with caplog.at_level(logging.ERROR, logger=service_module.__name__):
        reports = [tracks.run_tick() for _ in range(SETTINGS.track_resolve_ticks)]
    assert all(r.failed == ("track-volume", "nonconforming") for r in reports)
    assert "track-volume stage failed" in caplog.text
    assert reports[-1].resolved == 1  # the track-track conflict, judged, resolved
    assert {c.kind for c in rows(database, Conflict) if c.state == "open"} == {"track-volume"}
    monkeypatch.undo()
    assert tracks.run_tick().failed == ()


def test_a_failed_write_leaves_everything_to_the_next_tick(
    tracks: TrackService,
    clock: ManualClock,
    parties: dict[str, PartyRef],
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    head_on(tracks, clock, parties)
    real = service_module.open_conflict
    calls = []

    def fails_once(*args: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("disk full")
        return real(*args)

    monkeypatch.setattr(service_module, "open_conflict", fails_once)
    with pytest.raises(RuntimeError, match="disk full"):
        tracks.run_tick()
    assert rows(database, Conflict) == []
    assert rows(database, Alert) == []
    assert tracks.run_tick().opened == 1
    assert len(rows(database, Conflict)) == 1
    assert len(rows(database, Alert)) == 2


def test_a_restarted_engine_resolves_what_it_no_longer_holds(
    tracks: TrackService,
    clock: ManualClock,
    parties: dict[str, PartyRef],
    database: Database,
) -> None:
    head_on(tracks, clock, parties)
    tracks.run_tick()
    restarted = TrackService(database, clock, SETTINGS)
    assert restarted.run_tick().aircraft == 0
    (old,) = rows(database, Conflict)
    assert old.state == "resolved"
    last = json.loads(events(database, parties["Alpha"])[-1].payload)
    assert "restarted" in last["reason"]
    head_on(restarted, clock, parties)
    assert restarted.run_tick().opened == 1
    assert verify_database(database).intact


def test_live_alerts_give_each_party_its_own_view(
    tracks: TrackService, clock: ManualClock, parties: dict[str, PartyRef], database: Database
) -> None:
    head_on(tracks, clock, parties)
    tracks.run_tick()
    (alpha,) = tracks.alerts_of(parties["Alpha"])
    (bravo,) = tracks.alerts_of(parties["Bravo"])
    assert (alpha.counterpart, alpha.track["aircraft"]) == (ANONYMOUS_COUNTERPART, "AX1")
    assert (bravo.counterpart, bravo.track["aircraft"]) == (ANONYMOUS_COUNTERPART, "BX1")
    AgreementService(database, clock).set("Alpha", "Bravo", Terms(disclosure=Disclosure.NAMED))
    (alpha,) = tracks.alerts_of(parties["Alpha"])
    (bravo,) = tracks.alerts_of(parties["Bravo"])
    assert (alpha.counterpart, bravo.counterpart) == ("Bravo", "Alpha")
    assert alpha.conflict_id == bravo.conflict_id
    assert alpha.alert_id != bravo.alert_id
    assert tracks.alerts_of(parties["Charlie"]) == []
    assert [t.id for t in tracks.tracks_of(parties["Alpha"])] == ["AX1", "AX2"]


def test_a_burst_is_written_over_several_ticks_the_most_urgent_first(
    database: Database, clock: ManualClock, parties: dict[str, PartyRef]
) -> None:
    tracks = TrackService(database, clock, Settings(track_tick_s=0, track_max_writes=1))
    b_lon, _ = east_of(2.0, 49.0, 30_000.0)
    close, _ = east_of(2.0, 49.0, 3_000.0)
    report(tracks, parties["Alpha"], state("AX1", clock, 2.0), state("AX2", clock, 2.0, lat=45.0))
    report(
        tracks,
        parties["Bravo"],
        state("BX1", clock, b_lon, trk_deg=270.0),
        state("BX2", clock, close, lat=45.0),  # already a loss of separation with AX2
    )
    first = tracks.run_tick()
    assert (first.found, first.opened, first.open) == (2, 1, 1)
    assert len(rows(database, Conflict)) == 1
    assert json.loads(events(database, parties["Alpha"])[0].payload)["track"]["aircraft"] == "AX2"
    assert tracks.run_tick().opened == 1
    assert len(rows(database, Conflict)) == 2

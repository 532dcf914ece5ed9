"""Progressive disclosure on both backends: coarse cells and flight-level blocks until the
pair's threshold, then the exact intersection, at the threshold (the scheduler, on the
injected clock) or on mutual acknowledgment; every disclosure journaled."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from shapely.geometry import shape
from sqlalchemy import select

from deconfliction.disclosure import Disclosures
from deconfliction.journal.receipts import ensure_service_key, export
from deconfliction.notices.model import ConflictView
from deconfliction.parties import PartyRef
from deconfliction.store.schema import Conflict
from tests.agreements.scenario import EAST, WEST, World, draft, vol
from tests.conftest import T0, MakeParty

FL_BLOCK_M = 1000 * 0.3048


def _setup(world: World, make_party: MakeParty, exact_after_s: float) -> tuple[PartyRef, ...]:
    ensure_service_key(world.db, world.clock)  # for the parties' journal exports
    alpha, bravo = make_party("Alpha")[0], make_party("Bravo")[0]
    world.agree(alpha, bravo, disclosure="named", exact_after_s=exact_after_s)
    world.notices.file(alpha, draft(vol(WEST, 2.0, 4.0)))  # starts 2 h after T0
    return alpha, bravo


def _exact(world: World) -> Conflict:
    with world.db.read() as session:
        [conflict] = session.scalars(select(Conflict)).all()
        session.expunge(conflict)
        return conflict


def _assert_coarse(seen: ConflictView, conflict: Conflict) -> None:
    exact = shape(json.loads(conflict.geometry))
    told = shape(seen.geometry)
    assert told.covers(exact)
    assert told.area > 1.5 * exact.area  # cells, not the intersection
    assert seen.geometry != json.loads(conflict.geometry)
    # the band rounded out to whole 1,000 ft blocks: 0-3,000 m told as 0-10,000 ft
    assert (seen.lower_m, seen.upper_m) == (0.0, round(10 * FL_BLOCK_M, 6))
    assert (conflict.lower_m, conflict.upper_m) == (0.0, 3000.0)


def _told(world: World, party: PartyRef) -> str:
    """Everything the party got as events, and its journal entries, as text."""
    with world.db.read() as session:
        document: dict[str, Any] = export(session, party, world.clock.now())
    return json.dumps([world.events(party), document["entries"]])


def test_coarse_until_the_threshold_then_exact_and_journaled(
    world: World, make_party: MakeParty
) -> None:
    alpha, bravo = _setup(world, make_party, exact_after_s=3600.0)
    [seen] = world.notices.file(bravo, draft(vol(EAST, 2.0, 4.0))).conflicts
    conflict = _exact(world)
    _assert_coarse(seen, conflict)
    for party in (alpha, bravo):
        [alert] = world.alerts.list_alerts(party)
        _assert_coarse(alert.conflict, conflict)
        assert conflict.geometry not in _told(world, party)  # not in any view yet
    disclosures = Disclosures(world.db, world.clock, 0.0)

    world.clock.advance(timedelta(minutes=59))  # 61 min before the start: still coarse
    assert disclosures.run_once() == 0
    world.clock.advance(timedelta(minutes=1))  # exactly 1 h before: the threshold
    assert disclosures.run_once() == 2
    assert disclosures.run_once() == 0  # told once
    for party in (alpha, bravo):
        [alert] = world.alerts.list_alerts(party)
        assert alert.conflict.geometry == json.loads(conflict.geometry)
        assert (alert.conflict.lower_m, alert.conflict.upper_m) == (0.0, 3000.0)
        [event] = world.events(party, "alert.disclosed")
        assert event["conflict"]["geometry"] == json.loads(conflict.geometry)
    entries = world.journal("alert.disclosed")
    assert sorted(e["_party"] for e in entries) == ["Alpha", "Bravo"]
    assert {e["why"] for e in entries} == {"threshold"}
    assert {e["conflict"] for e in entries} == {conflict.id}
    created = world.journal("alert.created")
    assert {e["detail"] for e in created} == {"coarse"}
    assert {e["exact_at"] for e in created} == {(T0 + timedelta(hours=1)).isoformat()}


def test_mutual_acknowledgment_discloses_before_the_threshold(
    world: World, make_party: MakeParty
) -> None:
    alpha, bravo = _setup(world, make_party, exact_after_s=1800.0)
    world.notices.file(bravo, draft(vol(EAST, 2.0, 4.0)))
    conflict = _exact(world)
    [alpha_alert] = world.alerts.list_alerts(alpha)
    [bravo_alert] = world.alerts.list_alerts(bravo)

    world.alerts.acknowledge(alpha, alpha_alert.id)  # one side alone: still coarse
    _assert_coarse(world.alerts.get(alpha, alpha_alert.id).conflict, conflict)
    assert world.journal("alert.disclosed") == []
    told = world.alerts.acknowledge(bravo, bravo_alert.id)
    assert told.conflict.geometry == json.loads(conflict.geometry)
    assert world.alerts.get(alpha, alpha_alert.id).conflict.geometry == told.conflict.geometry
    entries = world.journal("alert.disclosed")
    assert sorted(e["_party"] for e in entries) == ["Alpha", "Bravo"]
    assert {e["why"] for e in entries} == {"acknowledged"}
    assert Disclosures(world.db, world.clock, 0.0).run_once() == 0


def test_without_a_threshold_the_exact_intersection_is_told_at_once(
    world: World, make_party: MakeParty
) -> None:
    _, bravo = _setup(world, make_party, exact_after_s=0.0)
    [seen] = world.notices.file(bravo, draft(vol(EAST, 2.0, 4.0))).conflicts
    assert seen.geometry == json.loads(_exact(world).geometry)
    assert world.journal("alert.disclosed") == []

"""Escalation in fast time, on both backends: unacknowledged alerts and messages climb
their agreement's ladder, acknowledgment stops them, the last tier's expiry tells both
sides; the clock is a ManualClock and the scheduler is run_once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from deconfliction.agreements.service import AgreedDeadlines
from deconfliction.clock import ManualClock
from deconfliction.hotline.escalation import EscalationReport
from deconfliction.hotline.messages import MessageDraft, MessageService
from deconfliction.journal.receipts import ensure_service_key
from deconfliction.journal.verify import verify_database
from deconfliction.notices.model import AlertView, EscalationState
from deconfliction.parties import PartyRef
from deconfliction.settings import Settings
from deconfliction.store.database import Database
from tests.agreements.scenario import EAST, WEST, World, draft, vol
from tests.conftest import T0, MakeParty

LADDER = [
    {"name": "duty officer", "contacts": ["+972 3 555 0100"], "deadline_s": 300},
    {"name": "operations centre", "contacts": ["ops@example.org"], "deadline_s": 600},
    {"name": "command", "contacts": [], "deadline_s": 900},
]


@pytest.fixture
def world(database: Database, clock: ManualClock) -> World:
    return World(database, clock, Settings())


def _conflict(world: World, alpha: PartyRef, bravo: PartyRef) -> tuple[AlertView, AlertView]:
    world.notices.file(alpha, draft(vol(WEST)))
    world.notices.file(bravo, draft(vol(EAST)))
    [a] = world.alerts.list_alerts(alpha)
    [b] = world.alerts.list_alerts(bravo)
    return a, b


def test_an_unacknowledged_alert_climbs_the_ladder_until_acknowledged(
    world: World, make_party: MakeParty
) -> None:
    alpha, bravo = make_party("Alpha")[0], make_party("Bravo")[0]
    world.agree(alpha, bravo, ladder=LADDER, ack_deadline_s={"routine": 600})
    mine, theirs = _conflict(world, alpha, bravo)
    assert mine.ack_deadline == T0 + timedelta(seconds=600)
    world.clock.advance(timedelta(seconds=100))
    world.alerts.acknowledge(alpha, mine.id)

    world.after(seconds=499)  # T0 + 599 s: nothing is due yet
    assert world.events(bravo, "alert.escalated") == []
    world.clock.advance(timedelta(seconds=1))
    assert world.escalation.run_once() == EscalationReport(escalated=1)
    [first] = world.events(bravo, "alert.escalated")
    assert (first["alert"], first["tier"], first["tier_name"]) == (theirs.id, 1, "duty officer")
    assert first["contacts"] == ["+972 3 555 0100"]
    assert first["ack_deadline"] == (T0 + timedelta(seconds=900)).isoformat()
    assert first["conflict"] == theirs.conflict.id
    assert world.events(alpha, "alert.escalated") == []  # Alpha acknowledged in time

    world.after(seconds=300)
    second = world.events(bravo, "alert.escalated")[-1]
    assert (second["tier"], second["tier_name"]) == (2, "operations centre")
    world.clock.advance(timedelta(seconds=100))
    acknowledged = world.alerts.acknowledge(bravo, theirs.id)
    assert (acknowledged.escalation_tier, acknowledged.escalation_state) == (
        2,
        EscalationState.STOPPED,
    )
    world.after(hours=5)
    assert len(world.events(bravo, "alert.escalated")) == 2
    assert [e["tier"] for e in world.journal("alert.escalated")] == [1, 2]
    assert world.alerts.get(alpha, mine.id).escalation_state == EscalationState.STOPPED
    assert verify_database(world.db).intact


def test_after_the_last_tier_both_sides_see_it_unacknowledged(
    world: World, make_party: MakeParty
) -> None:
    alpha, bravo = make_party("Alpha")[0], make_party("Bravo")[0]
    world.agree(alpha, bravo, ladder=LADDER, ack_deadline_s={"routine": 600})
    mine, theirs = _conflict(world, alpha, bravo)
    world.alerts.acknowledge(alpha, mine.id)

    # the scheduler was down for hours: one run climbs every tier, deadlines chained
    world.clock.advance(timedelta(hours=3))
    assert world.escalation.run_once() == EscalationReport(escalated=3, unacknowledged=1)
    climbed = world.events(bravo, "alert.escalated")
    assert [e["tier_name"] for e in climbed] == ["duty officer", "operations centre", "command"]
    assert [e["ack_deadline"] for e in climbed] == [
        (T0 + timedelta(seconds=s)).isoformat() for s in (900, 1500, 2400)
    ]
    for party in (alpha, bravo):
        [gone] = world.events(party, "alert.unacknowledged")
        assert (gone["alert"], gone["party"], gone["counterpart"]) == (theirs.id, "Bravo", "Alpha")
        assert gone["missed_deadline"] == (T0 + timedelta(seconds=2400)).isoformat()
    assert world.alerts.get(bravo, theirs.id).escalation_state == EscalationState.UNACKNOWLEDGED
    assert world.escalation.run_once() == EscalationReport()  # nothing twice
    late = world.alerts.acknowledge(bravo, theirs.id)  # still possible, and recorded
    assert late.acknowledged_at is not None
    assert late.escalation_state == EscalationState.UNACKNOWLEDGED


def test_without_an_agreement_the_default_deadline_passes_straight_to_unacknowledged(
    world: World, make_party: MakeParty
) -> None:
    alpha, bravo = make_party("Alpha")[0], make_party("Bravo")[0]
    _, theirs = _conflict(world, alpha, bravo)
    assert theirs.ack_deadline == T0 + timedelta(seconds=3600)  # Settings' routine default
    world.after(seconds=3599)
    assert world.events(bravo, "alert.unacknowledged") == []
    world.after(seconds=1)
    assert len(world.events(alpha, "alert.unacknowledged")) == 2  # its own, and Bravo's
    assert world.events(bravo, "alert.escalated") == []


def test_a_resolved_alert_does_not_escalate(world: World, make_party: MakeParty) -> None:
    alpha, bravo = make_party("Alpha")[0], make_party("Bravo")[0]
    world.agree(alpha, bravo, ladder=LADDER)
    _, theirs = _conflict(world, alpha, bravo)
    world.notices.cancel(bravo, theirs.conflict.notice_id or "")
    world.after(hours=10)
    assert world.events(bravo, "alert.escalated") == []
    assert world.events(bravo, "alert.unacknowledged") == []
    assert world.alerts.get(bravo, theirs.id).escalation_state == EscalationState.STOPPED


def test_messages_take_their_deadline_from_the_agreement_and_climb_its_ladder(
    world: World, make_party: MakeParty
) -> None:
    alpha, bravo = make_party("Alpha")[0], make_party("Bravo")[0]
    charlie = make_party("Charlie")[0]
    world.agree(alpha, bravo, ladder=LADDER[:1], ack_deadline_s={"flash": 60})
    ensure_service_key(world.db, world.clock)
    hotline = MessageService(world.db, world.clock, AgreedDeadlines(world.settings.ack_deadlines))
    flash = hotline.send(alpha, MessageDraft("climbing through FL200", "Bravo", "flash")).message
    urgent = hotline.send(alpha, MessageDraft("no agreement here", "Charlie", "urgent")).message
    answered = hotline.send(bravo, MessageDraft("tanker at FL250", "Alpha", "flash")).message
    assert flash.ack_deadline == T0 + timedelta(seconds=60)
    assert urgent.ack_deadline == T0 + timedelta(seconds=600)  # Settings' urgent default
    hotline.acknowledge(alpha, answered.id)

    world.after(seconds=60)
    [up] = world.events(bravo, "message.escalated")
    assert (up["message"], up["tier_name"], up["priority"]) == (flash.id, "duty officer", "flash")
    world.after(seconds=300)
    for party in (alpha, bravo):
        [gone] = world.events(party, "message.unacknowledged")
        assert (gone["message"], gone["party"]) == (flash.id, "Bravo")
    assert world.events(alpha, "message.escalated") == []  # acknowledged in time
    world.after(seconds=240)
    [gone] = world.events(charlie, "message.unacknowledged")
    assert gone["message"] == urgent.id
    assert hotline.get(bravo, flash.id).escalation_state == "unacknowledged"
    assert hotline.get(alpha, answered.id).escalation_state == "stopped"


def test_an_anonymous_message_escalates_without_naming_either_side_to_the_other(
    world: World, make_party: MakeParty
) -> None:
    alpha, bravo = make_party("Alpha")[0], make_party("Bravo")[0]
    mine, _ = _conflict(world, alpha, bravo)  # no agreement: anonymous
    ensure_service_key(world.db, world.clock)
    hotline = MessageService(world.db, world.clock, AgreedDeadlines(world.settings.ack_deadlines))
    by_handle = MessageDraft("climbing", priority="urgent", to_conflict=mine.conflict.id)
    sent = hotline.send(alpha, by_handle).message
    world.after(seconds=600)  # Settings' urgent default
    [to_alpha] = world.events(alpha, "message.unacknowledged")
    [to_bravo] = world.events(bravo, "message.unacknowledged")
    assert to_alpha["message"] == to_bravo["message"] == sent.id
    assert (to_alpha["party"], to_alpha["counterpart"]) == ("(another party)", "Alpha")
    assert (to_bravo["party"], to_bravo["counterpart"]) == ("Bravo", "(another party)")

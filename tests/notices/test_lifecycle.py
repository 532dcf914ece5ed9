"""The notice lifecycle in fast time (ManualClock + run_once), on both backends:
activation and closing, acknowledgments, approvals, blocked activations, and bad calls."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from deconfliction.clock import ManualClock
from deconfliction.errors import (
    InvalidStateError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from deconfliction.journal.verify import verify_database
from deconfliction.notices.lifecycle import LifecycleReport
from deconfliction.notices.model import ApprovalKind, ApprovalState, NoticeState
from deconfliction.settings import Settings
from deconfliction.store.database import Database
from deconfliction.store.schema import VolumeCell
from tests.agreements.scenario import EAST, FAR, WEST, World, draft, vol
from tests.conftest import MakeParty


@pytest.fixture
def world(database: Database, clock: ManualClock) -> World:
    return World(database, clock, Settings())


def _transitions(world: World, party_name: str) -> list[tuple[str, str]]:
    return [
        (e["from"], e["to"])
        for e in world.journal("notice.state_changed")
        if e["party"] == party_name
    ]


def test_a_notice_needing_nothing_activates_at_start_and_closes_at_end(
    world: World, make_party: MakeParty
) -> None:
    alpha = make_party("Alpha")[0]
    bravo = make_party("Bravo")[0]
    world.agree(alpha, bravo)  # an agreement that asks for nothing before activation
    notice = world.notices.file(alpha, draft(vol(FAR, 2, 4))).notice.id
    assert world.lifecycle.run_once() == LifecycleReport()

    world.clock.advance(timedelta(hours=2) - timedelta(seconds=1))
    assert world.lifecycle.run_once() == LifecycleReport()
    world.clock.advance(timedelta(seconds=1))
    assert world.lifecycle.run_once() == LifecycleReport(activated=1)
    assert world.notices.get(alpha, notice).state == NoticeState.ACTIVE
    assert world.lifecycle.run_once() == LifecycleReport()  # nothing twice

    world.clock.advance(timedelta(hours=2))
    assert world.lifecycle.run_once() == LifecycleReport(closed=1)
    assert world.notices.get(alpha, notice).state == NoticeState.CLOSED
    assert _transitions(world, "Alpha") == [("filed", "active"), ("active", "closed")]
    for party in (alpha, bravo):  # the filer and its counterpart both hear of it
        told = world.events(party, "notice.state_changed")
        assert [(e["to"], e["notice"]) for e in told] == [("active", notice), ("closed", notice)]
    with world.db.read() as session:  # a closed notice no longer claims airspace
        assert session.scalar(select(func.count()).select_from(VolumeCell)) == 0
    assert verify_database(world.db).intact


def test_activation_waits_for_the_counterparts_acknowledgment(
    world: World, make_party: MakeParty
) -> None:
    alpha, bravo = make_party("Alpha")[0], make_party("Bravo")[0]
    world.agree(alpha, bravo, activation_requires_acknowledgment=True)
    filed = world.notices.file(alpha, draft(vol(FAR, 1, 3)))
    notice = filed.notice.id
    [asked] = filed.notice.approvals
    assert (asked.party, asked.kind, asked.state) == (
        "Bravo",
        ApprovalKind.ACKNOWLEDGMENT,
        ApprovalState.PENDING,
    )
    [told] = world.events(bravo, "notice.filed")
    assert told["needs"] == ["acknowledgment"]

    world.after(hours=1)  # start time, no acknowledgment: blocked, both sides told once
    assert world.notices.get(alpha, notice).state == NoticeState.FILED
    for party in (alpha, bravo):
        [blocked] = world.events(party, "activation.blocked")
        assert blocked["notice"] == notice
        assert blocked["missing"] == [
            {"party": "Bravo", "kind": "acknowledgment", "state": "pending", "reason": None}
        ]
    world.after(minutes=5)
    assert len(world.events(alpha, "activation.blocked")) == 1

    decision = world.lifecycle.acknowledge(bravo, notice)  # late, but the window is open
    assert decision.approval.state == ApprovalState.ACKNOWLEDGED
    assert decision.notice_state == NoticeState.ACTIVE
    assert _transitions(world, "Alpha") == [("filed", "acknowledged"), ("acknowledged", "active")]
    assert [e["state"] for e in world.events(alpha, "notice.decision")] == ["acknowledged"]
    again = world.lifecycle.acknowledge(bravo, notice)  # idempotent
    assert again.approval.decided_at == decision.approval.decided_at
    assert len(world.journal("notice.decision")) == 1


def test_an_acknowledged_notice_activates_on_time(world: World, make_party: MakeParty) -> None:
    alpha, bravo = make_party("Alpha")[0], make_party("Bravo")[0]
    world.agree(alpha, bravo, activation_requires_acknowledgment=True)
    notice = world.notices.file(alpha, draft(vol(FAR, 1, 3))).notice.id
    world.clock.advance(timedelta(minutes=10))
    assert world.lifecycle.acknowledge(bravo, notice).notice_state == NoticeState.ACKNOWLEDGED
    world.after(minutes=50)
    assert world.notices.get(alpha, notice).state == NoticeState.ACTIVE
    assert world.events(alpha, "activation.blocked") == []


def test_an_authoritys_area_needs_its_approval_and_a_rejection_blocks(
    world: World, make_party: MakeParty
) -> None:
    alpha = make_party("Alpha")[0]
    tower = make_party("Tower", "authority")[0]
    world.agree(alpha, tower, authority_approval_required=True)
    world.notices.file(tower, draft(vol(WEST, 0, 24), title="restricted area R1"))
    outside = world.notices.file(alpha, draft(vol(FAR, 1, 3))).notice
    inside = world.notices.file(alpha, draft(vol(EAST, 1, 3))).notice
    assert outside.approvals == ()  # away from the tower's areas: nothing to approve
    [asked] = inside.approvals
    assert (asked.party, asked.kind) == ("Tower", ApprovalKind.APPROVAL)

    rejected = world.lifecycle.reject(tower, inside.id, "R1 is hot: live firing 10-12Z")
    assert rejected.approval.state == ApprovalState.REJECTED
    world.after(hours=1)
    assert world.notices.get(alpha, outside.id).state == NoticeState.ACTIVE
    assert world.notices.get(alpha, inside.id).state == NoticeState.FILED
    [blocked] = world.events(alpha, "activation.blocked")
    assert blocked["missing"][0]["reason"] == "R1 is hot: live firing 10-12Z"
    [told_tower] = world.events(tower, "activation.blocked")
    assert {k: v for k, v in told_tower.items() if k != "_seq"} == {
        k: v for k, v in blocked.items() if k != "_seq"
    }
    with pytest.raises(InvalidStateError, match="already rejected"):
        world.lifecycle.approve(tower, inside.id)

    # the filer modifies it: asked again, then approved, it activates at once
    modified = world.notices.modify(alpha, inside.id, 1, draft(vol(EAST, 1, 3)))
    assert [a.state for a in modified.notice.approvals] == [ApprovalState.PENDING]
    approved = world.lifecycle.approve(tower, inside.id)
    assert approved.notice_state == NoticeState.ACTIVE
    assert world.lifecycle.approve(tower, inside.id).notice_state == NoticeState.ACTIVE


def test_a_notice_that_never_activates_closes_at_its_end(
    world: World, make_party: MakeParty
) -> None:
    alpha, bravo = make_party("Alpha")[0], make_party("Bravo")[0]
    world.agree(alpha, bravo, activation_requires_acknowledgment=True)
    notice = world.notices.file(alpha, draft(vol(FAR, 1, 2))).notice.id
    world.after(hours=3)  # one run: the start and the end both passed
    assert world.notices.get(alpha, notice).state == NoticeState.CLOSED
    [closed] = world.events(bravo, "notice.state_changed")
    assert closed["reason"] == "its window ended before it could activate"
    with pytest.raises(InvalidStateError, match="nothing left to decide"):
        world.lifecycle.acknowledge(bravo, notice)


def test_cancelling_tells_the_counterparts(world: World, make_party: MakeParty) -> None:
    alpha, bravo = make_party("Alpha")[0], make_party("Bravo")[0]
    world.agree(alpha, bravo, activation_requires_acknowledgment=True)
    notice = world.notices.file(alpha, draft(vol(FAR, 1, 3))).notice.id
    world.notices.cancel(alpha, notice)
    [told] = world.events(bravo, "notice.state_changed")
    assert (told["from"], told["to"], told["version"]) == ("filed", "cancelled", 2)
    world.after(hours=5)
    assert world.notices.get(alpha, notice).state == NoticeState.CANCELLED


def test_deciding_what_is_not_yours_is_refused(world: World, make_party: MakeParty) -> None:
    alpha, bravo = make_party("Alpha")[0], make_party("Bravo")[0]
    charlie = make_party("Charlie")[0]
    tower = make_party("Tower", "authority")[0]
    world.agree(alpha, bravo, activation_requires_acknowledgment=True)
    notice = world.notices.file(alpha, draft(vol(FAR, 1, 3))).notice.id
    before = world.journal("notice.decision")

    with pytest.raises(NotFoundError, match="awaits acknowledgment by party 'Charlie'"):
        world.lifecycle.acknowledge(charlie, notice)  # not delivered to Charlie
    with pytest.raises(NotFoundError):
        world.lifecycle.acknowledge(alpha, notice)  # one's own notice
    with pytest.raises(NotFoundError):
        world.lifecycle.acknowledge(bravo, "ntc_nope")
    with pytest.raises(PermissionDeniedError, match="only an authority"):
        world.lifecycle.approve(bravo, notice)
    with pytest.raises(PermissionDeniedError):
        world.lifecycle.reject(bravo, notice, "no")
    with pytest.raises(NotFoundError):
        world.lifecycle.approve(tower, notice)  # an authority, but not asked
    with pytest.raises(ValidationError, match="needs a reason"):
        world.lifecycle.reject(tower, notice, "  ")
    assert world.journal("notice.decision") == before
    assert world.notices.get(alpha, notice).approvals[0].state == ApprovalState.PENDING

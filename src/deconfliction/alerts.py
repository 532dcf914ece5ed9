"""Alerts: each party's need-to-know view of its conflicts; listing and acknowledging.

An alert row holds only what its party may see: the overlap (intersection geometry,
band, window), the counterpart's name and the party's own notice. The one JSON form of
an alert (:func:`alert_document`) serves the API and the event stream alike.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from deconfliction.agreements.service import check_signed
from deconfliction.clock import Clock
from deconfliction.delivery.outbox import EventDraft, publish_many
from deconfliction.errors import NotFoundError, ValidationError
from deconfliction.journal.chain import append, lock_head
from deconfliction.journal.receipts import issue_receipt
from deconfliction.jsontext import RawJSON
from deconfliction.notices.model import AlertView, ConflictView, EscalationState
from deconfliction.parties import PartyRef, signed
from deconfliction.store.database import Database
from deconfliction.store.schema import Alert, Conflict, Party

__all__ = [
    "ALERT_STATES",
    "AlertLike",
    "AlertService",
    "NewAlert",
    "alert_document",
    "alert_event",
    "alert_view",
    "conflict_document",
    "conflict_view",
    "disclose_exact",
    "disclose_when_both_acknowledged",
    "is_coarse",
    "publish_alert",
]

ALERT_STATES = ("open", "acknowledged", "resolved")


@dataclass(frozen=True, slots=True)
class NewAlert:
    """An alert about to be inserted as a batch (``row()``), read by the views as a
    stored one is: building ORM objects for a filing's alerts cost more than writing
    them."""

    id: str
    party_id: int
    conflict_id: str
    kind: str
    state: str
    priority: str
    counterpart: str
    notice_id: str | None
    position: int | None
    geometry: str
    lower_m: float
    upper_m: float
    start_at: datetime
    end_at: datetime
    created_at: datetime
    ack_deadline: datetime | None
    escalation_tier: int = 0
    escalation_state: str = EscalationState.NONE.value
    acknowledged_at: datetime | None = None

    def row(self) -> dict[str, Any]:
        """The values of its ``alerts`` row."""
        return {name: getattr(self, name) for name in self.__slots__}


AlertLike = Alert | NewAlert
"""An alert as the views read it: stored, or about to be."""


def conflict_view(alert: AlertLike, geometry: dict[str, Any] | None = None) -> ConflictView:
    """The need-to-know view of a conflict held in one party's alert; ``geometry``:
    the alert's, where already read."""
    return ConflictView(
        id=alert.conflict_id,
        kind=alert.kind,
        counterpart=alert.counterpart,
        notice_id=alert.notice_id,
        position=alert.position,
        geometry=json.loads(alert.geometry) if geometry is None else geometry,
        lower_m=alert.lower_m,
        upper_m=alert.upper_m,
        start=alert.start_at,
        end=alert.end_at,
    )


def conflict_document(conflict: ConflictView) -> dict[str, Any]:
    """A conflict as a GeoJSON Feature: where it lies, as the viewer may see it."""
    return {
        "type": "Feature",
        "geometry": conflict.geometry,
        "properties": {
            "conflict": conflict.id,
            "kind": conflict.kind,
            "counterpart": conflict.counterpart,
            "notice": conflict.notice_id,
            "volume": conflict.position,
            "lower_m": conflict.lower_m,
            "upper_m": conflict.upper_m,
            "start": conflict.start.isoformat(),
            "end": conflict.end.isoformat(),
        },
    }


def alert_document(alert: AlertView) -> dict[str, Any]:
    """An alert as JSON: its state, priority, deadline, escalation and conflict Feature."""
    return {
        "id": alert.id,
        "kind": alert.kind,
        "state": alert.state,
        "priority": alert.priority,
        "created_at": alert.created_at.isoformat(),
        "acknowledged_at": _time(alert.acknowledged_at),
        "ack_deadline": _time(alert.ack_deadline),
        "escalation_tier": alert.escalation_tier,
        "escalation_state": alert.escalation_state.value,
        "conflict": conflict_document(alert.conflict),
    }


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def alert_event(alert: AlertLike, kind: str, at: datetime) -> EventDraft:
    """The event that tells the alert's party of it, carrying the alert as it now stands
    (its outline as the text stored, not read and written again)."""
    document = alert_document(alert_view(alert, geometry={}))
    document["conflict"]["geometry"] = RawJSON(alert.geometry)
    return EventDraft(alert.party_id, kind, document, at, alert.id)


def publish_alert(session: Session, alert: Alert, kind: str, at: datetime) -> int:
    """Tell the alert's party of it (:func:`alert_event`); returns the event's seq."""
    return publish_many(session, [alert_event(alert, kind, at)])[0]


def alert_view(alert: AlertLike, geometry: dict[str, Any] | None = None) -> AlertView:
    """The alert as its party sees it (``geometry`` as for :func:`conflict_view`)."""
    return AlertView(
        id=alert.id,
        kind=alert.kind,
        state=alert.state,
        priority=alert.priority,
        created_at=alert.created_at,
        acknowledged_at=alert.acknowledged_at,
        conflict=conflict_view(alert, geometry),
        ack_deadline=alert.ack_deadline,
        escalation_tier=alert.escalation_tier,
        escalation_state=EscalationState(alert.escalation_state),
    )


def is_coarse(alert: Alert, conflict: Conflict) -> bool:
    """Whether ``alert`` tells less than its conflict: coarse cells or band."""
    return (alert.geometry, alert.lower_m, alert.upper_m) != (
        conflict.geometry,
        conflict.lower_m,
        conflict.upper_m,
    )


def disclose_exact(
    session: Session, alert: Alert, conflict: Conflict, why: str, now: datetime
) -> None:
    """Tell ``alert``'s party the exact intersection, and journal that it was told."""
    alert.geometry = conflict.geometry
    alert.lower_m, alert.upper_m = conflict.lower_m, conflict.upper_m
    publish_alert(session, alert, "alert.disclosed", now)
    name = session.scalars(select(Party.name).where(Party.id == alert.party_id)).one()
    append(
        session,
        at=now,
        kind="alert.disclosed",
        party=name,
        subject=alert.id,
        payload={
            "alert": alert.id,
            "conflict": conflict.id,
            "level": "exact",
            "why": why,
            "geometry": json.loads(conflict.geometry),
            "lower_m": conflict.lower_m,
            "upper_m": conflict.upper_m,
        },
    )


def disclose_when_both_acknowledged(session: Session, alert: Alert, now: datetime) -> None:
    """Once both sides of ``alert``'s conflict acknowledged, disclose it to both."""
    conflict = session.get(Conflict, alert.conflict_id)
    assert conflict is not None
    if conflict.kind != "notice-notice" or not is_coarse(alert, conflict):
        return
    sides = list(session.scalars(select(Alert).where(Alert.conflict_id == conflict.id)))
    if all(a.acknowledged_at is not None for a in sides):
        for side in sorted(sides, key=lambda a: a.id):
            if is_coarse(side, conflict):
                disclose_exact(session, side, conflict, "acknowledged", now)


class AlertService:
    """A party's alerts: only its own, never another party's."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def list_alerts(
        self, party: PartyRef, state: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[AlertView]:
        """The party's alerts, newest first, optionally only those in one state."""
        if state is not None and state not in ALERT_STATES:
            raise ValidationError(f"state {state!r} is not one of: {', '.join(ALERT_STATES)}")
        with self._db.read() as session:
            query = select(Alert).where(Alert.party_id == party.id)
            if state is not None:
                query = query.where(Alert.state == state)
            query = query.order_by(Alert.created_at.desc(), Alert.id).limit(limit).offset(offset)
            return [alert_view(a) for a in session.scalars(query)]

    def get(self, party: PartyRef, alert_id: str) -> AlertView:
        with self._db.read() as session:
            return alert_view(self._own(session, party, alert_id))

    def acknowledge(self, party: PartyRef, alert_id: str) -> AlertView:
        """Acknowledge one of the party's alerts; acknowledging again changes nothing.

        It stops the alert's escalation, at whatever tier it has reached.
        """
        now = self._clock.now()
        with self._db.transaction() as session:
            lock_head(session)  # one acknowledgment wins; the escalation sees it
            alert = self._own(session, party, alert_id)
            if alert.acknowledged_at is None:
                conflict = session.get(Conflict, alert.conflict_id)
                if conflict is not None:
                    other = {conflict.a_party_id, conflict.b_party_id} - {party.id}
                    check_signed(session, party, other)
                alert.acknowledged_at = now
                if alert.state == "open":
                    alert.state = "acknowledged"
                if EscalationState(alert.escalation_state).is_pending:
                    alert.escalation_state = EscalationState.STOPPED.value
                publish_alert(session, alert, "alert.acknowledged", now)
                entry = append(
                    session,
                    at=now,
                    kind="alert.acknowledged",
                    party=party.name,
                    subject=alert.id,
                    payload=signed(
                        {
                            "alert": alert.id,
                            "conflict": alert.conflict_id,
                            "escalation_tier": alert.escalation_tier,
                        },
                        party,
                    ),
                )
                issue_receipt(session, party, "alert", alert.id, "acknowledged", now, entry=entry)
                disclose_when_both_acknowledged(session, alert, now)
            return alert_view(alert)

    @staticmethod
    def _own(session: Session, party: PartyRef, alert_id: str) -> Alert:
        alert = session.get(Alert, alert_id)
        if alert is None or alert.party_id != party.id:
            raise NotFoundError(f"no alert {alert_id!r} of party {party.name!r}")
        return alert

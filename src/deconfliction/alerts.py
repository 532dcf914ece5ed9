"""Alerts: each party's need-to-know view of its conflicts; listing and acknowledging."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from deconfliction.clock import Clock
from deconfliction.errors import NotFoundError, ValidationError
from deconfliction.journal.chain import append
from deconfliction.notices.model import AlertView
from deconfliction.notices.service import conflict_view
from deconfliction.parties import PartyRef
from deconfliction.store.database import Database
from deconfliction.store.schema import Alert

__all__ = ["ALERT_STATES", "AlertService", "alert_view"]

ALERT_STATES = ("open", "acknowledged", "resolved")


def alert_view(alert: Alert) -> AlertView:
    return AlertView(
        id=alert.id,
        kind=alert.kind,
        state=alert.state,
        priority=alert.priority,
        created_at=alert.created_at,
        acknowledged_at=alert.acknowledged_at,
        conflict=conflict_view(alert),
    )


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
        """Acknowledge one of the party's alerts; acknowledging again changes nothing."""
        now = self._clock.now()
        with self._db.transaction() as session:
            alert = self._own(session, party, alert_id)
            if alert.acknowledged_at is None:
                alert.acknowledged_at = now
                if alert.state == "open":
                    alert.state = "acknowledged"
                append(
                    session,
                    at=now,
                    kind="alert.acknowledged",
                    party=party.name,
                    subject=alert.id,
                    payload={"alert": alert.id, "conflict": alert.conflict_id},
                )
            return alert_view(alert)

    @staticmethod
    def _own(session: Session, party: PartyRef, alert_id: str) -> Alert:
        alert = session.get(Alert, alert_id)
        if alert is None or alert.party_id != party.id:
            raise NotFoundError(f"no alert {alert_id!r} of party {party.name!r}")
        return alert

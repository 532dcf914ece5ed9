"""Escalation: alerts and messages not acknowledged by their deadline climb the ladder.

An item (an alert, or a hotline message) has an ``ack_deadline``, set when it is made
from the agreement of its two parties (or the defaults, see ``agreements.service``).
When the deadline passes unacknowledged, the item climbs to the next tier of that
agreement's ladder: the party that must acknowledge gets an ``<item>.escalated`` event
naming the tier and its contacts, the journal records it, and the deadline moves on by
the tier's ``deadline_s`` (counted from the deadline that passed, so a late run does
not stretch the ladder). Acknowledgment at any tier stops it (``escalation_state``
``stopped``). When the last tier's deadline passes (at once, with no ladder), the item
becomes ``unacknowledged`` and both sides get an ``<item>.unacknowledged`` event.

===========  ===================  =====================================================
item         must acknowledge      other side (told when it goes unacknowledged)
===========  ===================  =====================================================
alert        the alert's party     the conflict's other party
message      its recipient         its sender
===========  ===================  =====================================================

:meth:`Escalation.run_once` does what the clock has made due; the API runs it every
``Settings.tick_s``. Rows are found through the (escalation state, deadline) index.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from deconfliction.agreements.service import terms_between
from deconfliction.agreements.terms import ANONYMOUS_COUNTERPART, Tier
from deconfliction.clock import Clock
from deconfliction.delivery.outbox import publish
from deconfliction.journal.chain import append, lock_head
from deconfliction.notices.model import EscalationState
from deconfliction.store.database import Database
from deconfliction.store.schema import Alert, Conflict, Message, Party

__all__ = ["BATCH", "Escalation", "EscalationReport"]

BATCH = 500
"""Items handled per kind and per run of :meth:`Escalation.run_once`."""

_PENDING = tuple(s.value for s in EscalationState if s.is_pending)


class _Escalable(Protocol):
    """The columns escalation reads and writes, shared by alerts and messages."""

    id: str
    ack_deadline: datetime | None
    acknowledged_at: datetime | None
    escalation_tier: int
    escalation_state: str


@dataclass(frozen=True)
class EscalationReport:
    """What one run did: tiers climbed, items gone unacknowledged, items found stopped."""

    escalated: int = 0
    unacknowledged: int = 0
    stopped: int = 0


class Escalation:
    """Raises unacknowledged alerts and messages up their agreement's ladder."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def run_once(self, now: datetime | None = None) -> EscalationReport:
        """Escalate every item whose deadline has passed by ``now`` (default: the clock)."""
        now = self._clock.now() if now is None else now
        with self._db.read() as session:
            if not (_due(session, Alert, now) or _due(session, Message, now)):
                return EscalationReport()
        totals = [0, 0, 0]
        with self._db.transaction() as session:
            lock_head(session)  # an acknowledgment commits before us or waits for us
            for alert in list(session.scalars(_due_query(Alert, now))):
                conflict = session.get(Conflict, alert.conflict_id)
                assert conflict is not None
                other = (
                    conflict.b_party_id
                    if alert.party_id == conflict.a_party_id
                    else conflict.a_party_id
                )
                if alert.state != "open":  # acknowledged, or resolved meanwhile
                    alert.escalation_state = EscalationState.STOPPED.value
                    _add(totals, (0, 0, 1))
                    continue
                about = {"conflict": alert.conflict_id, "priority": alert.priority}
                counts = self._climb(session, "alert", alert, (alert.party_id, other), about, now)
                _add(totals, counts)
            for message in list(session.scalars(_due_query(Message, now))):
                about = {"thread": message.thread_id, "priority": message.priority}
                pair = (message.recipient_id, message.sender_id)
                _add(totals, self._climb(session, "message", message, pair, about, now))
        return EscalationReport(*totals)

    def _climb(
        self,
        session: Session,
        kind: str,
        item: _Escalable,
        pair: tuple[int, int],
        about: dict[str, Any],
        now: datetime,
    ) -> tuple[int, int, int]:
        """Climb one item as far as ``now`` takes it; ``pair`` is (the party that must
        acknowledge, the other side). Returns (climbed, unacknowledged, stopped) counts."""
        owner_id, other_id = pair
        if item.acknowledged_at is not None:
            item.escalation_state = EscalationState.STOPPED.value
            return 0, 0, 1
        terms = terms_between(session, owner_id, other_id)
        ladder: Sequence[Tier] = () if terms is None else terms.ladder
        query = select(Party.id, Party.name).where(Party.id.in_((owner_id, other_id)))
        names = dict(session.execute(query).all())
        owner, other = names[owner_id], names[other_id]
        anonymous_message = getattr(item, "handle", None) is not None
        if anonymous_message or getattr(item, "counterpart", None) == ANONYMOUS_COUNTERPART:
            other = ANONYMOUS_COUNTERPART  # an anonymous alert or message: never who
        climbed = 0
        assert item.ack_deadline is not None
        while item.ack_deadline <= now:
            missed = item.ack_deadline
            if item.escalation_tier >= len(ladder):
                item.escalation_state = EscalationState.UNACKNOWLEDGED.value
                payload = {**about, **_payload(kind, item, owner, other, missed)}
                self._record(session, kind, "unacknowledged", item, owner, payload, now)
                for party_id in sorted({owner_id, other_id}):
                    told = payload
                    if party_id != owner_id and other == ANONYMOUS_COUNTERPART:
                        told = {**payload, "party": other, "counterpart": names[party_id]}
                    publish(
                        session,
                        party_id=party_id,
                        kind=f"{kind}.unacknowledged",
                        at=now,
                        item_id=item.id,
                        payload=told,
                    )
                return climbed, 1, 0
            tier = ladder[item.escalation_tier]
            item.escalation_tier += 1
            item.escalation_state = EscalationState.ESCALATED.value
            item.ack_deadline = missed + timedelta(seconds=tier.deadline_s)
            payload = {
                **about,
                **_payload(kind, item, owner, other, missed),
                "tier_name": tier.name,
                "contacts": list(tier.contacts),
                "ack_deadline": item.ack_deadline.isoformat(),
            }
            self._record(session, kind, "escalated", item, owner, payload, now)
            publish(
                session,
                party_id=owner_id,
                kind=f"{kind}.escalated",
                at=now,
                item_id=item.id,
                payload=payload,
            )
            climbed += 1
        return climbed, 0, 0

    @staticmethod
    def _record(
        session: Session,
        kind: str,
        what: str,
        item: _Escalable,
        owner: str,
        payload: dict[str, Any],
        now: datetime,
    ) -> None:
        append(
            session, at=now, kind=f"{kind}.{what}", party=owner, subject=item.id, payload=payload
        )


def _payload(
    kind: str, item: _Escalable, owner: str, other: str, missed: datetime
) -> dict[str, Any]:
    return {
        kind: item.id,
        "party": owner,
        "counterpart": other,
        "tier": item.escalation_tier,
        "missed_deadline": missed.isoformat(),
        "escalation_state": item.escalation_state,
    }


def _add(totals: list[int], counts: tuple[int, int, int]) -> None:
    for i, n in enumerate(counts):
        totals[i] += n


def _due_query(table: type[Alert] | type[Message], now: datetime) -> Any:
    return (
        select(table)
        .where(table.escalation_state.in_(_PENDING), table.ack_deadline <= now)
        .order_by(table.ack_deadline, table.id)
        .limit(BATCH)
    )


def _due(session: Session, table: type[Alert] | type[Message], now: datetime) -> bool:
    query = select(table.id).where(table.escalation_state.in_(_PENDING), table.ack_deadline <= now)
    return session.execute(query.limit(1)).first() is not None

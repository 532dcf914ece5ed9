"""Lead-time and response statistics per party pair, from what the store recorded.

A row is one direction of a pair: ``sender`` is the party whose notice, conflict or
message it is, ``recipient`` the party that was told and had to acknowledge.

* **Notice lead times** (start minus filing, seconds; min and median): the sender's
  notices the recipient was told of — delivered under their agreement (a
  ``notice.filed`` event) or met in a conflict the sender's filing raised.
  ``short_notices`` counts those below the agreement's minimum at delivery.
* **Acknowledgment times** (acknowledged minus created, seconds; p50 and p95, nearest
  rank) of the recipient's alerts about conflicts with the sender, and of the sender's
  messages to the recipient; only acknowledged items count.
* **Escalations**: tiers climbed by those alerts and messages, and how many of them
  went ``unacknowledged``.

In a party's own statistics, every party it met only anonymously (the other side of an
``anonymous`` alert of its own) is one row, ``(another party)``: no name, and no count
that tells two of them apart.

>>> percentile([4.0, 1.0, 3.0, 2.0], 50), percentile([4.0, 1.0, 3.0, 2.0], 95)
(2.0, 4.0)
"""

from __future__ import annotations

import json
import math
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from deconfliction.agreements.terms import ANONYMOUS_COUNTERPART
from deconfliction.notices.model import EscalationState
from deconfliction.parties import PartyRef
from deconfliction.store.database import Database
from deconfliction.store.schema import Alert, Conflict, Event, Message, Notice, Party

__all__ = ["PairStats", "StatsService", "percentile"]


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank ``q``-th percentile (0 < q <= 100): the smallest value with at
    least ``q`` % of the values at or below it. Needs at least one value."""
    if not values:
        raise ValueError("the percentile of no values is undefined")
    if not 0 < q <= 100:
        raise ValueError(f"q must be in (0, 100], not {q}")
    ordered = sorted(values)
    rank = math.ceil(q / 100.0 * len(ordered) - 1e-9)
    return ordered[max(rank, 1) - 1]


@dataclass(frozen=True)
class PairStats:
    """One direction of a party pair. Times in seconds; ``None`` where nothing counted."""

    sender: str
    recipient: str
    notices: int
    short_notices: int
    lead_time_min_s: float | None
    lead_time_median_s: float | None
    alerts_acknowledged: int
    alert_ack_p50_s: float | None
    alert_ack_p95_s: float | None
    messages_acknowledged: int
    message_ack_p50_s: float | None
    message_ack_p95_s: float | None
    escalations: int
    unacknowledged: int


@dataclass
class _Tally:
    lead_times: dict[str, float] = field(default_factory=dict)
    short: set[str] = field(default_factory=set)
    alert_acks: list[float] = field(default_factory=list)
    message_acks: list[float] = field(default_factory=list)
    escalations: int = 0
    unacknowledged: int = 0

    def responded(self, kind: str, created: datetime, acknowledged: datetime | None) -> None:
        if acknowledged is not None:
            acks = self.alert_acks if kind == "alert" else self.message_acks
            acks.append((acknowledged - created).total_seconds())

    def add(self, other: _Tally) -> None:
        """Count ``other``'s items in this one too."""
        self.lead_times.update(other.lead_times)
        self.short |= other.short
        self.alert_acks.extend(other.alert_acks)
        self.message_acks.extend(other.message_acks)
        self.escalations += other.escalations
        self.unacknowledged += other.unacknowledged

    def escalation(self, tier: int, state: str) -> None:
        self.escalations += tier
        self.unacknowledged += state == EscalationState.UNACKNOWLEDGED.value


_ANONYMOUS = -1
"""The id standing for every party a party met anonymously, in its own statistics."""


def _hide_anonymous(
    session: Session, who: int, tallies: defaultdict[tuple[int, int], _Tally]
) -> defaultdict[tuple[int, int], _Tally]:
    """``who``'s tallies with every party it was told of only anonymously (the other
    side of one of its ``anonymous`` alerts) merged into one: :data:`_ANONYMOUS`."""
    query = (
        select(Conflict.a_party_id, Conflict.b_party_id)
        .join(Alert, Alert.conflict_id == Conflict.id)
        .where(Alert.party_id == who, Alert.counterpart == ANONYMOUS_COUNTERPART)
    )
    hidden = {b if a == who else a for a, b in session.execute(query)}
    if not hidden:
        return tallies
    merged: defaultdict[tuple[int, int], _Tally] = defaultdict(_Tally)
    for (sender, recipient), tally in tallies.items():
        key = (
            _ANONYMOUS if sender in hidden else sender,
            _ANONYMOUS if recipient in hidden else recipient,
        )
        merged[key].add(tally)
    return merged


def _p(values: list[float], q: float) -> float | None:
    return percentile(values, q) if values else None


class StatsService:
    """Statistics for every pair (administrators) or for one party's pairs."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def pairs(self, party: PartyRef | None = None) -> list[PairStats]:
        """Every directed pair with anything recorded; with ``party``, only its own."""
        with self._db.read() as session:
            names = dict(session.execute(select(Party.id, Party.name)).all())
            tallies: defaultdict[tuple[int, int], _Tally] = defaultdict(_Tally)
            who = None if party is None else party.id
            self._notices(session, who, tallies)
            self._alerts(session, who, tallies)
            self._messages(session, who, tallies)
            if party is not None:
                tallies = _hide_anonymous(session, party.id, tallies)
                names[_ANONYMOUS] = ANONYMOUS_COUNTERPART
        rows = [_row(names[s], names[r], t) for (s, r), t in tallies.items()]
        return sorted(rows, key=lambda row: (row.sender, row.recipient))

    @staticmethod
    def _notices(
        session: Session, who: int | None, tallies: defaultdict[tuple[int, int], _Tally]
    ) -> None:
        delivered = select(
            Event.party_id, Event.payload, Notice.id, Notice.party_id, Notice.lead_time_s
        )
        delivered = delivered.join(Notice, Notice.id == Event.item_id).where(
            Event.kind == "notice.filed"
        )
        if who is not None:
            delivered = delivered.where(or_(Event.party_id == who, Notice.party_id == who))
        for recipient, payload, notice_id, sender, lead in session.execute(delivered):
            tally = tallies[(sender, recipient)]
            tally.lead_times[notice_id] = lead
            if json.loads(payload).get("short_notice"):
                tally.short.add(notice_id)
        met = select(Conflict.a_party_id, Conflict.b_party_id, Notice.id, Notice.lead_time_s)
        met = met.join(Notice, Notice.id == Conflict.a_notice_id)
        if who is not None:
            met = met.where(or_(Conflict.a_party_id == who, Conflict.b_party_id == who))
        for sender, recipient, notice_id, lead in session.execute(met):
            tallies[(sender, recipient)].lead_times[notice_id] = lead

    @staticmethod
    def _alerts(
        session: Session, who: int | None, tallies: defaultdict[tuple[int, int], _Tally]
    ) -> None:
        query = select(
            Alert.party_id,
            Conflict.a_party_id,
            Conflict.b_party_id,
            Alert.created_at,
            Alert.acknowledged_at,
            Alert.escalation_tier,
            Alert.escalation_state,
        ).join(Conflict, Conflict.id == Alert.conflict_id)
        if who is not None:
            query = query.where(or_(Conflict.a_party_id == who, Conflict.b_party_id == who))
        for recipient, a, b, created, acknowledged, tier, state in session.execute(query):
            tally = tallies[(b if recipient == a else a, recipient)]
            tally.responded("alert", created, acknowledged)
            tally.escalation(tier, state)

    @staticmethod
    def _messages(
        session: Session, who: int | None, tallies: defaultdict[tuple[int, int], _Tally]
    ) -> None:
        query = select(
            Message.sender_id,
            Message.recipient_id,
            Message.created_at,
            Message.acknowledged_at,
            Message.escalation_tier,
            Message.escalation_state,
        )
        if who is not None:
            query = query.where(or_(Message.sender_id == who, Message.recipient_id == who))
        for sender, recipient, created, acknowledged, tier, state in session.execute(query):
            tally = tallies[(sender, recipient)]
            tally.responded("message", created, acknowledged)
            tally.escalation(tier, state)


def _row(sender: str, recipient: str, t: _Tally) -> PairStats:
    leads = list(t.lead_times.values())
    return PairStats(
        sender=sender,
        recipient=recipient,
        notices=len(leads),
        short_notices=len(t.short),
        lead_time_min_s=min(leads) if leads else None,
        lead_time_median_s=statistics.median(leads) if leads else None,
        alerts_acknowledged=len(t.alert_acks),
        alert_ack_p50_s=_p(t.alert_acks, 50),
        alert_ack_p95_s=_p(t.alert_acks, 95),
        messages_acknowledged=len(t.message_acks),
        message_ack_p50_s=_p(t.message_acks, 50),
        message_ack_p95_s=_p(t.message_acks, 95),
        escalations=t.escalations,
        unacknowledged=t.unacknowledged,
    )

"""Publishing events: one outbox row per party that must see a change, in its transaction.

Each party's events are numbered 1, 2, 3, ... without gaps: the number comes from the
party row's counter, incremented under that row's write lock, so concurrent
transactions on any backend get distinct, ordered numbers. Streams read the rows (the
source of truth) and are only woken by the parties recorded in ``session.info``, which
:class:`~deconfliction.store.database.Database` hands to its commit listeners: each
party's last ``seq`` (:data:`PUBLISHED_KEY`) and, unless a rollback may have undone some
of them, the events themselves (:data:`PUBLISHED_EVENTS_KEY`), which a stream of the same
process may send without reading them back.

:func:`publish_many` numbers and writes many events in three statements, however many
there are: the counters' update (one execution for all the parties), their read, one
insert.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, bindparam, event, insert, select, update
from sqlalchemy.orm import Session

from deconfliction.jsontext import compact_json
from deconfliction.store.schema import Event, Party

__all__ = [
    "PUBLISHED_EVENTS_KEY",
    "PUBLISHED_KEY",
    "EventDraft",
    "EventView",
    "publish",
    "publish_many",
]

PUBLISHED_KEY = "deconfliction.published_parties"
"""Key in ``Session.info``: the parties that got an event in this transaction, each with
its last ``seq`` (a dict: iterating it gives the party ids)."""
PUBLISHED_EVENTS_KEY = "deconfliction.published_events"
"""Key in ``Session.info``: ``(party id, EventView)`` of each event this transaction
added, or ``None`` once a rollback (of a savepoint) may have undone some of them."""


_BUMP = (
    update(Party)
    .where(Party.id == bindparam("party_id"))
    .values(event_seq=Party.event_seq + bindparam("n", type_=BigInteger))
)
_LAST = select(Party.id, Party.event_seq).where(Party.id.in_(bindparam("ids", expanding=True)))
_INSERT_EVENTS = insert(Event)
"""The statements are built once and run on the connection (Core, no ORM work)."""


@dataclass(frozen=True)
class EventView:
    """One event of a party's stream: its position, kind, item id, time and payload (the
    JSON text as stored)."""

    seq: int
    kind: str
    item_id: str | None
    at: datetime
    payload_json: str

    @property
    def payload(self) -> Any:
        return json.loads(self.payload_json)

    def to_json(self) -> dict[str, Any]:
        """The wire form: ``{"seq", "kind", "item", "at", "payload"}``."""
        return {**self._head(), "payload": self.payload}

    def wire(self) -> str:
        """:meth:`to_json` as JSON text, the payload passed through as stored."""
        head = json.dumps(self._head(), separators=(",", ":"))
        return f'{head[:-1]},"payload":{self.payload_json}}}'

    def _head(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "kind": self.kind,
            "item": self.item_id,
            "at": self.at.astimezone(UTC).isoformat(timespec="microseconds"),
        }


@dataclass(frozen=True)
class EventDraft:
    """One event to publish: for whom, what, when, about which item, with what payload."""

    party_id: int
    kind: str
    payload: Mapping[str, Any]
    at: datetime
    item_id: str | None = None


def publish(
    session: Session,
    *,
    party_id: int,
    kind: str,
    payload: Mapping[str, Any],
    at: datetime,
    item_id: str | None = None,
) -> int:
    """Add one event for ``party_id`` and return its sequence number."""
    return publish_many(session, [EventDraft(party_id, kind, payload, at, item_id)])[0]


def publish_many(session: Session, drafts: Sequence[EventDraft]) -> list[int]:
    """Add the events, each party's in the order given; returns their sequence numbers."""
    if not drafts:
        return []
    counts = Counter(d.party_id for d in drafts)
    connection = session.connection()  # Core statements: no ORM work for them
    connection.execute(_BUMP, [{"party_id": party_id, "n": n} for party_id, n in counts.items()])
    rows = connection.execute(_LAST, {"ids": sorted(counts)}).all()
    if len(rows) != len(counts):
        missing = sorted(set(counts) - {party_id for party_id, _ in rows})
        raise ValueError(f"no parties {missing} to publish to")
    last_seq = {party_id: int(last) for party_id, last in rows}
    next_seq = {party_id: last - counts[party_id] + 1 for party_id, last in last_seq.items()}
    seqs: list[int] = []
    values: list[dict[str, Any]] = []
    views: list[tuple[int, EventView]] = []
    for draft in drafts:
        seq = next_seq[draft.party_id]
        next_seq[draft.party_id] = seq + 1
        seqs.append(seq)
        payload = compact_json(draft.payload)
        values.append(
            {
                "party_id": draft.party_id,
                "seq": seq,
                "kind": draft.kind,
                "item_id": draft.item_id,
                "payload": payload,
                "created_at": draft.at,
            }
        )
        views.append((draft.party_id, EventView(seq, draft.kind, draft.item_id, draft.at, payload)))
    connection.execute(_INSERT_EVENTS, values)
    session.info.setdefault(PUBLISHED_KEY, {}).update(last_seq)
    published = session.info.setdefault(PUBLISHED_EVENTS_KEY, [])
    if published is not None:
        published.extend(views)
    return seqs


@event.listens_for(Session, "after_soft_rollback")
def _forget_published(session: Session, previous_transaction: Any) -> None:
    """A rollback happened (of a savepoint, say): the events published so far in this
    transaction may not be committed as recorded, so none of them is kept in memory."""
    if session.info.get(PUBLISHED_EVENTS_KEY) is not None:
        session.info[PUBLISHED_EVENTS_KEY] = None

"""A party's events after a sequence number, and what the party has acknowledged.

A client reads its events in ``seq`` order after the last one it has (``after``), and
acknowledges them cumulatively: acknowledging ``n`` says "I have everything up to ``n``".
For every event so acknowledged that carried an item (a message, an alert:
:data:`~deconfliction.journal.receipts.DELIVERED_EVENT_KINDS`) the item is recorded as
delivered, once: the message's ``delivered_at`` and the sender's event, a signed receipt,
a journal entry. Acknowledging a position already acknowledged is a no-op; so is a
replay. ``after`` beyond the party's last event is refused: the client is confused about
which store it talks to, and must not silently skip what it would miss.

:class:`Deliveries` keeps, per party, the highest position it has recorded (in memory,
rebuilt from nothing after a restart: the first acknowledgment of a party then looks at
its events from the start, and records only what was not recorded before).
:class:`AckBatcher` commits the acknowledgments of every stream that arrived meanwhile in
one transaction (group commit), so a database with slow commits keeps up.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from anyio import to_thread
from sqlalchemy import select
from sqlalchemy.orm import Session

from deconfliction.clock import Clock
from deconfliction.errors import ValidationError
from deconfliction.hotline.messages import record_delivery
from deconfliction.journal.chain import lock_head
from deconfliction.journal.receipts import DELIVERED_EVENT_KINDS, issue_receipt
from deconfliction.parties import PartyRef
from deconfliction.store.database import Database
from deconfliction.store.schema import Event, Party

__all__ = [
    "MAX_PAGE",
    "AckBatcher",
    "Deliveries",
    "EventPage",
    "EventView",
    "check_after",
    "read_events",
    "record_deliveries",
]

MAX_PAGE = 1_000
"""The most events one read returns."""

_ITEM_KINDS = {kind: item for item, kind in DELIVERED_EVENT_KINDS.items()}
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EventView:
    """One event of a party's stream: its position, kind, item id, time and payload."""

    seq: int
    kind: str
    item_id: str | None
    at: datetime
    payload: Any

    def to_json(self) -> dict[str, Any]:
        """The wire form: ``{"seq", "kind", "item", "at", "payload"}``."""
        return {
            "seq": self.seq,
            "kind": self.kind,
            "item": self.item_id,
            "at": self.at.astimezone(UTC).isoformat(timespec="microseconds"),
            "payload": self.payload,
        }


@dataclass(frozen=True)
class EventPage:
    """Events after a position, oldest first, and the party's last ``seq`` at the time."""

    events: tuple[EventView, ...]
    last_seq: int


def check_after(after: int, last_seq: int) -> None:
    """Refuse a position before the start or beyond the party's last event."""
    if after < 0:
        raise ValidationError(f"after must be 0 or more, not {after}")
    if after > last_seq:
        raise ValidationError(
            f"after={after} is beyond your last event ({last_seq}): resume from the last "
            "seq you received (0 for everything); are you talking to the right service?",
            last_seq=last_seq,
        )


def read_events(session: Session, party_id: int, after: int, limit: int) -> EventPage:
    """Up to ``limit`` events of the party after ``after``, in order (one snapshot)."""
    last = session.scalar(select(Party.event_seq).where(Party.id == party_id))
    if last is None:
        raise ValueError(f"no party {party_id}")
    check_after(after, last)
    rows = session.scalars(
        select(Event)
        .where(Event.party_id == party_id, Event.seq > after)
        .order_by(Event.seq)
        .limit(min(limit, MAX_PAGE))
    )
    events = tuple(
        EventView(e.seq, e.kind, e.item_id, e.created_at, json.loads(e.payload)) for e in rows
    )
    return EventPage(events, int(last))


def record_deliveries(
    session: Session, party: PartyRef, after: int, up_to: int, at: datetime
) -> None:
    """Record as delivered every item carried by the party's events in ``(after, up_to]``
    and not recorded yet. Takes the journal head's lock, so that is decided on the
    newest state."""
    lock_head(session)
    rows = session.execute(
        select(Event.kind, Event.item_id, Event.payload)
        .where(
            Event.party_id == party.id,
            Event.seq > after,
            Event.seq <= up_to,
            Event.kind.in_(_ITEM_KINDS),
            Event.item_id.is_not(None),
        )
        .order_by(Event.seq)
    ).all()
    for kind, item_id, payload in rows:
        assert item_id is not None
        item_kind = _ITEM_KINDS[kind]
        if item_kind == "message":
            record_delivery(session, party, item_id, at)
        else:  # a receipt is issued once: a second time returns the first
            issue_receipt(session, party, item_kind, item_id, "delivered", at, json.loads(payload))


class Deliveries:
    """Reading a party's events and recording what it acknowledged."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        self._lock = threading.Lock()
        self._recorded: dict[int, int] = {}

    def events(self, party: PartyRef, after: int, limit: int = 100) -> EventPage:
        """The party's events after ``after``; ValidationError beyond its last one."""
        with self._db.read() as session:
            return read_events(session, party.id, after, limit)

    def recorded(self, party: PartyRef) -> int:
        """The highest position this process has recorded for the party (0: none yet)."""
        with self._lock:
            return self._recorded.get(party.id, 0)

    def acknowledge(self, acks: Mapping[PartyRef, int]) -> None:
        """Record, in one transaction, that each party has its events up to its position.

        Positions at or below what was recorded already are no-ops; each must not be
        beyond the party's last event (callers check it: they sent the events).
        """
        with self._lock:
            todo = {p: (self._recorded.get(p.id, 0), n) for p, n in acks.items()}
        todo = {p: span for p, span in todo.items() if span[1] > span[0]}
        if not todo:
            return
        now = self._clock.now()
        with self._db.transaction() as session:
            for party, (after, up_to) in todo.items():
                record_deliveries(session, party, after, up_to, now)
        with self._lock:
            for party, (_, up_to) in todo.items():
                self._recorded[party.id] = max(self._recorded.get(party.id, 0), up_to)


class AckBatcher:
    """Group commit of acknowledgments: one transaction per round for all streams.

    :meth:`submit` and :meth:`record` are called in the event loop that runs :meth:`run`.
    """

    def __init__(self, deliveries: Deliveries) -> None:
        self._deliveries = deliveries
        self._pending: dict[int, tuple[PartyRef, int]] = {}
        self._waiters: list[asyncio.Future[None]] = []
        self._wake = asyncio.Event()

    def submit(self, party: PartyRef, up_to: int) -> None:
        """Queue an acknowledgment of the party's events up to ``up_to``."""
        current = self._pending.get(party.id)
        if current is None or up_to > current[1]:
            self._pending[party.id] = (party, up_to)
        self._wake.set()

    async def record(self, party: PartyRef, up_to: int) -> None:
        """Queue an acknowledgment and wait until it is committed."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        self.submit(party, up_to)
        await waiter

    async def run(self) -> None:
        """Commit queued acknowledgments, round after round, until cancelled."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, waiters = self._pending, self._waiters
            self._pending, self._waiters = {}, []
            try:
                acks = dict(batch.values())
                await to_thread.run_sync(self._deliveries.acknowledge, acks)
            except Exception as exc:  # the streams go on; their next ack covers these
                _log.exception("recording %d acknowledgments failed", len(batch))
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_exception(exc)
                continue
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

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

Writes on the delivery path share commits: :class:`GroupCommit` runs the units of work
queued meanwhile (messages sent, acknowledgments) in one transaction per round, and
:class:`AckBatcher` merges the acknowledgments of every stream into one unit per round,
so a store whose commits take milliseconds (a disk flush each) keeps up.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

import anyio
from anyio import to_thread
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from deconfliction.clock import Clock
from deconfliction.delivery.outbox import PUBLISHED_EVENTS_KEY, EventView
from deconfliction.errors import DeconflictionError, ValidationError
from deconfliction.hotline.messages import record_deliveries as record_message_deliveries
from deconfliction.journal.chain import lock_head
from deconfliction.journal.receipts import DELIVERED_EVENT_KINDS, issue_receipt
from deconfliction.parties import PartyRef
from deconfliction.store.database import Database
from deconfliction.store.schema import Event, Party

__all__ = [
    "CARRIERS",
    "MAX_PAGE",
    "AckBatcher",
    "Deliveries",
    "EventCache",
    "EventPage",
    "EventReads",
    "EventView",
    "GroupCommit",
    "check_after",
    "read_events",
    "record_deliveries",
]

MAX_PAGE = 1_000
"""The most events one read returns."""

T = TypeVar("T")
A = TypeVar("A")
Batch = Callable[[Session, Sequence[A]], Sequence[T | DeconflictionError]]
"""A batch function: items in, each item's result (or the error refusing it) out."""
_Job = tuple[Batch[Any, Any] | None, Any]
"""A queued job: a batch function and its item, or ``None`` and a unit of work."""
_ITEM_KINDS = {kind: item for item, kind in DELIVERED_EVENT_KINDS.items()}
CARRIERS = frozenset(_ITEM_KINDS)
"""The kinds of events that carry an item whose delivery is recorded when acknowledged."""
_log = logging.getLogger(__name__)


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
    return EventPage(_after(session, party_id, after, limit), int(last))


_AFTER = (
    select(Event.seq, Event.kind, Event.item_id, Event.created_at, Event.payload)
    .where(Event.party_id == bindparam("party_id"), Event.seq > bindparam("after"))
    .order_by(Event.seq)
    .limit(bindparam("limit"))
)
"""The streams' read, built once and run on the connection (Core, no ORM work): it
runs for every wake-up."""


def _after(session: Session, party_id: int, after: int, limit: int) -> tuple[EventView, ...]:
    rows = session.connection().execute(
        _AFTER, {"party_id": party_id, "after": after, "limit": min(limit, MAX_PAGE)}
    )
    return tuple(EventView(*row) for row in rows)


_CARRIED = (
    select(Event.party_id, Event.kind, Event.item_id, Event.payload)
    .where(
        Event.party_id == bindparam("party_id"),
        Event.seq > bindparam("after"),
        Event.seq <= bindparam("up_to"),
        Event.kind.in_(sorted(CARRIERS)),
        Event.item_id.is_not(None),
    )
    .order_by(Event.seq)
)
"""The events in one party's span that carry an item, built once."""


def record_deliveries(
    session: Session, spans: Mapping[PartyRef, tuple[int, int]], at: datetime
) -> None:
    """Record as delivered every item carried by each party's events in its span
    ``(after, up_to]`` and not recorded yet. Takes the journal head's lock, so that is
    decided on the newest state."""
    if not spans:
        return
    lock_head(session)
    parties = {party.id: party for party in spans}
    connection = session.connection()
    rows = [
        row
        for party, (after, up_to) in sorted(spans.items(), key=lambda span: span[0].id)
        for row in connection.execute(
            _CARRIED, {"party_id": party.id, "after": after, "up_to": up_to}
        )
    ]
    messages = [
        (parties[party_id], item_id)
        for party_id, kind, item_id, _ in rows
        if item_id is not None and _ITEM_KINDS[kind] == "message"
    ]
    if messages:
        record_message_deliveries(session, messages, at)
    for party_id, kind, item_id, payload in rows:
        item_kind = _ITEM_KINDS[kind]
        if item_kind != "message":  # a receipt is issued once: again returns the first
            assert item_id is not None
            issue_receipt(
                session, parties[party_id], item_kind, item_id, "delivered", at, json.loads(payload)
            )


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

    def next_events(self, party: PartyRef, after: int, limit: int) -> tuple[EventView, ...]:
        """The events after a position the caller got from this store (not checked)."""
        with self._db.read() as session:
            return _after(session, party.id, after, limit)

    def next_events_many(
        self, positions: Sequence[tuple[int, int, int]]
    ) -> list[tuple[EventView, ...]]:
        """:meth:`next_events` for many ``(party id, after, limit)`` positions, in one
        session; each answer in its position's place."""
        with self._db.read() as session:
            return [_after(session, party_id, after, limit) for party_id, after, limit in positions]

    def recorded(self, party: PartyRef) -> int:
        """The highest position this process has recorded for the party (0: none yet)."""
        with self._lock:
            return self._recorded.get(party.id, 0)

    def pending(self, acks: Mapping[PartyRef, int]) -> dict[PartyRef, tuple[int, int]]:
        """The spans ``(recorded, position]`` still to record; positions at or below what
        was recorded already drop out (a replay is a no-op)."""
        with self._lock:
            spans = {p: (self._recorded.get(p.id, 0), n) for p, n in acks.items()}
        return {p: span for p, span in spans.items() if span[1] > span[0]}

    def record(self, session: Session, spans: Mapping[PartyRef, tuple[int, int]]) -> None:
        """Record the deliveries in these spans in the caller's transaction; call
        :meth:`recorded_up_to` once it has committed."""
        record_deliveries(session, spans, self._clock.now())

    def recorded_up_to(self, spans: Mapping[PartyRef, tuple[int, int]]) -> None:
        """Note that these spans are committed: later acknowledgments start after them."""
        with self._lock:
            for party, (_, up_to) in spans.items():
                self._recorded[party.id] = max(self._recorded.get(party.id, 0), up_to)

    def acknowledge(self, acks: Mapping[PartyRef, int]) -> None:
        """Record, in one transaction, that each party has its events up to its position.

        Positions at or below what was recorded already are no-ops; each must not be
        beyond the party's last event (callers check it: they sent the events).
        """
        spans = self.pending(acks)
        if spans:
            with self._db.transaction() as session:
                self.record(session, spans)
            self.recorded_up_to(spans)


class EventCache:
    """The events this process committed lately, kept per party (the newest ``per_party``
    of each, and no more than ``per_party_bytes`` of payload: an alert carries its
    conflict's outline), so that a stream sends them without reading them back.

    :meth:`take` is a commit listener (``Database.after_commit``): it keeps the events of
    each committed transaction, unless a rollback (of a savepoint) may have undone some
    of them (then a stream reads them as ever). The rows stay the truth: a stream takes
    from here only the events right after its position, and reads the store for any it
    does not find (committed by another process, say, or left out).
    """

    def __init__(self, per_party: int = 256, per_party_bytes: int = 1 << 20) -> None:
        self._per_party = per_party
        self._per_party_bytes = per_party_bytes
        self._lock = threading.Lock()
        self._events: dict[int, dict[int, EventView]] = {}
        self._bytes: dict[int, int] = {}

    def take(self, info: Mapping[str, Any]) -> None:
        """Keep the events a committed transaction published (its ``Session.info``)."""
        published = info.get(PUBLISHED_EVENTS_KEY)
        if not published:
            return
        with self._lock:
            for party_id, view in published:
                kept = self._events.setdefault(party_id, {})
                kept[view.seq] = view
                size = self._bytes.get(party_id, 0) + len(view.payload_json)
                while len(kept) > self._per_party or (size > self._per_party_bytes and kept):
                    size -= len(kept.pop(next(iter(kept))).payload_json)  # the oldest kept
                self._bytes[party_id] = size

    def after(self, party_id: int, after: int, limit: int) -> tuple[EventView, ...]:
        """The party's kept events right after ``after``, in order, up to the first one
        not kept (at most ``limit``); empty when the next one is not kept."""
        with self._lock:
            kept = self._events.get(party_id)
            if not kept:
                return ()
            found: list[EventView] = []
            while len(found) < limit and (view := kept.get(after + len(found) + 1)):
                found.append(view)
            return tuple(found)


class EventReads:
    """The reads of every stream of one app, merged: a stream that asks while a read is
    running is answered by the next one, with every other stream that asked meanwhile
    (one worker thread, one session for them all; not one each).

    :meth:`next_events` is called in one event loop.
    """

    def __init__(self, deliveries: Deliveries) -> None:
        self._deliveries = deliveries
        self._queue: list[tuple[tuple[int, int, int], asyncio.Future[tuple[EventView, ...]]]] = []
        self._reading = False
        self._done = asyncio.Event()
        """Set when a read ends (and replaced by a fresh one as the next read begins)."""

    async def next_events(self, party: PartyRef, after: int, limit: int) -> tuple[EventView, ...]:
        """The party's events after ``after`` (at most ``limit``), as
        :meth:`Deliveries.next_events` reads them."""
        answer: asyncio.Future[tuple[EventView, ...]] = asyncio.get_running_loop().create_future()
        self._queue.append(((party.id, after, limit), answer))
        try:
            while not answer.done():
                if self._reading:
                    await self._done.wait()
                else:
                    await self._read_queued()
        finally:
            answer.cancel()  # a no-op once answered; else no read answers it in vain
        return answer.result()

    async def _read_queued(self) -> None:
        """Read for every queued position and answer each; runs to its end even when the
        task that runs it is cancelled, for the others' sake."""
        self._reading = True
        self._done = asyncio.Event()
        queued = [item for item in self._queue if not item[1].done()]  # not given up
        self._queue = []
        try:
            with anyio.CancelScope(shield=True):
                pages = await to_thread.run_sync(
                    self._deliveries.next_events_many, [position for position, _ in queued]
                )
            for (_, answer), events in zip(queued, pages, strict=True):
                if not answer.done():
                    answer.set_result(events)
        except Exception as exc:
            for _, answer in queued:
                if not answer.done():
                    answer.set_exception(exc)
        finally:
            # unanswered only if cancelled outside anyio's shield: the next read takes them
            self._queue[:0] = [item for item in queued if not item[1].done()]
            self._reading = False
            self._done.set()


class GroupCommit:
    """Units of work from many requests, one transaction per round (one disk flush).

    Every unit queued while a round commits goes into the next round, each in its own
    savepoint: a unit that fails with a :class:`~deconfliction.errors.DeconflictionError`
    fails alone, anything else fails its whole round. Items queued for a batch function
    (:meth:`submit_batched`) go to it together, one call per round and no savepoint, so
    that their writes share statements as well as the commit: the function refuses an
    item by returning its error (and writing nothing of it); anything it raises fails
    the round. With one hash chain every write waits for
    the one before it to commit; rounds are how many writes share one commit.
    :meth:`submit` and :meth:`submit_batched` are called in the event loop that runs
    :meth:`run`.
    """

    def __init__(self, db: Database, max_units: int = 500) -> None:
        self._db = db
        self._max_units = max_units
        self._queue: deque[tuple[_Job, asyncio.Future[Any]]] = deque()
        self._wake = asyncio.Event()

    def submit(self, unit: Callable[[Session], T]) -> asyncio.Future[T]:
        """Queue ``unit(session)``; the future has its result once the round committed."""
        return self._queue_job((None, unit))

    def submit_batched(self, batch: Batch[A, T], item: A) -> asyncio.Future[T]:
        """Queue ``item`` for ``batch``: the items queued for one batch function in a round
        go to one call, ``batch(session, items)``, which returns each item's result in its
        place, or the DeconflictionError that refused it (having written nothing of it).
        The future has the item's result, or that error, once the round committed."""
        return self._queue_job((batch, item))

    def _queue_job(self, job: _Job) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append((job, future))
        self._wake.set()
        return future

    async def run(self) -> None:
        """Commit rounds until cancelled."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                count = min(len(self._queue), self._max_units)
                batch = [self._queue.popleft() for _ in range(count)]
                try:
                    outcomes = await to_thread.run_sync(self._commit, [j for j, _ in batch])
                except Exception as exc:
                    _log.exception("a round of %d units failed", len(batch))
                    outcomes = [(False, exc)] * len(batch)
                for (_, future), (ok, value) in zip(batch, outcomes, strict=True):
                    if future.done():  # its request went away
                        continue
                    if ok:
                        future.set_result(value)
                    else:
                        future.set_exception(value)

    def _commit(self, jobs: list[_Job]) -> list[tuple[bool, Any]]:
        outcomes: list[tuple[bool, Any]] = [(False, None)] * len(jobs)
        batches: dict[Batch[Any, Any], list[int]] = {}
        with self._db.transaction() as session:
            for i, (batch, job) in enumerate(jobs):
                if batch is not None:
                    batches.setdefault(batch, []).append(i)
                    continue
                try:
                    with session.begin_nested():
                        outcomes[i] = (True, job(session))
                except DeconflictionError as error:
                    outcomes[i] = (False, error)
            for batch, members in batches.items():
                results = batch(session, [jobs[i][1] for i in members])
                for i, result in zip(members, results, strict=True):
                    outcomes[i] = (not isinstance(result, DeconflictionError), result)
        return outcomes


class AckBatcher:
    """Acknowledgments of every stream, merged per party, one unit per round.

    :meth:`submit` and :meth:`record` are called in the event loop that runs :meth:`run`.
    """

    def __init__(self, deliveries: Deliveries, writer: GroupCommit) -> None:
        self._deliveries = deliveries
        self._writer = writer
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
        """Hand queued acknowledgments to the writer, one round at a time, until cancelled."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, waiters = self._pending, self._waiters
            self._pending, self._waiters = {}, []
            spans = self._deliveries.pending(dict(batch.values()))
            try:
                if spans:
                    await self._writer.submit(partial(self._deliveries.record, spans=spans))
                    self._deliveries.recorded_up_to(spans)
            except Exception as exc:  # the streams go on; their next ack covers these
                _log.warning("recording %d acknowledgments failed: %s", len(batch), exc)
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_exception(exc)
                continue
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

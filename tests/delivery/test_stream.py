"""Reading events after a position, and recording what a party acknowledged (both stores)."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from deconfliction.clock import ManualClock
from deconfliction.delivery.outbox import publish
from deconfliction.delivery.stream import (
    AckBatcher,
    Deliveries,
    EventCache,
    EventReads,
    EventView,
    GroupCommit,
    check_after,
)
from deconfliction.errors import DeconflictionError, ValidationError
from deconfliction.hotline.messages import MessageDraft, MessageService
from deconfliction.journal.receipts import RECEIPT_TYPE, ensure_service_key, item_hash
from deconfliction.parties import PartyRef
from deconfliction.store.database import Database
from deconfliction.store.schema import Party, Receipt
from tests.conftest import T0, MakeParty

_names = itertools.count()


def _publish(db: Database, clock: ManualClock, party: PartyRef, n: int, kind: str = "note") -> None:
    with db.transaction() as session:
        for _ in range(n):
            publish(
                session, party_id=party.id, kind=kind, payload={"n": next(_names)}, at=clock.now()
            )


def _note(party: PartyRef, clock: ManualClock, n: int) -> Callable[[Session], int]:
    """A unit of work for the group commit: publish note ``n`` to ``party``; two is
    refused (a DeconflictionError) after publishing."""

    def unit(session: Session) -> int:
        publish(session, party_id=party.id, kind="note", payload={"n": n}, at=clock.now())
        if n == 2:
            raise ValidationError("two is refused")
        return n

    return unit


def _event_seq(db: Database, party: PartyRef) -> int:
    with db.read() as session:
        return int(session.scalar(select(Party.event_seq).where(Party.id == party.id)) or 0)


def test_events_come_in_order_after_the_position_a_page_at_a_time(
    database: Database, clock: ManualClock, make_party: MakeParty
) -> None:
    alpha, _ = make_party("Alpha")
    bravo, _ = make_party("Bravo")
    _publish(database, clock, alpha, 5)
    _publish(database, clock, bravo, 2)
    deliveries = Deliveries(database, clock)

    page = deliveries.events(alpha, after=0, limit=3)
    assert [e.seq for e in page.events] == [1, 2, 3]
    assert page.last_seq == 5
    assert [e.seq for e in deliveries.events(alpha, after=3, limit=10).events] == [4, 5]
    assert deliveries.events(alpha, after=5).events == ()
    assert [e.seq for e in deliveries.events(bravo, after=0).events] == [1, 2]  # its own
    wire = page.events[0].to_json()
    assert set(wire) == {"seq", "kind", "item", "at", "payload"}
    assert wire["at"].endswith("+00:00")


def test_a_position_beyond_the_last_event_is_refused_with_the_last_seq(
    database: Database, clock: ManualClock, make_party: MakeParty
) -> None:
    alpha, _ = make_party("Alpha")
    _publish(database, clock, alpha, 2)
    with pytest.raises(ValidationError, match="beyond your last event") as caught:
        Deliveries(database, clock).events(alpha, after=3)
    assert caught.value.detail == {"last_seq": 2}
    with pytest.raises(ValidationError, match="0 or more"):
        check_after(-1, 2)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(
        st.one_of(
            st.tuples(st.just("publish"), st.integers(1, 4)),
            st.tuples(st.just("read"), st.integers(1, 5), st.integers(0, 5)),
        ),
        max_size=14,
    )
)
def test_any_interleaving_of_publishing_and_lossy_reads_delivers_each_event_once_in_order(
    database: Database, clock: ManualClock, steps: list[tuple[int | str, ...]]
) -> None:
    """A client reads pages but may lose the end of each (a dropped connection), then
    resumes from the last seq it kept: in the end it has every event, once, in order."""
    with database.transaction() as session:
        party = Party(name=f"P{next(_names)}", role="operator", created_at=clock.now())
        session.add(party)
        session.flush()
        ref = PartyRef(party.id, party.name, "operator")  # type: ignore[arg-type]
    deliveries = Deliveries(database, clock)
    published: list[int] = []
    kept: list[tuple[int, int]] = []
    for step in [*steps, ("read", 1000, 1000)]:
        if step[0] == "publish":
            with database.transaction() as session:
                for _ in range(int(step[1])):
                    n = next(_names)
                    publish(session, party_id=ref.id, kind="note", payload={"n": n}, at=clock.now())
                    published.append(n)
            continue
        _, limit, survives = step
        while True:
            after = kept[-1][0] if kept else 0
            page = deliveries.events(ref, after, int(limit))
            kept += [(e.seq, e.payload["n"]) for e in page.events[: int(survives)]]
            if step[2] != 1000 or not page.events:
                break
    assert [seq for seq, _ in kept] == list(range(1, len(published) + 1))
    assert [n for _, n in kept] == published


def test_acknowledging_records_each_delivery_once_with_a_signed_receipt(
    database: Database, clock: ManualClock, make_party: MakeParty
) -> None:
    alpha, _ = make_party("Alpha")
    bravo, _ = make_party("Bravo")
    ensure_service_key(database, clock)
    messages = MessageService(database, clock)
    first = messages.send(alpha, MessageDraft("one", to="Bravo")).message
    second = messages.send(alpha, MessageDraft("two", to="Bravo")).message
    deliveries = Deliveries(database, clock)
    page = deliveries.events(bravo, 0)
    assert [e.item_id for e in page.events] == [first.id, second.id]

    clock.advance(timedelta(seconds=3))
    deliveries.acknowledge({bravo: 1})
    assert messages.get(alpha, first.id).delivered_at == clock.now()
    assert messages.get(alpha, second.id).delivered_at is None
    [told] = deliveries.events(alpha, 0).events
    assert told.kind == "message.delivered"
    receipt = told.payload["receipt"]
    assert receipt["body"]["type"] == RECEIPT_TYPE
    assert receipt["body"]["party"] == "Bravo"
    assert receipt["body"]["item"]["hash"] == item_hash(page.events[0].payload)

    sender_seq = _event_seq(database, alpha)
    deliveries.acknowledge({bravo: 1})  # again: nothing
    deliveries.acknowledge({bravo: 0})  # an older position: nothing
    assert _event_seq(database, alpha) == sender_seq
    Deliveries(database, clock).acknowledge({bravo: 1})  # after a restart: still nothing
    assert _event_seq(database, alpha) == sender_seq
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(Receipt)) == 1

    deliveries.acknowledge({bravo: 2})
    assert messages.get(alpha, second.id).delivered_at is not None
    assert _event_seq(database, alpha) == sender_seq + 1


def test_an_acknowledged_alert_gets_a_delivered_receipt_over_what_was_sent(
    database: Database, clock: ManualClock, make_party: MakeParty
) -> None:
    alpha, _ = make_party("Alpha")
    alert = {"id": "alt_1", "state": "open", "conflict": {"type": "Feature"}}
    with database.transaction() as session:
        publish(
            session,
            party_id=alpha.id,
            kind="alert.created",
            payload=alert,
            at=clock.now(),
            item_id="alt_1",
        )
        publish(
            session,
            party_id=alpha.id,
            kind="alert.resolved",
            payload=alert,
            at=clock.now(),
            item_id="alt_1",
        )
    deliveries = Deliveries(database, clock)
    deliveries.acknowledge({alpha: 2})
    Deliveries(database, clock).acknowledge({alpha: 2})
    with database.read() as session:
        [receipt] = session.scalars(select(Receipt)).all()
    assert (receipt.item_kind, receipt.item_id, receipt.event) == ("alert", "alt_1", "delivered")
    assert receipt.item_hash == item_hash(alert)


class CountingDeliveries(Deliveries):
    """Deliveries that note each set of spans recorded, and fail once when told to."""

    def __init__(self, database: Database, clock: ManualClock) -> None:
        super().__init__(database, clock)
        self.rounds: list[dict[str, tuple[int, int]]] = []
        self.fail_next = False

    def record(self, session: Session, spans: Mapping[PartyRef, tuple[int, int]]) -> None:
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("the store is down")
        self.rounds.append({p.name: span for p, span in spans.items()})
        super().record(session, spans)


def _run_writers(
    deliveries: Deliveries, database: Database, scenario: Callable[[AckBatcher], Awaitable[None]]
) -> None:
    async def main() -> None:
        writer = GroupCommit(database)
        batcher = AckBatcher(deliveries, writer)
        tasks = [asyncio.create_task(writer.run()), asyncio.create_task(batcher.run())]
        try:
            await scenario(batcher)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(main())


def test_the_batcher_merges_what_queued_meanwhile_into_one_round(
    database: Database, clock: ManualClock, make_party: MakeParty
) -> None:
    alpha, _ = make_party("Alpha")
    bravo, _ = make_party("Bravo")
    _publish(database, clock, alpha, 5)
    _publish(database, clock, bravo, 5)
    deliveries = CountingDeliveries(database, clock)

    async def scenario(batcher: AckBatcher) -> None:
        for n in (1, 4, 2):
            batcher.submit(alpha, n)
        batcher.submit(bravo, 3)
        await batcher.record(bravo, 5)  # queued behind the others, before the round
        await batcher.record(alpha, 3)  # below what was recorded: a no-op, no round

    _run_writers(deliveries, database, scenario)
    assert deliveries.rounds == [{"Alpha": (0, 4), "Bravo": (0, 5)}]
    assert (deliveries.recorded(alpha), deliveries.recorded(bravo)) == (4, 5)


def test_a_failed_round_reaches_its_waiters_and_the_next_round_goes_on(
    database: Database, clock: ManualClock, make_party: MakeParty
) -> None:
    alpha, _ = make_party("Alpha")
    _publish(database, clock, alpha, 3)
    deliveries = CountingDeliveries(database, clock)

    async def scenario(batcher: AckBatcher) -> None:
        deliveries.fail_next = True
        with pytest.raises(RuntimeError, match="the store is down"):
            await batcher.record(alpha, 2)
        await batcher.record(alpha, 3)

    _run_writers(deliveries, database, scenario)
    assert deliveries.rounds == [{"Alpha": (0, 3)}]  # the failed span is covered again
    assert deliveries.recorded(alpha) == 3


def test_a_round_commits_many_units_and_a_refused_one_fails_alone(
    database: Database, clock: ManualClock, make_party: MakeParty
) -> None:
    alpha, _ = make_party("Alpha")
    commits: list[object] = []
    database.after_commit(commits.append)

    def crash(session: Session) -> int:
        raise RuntimeError("a bug")

    async def main() -> None:
        writer = GroupCommit(database)
        runner = asyncio.create_task(writer.run())
        outcomes = await asyncio.gather(
            *(writer.submit(_note(alpha, clock, n)) for n in range(4)), return_exceptions=True
        )
        assert outcomes[:2] == [0, 1]
        assert isinstance(outcomes[2], ValidationError)
        assert outcomes[3] == 3
        with pytest.raises(RuntimeError, match="a bug"):
            await asyncio.gather(writer.submit(_note(alpha, clock, 9)), writer.submit(crash))
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)

    asyncio.run(main())
    assert len(commits) == 1  # four units, one commit; the crashed round wrote nothing
    page = Deliveries(database, clock).events(alpha, 0)
    assert [e.payload["n"] for e in page.events] == [0, 1, 3]
    assert [e.seq for e in page.events] == [1, 2, 3]  # the refused unit left no gap


def test_items_for_a_batch_function_share_one_call_and_a_refused_one_fails_alone(
    database: Database, clock: ManualClock, make_party: MakeParty
) -> None:
    alpha, _ = make_party("Alpha")
    calls: list[list[int]] = []

    def notes(session: Session, items: Sequence[int]) -> list[int | DeconflictionError]:
        calls.append(list(items))
        kept = [n for n in items if n != 2]
        for n in kept:
            publish(session, party_id=alpha.id, kind="note", payload={"n": n}, at=clock.now())
        return [ValidationError("two is refused") if n == 2 else n * 10 for n in items]

    def crash(session: Session, items: Sequence[int]) -> list[int | DeconflictionError]:
        publish(session, party_id=alpha.id, kind="note", payload={"n": -1}, at=clock.now())
        raise RuntimeError("a bug")

    def unit(session: Session) -> str:
        return "unit"

    async def main() -> None:
        writer = GroupCommit(database)
        futures = [writer.submit_batched(notes, n) for n in range(4)]
        futures.insert(1, writer.submit(unit))
        runner = asyncio.create_task(writer.run())
        outcomes = await asyncio.gather(*futures, return_exceptions=True)
        assert [outcomes[i] for i in (0, 1, 2, 4)] == [0, "unit", 10, 30]
        assert isinstance(outcomes[3], ValidationError)
        with pytest.raises(RuntimeError, match="a bug"):
            await asyncio.gather(writer.submit_batched(notes, 9), writer.submit_batched(crash, 0))
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)

    asyncio.run(main())
    assert calls == [[0, 1, 2, 3], [9]]  # one call per round; the crashed round is undone
    page = Deliveries(database, clock).events(alpha, 0)
    assert [e.payload["n"] for e in page.events] == [0, 1, 3]
    assert [e.seq for e in page.events] == [1, 2, 3]


def test_stream_reads_that_come_together_share_one_read(
    database: Database, clock: ManualClock, make_party: MakeParty
) -> None:
    alpha, _ = make_party("Alpha")
    bravo, _ = make_party("Bravo")
    _publish(database, clock, alpha, 5)
    _publish(database, clock, bravo, 2)
    calls: list[list[tuple[int, int, int]]] = []
    held = threading.Event()

    class Counting(Deliveries):
        def next_events_many(
            self, positions: Sequence[tuple[int, int, int]]
        ) -> list[tuple[EventView, ...]]:
            calls.append(list(positions))
            held.wait(10)  # the first read runs until the others have queued behind it
            return super().next_events_many(positions)

    async def main() -> None:
        reads = EventReads(Counting(database, clock))
        first = asyncio.create_task(reads.next_events(alpha, 0, 2))
        given_up = asyncio.create_task(reads.next_events(bravo, 0, 9))
        rest = [
            asyncio.create_task(reads.next_events(alpha, 3, 9)),
            asyncio.create_task(reads.next_events(bravo, 1, 9)),
        ]
        await asyncio.sleep(0.05)
        given_up.cancel()
        await asyncio.sleep(0.05)
        held.set()
        pages = await asyncio.gather(first, *rest)
        assert [[e.seq for e in page] for page in pages] == [[1, 2], [4, 5], [2]]
        assert given_up.cancelled()

    asyncio.run(main())
    assert calls == [[(alpha.id, 0, 2)], [(alpha.id, 3, 9), (bravo.id, 1, 9)]]


def test_the_events_of_a_commit_are_kept_as_stored_and_a_rollback_keeps_none(
    database: Database, clock: ManualClock, make_party: MakeParty
) -> None:
    alpha, _ = make_party("Alpha")
    cache = EventCache(per_party=3)
    database.after_commit(cache.take)
    _publish(database, clock, alpha, 2)
    stored = Deliveries(database, clock).next_events(alpha, 0, 10)
    assert [e.wire() for e in cache.after(alpha.id, 0, 10)] == [e.wire() for e in stored]
    assert [e.seq for e in cache.after(alpha.id, 1, 10)] == [2]
    assert cache.after(alpha.id, 2, 10) == ()

    async def main() -> None:
        writer = GroupCommit(database)
        runner = asyncio.create_task(writer.run())
        await asyncio.gather(
            *(writer.submit(_note(alpha, clock, n)) for n in range(4)), return_exceptions=True
        )
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)

    asyncio.run(main())
    assert [e.seq for e in Deliveries(database, clock).next_events(alpha, 0, 10)] == [1, 2, 3, 4, 5]
    assert cache.after(alpha.id, 2, 10) == ()  # the refused unit's savepoint rolled back
    _publish(database, clock, alpha, 4)
    assert cache.after(alpha.id, 5, 10) == ()  # the oldest are let go: 6 is not kept
    assert [e.seq for e in cache.after(alpha.id, 6, 10)] == [7, 8, 9]
    assert [e.seq for e in cache.after(alpha.id, 6, 2)] == [7, 8]


def test_the_cache_keeps_no_more_than_its_bytes_per_party(
    database: Database, clock: ManualClock, make_party: MakeParty
) -> None:
    alpha, _ = make_party("Alpha")
    size = len(json.dumps({"pad": "x" * 100}, separators=(",", ":")))
    cache = EventCache(per_party=100, per_party_bytes=3 * size)
    database.after_commit(cache.take)
    with database.transaction() as session:
        for _ in range(5):
            publish(session, party_id=alpha.id, kind="pad", payload={"pad": "x" * 100}, at=T0)
    assert [e.seq for e in cache.after(alpha.id, 2, 10)] == [3, 4, 5]
    assert cache.after(alpha.id, 0, 10) == ()  # 1 and 2 made room: read from the store

"""The message service on both stores: routing, threads, receipts, the bad-input matrix."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from deconfliction.clock import ManualClock
from deconfliction.delivery.stream import Deliveries
from deconfliction.errors import (
    IdempotencyKeyReusedError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from deconfliction.hotline.messages import (
    MAX_TEXT,
    MessageDraft,
    MessageService,
    Reference,
    SendRequest,
    SendResult,
)
from deconfliction.journal.receipts import (
    RECEIPT_TYPE,
    ensure_service_key,
    item_hash,
    verify_signed,
)
from deconfliction.parties import PartyRef
from deconfliction.store.database import Database
from deconfliction.store.schema import JournalEntry, Party
from tests.conftest import MakeParty


@pytest.fixture
def messages(database: Database, clock: ManualClock) -> MessageService:
    ensure_service_key(database, clock)
    return MessageService(database, clock)


@pytest.fixture
def parties(make_party: MakeParty) -> tuple[PartyRef, PartyRef, PartyRef]:
    return make_party("Alpha")[0], make_party("Bravo")[0], make_party("Charlie")[0]


def _events(database: Database, clock: ManualClock, party: PartyRef) -> list[tuple[str, dict]]:
    page = Deliveries(database, clock).events(party, 0, 1000)
    return [(e.kind, e.payload) for e in page.events]


def _journal(database: Database, subject: str) -> list[str]:
    with database.read() as session:
        rows = session.scalars(
            select(JournalEntry.kind).where(JournalEntry.subject == subject).order_by("seq")
        )
        return list(rows)


def test_a_message_reaches_the_recipient_as_an_event_and_is_journaled(
    database: Database,
    clock: ManualClock,
    messages: MessageService,
    parties: tuple[PartyRef, ...],
) -> None:
    alpha, bravo, charlie = parties
    sent = messages.send(
        alpha,
        MessageDraft(
            "Tanker at FL240 until 1200Z",
            to="Bravo",
            priority="flash",
            ref=Reference("notice", "ntc_1"),
        ),
    ).message
    assert (sent.sender, sent.recipient, sent.priority) == ("Alpha", "Bravo", "flash")
    assert sent.created_at == clock.now()
    assert sent.delivered_at is None
    assert sent.thread_id.startswith("thr_")
    [(kind, payload)] = _events(database, clock, bravo)
    assert kind == "message.received"
    assert payload == sent.content()
    assert payload["ref"] == {"kind": "notice", "id": "ntc_1"}
    assert _events(database, clock, charlie) == []  # no one else hears of it
    assert _journal(database, sent.id) == ["message.sent"]
    assert messages.get(bravo, sent.id) == sent
    with pytest.raises(NotFoundError):
        messages.get(charlie, sent.id)


def test_replies_stay_in_the_thread_between_the_same_two_parties(
    clock: ManualClock, messages: MessageService, parties: tuple[PartyRef, ...]
) -> None:
    alpha, bravo, charlie = parties
    first = messages.send(alpha, MessageDraft("Are you at FL300?", to="Bravo")).message
    clock.advance(timedelta(seconds=1))
    reply = messages.send(bravo, MessageDraft("Affirm", in_reply_to=first.id)).message
    assert (reply.thread_id, reply.recipient, reply.in_reply_to) == (
        first.thread_id,
        "Alpha",
        first.id,
    )
    clock.advance(timedelta(seconds=1))
    again = messages.send(alpha, MessageDraft("Thanks", to="Bravo", in_reply_to=reply.id)).message
    assert [m.id for m in messages.thread(bravo, first.thread_id)] == [first.id, reply.id, again.id]
    with pytest.raises(ValidationError, match="it goes to 'Bravo', not 'Charlie'"):
        messages.send(alpha, MessageDraft("x", to="Charlie", in_reply_to=first.id))
    with pytest.raises(NotFoundError, match="to reply to") as caught:
        messages.send(charlie, MessageDraft("me too", in_reply_to=first.id))
    assert caught.value.detail == {"field": "in_reply_to"}
    with pytest.raises(NotFoundError):
        messages.thread(charlie, first.thread_id)
    other = messages.send(alpha, MessageDraft("New subject", to="Bravo")).message
    assert other.thread_id != first.thread_id


def test_the_boxes_list_newest_first(
    clock: ManualClock, messages: MessageService, parties: tuple[PartyRef, ...]
) -> None:
    alpha, bravo, _ = parties
    ids = []
    for i in range(3):
        ids.append(messages.send(alpha, MessageDraft(f"m{i}", to="Bravo")).message.id)
        clock.advance(timedelta(seconds=1))
    assert [m.id for m in messages.list_messages(bravo, "inbox")] == ids[::-1]
    assert [m.id for m in messages.list_messages(alpha, "sent", limit=2)] == ids[:0:-1]
    assert messages.list_messages(alpha, "inbox") == []
    with pytest.raises(ValidationError, match="inbox, sent"):
        messages.list_messages(alpha, "outbox")


@pytest.mark.parametrize(
    ("draft", "error", "match"),
    [
        (MessageDraft("hi", to="Zulu"), NotFoundError, "no party named 'Zulu'"),
        (MessageDraft("hi", to="Alpha"), ValidationError, "to yourself"),
        (MessageDraft("x" * (MAX_TEXT + 1), to="Bravo"), ValidationError, "the limit is 4,000"),
        (MessageDraft("   ", to="Bravo"), ValidationError, "text is empty"),
        (MessageDraft("hi", to="Bravo", priority="high"), ValidationError, "routine, urgent"),
        (MessageDraft("hi", to="Bravo", ref=Reference("ship", "x")), ValidationError, "ref.kind"),
        (MessageDraft("hi", to="Bravo", ref=Reference("alert", "")), ValidationError, "ref.id"),
        (MessageDraft("hi"), ValidationError, "whom the message is for"),
        (MessageDraft("hi", in_reply_to="msg_nope"), NotFoundError, "msg_nope"),
    ],
)
def test_bad_messages_are_refused_with_what_to_do(
    database: Database,
    clock: ManualClock,
    messages: MessageService,
    parties: tuple[PartyRef, ...],
    draft: MessageDraft,
    error: type[Exception],
    match: str,
) -> None:
    alpha, bravo, _ = parties
    with pytest.raises(error, match=match):
        messages.send(alpha, draft)
    assert _events(database, clock, bravo) == []  # nothing half-sent
    assert messages.list_messages(alpha, "sent") == []


def test_the_longest_text_allowed_is_sent(
    messages: MessageService, parties: tuple[PartyRef, ...]
) -> None:
    assert (
        len(messages.send(parties[0], MessageDraft("é" * MAX_TEXT, to="Bravo")).message.text)
        == MAX_TEXT
    )


def test_observers_reply_but_do_not_open_threads(
    messages: MessageService, parties: tuple[PartyRef, ...], make_party: MakeParty
) -> None:
    alpha = parties[0]
    monitor, _ = make_party("Monitor", "observer")
    with pytest.raises(PermissionDeniedError, match="observer"):
        messages.send(monitor, MessageDraft("hello", to="Alpha"))
    question = messages.send(alpha, MessageDraft("Do you see us?", to="Monitor")).message
    answer = messages.send(monitor, MessageDraft("Yes", in_reply_to=question.id)).message
    assert (answer.recipient, answer.thread_id) == ("Alpha", question.thread_id)


def test_read_and_acknowledge_are_the_recipients_once_each_with_receipts(
    database: Database,
    clock: ManualClock,
    messages: MessageService,
    parties: tuple[PartyRef, ...],
) -> None:
    alpha, bravo, charlie = parties
    sent = messages.send(alpha, MessageDraft("Check fire", to="Bravo", priority="urgent")).message
    for party in (alpha, charlie):  # the sender, a stranger: not addressed to them
        with pytest.raises(NotFoundError, match="addressed to"):
            messages.acknowledge(party, sent.id)
        with pytest.raises(NotFoundError):
            messages.mark_read(party, sent.id)

    clock.advance(timedelta(seconds=5))
    read = messages.mark_read(bravo, sent.id)
    assert read.read_at == read.delivered_at == clock.now()  # reading implies delivery
    clock.advance(timedelta(seconds=5))
    assert messages.mark_read(bravo, sent.id) == read  # again: the same times
    clock.advance(timedelta(seconds=5))
    acked = messages.acknowledge(bravo, sent.id)
    assert (acked.read_at, acked.acknowledged_at) == (read.read_at, clock.now())
    assert acked.escalation_state == "stopped"
    clock.advance(timedelta(seconds=5))
    assert messages.acknowledge(bravo, sent.id) == acked

    told = _events(database, clock, alpha)
    assert [k for k, _ in told] == ["message.delivered", "message.read", "message.acknowledged"]
    assert _journal(database, sent.id) == [
        "message.sent",
        "message.delivered",
        "message.read",
        "message.acknowledged",
    ]
    key = ensure_service_key(database, clock)
    for kind, payload in told:
        if kind != "message.read":
            receipt = payload["receipt"]
            assert verify_signed(receipt, key, RECEIPT_TYPE) is None
            assert receipt["body"]["item"]["hash"] == item_hash(sent.content())
            assert receipt["body"]["event"] == kind.split(".")[1]


def test_acknowledging_straight_away_delivers_reads_and_acknowledges_at_once(
    clock: ManualClock, messages: MessageService, parties: tuple[PartyRef, ...]
) -> None:
    alpha, bravo, _ = parties
    sent = messages.send(alpha, MessageDraft("Copy?", to="Bravo")).message
    clock.advance(timedelta(minutes=1))
    acked = messages.acknowledge(bravo, sent.id)
    assert acked.delivered_at == acked.read_at == acked.acknowledged_at == clock.now()


def test_an_idempotency_key_sends_once(
    database: Database, clock: ManualClock, messages: MessageService, parties: tuple[PartyRef, ...]
) -> None:
    alpha, bravo, _ = parties
    first = messages.send(alpha, MessageDraft("once", to="Bravo"), idempotency_key="k1")
    again = messages.send(alpha, MessageDraft("once", to="Bravo"), idempotency_key="k1")
    assert (first.replayed, again.replayed) == (False, True)
    assert again.message == first.message
    assert len(_events(database, clock, bravo)) == 1
    with pytest.raises(IdempotencyKeyReusedError):
        messages.send(alpha, MessageDraft("other", to="Bravo"), idempotency_key="k1")
    # keys are per party: another party's same key is a new message
    assert not messages.send(bravo, MessageDraft("hi", to="Alpha"), idempotency_key="k1").replayed


def test_a_deadline_policy_sets_the_acknowledgment_deadline(
    database: Database, clock: ManualClock, parties: tuple[PartyRef, ...]
) -> None:
    alpha, bravo, _ = parties
    asked: list[tuple[str, int, str]] = []

    def policy(
        session: Session, sender: PartyRef, recipient_id: int, priority: str, at: datetime
    ) -> datetime | None:
        recipient = session.get(Party, recipient_id)
        assert recipient is not None
        asked.append((sender.name, recipient_id, priority))
        return at + timedelta(minutes=2 if priority == "flash" else 30)

    service = MessageService(database, clock, deadline=policy)
    sent = service.send(alpha, MessageDraft("Now", to="Bravo", priority="flash")).message
    assert sent.ack_deadline == clock.now() + timedelta(minutes=2)
    assert asked == [("Alpha", bravo.id, "flash")]
    assert (
        MessageService(database, clock)
        .send(alpha, MessageDraft("x", to="Bravo"))
        .message.ack_deadline
        is None
    )


def test_a_message_keeps_its_text_exactly(
    messages: MessageService, parties: tuple[PartyRef, ...]
) -> None:
    text = 'Line 1\n"quoted" \\ ünïcødé 🚁\ttab'
    sent = messages.send(parties[0], MessageDraft(text, to="Bravo")).message
    assert messages.get(parties[1], sent.id).text == text
    assert json.loads(json.dumps(sent.content()))["text"] == text


def test_many_messages_sent_together_each_get_their_own_outcome(
    database: Database, clock: ManualClock, messages: MessageService, parties: tuple[PartyRef, ...]
) -> None:
    alpha, bravo, charlie = parties
    earlier = messages.send(alpha, MessageDraft("earlier", to="Bravo"), idempotency_key="k0")
    requests = [
        SendRequest(alpha, MessageDraft("one", to="Bravo"), "k1"),
        SendRequest(alpha, MessageDraft("nobody", to="Delta")),
        SendRequest(alpha, MessageDraft("one", to="Bravo"), "k1"),  # a retry in the same round
        SendRequest(alpha, MessageDraft("not one", to="Bravo"), "k1"),
        SendRequest(alpha, MessageDraft("earlier", to="Bravo"), "k0"),
        SendRequest(bravo, MessageDraft("two", to="Charlie"), "k1"),  # keys are per party
        SendRequest(charlie, MessageDraft("three", to="Bravo")),
    ]
    with database.transaction() as session:
        outcomes = messages.send_many(session, requests)
    one, nobody, retry, reused, replay, two, three = outcomes
    assert isinstance(one, SendResult)
    assert isinstance(retry, SendResult)
    assert (one.replayed, retry.replayed, retry.message) == (False, True, one.message)
    assert isinstance(nobody, NotFoundError)
    assert isinstance(reused, IdempotencyKeyReusedError)
    assert isinstance(replay, SendResult)
    assert replay.replayed
    assert replay.message == earlier.message
    assert isinstance(two, SendResult)
    assert isinstance(three, SendResult)
    assert [(m.sender, m.recipient) for m in (two.message, three.message)] == [
        ("Bravo", "Charlie"),
        ("Charlie", "Bravo"),
    ]
    inbox = _events(database, clock, bravo)
    assert [(kind, p["text"]) for kind, p in inbox] == [
        ("message.received", "earlier"),
        ("message.received", "one"),
        ("message.received", "three"),
    ]
    assert [p["text"] for _, p in _events(database, clock, charlie)] == ["two"]
    for sent in (one, two, three):
        assert _journal(database, sent.message.id) == ["message.sent"]
    assert messages.get(bravo, one.message.id) == one.message

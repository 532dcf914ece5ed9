"""Hotline messages: party to party, in threads, with receipts the sender can prove.

A message goes from one party to one other, at priority ``routine``, ``urgent`` or
``flash``, with free text (at most :data:`MAX_TEXT` characters) and an optional reference
to a notice, alert or aircraft (kept as given: a reference, not a share of the thing).
It goes to a party by name (``to``) or by a conflict's id (``to_conflict``: the other
side of a conflict the sender is a side of). Between the sides of an ``anonymous``
conflict, such a message keeps the conflict id as its ``handle`` and neither side is shown
the other's name: views, events and the journal say ``(another party)``; it carries no
signed receipts (a receipt names its party), and its ``message.sent`` entry is in no
party's export, as an anonymous ``conflict.detected`` is not.
A reply names the message it answers and stays in its thread, between the same two
parties. Observers receive, read and acknowledge messages and may reply to one sent to
them, but may not open a thread: they see only what others share with them.

One transaction stores the message, its journal entry (``message.sent``, with the
content) and the recipient's event (``message.received``, whose payload is the message's
content, the very item its receipts hash). Then, each once and with its time:

* ``delivered``: the recipient's stream or poll acknowledged the event (or the recipient
  read or acknowledged the message over HTTP first);
* ``read``: ``POST /v1/messages/{id}/read``;
* ``acknowledged``: ``POST /v1/messages/{id}/acknowledge`` (it implies read).

Each is a journal entry and an event to the sender; ``delivered`` and ``acknowledged``
come with a receipt signed by the service (:mod:`deconfliction.journal.receipts`), sent
to the sender in the event. Escalation plugs in through ``ack_deadline`` (set at sending
by a :class:`DeadlinePolicy`) and reads ``acknowledged_at``.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Row, bindparam, insert, or_, select, tuple_, update
from sqlalchemy.orm import Session

from deconfliction.agreements.service import check_signed
from deconfliction.agreements.terms import ANONYMOUS_COUNTERPART
from deconfliction.clock import Clock
from deconfliction.delivery.outbox import EventDraft, publish, publish_many
from deconfliction.errors import (
    DeconflictionError,
    IdempotencyKeyReusedError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from deconfliction.idempotency import first_response
from deconfliction.journal.chain import append, canonical_json, lock_head
from deconfliction.journal.receipts import ReceiptRequest, issue_fresh_receipts, issue_receipt
from deconfliction.parties import PartyRef, Role, signed
from deconfliction.store.database import Database
from deconfliction.store.schema import Alert, Conflict, IdempotencyRecord, Message, Party

__all__ = [
    "BOXES",
    "MAX_TEXT",
    "PRIORITIES",
    "REFERENCE_KINDS",
    "DeadlinePolicy",
    "MessageDraft",
    "MessageService",
    "MessageView",
    "Reference",
    "SendRequest",
    "SendResult",
    "record_deliveries",
]

PRIORITIES = ("routine", "urgent", "flash")
REFERENCE_KINDS = ("notice", "alert", "aircraft")
BOXES = ("inbox", "sent")
MAX_TEXT = 4_000
"""The most characters a message's text may have."""
MAX_REFERENCE_ID = 100


@dataclass(frozen=True)
class Reference:
    """What a message is about: a notice, an alert or an aircraft, by its id."""

    kind: str
    id: str


@dataclass(frozen=True)
class MessageDraft:
    """What a sender asks for: ``to`` (a party's name) or ``to_conflict`` (a conflict's
    id), at most one, and either may be left out of a reply (it goes to the other side)."""

    text: str
    to: str | None = None
    priority: str = "routine"
    ref: Reference | None = None
    in_reply_to: str | None = None
    to_conflict: str | None = None


@dataclass(frozen=True)
class MessageView:
    """A message as its sender and recipient see it; times UTC, ``None`` until they happen."""

    id: str
    thread_id: str
    in_reply_to: str | None
    sender: str
    recipient: str
    priority: str
    text: str
    ref: Reference | None
    created_at: datetime
    delivered_at: datetime | None
    read_at: datetime | None
    acknowledged_at: datetime | None
    ack_deadline: datetime | None
    escalation_tier: int
    escalation_state: str
    handle: str | None = None
    """The anonymous conflict it is about; then the other side's name is never shown."""

    def content(self) -> dict[str, Any]:
        """The message as sent (no receipt times): the recipient's event payload and the
        item its receipts hash. An anonymous one names neither side, only its handle."""
        content = {
            "id": self.id,
            "thread": self.thread_id,
            "in_reply_to": self.in_reply_to,
            "from": self.sender,
            "to": self.recipient,
            "priority": self.priority,
            "text": self.text,
            "ref": None if self.ref is None else {"kind": self.ref.kind, "id": self.ref.id},
            "created_at": _iso(self.created_at),
        }
        if self.handle is not None:
            content.update({"from": ANONYMOUS_COUNTERPART, "to": ANONYMOUS_COUNTERPART})
            content["conflict"] = self.handle
        return content


@dataclass(frozen=True)
class SendResult:
    """A message as sent; ``replayed`` when an Idempotency-Key retry returned the first."""

    message: MessageView
    replayed: bool = False


@dataclass(frozen=True)
class SendRequest:
    """One message to send: who sends what, with an optional Idempotency-Key."""

    sender: PartyRef
    draft: MessageDraft
    idempotency_key: str | None = None


class DeadlinePolicy(Protocol):
    """When the recipient must acknowledge a new message (``None``: no deadline)."""

    def __call__(
        self, session: Session, sender: PartyRef, recipient_id: int, priority: str, at: datetime
    ) -> datetime | None: ...


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def _names(session: Session, *party_ids: int) -> dict[int, str]:
    rows = session.execute(select(Party.id, Party.name).where(Party.id.in_(party_ids)))
    return dict(rows.all())


def _view(
    message: Message | Row[Any], names: Mapping[int, str], viewer: int | None = None
) -> MessageView:
    """A message (a row of the table, or of a Core select of all its columns) as the
    party ``viewer`` (by id) sees it; ``names`` has its parties' names by id. Of an
    anonymous message, only the viewer's own name is shown."""
    ref = None
    if message.ref_kind is not None and message.ref_id is not None:
        ref = Reference(message.ref_kind, message.ref_id)

    def shown(party_id: int) -> str:
        anonymous = message.handle is not None and party_id != viewer
        return ANONYMOUS_COUNTERPART if anonymous else names[party_id]

    return MessageView(
        id=message.id,
        thread_id=message.thread_id,
        in_reply_to=message.in_reply_to,
        sender=shown(message.sender_id),
        recipient=shown(message.recipient_id),
        priority=message.priority,
        text=message.text,
        ref=ref,
        created_at=message.created_at,
        delivered_at=message.delivered_at,
        read_at=message.read_at,
        acknowledged_at=message.acknowledged_at,
        ack_deadline=message.ack_deadline,
        escalation_tier=message.escalation_tier,
        escalation_state=message.escalation_state,
        handle=message.handle,
    )


def _one_view(session: Session, message: Message, viewer: int) -> MessageView:
    return _view(message, _names(session, message.sender_id, message.recipient_id), viewer)


def _draft_hash(draft: MessageDraft) -> str:
    body = {
        "text": draft.text,
        "to": draft.to,
        "priority": draft.priority,
        "ref": None if draft.ref is None else [draft.ref.kind, draft.ref.id],
        "in_reply_to": draft.in_reply_to,
    }
    if draft.to_conflict is not None:
        body["to_conflict"] = draft.to_conflict
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


def _check_draft(sender: PartyRef, draft: MessageDraft) -> None:
    if not draft.text.strip():
        raise ValidationError("text is empty; write the message")
    if len(draft.text) > MAX_TEXT:
        raise ValidationError(
            f"text is {len(draft.text):,} characters; the limit is {MAX_TEXT:,}: "
            "shorten it or send it as several messages",
            limit=MAX_TEXT,
        )
    if draft.priority not in PRIORITIES:
        raise ValidationError(f"priority {draft.priority!r} is not one of: {', '.join(PRIORITIES)}")
    if draft.ref is not None:
        if draft.ref.kind not in REFERENCE_KINDS:
            raise ValidationError(
                f"ref.kind {draft.ref.kind!r} is not one of: {', '.join(REFERENCE_KINDS)}"
            )
        if not 0 < len(draft.ref.id) <= MAX_REFERENCE_ID:
            raise ValidationError(f"ref.id must be 1 to {MAX_REFERENCE_ID} characters")
    if draft.to is not None and draft.to_conflict is not None:
        raise ValidationError(
            "give 'to' (a party name) or 'to_conflict' (a conflict id), not both",
            field="to_conflict",
        )
    if draft.to is None and draft.to_conflict is None and draft.in_reply_to is None:
        raise ValidationError(
            "say whom the message is for: 'to' (a party name), 'to_conflict' (the id of a "
            "conflict of yours: its other side) or 'in_reply_to'"
        )
    if sender.role == Role.OBSERVER and draft.in_reply_to is None:
        raise PermissionDeniedError(
            f"party {sender.name!r} is an observer: it may reply to messages sent to it "
            "(give in_reply_to) but not open a thread"
        )


def _deliver(
    session: Session, deliveries: Sequence[tuple[MessageView, PartyRef, int]], at: datetime
) -> None:
    """Tell of deliveries (message, its recipient, its sender's id) whose time the caller
    records: a signed receipt (journal entry) each, and the events to the senders."""
    if not deliveries:
        return
    named = [d for d in deliveries if d[0].handle is None]  # anonymous ones get no receipt
    requests = [
        ReceiptRequest(
            recipient,
            "message",
            view.id,
            "delivered",
            view.content(),
            {"from": view.sender, "to": recipient.name},
        )
        for view, recipient, _ in named
    ]
    # delivered_at was unset, under the journal head's lock: no receipt can exist yet
    issued = issue_fresh_receipts(session, requests, at)
    receipts = dict(zip((view.id for view, _, _ in named), issued, strict=True))
    events = []
    for view, _, sender_id in deliveries:
        payload: dict[str, Any] = {"message": view.id, "to": view.recipient, "at": _iso(at)}
        if view.id in receipts:
            payload["receipt"] = receipts[view.id]
        events.append(EventDraft(sender_id, "message.delivered", payload, at, view.id))
    publish_many(session, events)


def _deliver_one(
    session: Session, message: Message, recipient: PartyRef, sender: str, at: datetime
) -> None:
    """Record the delivery of a message loaded in the session: its time, receipt, event."""
    message.delivered_at = at
    names = {message.sender_id: sender, recipient.id: recipient.name}
    view = _view(message, names, message.sender_id)  # as the sender, whom it tells
    _deliver(session, [(view, recipient, message.sender_id)], at)


def _other_side(session: Session, sender: PartyRef, conflict_id: str) -> tuple[int, str | None]:
    """The other side of a conflict of the sender's, by the conflict's id, and the id as
    the handle of an anonymous conflict (``None`` when the sender was told who). Another
    party's conflict reads as not found, as an unknown one does: handles cannot be probed."""
    conflict = session.get(Conflict, conflict_id)
    if conflict is None or sender.id not in (conflict.a_party_id, conflict.b_party_id):
        raise NotFoundError(
            f"no conflict {conflict_id!r} of party {sender.name!r} to send to; your "
            "alerts give the ids of your conflicts",
            field="to_conflict",
        )
    other = conflict.b_party_id if conflict.a_party_id == sender.id else conflict.a_party_id
    told = session.scalars(
        select(Alert.counterpart).where(
            Alert.conflict_id == conflict_id, Alert.party_id == sender.id
        )
    ).all()
    named = any(counterpart != ANONYMOUS_COUNTERPART for counterpart in told)
    return other, None if named else conflict_id


@dataclass(frozen=True)
class _Composed:
    """A message checked and ready to store, and how it was asked for."""

    sender: PartyRef
    recipient_id: int
    recipient_name: str
    view: MessageView
    idempotency_key: str | None
    digest: str


_STORED_KEYS = select(IdempotencyRecord.party_id, IdempotencyRecord.key).where(
    tuple_(IdempotencyRecord.party_id, IdempotencyRecord.key).in_(bindparam("keys", expanding=True))
)


def _stored_keys(session: Session, keys: set[tuple[int, str]]) -> set[tuple[int, str]]:
    """Which of these (party id, Idempotency-Key) pairs a request used before."""
    if not keys:
        return set()
    rows = session.connection().execute(_STORED_KEYS, {"keys": sorted(keys)})
    return {(party_id, key) for party_id, key in rows}


_PARTY_IDS = select(Party.name, Party.id).where(Party.name.in_(bindparam("names", expanding=True)))


def _party_ids(session: Session, names: set[str]) -> dict[str, int]:
    """The ids of the parties of these names (unknown names are left out)."""
    rows = session.connection().execute(_PARTY_IDS, {"names": sorted(names)})
    return dict(rows.all())


_INSERT_MESSAGES = insert(Message)
_INSERT_KEYS = insert(IdempotencyRecord)


def _write(session: Session, messages: Sequence[_Composed], now: datetime) -> None:
    """Store composed messages: their rows, journal entries, recipients' events and
    idempotency records, each kind in one statement (the journal's at the flush)."""
    if not messages:
        return
    rows: list[dict[str, Any]] = []
    events: list[EventDraft] = []
    keys: list[dict[str, Any]] = []
    for m in messages:
        view = m.view
        rows.append(
            {
                "id": view.id,
                "thread_id": view.thread_id,
                "in_reply_to": view.in_reply_to,
                "sender_id": m.sender.id,
                "recipient_id": m.recipient_id,
                "priority": view.priority,
                "text": view.text,
                "ref_kind": None if view.ref is None else view.ref.kind,
                "ref_id": None if view.ref is None else view.ref.id,
                "created_at": now,
                "ack_deadline": view.ack_deadline,
                "escalation_tier": 0,
                "escalation_state": "none",
                "handle": view.handle,
            }
        )
        content = view.content()
        entry = content
        party_told: str | None = m.sender.name
        if view.handle is not None:  # who wrote to whom, in no party's export
            entry = {**content, "parties": [m.sender.name, m.recipient_name]}
            party_told = None
        append(
            session,
            at=now,
            kind="message.sent",
            party=party_told,
            subject=view.id,
            payload=signed(entry, m.sender),
        )
        events.append(EventDraft(m.recipient_id, "message.received", content, now, view.id))
        if m.idempotency_key is not None:
            keys.append(
                {
                    "party_id": m.sender.id,
                    "key": m.idempotency_key,
                    "request_hash": m.digest,
                    "status": 201,
                    "response": json.dumps({"message_id": view.id}),
                    "created_at": now,
                }
            )
    connection = session.connection()  # Core statements: no ORM work for them
    connection.execute(_INSERT_MESSAGES, rows)
    publish_many(session, events)
    if keys:
        connection.execute(_INSERT_KEYS, keys)


_UNDELIVERED = (
    select(Message.__table__, Party.name.label("sender_name"))
    .join(Party, Party.id == Message.sender_id)
    .where(Message.id.in_(bindparam("ids", expanding=True)), Message.delivered_at.is_(None))
)
_MARK_DELIVERED = (
    update(Message)
    .where(Message.id.in_(bindparam("ids", expanding=True)))
    .values(delivered_at=bindparam("at"))
)


def record_deliveries(
    session: Session, deliveries: Sequence[tuple[PartyRef, str]], at: datetime
) -> int:
    """Mark messages delivered to their recipients (``(recipient, message id)`` pairs), in
    the caller's transaction (which must hold the journal head's lock), in the order
    given; a message delivered before, or not to that recipient, is passed over. Returns
    how many were delivered now."""
    order = {(recipient.id, message_id): i for i, (recipient, message_id) in enumerate(deliveries)}
    recipients = {recipient.id: recipient for recipient, _ in deliveries}
    connection = session.connection()  # Core statements: no ORM work for them
    rows = connection.execute(_UNDELIVERED, {"ids": sorted({m for _, m in deliveries})}).all()
    due = [row for row in rows if (row.recipient_id, row.id) in order]
    due.sort(key=lambda row: order[row.recipient_id, row.id])
    if due:
        connection.execute(_MARK_DELIVERED, {"ids": [row.id for row in due], "at": at})
    views = []
    for row in due:
        recipient = recipients[row.recipient_id]
        names = {row.sender_id: row.sender_name, recipient.id: recipient.name}
        views.append((_view(row, names, row.sender_id), recipient, row.sender_id))
    _deliver(session, views, at)
    return len(due)


class MessageService:
    """Sending, reading and acknowledging hotline messages; each party sees only its own."""

    def __init__(self, db: Database, clock: Clock, deadline: DeadlinePolicy | None = None) -> None:
        self._db = db
        self._clock = clock
        self._deadline = deadline

    def send(
        self, sender: PartyRef, draft: MessageDraft, idempotency_key: str | None = None
    ) -> SendResult:
        """Send a message; with an ``idempotency_key``, a retry returns the first one."""
        with self._db.transaction() as session:
            (outcome,) = self.send_many(session, [SendRequest(sender, draft, idempotency_key)])
        if isinstance(outcome, DeconflictionError):
            raise outcome
        return outcome

    def send_many(
        self, session: Session, requests: Sequence[SendRequest]
    ) -> list[SendResult | DeconflictionError]:
        """Send each request in the caller's transaction (to share its commit); each
        outcome in its request's place. A refused request (its error in its place) writes
        nothing; the others go on. The same Idempotency-Key twice in one call sends once.

        Everything is checked before anything is written, so the writes are a few
        statements for all the messages together, not a few per message.
        """
        now = self._clock.now()
        lock_head(session)  # the checks below see every earlier commit (retries included)
        keys = {(r.sender.id, r.idempotency_key) for r in requests if r.idempotency_key}
        stored = _stored_keys(session, keys)
        names = {r.draft.to for r in requests if r.draft.to is not None}
        recipients = _party_ids(session, names) if names else {}
        outcomes: list[SendResult | DeconflictionError | None] = [None] * len(requests)
        claimed: dict[tuple[int, str], tuple[str, int]] = {}
        """Keys sent in this call: the request's digest, and which request sends it."""
        echoes: dict[int, int] = {}
        """Requests that repeat an earlier one's key (and body): the one they replay."""
        sent: list[tuple[int, _Composed]] = []
        for i, request in enumerate(requests):
            sender, draft, key = request.sender, request.draft, request.idempotency_key
            try:
                _check_draft(sender, draft)
                digest = _draft_hash(draft)
                if key is not None and (sender.id, key) in stored:
                    outcomes[i] = self._replay(session, sender, key, digest)
                    continue
                if key is not None and (first := claimed.get((sender.id, key))) is not None:
                    if first[0] != digest:
                        raise IdempotencyKeyReusedError(
                            f"Idempotency-Key {key!r} was used for a different request; "
                            "use a new key for a new message"
                        )
                    echoes[i] = first[1]
                    continue
                recipient_id, name, view = self._compose(session, sender, draft, recipients, now)
                check_signed(session, sender, [recipient_id])
            except DeconflictionError as error:
                outcomes[i] = error
                continue
            if key is not None:
                claimed[sender.id, key] = (digest, i)
            sent.append((i, _Composed(sender, recipient_id, name, view, key, digest)))
        _write(session, [composed for _, composed in sent], now)
        for i, composed in sent:
            outcomes[i] = SendResult(composed.view)
        for i, sender_index in echoes.items():
            original = outcomes[sender_index]
            assert isinstance(original, SendResult)
            outcomes[i] = SendResult(original.message, replayed=True)
        assert all(outcome is not None for outcome in outcomes)
        return [outcome for outcome in outcomes if outcome is not None]

    def get(self, party: PartyRef, message_id: str) -> MessageView:
        """A message the party sent or received; any other reads as not found."""
        with self._db.read() as session:
            return _one_view(session, self._visible(session, party, message_id), party.id)

    def list_messages(
        self, party: PartyRef, box: str = "inbox", limit: int = 100, offset: int = 0
    ) -> list[MessageView]:
        """The party's received (``inbox``) or sent (``sent``) messages, newest first."""
        if box not in BOXES:
            raise ValidationError(f"box {box!r} is not one of: {', '.join(BOXES)}")
        column = Message.recipient_id if box == "inbox" else Message.sender_id
        with self._db.read() as session:
            rows = list(
                session.scalars(
                    select(Message)
                    .where(column == party.id)
                    .order_by(Message.created_at.desc(), Message.id)
                    .limit(limit)
                    .offset(offset)
                )
            )
            return self._views(session, rows, party.id)

    def thread(self, party: PartyRef, thread_id: str) -> list[MessageView]:
        """A thread's messages, oldest first (a reply after what it answers, even in the
        same microsecond), for one of its two parties."""
        with self._db.read() as session:
            rows = list(
                session.scalars(
                    select(Message)
                    .where(
                        Message.thread_id == thread_id,
                        or_(Message.sender_id == party.id, Message.recipient_id == party.id),
                    )
                    .order_by(Message.created_at, Message.id)
                )
            )
            if not rows:
                raise NotFoundError(f"no thread {thread_id!r} of party {party.name!r}")
            parents = {r.id: r.in_reply_to for r in rows}

            def depth(message_id: str | None) -> int:
                steps = 0
                while (message_id := parents.get(message_id or "")) is not None:
                    steps += 1
                return steps

            rows.sort(key=lambda r: (r.created_at, depth(r.id)))
            return self._views(session, rows, party.id)

    def mark_read(self, party: PartyRef, message_id: str) -> MessageView:
        """The recipient has read the message; again changes nothing."""
        now = self._clock.now()
        with self._db.transaction() as session:
            lock_head(session)  # the check below sees every earlier read of it
            message, sender = self._addressed(session, party, message_id)
            if message.read_at is None:
                if message.delivered_at is None:
                    _deliver_one(session, message, party, sender, now)
                message.read_at = now
                view = _view(message, {message.sender_id: sender, party.id: party.name}, party.id)
                append(
                    session,
                    at=now,
                    kind="message.read",
                    party=party.name,
                    subject=message.id,
                    payload={"message": message.id, "from": view.sender, "to": party.name},
                )
                told = ANONYMOUS_COUNTERPART if message.handle is not None else party.name
                publish(
                    session,
                    party_id=message.sender_id,
                    kind="message.read",
                    at=now,
                    item_id=message.id,
                    payload={"message": message.id, "to": told, "at": _iso(now)},
                )
            return _view(message, {message.sender_id: sender, party.id: party.name}, party.id)

    def acknowledge(self, party: PartyRef, message_id: str) -> MessageView:
        """The recipient acknowledges the message (and so has read it); again changes
        nothing and returns the same times."""
        now = self._clock.now()
        with self._db.transaction() as session:
            lock_head(session)
            message, sender = self._addressed(session, party, message_id)
            if message.acknowledged_at is None:
                check_signed(session, party, [message.sender_id])
                if message.delivered_at is None:
                    _deliver_one(session, message, party, sender, now)
                message.read_at = message.read_at or now
                message.acknowledged_at = now
                if message.escalation_state in ("none", "escalated"):
                    message.escalation_state = "stopped"  # the ladder stops here
                view = _view(message, {message.sender_id: sender, party.id: party.name}, party.id)
                told: dict[str, Any] = {"message": message.id, "to": party.name, "at": _iso(now)}
                if message.handle is None:
                    told["receipt"] = issue_receipt(
                        session,
                        party,
                        "message",
                        message.id,
                        "acknowledged",
                        now,
                        view.content(),
                        details=signed({"from": sender, "to": party.name}, party),
                    )
                else:  # no receipt (it names its party): the recipient's own entry
                    told["to"] = ANONYMOUS_COUNTERPART
                    append(
                        session,
                        at=now,
                        kind="message.acknowledged",
                        party=party.name,
                        subject=message.id,
                        payload=signed({"message": message.id, "from": view.sender}, party),
                    )
                publish(
                    session,
                    party_id=message.sender_id,
                    kind="message.acknowledged",
                    at=now,
                    item_id=message.id,
                    payload=told,
                )
            return _view(message, {message.sender_id: sender, party.id: party.name}, party.id)

    # -- internals ----------------------------------------------------------------------
    def _compose(
        self,
        session: Session,
        sender: PartyRef,
        draft: MessageDraft,
        recipients: Mapping[str, int],
        now: datetime,
    ) -> tuple[int, str, MessageView]:
        """The new message as it will be stored (as its sender sees it), and its
        recipient's id and name: recipient and thread checked, deadline set."""
        route = self._route(session, sender, draft, recipients)
        recipient_id, recipient_name, thread_id, handle = route
        deadline = None
        if self._deadline is not None:
            deadline = self._deadline(session, sender, recipient_id, draft.priority, now)
        shown = ANONYMOUS_COUNTERPART if handle is not None else recipient_name
        return (
            recipient_id,
            recipient_name,
            MessageView(
                id=f"msg_{uuid.uuid4().hex}",
                thread_id=thread_id,
                in_reply_to=draft.in_reply_to,
                sender=sender.name,
                recipient=shown,
                priority=draft.priority,
                text=draft.text,
                ref=draft.ref,
                created_at=now,
                delivered_at=None,
                read_at=None,
                acknowledged_at=None,
                ack_deadline=deadline,
                escalation_tier=0,
                escalation_state="none",
                handle=handle,
            ),
        )

    @staticmethod
    def _route(
        session: Session, sender: PartyRef, draft: MessageDraft, recipients: Mapping[str, int]
    ) -> tuple[int, str, str, str | None]:
        """The recipient's id and name, the thread of a new message and its handle (of an
        anonymous conflict, or ``None``); ``recipients`` has the ids of the parties named
        in ``to``."""
        recipient_id, recipient_name, handle = None, draft.to or "", None
        if draft.to is not None:
            recipient_id = recipients.get(draft.to)
            if recipient_id is None:
                raise NotFoundError(
                    f"no party named {draft.to!r} to send to; the names are listed by "
                    "'deconfliction party list'",
                    field="to",
                )
        elif draft.to_conflict is not None:
            recipient_id, handle = _other_side(session, sender, draft.to_conflict)
            recipient_name = _names(session, recipient_id)[recipient_id]
        if draft.in_reply_to is None:
            thread_id = f"thr_{uuid.uuid4().hex}"
        else:
            parent = session.get(Message, draft.in_reply_to)
            if parent is None or sender.id not in (parent.sender_id, parent.recipient_id):
                raise NotFoundError(
                    f"no message {draft.in_reply_to!r} of party {sender.name!r} to reply to",
                    field="in_reply_to",
                )
            other = parent.recipient_id if parent.sender_id == sender.id else parent.sender_id
            name = _names(session, other)[other]
            if recipient_id is not None and recipient_id != other:
                goes = ANONYMOUS_COUNTERPART if parent.handle is not None else name
                raise ValidationError(
                    f"a reply stays between the thread's two parties: it goes to {goes!r}, "
                    f"not {draft.to or draft.to_conflict!r} (leave 'to' and 'to_conflict' "
                    "out, or start a new thread)"
                )
            handle = handle or parent.handle
            recipient_id, recipient_name, thread_id = other, name, parent.thread_id
        assert recipient_id is not None
        if recipient_id == sender.id:
            raise ValidationError(
                "a message to yourself is not a hotline message; send it to another party"
            )
        return recipient_id, recipient_name, thread_id, handle

    def _replay(
        self, session: Session, sender: PartyRef, key: str, digest: str
    ) -> SendResult | None:
        first = first_response(session, sender.id, key, digest, "message")
        if first is None:
            return None
        message_id = first.get("message_id")
        message = session.get(Message, message_id) if message_id else None
        if message is None:
            raise IdempotencyKeyReusedError(
                f"Idempotency-Key {key!r} was used for another kind of request; use a new key"
            )
        return SendResult(_one_view(session, message, sender.id), replayed=True)

    @staticmethod
    def _visible(session: Session, party: PartyRef, message_id: str) -> Message:
        message = session.get(Message, message_id)
        if message is None or party.id not in (message.sender_id, message.recipient_id):
            raise NotFoundError(f"no message {message_id!r} of party {party.name!r}")
        return message

    @staticmethod
    def _addressed(session: Session, party: PartyRef, message_id: str) -> tuple[Message, str]:
        """A message sent to the party, and its sender's name."""
        message = session.get(Message, message_id)
        if message is None or message.recipient_id != party.id:
            raise NotFoundError(f"no message {message_id!r} addressed to party {party.name!r}")
        return message, _names(session, message.sender_id)[message.sender_id]

    @staticmethod
    def _views(session: Session, rows: list[Message], viewer: int) -> list[MessageView]:
        ids = {r.sender_id for r in rows} | {r.recipient_id for r in rows}
        names = _names(session, *ids) if ids else {}
        return [_view(r, names, viewer) for r in rows]

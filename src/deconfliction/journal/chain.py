"""The hash chain: append in the caller's transaction, verify from the first entry.

Each entry's hash is SHA-256 over the previous entry's hash and the entry's canonical
JSON (sorted keys, no spaces, UTF-8): ``seq``, ``at`` (RFC 3339 UTC, microseconds),
``kind``, ``party``, ``subject`` and ``payload``. The first entry's previous hash is
:data:`GENESIS`. Editing, deleting, inserting or reordering rows breaks the chain at
the first entry touched, and :func:`verify` names it; the head row (the last entry's
seq and hash, created by the first migration) catches entries cut from the end.

Appends serialise on the head row's lock. A write transaction that must see every
earlier write (check, then act) calls :func:`lock_head` first, so that on PostgreSQL
it waits for the writers before it, as it does on SQLite (``BEGIN IMMEDIATE``).

>>> entry_hash(GENESIS, {"seq": 1, "kind": "party.created"})[:16]
'4382b0aedead339c'
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from deconfliction.errors import DeconflictionError
from deconfliction.jsontext import canonical_json
from deconfliction.store.schema import JournalEntry, JournalHead

__all__ = [
    "GENESIS",
    "Break",
    "ChainHead",
    "EntryPosition",
    "EntryRecord",
    "append",
    "append_many",
    "canonical_json",
    "entry_hash",
    "lock_head",
    "verify",
]

GENESIS = "0" * 64
_HEAD_KEY = "deconfliction.journal_head"
"""Key in ``Session.info``: the head row this transaction has locked."""


def entry_hash(prev_hash: str, body: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the previous hash followed by the body's canonical JSON."""
    return hashlib.sha256((prev_hash + canonical_json(body)).encode()).hexdigest()


def _body(
    seq: int, at: datetime, kind: str, party: str | None, subject: str | None, payload: str
) -> dict[str, Any]:
    return {
        "seq": seq,
        "at": at.isoformat(timespec="microseconds"),
        "kind": kind,
        "party": party,
        "subject": subject,
        "payload": json.loads(payload),
    }


def _body_text(
    seq: int, at: datetime, kind: str, party: str | None, subject: str | None, payload: str
) -> str:
    """``canonical_json(_body(...))`` for a payload already in canonical JSON, put
    together without parsing and writing the payload again (it may hold a long outline).
    The keys are in their sorted order; a payload of string keys is its own canonical
    form, so the hash is the one :func:`verify` computes."""
    return (
        f'{{"at":{canonical_json(at.isoformat(timespec="microseconds"))}'
        f',"kind":{canonical_json(kind)},"party":{canonical_json(party)}'
        f',"payload":{payload},"seq":{seq},"subject":{canonical_json(subject)}}}'
    )


def lock_head(session: Session) -> JournalHead:
    """The head row, locked until the session's transaction ends (``FOR UPDATE``).

    Taken first, it makes a write transaction wait for every writer before it, so its
    checks see their commits on every backend. The lock is taken once per transaction:
    later calls in the same one return the row already held (a session is one
    transaction here, see ``Database.transaction``). One taken inside a savepoint is
    not remembered: rolling the savepoint back releases it (PostgreSQL).
    """
    held = session.info.get(_HEAD_KEY)
    if isinstance(held, JournalHead):
        return held
    head = session.execute(
        select(JournalHead).where(JournalHead.id == 1).with_for_update()
    ).scalar_one_or_none()
    if head is None:
        raise DeconflictionError(
            "the journal has no head row; the database is not migrated "
            "(any deconfliction command migrates it, or call Database.migrate())"
        )
    if not session.in_nested_transaction():
        session.info[_HEAD_KEY] = head
    return head


def append(
    session: Session,
    *,
    at: datetime,
    kind: str,
    payload: Mapping[str, Any],
    party: str | None = None,
    subject: str | None = None,
) -> JournalEntry:
    """Add one entry in the session's transaction, locking the head so appends serialise.

    ``at`` must be aware; it is kept (and hashed) in UTC, as the store gives it back.
    The entry and the head are written at the session's next flush (at the latest, its
    commit), so the entries of one transaction go in together.
    """
    at = _utc(at)
    head = lock_head(session)
    entry = JournalEntry(**_chained(head.seq + 1, head.hash, at, kind, party, subject, payload))
    session.add(entry)
    head.seq, head.hash = entry.seq, entry.hash
    return entry


class EntryPosition(NamedTuple):
    """Where an entry stands in the chain: its sequence number and hash."""

    seq: int
    hash: str


def append_many(
    session: Session,
    at: datetime,
    entries: Sequence[tuple[str, str | None, str | None, Mapping[str, Any]]],
) -> list[EntryPosition]:
    """Add several entries of one moment, ``(kind, party, subject, payload)`` each, in
    order, as one insert; returns where each stands in the chain.

    Hashed and chained as :func:`append` does, but inserted at once rather than at the
    next flush (no unit of work for each); the head moves on at that flush as ever.
    """
    at = _utc(at)
    if not entries:
        return []
    head = lock_head(session)
    rows: list[dict[str, Any]] = []
    seq, prev = head.seq, head.hash
    for kind, party, subject, payload in entries:
        rows.append(_chained(seq + 1, prev, at, kind, party, subject, payload))
        seq, prev = rows[-1]["seq"], rows[-1]["hash"]
    session.connection().execute(insert(JournalEntry), rows)
    head.seq, head.hash = seq, prev
    return [EntryPosition(row["seq"], row["hash"]) for row in rows]


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("journal entries need an aware datetime (UTC), not a naive one")
    return at.astimezone(UTC)


def _chained(
    seq: int,
    prev_hash: str,
    at: datetime,
    kind: str,
    party: str | None,
    subject: str | None,
    payload: Mapping[str, Any],
) -> dict[str, Any]:
    """The values of entry ``seq`` after the entry hashed ``prev_hash``, its hash made."""
    text = canonical_json(payload)
    body = _body_text(seq, at, kind, party, subject, text)
    digest = hashlib.sha256((prev_hash + body).encode()).hexdigest()
    return {
        "seq": seq,
        "at": at,
        "kind": kind,
        "party": party,
        "subject": subject,
        "payload": text,
        "prev_hash": prev_hash,
        "hash": digest,
    }


class EntryRecord(Protocol):
    """What :func:`verify` reads of an entry: a ``JournalEntry`` row or a result row."""

    @property
    def seq(self) -> int: ...
    @property
    def at(self) -> datetime: ...
    @property
    def kind(self) -> str: ...
    @property
    def party(self) -> str | None: ...
    @property
    def subject(self) -> str | None: ...
    @property
    def payload(self) -> str: ...
    @property
    def prev_hash(self) -> str: ...
    @property
    def hash(self) -> str: ...


class ChainHead(Protocol):
    """What :func:`verify` reads of the head: the last entry's ``seq`` and ``hash``."""

    @property
    def seq(self) -> int: ...
    @property
    def hash(self) -> str: ...


@dataclass(frozen=True)
class Break:
    """Where the chain first fails: the entry's sequence number and what is wrong."""

    seq: int
    reason: str


def verify(entries: Iterable[EntryRecord], head: ChainHead | None = None) -> Break | None:
    """Check a whole chain in ``seq`` order from the first entry; ``None`` when intact.

    ``entries`` may be a stream (it is read once, front to back). With ``head``, the
    chain must also end where the head says.
    """
    expected_seq, prev = 1, GENESIS
    for entry in entries:
        if entry.seq != expected_seq:
            return Break(
                expected_seq,
                f"entry {expected_seq} is missing or out of order (found {entry.seq} in its place)",
            )
        if entry.prev_hash != prev:
            return Break(entry.seq, "its previous-hash does not match the entry before it")
        try:
            body = _body(entry.seq, entry.at, entry.kind, entry.party, entry.subject, entry.payload)
        except ValueError:
            return Break(entry.seq, "its payload is not valid JSON")
        if entry_hash(prev, body) != entry.hash:
            return Break(entry.seq, "its content does not match its hash (edited)")
        prev = entry.hash
        expected_seq += 1
    last = expected_seq - 1
    if head is None:
        return None
    if head.seq > last:
        return Break(
            last + 1,
            f"the chain ends at entry {last} but the head says {head.seq}: "
            f"entries {last + 1} to {head.seq} were removed from the end",
        )
    if head.seq < last:
        return Break(
            head.seq + 1,
            f"the head says the chain ends at entry {head.seq}, but entries "
            f"{head.seq + 1} to {last} follow it: they were added outside the journal",
        )
    if head.hash != prev:
        return Break(last, "it does not match the head's hash (the end was rewritten)")
    return None

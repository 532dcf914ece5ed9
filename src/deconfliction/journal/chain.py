"""The hash chain: append in the caller's transaction, verify from the first entry.

Each entry's hash is SHA-256 over the previous entry's hash and the entry's canonical
JSON (sorted keys, no spaces, UTF-8): ``seq``, ``at`` (RFC 3339 UTC, microseconds),
``kind``, ``party``, ``subject`` and ``payload``. The first entry's previous hash is
:data:`GENESIS`. Editing, deleting, inserting or reordering rows breaks the chain at
the first entry touched, and :func:`verify` names it.

>>> entry_hash(GENESIS, {"seq": 1, "kind": "party.created"})[:16]
'4382b0aedead339c'
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from deconfliction.store.schema import JournalEntry, JournalHead

__all__ = ["GENESIS", "Break", "append", "canonical_json", "entry_hash", "verify"]

GENESIS = "0" * 64


def canonical_json(value: Any) -> str:
    """The one JSON text of a value: sorted keys, no whitespace, non-ASCII kept."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


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


def append(
    session: Session,
    *,
    at: datetime,
    kind: str,
    payload: Mapping[str, Any],
    party: str | None = None,
    subject: str | None = None,
) -> JournalEntry:
    """Add one entry in the session's transaction, locking the head so appends serialise."""
    head = session.execute(
        select(JournalHead).where(JournalHead.id == 1).with_for_update()
    ).scalar_one_or_none()
    if head is None:
        head = JournalHead(id=1, seq=0, hash=GENESIS)
        session.add(head)
    seq = head.seq + 1
    text = canonical_json(payload)
    digest = entry_hash(head.hash, _body(seq, at, kind, party, subject, text))
    entry = JournalEntry(
        seq=seq,
        at=at,
        kind=kind,
        party=party,
        subject=subject,
        payload=text,
        prev_hash=head.hash,
        hash=digest,
    )
    session.add(entry)
    head.seq, head.hash = seq, digest
    session.flush()
    return entry


@dataclass(frozen=True)
class Break:
    """Where the chain first fails: the entry's sequence number and what is wrong."""

    seq: int
    reason: str


def verify(entries: Iterable[JournalEntry], head: JournalHead | None = None) -> Break | None:
    """Check a whole chain in ``seq`` order from the first entry; ``None`` when intact."""
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
    if head is not None and (head.seq != expected_seq - 1 or head.hash != prev):
        return Break(
            expected_seq - 1 if head.seq >= expected_seq else head.seq + 1,
            f"the chain ends at entry {expected_seq - 1} but the head says "
            f"{head.seq}: entries were removed from the end",
        )
    return None

"""Signed proof: the service key, receipts, and each party's verifiable journal export.

**The key.** The service signs with one Ed25519 key, made on first start
(:func:`ensure_service_key`) and kept in the database (``service_keys``); its creation is a
journal entry (``service.key_created``). Parties take the public key once, out of band
(``deconfliction journal key``, ``GET /v1/journal/key``), and check everything with it.

**A receipt** is the service's signed statement that an item (a message or an alert) was
``delivered`` to, or ``acknowledged`` by, a party at a time. Its body (canonical JSON,
signed as UTF-8) names the party, the item's kind, id and hash (SHA-256 of the canonical
JSON of the item *as the party was sent it*: the payload of the event that carried it),
the event, the time, and the journal entry that records the event (its ``seq`` and
``hash``). A signed document is ``{"body": {...}, "signature": "<hex>"}``; every body has a
``type``, so a signature over one kind of statement cannot pass for another.

**An export** (:func:`export`) is one party's slice of the journal: the entries whose
``party`` is it, plus the entries its receipts point at; the receipts it may see (its own,
and those on messages it sent); the items those receipts hash; and a statement signed by
the service: the chain's head (``seq``, ``hash``) when the export was made, and digests of
the entries' ``(seq, hash)`` list and of the receipts' signatures. :func:`verify_export`
checks it offline with only the public key.

What a slice proves, to anyone holding the public key:

* each receipt was issued by the service: the party got (or acknowledged) the item with
  that hash at that time, recorded at that journal position;
* each entry's hash is the hash of its content and of the previous entry's hash (so an
  entry cannot be edited without changing its hash), and where two entries of the slice
  are neighbours in the chain, they are linked;
* the service vouched for this exact set of entries (by ``(seq, hash)``) and receipts, and
  for a chain of ``head.seq`` entries ending in ``head.hash``, at the statement's time: a
  party cannot add or alter entries in its export, and the service cannot later show a
  chain in which these positions hold anything else without contradicting its signature.

What a slice cannot prove on its own: that the entries between its own (other parties'
entries, which it does not contain) are intact, nor that the slice's entries are ancestors
of the signed head. That needs the whole chain (``deconfliction journal verify`` on the
database, by an arbiter); the signed head is what such a check is held against. Nor can
it show that the service left none of the party's entries out; the party's own records
and the receipts it holds are the check on that.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import insert, or_, select, tuple_
from sqlalchemy.orm import Session

from deconfliction.clock import Clock
from deconfliction.errors import NotFoundError, ValidationError
from deconfliction.journal.chain import (
    EntryPosition,
    append,
    append_many,
    canonical_json,
    entry_hash,
    lock_head,
)
from deconfliction.parties import PartyRef
from deconfliction.store.database import Database
from deconfliction.store.schema import (
    Event,
    JournalEntry,
    JournalHead,
    Message,
    Party,
    Receipt,
    ServiceKey,
)

__all__ = [
    "ALGORITHM",
    "DELIVERED_EVENT_KINDS",
    "EXPORT_TYPE",
    "RECEIPT_EVENTS",
    "RECEIPT_TYPE",
    "STATEMENT_TYPE",
    "ExportCheck",
    "ProofService",
    "ReceiptRequest",
    "ensure_service_key",
    "entry_document",
    "export",
    "issue_fresh_receipts",
    "issue_receipt",
    "item_hash",
    "public_key",
    "receipts_for",
    "sign",
    "verify_export",
    "verify_signed",
]

ALGORITHM = "ed25519"
RECEIPT_TYPE = "deconfliction.receipt/1"
STATEMENT_TYPE = "deconfliction.export-statement/1"
EXPORT_TYPE = "deconfliction.journal-export/1"
RECEIPT_EVENTS = ("delivered", "acknowledged")
"""The events a receipt is signed for."""

DELIVERED_EVENT_KINDS = {"message": "message.received", "alert": "alert.created"}
"""For each item kind, the kind of the event that carries the item to its party: its
payload is the item a receipt hashes."""


def item_hash(item: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of an item's canonical JSON.

    >>> item_hash({"b": 1, "a": "x"}) == item_hash({"a": "x", "b": 1})
    True
    """
    return hashlib.sha256(canonical_json(item).encode()).hexdigest()


def _iso(at: datetime) -> str:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("receipts need an aware datetime (UTC), not a naive one")
    return at.astimezone(UTC).isoformat(timespec="microseconds")


# -- the key ------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _private_key(private_hex: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(private_hex))


def _key_row(session: Session, at: datetime | None) -> ServiceKey:
    """The service key; made (and journaled) when ``at`` is given and there is none."""
    row = session.get(ServiceKey, 1)
    if row is not None:
        return row
    if at is None:
        raise NotFoundError(
            "the service has no signing key yet; start the service once "
            "('deconfliction serve') and it makes one"
        )
    lock_head(session)  # first starts of several replicas make one key, not several
    row = session.get(ServiceKey, 1, populate_existing=True)
    if row is not None:
        return row
    private = Ed25519PrivateKey.generate()
    public_hex = private.public_key().public_bytes_raw().hex()
    row = ServiceKey(
        id=1,
        algorithm=ALGORITHM,
        public_key=public_hex,
        private_key=private.private_bytes_raw().hex(),
        created_at=at,
    )
    session.add(row)
    append(
        session,
        at=at,
        kind="service.key_created",
        payload={"algorithm": ALGORITHM, "public_key": public_hex},
    )
    return row


def ensure_service_key(db: Database, clock: Clock) -> str:
    """Make the service key if there is none; returns the public key (hex, 32 bytes)."""
    with db.transaction() as session:
        return _key_row(session, clock.now()).public_key


def public_key(session: Session) -> str:
    """The service's public key (hex); NotFoundError before the first start."""
    return _key_row(session, None).public_key


def _sign(session: Session, body: Mapping[str, Any], at: datetime | None) -> dict[str, Any]:
    key = _key_row(session, at)
    signature = _private_key(key.private_key).sign(canonical_json(body).encode())
    return {"body": dict(body), "signature": signature.hex()}


def sign(session: Session, body: Mapping[str, Any]) -> dict[str, Any]:
    """``body`` signed with the service key: ``{"body", "signature"}`` (Ed25519, hex, over
    its canonical JSON)."""
    return _sign(session, body, None)


# -- receipts -----------------------------------------------------------------------------


def _delivered_item(session: Session, party_id: int, item_kind: str, item_id: str) -> Any:
    kind = DELIVERED_EVENT_KINDS.get(item_kind)
    payload = None
    if kind is not None:
        payload = session.scalar(
            select(Event.payload)
            .where(Event.party_id == party_id, Event.item_id == item_id, Event.kind == kind)
            .order_by(Event.seq)
            .limit(1)
        )
    if payload is None:
        raise NotFoundError(
            f"no {kind or item_kind + ' delivery'} event carried {item_kind} {item_id!r} to "
            f"party {party_id}; give the item's payload to issue_receipt"
        )
    return json.loads(payload)


@dataclass(frozen=True)
class ReceiptRequest:
    """A receipt to sign: for ``party``, that ``event`` happened to an item it was sent
    as ``item_payload``; ``details`` go into the journal entry written for it."""

    party: PartyRef
    item_kind: str
    item_id: str
    event: str
    item_payload: Mapping[str, Any]
    details: Mapping[str, Any] | None = None


def issue_receipt(
    session: Session,
    party: PartyRef,
    item_kind: str,
    item_id: str,
    event: str,
    at: datetime,
    item_payload: Mapping[str, Any] | None = None,
    *,
    entry: JournalEntry | None = None,
    details: Mapping[str, Any] | None = None,
    fresh: bool = False,
) -> dict[str, Any]:
    """Sign a receipt in the caller's transaction; returns it as ``{"body", "signature"}``.

    ``item_payload`` is the item as the party was sent it; without it, the payload of the
    event that carried the item (:data:`DELIVERED_EVENT_KINDS`) is used. ``entry`` is the
    journal entry the caller wrote for this event (its subject must be the item); without
    it, an entry ``<item_kind>.<event>`` is appended, with ``details`` in its payload.
    A receipt is issued once per (party, item, event): asking again returns the first one
    (``fresh``: the caller knows there is none, as it just recorded the event under the
    journal head's lock, so the look-up is skipped).
    """
    _check_event(event)
    if not fresh:
        lock_head(session)  # the look-up below sees every receipt committed before
        existing = session.execute(
            select(Receipt).where(
                Receipt.party_id == party.id, Receipt.item_id == item_id, Receipt.event == event
            )
        ).scalar_one_or_none()
        if existing is not None:
            return {"body": json.loads(existing.body), "signature": existing.signature}
    if item_payload is None:
        item_payload = _delivered_item(session, party.id, item_kind, item_id)
    request = ReceiptRequest(party, item_kind, item_id, event, item_payload, details)
    if entry is None:
        return issue_fresh_receipts(session, [request], at)[0]
    if entry.subject != item_id:
        raise ValueError(f"journal entry {entry.seq} is about {entry.subject!r}, not {item_id!r}")
    receipt_id = _receipt_id()
    key = _key_row(session, at)
    signed, row = _signed(key, request, receipt_id, item_hash(item_payload), at, entry)
    session.connection().execute(insert(Receipt), [row])
    return signed


def issue_fresh_receipts(
    session: Session, requests: Sequence[ReceiptRequest], at: datetime
) -> list[dict[str, Any]]:
    """Sign receipts that cannot exist yet (their events were just recorded, under the
    journal head's lock), each with a journal entry as :func:`issue_receipt` writes;
    the entries and the receipts go in as one insert each. Returns them in order."""
    for request in requests:
        _check_event(request.event)
    digests = [item_hash(r.item_payload) for r in requests]
    receipt_ids = [_receipt_id() for _ in requests]
    positions = append_many(
        session,
        at,
        [
            (
                f"{r.item_kind}.{r.event}",
                r.party.name,
                r.item_id,
                {
                    **(r.details or {}),
                    "item": {"kind": r.item_kind, "id": r.item_id, "hash": digest},
                    "receipt": receipt_id,
                },
            )
            for r, digest, receipt_id in zip(requests, digests, receipt_ids, strict=True)
        ],
    )
    key = _key_row(session, at)
    receipts: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    for r, digest, receipt_id, position in zip(
        requests, digests, receipt_ids, positions, strict=True
    ):
        signed, row = _signed(key, r, receipt_id, digest, at, position)
        receipts.append(signed)
        rows.append(row)
    if rows:
        session.connection().execute(insert(Receipt), rows)
    return receipts


def _check_event(event: str) -> None:
    if event not in RECEIPT_EVENTS:
        raise ValueError(f"receipts are for {', '.join(RECEIPT_EVENTS)}, not {event!r}")


def _receipt_id() -> str:
    return f"rct_{uuid.uuid4().hex}"


def _signed(
    key: ServiceKey,
    request: ReceiptRequest,
    receipt_id: str,
    digest: str,
    at: datetime,
    entry: EntryPosition | JournalEntry,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A receipt signed with ``key``: as returned (``{"body", "signature"}``) and as its
    row."""
    body = {
        "type": RECEIPT_TYPE,
        "receipt": receipt_id,
        "party": request.party.name,
        "item": {"kind": request.item_kind, "id": request.item_id, "hash": digest},
        "event": request.event,
        "at": _iso(at),
        "journal": {"seq": entry.seq, "hash": entry.hash},
        "key": key.public_key,
    }
    text = canonical_json(body)
    signature = _private_key(key.private_key).sign(text.encode()).hex()
    row = {
        "id": receipt_id,
        "party_id": request.party.id,
        "item_kind": request.item_kind,
        "item_id": request.item_id,
        "event": request.event,
        "at": at,
        "item_hash": digest,
        "journal_seq": entry.seq,
        "body": text,
        "signature": signature,
    }
    return {"body": body, "signature": signature}, row


def _visible_receipts(party_id: int) -> Any:
    """Receipts a party may see: its own, and those on messages it sent."""
    sent = select(Message.id).where(Message.sender_id == party_id)
    return select(Receipt).where(
        or_(
            Receipt.party_id == party_id,
            (Receipt.item_kind == "message") & Receipt.item_id.in_(sent),
        )
    )


def receipts_for(
    session: Session,
    party_id: int,
    item_id: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """The receipts a party may see (its own and those on messages it sent), oldest first,
    optionally for one item; each as ``{"body", "signature"}``."""
    query = _visible_receipts(party_id)
    if item_id is not None:
        query = query.where(Receipt.item_id == item_id)
    query = query.order_by(Receipt.journal_seq, Receipt.id).offset(offset).limit(limit)
    rows = session.scalars(query)
    return [{"body": json.loads(r.body), "signature": r.signature} for r in rows]


# -- export -------------------------------------------------------------------------------


def entry_document(entry: JournalEntry) -> dict[str, Any]:
    """A journal entry as JSON: the hashed fields (``seq``, ``at``, ``kind``, ``party``,
    ``subject``, ``payload``) and its ``prev_hash`` and ``hash``."""
    return {
        "seq": entry.seq,
        "at": _iso(entry.at),
        "kind": entry.kind,
        "party": entry.party,
        "subject": entry.subject,
        "payload": json.loads(entry.payload),
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


def _pairs_digest(entries: Sequence[Mapping[str, Any]]) -> str:
    return item_hash({"entries": [[e["seq"], e["hash"]] for e in entries]})


def _signatures_digest(receipts: Sequence[Mapping[str, Any]]) -> str:
    return item_hash({"signatures": [r["signature"] for r in receipts]})


def export(session: Session, party: PartyRef, at: datetime) -> dict[str, Any]:
    """The party's verifiable slice of the journal (see the module docstring).

    Run it in one read snapshot, so that the head, entries and receipts agree.
    """
    receipts = receipts_for(session, party.id)
    pointed = {r["body"]["journal"]["seq"] for r in receipts}
    rows = session.scalars(
        select(JournalEntry)
        .where(or_(JournalEntry.party == party.name, JournalEntry.seq.in_(pointed)))
        .order_by(JournalEntry.seq)
    )
    entries = [entry_document(e) for e in rows]
    head = session.get(JournalHead, 1)
    if head is None:
        raise NotFoundError("the journal has no head row; the database is not migrated")
    items: list[dict[str, Any]] = []
    carried = {
        (r["body"]["party"], r["body"]["item"]["kind"], r["body"]["item"]["id"]) for r in receipts
    }
    if carried:
        names = dict(session.execute(select(Party.name, Party.id)).all())
        wanted = {
            (names[p], i, DELIVERED_EVENT_KINDS[k])
            for p, k, i in carried
            if p in names and k in DELIVERED_EVENT_KINDS
        }
        seen: set[tuple[str, str]] = set()
        for event in session.scalars(
            select(Event)
            .where(tuple_(Event.party_id, Event.item_id, Event.kind).in_(wanted))
            .order_by(Event.party_id, Event.seq)
        ):
            kind = event.kind.split(".", 1)[0]
            assert event.item_id is not None
            if (kind, event.item_id) not in seen:
                seen.add((kind, event.item_id))
                items.append(
                    {"kind": kind, "id": event.item_id, "document": json.loads(event.payload)}
                )
    statement = {
        "type": STATEMENT_TYPE,
        "party": party.name,
        "at": _iso(at),
        "head": {"seq": head.seq, "hash": head.hash},
        "entries": {"count": len(entries), "digest": _pairs_digest(entries)},
        "receipts": {"count": len(receipts), "digest": _signatures_digest(receipts)},
        "key": public_key(session),
    }
    return {
        "type": EXPORT_TYPE,
        "party": party.name,
        "public_key": statement["key"],
        "statement": _sign(session, statement, None),
        "entries": entries,
        "receipts": receipts,
        "items": items,
    }


class ProofService:
    """What the API serves of the proofs: the public key, receipts, exports."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def public_key(self) -> str:
        with self._db.read() as session:
            return public_key(session)

    def receipts(
        self, party: PartyRef, item_id: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[dict[str, Any]]:
        """Receipts the party may see, oldest first, optionally for one item."""
        with self._db.read() as session:
            return receipts_for(session, party.id, item_id, limit, offset)

    def export(self, party: PartyRef) -> dict[str, Any]:
        """The party's verifiable slice of the journal, from one snapshot."""
        at = self._clock.now()
        with self._db.read() as session:
            return export(session, party, at)


# -- offline verification -----------------------------------------------------------------


def _public(public_key_hex: str) -> Ed25519PublicKey:
    try:
        raw = bytes.fromhex(public_key_hex.strip())
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise ValidationError(
            f"{public_key_hex!r} is not an Ed25519 public key (64 hex digits); get the "
            "service's key with 'deconfliction journal key' or GET /v1/journal/key"
        ) from None


def verify_signed(document: Any, public_key_hex: str, expected_type: str) -> str | None:
    """Check one signed document (``{"body", "signature"}``) against the public key.

    Returns ``None`` when the signature is the service's over exactly this body and the
    body is of ``expected_type``; otherwise what is wrong, in words.
    """
    key = _public(public_key_hex)
    if not isinstance(document, dict) or not isinstance(document.get("body"), dict):
        return 'not a signed document: expected {"body": {...}, "signature": "<hex>"}'
    body, signature = document["body"], document.get("signature")
    if body.get("type") != expected_type:
        return f"it is a {body.get('type')!r}, not a {expected_type!r}"
    try:
        key.verify(bytes.fromhex(str(signature)), canonical_json(body).encode())
    except (InvalidSignature, ValueError):
        return (
            "the signature does not match: the body was changed after signing, or it "
            "was signed by another key than the one given"
        )
    return None


@dataclass(frozen=True)
class ExportCheck:
    """The outcome of :func:`verify_export`: what was checked, and every problem found."""

    party: str
    head_seq: int
    entries: int
    receipts: int
    items: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _entry_problems(entries: Sequence[Any], head: Mapping[str, Any]) -> list[str]:
    problems = []
    previous: Mapping[str, Any] | None = None
    for entry in entries:
        seq = entry.get("seq")
        body = {k: entry.get(k) for k in ("seq", "at", "kind", "party", "subject", "payload")}
        if entry_hash(str(entry.get("prev_hash")), body) != entry.get("hash"):
            problems.append(f"entry {seq}: its content does not match its hash")
        if not isinstance(seq, int) or seq > head["seq"]:
            problems.append(f"entry {seq}: beyond the signed head ({head['seq']})")
        elif previous is not None:
            if seq <= previous["seq"]:
                problems.append(f"entry {seq}: out of order (after {previous['seq']})")
            elif seq == previous["seq"] + 1 and entry.get("prev_hash") != previous["hash"]:
                problems.append(f"entry {seq}: its previous-hash is not entry {seq - 1}'s hash")
        if seq == head["seq"] and entry.get("hash") != head["hash"]:
            problems.append(f"entry {seq}: it is the head, but its hash is not the head's")
        if isinstance(seq, int):
            previous = entry
    return problems


def verify_export(document: Any, public_key_hex: str) -> ExportCheck:
    """Check an export offline with only the service's public key (module docstring).

    Raises ValidationError when the document is not an export at all; returns every
    problem found otherwise.
    """
    if not isinstance(document, dict) or document.get("type") != EXPORT_TYPE:
        raise ValidationError(f"not a journal export: expected a JSON object of type {EXPORT_TYPE}")
    party = str(document.get("party"))
    entries = list(document.get("entries") or [])
    receipts = list(document.get("receipts") or [])
    items = list(document.get("items") or [])
    statement: Any = document.get("statement")
    problem = verify_signed(statement, public_key_hex, STATEMENT_TYPE)
    if problem is not None:
        return ExportCheck(party, 0, 0, 0, 0, (f"the export's statement: {problem}",))
    said = statement["body"]  # signed by the service: well formed
    try:
        problems = _export_problems(document, said, entries, receipts, items, public_key_hex)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        problems = [f"the export is malformed ({type(exc).__name__}: {exc})"]
    return ExportCheck(
        party, said["head"]["seq"], len(entries), len(receipts), len(items), tuple(problems)
    )


def _export_problems(
    document: Mapping[str, Any],
    said: Mapping[str, Any],
    entries: list[Any],
    receipts: list[Any],
    items: list[Any],
    public_key_hex: str,
) -> list[str]:
    problems = []
    if document.get("public_key") != public_key_hex.strip().lower():
        problems.append("the export names another key than the one you trust")
    if said["party"] != document.get("party"):
        problems.append(f"the statement is for party {said['party']!r}, not {document['party']!r}")
    if said["entries"] != {"count": len(entries), "digest": _pairs_digest(entries)}:
        problems.append("the entries are not those the service signed (added, removed or changed)")
    if said["receipts"] != {"count": len(receipts), "digest": _signatures_digest(receipts)}:
        problems.append("the receipts are not those the service signed (added or removed)")
    problems += _entry_problems(entries, said["head"])
    by_seq = {e["seq"]: e for e in entries}
    hashes = {(i["kind"], i["id"]): item_hash(i["document"]) for i in items}
    if len(hashes) != len(items):
        problems.append("an item is listed twice")
    named = set()
    for receipt in receipts:
        problem = verify_signed(receipt, public_key_hex, RECEIPT_TYPE)
        if problem is not None:
            problems.append(f"a receipt: {problem}")
            continue
        body = receipt["body"]
        item, position = body["item"], body["journal"]
        named.add((item["kind"], item["id"]))
        entry = by_seq.get(position["seq"])
        where = f"receipt {body['receipt']}: journal entry {position['seq']}"
        if entry is None or entry["hash"] != position["hash"]:
            problems.append(f"{where} (with the receipt's hash) is not in the export")
        elif entry["subject"] != item["id"]:
            problems.append(f"{where} is not about the receipt's item")
        known = hashes.get((item["kind"], item["id"]))
        if known is None:
            problems.append(f"receipt {body['receipt']}: its {item['kind']} is not in the export")
        elif known != item["hash"]:
            problems.append(f"receipt {body['receipt']}: the exported item does not match its hash")
    problems += [
        f"{kind} {item_id}: no receipt names it" for kind, item_id in hashes.keys() - named
    ]
    return problems

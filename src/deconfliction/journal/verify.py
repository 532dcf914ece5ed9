"""The journal as stored: verify a whole chain by streaming it, and page through entries.

:func:`verify_database` reads the head and every entry in one read transaction (one
snapshot, so appends made meanwhile neither count nor break it) and streams the entries
in batches of :data:`BATCH`, so a journal of millions of entries is checked in constant
memory. :func:`read_entries` gives entries for people and tools to look at.
:func:`tree_roots` and :func:`entry_leaves` hash the Merkle tree afresh from the entries,
to hold the journal to checkpoints a party kept.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, select

from deconfliction.errors import NotFoundError, ValidationError
from deconfliction.journal.chain import Break, EntryRecord, verify
from deconfliction.journal.checkpoint import entry_leaf
from deconfliction.journal.merkle import Frontier
from deconfliction.signatures import check_statement
from deconfliction.store.database import Database
from deconfliction.store.schema import JournalEntry, JournalHead

__all__ = [
    "BATCH",
    "EntryView",
    "SignatureCheck",
    "Verification",
    "check_signatures",
    "entry_leaves",
    "read_entries",
    "tree_roots",
    "verify_database",
]

BATCH = 2_000
"""Entries fetched per round trip while streaming."""

_COLUMNS = (
    JournalEntry.seq,
    JournalEntry.at,
    JournalEntry.kind,
    JournalEntry.party,
    JournalEntry.subject,
    JournalEntry.payload,
    JournalEntry.prev_hash,
    JournalEntry.hash,
)


@dataclass(frozen=True)
class Verification:
    """The outcome of checking a stored chain.

    ``head_seq`` and ``head_hash`` are what the head row says (the number of entries
    the chain should have, and the last one's hash); ``checked`` counts the entries
    read before the first break, or all of them; ``first_break`` is ``None`` when the
    chain is intact.
    """

    head_seq: int
    head_hash: str
    checked: int
    first_break: Break | None

    @property
    def intact(self) -> bool:
        return self.first_break is None


@dataclass(frozen=True)
class EntryView:
    """One journal entry as stored; ``payload`` is the parsed JSON (``None`` if unparsable)."""

    seq: int
    at: datetime
    kind: str
    party: str | None
    subject: str | None
    payload: Any
    prev_hash: str
    hash: str

    def to_json(self) -> dict[str, Any]:
        """The entry as a JSON object (``at`` in RFC 3339 UTC)."""
        return {
            "seq": self.seq,
            "at": self.at.isoformat(timespec="microseconds"),
            "kind": self.kind,
            "party": self.party,
            "subject": self.subject,
            "payload": self.payload,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


def verify_database(
    db: Database,
    progress: Callable[[int, int], None] | None = None,
    batch: int = BATCH,
) -> Verification:
    """Check the stored chain from its first entry; ``progress(done, total)`` per batch.

    ``total`` is the head's ``seq``. Raises NotFoundError when the database holds no
    journal at all (a wrong URL, or a database never migrated).
    """
    _check_has_journal(db)
    with db.read() as session:
        head = session.get(JournalHead, 1)
        if head is None:
            raise NotFoundError(
                "the journal has no head row, so the database was never migrated or the "
                "head was deleted; a migrated journal always has one"
            )
        query = select(*_COLUMNS).order_by(JournalEntry.seq).execution_options(yield_per=batch)
        rows = session.execute(query)  # streamed: a server-side cursor on PostgreSQL
        try:
            counted = _Counted(iter(rows), batch, head.seq, progress)
            found = verify(counted, head)
        finally:
            rows.close()  # a break stops reading early
        return Verification(head.seq, head.hash, counted.count, found)


def read_entries(db: Database, after: int | None = None, limit: int = 50) -> list[EntryView]:
    """Up to ``limit`` entries in ``seq`` order: the first ones after seq ``after``, or,
    without ``after``, the newest ones."""
    if limit < 1:
        raise ValidationError(f"limit must be at least 1, not {limit}")
    _check_has_journal(db)
    query = select(*_COLUMNS)
    if after is not None:
        query = query.where(JournalEntry.seq > after).order_by(JournalEntry.seq).limit(limit)
    else:
        query = query.order_by(JournalEntry.seq.desc()).limit(limit)
    with db.read() as session:
        rows = list(session.execute(query))
    views = [_view(row) for row in rows]
    return views if after is not None else views[::-1]


class _Counted:
    """An entry stream that reports how far it got, once per batch."""

    def __init__(
        self,
        entries: Iterator[EntryRecord],
        batch: int,
        total: int,
        progress: Callable[[int, int], None] | None,
    ) -> None:
        self._entries = entries
        self._batch = batch
        self._total = total
        self._progress = progress
        self.count = 0

    def __iter__(self) -> Iterator[EntryRecord]:
        for entry in self._entries:
            yield entry
            self.count += 1
            if self._progress is not None and self.count % self._batch == 0:
                self._progress(self.count, self._total)
        if self._progress is not None:
            self._progress(self.count, self._total)


def _view(row: EntryRecord) -> EntryView:
    try:
        payload = json.loads(row.payload)
    except ValueError:
        payload = None
    return EntryView(
        row.seq, row.at, row.kind, row.party, row.subject, payload, row.prev_hash, row.hash
    )


def _check_has_journal(db: Database) -> None:
    path = db.url.database
    if db.is_sqlite and path and path != ":memory:" and not Path(path).exists():
        # connecting would create an empty file: say so instead
        raise NotFoundError(f"there is no database file {path}; check the database URL")
    with db.engine.connect() as connection:
        if not inspect(connection).has_table(JournalEntry.__tablename__):
            raise NotFoundError(
                f"{db.url.render_as_string()} holds no journal; check the database URL "
                "(the store is created by 'deconfliction serve' or 'deconfliction party add')"
            )


def tree_roots(
    db: Database, sizes: Iterable[int], batch: int = BATCH
) -> tuple[int, dict[int, bytes]]:
    """The Merkle roots (RFC 9162) of the stored journal's first ``n`` entries for each
    ``n`` of ``sizes``, hashed afresh from the entries (not from the stored tree), in one
    pass in constant memory; with the number of entries read. Sizes beyond the journal
    have no root."""
    wanted = set(sizes)
    roots: dict[int, bytes] = {}
    frontier = Frontier()
    _check_has_journal(db)
    with db.read() as session:
        query = select(JournalEntry.hash).order_by(JournalEntry.seq)
        rows = session.execute(query.execution_options(yield_per=batch)).scalars()
        try:
            for entry_hash in rows:
                frontier.append(entry_leaf(entry_hash))
                if frontier.size in wanted:
                    roots[frontier.size] = frontier.root()
        finally:
            rows.close()
    return frontier.size, roots


def entry_leaves(db: Database, count: int) -> list[bytes]:
    """The Merkle leaf hashes of the stored journal's first ``count`` entries (fewer when
    it has fewer), hashed afresh from the entries."""
    _check_has_journal(db)
    with db.read() as session:
        rows = session.execute(
            select(JournalEntry.hash).order_by(JournalEntry.seq).limit(count)
        ).scalars()
        return [entry_leaf(h) for h in rows]


@dataclass(frozen=True)
class SignatureCheck:
    """The parties' request signatures kept in the journal, checked: how many, and what
    is wrong with each that fails (``"entry N: ..."``)."""

    checked: int
    problems: tuple[str, ...]


def check_signatures(db: Database, batch: int = BATCH) -> SignatureCheck:
    """Check every party signature the journal keeps, with the keys the journal itself
    records (``party.key_added`` / ``party.key_revoked``): each must be a key of the
    entry's party, live at that entry, and verify over the signed base, whose digest
    must be that of the body kept."""
    _check_has_journal(db)
    keys: dict[str, tuple[str | None, str]] = {}
    revoked: set[str] = set()
    problems: list[str] = []
    checked = 0
    query = (
        select(JournalEntry.seq, JournalEntry.kind, JournalEntry.party, JournalEntry.payload)
        .where(
            JournalEntry.kind.in_(("party.key_added", "party.key_revoked"))
            | JournalEntry.payload.contains('"signature":{')
        )
        .order_by(JournalEntry.seq)
        .execution_options(yield_per=batch)
    )
    with db.read() as session:
        for seq, kind, party, text in session.execute(query):
            try:
                payload = json.loads(text)
            except ValueError:
                continue  # the chain check names it
            if kind == "party.key_added":
                keys[str(payload.get("keyid"))] = (party, str(payload.get("public_key")))
                continue
            if kind == "party.key_revoked":
                revoked.add(str(payload.get("keyid")))
                continue
            statement = payload.get("signature")
            if not isinstance(statement, dict) or "base" not in statement:
                continue
            checked += 1
            key_id = str(statement.get("keyid"))
            owner, public = keys.get(key_id, (None, ""))
            if owner is None or owner != party:
                problems.append(f"entry {seq}: signed with {key_id!r}, not a key of {party}")
            elif key_id in revoked:
                problems.append(f"entry {seq}: signed with {key_id!r}, revoked before it")
            elif (problem := check_statement(statement, public)) is not None:
                problems.append(f"entry {seq}: {problem}")
    return SignatureCheck(checked, tuple(problems))

"""The journal as an RFC 9162 transparency log: its tree, checkpoints and proofs.

The tree's leaves are the journal's entries in ``seq`` order (leaf ``i`` is entry
``i + 1``, see :func:`~deconfliction.journal.checkpoint.entry_leaf`). Each checkpoint
extends the tree from the last one: only the new entries are hashed, and the hashes of
the new perfect subtrees of level :data:`STORED_LEVEL` and up are kept
(``journal_nodes``); lower ones are hashed again from at most ``2**STORED_LEVEL`` entries
when a proof needs them. The hashing is done in a read snapshot, then the nodes, the
signed checkpoint and a ``journal.checkpoint`` event for every party go in in one short
write; two replicas checkpointing at once collide on the keys and the later one retries.
Appends never wait for a checkpoint (beyond SQLite's single writer).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from deconfliction.clock import Clock
from deconfliction.delivery.outbox import EventDraft, publish_many
from deconfliction.errors import NotFoundError, ValidationError
from deconfliction.journal import merkle
from deconfliction.journal.checkpoint import CHECKPOINT_TYPE, entry_leaf
from deconfliction.journal.receipts import public_key, sign
from deconfliction.jsontext import canonical_json
from deconfliction.store.database import Database
from deconfliction.store.schema import (
    JournalCheckpoint,
    JournalEntry,
    JournalHead,
    JournalNode,
    Party,
)

__all__ = [
    "CHECKPOINT_EVENT",
    "STORED_LEVEL",
    "TransparencyLog",
    "checkpoint_document",
    "inclusion_proofs",
    "latest_checkpoint",
]

STORED_LEVEL = 4
"""Perfect subtrees of ``2**STORED_LEVEL`` entries and more are stored; smaller ones are
hashed from the entries when needed (16 entries at most)."""
CHECKPOINT_EVENT = "journal.checkpoint"
_ATTEMPTS = 5
_CHUNK = 500
"""Keys per ``IN`` list when reading nodes."""


def checkpoint_document(row: JournalCheckpoint) -> dict[str, Any]:
    """A stored checkpoint as its signed document, ``{"body", "signature"}``."""
    return {"body": json.loads(row.body), "signature": row.signature}


def latest_checkpoint(session: Session) -> JournalCheckpoint | None:
    """The checkpoint of the largest tree, or ``None`` before the first."""
    return session.scalar(
        select(JournalCheckpoint).order_by(JournalCheckpoint.tree_size.desc()).limit(1)
    )


def _leaves(session: Session, lo: int, hi: int) -> list[bytes]:
    """Leaf hashes of leaves ``[lo, hi)`` (entries ``lo + 1`` to ``hi``)."""
    rows = session.execute(
        select(JournalEntry.hash)
        .where(JournalEntry.seq > lo, JournalEntry.seq <= hi)
        .order_by(JournalEntry.seq)
    ).scalars()
    leaves = [entry_leaf(h) for h in rows]
    if len(leaves) != hi - lo:
        raise NotFoundError(f"the journal lacks entries between {lo + 1} and {hi}")
    return leaves


def _node_hashes(
    session: Session, wanted: Iterable[merkle.Piece], fresh: dict[merkle.Piece, bytes] | None = None
) -> dict[merkle.Piece, bytes]:
    """The hashes of perfect subtrees: from ``fresh``, the stored nodes, or the entries."""
    known = dict(fresh or {})
    missing = [p for p in set(wanted) if p not in known]
    stored = sorted(p for p in missing if p[0] >= STORED_LEVEL)
    for i in range(0, len(stored), _CHUNK):
        by_level: dict[int, list[int]] = {}
        for level, idx in stored[i : i + _CHUNK]:
            by_level.setdefault(level, []).append(idx)
        # one IN list per level: both stores seek the primary key (a row-value IN is
        # slower on SQLite)
        rows = session.execute(
            select(JournalNode.level, JournalNode.idx, JournalNode.hash).where(
                or_(
                    *(
                        and_(JournalNode.level == level, JournalNode.idx.in_(ids))
                        for level, ids in by_level.items()
                    )
                )
            )
        )
        known.update(((level, idx), bytes(h)) for level, idx, h in rows)
    low = sorted(p for p in missing if p[0] < STORED_LEVEL)
    if low:
        spans = [(idx << level, (idx + 1) << level) for level, idx in low]
        entries = session.execute(
            select(JournalEntry.seq, JournalEntry.hash).where(
                or_(*(and_(JournalEntry.seq > lo, JournalEntry.seq <= hi) for lo, hi in spans))
            )
        )
        leaf = {seq - 1: entry_leaf(h) for seq, h in entries}
        for (level, idx), (lo, hi) in zip(low, spans, strict=True):
            try:
                hashes = [leaf[i] for i in range(lo, hi)]
            except KeyError:
                raise NotFoundError(
                    f"the journal lacks entries between {lo + 1} and {hi}"
                ) from None
            while len(hashes) > 1:
                hashes = merkle.level_up(hashes)
            known[(level, idx)] = hashes[0]
    absent = [p for p in missing if p not in known]
    if absent:
        raise NotFoundError(f"the tree has no node {absent[0]}; make a checkpoint first")
    return known


def _extend(session: Session, old: int, new: int) -> dict[merkle.Piece, bytes]:
    """The perfect subtrees of level :data:`STORED_LEVEL` and up that a tree of ``new``
    leaves has and one of ``old`` leaves has not, hashed from the new entries (and the
    stored left siblings they pair with)."""
    start = (old >> STORED_LEVEL) << STORED_LEVEL
    current = _leaves(session, start, new)
    first = start  # index of current[0] at this level
    out: dict[merkle.Piece, bytes] = {}
    level = 0
    while True:
        if level >= STORED_LEVEL:
            for i in range(max(first, old >> level), new >> level):
                out[(level, i)] = current[i - first]
        count = (new >> (level + 1)) - (old >> (level + 1))
        if count <= 0:
            return out
        child = 2 * (old >> (level + 1))
        if child < first:  # the left sibling is an old, stored node
            current = [_node_hashes(session, [(level, child)])[(level, child)], *current]
            first = child
        offset = child - first
        current = merkle.level_up(current[offset : offset + 2 * count])
        first = child // 2
        level += 1


def _root(session: Session, size: int, fresh: dict[merkle.Piece, bytes] | None = None) -> bytes:
    pieces = merkle.pieces(0, size)
    return merkle.range_hash(0, size, _node_hashes(session, pieces, fresh))


def inclusion_proofs(session: Session, seqs: Sequence[int], size: int) -> dict[int, list[str]]:
    """Inclusion proofs (hex hashes) of entries ``seqs`` in the tree of ``size`` entries,
    read together."""
    ranges = {seq: merkle.inclusion_ranges(seq - 1, size) for seq in seqs}
    wanted = {p for rs in ranges.values() for lo, hi in rs for p in merkle.pieces(lo, hi)}
    known = _node_hashes(session, wanted)
    return {
        seq: [merkle.range_hash(lo, hi, known).hex() for lo, hi in rs] for seq, rs in ranges.items()
    }


class TransparencyLog:
    """Checkpoints (made on demand or when due) and proofs over the stored journal."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        self._lock = threading.Lock()

    def checkpoint(self) -> dict[str, Any]:
        """A checkpoint of the whole journal as it is now: a new one when entries came
        since the last, else the last."""
        with self._lock:  # the checkpointers of one process take turns
            return self._checkpoint()

    def _checkpoint(self) -> dict[str, Any]:
        for _ in range(_ATTEMPTS):
            with self._db.read() as session:
                head = session.get(JournalHead, 1)
                if head is None or head.seq < 1:
                    raise NotFoundError("the journal is empty: there is nothing to checkpoint")
                last = latest_checkpoint(session)
                old = last.tree_size if last is not None else 0
                if old >= head.seq and last is not None:
                    return checkpoint_document(last)
                size = head.seq
                fresh = _extend(session, old, size)
                root = _root(session, size, fresh)
            try:
                made = self._store(old, size, root, fresh)
            except IntegrityError:
                continue  # another replica checkpointed meanwhile: start again from it
            if made is not None:
                return made
        raise ValidationError("the journal changed under every try; ask for a checkpoint again")

    def _store(
        self, old: int, size: int, root: bytes, fresh: dict[merkle.Piece, bytes]
    ) -> dict[str, Any] | None:
        at = self._clock.now()
        with self._db.transaction() as session:
            last = latest_checkpoint(session)
            if (last.tree_size if last is not None else 0) != old:
                # another replica checkpointed meanwhile: its checkpoint does, if as large
                return checkpoint_document(last) if last and last.tree_size >= size else None
            if fresh:
                session.connection().execute(
                    insert(JournalNode),
                    [{"level": lv, "idx": i, "hash": h} for (lv, i), h in sorted(fresh.items())],
                )
            body = {
                "type": CHECKPOINT_TYPE,
                "tree_size": size,
                "root_hash": root.hex(),
                "at": at.isoformat(timespec="microseconds"),
                "key": public_key(session),
            }
            document = sign(session, body)
            session.connection().execute(
                insert(JournalCheckpoint),
                [
                    {
                        "tree_size": size,
                        "root_hash": root.hex(),
                        "at": at,
                        "body": canonical_json(body),
                        "signature": document["signature"],
                    }
                ],
            )
            parties = session.scalars(select(Party.id).order_by(Party.id)).all()
            publish_many(session, [EventDraft(p, CHECKPOINT_EVENT, document, at) for p in parties])
        return document

    def run_once(self, now: datetime, every_s: float) -> dict[str, Any] | None:
        """A checkpoint when the last is ``every_s`` seconds old (or there is none) and
        entries came since; otherwise nothing."""
        if every_s <= 0:
            return None
        with self._db.read() as session:
            head = session.get(JournalHead, 1)
            last = latest_checkpoint(session)
            since = (
                last.at
                if last is not None
                else session.scalar(select(JournalEntry.at).where(JournalEntry.seq == 1))
            )
            grown = head is not None and head.seq > (last.tree_size if last is not None else 0)
        if not grown or since is None or now - since < timedelta(seconds=every_s):
            return None
        return self.checkpoint()

    def checkpoints(self, after: int = 0, limit: int = 100) -> list[dict[str, Any]]:
        """Checkpoints of trees larger than ``after`` entries, smallest first."""
        with self._db.read() as session:
            rows = session.scalars(
                select(JournalCheckpoint)
                .where(JournalCheckpoint.tree_size > after)
                .order_by(JournalCheckpoint.tree_size)
                .limit(limit)
            )
            return [checkpoint_document(r) for r in rows]

    def latest(self) -> dict[str, Any]:
        """The last checkpoint; NotFoundError before the first."""
        with self._db.read() as session:
            last = latest_checkpoint(session)
            if last is None:
                raise NotFoundError("no checkpoint yet; POST /v1/journal/checkpoints makes one")
            return checkpoint_document(last)

    def _size(self, session: Session, size: int | None) -> JournalCheckpoint:
        query = select(JournalCheckpoint)
        if size is None:
            row = latest_checkpoint(session)
        else:
            row = session.scalar(query.where(JournalCheckpoint.tree_size == size))
        if row is None:
            raise NotFoundError(
                "no checkpoint of that size; list them at GET /v1/journal/checkpoints"
                if size is not None
                else "no checkpoint yet; POST /v1/journal/checkpoints makes one"
            )
        return row

    def inclusion(self, seq: int, size: int | None = None) -> dict[str, Any]:
        """The proof that entry ``seq`` is in the checkpoint of ``size`` entries (the
        latest by default), with that checkpoint."""
        with self._db.read() as session:
            row = self._size(session, size)
            if not 1 <= seq <= row.tree_size:
                raise ValidationError(
                    f"entry {seq} is not in the checkpoint of {row.tree_size} entries; ask "
                    "for a later checkpoint (POST /v1/journal/checkpoints)"
                )
            entry_hash = session.scalar(select(JournalEntry.hash).where(JournalEntry.seq == seq))
            proof = inclusion_proofs(session, [seq], row.tree_size)[seq]
            return {
                "seq": seq,
                "entry_hash": entry_hash,
                "tree_size": row.tree_size,
                "proof": proof,
                "checkpoint": checkpoint_document(row),
            }

    def consistency(self, first: int, second: int | None = None) -> dict[str, Any]:
        """The proof that the checkpoint of ``first`` entries is a prefix of that of
        ``second`` (the latest by default), with both checkpoints."""
        with self._db.read() as session:
            new = self._size(session, second)
            old = self._size(session, first)
            if old.tree_size > new.tree_size:
                raise ValidationError(
                    f"first ({old.tree_size}) must not be larger than second ({new.tree_size})"
                )
            ranges = merkle.consistency_ranges(old.tree_size, new.tree_size)
            wanted = {p for lo, hi in ranges for p in merkle.pieces(lo, hi)}
            known = _node_hashes(session, wanted)
            return {
                "first": old.tree_size,
                "second": new.tree_size,
                "proof": [merkle.range_hash(lo, hi, known).hex() for lo, hi in ranges],
                "checkpoints": [checkpoint_document(old), checkpoint_document(new)],
            }

    def prove_receipts(self, receipts: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The receipts, each with ``log``: the latest checkpoint and the proof that its
        journal entry is in it (``None`` while no checkpoint covers the entry yet)."""
        with self._db.read() as session:
            last = latest_checkpoint(session)
            size = last.tree_size if last is not None else 0
            seqs = sorted({r["body"]["journal"]["seq"] for r in receipts} & set(range(1, size + 1)))
            proofs = inclusion_proofs(session, seqs, size) if seqs else {}
            document = checkpoint_document(last) if last is not None else None
        out = []
        for receipt in receipts:
            proof = proofs.get(receipt["body"]["journal"]["seq"])
            log = None if proof is None else {"checkpoint": document, "proof": proof}
            out.append({**receipt, "log": log})
        return out

    def prove_export(self, export: dict[str, Any]) -> dict[str, Any]:
        """The export with ``log``: a checkpoint covering all of it (made now if need be)
        and each entry's inclusion proof in it."""
        document = self.checkpoint()
        size = int(document["body"]["tree_size"])
        seqs = [e["seq"] for e in export["entries"] if e["seq"] <= size]
        with self._db.read() as session:
            proofs = inclusion_proofs(session, seqs, size) if seqs else {}
        log = {"checkpoint": document, "proofs": {str(s): p for s, p in proofs.items()}}
        return {**export, "log": log}

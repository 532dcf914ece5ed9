"""Idempotency keys: a retried request gets the first answer; a reused key is refused.

A first answer is kept for ``Settings.idempotency_ttl_s`` (a day by default): the
scheduler forgets older ones (:func:`forget_expired`), and their keys may be used afresh.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from deconfliction.errors import IdempotencyKeyReusedError
from deconfliction.journal.chain import lock_head
from deconfliction.store.database import Database
from deconfliction.store.schema import IdempotencyRecord

__all__ = ["first_response", "forget_expired"]


def first_response(
    session: Session, party_id: int, key: str, digest: str, what: str
) -> dict[str, Any] | None:
    """What was stored for the party's first request with ``key``, or ``None`` if it is new.

    ``digest`` identifies the request; the same key with another request is refused,
    ``what`` naming what a new key would be for ("filing", "message").
    """
    record = session.get(IdempotencyRecord, (party_id, key))
    if record is None:
        return None
    if record.request_hash != digest:
        raise IdempotencyKeyReusedError(
            f"Idempotency-Key {key!r} was used for a different request; "
            f"use a new key for a new {what}"
        )
    response: dict[str, Any] = json.loads(record.response)
    return response


def forget_expired(db: Database, before: datetime) -> int:
    """Forget the first answers recorded before ``before``; returns how many.

    A look on the ``created_at`` index comes first, so a run with nothing to forget
    takes no write lock; forgetting takes the journal head's lock, as every request
    that looks its key up does, so none finds a key that is gone before it is done.
    """
    expired = IdempotencyRecord.created_at < before
    with db.read() as session:
        if session.execute(select(IdempotencyRecord.key).where(expired).limit(1)).first() is None:
            return 0
    with db.transaction() as session:
        lock_head(session)  # a retry that found its key finishes before the key goes
        return session.connection().execute(delete(IdempotencyRecord).where(expired)).rowcount

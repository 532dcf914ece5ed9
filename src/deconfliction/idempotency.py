"""Idempotency keys: a retried request gets the first answer; a reused key is refused."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from deconfliction.errors import IdempotencyKeyReusedError
from deconfliction.store.schema import IdempotencyRecord

__all__ = ["first_response"]


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

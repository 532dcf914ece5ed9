"""Publishing events: one outbox row per party that must see a change, in its transaction.

Each party's events are numbered 1, 2, 3, ... without gaps: the number comes from the
party row's counter, incremented under that row's write lock, so concurrent
transactions on any backend get distinct, ordered numbers. Streams read the rows (the
source of truth) and are only woken by the parties recorded in ``session.info``, which
:class:`~deconfliction.store.database.Database` hands to its commit listeners.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from deconfliction.store.schema import Event, Party

__all__ = ["PUBLISHED_KEY", "publish"]

PUBLISHED_KEY = "deconfliction.published_parties"
"""Key in ``Session.info``: the set of party ids that got an event in this transaction."""


def publish(
    session: Session,
    *,
    party_id: int,
    kind: str,
    payload: Mapping[str, Any],
    at: datetime,
    item_id: str | None = None,
) -> int:
    """Add one event for ``party_id`` and return its sequence number."""
    seq = session.execute(
        update(Party)
        .where(Party.id == party_id)
        .values(event_seq=Party.event_seq + 1)
        .returning(Party.event_seq)
    ).scalar_one()
    session.add(
        Event(
            party_id=party_id,
            seq=seq,
            kind=kind,
            item_id=item_id,
            payload=json.dumps(payload, separators=(",", ":")),
            created_at=at,
        )
    )
    session.info.setdefault(PUBLISHED_KEY, set()).add(party_id)
    return int(seq)

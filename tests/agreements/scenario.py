"""What the agreement, lifecycle and escalation tests share: services on one store and
clock, volumes hours after T0, and readers of the events and journal a party got."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from deconfliction.agreements.service import AgreementService
from deconfliction.agreements.terms import Terms
from deconfliction.alerts import AlertService
from deconfliction.clock import ManualClock
from deconfliction.core.footprint import Footprint
from deconfliction.core.volume import Volume4D
from deconfliction.hotline.escalation import Escalation
from deconfliction.notices.lifecycle import NoticeLifecycle
from deconfliction.notices.model import NoticeDraft
from deconfliction.notices.service import NoticeService
from deconfliction.parties import PartyRef
from deconfliction.settings import Settings
from deconfliction.store.database import Database
from deconfliction.store.schema import Event, JournalEntry
from tests.conftest import T0
from tests.zoo import box

__all__ = ["EAST", "FAR", "WEST", "World", "draft", "vol"]

WEST = box(8.0, 47.0, 0.4, 0.3)
EAST = box(8.2, 47.1, 0.4, 0.4)  # overlaps WEST on [8.2, 8.4] x [47.1, 47.3]
FAR = box(9.5, 46.0, 0.2, 0.2)


def vol(footprint: Footprint, start_h: float = 2.0, end_h: float = 4.0) -> Volume4D:
    """0-3,000 m over ``footprint``, from ``start_h`` to ``end_h`` hours after T0."""
    return Volume4D(
        footprint, 0.0, 3000.0, T0 + timedelta(hours=start_h), T0 + timedelta(hours=end_h)
    )


def draft(*volumes: Volume4D, title: str = "") -> NoticeDraft:
    return NoticeDraft(volumes=volumes, title=title)


@dataclass
class World:
    """Every service of the mechanism on one store and one manual clock."""

    db: Database
    clock: ManualClock
    settings: Settings

    def __post_init__(self) -> None:
        self.agreements = AgreementService(self.db, self.clock)
        self.notices = NoticeService(self.db, self.clock, self.settings)
        self.alerts = AlertService(self.db, self.clock)
        self.lifecycle = NoticeLifecycle(self.db, self.clock)
        self.escalation = Escalation(self.db, self.clock)

    def agree(self, a: PartyRef, b: PartyRef, **terms: Any) -> Terms:
        """Set the agreement of ``a`` and ``b`` from terms JSON keys."""
        return self.agreements.set(a.name, b.name, Terms.from_json(terms)).terms

    def after(self, **delta: float) -> None:
        """Move the clock on and run the scheduler once, as the service would."""
        self.clock.advance(timedelta(**delta))
        self.lifecycle.run_once()
        self.escalation.run_once()

    def events(self, party: PartyRef, kind: str | None = None) -> list[dict[str, Any]]:
        """The party's events (optionally of one kind), in order, as payloads with
        ``_kind`` and ``_seq`` added."""
        with self.db.read() as session:
            query = select(Event).where(Event.party_id == party.id).order_by(Event.seq)
            if kind is not None:
                query = query.where(Event.kind == kind)
            return [
                {**json.loads(e.payload), "_kind": e.kind, "_seq": e.seq}
                for e in session.scalars(query)
            ]

    def journal(self, kind: str) -> list[dict[str, Any]]:
        """Journal entries of one kind: payloads with ``_party`` and ``_subject``."""
        with self.db.read() as session:
            rows = session.scalars(
                select(JournalEntry).where(JournalEntry.kind == kind).order_by(JournalEntry.seq)
            )
            return [
                {**json.loads(r.payload), "_party": r.party, "_subject": r.subject} for r in rows
            ]

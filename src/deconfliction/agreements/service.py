"""Agreements between two parties: set by an administrator, read by both, used by the services.

One row per pair (the lower party id first); every change counts a new ``version``, is
journaled (``agreement.updated``) and reaches both parties as an ``agreement.updated``
event. A third party cannot see an agreement: asking for it reads as not found.

The functions below the service read agreements inside another service's transaction:
:func:`counterparts` (every agreement of one party), :func:`terms_between` and
:func:`ack_deadline` (the deadline for acknowledging an item between two parties);
:class:`AgreedDeadlines` is that deadline as the hotline's ``DeadlinePolicy``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session, aliased

from deconfliction.agreements.terms import AckDeadlines, Priority, Terms
from deconfliction.clock import Clock
from deconfliction.delivery.outbox import publish
from deconfliction.errors import NotFoundError, SignatureRequiredError, ValidationError
from deconfliction.journal.chain import append, lock_head
from deconfliction.parties import PartyRef, Role
from deconfliction.store.database import Database
from deconfliction.store.schema import Agreement, Party

__all__ = [
    "AgreedDeadlines",
    "AgreementService",
    "AgreementView",
    "Counterpart",
    "ack_deadline",
    "agreement_document",
    "check_signed",
    "counterparts",
    "signature_required",
    "terms_between",
]


@dataclass(frozen=True)
class AgreementView:
    """An agreement: its two parties (lower id first), version, terms and times (UTC)."""

    parties: tuple[str, str]
    version: int
    terms: Terms
    created_at: datetime
    updated_at: datetime

    def counterpart_of(self, name: str) -> str:
        """The other party's name."""
        return self.parties[1] if self.parties[0] == name else self.parties[0]

    @property
    def label(self) -> str:
        """How messages name it, e.g. ``agreement of Alpha and Bravo (version 2)``."""
        return f"agreement of {self.parties[0]} and {self.parties[1]} (version {self.version})"


@dataclass(frozen=True)
class Counterpart:
    """One agreement as seen from one of its parties: the other party and the terms."""

    party_id: int
    name: str
    role: Role
    version: int
    terms: Terms
    label: str


@dataclass(frozen=True)
class AgreedDeadlines:
    """Deadlines for hotline messages from the two parties' agreement (the message
    service's ``DeadlinePolicy``): :func:`ack_deadline` with these defaults."""

    defaults: AckDeadlines

    def __call__(
        self, session: Session, sender: PartyRef, recipient_id: int, priority: str, at: datetime
    ) -> datetime:
        return ack_deadline(session, recipient_id, sender.id, priority, at, self.defaults)


def _pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


_A = aliased(Party)
_B = aliased(Party)
_COUNTERPARTS = (
    select(
        Agreement.version,
        Agreement.terms,
        Agreement.created_at,
        Agreement.updated_at,
        _A.id,
        _A.name,
        _A.role,
        _B.id,
        _B.name,
        _B.role,
    )
    .join(_A, _A.id == Agreement.party_a_id)
    .join(_B, _B.id == Agreement.party_b_id)
    .where(
        or_(Agreement.party_a_id == bindparam("party"), Agreement.party_b_id == bindparam("party"))
    )
)


def counterparts(session: Session, party_id: int) -> dict[int, Counterpart]:
    """Every agreement of ``party_id``, by the other party's id (one Core query: every
    filing asks)."""
    found: dict[int, Counterpart] = {}
    rows = session.connection().execute(_COUNTERPARTS, {"party": party_id})
    for version, terms, created, updated, a_id, a_name, a_role, b_id, b_name, b_role in rows:
        view = AgreementView(
            (a_name, b_name), version, Terms.from_json(json.loads(terms)), created, updated
        )
        mine_first = a_id == party_id
        other_id, other_name, other_role = (
            (b_id, b_name, b_role) if mine_first else (a_id, a_name, a_role)
        )
        found[other_id] = Counterpart(
            party_id=other_id,
            name=other_name,
            role=Role(other_role),
            version=view.version,
            terms=view.terms,
            label=view.label,
        )
    return found


def terms_between(session: Session, party_id: int, other_id: int) -> Terms | None:
    """The terms two parties agreed, or ``None`` when they have no agreement."""
    a, b = _pair(party_id, other_id)
    text = session.execute(
        select(Agreement.terms).where(Agreement.party_a_id == a, Agreement.party_b_id == b)
    ).scalar_one_or_none()
    return None if text is None else Terms.from_json(json.loads(text))


def ack_deadline(
    session: Session,
    party_id: int,
    counterpart_id: int,
    priority: str,
    now: datetime,
    defaults: AckDeadlines,
) -> datetime:
    """When an item of ``priority`` that ``counterpart_id`` sent ``party_id`` (or the other
    way round: terms are per pair) must be acknowledged: ``now`` plus the agreement's
    deadline for that priority, or ``defaults``' when the two have no agreement."""
    terms = terms_between(session, party_id, counterpart_id)
    deadlines = defaults if terms is None else terms.ack_deadlines
    return now + timedelta(seconds=deadlines.for_priority(Priority.parse(priority)))


class AgreementService:
    """Setting agreements (an administrator's job) and reading them (each party its own)."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def set(self, first: str, second: str, terms: Terms) -> AgreementView:
        """Create the agreement of two parties, or replace its terms (a new version)."""
        if first == second:
            raise ValidationError(f"an agreement needs two different parties, not {first!r} twice")
        now = self._clock.now()
        with self._db.transaction() as session:
            lock_head(session)
            parties = {p.name: p for p in (_by_name(session, first), _by_name(session, second))}
            low, high = sorted(parties.values(), key=lambda p: p.id)
            row = session.execute(
                select(Agreement).where(
                    Agreement.party_a_id == low.id, Agreement.party_b_id == high.id
                )
            ).scalar_one_or_none()
            text = json.dumps(terms.to_json(), sort_keys=True)
            if row is None:
                row = Agreement(
                    party_a_id=low.id,
                    party_b_id=high.id,
                    version=1,
                    terms=text,
                    created_at=now,
                    updated_at=now,
                )
                session.add(row)
            else:
                row.version += 1
                row.terms = text
                row.updated_at = now
            session.flush()
            view = _view(row, low.name, high.name)
            payload = agreement_document(view)
            append(
                session,
                at=now,
                kind="agreement.updated",
                payload=payload,
            )
            for party in (low, high):
                publish(
                    session, party_id=party.id, kind="agreement.updated", at=now, payload=payload
                )
            return view

    def all(self) -> list[AgreementView]:
        """Every agreement (for administrators), by the parties' names."""
        with self._db.read() as session:
            return sorted(_views(session, None), key=lambda v: v.parties)

    def of(self, party: PartyRef) -> list[AgreementView]:
        """The agreements ``party`` is a party to, by counterpart name."""
        with self._db.read() as session:
            views = _views(session, party.id)
        return sorted(views, key=lambda v: v.counterpart_of(party.name))

    def between(self, party: PartyRef, counterpart: str) -> AgreementView:
        """The agreement of ``party`` with ``counterpart``; none (or a stranger) is 404."""
        for view in self.of(party):
            if view.counterpart_of(party.name) == counterpart:
                return view
        raise NotFoundError(
            f"party {party.name!r} has no agreement with {counterpart!r}; "
            "agreements are set by an administrator (deconfliction agreement set)"
        )

    def get(self, first: str, second: str) -> AgreementView | None:
        """The agreement of two parties by name (for administrators), or ``None``."""
        with self._db.read() as session:
            a, b = _by_name(session, first), _by_name(session, second)
            low, high = sorted((a, b), key=lambda p: p.id)
            row = session.execute(
                select(Agreement).where(
                    Agreement.party_a_id == low.id, Agreement.party_b_id == high.id
                )
            ).scalar_one_or_none()
            return None if row is None else _view(row, low.name, high.name)


def agreement_document(view: AgreementView) -> dict[str, Any]:
    """An agreement as JSON (events, journal)."""
    return {
        "parties": list(view.parties),
        "version": view.version,
        "terms": view.terms.to_json(),
        "created_at": view.created_at.isoformat(),
        "updated_at": view.updated_at.isoformat(),
    }


def _view(row: Agreement, first: str, second: str) -> AgreementView:
    return AgreementView(
        parties=(first, second),
        version=row.version,
        terms=Terms.from_json(json.loads(row.terms)),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _views(session: Session, party_id: int | None) -> list[AgreementView]:
    a = aliased(Party)
    b = aliased(Party)
    query = (
        select(Agreement, a.name, b.name)
        .join(a, a.id == Agreement.party_a_id)
        .join(b, b.id == Agreement.party_b_id)
    )
    if party_id is not None:
        query = query.where(or_(Agreement.party_a_id == party_id, Agreement.party_b_id == party_id))
    return [_view(row, first, second) for row, first, second in session.execute(query)]


def _by_name(session: Session, name: str) -> Party:
    party = session.execute(select(Party).where(Party.name == name)).scalar_one_or_none()
    if party is None:
        raise NotFoundError(f"no party named {name!r}; list them with 'deconfliction party list'")
    return party


def signature_required(names: Iterable[str]) -> SignatureRequiredError:
    """The refusal of an unsigned statement toward the parties ``names``, whose
    agreements require signatures."""
    return SignatureRequiredError(
        f"your agreement with {', '.join(sorted(names))} requires your filings, "
        "acknowledgments and messages to be signed: sign the request (RFC 9421) with a "
        "key you registered at POST /v1/parties/me/keys"
    )


def check_signed(session: Session, party: PartyRef, others: Iterable[int]) -> None:
    """Refuse (``signature-required``) an unsigned statement of ``party`` toward
    ``others`` (party ids) when one of their agreements requires signatures."""
    if party.signature is not None:
        return
    required = []
    for other in set(others):
        terms = terms_between(session, party.id, other)
        if terms is not None and terms.require_signed:
            required.append(str(session.scalar(select(Party.name).where(Party.id == other))))
    if required:
        raise signature_required(required)

"""The notice lifecycle, driven by the injected clock and by other parties' decisions.

::

    filed ── every required acknowledgment / approval given ──> acknowledged
    filed, acknowledged ── start time, nothing missing ──────> active
    filed, acknowledged ── start time, something missing ────> (stays) activation.blocked
    filed, acknowledged, active ── end time ─────────────────> closed
    filed, acknowledged, active ── cancelled by its filer ───> cancelled
    acknowledged ── modified by its filer (asked again) ─────> filed

A notice that needs nothing from anyone goes from ``filed`` to ``active`` at its start.
What a notice needs is fixed when it is filed or modified (see ``notices.service``):

* an **acknowledgment** from each counterpart whose agreement with the filer sets
  ``activation_requires_acknowledgment``;
* an **approval** from each authority whose areas it enters, when their agreement sets
  ``authority_approval_required``. *Inside an authority's areas* means: the notice
  conflicts (with the pair's buffers) with a live notice of that authority, since
  authorities file their standing areas as notices.

Decisions stand until the filer modifies the notice (which asks again). When a
notice's start comes with something missing or rejected, it stays where it is and an
``activation.blocked`` event goes, once, to its filer and to every party whose decision
is missing; it activates as soon as the last decision comes in, if its window is still
open. Every transition is journaled (``notice.state_changed``) and published to the
filer, its agreement counterparts and every party asked to decide.

:meth:`NoticeLifecycle.run_once` applies what the clock has made due; the API runs it
every ``Settings.tick_s``, tests call it after moving a ``ManualClock``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from deconfliction.agreements.service import check_signed, counterparts
from deconfliction.alerts import publish_alert
from deconfliction.clock import Clock
from deconfliction.delivery.outbox import publish
from deconfliction.errors import (
    InvalidStateError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from deconfliction.journal.chain import append, lock_head
from deconfliction.notices.model import (
    ApprovalKind,
    ApprovalState,
    ApprovalView,
    Decision,
    EscalationState,
    NoticeState,
)
from deconfliction.parties import PartyRef, Role, signed
from deconfliction.store.database import Database
from deconfliction.store.schema import (
    Alert,
    Conflict,
    Notice,
    NoticeApproval,
    Party,
    Volume,
    VolumeCell,
)

__all__ = [
    "BATCH",
    "LifecycleReport",
    "NoticeLifecycle",
    "approval_views",
    "change_state",
    "request_decisions",
    "withdraw",
]

BATCH = 500
"""Notices handled per transaction of :meth:`NoticeLifecycle.run_once`."""

MAX_REASON = 2_000
_LIVE = tuple(s.value for s in NoticeState if s.is_live)
_WAITING = (NoticeState.FILED.value, NoticeState.ACKNOWLEDGED.value)


@dataclass(frozen=True)
class LifecycleReport:
    """What one run did: notices activated, blocked (told once) and closed."""

    activated: int = 0
    blocked: int = 0
    closed: int = 0


def approval_views(session: Session, notice_id: str) -> tuple[ApprovalView, ...]:
    """What a notice needs or got from other parties, by party name."""
    rows = session.execute(
        select(NoticeApproval, Party.name)
        .join(Party, Party.id == NoticeApproval.party_id)
        .where(NoticeApproval.notice_id == notice_id)
        .order_by(Party.name, NoticeApproval.kind)
    )
    return tuple(_approval_view(row, name) for row, name in rows)


def _approval_view(row: NoticeApproval, party: str) -> ApprovalView:
    return ApprovalView(
        notice_id=row.notice_id,
        party=party,
        kind=ApprovalKind(row.kind),
        state=ApprovalState(row.state),
        reason=row.reason,
        requested_at=row.requested_at,
        decided_at=row.decided_at,
    )


def request_decisions(
    session: Session,
    notice: Notice,
    needed: set[tuple[int, ApprovalKind]],
    now: datetime,
) -> None:
    """Ask for exactly ``needed`` (party id, kind): new requests, earlier ones asked again
    (a modified notice is a new question), ones no longer needed dropped."""
    existing = {
        (row.party_id, ApprovalKind(row.kind)): row
        for row in session.scalars(
            select(NoticeApproval).where(NoticeApproval.notice_id == notice.id)
        )
    }
    for key, row in existing.items():
        if key not in needed:
            session.delete(row)
    for party_id, kind in needed:
        asked = existing.get((party_id, kind))
        if asked is None:
            session.add(
                NoticeApproval(
                    notice_id=notice.id,
                    party_id=party_id,
                    kind=kind.value,
                    state=ApprovalState.PENDING.value,
                    requested_at=now,
                )
            )
        else:
            asked.state, asked.reason, asked.decided_at = ApprovalState.PENDING.value, None, None
            asked.requested_at = now
    session.flush()


def audience(session: Session, notice: Notice) -> set[int]:
    """Who hears of a notice's state changes: its filer, the filer's agreement
    counterparts and every party asked to acknowledge or approve it."""
    ids = {notice.party_id, *counterparts(session, notice.party_id)}
    ids.update(
        session.scalars(
            select(NoticeApproval.party_id).where(NoticeApproval.notice_id == notice.id)
        )
    )
    return ids


def change_state(
    session: Session, notice: Notice, state: NoticeState, now: datetime, reason: str
) -> None:
    """Move a notice to ``state``: journaled, and published to its :func:`audience`."""
    before = notice.state
    notice.state = state.value
    filer = _filer(session, notice)
    payload = {
        "notice": notice.id,
        "party": filer,
        "version": notice.version,
        "from": before,
        "to": state.value,
        "reason": reason,
        "start": notice.starts_at.isoformat(),
        "end": notice.ends_at.isoformat(),
    }
    append(
        session,
        at=now,
        kind="notice.state_changed",
        party=filer,
        subject=notice.id,
        payload=payload,
    )
    for party_id in sorted(audience(session, notice)):
        publish(
            session,
            party_id=party_id,
            kind="notice.state_changed",
            at=now,
            item_id=notice.id,
            payload=payload,
        )


def withdraw(session: Session, notice: Notice, party: str, now: datetime, reason: str) -> None:
    """Take a notice's volumes out of the index and resolve its open conflicts (both
    sides' alerts resolve; a modified notice's old volumes are deleted)."""
    volume_ids = select(Volume.id).where(Volume.notice_id == notice.id)
    session.execute(delete(VolumeCell).where(VolumeCell.volume_id.in_(volume_ids)))
    if reason == "modified":
        session.execute(delete(Volume).where(Volume.notice_id == notice.id))
    open_conflicts = list(
        session.scalars(
            select(Conflict).where(
                Conflict.state == "open",
                (Conflict.a_notice_id == notice.id) | (Conflict.b_notice_id == notice.id),
            )
        )
    )
    for conflict in open_conflicts:
        conflict.state = "resolved"
        conflict.resolved_at = now
        for alert in session.scalars(select(Alert).where(Alert.conflict_id == conflict.id)):
            alert.state = "resolved"
            if EscalationState(alert.escalation_state).is_pending:
                alert.escalation_state = EscalationState.STOPPED.value
            publish_alert(session, alert, "alert.resolved", now)
        append(
            session,
            at=now,
            kind="conflict.resolved",
            party=party,
            subject=conflict.id,
            payload={"conflict": conflict.id, "reason": reason, "notice": notice.id},
        )


def settle(session: Session, notice: Notice, now: datetime) -> NoticeState | None:
    """Apply every transition now due to one notice; returns the state it reached by a
    transition (``None`` when nothing changed)."""
    state = NoticeState(notice.state)
    if not state.is_live:
        return None
    if notice.ends_at <= now:
        withdraw(session, notice, _filer(session, notice), now, reason="closed")
        why = (
            "its window ended"
            if state == NoticeState.ACTIVE
            else ("its window ended before it could activate")
        )
        change_state(session, notice, NoticeState.CLOSED, now, why)
        return NoticeState.CLOSED
    rows = list(
        session.scalars(select(NoticeApproval).where(NoticeApproval.notice_id == notice.id))
    )
    missing = [r for r in rows if not ApprovalState(r.state).is_given]
    reached: NoticeState | None = None
    if state == NoticeState.FILED and rows and not missing:
        change_state(
            session,
            notice,
            NoticeState.ACKNOWLEDGED,
            now,
            "every required acknowledgment and approval is in",
        )
        state = reached = NoticeState.ACKNOWLEDGED
    if state == NoticeState.ACTIVE or notice.starts_at > now:
        return reached
    if not missing:
        change_state(session, notice, NoticeState.ACTIVE, now, "its start time came")
        return NoticeState.ACTIVE
    if notice.activation_blocked_at is None:
        notice.activation_blocked_at = now
        _blocked(session, notice, missing, now)
    return reached


def _blocked(
    session: Session, notice: Notice, missing: list[NoticeApproval], now: datetime
) -> None:
    query = select(Party.id, Party.name).where(Party.id.in_({r.party_id for r in missing}))
    names = dict(session.execute(query).all())
    filer = _filer(session, notice)
    payload: dict[str, Any] = {
        "notice": notice.id,
        "party": filer,
        "version": notice.version,
        "start": notice.starts_at.isoformat(),
        "missing": [
            {"party": names[r.party_id], "kind": r.kind, "state": r.state, "reason": r.reason}
            for r in sorted(missing, key=lambda r: (names[r.party_id], r.kind))
        ],
    }
    append(
        session, at=now, kind="activation.blocked", party=filer, subject=notice.id, payload=payload
    )
    for party_id in sorted({notice.party_id, *names}):
        publish(
            session,
            party_id=party_id,
            kind="activation.blocked",
            at=now,
            item_id=notice.id,
            payload=payload,
        )


def _filer(session: Session, notice: Notice) -> str:
    party = session.get(Party, notice.party_id)
    assert party is not None
    return party.name


class NoticeLifecycle:
    """Counterparts' acknowledgments, authorities' approvals, and the clock's transitions."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def acknowledge(self, party: PartyRef, notice_id: str) -> Decision:
        """Acknowledge a notice delivered to ``party`` under an agreement requiring it;
        acknowledging again changes nothing."""
        return self._decide(
            party, notice_id, ApprovalKind.ACKNOWLEDGMENT, ApprovalState.ACKNOWLEDGED
        )

    def approve(self, party: PartyRef, notice_id: str) -> Decision:
        """Approve, as an authority, a notice inside its areas; again changes nothing."""
        self._check_authority(party, "approve")
        return self._decide(party, notice_id, ApprovalKind.APPROVAL, ApprovalState.APPROVED)

    def reject(self, party: PartyRef, notice_id: str, reason: str) -> Decision:
        """Reject, as an authority, a notice inside its areas, saying why; it cannot
        activate until its filer modifies it (which asks again)."""
        self._check_authority(party, "reject")
        if not reason.strip():
            raise ValidationError("a rejection needs a reason the filer can act on")
        if len(reason) > MAX_REASON:
            raise ValidationError(f"the reason is longer than {MAX_REASON} characters; shorten it")
        return self._decide(
            party, notice_id, ApprovalKind.APPROVAL, ApprovalState.REJECTED, reason.strip()
        )

    def run_once(self, now: datetime | None = None) -> LifecycleReport:
        """Activate and close what the clock has made due (at most :data:`BATCH` notices;
        the next run takes the rest)."""
        now = self._clock.now() if now is None else now
        with self._db.read() as session:
            if not self._due(session, now):
                return LifecycleReport()
        counts = {NoticeState.ACTIVE: 0, NoticeState.CLOSED: 0}
        blocked = 0
        with self._db.transaction() as session:
            lock_head(session)  # a filer's cancel or modify cannot interleave
            for notice_id in self._due(session, now):
                notice = session.get(Notice, notice_id)
                assert notice is not None
                was_blocked = notice.activation_blocked_at is not None
                reached = settle(session, notice, now)
                if reached in counts:
                    counts[reached] += 1
                elif notice.activation_blocked_at is not None and not was_blocked:
                    blocked += 1
        return LifecycleReport(counts[NoticeState.ACTIVE], blocked, counts[NoticeState.CLOSED])

    @staticmethod
    def _due(session: Session, now: datetime) -> list[str]:
        query = (
            select(Notice.id)
            .where(
                or_(
                    and_(
                        Notice.state.in_(_WAITING),
                        Notice.starts_at <= now,
                        Notice.activation_blocked_at.is_(None),
                    ),
                    and_(Notice.state.in_(_LIVE), Notice.ends_at <= now),
                )
            )
            .order_by(Notice.starts_at, Notice.id)
            .limit(BATCH)
        )
        return list(session.scalars(query))

    @staticmethod
    def _check_authority(party: PartyRef, verb: str) -> None:
        if party.role != Role.AUTHORITY:
            raise PermissionDeniedError(
                f"party {party.name!r} is an {party.role.value}; only an authority may {verb} "
                "notices inside its areas (acknowledge notices with /acknowledge)"
            )

    def _decide(
        self,
        party: PartyRef,
        notice_id: str,
        kind: ApprovalKind,
        decision: ApprovalState,
        reason: str | None = None,
    ) -> Decision:
        now = self._clock.now()
        with self._db.transaction() as session:
            lock_head(session)
            row = session.get(NoticeApproval, (notice_id, party.id, kind.value))
            notice = session.get(Notice, notice_id)
            if row is None or notice is None:
                raise NotFoundError(
                    f"no notice {notice_id!r} awaits {kind.value} by party {party.name!r}; "
                    f"only notices delivered to you under an agreement that requires your "
                    f"{kind.value} can be decided"
                )
            if row.state == decision.value:
                return Decision(_approval_view(row, party.name), NoticeState(notice.state))
            if row.state != ApprovalState.PENDING.value:
                raise InvalidStateError(
                    f"notice {notice_id} is already {row.state} by {party.name}; a decision "
                    "stands until its filer modifies the notice, which asks again"
                )
            if not NoticeState(notice.state).is_live:
                raise InvalidStateError(
                    f"notice {notice_id} is {notice.state}; there is nothing left to decide"
                )
            check_signed(session, party, [notice.party_id])
            row.state, row.reason, row.decided_at = decision.value, reason, now
            view = _approval_view(row, party.name)
            payload = {
                "notice": notice.id,
                "party": party.name,
                "kind": kind.value,
                "state": decision.value,
                "reason": reason,
                "version": notice.version,
            }
            append(
                session,
                at=now,
                kind="notice.decision",
                party=party.name,
                subject=notice.id,
                payload=signed(payload, party),
            )
            for party_id in sorted({notice.party_id, party.id}):
                publish(
                    session,
                    party_id=party_id,
                    kind="notice.decision",
                    at=now,
                    item_id=notice.id,
                    payload=payload,
                )
            settle(session, notice, now)
            return Decision(view, NoticeState(notice.state))

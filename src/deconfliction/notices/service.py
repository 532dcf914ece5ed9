"""Filing, reading, modifying and cancelling notices; the strategic conflict search.

One transaction writes the notice, its volumes and cells, the conflicts found, an
alert for each side of each conflict, the events and the journal entries, so a filing
is whole or absent. Every write transaction takes the journal head's lock first, so
filings, modifications and cancellations serialise and each one's search sees every
notice committed before it, on every backend.

Only the filer sees its notice. A party with no agreement with the filer learns of it
only through its alert (the overlap, the time window and the filer's name). A party
with an agreement (see ``agreements.policy``) also gets a ``notice.filed`` (or
``notice.modified``) event: filer, notice id, window, measured lead time, whether it
is short notice (then at ``flash``), what the agreement asks of it, and with ``full``
visibility the notice's volumes and title.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from deconfliction.agreements.policy import FilingPolicy
from deconfliction.agreements.terms import ANONYMOUS_COUNTERPART, Disclosure, Visibility
from deconfliction.alerts import NewAlert, alert_event, conflict_view
from deconfliction.clock import Clock
from deconfliction.core.outline import geojson, told_outline
from deconfliction.core.volume import Buffers, Volume4D
from deconfliction.delivery.outbox import publish, publish_many
from deconfliction.disclosure import Coarsening
from deconfliction.errors import (
    FloorNotStandingError,
    InvalidStateError,
    NotFoundError,
    PermissionDeniedError,
    StaleVersionError,
    ValidationError,
)
from deconfliction.idempotency import first_response
from deconfliction.journal.chain import append, append_many, lock_head
from deconfliction.jsontext import RawJSON, canonical_json
from deconfliction.limits import Limits, PartyLimits
from deconfliction.notices.cells import coverings
from deconfliction.notices.lifecycle import (
    approval_views,
    change_state,
    request_decisions,
    withdraw,
)
from deconfliction.notices.model import (
    ApprovalKind,
    ApprovalView,
    ConflictView,
    EscalationState,
    FilingResult,
    NoticeDraft,
    NoticeState,
    NoticeView,
)
from deconfliction.notices.reach import check_active, check_volumes, check_window
from deconfliction.notices.search import (
    Match,
    find_conflicts,
    index_rows,
    volume_from_row,
    volume_values,
)
from deconfliction.parties import PartyRef, Role, signed
from deconfliction.settings import Settings
from deconfliction.store.database import Database
from deconfliction.store.schema import (
    Alert,
    Conflict,
    IdempotencyRecord,
    Notice,
    Party,
    Volume,
    VolumeCell,
)

_CHUNK = 2_000
_LIVE = [s.value for s in NoticeState if s.is_live]

__all__ = ["NoticeService", "Within", "new_id", "request_hash"]

Within = Callable[[Session, Notice], None]
"""Called inside a filing's, modification's or cancellation's transaction, once the
notice's row is current (its version checked) and before its volumes change: an adapter
(the F3548 DSS) checks what it must and writes its own rows there, so they commit with
the notice or not at all (raising rolls the whole change back)."""


def new_id(prefix: str) -> str:
    """A fresh public id, e.g. ``ntc_3f2a…`` (prefix names the kind of thing)."""
    return f"{prefix}_{uuid.uuid4().hex}"


def request_hash(draft: NoticeDraft) -> str:
    """A digest of a draft, to tell a retried request from a different one."""
    body = {
        "title": draft.title,
        "volumes": [_volume_json(v) for v in draft.volumes],
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _volume_json(volume: Volume4D) -> dict[str, Any]:
    """A volume as the journal and the idempotency digest tell it (``floor_m`` only where
    a standing zone gives one)."""
    body: dict[str, Any] = {
        "geometry": volume.footprint.to_geojson(),
        "radius_m": volume.footprint.radius_m,
        "lower_m": volume.lower_m,
        "upper_m": volume.upper_m,
        "start": volume.start.isoformat(),
        "end": volume.end.isoformat(),
    }
    if volume.floor_m is not None:
        body["floor_m"] = volume.floor_m
    return body


def _check_no_floor(volumes: tuple[Volume4D, ...]) -> None:
    """Refuse a floor on a notice that is not a standing zone."""
    for index, volume in enumerate(volumes):
        if volume.floor_m is not None:
            raise FloorNotStandingError(
                f"volumes[{index}]: floor_m is accepted on an authority's standing zones "
                "only (airspace structure, `deconfliction zones import`); leave it out of "
                "planned activity",
                volume=index,
            )


class NoticeService:
    """The strategic part: notices of one party checked against every other party's."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        settings: Settings,
        buffers: Buffers | None = None,
        limits: PartyLimits | None = None,
    ) -> None:
        """``limits``: each party's (default: the settings' and its own, read each time)."""
        self._db = db
        self._clock = clock
        self._settings = settings
        self._buffers = buffers or Buffers()
        self._coarsening = Coarsening(settings.disclosure_h3_level, settings.disclosure_band_ft)
        self._limits = limits or PartyLimits(db, clock, settings)

    # -- filing -------------------------------------------------------------------------
    def file(
        self,
        party: PartyRef,
        draft: NoticeDraft,
        idempotency_key: str | None = None,
        within: Within | None = None,
    ) -> FilingResult:
        """File a notice; returns it with every conflict found (both sides are alerted).

        With an ``idempotency_key``, a retry of the same request returns the first
        result (``replayed`` set) and files nothing; the same key with a different
        request is refused. A footprint larger than one of the filer's agreements
        allows is refused; so are a window that has ended, reaches beyond the horizon
        or lasts too long, and a notice beyond the party's quota of live notices (see
        :mod:`deconfliction.notices.reach`; standing zones are exempt from these). A
        start sooner than an agreement's minimum lead time is filed anyway, flagged
        ``short_notice``. ``within``: see :data:`Within`.
        """
        limits = self._check_may_file(party, draft)
        if not draft.standing:
            _check_no_floor(draft.volumes)
        digest = request_hash(draft)
        now = self._clock.now()
        with self._db.transaction() as session:
            lock_head(session)
            if idempotency_key is not None:
                replay = self._replay(session, party, idempotency_key, digest)
                if replay is not None:
                    return replay
            policy = self._policy(session, party)
            policy.check_signed()
            if not draft.standing:
                self._check_reach(session, party, limits, policy, draft.volumes, now)
                live = session.scalar(
                    select(func.count())
                    .select_from(Notice)
                    .where(
                        Notice.party_id == party.id,
                        Notice.state.in_(_LIVE),
                        Notice.standing.is_(False),
                    )
                )
                check_active(party.name, int(live or 0), limits.max_active_notices)
            lead_time_s = _lead_time_s(draft.volumes, now)
            notice = Notice(
                id=new_id("ntc"),
                party_id=party.id,
                title=draft.title,
                state=NoticeState.FILED.value,
                version=1,
                filed_at=now,
                updated_at=now,
                lead_time_s=lead_time_s,
                short_notice=policy.short_notice(lead_time_s),
                starts_at=min(v.start for v in draft.volumes),
                ends_at=max(v.end for v in draft.volumes),
                standing=draft.standing,
            )
            session.add(notice)
            session.flush()
            if within is not None:
                within(session, notice)
            append(
                session,
                at=now,
                kind="notice.filed",
                party=party.name,
                subject=notice.id,
                payload=signed(self._notice_payload(notice, party, draft.volumes), party),
            )
            conflicts, met = self._store_volumes(session, notice, party, draft.volumes, policy, now)
            needed = self._needed(policy, met)
            if needed:
                request_decisions(session, notice, needed, now)
            self._announce(session, "notice.filed", notice, party, draft.volumes, policy, needed)
            if idempotency_key is not None:
                session.add(
                    IdempotencyRecord(
                        party_id=party.id,
                        key=idempotency_key,
                        request_hash=digest,
                        status=201,
                        response=json.dumps(
                            {"notice_id": notice.id, "conflict_ids": [c.id for c in conflicts]}
                        ),
                        created_at=now,
                    )
                )
            approvals = approval_views(session, notice.id) if needed else ()
            view = self._view(session, notice, party, draft.volumes, approvals)
            return FilingResult(view, tuple(conflicts))

    def modify(
        self,
        party: PartyRef,
        notice_id: str,
        expected_version: int,
        draft: NoticeDraft,
        within: Within | None = None,
    ) -> FilingResult:
        """Replace a live notice's volumes; ``expected_version`` must be the current one.

        Acknowledgments and approvals are asked again (an acknowledged notice is
        ``filed`` again until they are in).
        """
        limits = self._check_may_file(party, draft)
        now = self._clock.now()
        with self._db.transaction() as session:
            lock_head(session)
            notice = self._own(session, party, notice_id)
            self._check_live(notice, "modify")
            if notice.version != expected_version:
                raise StaleVersionError(
                    f"notice {notice_id} is at version {notice.version}, not "
                    f"{expected_version}; read it again and reapply your change",
                    current_version=notice.version,
                )
            policy = self._policy(session, party)
            policy.check_signed()
            if not notice.standing:
                _check_no_floor(draft.volumes)
                self._check_reach(session, party, limits, policy, draft.volumes, now)
            if within is not None:
                within(session, notice)
            withdraw(session, notice, party.name, now, reason="modified")
            notice.version += 1
            notice.title = draft.title
            notice.updated_at = now
            notice.lead_time_s = _lead_time_s(draft.volumes, now)
            notice.short_notice = policy.short_notice(notice.lead_time_s)
            notice.starts_at = min(v.start for v in draft.volumes)
            notice.ends_at = max(v.end for v in draft.volumes)
            notice.activation_blocked_at = None
            append(
                session,
                at=now,
                kind="notice.modified",
                party=party.name,
                subject=notice.id,
                payload=self._notice_payload(notice, party, draft.volumes),
            )
            conflicts, met = self._store_volumes(session, notice, party, draft.volumes, policy, now)
            needed = self._needed(policy, met)
            request_decisions(session, notice, needed, now)
            if needed and notice.state == NoticeState.ACKNOWLEDGED.value:
                change_state(
                    session,
                    notice,
                    NoticeState.FILED,
                    now,
                    "modified: its approvals are asked again",
                )
            self._announce(session, "notice.modified", notice, party, draft.volumes, policy, needed)
            return FilingResult(self._view(session, notice, party, draft.volumes), tuple(conflicts))

    def cancel(
        self,
        party: PartyRef,
        notice_id: str,
        expected_version: int | None = None,
        within: Within | None = None,
    ) -> NoticeView:
        """Cancel a live notice: it stops claiming airspace and its conflicts resolve."""
        now = self._clock.now()
        with self._db.transaction() as session:
            lock_head(session)
            notice = self._own(session, party, notice_id)
            self._check_live(notice, "cancel")
            if expected_version is not None and notice.version != expected_version:
                raise StaleVersionError(
                    f"notice {notice_id} is at version {notice.version}, not "
                    f"{expected_version}; read it again before cancelling",
                    current_version=notice.version,
                )
            if within is not None:
                within(session, notice)
            volumes = self._volumes(session, notice.id)
            withdraw(session, notice, party.name, now, reason="cancelled")
            notice.version += 1
            notice.updated_at = now
            change_state(session, notice, NoticeState.CANCELLED, now, "cancelled by its filer")
            return self._view(session, notice, party, volumes)

    # -- reading ------------------------------------------------------------------------
    def get(self, party: PartyRef, notice_id: str) -> NoticeView:
        """One of the party's own notices; another party's reads as not found."""
        with self._db.read() as session:
            notice = self._own(session, party, notice_id)
            return self._view(session, notice, party, self._volumes(session, notice.id))

    def list_notices(
        self, party: PartyRef, state: NoticeState | None = None, limit: int = 100, offset: int = 0
    ) -> list[NoticeView]:
        """The party's own notices, newest first."""
        with self._db.read() as session:
            query = select(Notice).where(Notice.party_id == party.id)
            if state is not None:
                query = query.where(Notice.state == state.value)
            query = query.order_by(Notice.filed_at.desc(), Notice.id).limit(limit).offset(offset)
            return [
                self._view(session, n, party, self._volumes(session, n.id))
                for n in session.scalars(query)
            ]

    def conflicts_of(self, party: PartyRef, notice_id: str) -> list[ConflictView]:
        """Open conflicts of one of the party's own notices, as the party may see them."""
        with self._db.read() as session:
            notice = self._own(session, party, notice_id)
            rows = session.scalars(
                select(Alert)
                .where(
                    Alert.party_id == party.id,
                    Alert.notice_id == notice.id,
                    Alert.state != "resolved",
                )
                .order_by(Alert.created_at)
            )
            return [conflict_view(a) for a in rows]

    # -- internals ----------------------------------------------------------------------
    def _check_may_file(self, party: PartyRef, draft: NoticeDraft) -> Limits:
        """Refuse what no store read is needed to refuse; the party's limits."""
        if party.role == Role.OBSERVER:
            raise PermissionDeniedError(
                f"party {party.name!r} is an observer; only operators and authorities file notices"
            )
        if draft.standing and party.role != Role.AUTHORITY:
            raise PermissionDeniedError(
                f"party {party.name!r} is not an authority; only authorities file standing zones"
            )
        if not draft.volumes:
            raise ValidationError("a notice needs at least one volume")
        limits = self._limits.of(party.id)
        check_volumes(len(draft.volumes), limits.max_volumes_per_notice)
        return limits

    @staticmethod
    def _check_reach(
        session: Session,
        party: PartyRef,
        limits: Limits,
        policy: FilingPolicy,
        volumes: tuple[Volume4D, ...],
        now: datetime,
    ) -> None:
        """An activity notice's footprints (by its agreements) and window (by its
        limits, widened by its agreements). A USS's F3548 intents keep the standard's
        windows (no horizon: InterUSS's conformance tests file intents years ahead)."""
        policy.check_footprints(volumes)
        if party.role == Role.USS:
            return
        horizon_s, horizon_by = _widest(limits.notice_horizon_s, policy, "notice_horizon_s")
        duration_s, duration_by = _widest(
            limits.notice_max_duration_s, policy, "notice_max_duration_s"
        )
        check_window(
            min(v.start for v in volumes),
            max(v.end for v in volumes),
            now,
            (horizon_s, horizon_by),
            (duration_s, duration_by),
        )

    def _policy(self, session: Session, party: PartyRef) -> FilingPolicy:
        return FilingPolicy.load(
            session,
            party,
            self._buffers,
            self._settings.ack_deadlines,
            self._settings.disclosure,
            self._settings.disclosure_exact_after_s,
        )

    @staticmethod
    def _needed(policy: FilingPolicy, met: set[int]) -> set[tuple[int, ApprovalKind]]:
        """What the notice needs before it may activate: counterparts' acknowledgments,
        and approvals of the authorities whose areas (live notices) it meets."""
        needed = set()
        for party_id, c in policy.counterparts.items():
            if c.terms.activation_requires_acknowledgment:
                needed.add((party_id, ApprovalKind.ACKNOWLEDGMENT))
            if c.terms.authority_approval_required and c.role == Role.AUTHORITY and party_id in met:
                needed.add((party_id, ApprovalKind.APPROVAL))
        return needed

    def _store_volumes(
        self,
        session: Session,
        notice: Notice,
        party: PartyRef,
        volumes: tuple[Volume4D, ...],
        policy: FilingPolicy,
        now: datetime,
    ) -> tuple[list[ConflictView], set[int]]:
        """Store and index the volumes, recording every conflict; returns the conflicts
        and the ids of the parties met."""
        met: list[tuple[int, Match]] = []
        cells: list[dict[str, Any]] = []
        connection = session.connection()  # Core inserts: no unit of work for these rows
        for position, volume in enumerate(volumes):
            searched, indexed = coverings(volume.footprint, policy.search_buffers.horizontal_m)
            # candidates with the widest buffers of the filer's agreements, each tested
            # with its pair's own
            matches = find_conflicts(
                session, volume, party.id, policy.search_buffers, policy.buffers_for, searched
            )
            met.extend((position, match) for match in matches)
            volume_id = connection.execute(
                insert(Volume).returning(Volume.id),
                volume_values(notice.id, party.id, position, volume),
            ).scalar_one()
            cells.extend(index_rows(volume_id, party.id, volume, indexed))
        connection.execute(insert(VolumeCell), cells)
        found = self._record_conflicts(session, notice, party, met, policy, now)
        return found, {match.row.party_id for _, match in met}

    def _record_conflicts(
        self,
        session: Session,
        notice: Notice,
        party: PartyRef,
        met: list[tuple[int, Match]],
        policy: FilingPolicy,
        now: datetime,
    ) -> list[ConflictView]:
        """Store each conflict, an alert for each side, their events and journal entries,
        a few statements for them all; returns the conflicts as the filer sees them."""
        if not met:
            return []
        connection = session.connection()  # Core statements: no unit of work for these rows
        others = {match.row.party_id for _, match in met}
        names: dict[int, str] = dict(
            connection.execute(select(Party.id, Party.name).where(Party.id.in_(others))).all()
        )
        conflicts: list[dict[str, Any]] = []
        alerts: list[NewAlert] = []
        views: list[ConflictView] = []  # the filer's side of each
        entries: list[tuple[str, str | None, str, dict[str, Any]]] = []  # kind, party, ...
        for position, match in met:
            other, o = match.row.party_id, match.overlap
            priority = policy.priority(other, notice.lead_time_s)
            deadline = policy.deadline(other, priority, now)
            geometry = geojson(told_outline(o.footprint))
            text = canonical_json(geometry)
            told = RawJSON(text)  # written once, placed in every payload below
            conflict_id = new_id("cfl")
            conflicts.append(
                {
                    "id": conflict_id,
                    "kind": "notice-notice",
                    "state": "open",
                    "a_party_id": party.id,
                    "b_party_id": other,
                    "a_notice_id": notice.id,
                    "b_notice_id": match.row.notice_id,
                    "a_position": position,
                    "b_position": match.row.position,
                    "geometry": text,
                    "lower_m": o.lower_m,
                    "upper_m": o.upper_m,
                    "start_at": o.start,
                    "end_at": o.end,
                    "detected_at": now,
                }
            )
            summary = {
                "conflict": conflict_id,
                "kind": "notice-notice",
                "geometry": told,
                "lower_m": o.lower_m,
                "upper_m": o.upper_m,
                "start": o.start.isoformat(),
                "end": o.end.isoformat(),
            }
            anonymous = policy.disclosure(other) == Disclosure.ANONYMOUS
            exact_after = policy.exact_after(other)
            coarse = exact_after > 0 and (o.start - now).total_seconds() > exact_after
            shown, shown_text, shown_summary = geometry, text, summary
            lower_m, upper_m = o.lower_m, o.upper_m
            if coarse:  # progressive: cells and flight-level blocks until the threshold
                shown = self._coarsening.geometry(o.footprint)
                shown_text = canonical_json(shown)
                lower_m, upper_m = self._coarsening.band(o.lower_m, o.upper_m)
                shown_summary = {
                    **summary,
                    "geometry": RawJSON(shown_text),
                    "lower_m": lower_m,
                    "upper_m": upper_m,
                    "exact_at": (o.start - timedelta(seconds=exact_after)).isoformat(),
                }
            entries.append(
                (
                    "conflict.detected",
                    # anonymous: in no party's export (the filer's would name the other);
                    # coarse: nor the exact intersection, before its disclosure
                    None if anonymous or coarse else party.name,
                    conflict_id,
                    {
                        **summary,
                        "parties": [party.name, names[other]],
                        "notices": [notice.id, match.row.notice_id],
                        "disclosure": policy.disclosure(other).value,
                    },
                )
            )
            told_other = ANONYMOUS_COUNTERPART if anonymous else names[other]
            told_filer = ANONYMOUS_COUNTERPART if anonymous else party.name
            sides = (
                (party.id, party.name, told_other, notice.id, position),
                (other, names[other], told_filer, match.row.notice_id, match.row.position),
            )
            for party_id, name, counterpart, own_notice, own_position in sides:
                alert = NewAlert(
                    id=new_id("alt"),
                    party_id=party_id,
                    conflict_id=conflict_id,
                    kind="notice-notice",
                    state="open",
                    priority=priority.value,
                    counterpart=counterpart,
                    notice_id=own_notice,
                    position=own_position,
                    geometry=shown_text,
                    lower_m=lower_m,
                    upper_m=upper_m,
                    start_at=o.start,
                    end_at=o.end,
                    created_at=now,
                    ack_deadline=deadline,
                    escalation_tier=0,
                    escalation_state=EscalationState.NONE.value,
                )
                alerts.append(alert)
                if party_id == party.id:
                    views.append(conflict_view(alert, shown))
                entries.append(
                    (
                        "alert.created",
                        name,
                        alert.id,
                        {
                            **shown_summary,
                            "alert": alert.id,
                            "counterpart": counterpart,
                            "disclosure": policy.disclosure(other).value,
                            "detail": "coarse" if coarse else "exact",
                            "notice": own_notice,
                            "priority": priority.value,
                            "ack_deadline": deadline.isoformat(),
                        },
                    )
                )
        connection.execute(insert(Conflict), conflicts)
        connection.execute(insert(Alert), [alert.row() for alert in alerts])
        publish_many(session, [alert_event(alert, "alert.created", now) for alert in alerts])
        append_many(session, now, entries)
        return views

    @staticmethod
    def _announce(
        session: Session,
        kind: str,
        notice: Notice,
        party: PartyRef,
        volumes: tuple[Volume4D, ...],
        policy: FilingPolicy,
        needed: set[tuple[int, ApprovalKind]],
    ) -> None:
        """Deliver a filed or modified notice to each of the filer's agreement
        counterparts, as much of it as their agreement shows."""
        for party_id, c in sorted(policy.counterparts.items()):
            if c.terms.disclosure == Disclosure.ANONYMOUS:
                continue  # told only of conflicts, never of the filer's notices
            short = policy.is_short(party_id, notice.lead_time_s)
            payload: dict[str, Any] = {
                "notice": notice.id,
                "party": party.name,
                "version": notice.version,
                "agreement": c.label,
                "filed_at": notice.updated_at.isoformat(),
                "start": notice.starts_at.isoformat(),
                "end": notice.ends_at.isoformat(),
                "lead_time_s": notice.lead_time_s,
                "min_lead_time_s": c.terms.min_lead_time_s,
                "short_notice": short,
                "priority": policy.priority(party_id, notice.lead_time_s).value,
                "needs": sorted(k.value for pid, k in needed if pid == party_id),
            }
            if c.terms.visibility == Visibility.FULL:
                payload["title"] = notice.title
                payload["volumes"] = [_volume_json(v) for v in volumes]
            publish(
                session,
                party_id=party_id,
                kind=kind,
                at=notice.updated_at,
                item_id=notice.id,
                payload=payload,
            )

    def _replay(
        self, session: Session, party: PartyRef, key: str, digest: str
    ) -> FilingResult | None:
        first = first_response(session, party.id, key, digest, "filing")
        if first is None:
            return None
        notice = self._own(session, party, first["notice_id"])
        alerts = session.scalars(
            select(Alert)
            .where(Alert.party_id == party.id, Alert.conflict_id.in_(first["conflict_ids"]))
            .order_by(Alert.created_at)
        )
        return FilingResult(
            self._view(session, notice, party, self._volumes(session, notice.id)),
            tuple(conflict_view(a) for a in alerts),
            replayed=True,
        )

    @staticmethod
    def _own(session: Session, party: PartyRef, notice_id: str) -> Notice:
        notice = session.get(Notice, notice_id)
        if notice is None or notice.party_id != party.id:
            raise NotFoundError(f"no notice {notice_id!r} of party {party.name!r}")
        return notice

    @staticmethod
    def _check_live(notice: Notice, action: str) -> None:
        if not NoticeState(notice.state).is_live:
            raise InvalidStateError(
                f"notice {notice.id} is {notice.state}; a {notice.state} notice cannot be "
                f"{'modified' if action == 'modify' else 'cancelled'} (file a new one)"
            )

    @staticmethod
    def _volumes(session: Session, notice_id: str) -> tuple[Volume4D, ...]:
        rows = session.scalars(
            select(Volume).where(Volume.notice_id == notice_id).order_by(Volume.position)
        )
        return tuple(volume_from_row(r) for r in rows)

    @staticmethod
    def _view(
        session: Session,
        notice: Notice,
        party: PartyRef,
        volumes: tuple[Volume4D, ...],
        approvals: tuple[ApprovalView, ...] | None = None,
    ) -> NoticeView:
        """The notice as its filer sees it; ``approvals`` where already known (else read)."""
        return NoticeView(
            id=notice.id,
            party=party.name,
            title=notice.title,
            state=NoticeState(notice.state),
            version=notice.version,
            filed_at=notice.filed_at,
            updated_at=notice.updated_at,
            lead_time_s=notice.lead_time_s,
            volumes=volumes,
            short_notice=notice.short_notice,
            approvals=approval_views(session, notice.id) if approvals is None else approvals,
            standing=notice.standing,
        )

    @staticmethod
    def _notice_payload(
        notice: Notice, party: PartyRef, volumes: tuple[Volume4D, ...]
    ) -> dict[str, Any]:
        return {
            "notice": notice.id,
            "party": party.name,
            "version": notice.version,
            "title": notice.title,
            "lead_time_s": notice.lead_time_s,
            "short_notice": notice.short_notice,
            "volumes": [_volume_json(v) for v in volumes],
        }


def _widest(own: float, policy: FilingPolicy, term: str) -> tuple[float, str | None]:
    """The party's own limit, or an agreement's wider one with the agreement's label."""
    agreed = policy.widest(term)
    return agreed if agreed is not None and agreed[0] > own else (own, None)


def _lead_time_s(volumes: tuple[Volume4D, ...], now: datetime) -> float:
    """Seconds from ``now`` to the earliest start (negative once started)."""
    return (min(v.start for v in volumes) - now).total_seconds()

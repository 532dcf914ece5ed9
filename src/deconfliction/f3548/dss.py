"""The DSS: operational intent and constraint references, subscriptions, availability.

An entity is a notice of its USS's party, filed, modified and cancelled through the
notices service (one search, one journal, native alerts on both sides of a conflict
with a native party's notice); its F3548 record is written by a hook inside the same
transaction, after the key check, so an entity and its notice commit together or not
at all, and concurrent writers serialise on the journal head's lock.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session
from uas_standards.astm.f3548.v21.api import OperationalIntentState, UssAvailabilityState

from deconfliction.clock import Clock
from deconfliction.core.volume import Volume4D
from deconfliction.errors import (
    ConflictError,
    MissingEntitiesError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    StaleVersionError,
    ValidationError,
)
from deconfliction.f3548 import records
from deconfliction.f3548.exposure import native_constraints
from deconfliction.f3548.records import CONSTRAINT, INTENT
from deconfliction.f3548.wire import (
    check_entity_id,
    check_url,
    parse_area,
    parse_time,
    parse_volumes,
    union_shape,
)
from deconfliction.journal.chain import append, lock_head
from deconfliction.notices.model import NoticeDraft
from deconfliction.notices.service import NoticeService
from deconfliction.parties import PartyRef
from deconfliction.store.database import Database
from deconfliction.store.schema import F3548Availability, F3548Entity, F3548Subscription, Notice

__all__ = ["Dss", "Reply"]

_OIS = OperationalIntentState
STATES = (_OIS.Accepted, _OIS.Activated, _OIS.Nonconforming, _OIS.Contingent)
"""The states an operational intent may be put in (Ended ones are deleted)."""
_KEYED = (_OIS.Accepted.value, _OIS.Activated.value)
"""States a Down USS may not put an intent in, and whose key is checked."""
_AVAILABILITY = {s.value.lower(): s.value for s in UssAvailabilityState}
_COVER_TOLERANCE_DEG = 1e-7
_COVER_SLACK = timedelta(seconds=60)
"""How far a subscription's window may fall short of an intent relying on it (clients
compute "now + 20 min" a moment apart)."""


@dataclass
class Reply:
    """A DSS answer: status and JSON body."""

    status: int
    body: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Intent:
    """A parsed PUT of an operational intent or constraint reference."""

    volumes: tuple[Volume4D, ...]
    uss_base_url: str
    state: str = ""
    key: frozenset[str] = frozenset()
    subscription_id: str | None = None
    new_subscription: dict[str, Any] | None = None


class Dss:
    """F3548 operations for an authenticated USS (its party and its ``sub``)."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        notices: NoticeService,
        max_subscription_s: float,
    ) -> None:
        self._db = db
        self._clock = clock
        self._notices = notices
        self._max_subscription_s = max_subscription_s

    # -- entities ----------------------------------------------------------------------
    def get(self, kind: str, uss: str, entity_id: str) -> Reply:
        check_entity_id(entity_id)
        with self._db.read() as session:
            entity = self._entity(session, kind, entity_id)
            [ref] = records.references(session, [entity], uss)
            return Reply(200, {_ref_key(kind): ref})

    def query(self, kind: str, party: PartyRef, base_url: str, body: dict[str, Any]) -> Reply:
        """Entities of ``kind`` in the area of interest; constraints include the native
        notices an agreement lets the USS see (see ``exposure``), under ``base_url``
        (this service's)."""
        area = parse_area(body.get("area_of_interest"))
        with self._db.read() as session:
            found = records.entities_meeting(session, [area.volume], kind)
            refs = records.references(session, found, party.name)
            if kind == CONSTRAINT:
                refs += native_constraints(session, party, area.volume, base_url)
        return Reply(200, {f"{_ref_key(kind)}s": refs})

    def put(
        self, kind: str, party: PartyRef, entity_id: str, ovn: str | None, body: dict[str, Any]
    ) -> Reply:
        """Create (``ovn`` None) or update an entity reference."""
        entity_id = check_entity_id(entity_id)
        put = self._parse_put(kind, body)
        now = self._clock.now()
        if max(v.end for v in put.volumes) <= now:
            raise ValidationError("the extents end in the past; an entity must end in the future")
        if kind == INTENT and put.state in _KEYED:
            self._check_up(party.name, f"put an operational intent in state {put.state}")
        draft = NoticeDraft(put.volumes, title=f"F3548 {kind} {entity_id}")
        reply = Reply(201 if ovn is None else 200)

        def within(session: Session, notice: Notice) -> None:
            reply.body = self._write(session, kind, party, entity_id, ovn, put, notice, now)

        if ovn is None:
            with self._db.read() as session:
                if session.get(F3548Entity, entity_id) is not None:
                    raise ConflictError(f"{kind} {entity_id} exists already; update it by OVN")
            self._notices.file(party, draft, within=within)
        else:
            notice_id, version = self._current(kind, party, entity_id, ovn)
            self._stale_as_conflict(
                lambda: self._notices.modify(party, notice_id, version, draft, within=within)
            )
        return reply

    def delete(self, kind: str, party: PartyRef, entity_id: str, ovn: str) -> Reply:
        entity_id = check_entity_id(entity_id)
        notice_id, version = self._current(kind, party, entity_id, ovn)
        if kind == INTENT:
            self._check_up(party.name, "delete an operational intent")
        reply = Reply(200)

        def within(session: Session, notice: Notice) -> None:
            entity = self._entity(session, kind, entity_id, lock=True)
            if entity.ovn != ovn:
                raise ConflictError(f"{kind} {entity_id} has changed; its OVN is not {ovn!r}")
            volumes = records.volumes_of(session, notice.id)
            subs = records.subscriptions_meeting(
                session,
                volumes,
                for_intents=kind == INTENT,
                for_constraints=kind == CONSTRAINT,
            )
            [ref] = records.references(session, [entity], party.name)
            old_sub = entity.subscription_id
            session.delete(entity)
            session.flush()
            self._drop_implicit(session, old_sub)
            reply.body = {"subscribers": records.notify(subs), _ref_key(kind): ref}

        self._stale_as_conflict(
            lambda: self._notices.cancel(party, notice_id, version, within=within)
        )
        return reply

    # -- subscriptions -----------------------------------------------------------------
    def get_subscription(self, uss: str, subscription_id: str) -> Reply:
        check_entity_id(subscription_id, "subscription id")
        with self._db.read() as session:
            sub = self._subscription(session, uss, subscription_id)
            return Reply(200, {"subscription": records.subscription_json(session, sub)})

    def query_subscriptions(self, uss: str, body: dict[str, Any]) -> Reply:
        area = parse_area(body.get("area_of_interest"))
        with self._db.read() as session:
            subs = records.subscriptions_meeting(session, [area.volume], manager=uss)
            return Reply(
                200, {"subscriptions": [records.subscription_json(session, s) for s in subs]}
            )

    def put_subscription(
        self, party: PartyRef, subscription_id: str, version: str | None, body: dict[str, Any]
    ) -> Reply:
        subscription_id = check_entity_id(subscription_id, "subscription id")
        now = self._clock.now()
        volume = self._subscription_area(body, now)
        url = check_url(body.get("uss_base_url"), "uss_base_url")
        for_intents = _flag(body, "notify_for_operational_intents")
        for_constraints = _flag(body, "notify_for_constraints")
        if not (for_intents or for_constraints):
            raise ValidationError(
                "a subscription must notify for operational intents, constraints or both"
            )
        with self._db.transaction() as session:
            lock_head(session)
            sub = session.get(F3548Subscription, subscription_id)
            if version is None and sub is not None:
                raise ConflictError(
                    f"subscription {subscription_id} exists already; update it by version"
                )
            if version is not None:
                if sub is None:
                    raise NotFoundError(f"no subscription {subscription_id}")
                if sub.manager != party.name:
                    raise PermissionDeniedError(
                        f"subscription {subscription_id} belongs to another USS"
                    )
                if sub.version != version:
                    raise ConflictError(
                        f"subscription {subscription_id} is at version {sub.version}, "
                        f"not {version}; read it again"
                    )
                self._check_covers(session, subscription_id, volume, now)
            else:
                sub = F3548Subscription(
                    id=subscription_id,
                    party_id=party.id,
                    manager=party.name,
                    notification_index=0,
                )
                session.add(sub)
            sub.version = uuid.uuid4().hex[:16]
            sub.uss_base_url = url
            sub.notify_for_operational_intents = for_intents
            sub.notify_for_constraints = for_constraints
            sub.implicit = False  # set by its USS: managed by that USS from now on
            sub.updated_at = now
            records.set_area(sub, volume.footprint.shape, [volume])
            session.flush()
            append(
                session,
                at=now,
                kind="f3548.subscription.put",
                party=party.name,
                subject=subscription_id,
                payload={"subscription": subscription_id, "version": sub.version},
            )
            answer: dict[str, Any] = {"subscription": records.subscription_json(session, sub)}
            if for_intents:
                found = records.entities_meeting(session, [volume], INTENT)
                answer["operational_intent_references"] = records.references(
                    session, found, party.name
                )
            if for_constraints:
                found = records.entities_meeting(session, [volume], CONSTRAINT)
                answer["constraint_references"] = records.references(session, found, party.name)
            return Reply(200, answer)

    def delete_subscription(self, party: PartyRef, subscription_id: str, version: str) -> Reply:
        subscription_id = check_entity_id(subscription_id, "subscription id")
        with self._db.transaction() as session:
            lock_head(session)
            sub = self._subscription(session, party.name, subscription_id)
            if sub.version != version:
                raise ConflictError(
                    f"subscription {subscription_id} is at version {sub.version}, not {version}"
                )
            if records.dependents(session, subscription_id):
                raise ValidationError(
                    f"subscription {subscription_id} still serves operational intents; "
                    "move or delete them first"
                )
            answer = {"subscription": records.subscription_json(session, sub)}
            session.delete(sub)
            append(
                session,
                at=self._clock.now(),
                kind="f3548.subscription.deleted",
                party=party.name,
                subject=subscription_id,
                payload={"subscription": subscription_id},
            )
            return Reply(200, answer)

    # -- availability ------------------------------------------------------------------
    def availability(self, uss: str) -> Reply:
        with self._db.read() as session:
            row = session.get(F3548Availability, uss)
            return Reply(200, _availability_json(uss, row))

    def set_availability(self, arbiter: str, uss: str, body: dict[str, Any]) -> Reply:
        raw = body.get("availability")
        value = _AVAILABILITY.get(raw.lower()) if isinstance(raw, str) else None
        if value is None:
            raise ValidationError(f"availability must be Unknown, Normal or Down, not {raw!r}")
        old = body.get("old_version", "")
        if not isinstance(old, str):
            raise ValidationError("old_version must be text")
        now = self._clock.now()
        with self._db.transaction() as session:
            lock_head(session)
            row = session.get(F3548Availability, uss)
            current = "" if row is None else row.version
            if old != current:
                raise ConflictError(
                    f"the availability of {uss} is at version {current!r}, not {old!r}"
                )
            if row is None:
                row = F3548Availability(uss=uss)
                session.add(row)
            row.availability = value
            row.version = uuid.uuid4().hex[:16]
            row.updated_at = now
            append(
                session,
                at=now,
                kind="f3548.availability.set",
                party=arbiter,
                subject=uss,
                payload={"uss": uss, "availability": value, "version": row.version},
            )
            return Reply(200, _availability_json(uss, row))

    # -- internals ---------------------------------------------------------------------
    def _parse_put(self, kind: str, body: dict[str, Any]) -> _Intent:
        volumes = parse_volumes(body.get("extents"))
        url = check_url(body.get("uss_base_url"), "uss_base_url")
        if kind == CONSTRAINT:
            return _Intent(volumes, url)
        state = body.get("state")
        if state not in [s.value for s in STATES]:
            known = ", ".join(s.value for s in STATES)
            raise ValidationError(f"state must be one of {known}, not {state!r}")
        key = body.get("key") or []
        if not isinstance(key, list) or not all(isinstance(k, str) for k in key):
            raise ValidationError("key must be a list of OVNs (text)")
        sub_id, new_sub = body.get("subscription_id"), body.get("new_subscription")
        if sub_id is not None and new_sub is not None:
            raise ValidationError("give subscription_id or new_subscription, not both")
        if sub_id is None and new_sub is None and state in _KEYED:
            raise ValidationError(
                f"an operational intent in state {state} needs subscription_id or new_subscription"
            )
        if sub_id is not None:
            if not isinstance(sub_id, str):
                raise ValidationError("subscription_id must be a UUID")
            sub_id = check_entity_id(sub_id, "subscription_id")
        if new_sub is not None:
            if not isinstance(new_sub, dict):
                raise ValidationError("new_subscription must be an object")
            check_url(new_sub.get("uss_base_url"), "new_subscription.uss_base_url")
            _flag(new_sub, "notify_for_constraints")
        return _Intent(volumes, url, str(state), frozenset(key), sub_id, new_sub)

    def _write(
        self,
        session: Session,
        kind: str,
        party: PartyRef,
        entity_id: str,
        ovn: str | None,
        put: _Intent,
        notice: Notice,
        now: datetime,
    ) -> dict[str, Any]:
        """Inside the filing's transaction: check the OVN and the key, settle the
        subscription, write the entity, notify; the response body."""
        entity = session.get(F3548Entity, entity_id)
        old_volumes: tuple[Volume4D, ...] = ()
        if ovn is None:
            if entity is not None:
                raise ConflictError(f"{kind} {entity_id} exists already; update it by OVN")
        else:
            entity = self._entity(session, kind, entity_id, lock=True)
            if entity.ovn != ovn:
                raise ConflictError(f"{kind} {entity_id} has changed; its OVN is not {ovn!r}")
            old_volumes = records.volumes_of(session, entity.notice_id)
        sub = (
            self._settle_subscription(session, party, entity_id, put, now)
            if kind == INTENT
            else None
        )
        if kind == INTENT and put.state in _KEYED:
            self._check_key(session, entity_id, put, sub)
        old_sub = None if entity is None else entity.subscription_id
        if entity is None:
            entity = F3548Entity(id=entity_id, kind=kind, party_id=party.id, manager=party.name)
            entity.version = 0
            session.add(entity)
        entity.notice_id = notice.id
        entity.version += 1
        entity.ovn = records.new_ovn()
        entity.state = put.state
        entity.uss_base_url = put.uss_base_url
        entity.subscription_id = None if sub is None else sub.id
        entity.time_start = min(v.start for v in put.volumes)
        entity.time_end = max(v.end for v in put.volumes)
        entity.updated_at = now
        session.flush()
        if old_sub is not None and old_sub != entity.subscription_id:
            self._drop_implicit(session, old_sub)
        subs = records.subscriptions_meeting(
            session,
            old_volumes + put.volumes,
            for_intents=kind == INTENT,
            for_constraints=kind == CONSTRAINT,
        )
        [ref] = records.references(session, [entity], party.name)
        return {"subscribers": records.notify(subs), _ref_key(kind): ref}

    def _settle_subscription(
        self, session: Session, party: PartyRef, entity_id: str, put: _Intent, now: datetime
    ) -> F3548Subscription | None:
        """The intent's subscription: the one named (the USS's own), a new implicit one,
        or, when neither is given, none."""
        if put.subscription_id is not None:
            sub = session.get(F3548Subscription, put.subscription_id)
            if sub is None or sub.manager != party.name:
                raise ValidationError(
                    f"subscription_id {put.subscription_id} is not a subscription of "
                    f"{party.name}; create it first or ask for new_subscription"
                )
            if sub.implicit:  # grows with the intents it serves
                records.set_area(sub, union_shape(put.volumes), put.volumes, grow=True)
            return sub
        if put.new_subscription is None:
            return None
        sub = F3548Subscription(
            id=str(uuid.uuid4()),
            party_id=party.id,
            manager=party.name,
            version=uuid.uuid4().hex[:16],
            notification_index=0,
            uss_base_url=put.new_subscription["uss_base_url"],
            notify_for_operational_intents=True,
            notify_for_constraints=_flag(put.new_subscription, "notify_for_constraints"),
            implicit=True,
            updated_at=now,
        )
        records.set_area(sub, union_shape(put.volumes), put.volumes)
        session.add(sub)
        session.flush()
        return sub

    def _check_key(
        self, session: Session, entity_id: str, put: _Intent, sub: F3548Subscription | None
    ) -> None:
        """Refuse (409) a key without the OVN of every intent that meets the new 4D extent
        (and of every constraint, where the intent's subscription asks for them).

        The extent is what F3548 keys cover (and the InterUSS DSS checks): the union of
        the footprints, within the extents' overall altitude band and time window. Each
        stored volume is tested against it exactly (the core's 4D test, cells only
        choose candidates): intents whose footprints do not meet need no OVN of each
        other, even in one cell."""
        lower, upper = min(v.lower_m for v in put.volumes), max(v.upper_m for v in put.volumes)
        start, end = min(v.start for v in put.volumes), max(v.end for v in put.volumes)
        extent = [Volume4D(v.footprint, lower, upper, start, end) for v in put.volumes]
        missing_intents = [
            e
            for e in records.entities_meeting(session, extent, INTENT, exclude=entity_id)
            if e.ovn not in put.key
        ]
        missing_constraints = []
        if sub is not None and sub.notify_for_constraints:
            missing_constraints = [
                e
                for e in records.entities_meeting(session, extent, CONSTRAINT)
                if e.ovn not in put.key
            ]
        if missing_intents or missing_constraints:
            raise MissingEntitiesError(
                f"the key lacks the OVNs of {len(missing_intents)} operational intent(s) and "
                f"{len(missing_constraints)} constraint(s) that meet these extents; get them "
                "from their managers and try again",
                missing_operational_intents=records.references(session, missing_intents, ""),
                missing_constraints=records.references(session, missing_constraints, ""),
            )

    def _check_covers(
        self, session: Session, subscription_id: str, volume: Volume4D, now: datetime
    ) -> None:
        """An updated subscription must still cover the intents that rely on it."""
        for entity in records.dependents(session, subscription_id):
            for v in records.volumes_of(session, entity.notice_id):
                grown = shapely.buffer(volume.footprint.shape, _COVER_TOLERANCE_DEG)
                if not (
                    shapely.covers(grown, v.footprint.shape)
                    and volume.lower_m <= v.lower_m
                    and volume.upper_m >= v.upper_m
                    and volume.start <= max(v.start, now) + _COVER_SLACK
                    and volume.end >= v.end - _COVER_SLACK
                ):
                    raise ValidationError(
                        f"the new area of subscription {subscription_id} does not cover "
                        f"operational intent {entity.id}, which relies on it"
                    )

    def _subscription_area(self, body: dict[str, Any], now: datetime) -> Volume4D:
        extents = body.get("extents")
        if not isinstance(extents, dict):
            raise ValidationError("extents must be a Volume4D")
        start = now if extents.get("time_start") is None else None
        end = None
        if start is None:
            start = parse_time(extents["time_start"], "extents.time_start")
        if extents.get("time_end") is None:
            end = start + timedelta(seconds=self._max_subscription_s)
        bounded = dict(extents)
        bounded.pop("time_start", None)
        bounded.pop("time_end", None)
        area = parse_area(bounded, "extents").volume
        if end is None:
            end = parse_time(extents["time_end"], "extents.time_end")
        if end <= start:
            raise ValidationError("extents.time_end must be after extents.time_start")
        if end <= now:
            raise ValidationError("extents.time_end is in the past")
        if (end - start).total_seconds() > self._max_subscription_s:
            raise ValidationError(
                f"a subscription may last at most {self._max_subscription_s:.0f} s"
            )
        return Volume4D(area.footprint, area.lower_m, area.upper_m, start, end)

    def _check_up(self, uss: str, action: str) -> None:
        with self._db.read() as session:
            row = session.get(F3548Availability, uss)
        if row is not None and row.availability == "Down":
            raise PreconditionFailedError(
                f"USS {uss} is marked Down by availability arbitration and may not {action}; "
                "have its availability set to Normal first"
            )

    def _current(self, kind: str, party: PartyRef, entity_id: str, ovn: str) -> tuple[str, int]:
        """The notice id and version of an entity the USS may change by ``ovn``."""
        with self._db.read() as session:
            entity = self._entity(session, kind, entity_id)
            if entity.manager != party.name:
                raise PermissionDeniedError(f"{kind} {entity_id} is managed by another USS")
            if entity.ovn != ovn:
                raise ConflictError(f"{kind} {entity_id} has changed; its OVN is not {ovn!r}")
            notice = session.get(Notice, entity.notice_id)
            assert notice is not None
            return notice.id, notice.version

    @staticmethod
    def _stale_as_conflict(change: Callable[[], object]) -> None:
        try:
            change()
        except StaleVersionError:
            raise ConflictError("the entity changed meanwhile; read it again") from None

    @staticmethod
    def _entity(session: Session, kind: str, entity_id: str, lock: bool = False) -> F3548Entity:
        query = select(F3548Entity).where(F3548Entity.id == entity_id)
        entity = session.scalars(query.with_for_update() if lock else query).one_or_none()
        if entity is None or entity.kind != kind:
            raise NotFoundError(f"no {kind} reference {entity_id}")
        return entity

    @staticmethod
    def _subscription(session: Session, uss: str, subscription_id: str) -> F3548Subscription:
        sub = session.get(F3548Subscription, subscription_id)
        if sub is None:
            raise NotFoundError(f"no subscription {subscription_id}")
        if sub.manager != uss:
            raise PermissionDeniedError(f"subscription {subscription_id} belongs to another USS")
        return sub

    @staticmethod
    def _drop_implicit(session: Session, subscription_id: str | None) -> None:
        """Remove an implicit subscription no intent relies on any more."""
        if subscription_id is None:
            return
        sub = session.get(F3548Subscription, subscription_id)
        if sub is not None and sub.implicit and not records.dependents(session, subscription_id):
            session.delete(sub)


def _ref_key(kind: str) -> str:
    return "operational_intent_reference" if kind == INTENT else "constraint_reference"


def _flag(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ValidationError(f"{name} must be true or false, not {value!r}")
    return value


def _availability_json(uss: str, row: F3548Availability | None) -> dict[str, Any]:
    return {
        "version": "" if row is None else row.version,
        "status": {"uss": uss, "availability": "Unknown" if row is None else row.availability},
    }

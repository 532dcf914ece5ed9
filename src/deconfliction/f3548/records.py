"""The DSS's records in a transaction: searching entities and subscriptions, writing
references, notifying subscribers. Plain functions over a session; the DSS calls them
inside the notices service's transactions (see :data:`~deconfliction.notices.service.Within`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from deconfliction.core.volume import Buffers, Volume4D
from deconfliction.f3548.wire import time_json
from deconfliction.notices.search import find_conflicts, volume_from_row
from deconfliction.store.schema import (
    F3548Availability,
    F3548Entity,
    F3548Subscription,
    Volume,
)

__all__ = [
    "CONSTRAINT",
    "HIDDEN_OVN",
    "INTENT",
    "availability_of",
    "dependents",
    "entities_meeting",
    "new_ovn",
    "notify",
    "reference",
    "references",
    "set_area",
    "subscription_json",
    "subscriptions_meeting",
    "volumes_of",
]

INTENT = "operational_intent"
CONSTRAINT = "constraint"
HIDDEN_OVN = "Available from USS"
"""What a reference shows in place of its OVN to anyone but its manager."""
_NO_BUFFERS = Buffers()
_NO_PARTY = 0  # no party has id 0: searches over every party's volumes


def new_ovn() -> str:
    """A fresh opaque version number."""
    return str(uuid.uuid4())


def availability_of(session: Session, usss: Iterable[str]) -> dict[str, str]:
    """The availability of each USS (``Unknown`` where none was ever set)."""
    names = set(usss)
    query = select(F3548Availability.uss, F3548Availability.availability).where(
        F3548Availability.uss.in_(names)
    )
    found: dict[str, str] = {row[0]: row[1] for row in session.execute(query)}
    return {uss: found.get(uss, "Unknown") for uss in names}


def reference(entity: F3548Entity, viewer: str, availability: str) -> dict[str, Any]:
    """An operational intent or constraint reference as ``viewer`` may see it (the OVN
    only for its manager)."""
    ref: dict[str, Any] = {
        "id": entity.id,
        "manager": entity.manager,
        "uss_availability": availability,
        "version": entity.version,
        "ovn": entity.ovn if viewer == entity.manager else HIDDEN_OVN,
        "time_start": time_json(entity.time_start),
        "time_end": time_json(entity.time_end),
        "uss_base_url": entity.uss_base_url,
    }
    if entity.kind == INTENT:
        ref["state"] = entity.state
        ref["subscription_id"] = entity.subscription_id or ""
    return ref


def references(
    session: Session, entities: Sequence[F3548Entity], viewer: str
) -> list[dict[str, Any]]:
    """References of several entities, their managers' availability read at once."""
    availability = availability_of(session, (e.manager for e in entities))
    return [reference(e, viewer, availability[e.manager]) for e in entities]


def volumes_of(session: Session, notice_id: str) -> tuple[Volume4D, ...]:
    """The stored volumes of one notice."""
    rows = session.scalars(
        select(Volume).where(Volume.notice_id == notice_id).order_by(Volume.position)
    )
    return tuple(volume_from_row(r) for r in rows)


def entities_meeting(
    session: Session, volumes: Sequence[Volume4D], kind: str, exclude: str | None = None
) -> list[F3548Entity]:
    """Entities of ``kind`` that meet any of ``volumes`` in space and time, by the
    exact test (candidates from the cell index, then the core): two entities in one
    cell that do not meet are not found."""
    notice_ids: set[str] = set()
    for volume in volumes:
        notice_ids.update(
            m.row.notice_id for m in find_conflicts(session, volume, _NO_PARTY, _NO_BUFFERS)
        )
    if not notice_ids:
        return []
    rows = session.scalars(
        select(F3548Entity)
        .where(F3548Entity.notice_id.in_(notice_ids), F3548Entity.kind == kind)
        .order_by(F3548Entity.id)
    )
    return [e for e in rows if e.id != exclude]


def _band_and_window(volumes: Sequence[Volume4D]) -> tuple[float, float, datetime, datetime]:
    return (
        min(v.lower_m for v in volumes),
        max(v.upper_m for v in volumes),
        min(v.start for v in volumes),
        max(v.end for v in volumes),
    )


def subscriptions_meeting(
    session: Session,
    volumes: Sequence[Volume4D],
    *,
    for_intents: bool = False,
    for_constraints: bool = False,
    manager: str | None = None,
) -> list[F3548Subscription]:
    """Subscriptions whose 4D area meets any of ``volumes``: a coarse SQL pass (window,
    band, bounding box), then the exact test on each volume."""
    if not volumes:
        return []
    lower, upper, start, end = _band_and_window(volumes)
    x0, y0, x1, y1 = shapely.union_all([v.footprint.shape for v in volumes]).bounds
    query = select(F3548Subscription).where(
        F3548Subscription.time_end > start,
        F3548Subscription.time_start < end,
        F3548Subscription.lower_m <= upper,
        F3548Subscription.upper_m >= lower,
        F3548Subscription.min_lon <= x1,
        F3548Subscription.max_lon >= x0,
        F3548Subscription.min_lat <= y1,
        F3548Subscription.max_lat >= y0,
    )
    if for_intents:
        query = query.where(F3548Subscription.notify_for_operational_intents.is_(True))
    if for_constraints:
        query = query.where(F3548Subscription.notify_for_constraints.is_(True))
    if manager is not None:
        query = query.where(F3548Subscription.manager == manager)
    found = []
    for sub in session.scalars(query.order_by(F3548Subscription.id)):
        shape = shapely.from_wkb(sub.shape_wkb)
        if any(_meets(sub, shape, v) for v in volumes):
            found.append(sub)
    return found


def _meets(sub: F3548Subscription, shape: BaseGeometry, volume: Volume4D) -> bool:
    return (
        sub.time_start < volume.end
        and volume.start < sub.time_end
        and sub.lower_m <= volume.upper_m
        and volume.lower_m <= sub.upper_m
        and bool(shapely.intersects(shape, volume.footprint.shape))
    )


def notify(subscriptions: Sequence[F3548Subscription]) -> list[dict[str, Any]]:
    """Raise each subscription's notification index by one; the subscribers to notify,
    grouped by USS base URL, with the new indices."""
    by_url: dict[str, list[dict[str, Any]]] = {}
    for sub in subscriptions:
        sub.notification_index += 1
        by_url.setdefault(sub.uss_base_url, []).append(
            {"subscription_id": sub.id, "notification_index": sub.notification_index}
        )
    return [{"uss_base_url": url, "subscriptions": subs} for url, subs in by_url.items()]


def set_area(
    sub: F3548Subscription,
    shape: BaseGeometry,
    volumes: Sequence[Volume4D],
    *,
    grow: bool = False,
) -> None:
    """Give a subscription the 4D area of ``shape`` with the volumes' band and window
    (``grow``: its own band and window widened to them, its shape joined to ``shape``)."""
    lower, upper, start, end = _band_and_window(volumes)
    if grow:
        shape = shapely.union_all([shapely.from_wkb(sub.shape_wkb), shape])
        lower, upper = min(lower, sub.lower_m), max(upper, sub.upper_m)
        start, end = min(start, sub.time_start), max(end, sub.time_end)
    sub.shape_wkb = shapely.to_wkb(shape)
    sub.min_lon, sub.min_lat, sub.max_lon, sub.max_lat = shape.bounds
    sub.lower_m, sub.upper_m = lower, upper
    sub.time_start, sub.time_end = start, end


def dependents(session: Session, subscription_id: str) -> list[F3548Entity]:
    """The operational intents that rely on a subscription."""
    return list(
        session.scalars(
            select(F3548Entity)
            .where(F3548Entity.subscription_id == subscription_id)
            .order_by(F3548Entity.id)
        )
    )


def subscription_json(session: Session, sub: F3548Subscription) -> dict[str, Any]:
    """A subscription as the standard writes it."""
    return {
        "id": sub.id,
        "version": sub.version,
        "notification_index": sub.notification_index,
        "time_start": time_json(sub.time_start),
        "time_end": time_json(sub.time_end),
        "uss_base_url": sub.uss_base_url,
        "notify_for_operational_intents": sub.notify_for_operational_intents,
        "notify_for_constraints": sub.notify_for_constraints,
        "implicit_subscription": sub.implicit,
        "dependent_operational_intents": [e.id for e in dependents(session, sub.id)],
    }

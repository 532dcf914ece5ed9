"""Native notices as F3548 constraint references, for a USS with an agreement.

A native party's notice is never shown to a USS the party has no agreement with. With
one, a constraint query lists the notice as a constraint reference clipped to the
agreement's visibility:

* ``full``: the notice's whole window, wherever one of its volumes meets the area;
* ``overlap``: only where it meets the USS's own live intents and constraints (the
  overlaps its alerts tell), with the window of those overlaps that meet the area.

The reference's id is a UUID derived from the notice id, its manager the party's
name, its version the notice's, its OVN hidden (a USS cannot key on it: a native
notice is deconflicted by the alerts on both sides, not by OVN), its base URL this
service's.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import shapely
from shapely.geometry import shape as geojson_shape
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from deconfliction.agreements.service import counterparts
from deconfliction.agreements.terms import Visibility
from deconfliction.core.volume import Buffers, Volume4D
from deconfliction.f3548.records import HIDDEN_OVN
from deconfliction.f3548.wire import time_json
from deconfliction.notices.model import NoticeState
from deconfliction.notices.search import find_conflicts
from deconfliction.parties import PartyRef, Role
from deconfliction.store.schema import Conflict, Notice

__all__ = ["native_constraints", "reference_id"]

_LIVE = [s.value for s in NoticeState if s.is_live]


def reference_id(notice_id: str) -> str:
    """The constraint reference id a native notice shows under (stable, a UUID)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"deconfliction:notice:{notice_id}"))


def native_constraints(
    session: Session, uss: PartyRef, area: Volume4D, base_url: str
) -> list[dict[str, Any]]:
    """The native notices ``uss`` may see in ``area``, as constraint references."""
    agreed = {pid: c for pid, c in counterparts(session, uss.id).items() if c.role != Role.USS}
    if not agreed:
        return []
    notice_ids = {
        m.row.notice_id
        for m in find_conflicts(session, area, uss.id, Buffers())
        if m.row.party_id in agreed
    }
    found = []
    for notice in _live(session, notice_ids):
        terms = agreed[notice.party_id].terms
        if terms.visibility == Visibility.FULL:
            window: tuple[datetime, datetime] | None = (notice.starts_at, notice.ends_at)
        else:
            window = _overlap_window(session, notice.id, uss.id, area)
        if window is not None:
            found.append(_reference(notice, agreed[notice.party_id].name, window, base_url))
    return found


def _live(session: Session, notice_ids: Iterable[str]) -> list[Notice]:
    ids = sorted(notice_ids)
    if not ids:
        return []
    return list(
        session.scalars(
            select(Notice).where(Notice.id.in_(ids), Notice.state.in_(_LIVE)).order_by(Notice.id)
        )
    )


def _overlap_window(
    session: Session, notice_id: str, uss_id: int, area: Volume4D
) -> tuple[datetime, datetime] | None:
    """The window of the open conflicts between the notice and the USS's notices whose
    overlaps meet ``area``; None when there are none."""
    rows = session.scalars(
        select(Conflict).where(
            Conflict.state == "open",
            or_(
                and_(Conflict.a_notice_id == notice_id, Conflict.b_party_id == uss_id),
                and_(Conflict.b_notice_id == notice_id, Conflict.a_party_id == uss_id),
            ),
        )
    )
    windows = [
        (c.start_at, c.end_at)
        for c in rows
        if c.start_at < area.end
        and area.start < c.end_at
        and c.lower_m < area.upper_m
        and area.lower_m < c.upper_m
        and shapely.intersects(geojson_shape(json.loads(c.geometry)), area.footprint.shape)
    ]
    if not windows:
        return None
    return min(w[0] for w in windows), max(w[1] for w in windows)


def _reference(
    notice: Notice, manager: str, window: tuple[datetime, datetime], base_url: str
) -> dict[str, Any]:
    return {
        "id": reference_id(notice.id),
        "manager": manager,
        "uss_availability": "Normal",
        "version": notice.version,
        "ovn": HIDDEN_OVN,
        "time_start": time_json(window[0]),
        "time_end": time_json(window[1]),
        "uss_base_url": base_url,
    }

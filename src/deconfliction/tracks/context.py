"""What a tick reads from the store: separation per pair of parties, and the volumes in play.

:class:`TickContext` reads both in the tick's read transaction and keeps what it parsed
between ticks: agreements' tactical terms by (pair, version) and volumes (with their
caps for the coarse reach test, :func:`~deconfliction.tracks.engine.volume_caps`) by
(volume id, notice version). A stored volume never changes under one notice version (a modified
notice is a new version with new volume rows), so a cached volume is never stale, and
the caches are trimmed to what the last tick used.

Volumes in play (:class:`~deconfliction.tracks.engine.Airspace`):

* every volume of a **live** notice (filed, acknowledged or active: it claims airspace,
  as in the strategic search) whose window meets ``[now, now + horizon)``; authorities
  file their zones as notices, so zones are among them;
* for each notice that tags an aircraft, all its volumes while it is live, none once
  it is closed or cancelled (an aircraft flying on a withdrawn notice conforms to
  nothing).
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from deconfliction.agreements.terms import Terms
from deconfliction.core.volume import Volume4D
from deconfliction.notices.model import NoticeState
from deconfliction.notices.search import volume_from_row
from deconfliction.store.schema import Agreement, Notice, Volume
from deconfliction.tactical import DetectionParams
from deconfliction.tactical.state import FloatArray
from deconfliction.tracks.engine import Airspace, Separation, volume_caps

__all__ = ["LIVE_STATES", "TickContext"]

LIVE_STATES = tuple(s.value for s in NoticeState if s.is_live)
"""Notice states that claim airspace."""


class TickContext:
    """Reads a tick's separation and airspace; caches parsed terms and volumes."""

    def __init__(self, default: DetectionParams) -> None:
        self.default = default
        self._terms: dict[tuple[int, int, int], DetectionParams] = {}
        self._volumes: dict[tuple[int, int], Volume4D] = {}
        self._caps: dict[tuple[int, int], FloatArray] = {}

    def separation(self, session: Session) -> Separation:
        """The agreed tactical minima of every pair with an agreement; defaults elsewhere."""
        rows = session.execute(
            select(Agreement.party_a_id, Agreement.party_b_id, Agreement.version)
        ).all()
        missing = [(a, b, v) for a, b, v in rows if (a, b, v) not in self._terms]
        if missing:
            query = select(
                Agreement.party_a_id, Agreement.party_b_id, Agreement.version, Agreement.terms
            ).where(Agreement.party_a_id.in_({a for a, _, _ in missing}))
            for a, b, v, text in session.execute(query):
                agreed = Terms.from_json(json.loads(text)).separation
                # The deployment's prediction model reads every party's feed.
                self._terms[(a, b, v)] = replace(agreed, model=self.default.model)
        used = {(a, b, v) for a, b, v in rows}
        self._terms = {k: p for k, p in self._terms.items() if k in used}
        return Separation(self.default, {(a, b): self._terms[(a, b, v)] for a, b, v in rows})

    def airspace(
        self, session: Session, now: datetime, horizon_s: float, tagged: Collection[str]
    ) -> Airspace:
        """Live volumes meeting ``[now, now + horizon_s)``, and the tagged notices' volumes."""
        end = now + timedelta(seconds=horizon_s)
        rows = session.execute(
            select(Volume.id, Notice.version, Volume.party_id, Volume.notice_id)
            .join(Notice, Notice.id == Volume.notice_id)
            .where(Notice.state.in_(LIVE_STATES), Volume.start_at < end, Volume.end_at > now)
            .order_by(Volume.id)
        ).all()
        of_tagged = (
            session.execute(
                select(Volume.id, Notice.version, Volume.notice_id)
                .join(Notice, Notice.id == Volume.notice_id)
                .where(Notice.id.in_(set(tagged)), Notice.state.in_(LIVE_STATES))
                .order_by(Volume.notice_id, Volume.position)
            ).all()
            if tagged
            else []
        )
        wanted = {(i, v) for i, v, *_ in rows} | {(i, v) for i, v, _ in of_tagged}
        self._load(session, wanted - self._volumes.keys())
        self._volumes = {k: vol for k, vol in self._volumes.items() if k in wanted}
        self._caps = {k: cap for k, cap in self._caps.items() if k in wanted}
        grouped: dict[str, list[Volume4D]] = {notice: [] for notice in tagged}
        for i, v, notice in of_tagged:
            grouped[notice].append(self._volumes[(i, v)])
        keys = [(i, v) for i, v, _, _ in rows]
        return Airspace(
            volumes=tuple(self._volumes[k] for k in keys),
            owner=tuple(int(party) for _, _, party, _ in rows),
            notice=tuple(str(notice) for *_, notice in rows),
            tagged={notice: tuple(volumes) for notice, volumes in grouped.items()},
            caps=np.array([self._caps[k] for k in keys]).reshape(-1, 4),
        )

    def _load(self, session: Session, keys: set[tuple[int, int]]) -> None:
        if not keys:
            return
        version = dict(keys)
        ids = sorted(version)
        for start in range(0, len(ids), 1000):
            chunk = ids[start : start + 1000]
            for row in session.scalars(select(Volume).where(Volume.id.in_(chunk))):
                key = (row.id, version[row.id])
                self._volumes[key] = volume_from_row(row)
                self._caps[key] = volume_caps([self._volumes[key]])[0]

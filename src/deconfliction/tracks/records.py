"""Tactical conflicts in the store: conflict and alert rows, events and journal entries.

Called inside the tick's write transaction (the caller holds the journal head's lock),
so a tick's changes are all written or none. Per conflict:

* **open**: one ``conflicts`` row (``kind`` ``track-track``, ``track-volume`` or
  ``nonconforming``; its geometry the predicted point(s), its band their altitudes, its
  window ``[tin, tout)``, ``tout`` capped at the look-ahead), one ``flash`` alert per
  party told with the acknowledgment deadline of the pair's agreement, an
  ``alert.created`` event each, and journal entries: ``conflict.detected`` with
  everything (``party`` unset, so it is in no party's export) and one ``alert.created``
  per party with only what that party was told;
* **update**: the rows take the new prediction, each party gets ``alert.updated``
  (journaled likewise); a party newly concerned gets its alert as at opening;
* **resolve**: conflict and alerts ``resolved`` (a pending escalation stops), an
  ``alert.resolved`` event and journal entry per party, and ``conflict.resolved``.

**Need-to-know.** An alert's geometry is a GeoJSON Point ``[lon, lat, alt_m]``: the
counterpart's aircraft at closest approach (track-track), the intruding aircraft where
it enters (track-volume), the party's own aircraft where it leaves its notice
(nonconforming; a threatened party sees where it enters its volumes); for a cluster
(track-cluster) a Polygon, the area where the crowd is first predicted, its band the
crowd's altitudes. Events carry the
alert document plus ``track`` (:func:`track_detail`): the party's own aircraft id,
the moment (absolute time), distance at closest approach, ``tin``/``tout``, whether it is
happening now, for a nonconforming aircraft's own party the names of the parties
it threatens, and for a cluster ``cluster``: how many of the party's own aircraft and
of the counterpart's, within which radius, and the sentence saying so. Never the
counterpart's aircraft id, track history or other aircraft.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from deconfliction.agreements.service import ack_deadline, terms_between
from deconfliction.agreements.terms import ANONYMOUS_COUNTERPART, AckDeadlines, Disclosure, Priority
from deconfliction.alerts import alert_document, alert_view
from deconfliction.delivery.outbox import publish
from deconfliction.journal.chain import append
from deconfliction.notices.model import EscalationState
from deconfliction.notices.service import new_id
from deconfliction.store.schema import Alert, Conflict, Party
from deconfliction.tracks.conflicts import OpenConflict
from deconfliction.tracks.engine import (
    KINDS,
    NONCONFORMING,
    TRACK_CLUSTER,
    TRACK_TRACK,
    Crowd,
    Finding,
    Point,
    Side,
)

__all__ = [
    "PRIORITY",
    "Deadlines",
    "alert_payload",
    "open_conflict",
    "party_names",
    "resolve_conflict",
    "resolve_orphans",
    "track_detail",
    "update_conflict",
]

PRIORITY = Priority.FLASH
"""Every tactical alert is ``flash``: it concerns aircraft in flight, minutes ahead."""

_MOMENT = {TRACK_TRACK: "closest-approach", NONCONFORMING: "exit"}


class Deadlines:
    """When a tactical alert made now must be acknowledged, per (party, counterpart): the
    ``flash`` deadline of their agreement, or ``defaults``; read once per pair. And what
    each party is told of the others' names (:meth:`told`): their agreement's disclosure,
    or ``disclosure``."""

    def __init__(
        self,
        session: Session,
        defaults: AckDeadlines,
        now: datetime,
        disclosure: Disclosure = Disclosure.ANONYMOUS,
    ) -> None:
        self._session = session
        self._defaults = defaults
        self._now = now
        self._disclosure = disclosure
        self._known: dict[tuple[int, int], datetime] = {}
        self._levels: dict[tuple[int, int], Disclosure] = {}

    def level(self, party: int, counterpart: int) -> Disclosure:
        """The disclosure between two parties (a party is always named to itself)."""
        if party == counterpart:
            return Disclosure.NAMED
        key = (min(party, counterpart), max(party, counterpart))
        if key not in self._levels:
            terms = terms_between(self._session, party, counterpart)
            self._levels[key] = self._disclosure if terms is None else terms.disclosure
        return self._levels[key]

    def told(self, names: Mapping[int, str], party: int) -> dict[int, str]:
        """``names`` as ``party`` may see them: those it meets anonymously masked."""
        return {
            pid: ANONYMOUS_COUNTERPART if self.level(party, pid) == Disclosure.ANONYMOUS else name
            for pid, name in names.items()
        }

    def __call__(self, party: int, counterpart: int) -> datetime:
        key = (party, counterpart)
        if key not in self._known:
            self._known[key] = ack_deadline(
                self._session, party, counterpart, PRIORITY, self._now, self._defaults
            )
        return self._known[key]


def party_names(session: Session, ids: Collection[int]) -> dict[int, str]:
    """Party names by id."""
    return dict(session.execute(select(Party.id, Party.name).where(Party.id.in_(set(ids)))).all())


def _at(finding: Finding, seconds: float) -> datetime:
    """The absolute time ``seconds`` after the finding's tick."""
    return datetime.fromtimestamp(finding.time_s, UTC) + timedelta(seconds=seconds)


def _window(finding: Finding, side: Side) -> tuple[datetime, datetime]:
    start = finding.tin_s if finding.kind in (TRACK_TRACK, TRACK_CLUSTER) else side.at_s
    end = min(finding.tout_s, finding.horizon_s)
    return _at(finding, start), _at(finding, max(end, start))


def _point(point: Point) -> dict[str, Any]:
    return {"type": "Point", "coordinates": list(point)}


def _area(crowd: Crowd) -> dict[str, Any]:
    west, south, east, north = crowd.area
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def _geometry(finding: Finding) -> dict[str, Any]:
    points = list(dict.fromkeys(s.point for s in reversed(finding.sides)))
    if len(points) == 1:
        return _point(points[0])
    return {"type": "MultiPoint", "coordinates": [list(p) for p in points]}


def _moment(finding: Finding, side: Side) -> str:
    if finding.kind == NONCONFORMING and side.aircraft is None:
        return "entry"
    return _MOMENT.get(finding.kind, "entry")


def track_detail(finding: Finding, side: Side, names: Mapping[int, str]) -> dict[str, Any]:
    """What ``side``'s party is told of ``finding`` beyond the alert document."""
    own_nonconforming = finding.kind == NONCONFORMING and side.aircraft is not None
    detail: dict[str, Any] = {
        "aircraft": side.aircraft,
        "moment": _moment(finding, side),
        "at": _at(finding, side.at_s).isoformat(),
        "position": list(side.point),
        "dcpa_m": finding.dcpa_m,
        "tin": _at(finding, finding.tin_s).isoformat(),
        "tout": None if math.isinf(finding.tout_s) else _at(finding, finding.tout_s).isoformat(),
        "inside": finding.inside,
        "threatens": [names[s.party] for s in finding.sides[1:]] if own_nonconforming else [],
    }
    if finding.crowd is not None:
        detail["cluster"] = _cluster_detail(finding.crowd, side, names)
    return detail


def _cluster_detail(crowd: Crowd, side: Side, names: Mapping[int, str]) -> dict[str, Any]:
    own, other = crowd.counts[side.party], crowd.counts[side.counterpart]
    name = names[side.counterpart]
    whose = "another party's" if name == ANONYMOUS_COUNTERPART else f"{name}'s"
    return {
        "own": own,
        "other": other,
        "radius_m": crowd.radius_m,
        "summary": f"{own} aircraft of yours within {crowd.radius_m:,.0f} m of {other} "
        f"aircraft of {whose}",
    }


def alert_payload(alert: Alert, track: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """An alert's event payload: its document, and the tactical detail when given."""
    document = alert_document(alert_view(alert))
    return document if track is None else {**document, "track": dict(track)}


def _set_prediction(row: Alert | Conflict, finding: Finding, side: Side | None) -> None:
    if finding.crowd is not None:
        geometry = _area(finding.crowd)
        altitudes = list(finding.crowd.band)
        row.start_at, row.end_at = _window(finding, side or finding.sides[0])
    elif side is None:
        geometry = _geometry(finding)
        altitudes = [s.point[2] for s in finding.sides]
        row.start_at, row.end_at = _window(finding, finding.sides[0])
    else:
        geometry = _point(side.point)
        altitudes = [side.point[2]]
        row.start_at, row.end_at = _window(finding, side)
    row.geometry = json.dumps(geometry)
    row.lower_m, row.upper_m = min(altitudes), max(altitudes)


def _new_alert(
    session: Session,
    conflict: Conflict,
    finding: Finding,
    side: Side,
    names: Mapping[int, str],
    deadlines: Deadlines,
    now: datetime,
) -> Alert:
    shown = deadlines.told(names, side.party)
    alert = Alert(
        id=new_id("alt"),
        party_id=side.party,
        conflict_id=conflict.id,
        kind=finding.kind,
        state="open",
        priority=PRIORITY.value,
        counterpart=shown[side.counterpart],
        notice_id=side.notice,
        position=None,
        created_at=now,
        ack_deadline=deadlines(side.party, side.counterpart),
        escalation_tier=0,
        escalation_state=EscalationState.NONE.value,
    )
    _set_prediction(alert, finding, side)
    session.add(alert)
    detail = track_detail(finding, side, shown)
    publish(
        session,
        party_id=side.party,
        kind="alert.created",
        at=now,
        item_id=alert.id,
        payload=alert_payload(alert, detail),
    )
    assert alert.ack_deadline is not None
    append(
        session,
        at=now,
        kind="alert.created",
        party=names[side.party],
        subject=alert.id,
        payload={
            "alert": alert.id,
            "conflict": conflict.id,
            "kind": finding.kind,
            "counterpart": alert.counterpart,
            "disclosure": deadlines.level(side.party, side.counterpart).value,
            "notice": side.notice,
            "priority": PRIORITY.value,
            "ack_deadline": alert.ack_deadline.isoformat(),
            "geometry": json.loads(alert.geometry),
            "track": detail,
        },
    )
    return alert


def open_conflict(
    session: Session,
    finding: Finding,
    names: Mapping[int, str],
    deadlines: Deadlines,
    now: datetime,
) -> OpenConflict:
    """Store a newly found conflict and alert every party concerned."""
    a, b = finding.sides[0], finding.sides[1] if len(finding.sides) > 1 else finding.sides[0]
    b_party = a.party if finding.kind == NONCONFORMING else b.party
    conflict = Conflict(
        id=new_id("cfl"),
        kind=finding.kind,
        state="open",
        a_party_id=a.party,
        b_party_id=b_party,
        a_notice_id=a.notice,
        b_notice_id=None if finding.kind == NONCONFORMING else b.notice,
        detected_at=now,
    )
    _set_prediction(conflict, finding, None)
    session.add(conflict)
    session.flush()  # the alerts below refer to it
    append(
        session,
        at=now,
        kind="conflict.detected",
        subject=conflict.id,
        payload=_conflict_payload(conflict, finding, names),
    )
    alerts = {
        side.party: _new_alert(session, conflict, finding, side, names, deadlines, now).id
        for side in finding.sides
    }
    return OpenConflict(conflict.id, alerts, finding, finding)


def _conflict_payload(
    conflict: Conflict, finding: Finding, names: Mapping[int, str]
) -> dict[str, Any]:
    return {
        "conflict": conflict.id,
        "kind": finding.kind,
        "parties": [names[s.party] for s in finding.sides],
        "aircraft": list(finding.aircraft),
        "notices": [s.notice for s in finding.sides],
        "geometry": json.loads(conflict.geometry),
        "tin": conflict.start_at.isoformat(),
        "tout": None if math.isinf(finding.tout_s) else _at(finding, finding.tout_s).isoformat(),
        "dcpa_m": finding.dcpa_m,
        "inside": finding.inside,
    }


def update_conflict(
    session: Session,
    conflict: OpenConflict,
    finding: Finding,
    names: Mapping[int, str],
    deadlines: Deadlines,
    now: datetime,
) -> OpenConflict:
    """Tell a conflict's parties its new prediction; alert parties newly concerned."""
    row = session.get(Conflict, conflict.conflict_id)
    assert row is not None
    _set_prediction(row, finding, None)
    alerts = dict(conflict.alerts)
    for side in finding.sides:
        alert_id = alerts.get(side.party)
        if alert_id is None:
            alerts[side.party] = _new_alert(session, row, finding, side, names, deadlines, now).id
            continue
        alert = session.get(Alert, alert_id)
        assert alert is not None
        _set_prediction(alert, finding, side)
        detail = track_detail(finding, side, deadlines.told(names, side.party))
        publish(
            session,
            party_id=side.party,
            kind="alert.updated",
            at=now,
            item_id=alert.id,
            payload=alert_payload(alert, detail),
        )
        append(
            session,
            at=now,
            kind="alert.updated",
            party=names[side.party],
            subject=alert.id,
            payload={"alert": alert.id, "conflict": row.id, "track": detail},
        )
    return OpenConflict(conflict.conflict_id, alerts, finding, finding)


def resolve_conflict(
    session: Session, conflict_id: str, reason: str, names: Mapping[int, str], now: datetime
) -> None:
    """Resolve a conflict and its alerts, telling each party why."""
    row = session.get(Conflict, conflict_id)
    assert row is not None
    row.state = "resolved"
    row.resolved_at = now
    for alert in session.scalars(
        select(Alert).where(Alert.conflict_id == conflict_id).order_by(Alert.id)
    ):
        alert.state = "resolved"
        if EscalationState(alert.escalation_state).is_pending:
            alert.escalation_state = EscalationState.STOPPED.value
        publish(
            session,
            party_id=alert.party_id,
            kind="alert.resolved",
            at=now,
            item_id=alert.id,
            payload={**alert_payload(alert), "reason": reason},
        )
        append(
            session,
            at=now,
            kind="alert.resolved",
            party=names[alert.party_id],
            subject=alert.id,
            payload={"alert": alert.id, "conflict": conflict_id, "reason": reason},
        )
    append(
        session,
        at=now,
        kind="conflict.resolved",
        subject=conflict_id,
        payload={"conflict": conflict_id, "kind": row.kind, "reason": reason},
    )


def resolve_orphans(session: Session, known: Collection[str], now: datetime) -> int:
    """Resolve open tactical conflicts this engine does not hold (it restarted and lost
    its tracks); returns how many. They reopen if their aircraft are still in conflict."""
    rows = session.execute(
        select(Conflict.id, Conflict.a_party_id, Conflict.b_party_id).where(
            Conflict.state == "open", Conflict.kind.in_(KINDS)
        )
    ).all()
    orphans = [r for r in rows if r.id not in known]
    if not orphans:
        return 0
    alerted = session.scalars(
        select(Alert.party_id).where(Alert.conflict_id.in_([r.id for r in orphans]))
    ).all()
    names = party_names(session, set(alerted))
    for conflict_id, _, _ in orphans:
        resolve_conflict(
            session,
            conflict_id,
            "the tactical engine restarted without its tracks; it reopens the conflict "
            "if its aircraft are still predicted to meet",
            names,
            now,
        )
    return len(orphans)

"""Pydantic models of the HTTP boundary (GeoJSON in, GeoJSON out) and their converters.

Pydantic checks shapes and types; the core validates geometry, bands and windows with
messages a person can act on. Domain objects never leave through these models unconverted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import Response
from pydantic import BaseModel, ConfigDict, Field

from deconfliction.alerts import alert_document, conflict_document
from deconfliction.core.footprint import Footprint, FootprintLimits
from deconfliction.core.volume import Volume4D
from deconfliction.errors import ValidationError
from deconfliction.notices.lifecycle import MAX_REASON
from deconfliction.notices.model import (
    AlertView,
    ApprovalView,
    ConflictView,
    Decision,
    NoticeDraft,
    NoticeView,
)

__all__ = [
    "AlertOut",
    "ApprovalOut",
    "ConflictFeature",
    "DecisionOut",
    "FilingOut",
    "NoticeIn",
    "NoticeModifyIn",
    "NoticeOut",
    "RejectIn",
    "VolumeFeature",
    "alert_out",
    "approval_out",
    "conflict_feature",
    "created",
    "decision_out",
    "draft_from",
    "notice_out",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Geometry(BaseModel):
    """A GeoJSON geometry: ``Polygon`` ([lon, lat] rings), or ``Point`` with ``radius_m``."""

    model_config = ConfigDict(extra="allow")
    type: str
    coordinates: Any


class VolumeProperties(_Strict):
    lower_m: float = Field(description="Lower altitude limit, metres above mean sea level.")
    upper_m: float = Field(description="Upper altitude limit, metres above mean sea level.")
    start: datetime = Field(description="Start of the window, RFC 3339 with offset (UTC).")
    end: datetime = Field(description="End of the window (exclusive), RFC 3339 with offset.")
    radius_m: float | None = Field(None, description="Circle radius in metres (Point only).")


class VolumeFeature(BaseModel):
    """One Volume4D as a GeoJSON Feature."""

    model_config = ConfigDict(extra="allow")
    type: Literal["Feature"] = "Feature"
    geometry: Geometry
    properties: VolumeProperties


class NoticeIn(_Strict):
    title: str = Field("", max_length=200)
    volumes: list[VolumeFeature] = Field(min_length=1)


class NoticeModifyIn(NoticeIn):
    version: int = Field(description="The version you read; a stale one is refused (409).")


class CancelIn(_Strict):
    version: int | None = None


class VolumeFeatureCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[dict[str, Any]]


class ApprovalOut(BaseModel):
    """What a notice needs (or got) from one party before it may activate."""

    party: str
    kind: str = Field(description="acknowledgment (a counterpart) or approval (an authority)")
    state: str = Field(description="pending, acknowledged, approved or rejected")
    reason: str | None
    requested_at: datetime
    decided_at: datetime | None


class DecisionOut(ApprovalOut):
    """Your decision on a notice, and the notice's state after it."""

    notice: str
    notice_state: str


class RejectIn(_Strict):
    reason: str = Field(min_length=1, max_length=MAX_REASON, description="Why, for the filer.")


class NoticeOut(BaseModel):
    """A notice with its lead-time flag and what it awaits from other parties."""

    id: str
    party: str
    title: str
    state: str
    version: int
    filed_at: datetime
    updated_at: datetime
    lead_time_s: float
    short_notice: bool = Field(
        description="Filed (or modified) later than one of your agreements' minimum lead time."
    )
    standing: bool = Field(
        description="An authority's standing zone (airspace structure imported with "
        "`deconfliction zones import`), not planned activity."
    )
    approvals: list[ApprovalOut]
    volumes: VolumeFeatureCollection


class ConflictProperties(BaseModel):
    conflict: str
    kind: str
    counterpart: str
    notice: str | None
    volume: int | None
    lower_m: float
    upper_m: float
    start: datetime
    end: datetime


class ConflictFeature(BaseModel):
    """Where a conflict lies, as the viewer may see it (intersection, band, window)."""

    type: Literal["Feature"] = "Feature"
    geometry: dict[str, Any]
    properties: ConflictProperties


class FilingOut(BaseModel):
    notice: NoticeOut
    conflicts: list[ConflictFeature]


class AlertOut(BaseModel):
    """An alert with its acknowledgment deadline and where it stands on the ladder."""

    id: str
    kind: str
    state: str
    priority: str
    created_at: datetime
    acknowledged_at: datetime | None
    ack_deadline: datetime | None = Field(description="The current tier's deadline (UTC).")
    escalation_tier: int = Field(description="Ladder tiers climbed so far (0: none).")
    escalation_state: str = Field(description="none, escalated, stopped or unacknowledged")
    conflict: ConflictFeature


class PartyOut(BaseModel):
    name: str
    role: str


def _volume(feature: VolumeFeature, index: int, limits: FootprintLimits) -> Volume4D:
    p = feature.properties
    try:
        footprint = Footprint.from_geojson(feature.geometry.model_dump(), p.radius_m, limits)
        return Volume4D(footprint, p.lower_m, p.upper_m, p.start, p.end)
    except ValidationError as exc:
        raise type(exc)(f"volumes[{index}]: {exc.message}", volume=index, **exc.detail) from None


def draft_from(body: NoticeIn, limits: FootprintLimits) -> NoticeDraft:
    """The domain draft of a request body; the core's validation errors name the volume."""
    volumes = tuple(_volume(f, i, limits) for i, f in enumerate(body.volumes))
    return NoticeDraft(volumes=volumes, title=body.title)


def volume_feature(volume: Volume4D) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "lower_m": volume.lower_m,
        "upper_m": volume.upper_m,
        "start": volume.start.isoformat(),
        "end": volume.end.isoformat(),
    }
    if volume.footprint.radius_m is not None:
        properties["radius_m"] = volume.footprint.radius_m
    return {"type": "Feature", "geometry": volume.footprint.to_geojson(), "properties": properties}


def approval_out(view: ApprovalView) -> ApprovalOut:
    return ApprovalOut(
        party=view.party,
        kind=view.kind.value,
        state=view.state.value,
        reason=view.reason,
        requested_at=view.requested_at,
        decided_at=view.decided_at,
    )


def decision_out(decision: Decision) -> DecisionOut:
    return DecisionOut(
        **approval_out(decision.approval).model_dump(),
        notice=decision.approval.notice_id,
        notice_state=decision.notice_state.value,
    )


def notice_out(notice: NoticeView) -> NoticeOut:
    return NoticeOut(
        id=notice.id,
        party=notice.party,
        title=notice.title,
        state=notice.state.value,
        version=notice.version,
        filed_at=notice.filed_at,
        updated_at=notice.updated_at,
        lead_time_s=notice.lead_time_s,
        short_notice=notice.short_notice,
        standing=notice.standing,
        approvals=[approval_out(a) for a in notice.approvals],
        volumes=VolumeFeatureCollection(features=[volume_feature(v) for v in notice.volumes]),
    )


def conflict_feature(conflict: ConflictView) -> ConflictFeature:
    return ConflictFeature.model_validate(conflict_document(conflict))


def alert_out(alert: AlertView) -> AlertOut:
    return AlertOut.model_validate(alert_document(alert))


def created(model: BaseModel, location: str, replayed: bool = False) -> Response:
    """A 201 response of ``model`` at ``location`` (``Idempotent-Replayed: true`` for a
    retry answered with the first result).

    Its JSON is written once, straight from the model: returned as a model, FastAPI
    would dump it, check the dump against the route's model and only then encode it.
    """
    headers = {"Location": location}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(
        model.model_dump_json(by_alias=True),
        status_code=201,
        media_type="application/json",
        headers=headers,
    )

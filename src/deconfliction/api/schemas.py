"""Pydantic models of the HTTP boundary (GeoJSON in, GeoJSON out) and their converters.

Pydantic checks shapes and types; the core validates geometry, bands and windows with
messages a person can act on. Domain objects never leave through these models unconverted.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import Response
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Strict,
    Tag,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from deconfliction.alerts import alert_document, conflict_document
from deconfliction.core.footprint import DEFAULT_MAX_AREA_M2, Footprint, FootprintLimits
from deconfliction.core.volume import MAX_ALTITUDE_M, MIN_ALTITUDE_M, Volume4D
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
from deconfliction.parties import NAME_PATTERN

__all__ = [
    "IDEMPOTENCY_KEY_PATTERN",
    "MAX_OFFSET",
    "MAX_SEQ",
    "TEXT_PATTERN",
    "AlertOut",
    "ApprovalOut",
    "ConflictFeature",
    "DecisionOut",
    "FilingOut",
    "NoticeIn",
    "NoticeModifyIn",
    "NoticeOut",
    "PartyName",
    "RejectIn",
    "Text",
    "UTCTime",
    "VolumeFeature",
    "alert_out",
    "approval_out",
    "conflict_feature",
    "created",
    "decision_out",
    "draft_from",
    "notice_out",
]


TEXT_PATTERN = "^[^\\x00-\\x08\\x0b-\\x1f\\u202a-\\u202e\\u2066-\\u2069]*$"
"""Text as the API documents it: no C0 control character but tab and newline, and no
bidi embedding, override or isolate (U+202A-U+202E, U+2066-U+2069)."""
_FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\u202a-\u202e\u2066-\u2069]")
IDEMPOTENCY_KEY_PATTERN = r"^\S(.*\S)?$"
"""An Idempotency-Key: at least one character, not blank at either end."""
MAX_TITLE = 200
"""The longest notice title, in characters."""
MAX_RADIUS_M = math.floor(math.sqrt(DEFAULT_MAX_AREA_M2 / math.pi))
"""The largest circle radius, metres: the one whose area is the default largest
footprint (178,412 m for 100,000 km²)."""
MAX_OFFSET = 2**31
"""The largest page offset a list accepts (far beyond any list's length)."""
MAX_SEQ = 2**53
"""The largest event sequence number a client may name."""


def _plain(value: str) -> str:
    """``value``, if it holds no forbidden character (pydantic refuses lone surrogates)."""
    found = _FORBIDDEN.search(value)
    if found is not None:
        raise PydanticCustomError(
            "forbidden_character",
            "character U+{codepoint} at offset {offset} is not allowed: text may not hold "
            "control characters other than tab and newline, bidi overrides or isolates; "
            "remove it",
            {"offset": found.start(), "codepoint": f"{ord(found.group()):04X}"},
        )
    return value


Text = Annotated[str, AfterValidator(_plain), Field(json_schema_extra={"pattern": TEXT_PATTERN})]
"""A string a person wrote (a title, a message, a reason): see :data:`TEXT_PATTERN`."""

PartyName = Annotated[str, Field(pattern=NAME_PATTERN, max_length=100)]


def _utc_time(value: datetime) -> datetime:
    """``value`` in UTC; a time that has no UTC equivalent (year 1 or 9999 with an
    offset that takes it past the calendar) is refused."""
    if value.tzinfo is None or value.utcoffset() is None:
        return value  # the core says how to give the zone
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise PydanticCustomError(
            "time_out_of_range",
            "{time} is beyond the calendar once converted to UTC; give a time in UTC",
            {"time": value.isoformat()},
        ) from None


UTCTime = Annotated[datetime, AfterValidator(_utc_time)]
Number = Annotated[float, Strict(), Field(allow_inf_nan=False)]
"""A finite JSON number (not a string, not a boolean)."""


def _integral(value: Any) -> Any:
    """A float with no fraction as the integer it is (JSON Schema counts 3.0 as one)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


Version = Annotated[int, Strict(), Field(ge=1, le=MAX_OFFSET), BeforeValidator(_integral)]
"""A notice's version: a JSON integer from 1, 3.0 included (not a string or boolean)."""


class _Strict(BaseModel):
    """A request body: no unknown member."""

    model_config = ConfigDict(extra="forbid")


class _Open(BaseModel):
    """A GeoJSON object: foreign members are allowed (RFC 7946, 6.1) and ignored."""

    model_config = ConfigDict(extra="allow")


_POSITION_SCHEMA = {
    "type": "array",
    "description": "[lon, lat] in degrees (WGS84), optionally with an altitude (ignored).",
    "prefixItems": [
        {"type": "number", "minimum": -180, "maximum": 180},
        {"type": "number", "minimum": -90, "maximum": 90},
        {"type": "number"},
    ],
    "items": False,
    "minItems": 2,
    "maxItems": 3,
}

Position = Annotated[
    list[Number],
    Field(min_length=2, max_length=3),
    WithJsonSchema(_POSITION_SCHEMA),
]
"""A GeoJSON position; the core checks its ranges and says which vertex is wrong."""

Ring = Annotated[list[Position], Field(min_length=4)]
"""A closed ring: at least 3 distinct vertices, the first repeated at the end (the
vertex limit in force, 10,000 by default, is checked by the core)."""


class PolygonGeometry(_Open):
    """A polygon: an outer ring, then holes; each ring closed (last position = first)."""

    type: Literal["Polygon"]
    coordinates: list[Ring] = Field(min_length=1)


class PointGeometry(_Open):
    """The centre of a circle whose radius is the volume's ``radius_m``."""

    type: Literal["Point"]
    coordinates: Position


class _Window(_Strict):
    lower_m: Number = Field(
        ge=MIN_ALTITUDE_M,
        le=MAX_ALTITUDE_M,
        description="Lower altitude limit, metres above mean sea level (below upper_m).",
    )
    upper_m: Number = Field(
        ge=MIN_ALTITUDE_M,
        le=MAX_ALTITUDE_M,
        description="Upper altitude limit, metres above mean sea level.",
    )
    start: UTCTime = Field(description="Start of the window, RFC 3339 with offset (UTC).")
    end: UTCTime = Field(description="End of the window (exclusive, after start), RFC 3339.")
    floor_m: Number | None = Field(
        None,
        ge=MIN_ALTITUDE_M,
        le=MAX_ALTITUDE_M,
        description="Standing zones only (422 floor-not-standing elsewhere): the ground "
        "elevation under the volume, metres in the traffic feeds' altitude reference, at or "
        "below lower_m; no aircraft inside is predicted below it.",
    )


class PolygonProperties(_Window):
    """A polygon volume's band and window."""


class CircleProperties(_Window):
    """A circle volume's band, window and radius."""

    radius_m: Number = Field(
        gt=0,
        le=MAX_RADIUS_M,
        description="The circle's radius in metres; an agreement's largest footprint may "
        "allow less.",
    )


class PolygonFeature(_Open):
    """A Volume4D over a polygon, as a GeoJSON Feature."""

    type: Literal["Feature"] = "Feature"
    geometry: PolygonGeometry
    properties: PolygonProperties


class CircleFeature(_Open):
    """A Volume4D over a geodesic circle (a Point and ``radius_m``), as a GeoJSON Feature."""

    type: Literal["Feature"] = "Feature"
    geometry: PointGeometry
    properties: CircleProperties


def _geometry_type(feature: Any) -> str | None:
    """The feature's ``geometry.type``: which kind of volume it is."""
    if isinstance(feature, PolygonFeature | CircleFeature):
        return feature.geometry.type
    geometry = feature.get("geometry") if isinstance(feature, dict) else None
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    return kind if isinstance(kind, str) else None


VolumeFeature = Annotated[
    Annotated[PolygonFeature, Tag("Polygon")] | Annotated[CircleFeature, Tag("Point")],
    Discriminator(_geometry_type),
]
"""One Volume4D: a polygon, or a circle; told apart by ``geometry.type``."""


class NoticeIn(_Strict):
    title: Text = Field("", max_length=MAX_TITLE)
    volumes: list[VolumeFeature] = Field(min_length=1)


class NoticeModifyIn(NoticeIn):
    version: Version = Field(description="The version you read; a stale one is refused (409).")


class CancelIn(_Strict):
    version: Version | None = None


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
    reason: Text = Field(min_length=1, max_length=MAX_REASON, description="Why, for the filer.")


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


def _volume(
    feature: PolygonFeature | CircleFeature, index: int, limits: FootprintLimits
) -> Volume4D:
    p = feature.properties
    radius_m = p.radius_m if isinstance(p, CircleProperties) else None
    try:
        footprint = Footprint.from_geojson(feature.geometry.model_dump(), radius_m, limits)
        return Volume4D(footprint, p.lower_m, p.upper_m, p.start, p.end, p.floor_m)
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
    if volume.floor_m is not None:
        properties["floor_m"] = volume.floor_m
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

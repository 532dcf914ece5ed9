"""``/v1/tracks``: your aircraft's states in (HTTP batches or a WebSocket), your tracks
and your live tactical alerts out.

**HTTP** ``POST /v1/tracks`` with ``{"states": [row, ...]}`` (a row as in
:mod:`deconfliction.tracks.batch`) answers ``202`` with a per-row report::

    {"received": 3, "accepted": 2,
     "rejected": [{"index": 1, "id": "4b1814", "reason": "latitude 91.0 is outside ..."}]}

A batch is refused whole only when it is not ``{"states": [...]}``, holds more than
``Settings.track_max_batch`` states (422), or comes from an observer (403).

**WebSocket** ``GET /v1/tracks/stream``: authenticate as on ``/v1/stream`` (the
``Authorization: Bearer <token>`` header, or ``{"token": "<token>"}`` as the first
message within 10 s); the service says ``{"hello": {"party", "max_batch"}}``. Then
each message ``{"states": [...], "batch": <anything, optional>}`` is answered, in
order, with its report (and the ``batch`` echoed). A message that is not a batch is
answered ``{"error": {problem}}`` and the connection stays open; a bad token ends it
(close code 4401), and so does an observer's (4403).

``GET /v1/tracks``: the last state of each of your aircraft still held.
``GET /v1/tracks/alerts``: your open tactical alerts with the latest prediction (the
stored alert holds what you were last told; this is the current tick's).
"""

from __future__ import annotations

import json
from contextlib import suppress
from datetime import datetime
from functools import partial
from typing import Any

import anyio
from anyio import to_thread
from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ConfigDict, Field

from deconfliction.api.auth import CurrentParty, check_again, services, websocket_party
from deconfliction.api.body import ContractRoute
from deconfliction.api.connections import (
    REVOKED_CODE,
    REVOKED_REASON,
    revoked_problem,
    until_revoked,
)
from deconfliction.api.problems import problem_document, responses
from deconfliction.api.services import Services
from deconfliction.errors import (
    DeconflictionError,
    PermissionDeniedError,
    ValidationError,
)
from deconfliction.parties import PartyRef, Role
from deconfliction.tracks.service import BatchReport

__all__ = ["AUTH_TIMEOUT_S", "router"]

router = APIRouter(prefix="/v1/tracks", tags=["tracks"], route_class=ContractRoute)

AUTH_TIMEOUT_S = 10.0
"""Seconds a WebSocket client without an Authorization header has to send its token."""


class TrackBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    states: list[Any] = Field(
        description="Aircraft states: id, time (RFC 3339), lat, lon, alt_m, gs_mps, trk_deg, "
        "vs_mps, optionally notice (one of your notices) and on_ground (true: reported on "
        "the ground). Each row is judged on its own."
    )


class RejectedRowOut(BaseModel):
    index: int = Field(description="The row's index in the batch, from 0.")
    id: str | None = Field(description="The row's aircraft id, if it has one.")
    reason: str


class TrackReportOut(BaseModel):
    received: int
    accepted: int
    rejected: list[RejectedRowOut]


class TrackOut(BaseModel):
    id: str
    time: datetime
    lat: float
    lon: float
    alt_m: float
    gs_mps: float
    trk_deg: float
    vs_mps: float
    notice: str | None


class ClusterOut(BaseModel):
    own: int = Field(description="Your aircraft in the crowd.")
    other: int = Field(description="The counterpart's aircraft in it.")
    radius_m: float = Field(description="The pair's protected-zone radius, metres.")
    summary: str = Field(description="The sentence saying so.")


class TrackDetailOut(BaseModel):
    aircraft: str | None = Field(description="Your aircraft concerned, if any.")
    moment: str = Field(description="closest-approach, entry or exit")
    at: datetime = Field(description="When that moment is predicted (UTC).")
    position: list[float] = Field(description="[lon, lat, alt_m] there and then.")
    dcpa_m: float | None = Field(description="Distance at closest approach (track-track).")
    tin: datetime
    tout: datetime | None
    inside: bool = Field(description="Happening now: a loss of separation, an intrusion, ...")
    threatens: list[str] = Field(description="Parties your nonconforming aircraft threatens.")
    cluster: ClusterOut | None = Field(
        default=None, description="track-cluster only: how many aircraft are crowded together."
    )


class TrackAlertOut(BaseModel):
    alert: str
    conflict: str
    kind: str
    counterpart: str
    notice: str | None
    geometry: dict[str, Any]
    track: TrackDetailOut


def report_out(report: BatchReport) -> TrackReportOut:
    return TrackReportOut(
        received=report.received,
        accepted=report.accepted,
        rejected=[
            RejectedRowOut(index=r.row, id=r.id or None, reason=r.reason) for r in report.rejected
        ],
    )


@router.post("", status_code=202, responses=responses(403, s403="Observers report no aircraft"))
def report_tracks(body: TrackBatchIn, party: CurrentParty, request: Request) -> TrackReportOut:
    """Report states of your own aircraft; every row is accepted or refused on its own."""
    return report_out(services(request).tracks.report(party, body.states))


@router.get("")
def list_tracks(party: CurrentParty, request: Request) -> list[TrackOut]:
    """The last state of each of your aircraft (until it ages out)."""
    return [
        TrackOut.model_validate(t, from_attributes=True)
        for t in services(request).tracks.tracks_of(party)
    ]


@router.get("/alerts")
def live_alerts(party: CurrentParty, request: Request) -> list[TrackAlertOut]:
    """Your open tactical alerts with the current tick's prediction, soonest first."""
    return [
        TrackAlertOut(
            alert=a.alert_id,
            conflict=a.conflict_id,
            kind=a.kind,
            counterpart=a.counterpart,
            notice=a.notice,
            geometry={"type": "Point", "coordinates": list(a.point)},
            track=TrackDetailOut.model_validate(a.track),
        )
        for a in services(request).tracks.alerts_of(party)
    ]


@router.websocket("/stream")
async def stream(websocket: WebSocket) -> None:
    svc: Services = websocket.app.state.services
    await websocket.accept()
    try:
        party, token = await websocket_party(websocket, svc, AUTH_TIMEOUT_S)
        if party.role == Role.OBSERVER:
            raise PermissionDeniedError(
                f"party {party.name!r} is an observer; only operators and authorities "
                "report aircraft"
            )
        limits = await to_thread.run_sync(svc.limits.of, party.id)
        with svc.connections.hold(party, limits.max_streams):
            await websocket.send_json(
                {"hello": {"party": party.name, "max_batch": svc.settings.track_max_batch}}
            )
            revoked = await _take_batches(websocket, svc, party, token)
    except WebSocketDisconnect:
        return
    except DeconflictionError as error:
        await _end(websocket, problem_document(error), 4000 + error.status)
        return
    if revoked:
        await _end(websocket, revoked_problem(), REVOKED_CODE, REVOKED_REASON)


async def _end(websocket: WebSocket, problem: dict[str, Any], code: int, reason: str = "") -> None:
    with anyio.move_on_after(5), suppress(WebSocketDisconnect, RuntimeError, OSError):
        await websocket.send_json({"error": problem})
        await websocket.close(code, reason)


async def _take_batches(websocket: WebSocket, svc: Services, party: PartyRef, token: str) -> bool:
    """Answer each batch until the client leaves (False) or the token is revoked (True)."""
    revoked = False
    async with anyio.create_task_group() as tasks:

        async def watch() -> None:
            nonlocal revoked
            await until_revoked(partial(check_again, svc, token), svc.token_check_s)
            revoked = True
            tasks.cancel_scope.cancel()

        tasks.start_soon(watch)
        with suppress(WebSocketDisconnect):
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                text = message.get("text")
                if text is None:
                    text = (message.get("bytes") or b"").decode("utf-8", errors="replace")
                await websocket.send_json(await _answer(svc, party, text))
        tasks.cancel_scope.cancel()
    return revoked


async def _answer(svc: Services, party: PartyRef, text: str) -> dict[str, Any]:
    """The report on one message, or the problem with it."""
    try:
        frame = json.loads(text)
    except ValueError:
        frame = None
    if not isinstance(frame, dict) or not isinstance(frame.get("states"), list):
        error = ValidationError('send batches as {"states": [...]} (optionally with "batch")')
        return {"error": problem_document(error)}
    try:
        report = await to_thread.run_sync(svc.tracks.report, party, frame["states"])
    except DeconflictionError as error:
        answer: dict[str, Any] = {"error": problem_document(error)}
    else:
        answer = report_out(report).model_dump()
    if "batch" in frame:
        answer["batch"] = frame["batch"]
    return answer

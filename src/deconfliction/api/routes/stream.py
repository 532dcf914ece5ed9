"""``/v1/stream`` (WebSocket) and ``/v1/events`` (HTTP polling): your events, in order, once.

**WebSocket** ``GET /v1/stream?after=SEQ`` (``after`` defaults to 0: everything):

1. Authenticate with the ``Authorization: Bearer <token>`` header. A client that cannot
   set headers on a WebSocket (a browser) sends ``{"token": "<token>"}`` as its first
   message instead, within 10 seconds.
2. The service sends ``{"hello": {"party", "after", "last_seq"}}``, then every event
   after ``SEQ`` in order, then each new one as it commits, each exactly once:
   ``{"seq": n, "kind": ..., "item": ..., "at": ..., "payload": {...}}``.
3. The client acknowledges with ``{"ack": n}``: cumulative, it says "I have everything
   up to n"; messages and alerts so acknowledged are recorded as delivered (with signed
   receipts). Connecting with ``after=SEQ`` acknowledges everything up to ``SEQ`` too.
   Acknowledging a position again, or an older one, is a no-op; so is one that covers
   only events that carry no message or alert (nothing to record).
4. To resume after any disconnection, reconnect with ``after`` = the last ``seq``
   received: you get exactly what you missed.

Errors end the connection: ``{"error": {problem}}``, then close code 4000 + the HTTP
status (4401 bad token, 4422 bad ``after`` or frame, 4429 more streams open than the
party's ``max_streams``). A client that does not take its events for
:data:`SEND_TIMEOUT_S` seconds is closed with 4408, and one that has let its party's
``max_unacked`` events go unacknowledged with 4429; either reconnects with its last
seq. When the token the stream was opened with is revoked or expires, the stream ends
with 4401, reason ``token-revoked``, within the auth cache period (see
:mod:`deconfliction.api.connections`). Each connection holds at most
:data:`SEND_BUFFER` events read ahead of the client, so a slow client costs little
memory and holds up no one else.

**Polling** ``GET /v1/events?after=SEQ&limit=N&wait=S``: the events after ``SEQ``
(``after`` also acknowledges everything up to it); with ``wait``, an empty answer waits
up to ``S`` seconds for the next event (long poll).
"""

from __future__ import annotations

import json
from collections import deque
from contextlib import suppress
from dataclasses import dataclass, field
from functools import partial
from typing import Annotated, Any

import anyio
from anyio import to_thread
from fastapi import APIRouter, Query, Request, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, Field

from deconfliction.api.auth import CurrentParty, check_again, services, websocket_party
from deconfliction.api.body import ContractRoute
from deconfliction.api.connections import (
    REVOKED_CODE,
    REVOKED_REASON,
    revoked_problem,
    until_revoked,
)
from deconfliction.api.problems import problem_document
from deconfliction.api.schemas import MAX_SEQ
from deconfliction.api.services import Services
from deconfliction.bus import BusClosedError
from deconfliction.delivery.stream import CARRIERS, EventCache, EventPage, EventReads
from deconfliction.errors import DeconflictionError, ValidationError
from deconfliction.parties import PartyRef

__all__ = ["AUTH_TIMEOUT_S", "RECHECK_S", "SEND_BUFFER", "SEND_TIMEOUT_S", "router"]

router = APIRouter(tags=["delivery"], route_class=ContractRoute)

SEND_BUFFER = 256
"""Events a connection reads ahead of its client, at most."""
SEND_TIMEOUT_S = 30.0
"""Seconds a client may take to accept one read-ahead of events before it is dropped."""
AUTH_TIMEOUT_S = 10.0
"""Seconds a client without an Authorization header has to send its token."""
RECHECK_S = 15.0
"""Seconds between reads of an idle stream, should a wake-up be missed (another process
wrote without this process's bus)."""
MAX_WAIT_S = 30.0
"""The longest long poll, in seconds."""
CLOSE_TIMEOUT_S = 5.0
"""Seconds to say why a connection ends, before leaving it to the server to drop."""


class EventOut(BaseModel):
    seq: int
    kind: str
    item: str | None
    at: str = Field(json_schema_extra={"format": "date-time"})
    payload: Any


class EventsOut(BaseModel):
    events: list[EventOut]
    last_seq: int = Field(description="Your newest event's seq when this was read.")


@router.get("/v1/events")
async def poll_events(
    party: CurrentParty,
    request: Request,
    after: Annotated[int, Query(ge=0, le=MAX_SEQ, description="The last seq you have.")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    wait: Annotated[float, Query(ge=0, le=MAX_WAIT_S, description="Long poll, seconds.")] = 0,
) -> EventsOut:
    """Your events after ``after``, oldest first; ``after`` acknowledges all up to it."""
    svc = services(request)
    page = await to_thread.run_sync(svc.deliveries.events, party, after, limit)
    if after > 0:
        await svc.acks.record(party, after)
    if not page.events and wait > 0:
        page = await _wait_for_events(svc, party, after, limit, wait)
    return EventsOut(
        events=[EventOut.model_validate(e.to_json()) for e in page.events],
        last_seq=page.last_seq,
    )


async def _wait_for_events(
    svc: Services, party: PartyRef, after: int, limit: int, wait_s: float
) -> EventPage:
    with anyio.move_on_after(wait_s):
        async with svc.bus.subscribe(party.id) as subscription:
            while True:
                page = await to_thread.run_sync(svc.deliveries.events, party, after, limit)
                if page.events:
                    return page
                try:
                    await subscription.wait(wait_s)
                except BusClosedError:
                    break
    return await to_thread.run_sync(svc.deliveries.events, party, after, limit)


def _sources(websocket: WebSocket, svc: Services) -> tuple[EventCache, EventReads]:
    """The app's events committed lately (kept from the commits of this process), and
    its merged stream reads (one read at a time, for every stream that asked: streams
    take neither the worker threads nor the connections), made in its event loop on
    first use."""
    reads: EventReads | None = getattr(websocket.app.state, "stream_reads", None)
    if reads is None:
        reads = websocket.app.state.stream_reads = EventReads(svc.deliveries)
    return svc.events, reads


@dataclass
class _Position:
    """How far one connection has got: sent to the client, and acknowledged by it; and
    the events sent but not yet acknowledged that carry an item (a message, an alert),
    whose acknowledgment is a delivery to record (any other needs no write)."""

    sent: int
    acked: int
    max_unacked: int
    """Events sent without an acknowledgment before the connection ends (the client then
    reconnects with ``after``, which acknowledges up to there): memory stays bounded."""
    carriers: deque[int] = field(default_factory=deque)


class _Closing(Exception):
    """End the connection with this close code, after sending ``problem`` if any."""

    def __init__(
        self, code: int, problem: dict[str, Any] | None = None, reason: str | None = None
    ) -> None:
        super().__init__(code)
        self.code = code
        self.problem = problem
        self.reason = reason


def _problem(error: DeconflictionError) -> _Closing:
    return _Closing(4000 + error.status, problem_document(error))


@router.websocket("/v1/stream")
async def stream(websocket: WebSocket, after: int = 0) -> None:
    svc: Services = websocket.app.state.services
    await websocket.accept()
    try:
        party, token = await websocket_party(websocket, svc, AUTH_TIMEOUT_S)
        limits = await to_thread.run_sync(svc.limits.of, party.id)
        with svc.connections.hold(party, limits.max_streams):
            page = await to_thread.run_sync(svc.deliveries.events, party, after, 1)
            if after > 0:
                svc.acks.submit(party, after)
            await websocket.send_json(
                {"hello": {"party": party.name, "after": after, "last_seq": page.last_seq}}
            )
            at = _Position(sent=after, acked=after, max_unacked=limits.max_unacked)
            await _serve(websocket, svc, party, token, at)
    except WebSocketDisconnect:
        return
    except DeconflictionError as error:
        await _close(websocket, _problem(error))
    except _Closing as closing:
        await _close(websocket, closing)


async def _close(websocket: WebSocket, closing: _Closing) -> None:
    """Say why, then close; a client that takes nothing more is left to the server."""
    with anyio.move_on_after(CLOSE_TIMEOUT_S), suppress(WebSocketDisconnect, RuntimeError, OSError):
        if closing.problem is not None:
            await websocket.send_json({"error": closing.problem})
        reason = closing.reason or ("" if closing.problem is None else closing.problem["detail"])
        await websocket.close(closing.code, reason.encode()[:120].decode(errors="ignore"))


async def _serve(
    websocket: WebSocket, svc: Services, party: PartyRef, token: str, at: _Position
) -> None:
    """Send events and take acknowledgments until either side ends the connection, or
    the token is revoked."""
    outcome: list[BaseException] = []
    async with anyio.create_task_group() as tasks:

        async def watch() -> None:
            await until_revoked(partial(check_again, svc, token), svc.token_check_s)
            outcome.append(_Closing(REVOKED_CODE, revoked_problem(), REVOKED_REASON))
            tasks.cancel_scope.cancel()

        async def receive() -> None:
            try:
                await _receive_acks(websocket, svc, party, at)
            except (WebSocketDisconnect, _Closing, DeconflictionError) as ended:
                outcome.append(ended)
            tasks.cancel_scope.cancel()

        tasks.start_soon(receive)
        tasks.start_soon(watch)
        try:
            await _send_events(websocket, svc, party, at)
        except (WebSocketDisconnect, _Closing, BusClosedError) as ended:
            outcome.append(ended)
        tasks.cancel_scope.cancel()
    if outcome:
        first = outcome[0]
        if isinstance(first, BusClosedError):
            raise _Closing(1012)  # the service is restarting: reconnect
        raise first


async def _send_events(websocket: WebSocket, svc: Services, party: PartyRef, at: _Position) -> None:
    kept, reads = _sources(websocket, svc)
    page_full = False  # the last read stopped at the page's end: there may be more
    async with svc.bus.subscribe(party.id) as subscription:
        while True:
            events = kept.after(party.id, at.sent, SEND_BUFFER)
            if not events and (page_full or subscription.must_read(at.sent)):
                subscription.reading()
                events = await reads.next_events(party, at.sent, SEND_BUFFER)
                page_full = len(events) == SEND_BUFFER
            if not events:
                await subscription.wait(RECHECK_S)
                continue
            try:
                with anyio.fail_after(SEND_TIMEOUT_S):
                    for event in events:
                        if at.sent - at.acked >= at.max_unacked:
                            raise _unacknowledged(at)
                        await websocket.send_text(event.wire())
                        at.sent = event.seq
                        if event.kind in CARRIERS:
                            at.carriers.append(event.seq)
            except TimeoutError:
                detail = (
                    f"you took more than {SEND_TIMEOUT_S:g} s to take {len(events)} "
                    f"events; reconnect with after={at.sent} (the last seq you received)"
                )
                problem = {"status": 408, "code": "too-slow", "title": "Too slow", "detail": detail}
                raise _Closing(4408, problem) from None


def _unacknowledged(at: _Position) -> _Closing:
    detail = (
        f"{at.sent - at.acked} events sent to you are not acknowledged; send "
        '{"ack": <seq>} as you take them, or reconnect with '
        f"after={at.sent} (the last seq you received), which acknowledges them"
    )
    problem = {
        "status": 429,
        "code": "too-many-unacknowledged",
        "title": "Too many unacknowledged events",
        "detail": detail,
    }
    return _Closing(4429, problem)


async def _receive_acks(
    websocket: WebSocket, svc: Services, party: PartyRef, at: _Position
) -> None:
    while True:
        text = await websocket.receive_text()
        try:
            frame = json.loads(text)
            up_to = frame["ack"]
        except (ValueError, TypeError, KeyError):
            raise ValidationError(
                'send acknowledgments as {"ack": <seq>}; nothing else is expected'
            ) from None
        if not isinstance(up_to, int) or isinstance(up_to, bool) or up_to < 0:
            raise ValidationError(f"ack must be a seq (0 or more), not {up_to!r}")
        if up_to > at.sent:
            raise ValidationError(
                f"ack {up_to} is beyond the last event sent to you ({at.sent})", last_seq=at.sent
            )
        if up_to > at.acked:
            at.acked = up_to
            delivered = False
            while at.carriers and at.carriers[0] <= up_to:
                at.carriers.popleft()
                delivered = True
            if delivered:
                svc.acks.submit(party, up_to)

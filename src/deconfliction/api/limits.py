"""The gate every HTTP request passes before the app: bounded before it is trusted.

Plain ASGI (Starlette's ``BaseHTTPMiddleware`` streams every response through a task
and a queue, which cost a filing about a millisecond of CPU). In order:

1. **Size, declared.** A ``Content-Length`` above the route's limit is refused (413
   ``too-large``) before anything is read. ``POST /v1/tracks`` may carry
   ``Settings.max_track_body_bytes``; every other route ``Settings.max_body_bytes``.
2. **Who.** On ``/v1`` (but for the public ``/v1/journal/key``) the bearer token is
   checked before a byte of the body is read: no or a wrong token is 401. The party
   is handed to the routes in the request's state, so they do not look it up again.
3. **Rate.** Each party has a token bucket (``rate_per_s``, ``rate_burst``, see
   :mod:`deconfliction.limits`): a request with the bucket empty is 429
   ``rate-limited`` with ``Retry-After`` (whole seconds) and the limit in force.
4. **Size, counted.** The body is counted as it streams in, chunked or not; at the
   limit the request is refused with 413 and nothing more is read.

Every refusal made while a body may still be on its way says ``Connection: close``,
so the server drops the connection instead of reading the rest: memory stays bounded
whatever a client sends (uvicorn pauses reading while the app does not take the body).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from anyio import to_thread
from fastapi import HTTPException
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from deconfliction.api import problems
from deconfliction.api.auth import party_of_token
from deconfliction.api.services import Services
from deconfliction.errors import AuthenticationError, DeconflictionError
from deconfliction.parties import PartyRef
from deconfliction.settings import Settings

__all__ = ["PARTY_STATE_KEY", "Gate", "RateBuckets"]

PARTY_STATE_KEY = "party"
"""Where in the request's state the gate leaves the authenticated party."""
_PUBLIC = frozenset({"/v1/journal/key"})
_TRACKS = "/v1/tracks"


class RateBuckets:
    """A token bucket per party: ``burst`` requests at once, refilled at ``rate_per_s``."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._buckets: dict[int, tuple[float, float]] = {}  # party id: (tokens, when)

    def take(self, party_id: int, rate_per_s: float, burst: int) -> float:
        """Take one request from the party's bucket: 0 if it may go on, else the seconds
        until it may (nothing is taken then). ``rate_per_s`` <= 0: no limit."""
        if rate_per_s <= 0:
            return 0.0
        now = self._monotonic()
        tokens, then = self._buckets.get(party_id, (float(burst), now))
        tokens = min(float(max(burst, 1)), tokens + (now - then) * rate_per_s)
        if tokens >= 1.0:
            self._buckets[party_id] = (tokens - 1.0, now)
            return 0.0
        self._buckets[party_id] = (tokens, now)
        return (1.0 - tokens) / rate_per_s


class _BodyTooLarge(HTTPException):
    """Raised from ``receive`` at the limit; FastAPI lets an ``HTTPException`` met while
    reading the body through, to the problem handler."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, _too_large_detail(limit), headers={"Connection": "close"})


def _too_large_detail(limit: int) -> str:
    return (
        f"the body is larger than {limit} bytes, the limit of this route; send less per "
        "request (fewer or simpler volumes, smaller track batches)"
    )


class Gate:
    """See the module's docstring; the app's services (its registry, its parties'
    limits) are found in the lifespan's state."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self._app = app
        self._max_body = settings.max_body_bytes
        self._max_track_body = settings.max_track_body_bytes
        self.buckets = RateBuckets()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        path: str = scope["path"]
        limit = self._max_track_body if path == _TRACKS else self._max_body
        headers = Headers(scope=scope)
        length = headers.get("content-length")
        may_have_body = (length not in (None, "0")) or "transfer-encoding" in headers
        close = {"Connection": "close"} if may_have_body else {}
        if length is not None and (not length.isdigit() or int(length) > limit):
            await _refuse(scope, receive, send, 413, "too-large", _too_large_detail(limit), close)
            return
        if path.startswith("/v1/") and path not in _PUBLIC:
            refused = await self._admit(scope, headers)
            if refused is not None:
                status, code, detail, extra_headers, extra = refused
                await _refuse(
                    scope, receive, send, status, code, detail, {**close, **extra_headers}, **extra
                )
                return
        await self._forward(scope, receive, send, limit)

    async def _admit(
        self, scope: Scope, headers: Headers
    ) -> tuple[int, str, str, dict[str, str], dict[str, Any]] | None:
        """Authenticate and take from the rate bucket; the refusal, if any."""
        svc: Services = scope["app"].state.services
        scheme, _, token = headers.get("authorization", "").partition(" ")
        try:
            if scheme.lower() != "bearer" or not token.strip():
                raise AuthenticationError(
                    "this route needs 'Authorization: Bearer <token>'; ask your "
                    "administrator for your party's token"
                )
            party: PartyRef = await party_of_token(svc.registry, token.strip(), svc.f3548.auth)
        except DeconflictionError as error:
            return error.status, error.code, error.message, {"WWW-Authenticate": "Bearer"}, {}
        limits = svc.limits.remembered(party.id)
        if limits is None:
            limits = await to_thread.run_sync(svc.limits.of, party.id)
        wait_s = self.buckets.take(party.id, limits.rate_per_s, limits.rate_burst)
        if wait_s > 0:
            retry = max(1, math.ceil(wait_s))
            detail = (
                f"party {party.name!r} may make {limits.rate_per_s:g} requests a second "
                f"(bursts of {limits.rate_burst}); retry after {retry} s"
            )
            extra = {"limit": "rate_per_s", "rate_per_s": limits.rate_per_s}
            extra["rate_burst"] = limits.rate_burst
            return 429, "rate-limited", detail, {"Retry-After": str(retry)}, extra
        scope.setdefault("state", {})[PARTY_STATE_KEY] = party
        return None

    async def _forward(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """Run the app with the body counted as it comes; refuse at the limit."""
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge(limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self._app(scope, counted, watched)
        except _BodyTooLarge:
            if started:
                raise
            await _refuse(
                scope,
                receive,
                send,
                413,
                "too-large",
                _too_large_detail(limit),
                {"Connection": "close"},
            )


async def _refuse(
    scope: Scope,
    receive: Receive,
    send: Send,
    status: int,
    code: str,
    detail: str,
    headers: dict[str, str],
    **extra: Any,
) -> None:
    titles = {401: "Not authenticated", 413: "Request too large", 429: "Too many requests"}
    response = problems.problem(status, code, titles[status], detail, headers or None, **extra)
    await response(scope, receive, send)

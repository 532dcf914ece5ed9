"""Bearer-token authentication: every route acts as the party holding the token."""

from __future__ import annotations

import json
from contextlib import suppress
from dataclasses import replace
from typing import Annotated, Any

import anyio
from anyio import to_thread
from fastapi import Depends, Request, WebSocket
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from deconfliction.api.services import Services
from deconfliction.errors import AuthenticationError
from deconfliction.f3548.enrolment import UssAuth
from deconfliction.f3548.tokens import looks_like_jwt
from deconfliction.parties import PartyRef, Registry
from deconfliction.signatures import verify_request

__all__ = [
    "CurrentParty",
    "check_again",
    "current_party",
    "party_of_token",
    "services",
    "websocket_party",
]

_bearer = HTTPBearer(auto_error=False, description="The party's token (deconfliction party add)")


def services(request: Request) -> Services:
    svc = request.app.state.services
    assert isinstance(svc, Services)
    return svc


async def current_party(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> PartyRef:
    """The party of the request's bearer token (as the gate found it, see
    :mod:`deconfliction.api.limits`); with ``Signature-Input``, the request's signature
    must verify with one of the party's keys, and it goes with the party."""
    svc = services(request)
    party = getattr(request.state, "party", None)
    if not isinstance(party, PartyRef):
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise AuthenticationError(
                "this route needs 'Authorization: Bearer <token>'; ask your administrator "
                "for your party's token"
            )
        party = await party_of_token(svc.registry, credentials.credentials, svc.f3548.auth)
    if "signature-input" not in request.headers:
        return party
    return replace(party, signature=await _signature(svc, party, request))


async def _signature(svc: Services, party: PartyRef, request: Request) -> dict[str, Any]:
    """The request's RFC 9421 signature, verified with the party's live keys."""
    keys = await to_thread.run_sync(svc.keys.live, party.id)
    signed = verify_request(
        request.method,
        str(request.url),
        request.headers.items(),
        await request.body(),
        keys,
        svc.clock.now(),
        svc.settings.signature_window_s,
    )
    return signed.to_json()


async def party_of_token(registry: Registry, token: str, uss: UssAuth | None = None) -> PartyRef:
    """A token accepted lately is answered on the event loop; others are looked up in
    the store on a worker thread. With ``uss``, an F3548 access token (a JWT) stands
    for its USS's party: a USS reads its alerts, as every party may, with it."""
    if uss is not None and uss.verifier.configured and looks_like_jwt(token):
        return (await uss.authenticate(token))[1]
    party = registry.remembered(token)
    if party is not None:
        return party
    return await to_thread.run_sync(registry.authenticate, token)


CurrentParty = Annotated[PartyRef, Depends(current_party)]


async def websocket_party(
    websocket: WebSocket, svc: Services, timeout_s: float
) -> tuple[PartyRef, str]:
    """The party a WebSocket acts as: from its ``Authorization: Bearer`` header, or, for
    clients that cannot set headers (browsers), from ``{"token": "..."}`` sent as the
    first message within ``timeout_s`` seconds. Returns the party and the token (a
    stream checks it again while it is open)."""
    header = websocket.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError("the Authorization header must be 'Bearer <token>'")
    else:
        token = ""
        with anyio.move_on_after(timeout_s):
            first = await websocket.receive_text()
            with suppress(ValueError, AttributeError):
                token = str(json.loads(first).get("token", ""))
        if not token:
            raise AuthenticationError(
                'send \'Authorization: Bearer <token>\', or {"token": "<token>"} as the '
                f"first message within {timeout_s:.0f} s"
            )
    token = token.strip()
    return await party_of_token(svc.registry, token, svc.f3548.auth), token


async def check_again(svc: Services, token: str) -> None:
    """Ask the store (not the cache) whether ``token`` is still good, or for an F3548
    access token, whether it still verifies; AuthenticationError if not."""
    uss = svc.f3548.auth
    if uss.verifier.configured and looks_like_jwt(token):
        await uss.authenticate(token)
        return
    await to_thread.run_sync(lambda: svc.registry.authenticate(token, fresh=True))

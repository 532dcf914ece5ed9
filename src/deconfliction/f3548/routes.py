"""``/dss/v1``: the F3548-21 DSS API (operational intent and constraint references,
subscriptions, USS availability), authenticated by RS256 access tokens.

Errors answer with the standard's ``ErrorResponse`` (``message``, plus our stable
``code``): 400 malformed, 401 bad token, 403 missing scope or another USS's entity,
404 unknown, 409 stale OVN or version (``AirspaceConflictResponse`` with
``missing_operational_intents`` / ``missing_constraints`` for an incomplete key), 412
a USS marked Down.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from uas_standards.astm.f3548.v21.constants import Scope

from deconfliction.errors import (
    AuthenticationError,
    DeconflictionError,
    MissingEntitiesError,
    ValidationError,
)
from deconfliction.f3548.dss import Dss, Reply
from deconfliction.f3548.enrolment import UssAuth
from deconfliction.f3548.records import CONSTRAINT, INTENT
from deconfliction.f3548.tokens import Claims
from deconfliction.parties import PartyRef

__all__ = ["F3548", "error_response", "router"]

router = APIRouter(
    prefix="/dss/v1",
    tags=["f3548"],
    responses={
        "4XX": {
            "description": "F3548-21 ErrorResponse (message) or, for 409 on a "
            "put, AirspaceConflictResponse; plus our stable code"
        }
    },
)
healthy = APIRouter(tags=["f3548"])

# the scopes of F3548-21, as its own package names them
_SC = Scope.StrategicCoordination.value
_CM = Scope.ConstraintManagement.value
_CP = Scope.ConstraintProcessing.value
_CMSA = Scope.ConformanceMonitoringForSituationalAwareness.value
_AA = Scope.AvailabilityArbitration.value


class F3548:
    """What the DSS routes serve with (kept in ``app.state.f3548``)."""

    def __init__(self, dss: Dss, auth: UssAuth) -> None:
        self.dss = dss
        self.auth = auth


def error_response(error: DeconflictionError) -> JSONResponse:
    """The standard's ``ErrorResponse`` (or ``AirspaceConflictResponse``) for an error."""
    status = 400 if isinstance(error, ValidationError) else error.status
    body: dict[str, Any] = {"message": error.message, "code": error.code}
    if isinstance(error, MissingEntitiesError):
        body.update(error.detail)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


class _User:
    """An authenticated USS: its token's claims and its party."""

    def __init__(self, claims: Claims, party: PartyRef) -> None:
        self.claims = claims
        self.party = party

    @property
    def uss(self) -> str:
        return self.party.name


class _Refused(Exception):
    def __init__(self, error: DeconflictionError) -> None:
        self.error = error


async def _user(request: Request) -> _User:
    f3548: F3548 = request.app.state.f3548
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    try:
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError("send 'Authorization: Bearer <access token>'")
        claims, party = await f3548.auth.authenticate(token.strip())
    except DeconflictionError as error:
        raise _Refused(error) from None
    return _User(claims, party)


User = Annotated[_User, Depends(_user)]


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise ValidationError("the body is not JSON") from None
    if not isinstance(body, dict):
        raise ValidationError("the body must be a JSON object")
    return body


async def _answer(
    request: Request, user: _User, scopes: tuple[str, ...], call: Callable[..., Reply], *args: Any
) -> Response:
    try:
        user.claims.require(*scopes)
        if request.method in ("PUT", "POST"):
            args = (*args, await _body(request))
        reply = await to_thread.run_sync(call, *args)
    except DeconflictionError as error:
        return error_response(error)
    return JSONResponse(reply.body, status_code=reply.status)


def _base(request: Request) -> str:
    """This service's base URL as the client reached it."""
    return str(request.base_url).rstrip("/")


def _dss(request: Request) -> Dss:
    f3548: F3548 = request.app.state.f3548
    return f3548.dss


# -- operational intent references ----------------------------------------------------
@router.post("/operational_intent_references/query")
async def query_intents(request: Request, user: User) -> Response:
    return await _answer(
        request, user, (_SC, _CMSA), _dss(request).query, INTENT, user.party, _base(request)
    )


@router.get("/operational_intent_references/{entityid}")
async def get_intent(entityid: str, request: Request, user: User) -> Response:
    dss = _dss(request)
    return await _answer(request, user, (_SC, _CMSA), dss.get, INTENT, user.uss, entityid)


@router.put("/operational_intent_references/{entityid}")
async def create_intent(entityid: str, request: Request, user: User) -> Response:
    dss = _dss(request)
    return await _answer(request, user, (_SC, _CMSA), dss.put, INTENT, user.party, entityid, None)


@router.put("/operational_intent_references/{entityid}/{ovn}")
async def update_intent(entityid: str, ovn: str, request: Request, user: User) -> Response:
    dss = _dss(request)
    return await _answer(request, user, (_SC, _CMSA), dss.put, INTENT, user.party, entityid, ovn)


@router.delete("/operational_intent_references/{entityid}/{ovn}")
async def delete_intent(entityid: str, ovn: str, request: Request, user: User) -> Response:
    dss = _dss(request)
    return await _answer(request, user, (_SC, _CMSA), dss.delete, INTENT, user.party, entityid, ovn)


# -- constraint references ------------------------------------------------------------
@router.post("/constraint_references/query")
async def query_constraints(request: Request, user: User) -> Response:
    dss = _dss(request)
    return await _answer(
        request, user, (_CM, _CP), dss.query, CONSTRAINT, user.party, _base(request)
    )


@router.get("/constraint_references/{entityid}")
async def get_constraint(entityid: str, request: Request, user: User) -> Response:
    dss = _dss(request)
    return await _answer(request, user, (_CM, _CP), dss.get, CONSTRAINT, user.uss, entityid)


@router.put("/constraint_references/{entityid}")
async def create_constraint(entityid: str, request: Request, user: User) -> Response:
    dss = _dss(request)
    return await _answer(request, user, (_CM,), dss.put, CONSTRAINT, user.party, entityid, None)


@router.put("/constraint_references/{entityid}/{ovn}")
async def update_constraint(entityid: str, ovn: str, request: Request, user: User) -> Response:
    dss = _dss(request)
    return await _answer(request, user, (_CM,), dss.put, CONSTRAINT, user.party, entityid, ovn)


@router.delete("/constraint_references/{entityid}/{ovn}")
async def delete_constraint(entityid: str, ovn: str, request: Request, user: User) -> Response:
    dss = _dss(request)
    return await _answer(request, user, (_CM,), dss.delete, CONSTRAINT, user.party, entityid, ovn)


# -- subscriptions --------------------------------------------------------------------
@router.post("/subscriptions/query")
async def query_subscriptions(request: Request, user: User) -> Response:
    dss = _dss(request)
    return await _answer(request, user, (_SC, _CP), dss.query_subscriptions, user.uss)


@router.get("/subscriptions/{subscriptionid}")
async def get_subscription(subscriptionid: str, request: Request, user: User) -> Response:
    dss = _dss(request)
    return await _answer(request, user, (_SC, _CP), dss.get_subscription, user.uss, subscriptionid)


@router.put("/subscriptions/{subscriptionid}")
async def create_subscription(subscriptionid: str, request: Request, user: User) -> Response:
    dss = _dss(request)
    return await _answer(
        request, user, (_SC, _CP), dss.put_subscription, user.party, subscriptionid, None
    )


@router.put("/subscriptions/{subscriptionid}/{version}")
async def update_subscription(
    subscriptionid: str, version: str, request: Request, user: User
) -> Response:
    dss = _dss(request)
    return await _answer(
        request, user, (_SC, _CP), dss.put_subscription, user.party, subscriptionid, version
    )


@router.delete("/subscriptions/{subscriptionid}/{version}")
async def delete_subscription(
    subscriptionid: str, version: str, request: Request, user: User
) -> Response:
    dss = _dss(request)
    return await _answer(
        request, user, (_SC, _CP), dss.delete_subscription, user.party, subscriptionid, version
    )


# -- USS availability -----------------------------------------------------------------
@router.get("/uss_availability/{uss_id}")
async def get_availability(uss_id: str, request: Request, user: User) -> Response:
    dss = _dss(request)
    return await _answer(request, user, (_SC, _CM, _CP, _CMSA, _AA), dss.availability, uss_id)


@router.put("/uss_availability/{uss_id}")
async def set_availability(uss_id: str, request: Request, user: User) -> Response:
    dss = _dss(request)
    return await _answer(request, user, (_AA,), dss.set_availability, user.uss, uss_id)


@healthy.get("/healthy")
def is_healthy() -> Response:
    """Whether the DSS answers (InterUSS's health check)."""
    return Response("ok", media_type="text/plain")


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, _Refused)
    return error_response(exc.error)


def install(app: Any) -> None:
    """Mount the DSS routes and their token refusals on ``app``."""
    app.add_exception_handler(_Refused, _refused)
    app.include_router(router)
    app.include_router(healthy)

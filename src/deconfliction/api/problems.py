"""RFC 9457 problem+json for every error, mapped from the error hierarchy in one place.

A problem carries ``type`` (a stable URN per error code), ``title``, ``status``,
``detail`` (what is wrong and what to do) and extension members (``code``, and facts
such as ``current_version`` or the list of ``errors`` in a request body).

The OpenAPI document says so too: :func:`install` completes it so that every ``/v1``
operation lists each status it can return with the :class:`Problem` schema as
``application/problem+json``. A route names the statuses of its own (403, 404, 409)
with :func:`responses`; those every route of a kind shares are added here: 401 where
a token is needed, 422 where there is input, 413 and 415 where there is a body, 429
everywhere under ``/v1``.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from deconfliction.errors import DeconflictionError

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "PROBLEM_TYPE_PREFIX",
    "Problem",
    "complete_openapi",
    "install",
    "problem",
    "problem_document",
    "responses",
]

PROBLEM_TYPE_PREFIX = "urn:deconfliction:problem:"
PROBLEM_MEDIA_TYPE = "application/problem+json"
_METHODS = {"get", "put", "post", "delete", "patch"}
_PARAMETER = re.compile(r"\{[^/}]+\}")
_log = logging.getLogger(__name__)


class Problem(BaseModel):
    """An RFC 9457 problem; further members carry facts a client may act on (the
    ``limit`` in force, the ``current_version``, the ``offset`` of a bad character, the
    ``errors`` in a request body)."""

    model_config = ConfigDict(extra="allow")
    type: str = Field(description=f"{PROBLEM_TYPE_PREFIX}<code>")
    title: str
    status: int
    detail: str = Field(description="What is wrong and what to do about it.")
    code: str = Field(description="Stable; see deconfliction.errors for the list.")


_SHARED = {
    401: "No bearer token, or one that is unknown, revoked or expired",
    403: "Your party's role may not do this",
    404: "No such item of yours (another party's reads as not found)",
    409: "Conflicts with the current state",
    413: "Body larger than the limit for this route",
    415: "Body is not JSON (Content-Type: application/json)",
    422: "Invalid input: malformed-json, invalid-utf8, too-deep, forbidden-character, "
    "invalid-input and the domain's codes; the problem says what and where",
    429: "Too many requests, or over a quota of your party (Retry-After, the limit in force)",
}


def responses(*statuses: int, **described: str) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route: each of ``statuses`` with its usual description,
    or the one given as ``described["s404"]`` (``s`` and the status)."""
    return {
        status: {"description": described.get(f"s{status}", _SHARED[status])} for status in statuses
    }


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {
        "type": PROBLEM_TYPE_PREFIX + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    return JSONResponse(
        body, status_code=status, headers=headers, media_type="application/problem+json"
    )


def problem_document(error: DeconflictionError) -> dict[str, Any]:
    """An error as the body of a problem sent over a WebSocket (status, code, title,
    detail and the error's facts)."""
    return {
        "status": error.status,
        "code": error.code,
        "title": error.title,
        "detail": error.message,
        **error.detail,
    }


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body",)]
    return ".".join(parts) or "body"


async def _deconfliction_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DeconflictionError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return problem(exc.status, exc.code, exc.title, exc.message, headers, **exc.detail)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = []
    for error in exc.errors():
        where = _location(error.get("loc", ()))
        kind = error.get("type")
        ctx = error.get("ctx", {})
        item: dict[str, Any] = {"location": where, "message": str(error.get("msg", "invalid"))}
        if kind == "json_invalid":
            item = {"location": "body", "message": f"not valid JSON ({ctx.get('error')})"}
        elif kind == "forbidden_character":
            item["offset"] = ctx["offset"]
        errors.append(item)
    summary = "; ".join(f"{e['location']}: {e['message']}" for e in errors[:5])
    kinds = {error.get("type") for error in exc.errors()}
    if kinds == {"forbidden_character"}:
        code, title = "forbidden-character", "Forbidden character in text"
    elif kinds == {"json_invalid"}:
        code, title = "malformed-json", "Malformed JSON"
    else:
        code, title = "invalid-input", "Invalid input"
    return problem(
        422, code, title, f"the request does not match the API: {summary}", errors=errors
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    codes = {
        404: "not-found",
        405: "method-not-allowed",
        413: "too-large",
        415: "unsupported-media-type",
    }
    code = codes.get(exc.status_code, f"http-{exc.status_code}")
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    headers = dict(exc.headers) if exc.headers else {}
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no such route: {request.method} {request.url.path}; see /docs"
    if exc.status_code == 405 and (allowed := _allowed_methods(request)):
        headers["Allow"] = ", ".join(allowed)
        detail = f"{request.url.path} takes {', '.join(allowed)}, not {request.method}"
    return problem(
        exc.status_code,
        code,
        code.replace("-", " ").capitalize(),
        detail,
        headers or None,
    )


def _allowed_methods(request: Request) -> list[str]:
    """Every method the OpenAPI document gives the request's path (Starlette's 405
    names the first matching route's only); none for a path it does not document,
    whose 405 keeps Starlette's ``Allow``."""
    paths: dict[str, dict[str, Any]] = request.app.openapi().get("paths", {})
    for template, item in paths.items():
        pattern = "[^/]+".join(re.escape(part) for part in _PARAMETER.split(template))
        if re.fullmatch(pattern, request.url.path):
            return sorted(method.upper() for method in item if method in _METHODS)
    return []


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    _log.exception("unexpected error on %s %s", request.method, request.url.path)
    return problem(
        500,
        "internal",
        "Internal error",
        "the service failed unexpectedly; nothing was changed by this request "
        "if it was a write. Retry, and report it if it persists",
    )


_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def _shared_statuses(operation: dict[str, Any]) -> list[int]:
    statuses = [429]
    if operation.get("security"):
        statuses.append(401)
    if operation.get("parameters") or "requestBody" in operation:
        statuses.append(422)
    if "requestBody" in operation:
        statuses += [413, 415]
    return statuses


def complete_openapi(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with every ``/v1`` operation's shared statuses added and each error
    response given as a :class:`Problem` in ``application/problem+json``."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = Problem.model_json_schema()
    for path, item in document.get("paths", {}).items():
        if not path.startswith("/v1/"):
            continue
        for method, operation in item.items():
            if method not in _METHODS:
                continue
            answers = operation.setdefault("responses", {})
            for status in _shared_statuses(operation):
                answers.setdefault(str(status), {"description": _SHARED[status]})
            for status, answer in answers.items():
                if status.isdigit() and int(status) >= 400:
                    answer["content"] = {PROBLEM_MEDIA_TYPE: {"schema": _PROBLEM_REF}}
    if "HTTPValidationError" not in str(document.get("paths")):
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
    return document


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem+json, and complete the
    app's OpenAPI document to say so (:func:`complete_openapi`)."""
    app.add_exception_handler(DeconflictionError, _deconfliction_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete_openapi(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

"""RFC 9457 problem+json for every error, mapped from the error hierarchy in one place.

A problem carries ``type`` (a stable URN per error code), ``title``, ``status``,
``detail`` (what is wrong and what to do) and extension members (``code``, and facts
such as ``current_version`` or the list of ``errors`` in a request body).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from deconfliction.errors import DeconflictionError

__all__ = ["PROBLEM_TYPE_PREFIX", "install", "problem", "problem_document"]

PROBLEM_TYPE_PREFIX = "urn:deconfliction:problem:"
_log = logging.getLogger(__name__)


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
        if error.get("type") == "json_invalid":
            reason = error.get("ctx", {}).get("error", "parse error")
            message = f"the body is not valid JSON ({reason})"
            where = "body"
        else:
            message = str(error.get("msg", "invalid"))
        errors.append({"location": where, "message": message})
    summary = "; ".join(f"{e['location']}: {e['message']}" for e in errors[:5])
    return problem(
        422,
        "invalid-input",
        "Invalid input",
        f"the request does not match the API: {summary}",
        errors=errors,
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
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no such route: {request.method} {request.url.path}; see /docs"
    return problem(
        exc.status_code,
        code,
        code.replace("-", " ").capitalize(),
        detail,
        dict(exc.headers) if exc.headers else None,
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    _log.exception("unexpected error on %s %s", request.method, request.url.path)
    return problem(
        500,
        "internal",
        "Internal error",
        "the service failed unexpectedly; nothing was changed by this request "
        "if it was a write. Retry, and report it if it persists",
    )


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem+json."""
    app.add_exception_handler(DeconflictionError, _deconfliction_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)

"""Request bodies checked before they are parsed, so every parse error has a stable code.

:class:`ContractRoute` is the route class of every ``/v1`` router. Before FastAPI parses
a route's JSON body it checks, in this order, that the body is

1. JSON by its ``Content-Type`` (``application/json`` or any ``+json``; a body with no
   ``Content-Type`` is read as JSON), else 415 ``unsupported-media-type``;
2. UTF-8 (RFC 8259), else 422 ``invalid-utf8`` with the ``offset`` of the first bad byte;
3. valid JSON, else 422 ``malformed-json`` with the position where parsing stopped;
4. nested at most :data:`MAX_DEPTH` arrays and objects deep, else 422 ``too-deep``.

The parsed body is kept on the request, where FastAPI takes it: a body is parsed once.
"""

from __future__ import annotations

import email.message
import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from deconfliction.errors import (
    InvalidUTF8Error,
    MalformedJSONError,
    TooDeepError,
    UnsupportedMediaTypeError,
)

__all__ = ["MAX_DEPTH", "ContractRoute", "check_json_body", "json_depth"]

MAX_DEPTH = 64
"""Most arrays and objects nested in a request body (a notice needs 5)."""

_OPENERS = (b"[", b"{")


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return True
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


def json_depth(value: Any, limit: int) -> int:
    """How deeply arrays and objects nest in ``value`` (0 for a scalar), counted up to
    ``limit + 1`` at most (the walk stops there).

    >>> json_depth({"a": [1, [2]]}, 64)
    3
    """
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list):
            depth += 1
            deepest = max(deepest, depth)
            if deepest > limit:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            pending.extend((c, depth) for c in children if isinstance(c, dict | list))
    return deepest


def _too_deep() -> TooDeepError:
    return TooDeepError(
        f"the body nests arrays and objects more than {MAX_DEPTH} deep; "
        "no request of this API needs more than 8",
        limit=MAX_DEPTH,
    )


def _malformed(error: json.JSONDecodeError) -> MalformedJSONError:
    return MalformedJSONError(
        f"the body is not valid JSON: {error.msg} at line {error.lineno}, column "
        f"{error.colno} (byte {error.pos}); send one JSON document",
        offset=error.pos,
        line=error.lineno,
        column=error.colno,
    )


def check_json_body(body: bytes, content_type: str | None) -> None:
    """Refuse a body that is not JSON by its type, or not UTF-8."""
    if not _is_json(content_type):
        raise UnsupportedMediaTypeError(
            f"the body is {content_type!r}; send JSON with 'Content-Type: application/json'"
        )
    if not body.isascii():
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InvalidUTF8Error(
                f"the body is not UTF-8: byte {error.start} ({body[error.start]:#04x}) cannot "
                "be decoded; encode the JSON as UTF-8",
                offset=error.start,
            ) from None


def _check_depth(value: Any, body: bytes) -> None:
    # A body with at most MAX_DEPTH opening brackets (in strings too) cannot nest deeper.
    openers = sum(body.count(opener) for opener in _OPENERS)
    if openers > MAX_DEPTH and json_depth(value, MAX_DEPTH) > MAX_DEPTH:
        raise _too_deep()


class ContractRoute(APIRoute):
    """A route whose JSON body is checked by :func:`check_json_body` before parsing."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if self.body_field is None:
            return handler

        async def checked(request: Request) -> Response:
            body = await request.body()
            if body:
                check_json_body(body, request.headers.get("content-type"))
                try:
                    value = await request.json()  # kept: FastAPI reads this one
                except RecursionError:
                    raise _too_deep() from None
                except json.JSONDecodeError as error:
                    raise _malformed(error) from None
                _check_depth(value, body)
            return await handler(request)

        return checked

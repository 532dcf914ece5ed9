"""The WebSockets each party holds open: bounded per party, and ended when the token
they were opened with is revoked or expires.

:meth:`Connections.hold` counts a connection for as long as it is open and refuses one
beyond the party's ``max_streams`` (close 4429 ``quota-exceeded``). :func:`until_revoked`
returns once the connection's token is no longer accepted: it asks the store, not the
token cache, every ``period_s`` seconds (the auth cache period), so a revocation made by
any process (``deconfliction party token revoke``, another replica) ends the stream
within that period; the stream then closes with 4401, reason ``token-revoked``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import anyio

from deconfliction.errors import AuthenticationError, QuotaExceededError, TokenRevokedError
from deconfliction.parties import PartyRef

__all__ = ["REVOKED_CODE", "REVOKED_REASON", "Connections", "revoked_problem", "until_revoked"]

REVOKED_CODE = 4401
REVOKED_REASON = "token-revoked"


class Connections:
    """Open WebSockets per party (this process's)."""

    def __init__(self) -> None:
        self._open: Counter[int] = Counter()

    @contextmanager
    def hold(self, party: PartyRef, limit: int) -> Iterator[None]:
        """Count one connection of ``party`` while the block runs; QuotaExceededError
        when it already holds ``limit``."""
        if self._open[party.id] >= limit:
            raise QuotaExceededError(
                f"party {party.name!r} holds {self._open[party.id]} streams open, its limit "
                f"of {limit}; close one first (or ask for a larger quota)",
                limit="max_streams",
                max_streams=limit,
            )
        self._open[party.id] += 1
        try:
            yield
        finally:
            self._open[party.id] -= 1
            if not self._open[party.id]:
                del self._open[party.id]


async def until_revoked(check: Callable[[], Awaitable[None]], period_s: float) -> None:
    """Return once ``check`` (does the store still accept the stream's token?) raises
    AuthenticationError, asking every ``period_s`` seconds."""
    while True:
        await anyio.sleep(period_s)
        try:
            await check()
        except AuthenticationError:
            return


def revoked_problem() -> dict[str, Any]:
    """The problem sent before closing a stream whose token was revoked."""
    error = TokenRevokedError(
        "the token this stream was opened with was revoked or has expired; reconnect "
        "with a valid token"
    )
    return {
        "status": error.status,
        "code": error.code,
        "title": error.title,
        "detail": error.message,
    }

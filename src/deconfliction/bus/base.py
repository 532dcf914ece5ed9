"""The bus interface: ``notify`` after a commit, from any thread; ``subscribe`` to wait.

A stream subscribes *before* it reads, and waits only after a read found nothing new::

    async with bus.subscribe(party_id) as subscription:
        while True:
            events = read(after)           # the rows are the truth
            if events: send(events); after = events[-1].seq; continue
            await subscription.wait(timeout_s)

A notification that lands between the read and the wait is not lost: it leaves the
subscription woken, so the wait returns at once and the stream reads again. Wake-ups
may be spurious or merged (two commits, one wake-up); they are never early (the
notifier calls after its commit) and, on a running bus, never lost.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager
from typing import Protocol

__all__ = ["Bus", "BusClosedError", "Subscription"]


class BusClosedError(Exception):
    """The bus was closed (the service is stopping): streams end and clients reconnect."""


class Subscription(Protocol):
    async def wait(self, timeout_s: float) -> bool:
        """Until the party may have new events (``True``) or ``timeout_s`` seconds pass
        (``False``). Raises :class:`BusClosedError` once the bus is closed."""
        ...


class Bus(Protocol):
    def notify(self, party_ids: Iterable[int]) -> None:
        """Wake the subscriptions of these parties. Call after the commit, from any thread;
        it never blocks on the network."""
        ...

    def subscribe(self, party_id: int) -> AbstractAsyncContextManager[Subscription]:
        """A subscription to one party's wake-ups, for the ``async with`` block."""
        ...

    async def start(self) -> None:
        """Connect (if the bus has a server); call once in the service's event loop."""
        ...

    async def close(self) -> None:
        """Disconnect and end every subscription's waits with :class:`BusClosedError`."""
        ...

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

A notifier that knows how far each party's events now go passes a mapping of party id
to last ``seq``; a stream that has its events some other way (the events its own process
committed, kept in memory) then skips the store: it reads only when
:meth:`Subscription.must_read` says so, and calls :meth:`Subscription.reading` first::

    if not (events := kept(after)) and subscription.must_read(after):
        subscription.reading()
        events = read(after)  # a page: when full, read again before waiting
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

    def must_read(self, position: int) -> bool:
        """Whether the store may hold events after ``position`` that no wake-up said how
        far they go (a wake-up without ``seq``, or a wait that timed out), or beyond
        what one said, since :meth:`reading` (or the start)."""
        ...

    def reading(self) -> None:
        """The caller reads the store now: what was announced before is in what it reads."""
        ...


class Bus(Protocol):
    def notify(self, party_ids: Iterable[int]) -> None:
        """Wake the subscriptions of these parties (a mapping of party id to its last
        ``seq`` says how far their events go). Call after the commit, from any thread; it
        never blocks on the network."""
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

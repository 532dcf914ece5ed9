"""The in-process bus: wake-ups between the threads and the event loop of one process."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager, suppress

from deconfliction.bus.base import BusClosedError

__all__ = ["InProcessBus", "LocalSubscription"]


class LocalSubscription:
    """One waiter's wake-up flag, set from any thread, awaited in its event loop; and
    how far the wake-ups since the last read said the events go."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._thread = threading.get_ident()
        self._woken = asyncio.Event()
        self._announced = 0
        self._unknown = True  # nothing is read yet
        self.closed = False

    def wake(self, seq: int | None = None) -> None:
        """Set the flag (thread-safe; a no-op once the loop has stopped); ``seq``: the
        party's last event now (``None``: not known)."""
        if threading.get_ident() == self._thread:
            self._woke(seq)
            return
        with suppress(RuntimeError):  # a closed loop: nobody is waiting any more
            self._loop.call_soon_threadsafe(self._woke, seq)

    def _woke(self, seq: int | None) -> None:
        if seq is None:
            self._unknown = True
        else:
            self._announced = max(self._announced, seq)
        self._woken.set()

    def must_read(self, position: int) -> bool:
        return self._unknown or self._announced > position

    def reading(self) -> None:
        self._unknown = False
        self._announced = 0

    def close(self) -> None:
        self.closed = True
        self.wake()

    async def wait(self, timeout_s: float) -> bool:
        if self.closed:
            raise BusClosedError("the bus is closed")
        try:
            async with asyncio.timeout(timeout_s):  # no task of its own, unlike wait_for
                await self._woken.wait()
            woken = True
        except TimeoutError:
            woken = False
            self._unknown = True  # a wake-up may have been missed (another writer's)
        self._woken.clear()  # the caller reads after this, so no later wake-up is lost
        if self.closed:
            raise BusClosedError("the bus is closed")
        return woken


class InProcessBus:
    """Wake-ups within one process: the embedded default (one server, any database)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscriptions: dict[int, set[LocalSubscription]] = {}
        self._closed = False

    def notify(self, party_ids: Iterable[int]) -> None:
        seqs: Mapping[int, int | None] = (
            party_ids if isinstance(party_ids, Mapping) else dict.fromkeys(party_ids)
        )
        with self._lock:
            targets = [(s, seq) for p, seq in seqs.items() for s in self._subscriptions.get(p, ())]
        for subscription, seq in targets:
            subscription.wake(seq)

    @asynccontextmanager
    async def subscribe(self, party_id: int) -> AsyncIterator[LocalSubscription]:
        subscription = LocalSubscription(asyncio.get_running_loop())
        with self._lock:
            if self._closed:
                raise BusClosedError("the bus is closed")
            self._subscriptions.setdefault(party_id, set()).add(subscription)
        try:
            yield subscription
        finally:
            with self._lock:
                waiting = self._subscriptions.get(party_id)
                if waiting is not None:
                    waiting.discard(subscription)
                    if not waiting:
                        del self._subscriptions[party_id]

    async def start(self) -> None:
        """Nothing to connect to."""

    async def close(self) -> None:
        with self._lock:
            self._closed = True
            every = [s for waiting in self._subscriptions.values() for s in waiting]
        for subscription in every:
            subscription.close()

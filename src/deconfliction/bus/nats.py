"""The bus between replicas: wake-ups over NATS, one subject per party.

Every replica serves any party, so a commit on one replica must wake the streams of the
other replicas. :meth:`NatsBus.notify` wakes this replica's own streams at once and
publishes an empty message on ``<prefix>.<party id>`` for the others (``no_echo``: a
replica does not hear itself); each replica subscribes to ``<prefix>.*``.

Core NATS subjects suffice (the server may run JetStream; this uses none of it): a
wake-up carries nothing but "look again", the rows in the database are the truth, and a
stream re-reads on its own every few seconds, so a wake-up lost while NATS is away
delays an event by that much, never loses it. Persisting wake-ups in a JetStream stream
would only replay hints about rows that every stream reads anyway.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg

from deconfliction.bus.memory import InProcessBus, LocalSubscription

__all__ = ["DEFAULT_PREFIX", "NatsBus"]

DEFAULT_PREFIX = "deconfliction.events"
_log = logging.getLogger(__name__)


class NatsBus:
    """Wake-ups within this process directly, and to other replicas through NATS."""

    def __init__(self, url: str, prefix: str = DEFAULT_PREFIX) -> None:
        self._url = url
        self._prefix = prefix
        self._local = InProcessBus()
        self._client: Client | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = 0

    async def start(self) -> None:
        """Connect and subscribe; fails with the server's error when NATS is unreachable."""
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        self._client = await nats.connect(
            self._url,
            name="deconfliction",
            no_echo=True,
            max_reconnect_attempts=1,  # the first connection: fail, and say so
            reconnect_time_wait=1,
            connect_timeout=5,
            error_cb=self._on_error,
        )
        self._client.options["max_reconnect_attempts"] = -1  # once up: reconnect for ever
        await self._client.subscribe(f"{self._prefix}.*", cb=self._on_message)
        await self._client.flush()  # the server has the subscription before start returns

    def notify(self, party_ids: Iterable[int]) -> None:
        ids = set(party_ids)
        if not ids:
            return
        self._local.notify(party_ids if isinstance(party_ids, Mapping) else ids)  # seqs kept
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        if threading.get_ident() == self._thread:
            self._publish(ids)
        else:
            loop.call_soon_threadsafe(self._publish, ids)

    @asynccontextmanager
    async def subscribe(self, party_id: int) -> AsyncIterator[LocalSubscription]:
        async with self._local.subscribe(party_id) as subscription:
            yield subscription

    async def close(self) -> None:
        await self._local.close()
        client, self._client = self._client, None
        if client is not None and not client.is_closed:
            await client.drain()

    def _publish(self, party_ids: set[int]) -> None:
        client = self._client
        if client is None or client.is_closed:
            return
        for party_id in party_ids:
            task = asyncio.ensure_future(client.publish(f"{self._prefix}.{party_id}"))
            task.add_done_callback(_log_failure)

    async def _on_message(self, message: Msg) -> None:
        try:
            party_id = int(message.subject.rsplit(".", 1)[1])
        except ValueError:
            _log.warning("ignoring a wake-up on %s: not a party id", message.subject)
            return
        self._local.notify([party_id])

    async def _on_error(self, error: Exception) -> None:
        _log.warning("NATS: %s (streams fall back to re-reading)", error)


def _log_failure(task: asyncio.Future[None]) -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        _log.warning("a wake-up was not published to NATS: %s", error)

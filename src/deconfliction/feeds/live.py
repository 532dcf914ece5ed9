"""Live sources: a receiver or a surveillance system read as it sends, reconnected when lost.

A :class:`Source` names what to read, as ``KIND://HOST:PORT``:

===========  =====  ==================================================================
kind         port   what
===========  =====  ==================================================================
``sbs1``     30003  SBS-1 BaseStation text over TCP (dump1090, readsb, VRS)
``beast``    30005  Beast binary Mode S frames over TCP (dump1090, readsb)
``avr``      30002  AVR text Mode S frames over TCP (dump1090, readsb, rtl_adsb)
``asterix``  8600   ASTERIX CAT021/CAT062 datagrams over UDP, received on HOST:PORT
                    (a multicast group is joined when HOST is one)
===========  =====  ==================================================================

:func:`run_feed` reads the source until ``stop`` is set: the bytes go through the
source's decoder (:mod:`.sbs1`, :mod:`.beast`, :mod:`.asterix`), and once every
``flush_s`` the latest state of each aircraft heard goes to ``push`` (a sink: the
service's tracks API, or an embedded one). A TCP source that cannot be reached or
closes the connection is tried again after a wait that doubles from
``Backoff.first_s`` up to ``Backoff.most_s``, and starts again from the first wait
once data flows. The decoder is kept across reconnections (Mode S positions need the
frames before). :class:`FeedStats` counts what went through, and ``on_status`` is
called with it about once a second.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol
from urllib.parse import urlsplit

from deconfliction.errors import ValidationError
from deconfliction.feeds.beast import AvrStream, BeastStream
from deconfliction.feeds.sbs1 import Sbs1Stream
from deconfliction.feeds.traffic import AircraftState

__all__ = [
    "DEFAULT_PORTS",
    "Backoff",
    "FeedStats",
    "Push",
    "Source",
    "StreamDecoder",
    "run_feed",
]

DEFAULT_PORTS = {"sbs1": 30003, "beast": 30005, "avr": 30002, "asterix": 8600}
_READ_SIZE = 65536
_POLL_S = 0.2
_AIRCRAFT_WINDOW_S = 60.0


class StreamDecoder(Protocol):
    """Bytes in as they arrive, aircraft states out; counts of messages and drops."""

    @property
    def messages(self) -> int: ...

    @property
    def dropped(self) -> Counter[str]: ...

    def feed(self, data: bytes, at: datetime) -> list[AircraftState]: ...

    def restart(self) -> None: ...


Push = Callable[[list[AircraftState]], Counter[str]]
"""A sink: takes states (one per aircraft) and answers the refusals, counted by reason."""


@dataclass(frozen=True)
class Source:
    """What to read: ``kind`` (a key of :data:`DEFAULT_PORTS`), host and port."""

    kind: str
    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> Source:
        """``KIND://HOST[:PORT]``; the port defaults to the kind's usual one.

        >>> Source.parse("beast://192.168.1.20")
        Source(kind='beast', host='192.168.1.20', port=30005)
        """
        parts = urlsplit(text.strip())
        kinds = ", ".join(DEFAULT_PORTS)
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            raise ValidationError(
                f"source {text!r} is not KIND://HOST[:PORT] with KIND one of {kinds}, "
                "e.g. sbs1://127.0.0.1:30003"
            )
        try:
            port = parts.port or DEFAULT_PORTS[parts.scheme]
        except ValueError:
            raise ValidationError(f"source {text!r} has no valid port (0-65535)") from None
        return cls(parts.scheme, parts.hostname, port)

    @property
    def udp(self) -> bool:
        return self.kind == "asterix"

    def decoder(self) -> StreamDecoder:
        """A fresh decoder for this kind of source."""
        if self.kind == "sbs1":
            return Sbs1Stream()
        if self.kind == "beast":
            return BeastStream()
        if self.kind == "avr":
            return AvrStream()
        # libasterix's generated tables take seconds to import: only when asked for
        from deconfliction.feeds.asterix import AsterixDatagrams

        return AsterixDatagrams()

    def __str__(self) -> str:
        return f"{self.kind}://{self.host}:{self.port}"


@dataclass(frozen=True)
class Backoff:
    """Waits between attempts to reach a source, seconds: doubling from ``first_s`` to
    ``most_s``."""

    first_s: float = 0.5
    most_s: float = 30.0

    def waits(self) -> Iterator[float]:
        """The waits, one per failed attempt in a row.

        >>> from itertools import islice
        >>> list(islice(Backoff(1, 5).waits(), 5))
        [1, 2, 4, 5, 5]
        """
        wait = self.first_s
        while True:
            yield wait
            wait = min(wait * 2, self.most_s)


@dataclass
class FeedStats:
    """What a feed has done: ``messages`` decoded, ``states`` made, ``sent`` to the sink,
    ``dropped`` by reason (decoder's and sink's), ``connects`` (successful), ``failures``
    (attempts that failed or connections lost), ``last_error``, ``rate`` (messages per
    second over the last status period), ``local`` (the address this end has: where a
    UDP source is received) and the aircraft heard in the last minute."""

    source: Source
    messages: int = 0
    states: int = 0
    sent: int = 0
    connects: int = 0
    failures: int = 0
    connected: bool = False
    last_error: str | None = None
    rate: float = 0.0
    local: tuple[str, int] | None = None
    refused: Counter[str] = field(default_factory=Counter)
    decoder_dropped: Counter[str] = field(default_factory=Counter)
    heard: dict[str, float] = field(default_factory=dict)

    @property
    def dropped(self) -> Counter[str]:
        return self.decoder_dropped + self.refused

    @property
    def aircraft(self) -> int:
        since = time.monotonic() - _AIRCRAFT_WINDOW_S
        return sum(1 for at in self.heard.values() if at >= since)

    def forget(self) -> None:
        """Drop the aircraft not heard in the last minute (a long feed hears thousands)."""
        since = time.monotonic() - _AIRCRAFT_WINDOW_S
        self.heard = {ident: at for ident, at in self.heard.items() if at >= since}

    def line(self) -> str:
        """The status line: connection, messages/s, aircraft, sent, drops by reason."""
        state = "connected" if self.connected else f"waiting ({self.last_error or 'starting'})"
        drops = ", ".join(f"{reason} {n:,}" for reason, n in self.dropped.most_common(4))
        return (
            f"{self.source} · {state} · {self.rate:,.1f} msg/s · {self.aircraft} aircraft · "
            f"{self.sent:,} sent · dropped: {drops or 'none'} · reconnects "
            f"{max(self.connects - 1, 0)}"
        )


class _Batch:
    """The latest state of each aircraft since the last push."""

    def __init__(self, stats: FeedStats, push: Push, flush_s: float) -> None:
        self.stats, self.push, self.flush_s = stats, push, flush_s
        self.pending: dict[str, AircraftState] = {}
        self.last = time.monotonic()

    def add(self, states: list[AircraftState]) -> None:
        now = time.monotonic()
        for state in states:
            self.pending[state.id] = state
            self.stats.heard[state.id] = now
        self.stats.states += len(states)

    def due(self) -> bool:
        return time.monotonic() - self.last >= self.flush_s

    def flush(self) -> None:
        self.last = time.monotonic()
        if not self.pending:
            return
        states, self.pending = list(self.pending.values()), {}
        self.stats.refused.update(self.push(states))
        self.stats.sent += len(states)


def run_feed(
    source: Source,
    push: Push,
    stop: threading.Event,
    *,
    backoff: Backoff | None = None,
    flush_s: float = 1.0,
    on_status: Callable[[FeedStats], None] | None = None,
    stats: FeedStats | None = None,
) -> FeedStats:
    """Read ``source`` until ``stop`` is set, pushing states (see the module); the
    counts go to ``stats`` (a new :class:`FeedStats` when ``None``) as it runs."""
    stats = stats or FeedStats(source)
    decoder = source.decoder()
    batch = _Batch(stats, push, flush_s)
    waits = (backoff or Backoff()).waits()
    last_status = time.monotonic()
    last_messages = 0

    def tick() -> None:
        nonlocal last_status, last_messages
        if batch.due():
            batch.flush()
        now = time.monotonic()
        if now - last_status >= 1.0:
            stats.messages = decoder.messages
            stats.decoder_dropped = decoder.dropped
            stats.rate = (stats.messages - last_messages) / (now - last_status)
            stats.forget()
            last_status, last_messages = now, stats.messages
            if on_status is not None:
                on_status(stats)

    while not stop.is_set():
        try:
            with _connected(source, stats) as sock:
                stats.connects += 1
                decoder.restart()
                stats.connected = True
                stats.last_error = None
                flowing = False
                while not stop.is_set():
                    tick()
                    try:
                        data = sock.recv(_READ_SIZE)
                    except TimeoutError:
                        continue
                    if not data and not source.udp:
                        raise ConnectionError("the source closed the connection")
                    batch.add(decoder.feed(data, datetime.now(UTC)))
                    if not flowing:
                        flowing = True
                        waits = (backoff or Backoff()).waits()
        except OSError as error:
            stats.connected = False
            stats.failures += 1
            stats.last_error = str(error) or type(error).__name__
            deadline = time.monotonic() + next(waits)
            while not stop.is_set() and time.monotonic() < deadline:
                tick()
                stop.wait(min(_POLL_S, max(deadline - time.monotonic(), 0.0)))
    stats.connected = False
    batch.flush()
    stats.messages = decoder.messages
    stats.decoder_dropped = decoder.dropped
    return stats


@contextmanager
def _connected(source: Source, stats: FeedStats) -> Iterator[socket.socket]:
    if source.udp:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            group = ipaddress.ip_address(socket.gethostbyname(source.host))
            sock.bind(("" if group.is_multicast else str(group), source.port))
            if group.is_multicast:
                request = struct.pack("4s4s", group.packed, socket.inet_aton("0.0.0.0"))
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, request)
        except OSError:
            sock.close()
            raise
    else:
        sock = socket.create_connection((source.host, source.port), timeout=5.0)
    with sock:
        sock.settimeout(_POLL_S)
        host, port = sock.getsockname()[:2]
        stats.local = (str(host), int(port))
        yield sock

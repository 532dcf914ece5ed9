"""Each kind of live source read from a local server the test starts, through
:func:`run_feed`: the states arrive once a second, a source that hangs up mid-stream is
reconnected (the Mode S decoder keeps what it knew), an unreachable one is retried with
backoff, ASTERIX datagrams are received over UDP."""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest

from deconfliction.errors import ValidationError
from deconfliction.feeds.live import Backoff, FeedStats, Source, run_feed
from deconfliction.feeds.traffic import AircraftState
from tests.feeds.frames import (
    KLM_IDENT,
    POSITION_EVEN,
    POSITION_ODD,
    cat021,
    cat062,
    datablock,
    squitter,
    velocity_me,
)
from tests.feeds.sources import ScriptedServer

FAST = Backoff(first_s=0.05, most_s=0.2)
VELOCITY_40621D = squitter(0x40621D, velocity_me(east_kt=-20, north_kt=400, vs_fpm=-640))


class _Collected:
    """A sink that keeps what it is given; refuses nothing."""

    def __init__(self) -> None:
        self.states: list[AircraftState] = []
        self.batches = 0

    def __call__(self, states: list[AircraftState]) -> Counter[str]:
        self.states.extend(states)
        self.batches += 1
        return Counter()

    def ids(self) -> set[str]:
        return {s.id for s in self.states}


@contextmanager
def _feeding(source: Source, sink: _Collected, stats: FeedStats) -> Iterator[threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(
        target=run_feed,
        args=(source, sink, stop),
        kwargs={"backoff": FAST, "flush_s": 0.1, "stats": stats},
        daemon=True,
    )
    thread.start()
    try:
        yield stop
    finally:
        stop.set()
        thread.join(timeout=10)
        assert not thread.is_alive()


def _wait_for(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _sbs1(kind: int, icao: str, fields: dict[int, str]) -> bytes:
    now = datetime.now(UTC)
    line = ["MSG", str(kind), "1", "1", icao, "1", f"{now:%Y/%m/%d}", f"{now:%H:%M:%S.%f}"[:-3]]
    line += ["", ""] + [""] * 12
    line[8], line[9] = line[6], line[7]
    for index, value in fields.items():
        line[index] = value
    return (",".join(line) + "\r\n").encode()


def _sbs1_aircraft(icao: str, lat: float) -> list[bytes]:
    return [
        _sbs1(1, icao, {10: "TEST01"}),
        _sbs1(4, icao, {12: "420", 13: "90.0", 16: "0"}),
        _sbs1(3, icao, {11: "30000", 14: f"{lat}", 15: "14.5"}),
    ]


def test_sbs1_over_tcp_reconnects_after_the_source_hangs_up_mid_line() -> None:
    first = _sbs1_aircraft("4ca2d6", 46.0)
    cut = _sbs1(3, "4ca2d6", {11: "30000", 14: "46.1", 15: "14.5"})
    second = _sbs1_aircraft("3c6544", 46.2)
    sessions = [[*first, cut[:30]], second]  # the first connection ends mid-line
    sink, stats = _Collected(), FeedStats(Source("sbs1", "127.0.0.1", 0))
    with ScriptedServer(sessions) as server:
        source = Source("sbs1", "127.0.0.1", server.port)
        with _feeding(source, sink, stats):
            _wait_for(lambda: sink.ids() == {"4ca2d6", "3c6544"})
        assert server.connections >= 2
    assert stats.connects >= 2
    assert stats.failures >= 1
    assert not stats.dropped  # the cut line was dropped with its connection, not misread
    (plane,) = [s for s in sink.states if s.id == "4ca2d6"]
    assert plane.lat == pytest.approx(46.0)


def _beast(frame: bytes) -> bytes:
    body = bytes(6) + b"\x80" + frame
    return b"\x1a3" + body.replace(b"\x1a", b"\x1a\x1a")


@pytest.mark.parametrize(
    ("kind", "encode"),
    [
        ("beast", _beast),
        ("avr", lambda frame: f"*{frame.hex().upper()};\n".encode()),
    ],
)
def test_mode_s_over_tcp_keeps_the_half_pair_across_a_reconnection(
    kind: str, encode: Callable[[bytes], bytes]
) -> None:
    """The odd frame comes on one connection, the even one on the next: the decoder
    survives the reconnection and pairs them."""
    first = [encode(KLM_IDENT), encode(VELOCITY_40621D), encode(POSITION_ODD)]
    second = [encode(POSITION_EVEN)]
    sink, stats = _Collected(), FeedStats(Source(kind, "127.0.0.1", 0))
    with (
        ScriptedServer([first, second]) as server,
        _feeding(Source(kind, "127.0.0.1", server.port), sink, stats),
    ):
        _wait_for(lambda: bool(sink.states))
    (state,) = sink.states
    assert state.id == "40621d"
    assert state.lat == pytest.approx(52.2572, abs=1e-4)
    assert state.lon == pytest.approx(3.91937, abs=1e-5)
    assert stats.connects >= 2


def test_an_unreachable_source_is_retried_with_backoff_until_it_comes_up() -> None:
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        port = int(placeholder.getsockname()[1])
    sink, stats = _Collected(), FeedStats(Source("sbs1", "127.0.0.1", port))
    with _feeding(Source("sbs1", "127.0.0.1", port), sink, stats):
        _wait_for(lambda: stats.failures >= 3)
        assert stats.connects == 0
        assert stats.last_error
        assert "waiting" in stats.line()
    assert sink.states == []


def test_asterix_datagrams_over_udp() -> None:
    now = datetime.now(UTC)
    sink, stats = _Collected(), FeedStats(Source("asterix", "127.0.0.1", 0))
    with _feeding(Source("asterix", "127.0.0.1", 0), sink, stats):
        _wait_for(lambda: stats.local is not None)
        assert stats.local is not None
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            sender.sendto(
                datablock(21, [cat021(0x4CA2D6, now, 46.5, 14.5, 350, 450, 271, 0, "A1")]),
                stats.local,
            )
            sender.sendto(
                datablock(62, [cat062(0x3C6544, 7, now, 46.6, 14.6, 200, 150, 90, 0, "B2")]),
                stats.local,
            )
            sender.sendto(b"\x3e\x00\x02", stats.local)  # a block too short to read
            _wait_for(lambda: sink.ids() == {"4ca2d6", "3c6544"})
            _wait_for(lambda: bool(stats.dropped))
    assert stats.dropped == {"unreadable ASTERIX data block": 1}


def test_the_status_line_says_what_goes_on() -> None:
    stats = FeedStats(Source("sbs1", "127.0.0.1", 30003), connects=2, connected=True)
    stats.rate, stats.sent = 12.5, 1234
    stats.refused["refused: too old"] = 3
    stats.heard["4ca2d6"] = time.monotonic()
    stats.heard["3c6544"] = time.monotonic() - 61  # heard more than a minute ago
    stats.forget()
    assert set(stats.heard) == {"4ca2d6"}
    line = stats.line()
    assert line.startswith("sbs1://127.0.0.1:30003 · connected · 12.5 msg/s · 1 aircraft")
    assert "1,234 sent" in line
    assert "refused: too old 3" in line
    assert line.endswith("reconnects 1")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("http://host:1", "KIND://HOST[:PORT]"),
        ("sbs1://", "KIND://HOST[:PORT]"),
        ("beast://host:99999", "no valid port"),
    ],
)
def test_a_source_that_cannot_be_read_says_how_to_write_it(text: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("[", r"\[")):
        Source.parse(text)

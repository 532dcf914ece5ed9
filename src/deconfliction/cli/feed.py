"""``deconfliction feed``: a party's live source (ADS-B receiver, ASTERIX) into the service.

The source is read as :mod:`deconfliction.feeds.live` says (SBS-1, Beast, AVR over
TCP; ASTERIX CAT021/CAT062 over UDP), reconnecting with backoff; once a second the
latest state of each aircraft heard goes:

- **to a running service**: ``--url URL --token TOKEN``, as the token's party, through
  ``POST /v1/tracks`` (the rows the service refuses are counted by its reason);
- **into a database, in this process**: ``--database URL --party NAME``, through the
  service's own tactical path (:class:`~deconfliction.tracks.service.TrackService`),
  which ticks here once a second and writes conflicts, alerts, events and journal
  entries to that database.

A receiver hears every aircraft in range, other parties' too: ``--fleet FILE`` (one
address or id a line, ``#`` comments) sends only the party's own. A status line shows
messages per second, aircraft heard in the last minute, states sent and what was
dropped, by reason (redrawn in place on a terminal, written every
:data:`LOG_EVERY_S` seconds to a log); Ctrl-C or SIGTERM stops, ``--seconds`` stops
after that long.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
import typer
from rich.live import Live
from rich.table import Table
from rich.text import Text

from deconfliction.cli.context import console, errors_as_exit, open_database, settings_for
from deconfliction.clock import SystemClock
from deconfliction.errors import DeconflictionError, ValidationError
from deconfliction.feeds.live import Backoff, FeedStats, Push, Source, run_feed
from deconfliction.feeds.traffic import AircraftState
from deconfliction.parties import Registry, Role
from deconfliction.tracks.service import TrackService

__all__ = ["LOG_EVERY_S", "feed", "read_fleet"]

_log = logging.getLogger(__name__)

LOG_EVERY_S = 10.0
"""How often the status line is written when the output is not a terminal, seconds."""


def _row(state: AircraftState) -> dict[str, Any]:
    return {
        "id": state.id,
        "time": state.timestamp.isoformat(),
        "lat": state.lat,
        "lon": state.lon,
        "alt_m": state.alt_m,
        "gs_mps": state.gs_mps,
        "trk_deg": state.trk_deg,
        "vs_mps": state.vs_mps,
    }


def read_fleet(path: Path) -> frozenset[str]:
    """The aircraft of a fleet file: one ICAO address (hex) or id a line, ``#`` comments."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"cannot read the fleet file {path}: {exc}") from None
    ids = {line.split("#", 1)[0].strip().lower() for line in text.splitlines()}
    ids.discard("")
    if not ids:
        raise ValidationError(f"the fleet file {path} names no aircraft; one id a line")
    return frozenset(ids)


class _HttpSink:
    """Pushes to ``POST /v1/tracks`` of a running service."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.client = httpx.Client(
            base_url=url, timeout=10.0, headers={"Authorization": f"Bearer {token}"}
        )
        self.fatal: str | None = None

    def __call__(self, states: list[AircraftState]) -> Counter[str]:
        try:
            response = self.client.post("/v1/tracks", json={"states": [_row(s) for s in states]})
        except httpx.TransportError:
            return Counter({"service unreachable": len(states)})
        if response.status_code in (401, 403):
            self.fatal = f"{self.url} refused the token ({response.status_code}); check --token"
            return Counter({"token refused": len(states)})
        if response.status_code != 202:
            return Counter({f"service answered {response.status_code}": len(states)})
        return Counter(f"refused: {r['reason']}" for r in response.json()["rejected"])

    def close(self) -> None:
        self.client.close()


class _EmbeddedSink:
    """Reports to the tactical service in this process; a thread runs its tick every
    ``track_tick_s`` (heard or not: conflicts resolve as aircraft fall silent), and a
    last one on close."""

    def __init__(self, database: str, party: str) -> None:
        settings = settings_for(database)
        self.db = open_database(settings)
        clock = SystemClock()
        try:
            self.party = Registry(self.db, clock).get(party)
            if self.party.role != Role.OPERATOR:
                raise ValidationError(
                    f"{party} is an {self.party.role.value}; tracks come from operators"
                )
        except DeconflictionError:
            self.db.dispose()
            raise
        self.tracks = TrackService(self.db, clock, settings)
        self.fatal: str | None = None
        self._closing = threading.Event()
        self._ticker = threading.Thread(
            target=self._tick_every, args=(settings.track_tick_s,), daemon=True
        )
        self._ticker.start()

    def _tick_every(self, period_s: float) -> None:
        while not self._closing.wait(period_s):
            try:
                self.tracks.run_tick()
            except Exception:
                _log.exception("a tick of the tactical engine failed; the next tick goes on")

    def __call__(self, states: list[AircraftState]) -> Counter[str]:
        report = self.tracks.report(self.party, [_row(s) for s in states])
        return Counter(f"refused: {r.reason}" for r in report.rejected)

    def close(self) -> None:
        self._closing.set()
        self._ticker.join()
        try:
            self.tracks.run_tick()
        finally:
            self.db.dispose()


def _only(fleet: frozenset[str] | None, push: Push) -> Push:
    if fleet is None:
        return push

    def filtered(states: list[AircraftState]) -> Counter[str]:
        own = [s for s in states if s.id in fleet]
        refused = push(own) if own else Counter()
        refused["not in the fleet"] += len(states) - len(own)
        return refused

    return filtered


@contextmanager
def _stopped_by_signals(stop: threading.Event) -> Iterator[None]:
    """Ctrl-C and SIGTERM set ``stop``; the handlers before are put back afterwards."""

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    before = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, previous in before.items():
            signal.signal(number, previous)


def feed(
    source: str = typer.Argument(
        ...,
        help="KIND://HOST[:PORT]: sbs1 (TCP 30003), beast (TCP 30005), avr (TCP 30002) "
        "or asterix (UDP 8600, received on HOST:PORT; a multicast group is joined).",
    ),
    url: str | None = typer.Option(
        None, "--url", help="A running service, e.g. http://127.0.0.1:8000."
    ),
    token: str | None = typer.Option(None, "--token", "-t", help="The party's token."),
    database: str | None = typer.Option(
        None, "--database", "-d", help="Run the tactical service here, on this database."
    ),
    party: str | None = typer.Option(
        None, "--party", "-p", help="With --database: the operator the aircraft belong to."
    ),
    fleet: Path | None = typer.Option(
        None, "--fleet", help="Send only these aircraft: one ICAO address a line."
    ),
    seconds: float | None = typer.Option(
        None, "--seconds", min=0.0, help="Stop after this many seconds (default: run on)."
    ),
    backoff_max_s: float = typer.Option(
        30.0, "--backoff-max-s", min=0.1, help="Longest wait between reconnection attempts."
    ),
) -> None:
    """Feed a live source (ADS-B receiver, ASTERIX) into the service as the party's tracks."""
    with errors_as_exit():
        where = Source.parse(source)
        own = None if fleet is None else read_fleet(fleet)
        if (url is None) == (database is None):
            raise ValidationError("give either --url with --token (a service) or --database")
        sink: _HttpSink | _EmbeddedSink
        if url is not None:
            if token is None:
                raise ValidationError("--url needs --token, the party's token")
            sink = _HttpSink(url.rstrip("/"), token)
        else:
            assert database is not None
            if party is None:
                raise ValidationError("--database needs --party, the operator of the aircraft")
            sink = _EmbeddedSink(database, party)
    stop = threading.Event()
    timer = None if seconds is None else threading.Timer(seconds, stop.set)
    line = Text(f"{where} · starting")
    # on a terminal the line is redrawn in place; in a log, written every LOG_EVERY_S
    interactive = console.is_terminal
    last_logged = time.monotonic()

    def status(stats: FeedStats) -> None:
        nonlocal last_logged
        line.plain = stats.line()
        if not interactive and time.monotonic() - last_logged >= LOG_EVERY_S:
            last_logged = time.monotonic()
            console.print(line.plain, soft_wrap=True)
        if sink.fatal is not None:
            stop.set()

    try:
        live = Live(line, console=console, refresh_per_second=2) if interactive else nullcontext()
        with _stopped_by_signals(stop), live:
            if timer is not None:
                timer.start()
            stats = run_feed(
                where,
                _only(own, sink),
                stop,
                backoff=Backoff(most_s=backoff_max_s),
                on_status=status,
            )
    finally:
        if timer is not None:
            timer.cancel()
        sink.close()
    _summary(stats)
    if sink.fatal is not None:
        console.print(f"[red]{sink.fatal}[/]")
        raise typer.Exit(2)


def _summary(stats: FeedStats) -> None:
    console.print(
        f"{stats.source}: {stats.messages:,} messages, {stats.states:,} states, "
        f"{stats.sent:,} sent; connected {stats.connects} times, "
        f"{stats.failures} failed or lost"
    )
    if stats.dropped:
        table = Table("dropped", "count", title="what did not become a track")
        for reason, count in stats.dropped.most_common():
            table.add_row(reason, f"{count:,}")
        console.print(table)

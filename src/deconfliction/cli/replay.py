"""``deconfliction replay``: play recorded traffic into the service, as its parties would.

The file is a traffic CSV (gzip or plain; columns ``timestamp,id,lat,lon,alt_m,gs_mps,
trk_deg,vs_mps`` by name, ``onground`` optional and sent as ``on_ground``, others
ignored; see :mod:`deconfliction.feeds.traffic`), read in 1 s ticks. Aircraft are split
among the parties by a hash of their id (CRC-32 modulo the number of parties), so one
aircraft always belongs to the same party and a replay with several parties makes
conflicts between them (with one party, only intrusions and conformance can).

**Into a running service**: ``--url URL --token TOKEN [--token TOKEN ...]`` (one token
per party) posts each tick's states to ``POST /v1/tracks`` as the tick comes due, at
``--speed`` times real time. The file's times are moved to now: a state heard Δ before
the end of its tick is stamped Δ/speed before the moment it is sent, since the service
refuses states far from its own clock. The progress line shows the file's time, the
speed, the states sent and those the service refused.

**In this process, in fast time**: ``--database URL [--parties N]`` runs the service's
own tactical path (:class:`~deconfliction.tracks.service.TrackService`: reports, ticks,
conflicts, alerts, events, journal, written to that database) on a manual clock moved
one tick at a time, as fast as the machine goes, with parties ``replay-1`` to
``replay-N`` (created when absent). Ticks are event-driven: a second in which the file
has no state is skipped (aircraft still age out and are dead-reckoned by the clock; a
conflict resolves after ``track_resolve_ticks`` ticks that have states), so a quiet
night costs nothing. It prints what a tick costs, store writes included: this is the
tactical service's benchmark on real traffic.

Either way a progress bar with the time left, then a summary: ticks run, states sent
and refused, the file time played and in how much wall time, and every row of the
file that was not sent, by reason (no altitude, incomplete, bad value, late,
duplicate, implausible). The bar goes by the bytes of the file read (rows, near
enough, and a tick's cost follows its rows), not by file time, in which a quiet night
would pass in a moment and make the time left a lie; with ``--minutes``, by file
time. A file that cannot be read (no or a wrong header, the header again inside,
empty, not UTF-8, a truncated gzip) stops it with exit status 2 and one line saying
what to do.
"""

from __future__ import annotations

import math
import statistics
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import typer
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Column, Table

from deconfliction.cli.context import (
    console,
    err_console,
    errors_as_exit,
    open_database,
    settings_for,
)
from deconfliction.clock import ManualClock, SystemClock
from deconfliction.errors import NotFoundError, ValidationError
from deconfliction.feeds.traffic import DROP_REASONS, AircraftState, CsvReplay, TrafficTick
from deconfliction.limits import PartyLimits
from deconfliction.parties import PartyRef, Registry
from deconfliction.tracks.service import BatchReport, TrackService

__all__ = ["party_of", "replay"]

_SHOWN_REASONS = 3


def party_of(aircraft: str, parties: int) -> int:
    """Which of ``parties`` (0 to parties - 1) an aircraft id belongs to: stable everywhere.

    >>> party_of("4b1814", 3), party_of("4b1814", 3) == party_of("4b1814", 3)
    (2, True)
    """
    return zlib.crc32(aircraft.encode()) % parties


def _row(state: AircraftState, stamp: datetime) -> dict[str, Any]:
    row = {
        "id": state.id,
        "time": stamp.isoformat(),
        "lat": state.lat,
        "lon": state.lon,
        "alt_m": state.alt_m,
        "gs_mps": state.gs_mps,
        "trk_deg": state.trk_deg,
        "vs_mps": state.vs_mps,
    }
    return {**row, "on_ground": True} if state.on_ground else row


@dataclass
class _Tally:
    """What a replay sent and what came of it."""

    ticks: int = 0
    sent: int = 0
    accepted: int = 0
    merged: int = 0  # with --url: states of an aircraft a later one in its batch replaced
    reasons: Counter[str] = field(default_factory=Counter)
    tick_ms: list[float] = field(default_factory=list)
    store_ms: list[float] = field(default_factory=list)
    aircraft: list[int] = field(default_factory=list)
    opened: int = 0
    updated: int = 0
    resolved: int = 0
    most_open: int = 0
    rows: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    start: datetime | None = None
    end: datetime | None = None
    wall_s: float = 0.0

    def count(self, sent: int, accepted: int, reasons: list[str]) -> None:
        self.sent += sent
        self.accepted += accepted
        self.reasons.update(reasons)

    def line(self) -> str:
        refused = self.sent - self.accepted
        line = f"{self.sent:,} states sent, {self.accepted:,} accepted, {refused:,} refused"
        if self.merged:
            line += f" ({self.merged:,} earlier states left out: a later one went in its batch)"
        return line

    def pace(self) -> str:
        """The file time played, in how much wall time: how far ahead of real time."""
        if self.start is None or self.end is None:
            return "no state to play"
        span = (self.end - self.start).total_seconds()
        pace = f"{span / self.wall_s:,.0f}x real time" if self.wall_s > 0 else "at once"
        return (
            f"file {self.start:%Y-%m-%d %H:%M:%S} to {self.end:%Y-%m-%d %H:%M:%S} UTC "
            f"({_duration(span)}) played in {_duration(self.wall_s)}: {pace}"
        )

    def drops(self) -> str:
        """Every row of the file not sent, by reason."""
        total = sum(self.dropped.values())
        reasons = ", ".join(f"{reason} {self.dropped[reason]:,}" for reason in DROP_REASONS)
        return f"{total:,} of {self.rows:,} rows of the file not sent: {reasons}"


class _Reading:
    """The file in 1 s ticks, up to ``minutes`` of it, with a progress bar: by bytes of
    the file read, or by file time when ``minutes`` bounds it."""

    def __init__(
        self,
        path: Path,
        minutes: float | None,
        progress: Progress,
        task: TaskID,
        *,
        skip_empty: bool,
    ) -> None:
        self.replay = CsvReplay(path, period_s=1.0, skip_empty=skip_empty)
        self.first: datetime | None = None
        self.last: datetime | None = None
        self.minutes = minutes
        self.progress = progress
        self.task = task
        progress.update(task, total=self.replay.size if minutes is None else minutes * 60.0)

    def __iter__(self) -> Iterator[TrafficTick]:
        first: datetime | None = None
        for tick in self.replay:
            first = first or tick.start
            if self.minutes is not None and tick.start - first >= timedelta(minutes=self.minutes):
                return
            self.first, self.last = first, tick.end
            yield tick
            done = (
                self.replay.bytes_read
                if self.minutes is None
                else (tick.end - first).total_seconds()
            )
            self.progress.update(self.task, completed=done)

    def tally(self, tally: _Tally) -> None:
        tally.rows = self.replay.rows
        tally.dropped = self.replay.dropped
        tally.start, tally.end = self.first, self.last


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(bar_width=20),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("left"),
        TextColumn("{task.fields[status]}", table_column=Column(overflow="fold")),
        console=console,
        transient=False,
    )


def replay(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="Traffic CSV (gzip or plain), sorted by time."
    ),
    url: str | None = typer.Option(
        None, "--url", help="A running service, e.g. http://127.0.0.1:8000."
    ),
    token: list[str] = typer.Option(
        [], "--token", "-t", help="A party's token (repeat: aircraft are split among them)."
    ),
    database: str | None = typer.Option(
        None, "--database", "-d", help="Replay in this process, in fast time, into this database."
    ),
    parties: int = typer.Option(
        2, "--parties", min=1, help="With --database: how many parties share the aircraft."
    ),
    speed: float = typer.Option(
        1.0, "--speed", min=0.001, help="With --url: file seconds played per second."
    ),
    minutes: float | None = typer.Option(
        None, "--minutes", min=0.0, help="Play only the first MINUTES of the file."
    ),
) -> None:
    """Replay recorded traffic: into a running service (--url, --token) or in fast time in
    this process (--database), printing what the service made of it."""
    started = time.perf_counter()
    with errors_as_exit():
        if (url is None) == (database is None):
            raise ValidationError("give either --url with --token (a service) or --database")
        if url is not None:
            if not token:
                raise ValidationError("--url needs at least one --token (one per party)")
            tally = _over_http(file, url.rstrip("/"), token, speed, minutes)
        else:
            assert database is not None
            tally = _in_process(file, database, parties, minutes)
    tally.wall_s = time.perf_counter() - started
    _summary(tally)


SEND_PERIOD_S = 0.25
"""With --url, each party's states go out at most this often (file seconds that come
due meanwhile share one batch, the later state of an aircraft winning): at ``--speed``
60 one request per file second would be 60 a second per party, three times the
service's default rate."""
RATE_RETRIES = 5
RATE_WAIT_MAX_S = 10.0


def _over_http(
    path: Path, url: str, tokens: list[str], speed: float, minutes: float | None
) -> _Tally:
    tally = _Tally()
    started_wall = time.monotonic()
    first_end: datetime | None = None
    pending: list[AircraftState] = []  # states not sent yet, heard up to pending_end
    pending_end = datetime.min.replace(tzinfo=UTC)
    with httpx.Client(base_url=url, timeout=30.0) as client, _progress() as progress:
        task = progress.add_task(path.name, total=None, status="")
        reading = _Reading(path, minutes, progress, task, skip_empty=False)
        sent_wall = -math.inf

        def send() -> None:
            """Post what is pending, each state stamped as long before now as it was
            heard before the end of its last tick (in file time, over the speed)."""
            nonlocal sent_wall
            sent_at = datetime.now(UTC)
            shares: list[list[dict[str, Any]]] = [[] for _ in tokens]
            latest = {s.id: s for s in sorted(pending, key=lambda s: s.timestamp)}
            tally.merged += len(pending) - len(latest)
            for s in latest.values():
                lag = (pending_end - s.timestamp).total_seconds() / speed
                shares[party_of(s.id, len(tokens))].append(
                    _row(s, sent_at - timedelta(seconds=lag))
                )
            for token, rows in zip(tokens, shares, strict=True):
                if rows:
                    report = _post(client, url, token, rows)
                    tally.count(
                        len(rows), report["accepted"], [r["reason"] for r in report["rejected"]]
                    )
            pending.clear()
            sent_wall = time.monotonic()

        def show() -> None:
            refused = tally.sent - tally.accepted
            progress.update(
                task,
                status=f"file {pending_end:%Y-%m-%d %H:%M:%S} · x{speed:g} · "
                f"{tally.sent:,} sent · {refused:,} refused",
            )

        for tick in reading:
            first_end = first_end or tick.end
            due = started_wall + (tick.end - first_end).total_seconds() / speed
            if due > time.monotonic():
                if pending:  # nothing is held back while waiting
                    send()
                time.sleep(max(0.0, due - time.monotonic()))
            pending.extend(tick.states)
            pending_end = tick.end
            if time.monotonic() - sent_wall >= SEND_PERIOD_S:
                send()
            tally.ticks += 1
            show()
        if pending:
            send()
            show()
        reading.tally(tally)
    return tally


def _post(client: httpx.Client, url: str, token: str, rows: list[dict[str, Any]]) -> Any:
    """Post one party's states; a refusal for the party's rate (429, before the body is
    read) is sent again after the service's Retry-After, a few times."""
    for attempt in range(RATE_RETRIES + 1):
        try:
            response = client.post(
                "/v1/tracks", json={"states": rows}, headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.TransportError as exc:
            raise ValidationError(
                f"cannot reach {url} ({exc}); start the service (deconfliction serve) or fix --url"
            ) from None
        if response.status_code != 429 or attempt == RATE_RETRIES:
            break
        try:
            asked = float(response.headers.get("retry-after", "1"))
        except ValueError:
            asked = 1.0
        time.sleep(min(max(asked, 0.1), RATE_WAIT_MAX_S))
    if response.status_code != 202:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        raise ValidationError(f"{url} answered {response.status_code}: {detail}")
    return response.json()


def _in_process(path: Path, database: str, parties: int, minutes: float | None) -> _Tally:
    settings = settings_for(database)
    db = open_database(settings)
    try:
        refs = _parties(Registry(db, SystemClock()), parties)
        clock = ManualClock(datetime(1970, 1, 1, tzinfo=UTC))
        # The service's own limits, remembered as the app remembers them: not one read
        # of the store per party and tick.
        limits = PartyLimits(db, clock, settings, cache_s=settings.auth_cache_s)
        tracks = TrackService(db, clock, settings, limits=limits)
        tally = _Tally()
        with _progress() as progress:
            task = progress.add_task(
                f"{path.name} (fast time, {parties} parties)", total=None, status=""
            )
            reading = _Reading(path, minutes, progress, task, skip_empty=True)
            for tick in reading:
                clock.set(tick.end)
                started = time.perf_counter()
                shares: list[list[dict[str, Any]]] = [[] for _ in refs]
                for s in tick.states:
                    shares[party_of(s.id, parties)].append(_row(s, s.timestamp))
                for ref, rows in zip(refs, shares, strict=True):
                    if rows:
                        _count(tally, tracks.report(ref, rows))
                report = tracks.run_tick(tick.end)
                tally.tick_ms.append((time.perf_counter() - started) * 1000.0)
                tally.store_ms.append(report.store_s * 1000.0)
                tally.aircraft.append(report.aircraft)
                tally.opened += report.opened
                tally.updated += report.updated
                tally.resolved += report.resolved
                tally.most_open = max(tally.most_open, report.open)
                tally.ticks += 1
                progress.update(
                    task,
                    status=f"file {tick.end:%Y-%m-%d %H:%M:%S} · {report.aircraft} aircraft · "
                    f"{report.open} open · {tally.tick_ms[-1]:.1f} ms",
                )
            reading.tally(tally)
    finally:
        db.dispose()
    return tally


def _count(tally: _Tally, report: BatchReport) -> None:
    tally.count(report.received, report.accepted, [r.reason for r in report.rejected])


def _parties(registry: Registry, count: int) -> list[PartyRef]:
    found = []
    for k in range(1, count + 1):
        name = f"replay-{k}"
        try:
            found.append(registry.get(name))
        except NotFoundError:
            found.append(registry.add(name, "operator")[0])
    return found


def _summary(tally: _Tally) -> None:
    console.print(f"{tally.ticks:,} ticks of 1 s: {tally.line()}")
    console.print(tally.pace())
    console.print(tally.drops())
    for reason, n in tally.reasons.most_common(_SHOWN_REASONS):
        err_console.print(f"  refused {n:,} times: {reason}")
    if not tally.tick_ms:
        return
    ms = sorted(tally.tick_ms)
    table = Table(title="the tactical service per tick (fast time, store writes included)")
    for column in (
        "aircraft (mean / max)",
        "ms p50",
        "ms p95",
        "ms max",
        "ms mean",
        "store ms mean",
    ):
        table.add_column(column, justify="right")
    table.add_row(
        f"{statistics.fmean(tally.aircraft):.1f} / {max(tally.aircraft)}",
        f"{ms[len(ms) // 2]:.2f}",
        f"{ms[min(len(ms) - 1, int(0.95 * len(ms)))]:.2f}",
        f"{ms[-1]:.2f}",
        f"{statistics.fmean(ms):.2f}",
        f"{statistics.fmean(tally.store_ms):.2f}",
    )
    console.print(table)
    console.print(
        f"conflicts: {tally.opened:,} opened, {tally.updated:,} updates, "
        f"{tally.resolved:,} resolved, at most {tally.most_open} open at once"
    )


def _duration(seconds: float) -> str:
    """``seconds`` for a person: ``42.1 s``, ``7 min 05 s``, ``3 h 12 min``, ``11 d 7.8 h``.

    >>> _duration(42.14), _duration(425.0), _duration(11_520.0), _duration(978_210.0)
    ('42.1 s', '7 min 05 s', '3 h 12 min', '11 d 7.7 h')
    """
    if seconds < 60.0:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    if whole < 86_400:
        return f"{whole // 3600} h {whole % 3600 // 60:02d} min"
    return f"{whole // 86_400} d {whole % 86_400 / 3600:.1f} h"

"""Aircraft states, and the CSV replay reader that streams them in ticks.

An :class:`AircraftState` is one aircraft at one instant, SI inside: position in
degrees (GeoJSON order, lon before lat), barometric altitude in metres, ground speed in
m/s, track in degrees true, vertical rate in m/s (up is positive). It is what the feed
readers (this CSV replay, :mod:`deconfliction.feeds.sbs1`) hand out; the tactical
engine packs many of them into its own arrays.

The replay files are gzip CSV sorted by time::

    timestamp,id,lat,lon,alt_m,gs_mps,trk_deg,vs_mps
    2021-10-07T12:00:01.000Z,398564,48.363399,1.413478,6172.2,198.06,16.3,-13.0

:class:`CsvReplay` reads them a row at a time and hands out one :class:`TrafficTick`
per period: the latest state of each aircraft heard in ``[start, end)``. Rows with no
altitude are aircraft on the ground and are skipped and counted, and so are rows with
an altitude but no velocity, which a state cannot be made from.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from deconfliction.core.units import Degrees, Metres, MetresPerSecond, Seconds

__all__ = ["CSV_COLUMNS", "AircraftState", "CsvReplay", "TrafficTick"]

CSV_COLUMNS = ("timestamp", "id", "lat", "lon", "alt_m", "gs_mps", "trk_deg", "vs_mps")


@dataclass(frozen=True, slots=True)
class AircraftState:
    """One aircraft at one instant (UTC). ``id`` is the ICAO 24-bit address in lower-case
    hex; ``callsign`` is known only to feeds that carry it (SBS-1)."""

    id: str
    timestamp: datetime
    lon: Degrees
    lat: Degrees
    alt_m: Metres
    gs_mps: MetresPerSecond
    trk_deg: Degrees
    vs_mps: MetresPerSecond
    callsign: str | None = None


@dataclass(frozen=True)
class TrafficTick:
    """The latest state of every aircraft heard in ``[start, end)``, by id order of first
    appearance in the tick. Aircraft not heard in the tick are not in it."""

    start: datetime
    end: datetime
    states: tuple[AircraftState, ...]


class CsvReplay:
    """Iterate over a replay file (gzip or plain CSV) in ticks of ``period_s`` seconds.

    Ticks start at multiples of ``period_s`` since the Unix epoch and follow each other
    without gaps from the first row's tick to the last row's, empty ones included, so a
    consumer can keep time by them. Each pass re-reads the file and recounts: after one,
    ``rows`` holds the data rows read, ``airborne_rows`` those that became states,
    ``ground_rows`` those with no altitude, ``incomplete_rows`` those with an altitude
    but a missing speed, track or vertical rate, ``late_rows`` those older than a tick
    already handed out, and ``bad_rows`` the unreadable ones.
    """

    def __init__(self, path: str | Path, period_s: Seconds = 1.0) -> None:
        if not (isinstance(period_s, int | float) and math.isfinite(period_s) and period_s > 0):
            raise ValueError(f"period_s must be a positive number of seconds, not {period_s!r}")
        self.path = Path(path)
        self.period_s = float(period_s)
        self._reset()

    def _reset(self) -> None:
        self.rows = 0
        self.airborne_rows = 0
        self.ground_rows = 0
        self.incomplete_rows = 0
        self.late_rows = 0
        self.bad_rows = 0

    def _open(self) -> io.TextIOBase:
        with self.path.open("rb") as probe:
            gzipped = probe.read(2) == b"\x1f\x8b"
        if gzipped:
            return io.TextIOWrapper(gzip.open(self.path, "rb"), encoding="utf-8", newline="")
        return io.TextIOWrapper(self.path.open("rb"), encoding="utf-8", newline="")

    def __iter__(self) -> Iterator[TrafficTick]:
        self._reset()
        period = self.period_s
        current: int | None = None
        batch: dict[str, AircraftState] = {}
        last_text = ""
        last_time = datetime.min.replace(tzinfo=UTC)
        last_tick = 0
        with self._open() as stream:
            rows = csv.reader(stream)
            header = next(rows, None)
            if header is None or tuple(h.strip() for h in header) != CSV_COLUMNS:
                raise ValueError(
                    f"{self.path} does not start with the header {','.join(CSV_COLUMNS)}"
                )
            for row in rows:
                self.rows += 1
                if len(row) != len(CSV_COLUMNS):
                    self.bad_rows += 1
                    continue
                if row[0] != last_text:
                    try:
                        last_time = _utc(row[0])
                    except ValueError:
                        self.bad_rows += 1
                        continue
                    last_text = row[0]
                    last_tick = math.floor(last_time.timestamp() / period)
                if current is not None and last_tick < current:
                    self.late_rows += 1
                    continue
                state = self._state(row, last_time)
                if state is None:
                    continue
                if current is None:
                    current = last_tick
                while current < last_tick:
                    yield self._tick(current, batch)
                    batch = {}
                    current += 1
                batch[state.id] = state
            if current is not None:
                yield self._tick(current, batch)

    def _state(self, row: list[str], timestamp: datetime) -> AircraftState | None:
        if not row[4]:
            self.ground_rows += 1
            return None
        if not (row[5] and row[6] and row[7]):
            self.incomplete_rows += 1
            return None
        try:
            lat, lon, alt, gs, trk, vs = (float(v) for v in row[2:])
        except ValueError:
            self.bad_rows += 1
            return None
        if (
            not (
                -90.0 <= lat <= 90.0
                and -180.0 <= lon <= 180.0
                and all(math.isfinite(v) for v in (alt, gs, trk, vs))
            )
            or not row[1]
        ):
            self.bad_rows += 1
            return None
        self.airborne_rows += 1
        return AircraftState(row[1].lower(), timestamp, lon, lat, alt, gs, trk % 360.0, vs)

    def _tick(self, index: int, batch: dict[str, AircraftState]) -> TrafficTick:
        start = datetime.fromtimestamp(index * self.period_s, UTC)
        return TrafficTick(start, start + timedelta(seconds=self.period_s), tuple(batch.values()))


def _utc(text: str) -> datetime:
    instant = datetime.fromisoformat(text)
    if instant.tzinfo is None:
        raise ValueError(f"timestamp {text} has no time zone")
    return instant.astimezone(UTC)

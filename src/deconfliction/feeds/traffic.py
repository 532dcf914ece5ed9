"""Aircraft states, and the CSV replay reader that streams them in ticks.

An :class:`AircraftState` is one aircraft at one instant, SI inside: position in
degrees (GeoJSON order, lon before lat), barometric altitude in metres, ground speed in
m/s, track in degrees true, vertical rate in m/s (up is positive). It is what the feed
readers (this CSV replay, :mod:`deconfliction.feeds.sbs1`) hand out; the tactical
engine packs many of them into its own arrays.

The replay files are CSV (gzip or plain, UTF-8, a byte-order mark allowed) sorted by
time, with a header naming the columns; their order is free, ``onground`` (``true``/
``false``, ``1``/``0``, empty: airborne) is optional and other columns are ignored::

    timestamp,id,lat,lon,alt_m,gs_mps,trk_deg,vs_mps
    2021-10-07T12:00:01.000Z,398564,48.363399,1.413478,6172.2,198.06,16.3,-13.0

:class:`CsvReplay` reads them a row at a time and hands out one :class:`TrafficTick`
per period: the latest state of each aircraft heard in ``[start, end)``. Every row that
does not become a state is counted under one of :data:`DROP_REASONS`:

=================  ===================================================================
``no altitude``    no altitude: an aircraft on the ground that reports none
``incomplete``     an altitude but no speed, track or vertical rate
``bad value``      a field that is not a number, a time without a zone, a position off
                   the globe, no id, too few fields
``late``           older than a tick already handed out
``duplicate``      another state of an aircraft already in the tick (the later report
                   time wins; on a tie, the later row)
``implausible``    a speed, vertical rate or altitude no aircraft reaches
=================  ===================================================================

A file that cannot be read as such raises :class:`~deconfliction.errors.ValidationError`
with one line saying what to do: empty, a header that lacks a column or names one
twice, the header again inside the file, bytes that are not UTF-8, a gzip cut short.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import math
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from deconfliction.core.units import Degrees, Metres, MetresPerSecond, Seconds
from deconfliction.core.volume import MAX_ALTITUDE_M, MIN_ALTITUDE_M
from deconfliction.errors import ValidationError
from deconfliction.tactical.state import MAX_GROUND_SPEED_MPS, MAX_VERTICAL_SPEED_MPS

__all__ = ["CSV_COLUMNS", "DROP_REASONS", "ON_GROUND", "AircraftState", "CsvReplay", "TrafficTick"]

CSV_COLUMNS = ("timestamp", "id", "lat", "lon", "alt_m", "gs_mps", "trk_deg", "vs_mps")
ON_GROUND = "onground"
"""The optional column that says an aircraft is on the ground."""
DROP_REASONS = ("no altitude", "incomplete", "bad value", "late", "duplicate", "implausible")
_TRUE = frozenset({"true", "1", "t", "yes"})
_FALSE = frozenset({"false", "0", "f", "no", ""})


@dataclass(frozen=True, slots=True)
class AircraftState:
    """One aircraft at one instant (UTC). ``id`` is the ICAO 24-bit address in lower-case
    hex; ``callsign`` is known only to feeds that carry it (SBS-1); ``on_ground`` only to
    feeds that say so (a replay's ``onground`` column)."""

    id: str
    timestamp: datetime
    lon: Degrees
    lat: Degrees
    alt_m: Metres
    gs_mps: MetresPerSecond
    trk_deg: Degrees
    vs_mps: MetresPerSecond
    callsign: str | None = None
    on_ground: bool = False


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
    consumer can keep time by them; with ``skip_empty`` only the ticks that hold states
    are handed out (event-driven: a quiet night costs nothing). Each pass re-reads the
    file and recounts: after one, ``rows`` holds the data rows read, ``airborne_rows``
    those that became states handed out, and ``dropped`` the others by reason
    (:data:`DROP_REASONS`).
    """

    def __init__(
        self, path: str | Path, period_s: Seconds = 1.0, *, skip_empty: bool = False
    ) -> None:
        if not (isinstance(period_s, int | float) and math.isfinite(period_s) and period_s > 0):
            raise ValueError(f"period_s must be a positive number of seconds, not {period_s!r}")
        self.path = Path(path)
        self.period_s = float(period_s)
        self.skip_empty = skip_empty
        self._reset()

    def _reset(self) -> None:
        self._raw: BinaryIO | None = None
        self.rows = 0
        self.dropped: Counter[str] = Counter(dict.fromkeys(DROP_REASONS, 0))

    @property
    def airborne_rows(self) -> int:
        """Rows that became states handed out."""
        return self.rows - sum(self.dropped.values())

    @property
    def ground_rows(self) -> int:
        return self.dropped["no altitude"]

    @property
    def incomplete_rows(self) -> int:
        return self.dropped["incomplete"]

    @property
    def late_rows(self) -> int:
        return self.dropped["late"]

    @property
    def bad_rows(self) -> int:
        return self.dropped["bad value"]

    @property
    def size(self) -> int:
        """The file's size in bytes (compressed, for a gzip file)."""
        return self.path.stat().st_size

    @property
    def bytes_read(self) -> int:
        """How far the pass under way has read into the file, in bytes of the file."""
        return 0 if self._raw is None or self._raw.closed else self._raw.tell()

    def _open(self) -> io.TextIOBase:
        try:
            raw = self.path.open("rb")
        except OSError as exc:
            raise ValidationError(
                f"cannot read {self.path}: {exc.strerror}; check the path"
            ) from None
        self._raw = raw
        gzipped = raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        binary = gzip.GzipFile(fileobj=raw, mode="rb") if gzipped else raw
        return io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")

    def __iter__(self) -> Iterator[TrafficTick]:
        self._reset()
        try:
            with self._open() as stream, self._raw or contextlib.nullcontext():
                yield from self._ticks(csv.reader(stream))
        except UnicodeDecodeError as exc:
            raise ValidationError(
                f"{self.path} is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} near data "
                f"row {self.rows + 1}); save it as UTF-8"
            ) from None
        except EOFError:
            raise ValidationError(
                f"{self.path} is a gzip file truncated at byte {self.path.stat().st_size} "
                f"(after data row {self.rows}); copy or download it again"
            ) from None
        except (gzip.BadGzipFile, zlib.error) as exc:
            raise ValidationError(
                f"{self.path} is not a readable gzip file ({exc}); copy or download it again"
            ) from None
        except csv.Error as exc:
            raise ValidationError(
                f"{self.path} is not a readable CSV (data row {self.rows + 1}: {exc}); fix that row"
            ) from None

    def _columns(self, header: list[str] | None) -> tuple[list[int], int | None, list[str]]:
        if header is None:
            raise ValidationError(
                f"{self.path} is empty; give a traffic CSV whose header names "
                f"{','.join(CSV_COLUMNS)}"
            )
        names = [h.strip().lower() for h in header]
        twice = sorted({n for n in names if names.count(n) > 1 and n})
        if twice:
            raise ValidationError(
                f"{self.path} names the column(s) {', '.join(twice)} twice in its header; "
                "keep one of each"
            )
        missing = [c for c in CSV_COLUMNS if c not in names]
        if missing:
            raise ValidationError(
                f"{self.path} lacks the column(s) {', '.join(missing)}; its header must name "
                f"{','.join(CSV_COLUMNS)} (and optionally {ON_GROUND}), in any order"
            )
        ground = names.index(ON_GROUND) if ON_GROUND in names else None
        return [names.index(c) for c in CSV_COLUMNS], ground, [h.strip() for h in header]

    def _ticks(self, rows: Iterator[list[str]]) -> Iterator[TrafficTick]:
        index, ground, header = self._columns(next(rows, None))
        width = max(index) + 1 if ground is None else max(*index, ground) + 1
        period = self.period_s
        current: int | None = None
        batch: dict[str, AircraftState] = {}
        last_text = ""
        last_time = datetime.min.replace(tzinfo=UTC)
        last_tick = 0
        for row in rows:
            self.rows += 1
            if len(row) < width:
                if [h.strip() for h in row] == header:
                    raise ValidationError(
                        f"{self.path} repeats its header at data row {self.rows} (files "
                        "joined?); remove that line or split the file"
                    )
                self.dropped["bad value"] += 1
                continue
            fields = [row[k] for k in index]
            if fields[0] != last_text:
                try:
                    last_time = _utc(fields[0])
                except ValueError:
                    if [h.strip() for h in row] == header:
                        raise ValidationError(
                            f"{self.path} repeats its header at data row {self.rows} (files "
                            "joined?); remove that line or split the file"
                        ) from None
                    self.dropped["bad value"] += 1
                    continue
                last_text = fields[0]
                last_tick = math.floor(last_time.timestamp() / period)
            if current is not None and last_tick < current:
                self.dropped["late"] += 1
                continue
            state = self._state(fields, None if ground is None else row[ground], last_time)
            if state is None:
                continue
            if current is None:
                current = last_tick
            if current < last_tick:
                yield from self._flush(current, batch)
                batch = {}
                current = last_tick if self.skip_empty else current + 1
                while current < last_tick:
                    yield self._tick(current, {})
                    current += 1
            held = batch.get(state.id)
            if held is not None:
                self.dropped["duplicate"] += 1
                if held.timestamp > state.timestamp:
                    continue
            batch[state.id] = state
        if current is not None:
            yield from self._flush(current, batch)

    def _flush(self, index: int, batch: dict[str, AircraftState]) -> Iterator[TrafficTick]:
        if batch or not self.skip_empty:
            yield self._tick(index, batch)

    def _state(
        self, row: list[str], ground: str | None, timestamp: datetime
    ) -> AircraftState | None:
        if not row[4]:
            self.dropped["no altitude"] += 1
            return None
        if not (row[5] and row[6] and row[7]):
            self.dropped["incomplete"] += 1
            return None
        on_ground = (ground or "").strip().lower()
        try:
            lat, lon, alt, gs, trk, vs = (float(v) for v in row[2:])
        except ValueError:
            self.dropped["bad value"] += 1
            return None
        if (
            not (
                -90.0 <= lat <= 90.0
                and -180.0 <= lon <= 180.0
                and all(math.isfinite(v) for v in (alt, gs, trk, vs))
            )
            or not row[1]
            or on_ground not in _TRUE | _FALSE
        ):
            self.dropped["bad value"] += 1
            return None
        if (
            not 0.0 <= gs <= MAX_GROUND_SPEED_MPS
            or abs(vs) > MAX_VERTICAL_SPEED_MPS
            or not MIN_ALTITUDE_M <= alt <= MAX_ALTITUDE_M
        ):
            self.dropped["implausible"] += 1
            return None
        return AircraftState(
            row[1].strip().lower(),
            timestamp,
            lon,
            lat,
            alt,
            gs,
            trk % 360.0,
            vs,
            on_ground=on_ground in _TRUE,
        )

    def _tick(self, index: int, batch: dict[str, AircraftState]) -> TrafficTick:
        start = datetime.fromtimestamp(index * self.period_s, UTC)
        return TrafficTick(start, start + timedelta(seconds=self.period_s), tuple(batch.values()))


def _utc(text: str) -> datetime:
    instant = datetime.fromisoformat(text)
    if instant.tzinfo is None:
        raise ValueError(f"timestamp {text} has no time zone")
    return instant.astimezone(UTC)

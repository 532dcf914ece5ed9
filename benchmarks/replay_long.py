"""``deconfliction replay`` on twelve days of a small fleet: minutes, not hours? (issue 9)

Run it from the repository root::

    python -m benchmarks.replay_long            # the 12-day fleet file, then the Swiss file
    python -m benchmarks.replay_long --quick    # the 12-day fleet file only
    python -m benchmarks.replay_long --days 2   # a shorter fleet file (built the same way)

**The fleet file** (built once, fixed seed, cached under ``benchmarks/.cache/replay_long``)
is what a 12-day capture of a fleet of 49 aircraft looks like: real flights, and mostly
quiet time between them. The flights are cut from the real Swiss recording
(``../shared/data/traffic/switzerland_2018-08-01.csv.gz``: one state per aircraft every
10 s, on a 10 s grid): an aircraft's states with no gap over 5 minutes, at least 10
minutes long, make one flight (1,244 of them, 10 to 31 minutes, median 18: the
recording sees aircraft crossing Switzerland). Each of the 49 aircraft (ids ``fl0000``
to ``fl0048``) flies 2 to 4 of them a day, drawn at random, the first taking off
between 06:00 and 08:00 UTC, then one after another with 30 minutes to 2 hours on the
ground between them (nothing is sent on the ground), none ending after 23:00; a flight
keeps its real positions, speeds and rows (glitches included), moved in time by a
multiple of 10 s, so the 10 s grid stays. With the defaults (12 days, 49 aircraft,
seed 9): 196,860 rows over 11 days 7.7 hours (978,210 s), 30,448 of those seconds
holding states (1 in 32; each aircraft is airborne about an hour a day, 6 at a time
on average, 17 at most), nights empty.

Each file is replayed by the installed ``deconfliction replay FILE --database
sqlite:///… --parties 3`` in a fresh process (fast time, event-driven ticks, the
tactical service's whole path and its store writes), its progress bar shown when this
runs in a terminal. The table gives per file: the recording's span (first row to
last), its rows, the seconds that hold rows, the ticks the replay ran (from its
summary: the seconds that hold at least one state sent), the wall time of the whole
process, rows per second of wall time, the speed-up over real time (span / wall), the
rows of the file not sent (no altitude, implausible and the like, from the summary) and
the states the service refused (its plausibility gate).

**The reference row** is the whole Swiss recording itself (842 aircraft, 17 hours).
Target: the 12 days within 10 minutes (the issue's "minutes, not hours").
"""

from __future__ import annotations

import argparse
import csv
import gzip
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

__all__ = ["Fleet", "build", "main", "measure"]

TRAFFIC_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "traffic"
SWISS = TRAFFIC_DIR / "switzerland_2018-08-01.csv.gz"
CACHE = Path(__file__).resolve().parent / ".cache" / "replay_long"
HEADER = "timestamp,id,lat,lon,alt_m,gs_mps,trk_deg,vs_mps"
GRID_S = 10
FLIGHT_GAP_S = 300  # states of one aircraft further apart than this: two flights
MIN_FLIGHT_S = 600
DAY_S = 86_400
TARGET_S = 600.0  # the "minutes, not hours": 12 days within 10 minutes


@dataclass(frozen=True)
class Fleet:
    """A fleet recording: ``aircraft`` flying ``flights`` (a range) real flights a day
    for ``days`` days from ``start`` (UTC midnight), drawn with ``seed``."""

    days: int = 12
    aircraft: int = 49
    seed: int = 9
    flights: tuple[int, int] = (2, 4)
    start: datetime = datetime(2018, 8, 1, tzinfo=UTC)
    first_takeoff_s: tuple[int, int] = (6 * 3600, 8 * 3600)
    turnaround_s: tuple[int, int] = (1800, 7200)
    last_landing_s: int = 23 * 3600

    def name(self, source: Path) -> str:
        stem = source.name.split(".")[0]
        return f"fleet-{self.aircraft}x{self.days}d-seed{self.seed}-{stem}.csv.gz"


Flight = list[tuple[int, str]]
"""A flight's rows: (seconds from its first row, the row's fields after the id)."""


def flights(source: Path) -> list[Flight]:
    """The flights of a recording: each aircraft's rows cut where it goes unheard for
    more than :data:`FLIGHT_GAP_S`, those at least :data:`MIN_FLIGHT_S` long kept."""
    rows: dict[str, list[tuple[int, str]]] = defaultdict(list)
    with gzip.open(source, "rt", encoding="utf-8", newline="") as stream:
        reader = csv.reader(stream)
        next(reader)
        for stamp, ident, *rest in reader:
            at = round(datetime.fromisoformat(stamp).timestamp())
            rows[ident].append((at, ",".join(rest)))
    found: list[Flight] = []
    for track in rows.values():
        track.sort(key=lambda r: r[0])
        cut = [
            0,
            *(k for k in range(1, len(track)) if track[k][0] - track[k - 1][0] > FLIGHT_GAP_S),
        ]
        for a, b in zip(cut, [*cut[1:], len(track)], strict=True):
            piece = track[a:b]
            if piece[-1][0] - piece[0][0] >= MIN_FLIGHT_S:
                found.append([(t - piece[0][0], rest) for t, rest in piece])
    return found


def build(fleet: Fleet, source: Path, target: Path) -> Path:
    """Write the fleet's recording (gzip CSV, sorted by time) to ``target``; see the
    module docstring."""
    pool = flights(source)
    if not pool:
        raise SystemExit(f"{source} holds no flight of {MIN_FLIGHT_S} s or more")
    rng = np.random.default_rng(fleet.seed)
    day0 = int(fleet.start.timestamp())
    out: list[tuple[int, str, str]] = []
    for day in range(fleet.days):
        midnight = day0 + day * DAY_S
        for k in range(fleet.aircraft):
            ident = f"fl{k:04d}"
            at = midnight + _on_grid(rng.integers(*fleet.first_takeoff_s))
            for _ in range(int(rng.integers(fleet.flights[0], fleet.flights[1] + 1))):
                flight = pool[int(rng.integers(len(pool)))]
                if at + flight[-1][0] > midnight + fleet.last_landing_s:
                    break
                out.extend((at + dt, ident, rest) for dt, rest in flight)
                at += _on_grid(flight[-1][0] + rng.integers(*fleet.turnaround_s))
    out.sort(key=lambda r: (r[0], r[1]))
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    with gzip.open(partial, "wt", encoding="utf-8", newline="") as stream:
        stream.write(HEADER + "\n")
        for at, ident, rest in out:
            stream.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(at))}.000Z,")
            stream.write(f"{ident},{rest}\n")
    partial.replace(target)
    return target


def _on_grid(seconds: int | np.integer) -> int:
    return int(seconds) // GRID_S * GRID_S


@dataclass(frozen=True)
class Shape:
    """A recording's span (first row to last, s), rows and seconds that hold rows."""

    span_s: float
    rows: int
    seconds: int


def shape(path: Path) -> Shape:
    first = last = ""
    rows = 0
    seconds: set[str] = set()
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        next(stream)
        for line in stream:
            stamp = line.split(",", 1)[0]
            first = first or stamp
            last = stamp
            seconds.add(stamp[:19])
            rows += 1
    if not rows:
        return Shape(0.0, 0, 0)
    span = datetime.fromisoformat(last) - datetime.fromisoformat(first)
    return Shape(span.total_seconds(), rows, len(seconds))


@dataclass(frozen=True)
class Result:
    name: str
    shape: Shape
    ticks: int
    wall_s: float
    dropped: int
    refused: int


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


def _command() -> list[str]:
    script = shutil.which("deconfliction")
    if script is None:
        return [sys.executable, "-c", "from deconfliction.cli import main; main()"]
    return [script]


def measure(path: Path, parties: int = 3, *, show: bool = False) -> Result:
    """Replay ``path`` in fast time in a fresh process; its figures from its summary.
    With ``show``, its output (progress bar included) goes through to this terminal."""
    env = {**os.environ, "COLUMNS": "160", "NO_COLOR": "1"}
    if show:
        env |= {"TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1"}
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'replay.db'}"
        args = [*_command(), "replay", str(path), "--database", url, "--parties", str(parties)]
        started = time.perf_counter()
        captured = bytearray()
        with subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env
        ) as process:
            assert process.stdout is not None
            while block := os.read(process.stdout.fileno(), 1 << 16):
                captured += block
                if show:
                    sys.stdout.buffer.write(block)
                    sys.stdout.flush()
        wall = time.perf_counter() - started
    text = " ".join(_ANSI.sub("", captured.decode("utf-8", "replace")).split())
    if process.returncode != 0:
        raise SystemExit(f"replay failed on {path} (exit {process.returncode}): {text[-500:]}")
    ticks = re.search(r"([\d,]+) ticks of 1 s", text)
    dropped = re.search(r"([\d,]+) of [\d,]+ rows of the file not sent", text)
    refused = re.search(r"states sent, [\d,]+ accepted, ([\d,]+) refused", text)
    if ticks is None or dropped is None or refused is None:
        raise SystemExit(f"no summary in the replay's output: {text[-500:]}")
    return Result(
        path.name,
        shape(path),
        _number(ticks[1]),
        wall,
        _number(dropped[1]),
        _number(refused[1]),
    )


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def table(results: Sequence[Result]) -> Table:
    found = Table(
        "file",
        "span",
        "rows",
        "seconds with states",
        "ticks run",
        "wall s",
        "rows/s",
        "speed-up",
        "rows not sent",
        "states refused",
        title="deconfliction replay in fast time (--parties 3, SQLite)",
    )
    for r in results:
        found.add_row(
            r.name,
            _span(r.shape.span_s),
            f"{r.shape.rows:,}",
            f"{r.shape.seconds:,}",
            f"{r.ticks:,}",
            f"{r.wall_s:.1f}",
            f"{r.shape.rows / r.wall_s:,.0f}",
            f"{r.shape.span_s / r.wall_s:,.0f}x",
            f"{r.dropped:,}",
            f"{r.refused:,}",
        )
    return found


def _span(seconds: float) -> str:
    days, rest = divmod(round(seconds), DAY_S)
    return f"{days} d {rest / 3600:.1f} h" if days else f"{rest / 3600:.1f} h"


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the fleet file only")
    parser.add_argument("--days", type=int, default=Fleet.days, help="days of the fleet file")
    parser.add_argument(
        "--aircraft", type=int, default=Fleet.aircraft, help="aircraft of the fleet"
    )
    parser.add_argument("--source", type=Path, default=SWISS, help="recording to cut flights from")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    show = sys.stdout.isatty()
    console = Console(width=None if show else 160)
    if not args.source.is_file():
        console.print(f"{args.source} is absent; give a recording with --source")
        return 2
    fleet = Fleet(days=args.days, aircraft=args.aircraft)
    path = CACHE / fleet.name(args.source)
    if not path.exists():
        console.print(f"building {path.name} from {args.source.name} (once; cached)")
        build(fleet, args.source, path)
    files = [path] if args.quick else [path, args.source]
    results = [measure(f, show=show) for f in files]
    console.print(table(results))
    fleet_s = results[0].wall_s
    console.print(
        f"the fleet file ({fleet.days} d, {fleet.aircraft} aircraft) replayed within "
        f"{TARGET_S / 60:.0f} minutes: "
        f"{fleet_s <= TARGET_S} ({fleet_s:.0f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The strategic benchmark: how long filing a notice takes, and how many go through a second.

Run it from the repository root::

    python -m benchmarks.strategic                 # stores of 10k, 100k and 1M volumes
    python -m benchmarks.strategic --quick         # 10k only, fewer filings, short HTTP run
    python -m benchmarks.strategic --sizes 10000,100000 --http-seconds 20

Every case runs on a fresh copy of a store built once and cached under
``benchmarks/.cache/`` (the 1M store takes a while to build the first time):

* **sparse N**: a store of N volumes drawn from :class:`~benchmarks._volumes.VolumeMix`
  (footprints 1-50 km across, circles and polygons; 1-6 h windows over one week; bands
  300-3,000 m thick up to 15,000 m; a region ~500 km across; 20 parties). Notices of one
  volume each, from the same mix, are then filed one after another through
  ``NoticeService.file``, which searches, writes and commits each (SQLite in WAL mode,
  ``synchronous=FULL``). The time is that call's: drafts are validated beforehand, as
  the API does before it calls the service.
* **search only, N**: the same volumes searched for first, on the same copy, without
  filing them: the cell index's candidates and the core's exact test, nothing written.
  Set beside sparse N, it tells the search from the writing of what it found.
* **hot spot**: the smallest store plus 1,000 volumes piled into one area 10 km across
  in the same week, then filings into that area, compared with sparse at that size.
* **HTTP**: the smallest store served by ``deconfliction serve`` in its own process,
  clients filing from threads for ``--http-seconds``; latency and rate as they see it.

Targets on a 2-core machine: p99 under 20 ms at 1M volumes stored (service layer), at
least 300 filings/s over HTTP, hot spot within 3x sparse. Seeds are fixed, so a rerun
files the same notices into the same stores. The first few filings of each case warm
the caches and are not counted. Beside latency, the table gives the CPU time of each
filing (the caller's thread; over HTTP, the server process's): on a machine that other
work shares, latency grows with the load average, CPU time hardly does.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from benchmarks._http_load import Filed, Request, cpu_seconds, file_concurrently, served
from benchmarks._latency import Latency, summarise
from benchmarks._limits import LIFTED
from benchmarks._store import StoreSpec, bulk_load, cached_store, copy_store, party_name
from benchmarks._volumes import CHUNK, VolumeMix, volume_chunk
from deconfliction.clock import ManualClock, SystemClock
from deconfliction.core.volume import Buffers, Volume4D
from deconfliction.notices.model import NoticeDraft
from deconfliction.notices.search import find_conflicts
from deconfliction.notices.service import NoticeService
from deconfliction.parties import Registry
from deconfliction.settings import Settings
from deconfliction.store.database import Database

__all__ = [
    "Case",
    "Filings",
    "drawn",
    "feature",
    "file_over_http",
    "file_through_service",
    "main",
    "search_only",
]

# Streams of the volume generator: each set of volumes is drawn independently.
STORE, FILINGS, PILE, PILE_FILINGS, HTTP_FILINGS = range(5)

DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
CACHE_DIR = Path(__file__).resolve().parent / ".cache"
HOT_SPOT_ACROSS_M = 10_000.0
P99_TARGET_MS = 20.0
HTTP_TARGET_PER_S = 300.0
HOT_SPOT_TARGET_RATIO = 3.0
_HTTP_REQUESTS_PER_S = 600  # bodies drawn per second of an HTTP run (more than it files)


@dataclass(frozen=True)
class Filings:
    """Filings made one after another: latency and CPU time (s) of each counted one, and
    the conflicts found by each.

    ``conflicts`` has one entry per filing, warm-up ones first; ``latencies_s`` and
    ``cpu_s`` only the counted ones. CPU time is this thread's, SQLite's work included:
    unlike latency, it hardly moves when other processes share the machine.
    """

    latencies_s: list[float]
    cpu_s: list[float]
    conflicts: list[int]


@dataclass(frozen=True)
class Case:
    """One row of the table."""

    name: str
    stored: int
    latency: Latency
    cpu_ms: float | None
    conflicts_per_filing: float
    notes: str


def drawn(mix: VolumeMix, seed: int, stream: int, count: int) -> list[tuple[int, Volume4D]]:
    """The first ``count`` (party id, volume) pairs of ``stream``."""
    pairs: list[tuple[int, Volume4D]] = []
    for chunk in range(-(-count // CHUNK)):
        pairs.extend(volume_chunk(mix, seed, stream, chunk, min(CHUNK, count - chunk * CHUNK)))
    return pairs


def file_through_service(
    database_url: str, mix: VolumeMix, seed: int, stream: int, count: int, warmup: int
) -> Filings:
    """File ``warmup + count`` one-volume notices of ``stream`` through NoticeService.

    The clock stands a day before the week and moves a second per filing.
    """
    planned = drawn(mix, seed, stream, warmup + count)
    db = Database(database_url)
    try:
        clock = ManualClock(mix.week_start - timedelta(days=1))
        service = NoticeService(db, clock, Settings(database_url=database_url, **LIFTED))
        parties = {party.id: party for party in Registry(db, clock).all()}
        filings = Filings([], [], [])
        for index, (party_id, volume) in enumerate(planned):
            draft = NoticeDraft((volume,), title=f"benchmark {stream}-{index}")
            started, cpu = time.perf_counter(), time.thread_time()
            result = service.file(parties[party_id], draft)
            took, cpu = time.perf_counter() - started, time.thread_time() - cpu
            clock.advance(timedelta(seconds=1))
            filings.conflicts.append(len(result.conflicts))
            if index >= warmup:
                filings.latencies_s.append(took)
                filings.cpu_s.append(cpu)
        return filings
    finally:
        db.dispose()


def search_only(
    database_url: str, mix: VolumeMix, seed: int, stream: int, count: int, warmup: int
) -> Filings:
    """Search for ``warmup + count`` volumes of ``stream`` without filing them.

    Each search is what a filing does before it writes (``find_conflicts``: candidates
    from the cell index, then the core's exact test on each), in one read transaction.
    ``conflicts`` counts the volumes met.
    """
    planned = drawn(mix, seed, stream, warmup + count)
    db = Database(database_url)
    try:
        searches = Filings([], [], [])
        for index, (party_id, volume) in enumerate(planned):
            started, cpu = time.perf_counter(), time.thread_time()
            with db.read() as session:
                met = len(find_conflicts(session, volume, party_id, Buffers()))
            took, cpu = time.perf_counter() - started, time.thread_time() - cpu
            searches.conflicts.append(met)
            if index >= warmup:
                searches.latencies_s.append(took)
                searches.cpu_s.append(cpu)
        return searches
    finally:
        db.dispose()


def feature(volume: Volume4D) -> dict[str, Any]:
    """A volume as the API takes it: a GeoJSON Feature (circles as Point + radius_m)."""
    properties: dict[str, Any] = {
        "lower_m": volume.lower_m,
        "upper_m": volume.upper_m,
        "start": volume.start.isoformat(),
        "end": volume.end.isoformat(),
    }
    if volume.footprint.radius_m is not None:
        properties["radius_m"] = volume.footprint.radius_m
    return {"type": "Feature", "geometry": volume.footprint.to_geojson(), "properties": properties}


def file_over_http(
    database_url: str,
    work: Path,
    mix: VolumeMix,
    seed: int,
    seconds: float,
    clients: int,
    warmup: int,
) -> Filed:
    """Serve the store in its own process; ``clients`` threads file for ``seconds``.

    The server runs on the real clock, so the mix's week must lie ahead of it. Each
    party gets a fresh token first. ``warmup`` filings go first, one at a time, and are
    not counted. ``server_cpu_s`` is the CPU time the server spent on the
    counted ones (None where the platform cannot tell).
    """
    if mix.week_start < datetime.now(UTC) + timedelta(days=1):
        raise ValueError(
            f"the volumes' week starts {mix.week_start:%Y-%m-%d}, not ahead of the clock: "
            "the server would spend the run closing past notices; move "
            "VolumeMix.week_start ahead"
        )
    db = Database(database_url)
    try:
        registry = Registry(db, SystemClock())
        tokens = {k: registry.issue_token(party_name(k))[1] for k in range(1, mix.parties + 1)}
    finally:
        db.dispose()
    count = warmup + max(CHUNK, int(seconds * _HTTP_REQUESTS_PER_S))
    requests = [
        Request(
            tokens[party_id],
            json.dumps({"title": "benchmark", "volumes": [feature(volume)]}).encode(),
        )
        for party_id, volume in drawn(mix, seed, HTTP_FILINGS, count)
    ]
    with served(database_url, work / "server.log") as server:
        file_concurrently(server.base_url, requests[:warmup], 1, seconds=60.0)
        before = cpu_seconds(server.pid)
        filed = file_concurrently(server.base_url, requests[warmup:], clients, seconds)
        after = cpu_seconds(server.pid)
    if before is None or after is None:
        return filed
    return replace(filed, server_cpu_s=after - before)


def _sizes(text: str) -> list[int]:
    try:
        sizes = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--sizes takes whole numbers separated by commas, e.g. 10000,100000; not {text!r}"
        ) from None
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError("--sizes needs at least one store size of 1 or more")
    return sizes


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.strategic",
        description="Strategic filing latency and throughput (prints one table).",
    )
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=list(DEFAULT_SIZES),
        help="store sizes in volumes, comma-separated (default: 10000,100000,1000000)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="10k store only, 100 filings, 5 s over HTTP"
    )
    parser.add_argument("--filings", type=int, default=500, help="filings per case (500)")
    parser.add_argument("--warmup", type=int, default=10, help="filings per case not counted (10)")
    parser.add_argument(
        "--hot-spot-volumes", type=int, default=1_000, help="volumes piled into the hot spot"
    )
    parser.add_argument(
        "--http-seconds", type=float, default=None, help="length of the HTTP run (15; quick: 5)"
    )
    parser.add_argument("--http-clients", type=int, default=8, help="concurrent HTTP clients (8)")
    parser.add_argument("--seed", type=int, default=1, help="seed of every draw (1)")
    parser.add_argument(
        "--workers", type=int, default=2, help="processes drawing volumes for a build (2)"
    )
    parser.add_argument(
        "--cache-dir", type=Path, default=CACHE_DIR, help=f"where stores are kept ({CACHE_DIR})"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes = [DEFAULT_SIZES[0]]
        args.filings = 100
    if args.http_seconds is None:
        args.http_seconds = 5.0 if args.quick else 15.0
    if args.filings < 1 or args.http_clients < 1 or args.hot_spot_volumes < 1:
        parser.error("--filings, --http-clients and --hot-spot-volumes must be at least 1")
    return args


def _stores(
    sizes: Sequence[int], seed: int, mix: VolumeMix, args: argparse.Namespace, console: Console
) -> dict[int, Path]:
    stores: dict[int, Path] = {}
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as progress:
        for size in sizes:
            task = progress.add_task(f"store of {size:,} volumes", total=size)
            started = time.perf_counter()
            path, cached = cached_store(
                StoreSpec(size, seed, mix),
                args.cache_dir,
                args.workers,
                partial(progress.advance, task),
            )
            progress.update(task, completed=size)
            how = "cached" if cached else f"built in {time.perf_counter() - started:,.0f} s"
            console.log(f"store of {size:,} volumes: {path.name} ({how})")
            stores[size] = path
    return stores


def _table(cases: Sequence[Case], load: str) -> Table:
    table = Table(
        title="Strategic filing: one-volume notices",
        caption=(
            f"{os.cpu_count()} CPUs (load average {load}), Python {platform.python_version()}, "
            f"SQLite {sqlite3.sqlite_version} (WAL, synchronous=FULL). CPU ms: mean per "
            "filing, of the calling thread (service) or of the server process (HTTP)."
        ),
    )
    columns = ("stored volumes", "filings", "p50 ms", "p99 ms", "CPU ms", "filings/s")
    table.add_column("case")
    for column in (*columns, "conflicts/filing"):
        table.add_column(column, justify="right")
    table.add_column("notes")
    for case in cases:
        table.add_row(
            case.name,
            f"{case.stored:,}",
            f"{case.latency.count:,}",
            f"{case.latency.p50_ms:.2f}",
            f"{case.latency.p99_ms:.2f}",
            "-" if case.cpu_ms is None else f"{case.cpu_ms:.2f}",
            f"{case.latency.per_s:,.0f}",
            f"{case.conflicts_per_filing:.2f}",
            case.notes,
        )
    return table


def _sparse_cases(
    store: Path, size: int, work: Path, mix: VolumeMix, args: argparse.Namespace
) -> tuple[Case, Case]:
    """Searches (without writing), then filings, on one copy of the store."""
    copy = work / f"sparse-{size}.db"
    url = copy_store(store, copy)
    searches = search_only(url, mix, args.seed, FILINGS, args.filings, args.warmup)
    filings = file_through_service(url, mix, args.seed, FILINGS, args.filings, args.warmup)
    copy.unlink()
    search = Case(
        f"search only, {size:,}",
        size,
        summarise(searches.latencies_s, sum(searches.latencies_s)),
        _mean_ms(searches.cpu_s),
        _mean(searches.conflicts[args.warmup :]),
        "find_conflicts: cell index + exact test, read transaction, nothing written",
    )
    latency = summarise(filings.latencies_s, sum(filings.latencies_s))
    notes = "NoticeService.file, one caller"
    if size >= 1_000_000:
        verdict = "met" if latency.p99_ms < P99_TARGET_MS else "MISSED"
        notes += f"; target p99 < {P99_TARGET_MS:g} ms: {verdict}"
    filing = Case(
        f"sparse {size:,}",
        size,
        latency,
        _mean_ms(filings.cpu_s),
        _mean(filings.conflicts[args.warmup :]),
        notes,
    )
    return search, filing


def _hot_spot_case(
    store: Path, size: int, work: Path, mix: VolumeMix, args: argparse.Namespace, sparse: Latency
) -> Case:
    pile = mix.piled(mix.lon, mix.lat, HOT_SPOT_ACROSS_M)
    url = copy_store(store, work / "hot-spot.db")
    db = Database(url)
    try:
        bulk_load(db, pile, args.seed, PILE, args.hot_spot_volumes, workers=0)
    finally:
        db.dispose()
    filings = file_through_service(url, pile, args.seed, PILE_FILINGS, args.filings, args.warmup)
    latency = summarise(filings.latencies_s, sum(filings.latencies_s))
    p50, p99 = latency.p50_ms / sparse.p50_ms, latency.p99_ms / sparse.p99_ms
    verdict = "met" if p99 <= HOT_SPOT_TARGET_RATIO else "MISSED"
    return Case(
        f"hot spot ({HOT_SPOT_ACROSS_M / 1e3:g} km)",
        size + args.hot_spot_volumes,
        latency,
        _mean_ms(filings.cpu_s),
        _mean(filings.conflicts[args.warmup :]),
        f"{args.hot_spot_volumes:,} piled in; vs sparse {size:,}: p50 x{p50:.2f}, "
        f"p99 x{p99:.2f} (target <= {HOT_SPOT_TARGET_RATIO:g}x: {verdict})",
    )


def _http_case(
    store: Path, size: int, work: Path, mix: VolumeMix, args: argparse.Namespace
) -> Case:
    url = copy_store(store, work / "http.db")
    filed = file_over_http(
        url, work, mix, args.seed, args.http_seconds, args.http_clients, args.warmup
    )
    latency = summarise(filed.latencies_s, filed.wall_s)
    failed = sum(n for status, n in filed.statuses.items() if status != 201)
    verdict = "met" if latency.per_s >= HTTP_TARGET_PER_S else "MISSED"
    client_ms = filed.client_cpu_s / latency.count * 1e3
    notes = (
        f"{args.http_clients} clients, {filed.wall_s:.1f} s, {failed} not 201; "
        f"target >= {HTTP_TARGET_PER_S:g}/s: {verdict}; clients' CPU {client_ms:.2f} ms a filing"
    )
    cpu_ms = None
    if filed.server_cpu_s is not None:
        cpu_ms = filed.server_cpu_s / latency.count * 1e3
        notes += f"; one server process at {cpu_ms:.1f} ms a filing: at most {1e3 / cpu_ms:,.0f}/s"
    return Case("HTTP, loopback", size, latency, cpu_ms, filed.conflicts / latency.count, notes)


def _mean(values: Sequence[int]) -> float:
    return sum(values) / len(values) if values else 0.0


def _mean_ms(seconds: Sequence[float]) -> float:
    return sum(seconds) / len(seconds) * 1e3


def main(argv: Sequence[str] | None = None) -> int:
    """Build or reuse the stores, run every case, print the table."""
    args = _arguments(argv)
    console = Console()
    if not console.is_terminal:
        console = Console(width=180)  # a log file gets the table unwrapped
    mix = VolumeMix()
    stores = _stores(args.sizes, args.seed, mix, args, console)
    base = args.sizes[0]
    cases: list[Case] = []
    load = [f"{x:.1f}" for x in os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="work-", dir=args.cache_dir) as folder:
        work = Path(folder)
        sparse: dict[int, Latency] = {}
        for size in args.sizes:
            console.log(f"sparse {size:,}: {args.filings} searches, then as many filings")
            search, filing = _sparse_cases(stores[size], size, work, mix, args)
            cases += [search, filing]
            sparse[size] = filing.latency
        console.log(f"hot spot: {args.hot_spot_volumes:,} volumes piled into one area")
        cases.append(_hot_spot_case(stores[base], base, work, mix, args, sparse[base]))
        console.log(f"HTTP: {args.http_clients} clients for {args.http_seconds:g} s")
        cases.append(_http_case(stores[base], base, work, mix, args))
    load += [f"{x:.1f}" for x in os.getloadavg()]
    console.print(_table(cases, f"{'/'.join(load[:3])} at start, {'/'.join(load[3:])} at end"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Dense traffic through the tactical service: is one tick still bounded? (issue 9)

Run it from the repository root::

    python -m benchmarks.tactical_dense              # 2 x 2,000 in 1 km, 5 ticks
    python -m benchmarks.tactical_dense --crowd 500 --ticks 2

The case, with fixed seeds, through :class:`~deconfliction.tracks.service.TrackService`
on a fresh SQLite store (writes, events and journal included), on a manual clock:

* Alpha and Bravo each fly ``--crowd`` aircraft (default 2,000) within about 1 km and
  100 m of altitude of each other: some 4 million pairs in conflict;
* Charlie flies ``--crowd`` ordinary aircraft in a 400 km box elsewhere, 20 of which
  meet one of Delta's 20 aircraft head-on.

It prints the slowest and the mean tick (wall clock, the whole ``run_tick``), the
process's peak resident memory, and whether Charlie's alerts (20 head-on pairs set up,
more where Delta's aircraft meet others of Charlie's) were written in the first tick.
Targets: slowest tick under 1 s, peak memory under 1 GB, Charlie on time.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from deconfliction.clock import ManualClock
from deconfliction.core.earth import WGS84
from deconfliction.parties import PartyRef, Registry
from deconfliction.settings import Settings
from deconfliction.store.database import Database
from deconfliction.store.schema import Event
from deconfliction.tracks.service import TrackService

__all__ = ["main"]

T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)
HEAD_ON = 20


def _row(ident: str, lon: float, lat: float, alt: float, gs: float, trk: float) -> dict[str, Any]:
    return {
        "id": ident,
        "time": T0.isoformat(),
        "lat": lat,
        "lon": lon,
        "alt_m": alt,
        "gs_mps": gs,
        "trk_deg": trk,
        "vs_mps": 0.0,
    }


def _crowd(prefix: str, n: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    lon = 8.0 + rng.uniform(-0.0065, 0.0065, n)  # about 1 km square at 47 N
    lat = 47.0 + rng.uniform(-0.0045, 0.0045, n)
    alt = 3_000.0 + rng.uniform(-50.0, 50.0, n)
    trk = rng.uniform(0.0, 360.0, n)
    return [_row(f"{prefix}{k:05d}", lon[k], lat[k], alt[k], 60.0, trk[k]) for k in range(n)]


def _elsewhere(
    n: int, rng: np.random.Generator
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Charlie's ``n`` aircraft in a 400 km box around 40 N 20 E, level on flight levels
    2 km apart (none in conflict with another), and Delta's aircraft, each 30 km ahead
    of one of Charlie's first ``HEAD_ON``, coming the other way at its level."""
    lon = 20.0 + rng.uniform(-2.3, 2.3, n)
    lat = 40.0 + rng.uniform(-1.8, 1.8, n)
    level = 1_000.0 + 2_000.0 * np.arange(n) % 12_000.0
    trk = rng.uniform(0.0, 360.0, n)
    gs = rng.uniform(80.0, 240.0, n)
    charlie = [_row(f"C{k:05d}", lon[k], lat[k], level[k], gs[k], trk[k]) for k in range(n)]
    ahead_lon, ahead_lat, _ = WGS84.fwd(
        lon[:HEAD_ON], lat[:HEAD_ON], trk[:HEAD_ON], np.full(HEAD_ON, 30_000.0)
    )
    delta = [
        _row(f"D{k:05d}", ahead_lon[k], ahead_lat[k], level[k], 200.0, (trk[k] + 180.0) % 360.0)
        for k in range(HEAD_ON)
    ]
    return charlie, delta


def _alerts_of(db: Database, party: PartyRef) -> int:
    with db.read() as session:
        query = select(func.count()).where(
            Event.party_id == party.id, Event.kind == "alert.created"
        )
        return int(session.scalar(query) or 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--crowd", type=int, default=2_000, help="aircraft per party")
    parser.add_argument("--ticks", type=int, default=5)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(9)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'dense.db'}"
        db = Database(url)
        db.migrate()
        clock = ManualClock(T0)
        registry = Registry(db, clock)
        alpha, bravo, charlie, delta = (
            registry.add(name, "operator")[0] for name in ("Alpha", "Bravo", "Charlie", "Delta")
        )
        tracks = TrackService(db, clock, Settings(database_url=url, track_tick_s=0, tick_s=0))
        others, deltas = _elsewhere(args.crowd, rng)
        for party, rows in (
            (alpha, _crowd("A", args.crowd, rng)),
            (bravo, _crowd("B", args.crowd, rng)),
            (charlie, others),
            (delta, deltas),
        ):
            tracks.report(party, rows)
        walls: list[float] = []
        opened: list[int] = []
        charlie_first = 0
        for k in range(args.ticks):
            started = time.perf_counter()
            report = tracks.run_tick()
            walls.append(time.perf_counter() - started)
            opened.append(report.opened)
            if k == 0:
                charlie_first = _alerts_of(db, charlie)
            clock.advance(timedelta(seconds=1))
        db.dispose()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    table = Table(
        title=f"tactical tick, 2 x {args.crowd:,} aircraft in 1 km + {args.crowd:,} elsewhere"
    )
    for column in (
        "ticks",
        "slowest tick s",
        "mean tick s",
        "peak RSS MiB",
        "opened per tick",
        "Charlie on time",
    ):
        table.add_column(column, justify="right")
    table.add_row(
        str(args.ticks),
        f"{max(walls):.3f}",
        f"{statistics.fmean(walls):.3f}",
        f"{peak_mib:,.0f}",
        " ".join(str(n) for n in opened),
        f"{'yes' if charlie_first >= HEAD_ON else 'NO'} ({charlie_first} in tick 1)",
    )
    Console().print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The tactical benchmark: how long one tick of conflict detection takes, and its memory.

Run it from the repository root::

    python -m benchmarks.tactical                  # every case, the 1M one included
    python -m benchmarks.tactical --quick          # no 1M case, 30 minutes of replay
    python -m benchmarks.tactical --device gpu     # the same, on CuPy

Cases, all with fixed seeds:

* **regional N** (1k, 2k, 5k): N aircraft in a 400 km x 400 km box; 70 % level on
  flight levels FL010-FL430, the rest anywhere in 0-13 km climbing or descending at
  2-20 m/s; 60-260 m/s in any direction; each aircraft its own party (every pair
  counts). The brute-force :func:`~deconfliction.tactical.detect_all_pairs` runs on the
  same traffic in the same run; the sets must be identical.
* **continental N** (20k, 100k, 1M): the same mix in a 3,000 km x 3,000 km box.
* **replay**: the real ADS-B files in ``../shared/data/traffic/`` in 1 s ticks: the
  latest state of every aircraft heard in the last 60 s, dead-reckoned to the tick,
  through the engine. Ticks per second are given for the engine alone and for the
  whole tick (dead reckoning, building the state, detecting).

Times are the best of ``--repeat`` runs (wall clock; CPU time of that run beside it),
peak memory the most the Python heap held above what it held before the call
(``tracemalloc`` sees NumPy's arrays), measured in a separate run. Targets on a 2-core
machine: regional 5k under 0.3 s with under 500 MiB; continental 100k under 1 s.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from deconfliction.core.earth import WGS84
from deconfliction.feeds.traffic import AircraftState, CsvReplay
from deconfliction.tactical import (
    ArrayBackend,
    ConflictSet,
    TrafficState,
    detect,
    detect_all_pairs,
    select_backend,
)
from deconfliction.tactical.backend import DEVICES

__all__ = ["Case", "Replay", "main", "replay", "traffic"]

REGIONAL = (1_000, 2_000, 5_000)
CONTINENTAL = (20_000, 100_000, 1_000_000)
REGIONAL_HALF_WIDTH_M = 200_000.0
CONTINENTAL_HALF_WIDTH_M = 1_500_000.0
CENTRE = (10.0, 50.0)
TRAFFIC_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "traffic"
STALE_AFTER_S = 60.0
REGIONAL_TARGET_S, REGIONAL_TARGET_MIB, CONTINENTAL_TARGET_S = 0.3, 500.0, 1.0
MIB = 1024.0 * 1024.0


def traffic(n: int, half_width_m: float, seed: int) -> TrafficState:
    """``n`` aircraft in a square ``2 * half_width_m`` across around :data:`CENTRE`."""
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(-half_width_m, half_width_m, (2, n))
    lon, lat, _ = WGS84.fwd(
        np.full(n, CENTRE[0]), np.full(n, CENTRE[1]), np.degrees(np.arctan2(x, y)), np.hypot(x, y)
    )
    level = rng.random(n) < 0.7
    flight_level = rng.integers(10, 431, n) // 10 * 10
    alt = np.where(level, flight_level * 30.48, rng.uniform(0.0, 13_000.0, n))
    vs = np.where(level, 0.0, rng.choice([-1.0, 1.0], n) * rng.uniform(2.0, 20.0, n))
    return TrafficState(
        ids=np.char.mod("%07d", np.arange(n)),
        party=np.arange(n),
        lon=lon,
        lat=lat,
        alt_m=alt,
        gs_mps=rng.uniform(60.0, 260.0, n),
        trk_deg=rng.uniform(0.0, 360.0, n),
        vs_mps=vs,
    )


@dataclass(frozen=True)
class Run:
    """One way of detecting: best wall time, that run's CPU time, peak heap, result."""

    seconds: float
    cpu_seconds: float
    peak_mib: float
    found: ConflictSet


def measure(work: Callable[[], ConflictSet], repeat: int) -> Run:
    """Time ``work`` ``repeat`` times (keeping the best), then once under tracemalloc."""
    best, cpu, found = math.inf, math.inf, None
    for _ in range(repeat):
        wall0, cpu0 = time.perf_counter(), time.process_time()
        found = work()
        wall = time.perf_counter() - wall0
        if wall < best:
            best, cpu = wall, time.process_time() - cpu0
    tracemalloc.start()
    tracemalloc.reset_peak()
    before, _ = tracemalloc.get_traced_memory()
    work()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert found is not None
    return Run(best, cpu, (peak - before) / MIB, found)


def identical(a: ConflictSet, b: ConflictSet) -> bool:
    return all(np.array_equal(getattr(a, f.name), getattr(b, f.name)) for f in fields(a))


@dataclass(frozen=True)
class Case:
    name: str
    n: int
    engine: Run
    reference: Run | None

    @property
    def match(self) -> bool | None:
        return (
            None if self.reference is None else identical(self.engine.found, self.reference.found)
        )


def run_case(
    name: str, n: int, half_width_m: float, backend: ArrayBackend, repeat: int, with_reference: bool
) -> Case:
    state = traffic(n, half_width_m, seed=n)
    engine = measure(lambda: detect(state, backend=backend), repeat)
    reference = measure(lambda: detect_all_pairs(state), 1) if with_reference else None
    return Case(name, n, engine, reference)


@dataclass(frozen=True)
class Replay:
    """A replay file through the engine: ticks, aircraft, time and conflicts found."""

    file: str
    ticks: int
    max_aircraft: int
    mean_aircraft: float
    engine_seconds: float
    tick_seconds: float
    conflict_pairs: int
    los_pairs: int
    max_conflicts: int


def _dead_reckoned(states: Sequence[AircraftState], now_s: float) -> TrafficState:
    age = np.array([now_s - s.timestamp.timestamp() for s in states])
    lon0 = np.array([s.lon for s in states])
    lat0 = np.array([s.lat for s in states])
    gs = np.array([s.gs_mps for s in states])
    trk = np.array([s.trk_deg for s in states])
    vs = np.array([s.vs_mps for s in states])
    lon, lat, _ = WGS84.fwd(lon0, lat0, trk, gs * age)
    return TrafficState(
        ids=np.array([s.id for s in states]),
        party=np.arange(len(states)),
        lon=lon,
        lat=lat,
        alt_m=np.array([s.alt_m for s in states]) + vs * age,
        gs_mps=gs,
        trk_deg=trk,
        vs_mps=vs,
    )


def replay(path: Path, backend: ArrayBackend, max_ticks: int | None) -> Replay:
    """Every 1 s tick of ``path`` (at most ``max_ticks``) through the engine."""
    latest: dict[str, AircraftState] = {}
    ticks = aircraft_total = max_aircraft = max_conflicts = 0
    engine_s = tick_s = 0.0
    conflicts: set[tuple[str, str]] = set()
    losses: set[tuple[str, str]] = set()
    for tick in CsvReplay(path, period_s=1.0):
        if max_ticks is not None and ticks >= max_ticks:
            break
        started = time.perf_counter()
        for heard in tick.states:
            latest[heard.id] = heard
        now_s = tick.end.timestamp()
        for key in [
            k for k, s in latest.items() if now_s - s.timestamp.timestamp() > STALE_AFTER_S
        ]:
            del latest[key]
        ticks += 1
        if len(latest) < 2:
            tick_s += time.perf_counter() - started
            continue
        state = _dead_reckoned(list(latest.values()), now_s)
        detect_start = time.perf_counter()
        found = detect(state, backend=backend)
        ended = time.perf_counter()
        engine_s += ended - detect_start
        tick_s += ended - started
        aircraft_total += len(state)
        max_aircraft = max(max_aircraft, len(state))
        max_conflicts = max(max_conflicts, len(found))
        for i, j, los in zip(found.i.tolist(), found.j.tolist(), found.los.tolist(), strict=True):
            pair = tuple(sorted((str(state.ids[i]), str(state.ids[j]))))
            conflicts.add((pair[0], pair[1]))
            if los:
                losses.add((pair[0], pair[1]))
    return Replay(
        path.name,
        ticks,
        max_aircraft,
        aircraft_total / max(ticks, 1),
        engine_s,
        tick_s,
        len(conflicts),
        len(losses),
        max_conflicts,
    )


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a comma-separated list of sizes"
        ) from None
    if any(n < 2 for n in sizes):
        raise argparse.ArgumentTypeError("sizes must be 2 aircraft or more")
    return sizes


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.tactical", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="no 1M case; 30 minutes of replay")
    parser.add_argument("--regional", type=_sizes, default=REGIONAL, help="e.g. 1000,2000,5000")
    parser.add_argument("--continental", type=_sizes, default=None, help="e.g. 20000,100000")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per case (best kept)")
    parser.add_argument("--device", choices=DEVICES, default="cpu")
    parser.add_argument(
        "--replay-minutes", type=float, default=None, help="minutes of each replay file (all)"
    )
    parser.add_argument("--traffic-dir", type=Path, default=TRAFFIC_DIR)
    return parser.parse_args(argv)


def _cases_table(cases: Sequence[Case], device: str) -> Table:
    table = Table(title=f"tactical detect ({device}); reference = brute force, all pairs")
    for column in ("case", "N", "s", "cpu s", "peak MiB", "conflicts", "LoS"):
        table.add_column(column, justify="right" if column != "case" else "left")
    for column in ("ref s", "ref peak MiB", "same pairs"):
        table.add_column(column, justify="right")
    for c in cases:
        ref = c.reference
        table.add_row(
            c.name,
            f"{c.n:,}",
            f"{c.engine.seconds:.3f}",
            f"{c.engine.cpu_seconds:.3f}",
            f"{c.engine.peak_mib:,.0f}",
            f"{len(c.engine.found):,}",
            f"{int(c.engine.found.los.sum()):,}",
            "" if ref is None else f"{ref.seconds:.3f}",
            "" if ref is None else f"{ref.peak_mib:,.0f}",
            "" if c.match is None else ("yes" if c.match else "NO"),
        )
    return table


def _replay_table(replays: Sequence[Replay]) -> Table:
    table = Table(title=f"replay, 1 s ticks, states aged out after {STALE_AFTER_S:.0f} s")
    for column in (
        "file",
        "ticks",
        "aircraft max/mean",
        "engine ticks/s",
        "whole ticks/s",
        "conflict pairs",
        "LoS pairs",
        "max at once",
    ):
        table.add_column(column, justify="left" if column == "file" else "right")
    for r in replays:
        table.add_row(
            r.file,
            f"{r.ticks:,}",
            f"{r.max_aircraft} / {r.mean_aircraft:.1f}",
            f"{r.ticks / r.engine_seconds:,.0f}" if r.engine_seconds else "",
            f"{r.ticks / r.tick_seconds:,.0f}" if r.tick_seconds else "",
            f"{r.conflict_pairs:,}",
            f"{r.los_pairs:,}",
            f"{r.max_conflicts}",
        )
    return table


def _verdicts(cases: Sequence[Case]) -> list[str]:
    lines = []
    for c in cases:
        if c.name == "regional" and c.n == 5_000:
            ok = c.engine.seconds < REGIONAL_TARGET_S and c.engine.peak_mib < REGIONAL_TARGET_MIB
            lines.append(
                f"regional 5k: {c.engine.seconds:.3f} s, {c.engine.peak_mib:.0f} MiB "
                f"(target < {REGIONAL_TARGET_S} s, < {REGIONAL_TARGET_MIB:.0f} MiB): "
                f"{'met' if ok else 'NOT met'}"
            )
        if c.name == "continental" and c.n == 100_000:
            ok = c.engine.seconds < CONTINENTAL_TARGET_S
            lines.append(
                f"continental 100k: {c.engine.seconds:.3f} s (target < {CONTINENTAL_TARGET_S} s): "
                f"{'met' if ok else 'NOT met'}"
            )
        if c.match is False:
            lines.append(f"{c.name} {c.n}: the engine's pairs DIFFER from the brute force's")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    console = Console()
    if not console.is_terminal:
        console = Console(width=150)  # a log file: do not squeeze the tables
    backend = select_backend(args.device)
    continental = args.continental or (CONTINENTAL[:2] if args.quick else CONTINENTAL)
    minutes = (
        args.replay_minutes if args.replay_minutes is not None else (30 if args.quick else None)
    )
    console.print(
        f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"NumPy {np.__version__}, device {backend.name}; load average at start "
        f"{os.getloadavg()[0]:.2f}"
    )
    cases = [
        run_case("regional", n, REGIONAL_HALF_WIDTH_M, backend, args.repeat, with_reference=True)
        for n in args.regional
    ]
    for n in continental:
        repeat = args.repeat if n <= 100_000 else 1
        cases.append(run_case("continental", n, CONTINENTAL_HALF_WIDTH_M, backend, repeat, False))
    console.print(_cases_table(cases, backend.name))
    files = sorted(args.traffic_dir.glob("*.csv.gz")) if args.traffic_dir.is_dir() else []
    if files:
        max_ticks = None if minutes is None else int(minutes * 60)
        console.print(_replay_table([replay(f, backend, max_ticks) for f in files]))
    else:
        console.print(f"replay skipped: no *.csv.gz in {args.traffic_dir}")
    for line in _verdicts(cases):
        console.print(line)
    console.print(f"load average at the end {os.getloadavg()[0]:.2f}")
    return 0 if all(c.match is not False for c in cases) else 1


if __name__ == "__main__":
    raise SystemExit(main())

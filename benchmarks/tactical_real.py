"""Tactical alerts on real recorded traffic: would a controller keep them on? (issue 9)

Run it from the repository root::

    python -m benchmarks.tactical_real             # every recording, the feed model
    python -m benchmarks.tactical_real --exact     # the same, exact geometry (before)
    python -m benchmarks.tactical_real --quick     # the first hour of each recording
    python -m benchmarks.tactical_real FILE.csv.gz # any recording in the same format

Each recording (``../shared/data/traffic``: ``timestamp,id,lat,lon,alt_m,gs_mps,
trk_deg,vs_mps``, ``alt_m`` empty on the ground) is replayed through the tactical
service in this process, on a manual clock, a tick every ``--tick-s`` seconds: the
states of each tick go in through :meth:`TrackService.report` (four parties, by a hash
of the aircraft id; the plausibility gate and the feed's floors on the way in) and
:func:`~deconfliction.tracks.engine.track_track` judges the service's snapshot (no
clusters). A conflict's alert opens when it is first found and closes after three ticks
without it, as the service's hysteresis does. With the feed model, rows on the ground
go in flagged ``on_ground`` (at the floor there, as the feed's own reports place it: the
recordings give no altitude on the ground); with ``--exact`` they are dropped, as the
replay did before.

Per file it prints the alerts opened and how many involve (judged the same way for
both runs, from the recording itself):

* **below floor**: an aircraft predicted at closest approach below the floor under it
  where it is (the floor its prediction starts from: the deployment's 0 m, lowered
  where the feed reads lower in flight: the feed's reference);
* **adjacent levels**: two level aircraft (|vs| <= 0.5 m/s) whose altitudes differ by
  at least ``H - q`` (975 ft) and less than ``H`` (1,000 ft);
* **suspect**: an aircraft whose latest report is implausible (the gate's rule);
* **on ground**: an aircraft whose latest report says it is on the ground, or did
  within the last 20 s and it has not climbed out since (faster than 100 ft in 20 s:
  the recordings' air/ground flag flickers on the runway, an aircraft rolling out at
  16 kt reporting "airborne" every other message), or that is within 100 ft of its
  floor and slower than 30 m/s;

and the real close approaches: pairs of aircraft of different parties whose recorded
positions (dead-reckoned to the tick, a rate within one 64 ft/min step as level,
implausible reports left out) came within 5 NM and 1,000 ft; how many had an alert
open before (warned / all; an alert opened at the tick of the approach is no
warning), the median and least warning time; the same for the approaches where both
aircraft were airborne (not on the ground as above: approaches on the runways are not
a tactical alert's job); and the same for the airborne approaches where the two were
less than ``H - q`` (975 ft) apart vertically: those the altitude quantum does not
excuse, which the feed model must warn of as well as exact geometry does.
``--approaches CSV`` lists every approach, to compare two runs approach by approach.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from deconfliction.clock import ManualClock
from deconfliction.parties import PartyRef, Registry
from deconfliction.settings import Settings
from deconfliction.store.database import Database
from deconfliction.tactical import DetectionParams, TrafficState, detect
from deconfliction.tactical.params import DEFAULT_HPZ_M, FEED_MODEL
from deconfliction.tracks.engine import Finding, Separation, track_track
from deconfliction.tracks.floors import FloorMap
from deconfliction.tracks.reckoning import advance
from deconfliction.tracks.service import TrackService
from deconfliction.tracks.suspect import Gate

__all__ = ["main"]

TRAFFIC_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "traffic"
PARTIES = ("Alpha", "Bravo", "Charlie", "Delta")
RESOLVE_TICKS = 3
APPROACH_GAP_S = 300.0  # a pair apart this long comes close again: a new approach
FRESH_S = 20.0  # a recorded position older than this is not the aircraft's position
LEVEL_MPS = 0.5  # one 64 ft/min rate step, as recorded (0.33 m/s), is level flight
GROUND_HOLD_S = Settings.track_ground_hold_s  # the service's default
EXACT_SETTINGS: dict[str, Any] = {  # Any: spread into Settings
    "track_floor_m": -100_000.0,  # no floor anywhere
    "track_altitude_quantum_m": 0.0,
    "track_level_vs_mps": 0.0,
    "track_takeoff_speed_mps": 0.0,
    "track_ground_hold_s": 0.0,
    "track_gate_speed_mps": 1e12,
    "track_gate_vs_mps": 1e12,
}


@dataclass
class Recording:
    """A recording as columns, sorted by time; ``alt`` is NaN on the ground."""

    time_s: np.ndarray[Any, Any]
    ids: list[str]
    lat: np.ndarray[Any, Any]
    lon: np.ndarray[Any, Any]
    alt: np.ndarray[Any, Any]
    gs: np.ndarray[Any, Any]
    trk: np.ndarray[Any, Any]
    vs: np.ndarray[Any, Any]


def read(path: Path, hours: float | None) -> Recording:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as stream:
        reader = csv.reader(stream)
        next(reader)
        rows = [r for r in reader if len(r) == 8 and r[2] and r[3]]
    times = np.array(
        [datetime.fromisoformat(r[0].replace("Z", "+00:00")).timestamp() for r in rows]
    )
    keep = np.ones(len(rows), dtype=bool)
    if hours is not None:
        keep = times < times.min() + hours * 3_600.0

    def number(k: int) -> np.ndarray[Any, Any]:
        return np.array([float(r[k]) if r[k] else np.nan for r in rows])[keep]

    order = np.argsort(times[keep], kind="stable")
    ids = [r[1] for r, k in zip(rows, keep.tolist(), strict=True) if k]
    return Recording(
        times[keep][order],
        [ids[k] for k in order.tolist()],
        *(number(k)[order] for k in (2, 3, 4, 5, 6, 7)),
    )


def party_of(ident: str) -> int:
    return hashlib.blake2b(ident.encode(), digest_size=2).digest()[0] % len(PARTIES)


@dataclass
class Judge:
    """What the recording itself says about each aircraft, the same for both runs."""

    floors: FloorMap = field(default_factory=lambda: FloorMap(0.0, FEED_MODEL.ground_height_m))
    gate: Gate = field(default_factory=lambda: Gate(600.0, 200.0, FEED_MODEL.altitude_quantum_m))
    last: dict[str, tuple[float, float, float, float, float, float, float]] = field(
        default_factory=dict
    )  # id -> the last plausible airborne report (t, lon, lat, alt, gs, trk, vs)
    bad: set[str] = field(default_factory=set)  # latest report implausible
    grounded: set[str] = field(default_factory=set)  # latest report on the ground
    ground_s: dict[str, float] = field(default_factory=dict)  # last report on the ground

    def take(self, rec: Recording, rows: range) -> None:
        for k in rows:
            ident = rec.ids[k]
            if np.isnan(rec.alt[k]):
                self.grounded.add(ident)
                self.ground_s[ident] = float(rec.time_s[k])
                continue
            if np.isnan(rec.gs[k]) or np.isnan(rec.trk[k]) or np.isnan(rec.vs[k]):
                continue
            self.grounded.discard(ident)
            held = self.last.get(ident)
            if held is not None and rec.time_s[k] - held[0] <= 60.0:
                one = np.ones(1)
                verdict = self.gate.judge(
                    held[0] * one, held[1] * one, held[2] * one, held[3] * one,
                    rec.time_s[k] * one, rec.lon[k] * one, rec.lat[k] * one, rec.alt[k] * one,
                )[0]  # fmt: skip
                if verdict is not None:
                    self.bad.add(ident)
                    continue
            self.bad.discard(ident)
            self.last[ident] = (
                float(rec.time_s[k]), float(rec.lon[k]), float(rec.lat[k]), float(rec.alt[k]),
                float(rec.gs[k]), float(rec.trk[k]), float(rec.vs[k]),
            )  # fmt: skip
            self.floors.see(
                rec.lon[k : k + 1], rec.lat[k : k + 1], rec.alt[k : k + 1], np.zeros(1, bool)
            )

    def floor(self, lon: float, lat: float) -> float:
        return float(self.floors.under(np.array([lon]), np.array([lat]))[0])

    def on_ground(self, ident: str, now_s: float) -> bool:
        """Reported on the ground last, or within the ground hold before ``now_s`` and
        not climbing out of it since, or low and slow over its floor."""
        if ident in self.grounded:
            return True
        _, lon, lat, alt, gs, _, vs = self.last[ident]
        lift = FEED_MODEL.ground_height_m / GROUND_HOLD_S
        if now_s - self.ground_s.get(ident, -np.inf) <= GROUND_HOLD_S and vs <= lift:
            return True
        return alt - self.floor(lon, lat) <= FEED_MODEL.ground_height_m and (
            gs < FEED_MODEL.takeoff_speed_mps
        )

    def truth(self, now_s: float) -> TrafficState:
        """Where the recording puts every aircraft heard lately in flight, reckoned to
        now (an aircraft last heard on the ground is on the ground; a rate within one
        64 ft/min step moves no altitude: the recording's level aircraft report it as
        often as 0, and extrapolated it would put aircraft at adjacent flight levels,
        recorded 975 ft apart, closer than the recording ever shows them)."""
        fresh = [
            (i, v)
            for i, v in self.last.items()
            if now_s - v[0] <= FRESH_S and i not in self.grounded
        ]
        if not fresh:
            none = np.zeros(0)
            return TrafficState(
                np.zeros(0, str), np.zeros(0, np.int64), none, none, none, none, none, none
            )
        ids = [i for i, _ in fresh]
        v = np.array([x for _, x in fresh])
        vs = np.where(np.abs(v[:, 6]) <= LEVEL_MPS, 0.0, v[:, 6])
        at = advance(v[:, 1], v[:, 2], v[:, 3], v[:, 4], v[:, 5], vs, now_s - v[:, 0])
        return TrafficState(
            ids=np.array(ids),
            party=np.array([party_of(i) for i in ids], dtype=np.int64),
            lon=at.lon,
            lat=at.lat,
            alt_m=at.alt_m,
            gs_mps=v[:, 4],
            trk_deg=at.trk_deg,
            vs_mps=v[:, 6],
        )


@dataclass(frozen=True)
class Approach:
    """One real close approach: when (s since the epoch), the pair (ids, lower first),
    their altitude difference then (m), whether both were airborne, the warning (s
    before; ``None``: none)."""

    time_s: float
    a: str
    b: str
    dz_m: float
    airborne: bool
    warning_s: float | None


@dataclass
class Counts:
    opened: int = 0
    below_floor: int = 0
    adjacent: int = 0
    suspect: int = 0
    on_ground: int = 0
    warnings: list[float] = field(default_factory=list)  # warned approaches, seconds
    approaches: int = 0
    airborne_warnings: list[float] = field(default_factory=list)
    airborne_approaches: int = 0
    close_warnings: list[float] = field(default_factory=list)  # airborne, |dz| < H - q
    close_approaches: int = 0
    listed: list[Approach] = field(default_factory=list)
    seconds: float = 0.0


def _rows_of(
    rec: Recording, rows: range, feed_model: bool, judge: Judge
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Each row as a state for the service, with its party. A row on the ground (no
    altitude) goes in flagged, at the ground there as the feed's reports place it."""
    for k in rows:
        ident = rec.ids[k]
        ground = bool(np.isnan(rec.alt[k]))
        if ground and not feed_model:
            continue
        moving = [rec.gs[k], rec.trk[k], rec.vs[k]]
        if not ground and any(np.isnan(x) for x in moving):
            continue
        gs, trk, vs = (0.0 if np.isnan(x) else float(x) for x in moving)
        row = {
            "id": ident,
            "time": datetime.fromtimestamp(float(rec.time_s[k]), UTC).isoformat(),
            "lat": float(rec.lat[k]),
            "lon": float(rec.lon[k]),
            "alt_m": judge.floor(float(rec.lon[k]), float(rec.lat[k]))
            if ground
            else float(rec.alt[k]),
            "gs_mps": gs,
            "trk_deg": trk,
            "vs_mps": vs,
        }
        if ground:
            row["on_ground"] = True
        yield party_of(ident), row


def _batches(
    rows: Iterator[tuple[int, dict[str, Any]]],
) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """A tick's rows as batches per party, in time order, each batch holding at most
    one report per aircraft (a batch keeps only the latest of an aircraft's states,
    and the feed streamed every one: an "on the ground" between two airborne reports
    must reach the service as it reached the judge)."""
    rounds: list[dict[int, list[dict[str, Any]]]] = []
    seen: dict[str, int] = {}
    for party, row in rows:
        k = seen.get(row["id"], 0)
        seen[row["id"]] = k + 1
        if k == len(rounds):
            rounds.append({})
        rounds[k].setdefault(party, []).append(row)
    for batches in rounds:
        yield from batches.items()


def _opened(finding: Finding, judge: Judge, counts: Counts, state: TrafficState) -> None:
    counts.opened += 1
    a, b = finding.key[1], finding.key[2]
    row = {i: k for k, i in enumerate(state.ids.tolist())}
    ka, kb = row[a], row[b]
    # sides[0] tells a's party where b will be, sides[1] b's party where a will be.
    for k, side in ((kb, finding.sides[0]), (ka, finding.sides[1])):
        if side.point[2] < judge.floor(float(state.lon[k]), float(state.lat[k])) - 1.0:
            counts.below_floor += 1
            break
    dz = abs(float(state.alt_m[ka] - state.alt_m[kb]))
    level = max(abs(float(state.vs_mps[ka])), abs(float(state.vs_mps[kb]))) <= LEVEL_MPS
    if level and DEFAULT_HPZ_M - FEED_MODEL.altitude_quantum_m <= dz < DEFAULT_HPZ_M:
        counts.adjacent += 1
    if a in judge.bad or b in judge.bad:
        counts.suspect += 1
    if judge.on_ground(a, finding.time_s) or judge.on_ground(b, finding.time_s):
        counts.on_ground += 1


def _count(counts: Counts, approach: Approach) -> None:
    counts.listed.append(approach)
    close = approach.airborne and approach.dz_m < DEFAULT_HPZ_M - FEED_MODEL.altitude_quantum_m
    counts.approaches += 1
    counts.airborne_approaches += approach.airborne
    counts.close_approaches += close
    warning = approach.warning_s
    if warning is not None:
        counts.warnings.append(warning)
        if approach.airborne:
            counts.airborne_warnings.append(warning)
        if close:
            counts.close_warnings.append(warning)


def replay(path: Path, exact: bool, tick_s: float, hours: float | None) -> Counts:
    rec = read(path, hours)
    counts = Counts()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'real.db'}"
        db = Database(url)
        db.migrate()
        t0 = float(rec.time_s[0])
        clock = ManualClock(datetime.fromtimestamp(t0, UTC))
        registry = Registry(db, clock)
        parties: list[PartyRef] = [registry.add(name, "operator")[0] for name in PARTIES]
        settings = Settings(
            database_url=url, track_tick_s=0, tick_s=0, **(EXACT_SETTINGS if exact else {})
        )
        service = TrackService(db, clock, settings)
        model = settings.prediction_model
        separation = Separation(DetectionParams(model=model))
        exact_params = DetectionParams(lookahead_s=1.0)
        judge = Judge()
        open_since: dict[tuple[str, str, str], tuple[float, int]] = {}
        inside_until: dict[tuple[str, str], float] = {}
        start = 0
        tick = 0
        now = t0
        end = float(rec.time_s[-1])
        while now <= end + tick_s:
            stop = int(np.searchsorted(rec.time_s, now, side="right"))
            rows = range(start, stop)
            start = stop
            clock.set(datetime.fromtimestamp(now, UTC))
            judge.take(rec, rows)
            for party, batch in _batches(_rows_of(rec, rows, not exact, judge)):
                service.report(parties[party], batch)
            snapshot = service.snapshot(clock.now())
            findings = track_track(snapshot, separation, cluster_pairs=0)
            for finding in findings:
                if finding.key not in open_since:
                    _opened(finding, judge, counts, snapshot.state)
                    open_since[finding.key] = (now, tick)
                else:
                    open_since[finding.key] = (open_since[finding.key][0], tick)
            open_since = {k: v for k, v in open_since.items() if tick - v[1] < RESOLVE_TICKS}
            truth = judge.truth(now)
            if len(truth) > 1:
                found = detect(truth, exact_params)
                inside = zip(found.i[found.los].tolist(), found.j[found.los].tolist(), strict=True)
                for i, j in inside:
                    a, b = sorted((str(truth.ids[i]), str(truth.ids[j])))
                    pair = (a, b)
                    if now - inside_until.get(pair, -np.inf) > APPROACH_GAP_S:
                        airborne = not (judge.on_ground(a, now) or judge.on_ground(b, now))
                        held = open_since.get(("track-track", a, b))
                        warning = None if held is None or held[0] >= now else now - held[0]
                        dz = abs(float(truth.alt_m[i] - truth.alt_m[j]))
                        _count(counts, Approach(now, a, b, dz, airborne, warning))
                    inside_until[pair] = now
            now += tick_s
            tick += 1
        db.dispose()
    counts.seconds = time.perf_counter() - started
    return counts


def _warned(warnings: list[float], total: int) -> tuple[str, str, str]:
    if not warnings:
        return f"0 / {total}", "-", "-"
    return (
        f"{len(warnings)} / {total}",
        f"{statistics.median(warnings):.0f}",
        f"{min(warnings):.0f}",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, help="recordings (default: all shared)")
    parser.add_argument("--exact", action="store_true", help="exact geometry (before issue 9)")
    parser.add_argument("--quick", action="store_true", help="the first hour of each file")
    parser.add_argument("--tick-s", type=float, default=2.0, help="seconds between ticks")
    parser.add_argument(
        "--approaches",
        type=Path,
        metavar="CSV",
        help="write every real close approach (file, time, pair, dz, warning) to CSV",
    )
    args = parser.parse_args(argv)
    files = args.files or sorted(TRAFFIC_DIR.glob("*.csv.gz"))
    if not files:
        print(f"no recordings: give files, or put them in {TRAFFIC_DIR}", file=sys.stderr)
        return 2
    title = "exact geometry (before)" if args.exact else "feed model (after)"
    table = Table(
        "file", "alerts", "below floor", "adjacent levels", "suspect", "on ground",
        "warned (all)", "median s", "min s", "warned (airborne)", "median s", "min s",
        "warned (airborne, |dz|<H-q)", "median s", "min s", "replay s",
        title=f"Tactical alerts on real traffic: {title}",
    )  # fmt: skip
    listed: list[tuple[str, Approach]] = []
    for path in files:
        c = replay(path, args.exact, args.tick_s, 1.0 if args.quick else None)
        table.add_row(
            path.name.split(".")[0],
            str(c.opened),
            str(c.below_floor),
            str(c.adjacent),
            str(c.suspect),
            str(c.on_ground),
            *_warned(c.warnings, c.approaches),
            *_warned(c.airborne_warnings, c.airborne_approaches),
            *_warned(c.close_warnings, c.close_approaches),
            f"{c.seconds:.0f}",
        )
        listed += [(path.name.split(".")[0], a) for a in c.listed]
    Console(width=240).print(table)
    if args.approaches is not None:
        _write_approaches(args.approaches, listed)
    return 0


def _write_approaches(path: Path, listed: list[tuple[str, Approach]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as stream:
        out = csv.writer(stream)
        out.writerow(["file", "time", "a", "b", "dz_m", "airborne", "warning_s"])
        for name, a in listed:
            warning = "" if a.warning_s is None else f"{a.warning_s:.0f}"
            stamp = datetime.fromtimestamp(a.time_s, UTC).isoformat()
            out.writerow([name, stamp, a.a, a.b, f"{a.dz_m:.1f}", int(a.airborne), warning])


if __name__ == "__main__":
    sys.exit(main())

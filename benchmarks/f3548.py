"""The F3548 DSS benchmark: operational intents put with key checks, sparse and crowded.

Run it from the repository root::

    python -m benchmarks.f3548            # 1,000 and 100,000 intents stored, and crowded
    python -m benchmarks.f3548 --quick    # 1,000 stored only, fewer puts

Each case starts from a fresh SQLite store (WAL, ``synchronous=FULL``) holding N intents
of 50 USSs, bulk-loaded through the schema as the DSS would write them (a notice of the
USS's party with its volume and cells, and its ``f3548_entities`` row): circles 30-200 m
across, 0-120 m bands, windows of 10-60 min over one day, spread over a region ~100 km
across. Then 50 USSs write at once from 50 threads through the service layer
(``Dss.put``, the work of ``PUT /dss/v1/operational_intent_references/{id}``): each
queries its extent's area, puts its intent with the OVNs of what it found as its key
(a real USS would read them from the managing USSs; here the benchmark knows them), and
on a 409 (another writer got in between) adds the OVNs it was told it missed and puts
again. First one USS puts alone (p50 and p99 of its ``put`` calls: the service time),
then all 50 at once (the rate: intents stored per second of wall time; and the p99 of
a put waiting its turn among 50 writers, which serialise on the journal's head). A 409
counts as a put.

* **sparse N**: the 50 USSs write intents anywhere in the region.
* **crowded**: the store of 1,000, then the 50 USSs write intents into one area 2 km
  across over the same two hours: many share cells, some truly meet and need keys.

Target: crowded within 3x of sparse (intents/s and p99).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from deconfliction.clock import ManualClock
from deconfliction.core.footprint import Footprint
from deconfliction.core.volume import Volume4D
from deconfliction.errors import ConflictError, MissingEntitiesError
from deconfliction.f3548.dss import Dss
from deconfliction.f3548.records import INTENT, new_ovn
from deconfliction.notices.model import NoticeState
from deconfliction.notices.search import index_rows, volume_values
from deconfliction.notices.service import NoticeService
from deconfliction.parties import PartyRef, Registry
from deconfliction.settings import Settings
from deconfliction.store.database import Database
from deconfliction.store.schema import F3548Entity, Notice, Volume, VolumeCell

T0 = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)
USSS = 50
REGION = (7.0, 46.5, 8.3, 47.4)  # lon/lat box ~100 km across
CROWD = (7.65, 46.95, 0.013)  # lon, lat and half-width (degrees) of a 2 km area
_URL = "https://uss.example/base"


@dataclass
class Known:
    """What the USSs know of the intents stored: OVN by id (shared by the writers)."""

    ovns: dict[str, str]
    lock: threading.Lock


def _extent(rng: random.Random, crowded: bool) -> Volume4D:
    if crowded:
        lon0, lat0, half = CROWD
        lon, lat = rng.uniform(lon0 - half, lon0 + half), rng.uniform(lat0 - half, lat0 + half)
        start = T0 + timedelta(minutes=rng.uniform(0, 110))
    else:
        lon, lat = rng.uniform(REGION[0], REGION[2]), rng.uniform(REGION[1], REGION[3])
        start = T0 + timedelta(minutes=rng.uniform(0, 23 * 60))
    lower = rng.uniform(0, 80)
    return Volume4D(
        Footprint.circle_at(lon, lat, rng.uniform(15, 100)),
        lower,
        lower + rng.uniform(20, 40),
        start,
        start + timedelta(minutes=rng.uniform(10, 60)),
    )


def _wire(v: Volume4D) -> dict[str, Any]:
    circle = v.footprint.circle
    assert circle is not None

    def when(t: datetime) -> dict[str, str]:
        return {"value": t.isoformat().replace("+00:00", "Z"), "format": "RFC3339"}

    return {
        "volume": {
            "outline_circle": {
                "center": {"lng": circle.lon, "lat": circle.lat},
                "radius": {"value": circle.radius_m, "units": "M"},
            },
            "altitude_lower": {"value": v.lower_m, "reference": "W84", "units": "M"},
            "altitude_upper": {"value": v.upper_m, "reference": "W84", "units": "M"},
        },
        "time_start": when(v.start),
        "time_end": when(v.end),
    }


def _seed(db: Database, parties: list[PartyRef], count: int, rng: random.Random) -> Known:
    """Store ``count`` intents straight through the schema; their OVNs by id."""
    known = Known({}, threading.Lock())
    filed = T0 - timedelta(days=1)
    with db.engine.begin() as connection:
        volume_id = 0
        for start in range(0, count, 5_000):
            notices, volumes, cells, entities = [], [], [], []
            for _ in range(min(5_000, count - start)):
                volume_id += 1
                party = parties[volume_id % len(parties)]
                v = _extent(rng, crowded=False)
                notice_id = f"ntc_f3548bench{volume_id:012d}"
                entity_id, ovn = str(uuid.uuid4()), new_ovn()
                notices.append(
                    {
                        "id": notice_id,
                        "party_id": party.id,
                        "title": f"F3548 {INTENT} {entity_id}",
                        "state": NoticeState.FILED.value,
                        "version": 1,
                        "filed_at": filed,
                        "updated_at": filed,
                        "lead_time_s": (v.start - filed).total_seconds(),
                        "starts_at": v.start,
                        "ends_at": v.end,
                    }
                )
                volumes.append({"id": volume_id, **volume_values(notice_id, party.id, 0, v)})
                cells.extend(index_rows(volume_id, party.id, v))
                entities.append(
                    {
                        "id": entity_id,
                        "kind": INTENT,
                        "notice_id": notice_id,
                        "party_id": party.id,
                        "manager": party.name,
                        "version": 1,
                        "ovn": ovn,
                        "state": "Accepted",
                        "uss_base_url": _URL,
                        "subscription_id": None,
                        "time_start": v.start,
                        "time_end": v.end,
                        "updated_at": filed,
                    }
                )
                known.ovns[entity_id] = ovn
            connection.execute(insert(Notice), notices)
            connection.execute(insert(Volume), volumes)
            connection.execute(insert(VolumeCell), cells)
            connection.execute(insert(F3548Entity), entities)
    return known


def _writer(
    dss: Dss, party: PartyRef, known: Known, seed: int, puts: int, crowded: bool
) -> tuple[list[float], int]:
    """One USS putting ``puts`` intents; put latencies (s) and 409s met."""
    rng = random.Random(seed)
    latencies: list[float] = []
    conflicts = 0
    for _ in range(puts):
        v = _extent(rng, crowded)
        extent = _wire(v)
        found = dss.query(INTENT, party, "https://dss", {"area_of_interest": extent})
        refs = found.body["operational_intent_references"]
        with known.lock:
            key = {known.ovns[r["id"]] for r in refs if r["id"] in known.ovns}
        entity_id = str(uuid.uuid4())
        while True:
            body = {
                "extents": [extent],
                "key": sorted(key),
                "state": "Accepted",
                "uss_base_url": _URL,
                "new_subscription": {"uss_base_url": _URL},
            }
            began = time.perf_counter()
            try:
                reply = dss.put(INTENT, party, entity_id, None, body)
            except MissingEntitiesError as missed:
                latencies.append(time.perf_counter() - began)
                conflicts += 1
                with known.lock:
                    key |= {
                        known.ovns[r["id"]] for r in missed.detail["missing_operational_intents"]
                    }
                continue
            except ConflictError:
                latencies.append(time.perf_counter() - began)
                conflicts += 1
                continue
            latencies.append(time.perf_counter() - began)
            ref = reply.body["operational_intent_reference"]
            with known.lock:
                known.ovns[ref["id"]] = ref["ovn"]
            break
    return latencies, conflicts


@contextmanager
def _store(stored: int, seed: int) -> Iterator[tuple[Dss, list[PartyRef], Known]]:
    with tempfile.TemporaryDirectory(prefix="f3548-bench-") as folder:
        db = Database(f"sqlite:///{Path(folder) / 'dss.db'}")
        db.migrate()
        clock = ManualClock(T0 - timedelta(hours=1))
        registry = Registry(db, clock)
        parties = [registry.enrol_uss(f"uss{i:02d}") for i in range(USSS)]
        known = _seed(db, parties, stored, random.Random(seed))
        dss = Dss(db, clock, NoticeService(db, clock, Settings()), 86_400.0)
        try:
            yield dss, parties, known
        finally:
            db.dispose()


@dataclass(frozen=True)
class Row:
    case: str
    stored: int
    intents: int
    rate: float
    p50_ms: float
    p99_ms: float
    busy_p99_ms: float
    conflicts: int


def _p(latencies: list[float], q: float) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1e3


def _run(case: str, stored: int, puts_each: int, crowded: bool, seed: int) -> Row:
    """One USS putting alone (its put latencies), then all 50 at once (the rate)."""
    with _store(stored, seed) as (dss, parties, known):
        alone, _ = _writer(dss, parties[0], known, seed, 5 * puts_each, crowded)
        began = time.perf_counter()
        with ThreadPoolExecutor(len(parties)) as pool:
            results = list(
                pool.map(
                    lambda i: _writer(dss, parties[i], known, seed + 1 + i, puts_each, crowded),
                    range(len(parties)),
                )
            )
        wall = time.perf_counter() - began
    busy = [x for lat, _ in results for x in lat]
    intents = puts_each * len(parties)
    return Row(
        case,
        stored,
        intents,
        intents / wall,
        statistics.median(alone) * 1e3,
        _p(alone, 0.99),
        _p(busy, 0.99),
        sum(c for _, c in results),
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 stored only, fewer puts")
    parser.add_argument("--puts", type=int, default=0, help="intents each USS puts")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    puts = args.puts or (4 if args.quick else 10)
    sizes = [1_000] if args.quick else [1_000, 100_000]
    rows = [_run(f"sparse {n:,}", n, puts, False, args.seed) for n in sizes]
    rows.append(_run("crowded (50 USSs, 2 km)", 1_000, puts, True, args.seed))
    print(
        f"{'case':<26} {'stored':>8} {'intents':>8} {'intents/s':>10} "
        f"{'p50 ms':>7} {'p99 ms':>7} {'p99 50 USSs':>12} {'409s':>5}"
    )
    for r in rows:
        print(
            f"{r.case:<26} {r.stored:>8,} {r.intents:>8,} {r.rate:>10.1f} "
            f"{r.p50_ms:>7.1f} {r.p99_ms:>7.1f} {r.busy_p99_ms:>12.0f} {r.conflicts:>5}"
        )
    sparse, crowded = rows[0], rows[-1]
    ratio = max(sparse.rate / crowded.rate, crowded.p99_ms / sparse.p99_ms)
    verdict = "within" if ratio <= 3 else "NOT within"
    print(f"crowded vs sparse {sparse.stored:,}: {ratio:.2f}x at worst ({verdict} 3x)")


if __name__ == "__main__":
    main()

"""Filing and hotline with party signatures (RFC 9421) on, next to off, in the same run.

Run it from the repository root::

    python -m benchmarks.signed_requests                  # 400 filings, 400 messages
    python -m benchmarks.signed_requests --requests 100
    python -m benchmarks.signed_requests --database postgresql+psycopg://postgres@127.0.0.1:5432/postgres

``deconfliction serve`` runs in its own process on a fresh store with ``--parties``
operators, each with a registered Ed25519 key. One client files notices (a small box
each, in the days ahead) and sends hotline messages (``POST /v1/messages``) one after
another, in blocks that alternate unsigned and signed (so drift in the machine's load
falls on both alike). A signed request is signed just before it is sent (the signing is
not in its latency). Prints latency (from sending to the whole answer read) and the
server's CPU time per request, for each kind and mode.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rich.console import Console
from rich.table import Table

from benchmarks._http_load import cpu_seconds, served
from benchmarks.journal_proofs import fresh_store
from deconfliction.clock import SystemClock
from deconfliction.parties import Registry
from deconfliction.party_keys import PartyKeys
from deconfliction.signatures import public_key_hex, sign_request
from deconfliction.store.database import Database

__all__ = ["main"]

_BLOCKS = 4
"""Blocks per mode, alternating unsigned and signed."""


@dataclass
class _Party:
    name: str
    token: str
    key: Ed25519PrivateKey
    key_id: str


@dataclass
class _Measured:
    latencies_s: list[float]
    server_cpu_s: float


def _parties(url: str, count: int) -> list[_Party]:
    db = Database(url)
    try:
        registry, keys = Registry(db, SystemClock()), PartyKeys(db, SystemClock())
        out = []
        for i in range(count):
            party, token = registry.add(f"P{i:03d}", "operator")
            key = Ed25519PrivateKey.generate()
            out.append(_Party(party.name, token, key, keys.add(party, public_key_hex(key)).key_id))
        return out
    finally:
        db.dispose()


def _filing(rng: random.Random, start: datetime) -> dict[str, Any]:
    lon, lat = rng.uniform(5.0, 15.0), rng.uniform(45.0, 55.0)
    ring = [[lon, lat], [lon + 0.05, lat], [lon + 0.05, lat + 0.05], [lon, lat + 0.05], [lon, lat]]
    begin = start + timedelta(minutes=rng.randint(0, 10_000))
    return {
        "title": "benchmark",
        "volumes": [
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {
                    "lower_m": 0.0,
                    "upper_m": 3000.0,
                    "start": begin.isoformat(),
                    "end": (begin + timedelta(hours=1)).isoformat(),
                },
            }
        ],
    }


def _send(
    http: httpx.Client, path: str, party: _Party, body: dict[str, Any], signed: bool
) -> float:
    data = json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {party.token}", "Content-Type": "application/json"}
    if signed:
        url = str(http.base_url.join(path))
        headers |= sign_request("POST", url, data, party.key, party.key_id)
    started = time.perf_counter()
    response = http.post(path, content=data, headers=headers)
    elapsed = time.perf_counter() - started
    if response.status_code != 201:
        raise RuntimeError(f"{path} answered {response.status_code}: {response.text[:300]}")
    return elapsed


def _run(
    http: httpx.Client, pid: int, parties: list[_Party], kind: str, count: int, seed: int
) -> dict[bool, _Measured]:
    rng = random.Random(seed)
    start = datetime.now(UTC) + timedelta(days=2)
    measured = {False: _Measured([], 0.0), True: _Measured([], 0.0)}
    per_block = max(1, count // _BLOCKS)
    for block in range(2 * _BLOCKS):
        signed = block % 2 == 1
        before = cpu_seconds(pid) or 0.0
        for _ in range(per_block):
            sender, recipient = rng.sample(parties, 2)
            if kind == "filing":
                latency = _send(http, "/v1/notices", sender, _filing(rng, start), signed)
            else:
                body = {"to": recipient.name, "priority": "routine", "text": "benchmark " * 8}
                latency = _send(http, "/v1/messages", sender, body, signed)
            measured[signed].latencies_s.append(latency)
        measured[signed].server_cpu_s += (cpu_seconds(pid) or 0.0) - before
    return measured


def _ms(values: Sequence[float], q: float) -> str:
    return f"{sorted(values)[int(len(values) * q)] * 1000:.1f}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="Per kind and mode.")
    parser.add_argument("--parties", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=40)
    parser.add_argument("--database", default=None, help="A PostgreSQL server URL.")
    args = parser.parse_args(argv)
    results: dict[str, dict[bool, _Measured]] = {}
    with tempfile.TemporaryDirectory() as work, fresh_store(args.database, Path(work)) as url:
        parties = _parties(url, args.parties)
        with (
            served(url, Path(work) / "server.log") as server,
            httpx.Client(base_url=server.base_url, timeout=60.0) as http,
        ):
            for kind in ("filing", "message"):
                _run(http, server.pid, parties, kind, args.warmup, seed=1)
                results[kind] = _run(http, server.pid, parties, kind, args.requests, seed=2)
    store = "PostgreSQL" if args.database else "SQLite"
    table = Table(title=f"signatures off and on, one client, {store}")
    for column in ("requests", "signed", "count", "p50 ms", "p99 ms", "server CPU ms/request"):
        table.add_column(column, justify="right" if column != "requests" else "left")
    for kind, by_mode in results.items():
        for signed, m in by_mode.items():
            n = len(m.latencies_s)
            table.add_row(
                kind,
                "yes" if signed else "no",
                str(n),
                _ms(m.latencies_s, 0.5),
                _ms(m.latencies_s, 0.99),
                f"{m.server_cpu_s / n * 1000:.2f}",
            )
    Console().print(table)
    ratios = [
        f"{k} {statistics.mean(v[True].latencies_s) / statistics.mean(v[False].latencies_s):.2f}"
        for k, v in results.items()
    ]
    print("mean latency ratio (signed / unsigned): " + ", ".join(ratios))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

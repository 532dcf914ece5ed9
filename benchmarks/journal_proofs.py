"""The transparency log's cost: checkpoints and proofs over a journal of many entries.

Run it from the repository root::

    python -m benchmarks.journal_proofs                 # 1,000,000 entries, SQLite
    python -m benchmarks.journal_proofs --entries 100000
    python -m benchmarks.journal_proofs --database postgresql+psycopg://postgres@127.0.0.1:5432/postgres

A fresh store is filled with ``--entries`` journal entries (small payloads, appended in
batches as the service appends them), then: the **first checkpoint** (the whole tree
hashed and its nodes stored), a **next checkpoint** after ``--more`` further entries,
**inclusion proofs** of random entries and **consistency proofs** between checkpoints
(time to make one from the store, its size in hashes and bytes, time to check it
offline). Prints one table.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, make_url, text

from deconfliction.clock import ManualClock
from deconfliction.journal.chain import append_many
from deconfliction.journal.checkpoint import check_consistency, check_inclusion, read_checkpoint
from deconfliction.journal.log import TransparencyLog
from deconfliction.journal.receipts import ensure_service_key
from deconfliction.store.database import Database

__all__ = ["fresh_store", "main"]

_BATCH = 10_000


@contextmanager
def fresh_store(database: str | None, work: Path) -> Iterator[str]:
    """The URL of a fresh, migrated store: a SQLite file in ``work``, or a new database
    on the PostgreSQL server ``database`` (dropped at the end)."""
    if database is None:
        url = f"sqlite:///{work / 'bench.db'}"
        Database(url).migrate()
        yield url
        return
    server = make_url(database)
    name = f"dcf_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    db.migrate()
    db.dispose()
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _fill(db: Database, clock: ManualClock, count: int) -> None:
    done = 0
    while done < count:
        n = min(_BATCH, count - done)
        with db.transaction() as session:
            append_many(
                session,
                clock.now(),
                [("bench.entry", "P", f"s{done + i}", {"i": done + i}) for i in range(n)],
            )
        done += n


def _ms(seconds: Sequence[float]) -> str:
    p99 = sorted(seconds)[int(len(seconds) * 0.99)]
    return f"{statistics.mean(seconds) * 1000:.2f} (p99 {p99 * 1000:.2f})"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--more", type=int, default=1_000, help="Entries before the next one.")
    parser.add_argument("--proofs", type=int, default=1_000, help="Inclusion proofs to time.")
    parser.add_argument("--database", default=None, help="A PostgreSQL server URL.")
    args = parser.parse_args(argv)
    console = Console()
    clock = ManualClock(datetime(2026, 3, 2, 8, 0, tzinfo=UTC))
    with tempfile.TemporaryDirectory() as work, fresh_store(args.database, Path(work)) as url:
        db = Database(url)
        key = ensure_service_key(db, clock)
        log = TransparencyLog(db, clock)
        started = time.perf_counter()
        _fill(db, clock, args.entries - 1)  # the service key's entry is the first
        fill_s = time.perf_counter() - started

        started = time.perf_counter()
        first = log.checkpoint()
        first_s = time.perf_counter() - started
        _fill(db, clock, args.more)
        started = time.perf_counter()
        second = log.checkpoint()
        next_s = time.perf_counter() - started
        old, _ = read_checkpoint(first, key)
        new, _ = read_checkpoint(second, key)
        assert old is not None
        assert new is not None

        rng = random.Random(7)
        make, check, sizes = [], [], []
        for seq in (rng.randint(1, new.tree_size) for _ in range(args.proofs)):
            started = time.perf_counter()
            proof = log.inclusion(seq)
            make.append(time.perf_counter() - started)
            started = time.perf_counter()
            assert check_inclusion(proof["entry_hash"], seq, proof["proof"], new) is None
            check.append(time.perf_counter() - started)
            sizes.append(len(proof["proof"]))
        c_make, c_check = [], []
        for _ in range(20):
            started = time.perf_counter()
            consistency = log.consistency(old.tree_size, new.tree_size)
            c_make.append(time.perf_counter() - started)
            started = time.perf_counter()
            assert check_consistency(old, new, consistency["proof"]) is None
            c_check.append(time.perf_counter() - started)
        db.dispose()

    store = "PostgreSQL" if args.database else "SQLite"
    table = Table(title=f"transparency log at {new.tree_size:,} entries ({store})")
    table.add_column("what")
    table.add_column("figure", justify="right")
    table.add_row("filling the journal (s)", f"{fill_s:.1f}")
    table.add_row(f"first checkpoint, {old.tree_size:,} entries (s)", f"{first_s:.2f}")
    table.add_row(f"next checkpoint, +{args.more:,} entries (ms)", f"{next_s * 1000:.1f}")
    table.add_row("inclusion proof: make, ms (mean, p99)", _ms(make))
    table.add_row("inclusion proof: check offline, ms", _ms(check))
    table.add_row(
        "inclusion proof: hashes (bytes)",
        f"{statistics.mean(sizes):.1f} ({statistics.mean(sizes) * 32:.0f})",
    )
    table.add_row("consistency proof: make, ms (mean, p99)", _ms(c_make))
    table.add_row("consistency proof: check offline, ms", _ms(c_check))
    n = len(consistency["proof"])
    table.add_row(
        f"consistency proof {old.tree_size:,} -> {new.tree_size:,}: hashes (bytes)",
        f"{n} ({n * 32})",
    )
    console.print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

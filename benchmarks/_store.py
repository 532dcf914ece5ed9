"""Benchmark stores: bulk-loaded straight through the schema, cached by content.

A store holds the mix's parties (made through the registry, so they are real) and
one notice of one volume per stored volume, written in big transactions as
the service would write them (``volume_values`` and ``index_rows``), without the
search, conflicts, alerts or journal entries a filing would add. Drawing volumes and
their H3 cells is the slow part, so it runs in worker processes while this one inserts.

A built store is cached under a name made of its spec and a digest of what it holds
(the migrations, and the rows of a sample of its volumes as the code of the day draws,
covers and writes them), so a rerun reuses it, a change to what would be stored builds
it afresh, and a change that stores the same rows does not cost a rebuild.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import shutil
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

import deconfliction.store.schema
from benchmarks._volumes import CHUNK, VolumeMix, volume_chunk
from deconfliction.clock import ManualClock
from deconfliction.notices.model import NoticeState
from deconfliction.notices.search import index_rows, volume_values
from deconfliction.parties import Registry
from deconfliction.store.database import Database
from deconfliction.store.schema import Notice, Volume, VolumeCell

__all__ = ["Loaded", "StoreSpec", "bulk_load", "cached_store", "copy_store", "party_name"]

_COMMIT_EVERY = 20_000  # volumes per transaction
_FILED_BEFORE = timedelta(days=1)  # bulk notices are filed this long before the week
_SAMPLE = 500  # volumes whose rows stand for a store's content in its digest
_MIGRATIONS = Path(deconfliction.store.schema.__file__).parent / "migrations" / "versions"


Progress = Callable[[int], None]
"""Told how many more volumes were stored."""
_Rows = dict[str, list[dict[str, Any]]]
"""Rows of one chunk by table: ``notices``, ``volumes``, ``cells``."""
_Job = tuple[VolumeMix, int, int, int, int, int]
"""(mix, seed, stream, chunk, count, first volume id)."""


@dataclass(frozen=True)
class StoreSpec:
    """What a benchmark store holds: ``volumes`` drawn from ``mix`` with ``seed``."""

    volumes: int
    seed: int
    mix: VolumeMix = field(default_factory=VolumeMix)

    def digest(self) -> str:
        """SHA-256 (hex) of the spec and of what a store of it holds: the migrations that
        make its tables and the rows of its first volumes. Code that changes what is
        stored changes the digest; code that only moves things about does not."""
        h = hashlib.sha256(json.dumps(asdict(self), sort_keys=True, default=str).encode())
        for path in sorted(_MIGRATIONS.glob("*.py")):
            h.update(path.read_bytes())
        h.update(repr(_rows((self.mix, self.seed, 0, 0, min(_SAMPLE, self.volumes), 1))).encode())
        return h.hexdigest()


@dataclass(frozen=True)
class Loaded:
    """What a bulk load wrote: volumes (ids ``first_id`` on) and their cell rows."""

    first_id: int
    volumes: int
    cells: int


def party_name(party_id: int) -> str:
    """The name of benchmark party ``party_id`` (1-based)."""
    return f"Bench party {party_id:02d}"


def cached_store(
    spec: StoreSpec, cache_dir: Path, workers: int = 2, progress: Progress | None = None
) -> tuple[Path, bool]:
    """The store of ``spec`` as a SQLite file, built unless cached; (path, was cached).

    Stores of the same size and seed built from other sources are removed.
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    stem = f"strategic-{spec.volumes}-{spec.seed}-"
    path = cache_dir / f"{stem}{spec.digest()[:16]}.db"
    if path.exists():
        return path, True
    for stale in cache_dir.glob(f"{stem}*"):
        stale.unlink()
    building = path.with_suffix(".building")
    db = Database(f"sqlite:///{building}")
    try:
        db.migrate()
        registry = Registry(db, ManualClock(spec.mix.week_start - 2 * _FILED_BEFORE))
        for party_id in range(1, spec.mix.parties + 1):
            registry.add(party_name(party_id), "operator")
        bulk_load(db, spec.mix, spec.seed, 0, spec.volumes, workers, progress)
    finally:
        db.dispose()  # the last connection out checkpoints the WAL into the file
    for suffix in ("-wal", "-shm"):
        Path(f"{building}{suffix}").unlink(missing_ok=True)
    building.rename(path)
    return path, False


def copy_store(source: Path, target: Path) -> str:
    """Copy a built store to ``target`` (to be changed by filings); returns its URL."""
    shutil.copyfile(source, target)
    return f"sqlite:///{target}"


def bulk_load(
    db: Database,
    mix: VolumeMix,
    seed: int,
    stream: int,
    count: int,
    workers: int = 2,
    progress: Progress | None = None,
) -> Loaded:
    """Store ``count`` volumes of stream ``stream``, one notice each, after those stored.

    ``workers`` processes draw the volumes (0: this process draws them). Returns what
    was written; the parties ``1..mix.parties`` must exist.
    """
    with db.read() as session:
        first_id = (session.scalar(select(func.max(Volume.id))) or 0) + 1
    jobs = [
        (mix, seed, stream, chunk, min(CHUNK, count - chunk * CHUNK), first_id + chunk * CHUNK)
        for chunk in range(-(-count // CHUNK))
    ]
    stored = cells = 0
    with _loader(db) as load, _drawn(jobs, workers) as chunks:
        for rows in chunks:
            load(rows)
            stored += len(rows["volumes"])
            cells += len(rows["cells"])
            if progress is not None:
                progress(len(rows["volumes"]))
    return Loaded(first_id, stored, cells)


def _rows(job: _Job) -> _Rows:
    """Notice, volume and cell rows of one chunk (runs in a worker process)."""
    mix, seed, stream, chunk, count, first_id = job
    filed = mix.week_start - _FILED_BEFORE
    batch: _Rows = {"notices": [], "volumes": [], "cells": []}
    for offset, (party_id, volume) in enumerate(volume_chunk(mix, seed, stream, chunk, count)):
        volume_id = first_id + offset
        notice_id = f"ntc_bulk{volume_id:016d}"
        batch["notices"].append(
            {
                "id": notice_id,
                "party_id": party_id,
                "title": "",
                "state": NoticeState.FILED.value,
                "version": 1,
                "filed_at": filed,
                "updated_at": filed,
                "lead_time_s": (volume.start - filed).total_seconds(),
                "starts_at": volume.start,
                "ends_at": volume.end,
            }
        )
        batch["volumes"].append({"id": volume_id, **volume_values(notice_id, party_id, 0, volume)})
        batch["cells"].extend(index_rows(volume_id, party_id, volume))
    return batch


@contextmanager
def _loader(db: Database) -> Iterator[Callable[[_Rows], None]]:
    """Inserts batches of rows on one connection, committing every _COMMIT_EVERY volumes.

    The connection runs with ``synchronous=OFF`` and a 1 GB page cache: a bulk load that
    dies leaves a ``.building`` file that is never used, so it needs no fsync. Loads
    into a working copy are followed by the benchmark's own durable commits.
    """
    with db.engine.connect() as connection:
        raw = connection.connection.driver_connection  # pragmas go outside a transaction
        assert raw is not None
        raw.execute("PRAGMA synchronous=OFF")
        raw.execute("PRAGMA cache_size=-1000000")
        pending = 0
        transaction = connection.begin()

        def load(rows: _Rows) -> None:
            nonlocal pending, transaction
            connection.execute(insert(Notice), rows["notices"])
            connection.execute(insert(Volume), rows["volumes"])
            connection.execute(insert(VolumeCell), rows["cells"])
            pending += len(rows["volumes"])
            if pending >= _COMMIT_EVERY:
                transaction.commit()
                transaction = connection.begin()
                pending = 0

        try:
            yield load
            transaction.commit()
        finally:
            if transaction.is_active:
                transaction.rollback()
            raw.execute("PRAGMA synchronous=FULL")
            raw.execute("PRAGMA cache_size=-2000")


@contextmanager
def _drawn(jobs: list[_Job], workers: int) -> Iterator[Iterator[_Rows]]:
    """The rows of each job, in job order, drawn by ``workers`` processes (0: this one).

    At most two jobs per worker are in flight, so finished rows never pile up in memory
    while the inserts catch up.
    """
    if workers <= 0:
        yield map(_rows, jobs)
        return
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:

        def in_order() -> Iterator[_Rows]:
            queue: deque[Future[_Rows]] = deque()
            for job in jobs:
                queue.append(pool.submit(_rows, job))
                if len(queue) >= 2 * workers:
                    yield queue.popleft().result()
            while queue:
                yield queue.popleft().result()

        try:
            yield in_order()
        finally:
            pool.shutdown(cancel_futures=True)

"""The strategic benchmark at toy size, so that it cannot rot: counts checked, never times.

The stores here are small and dense (a region 30 km across, one day, four parties), so
that filings meet stored volumes and the conflict counts are checked against a
brute-force pass of the core's exact test over everything stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from benchmarks._store import StoreSpec, bulk_load, cached_store, copy_store
from benchmarks._volumes import VolumeMix
from benchmarks.strategic import (
    FILINGS,
    PILE,
    PILE_FILINGS,
    STORE,
    drawn,
    file_over_http,
    file_through_service,
    main,
    search_only,
)
from sqlalchemy import func, select

from deconfliction.core.earth import geodesic_distance_m
from deconfliction.core.volume import Volume4D, overlap
from deconfliction.notices.cells import index_cells
from deconfliction.store.database import Database
from deconfliction.store.schema import Conflict, JournalEntry, Notice, Party, Volume, VolumeCell

MIX = VolumeMix(radius_m=15_000.0, max_across_m=8_000.0, week_s=86_400.0, parties=4)
SEED = 3
STORED = 300


def _count(url: str, column: object) -> int:
    db = Database(url)
    try:
        with db.read() as session:
            return int(session.scalar(select(func.count(column))) or 0)  # type: ignore[arg-type]
    finally:
        db.dispose()


def _expected_conflicts(
    stored: Sequence[tuple[int, Volume4D]], filed: Sequence[tuple[int, Volume4D]]
) -> list[int]:
    """Conflicts of each filing, in turn, with everything of other parties stored before it."""
    everything = list(stored)
    counts = []
    for party, volume in filed:
        counts.append(sum(1 for p, v in everything if p != party and overlap(volume, v)))
        everything.append((party, volume))
    return counts


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path, cached = cached_store(
        StoreSpec(STORED, SEED, MIX), tmp_path_factory.mktemp("cache"), workers=0
    )
    assert not cached
    return path


def test_a_store_holds_the_drawn_volumes_with_their_cells(store: Path) -> None:
    again, cached = cached_store(StoreSpec(STORED, SEED, MIX), store.parent, workers=0)
    assert (again, cached) == (store, True)
    url = f"sqlite:///{store}"
    volumes = drawn(MIX, SEED, STORE, STORED)
    assert _count(url, Party.id) == MIX.parties
    assert _count(url, Notice.id) == _count(url, Volume.id) == STORED
    assert _count(url, VolumeCell.volume_id) == sum(
        len(index_cells(v.footprint)) for _, v in volumes
    )
    db = Database(url)
    try:
        with db.read() as session:
            rows = session.execute(select(Volume.party_id, Volume.lower_m).order_by(Volume.id))
            assert [tuple(r) for r in rows] == [(p, v.lower_m) for p, v in volumes]
    finally:
        db.dispose()


def test_searches_then_filings_report_every_conflict(store: Path, tmp_path: Path) -> None:
    url = copy_store(store, tmp_path / "sparse.db")
    stored, planned = drawn(MIX, SEED, STORE, STORED), drawn(MIX, SEED, FILINGS, 18)
    searches = search_only(url, MIX, SEED, FILINGS, count=15, warmup=3)
    assert len(searches.latencies_s) == len(searches.cpu_s) == 15
    assert searches.conflicts == [_expected_conflicts(stored, [p])[0] for p in planned]
    assert _count(url, Notice.id) == STORED, "a search wrote to the store"
    filings = file_through_service(url, MIX, SEED, FILINGS, count=15, warmup=3)
    assert len(filings.latencies_s) == len(filings.cpu_s) == 15
    expected = _expected_conflicts(stored, planned)
    assert sum(expected) > sum(searches.conflicts) > 0, "too sparse a mix to check anything"
    assert filings.conflicts == expected
    assert _count(url, Conflict.id) == sum(expected)
    assert _count(url, Notice.id) == STORED + 18


def test_a_hot_spot_is_piled_into_its_area_and_searched(store: Path, tmp_path: Path) -> None:
    pile = MIX.piled(MIX.lon, MIX.lat, 10_000.0)
    url = copy_store(store, tmp_path / "hot.db")
    db = Database(url)
    try:
        loaded = bulk_load(db, pile, SEED, PILE, 50, workers=0)
    finally:
        db.dispose()
    piled = drawn(pile, SEED, PILE, 50)
    assert (loaded.first_id, loaded.volumes) == (STORED + 1, 50)
    assert loaded.cells == sum(len(index_cells(v.footprint)) for _, v in piled)
    for _, volume in piled:
        lons, lats = volume.footprint.shape.exterior.xy
        assert geodesic_distance_m(MIX.lon, MIX.lat, lons, lats).max() < 5_000.0 + 2.0
    filings = file_through_service(url, pile, SEED, PILE_FILINGS, count=8, warmup=0)
    stored = drawn(MIX, SEED, STORE, STORED) + piled
    assert filings.conflicts == _expected_conflicts(stored, drawn(pile, SEED, PILE_FILINGS, 8))
    assert sum(filings.conflicts) > 0


def test_http_clients_are_told_every_conflict_stored(store: Path, tmp_path: Path) -> None:
    url = copy_store(store, tmp_path / "http.db")
    filed = file_over_http(url, tmp_path, MIX, SEED, seconds=1.0, clients=2, warmup=0)
    assert set(filed.statuses) == {201}
    assert len(filed.latencies_s) == filed.statuses[201] > 0
    assert _count(url, Notice.id) == STORED + len(filed.latencies_s)
    assert _count(url, Conflict.id) == filed.conflicts
    assert _count(url, JournalEntry.seq) > 0
    assert filed.server_cpu_s is not None
    assert filed.server_cpu_s > 0


def test_http_refuses_a_week_the_clock_has_passed(store: Path, tmp_path: Path) -> None:
    past = replace(MIX, week_start=datetime(2020, 1, 6, tzinfo=UTC))
    with pytest.raises(ValueError, match="not ahead of the clock"):
        file_over_http(f"sqlite:///{store}", tmp_path, past, SEED, 1.0, 1, 0)


def test_the_script_prints_one_row_per_case(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--sizes", "200", "--filings", "4", "--warmup", "1", "--hot-spot-volumes", "30"]
    argv += ["--http-seconds", "0.5", "--http-clients", "2", "--workers", "0"]
    assert main([*argv, "--cache-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for row in ("search only, 200", "sparse 200", "hot spot (10 km)", "HTTP, loopback"):
        assert row in out
    assert [p.name for p in tmp_path.iterdir()] == [
        next(tmp_path.glob("strategic-200-1-*.db")).name
    ]

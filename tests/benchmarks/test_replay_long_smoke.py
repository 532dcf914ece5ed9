"""The long-replay benchmark on a toy recording, so that it cannot rot: counts, never
times. Two real-looking flights to cut, one too short to be a flight."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.replay_long import Fleet, build, flights, measure, shape, table
from rich.console import Console


def _source(path: Path) -> Path:
    rows = []
    for ident, hour, minutes in (("4b1814", 8, 12), ("3c6444", 9, 15), ("39a415", 10, 4)):
        for k in range(minutes * 6 + 1):
            at = datetime(2018, 8, 1, hour, tzinfo=UTC) + timedelta(seconds=10 * k)
            lon = 7.0 + 0.0137 * k + hour / 10
            rows.append((at, f"{ident},46.8,{lon:.6f},9000.0,105.0,90.0,0.0"))
    text = "timestamp,id,lat,lon,alt_m,gs_mps,trk_deg,vs_mps\n" + "".join(
        f"{at:%Y-%m-%dT%H:%M:%S}.000Z,{row}\n" for at, row in sorted(rows)
    )
    path.write_bytes(gzip.compress(text.encode()))
    return path


def test_a_fleet_file_is_real_flights_on_the_grid_by_day(tmp_path: Path) -> None:
    source = _source(tmp_path / "source.csv.gz")
    assert sorted(f[-1][0] for f in flights(source)) == [720, 900]  # 4 minutes: no flight
    fleet = Fleet(days=3, aircraft=4)
    path = build(fleet, source, tmp_path / fleet.name(source))
    with gzip.open(path, "rt") as stream:
        next(stream)
        stamps = [datetime.fromisoformat(line.split(",", 1)[0]) for line in stream]
    assert stamps == sorted(stamps)
    assert {s.second % 10 for s in stamps} == {0}
    assert {s.day for s in stamps} == {1, 2, 3}
    assert all(6 <= s.hour < 23 for s in stamps)
    # 2 to 4 flights a day of 73 or 91 rows each, per aircraft and day
    assert 4 * 3 * 2 * 73 <= shape(path).rows <= 4 * 3 * 4 * 91


def test_a_fleet_file_replays_one_tick_per_second_with_states(tmp_path: Path) -> None:
    source = _source(tmp_path / "source.csv.gz")
    fleet = Fleet(days=2, aircraft=3)
    result = measure(build(fleet, source, tmp_path / fleet.name(source)))
    assert result.shape.span_s > 86_400
    assert result.ticks == result.shape.seconds < result.shape.rows
    assert result.dropped == 0
    console = Console(width=200, record=True)
    console.print(table([result]))
    assert f"{result.ticks:,}" in console.export_text()

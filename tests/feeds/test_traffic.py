"""CSV replay: ticks, counted skips, hand-written rows, then the real OpenSky files."""

from __future__ import annotations

import gzip
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest

from deconfliction.errors import ValidationError
from deconfliction.feeds.traffic import CSV_COLUMNS, AircraftState, CsvReplay
from tests.feeds.realdata import shared_file

HEADER = ",".join(CSV_COLUMNS) + "\n"


def _write(tmp_path: Path, rows: str, gz: bool = True) -> Path:
    path = tmp_path / ("replay.csv.gz" if gz else "replay.csv")
    data = (HEADER + rows).encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


ROWS = (
    "2021-10-07T12:00:00.500Z,398564,48.36,1.41,6172.2,198.06,16.3,-13.0\n"
    "2021-10-07T12:00:00.900Z,398564,48.37,1.42,6160.0,198.00,16.4,-13.0\n"
    "2021-10-07T12:00:00.900Z,39A415,48.95,2.38,624.8,79.74,368.1,13.0\n"
    "2021-10-07T12:00:01.000Z,3964f5,48.73,2.36,,,,\n"
    "2021-10-07T12:00:01.200Z,49328a,48.96,2.44,-68.6,,,\n"
    "2021-10-07T12:00:03.000Z,398564,48.40,1.45,6100.0,197.00,16.5,-12.0\n"
    "2021-10-07T12:00:02.500Z,398564,48.39,1.44,6120.0,197.50,16.5,-12.0\n"
    "2021-10-07T12:00:03.100Z,abc123,95.0,2.0,1000,100,90,0\n"
    "2021-10-07T12:00:03.200Z,abc124,45.0,2.0,1000,fast,90,0\n"
    "2021-10-07T12:00:03.300Z,abc125,45.0\n"
    "yesterday,abc126,45.0,2.0,1000,100,90,0\n"
)


@pytest.mark.parametrize("gz", [True, False])
def test_ticks_hold_the_latest_state_of_each_aircraft(tmp_path: Path, gz: bool) -> None:
    replay = CsvReplay(_write(tmp_path, ROWS, gz), period_s=1.0)
    ticks = list(replay)
    assert [t.start.second for t in ticks] == [0, 1, 2, 3]  # the empty second 2 included
    assert all((t.end - t.start).total_seconds() == 1.0 for t in ticks)
    first = ticks[0].states
    assert first == (
        AircraftState(
            "398564", datetime(2021, 10, 7, 12, 0, 0, 900_000, tzinfo=UTC),
            1.42, 48.37, 6160.0, 198.0, 16.4, -13.0,
        ),
        AircraftState(
            "39a415", datetime(2021, 10, 7, 12, 0, 0, 900_000, tzinfo=UTC),
            2.38, 48.95, 624.8, 79.74, pytest.approx(8.1), 13.0,
        ),
    )  # fmt: skip
    assert ticks[1].states == ()  # only a ground row and an incomplete row in that second
    assert ticks[2].states == ()
    assert [s.alt_m for s in ticks[3].states] == [6100.0]
    assert (replay.rows, replay.airborne_rows, replay.ground_rows) == (11, 3, 1)
    assert (replay.incomplete_rows, replay.late_rows, replay.bad_rows) == (1, 1, 4)
    assert replay.dropped["duplicate"] == 1  # 398564 twice in the first second
    assert replay.rows == replay.airborne_rows + sum(replay.dropped.values())


def test_longer_periods_group_seconds(tmp_path: Path) -> None:
    ticks = list(CsvReplay(_write(tmp_path, ROWS), period_s=10.0))
    assert len(ticks) == 1
    assert ticks[0].start == datetime(2021, 10, 7, 12, 0, 0, tzinfo=UTC)
    # the later report time wins, not the later row
    assert [(s.id, s.alt_m) for s in ticks[0].states] == [("398564", 6100.0), ("39a415", 624.8)]


def test_each_pass_rereads_and_recounts(tmp_path: Path) -> None:
    replay = CsvReplay(_write(tmp_path, ROWS))
    first = [t.states for t in replay]
    counts = (replay.rows, replay.bad_rows)
    assert [t.states for t in replay] == first
    assert (replay.rows, replay.bad_rows) == counts


def test_a_file_with_another_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("time,icao,lat,lon\n")
    with pytest.raises(ValidationError, match="lacks the column"):
        list(CsvReplay(path))


@pytest.mark.parametrize("period", [0, -1.0, float("nan")])
def test_the_period_must_be_positive(tmp_path: Path, period: float) -> None:
    with pytest.raises(ValueError, match="positive number of seconds"):
        CsvReplay(tmp_path / "x.csv", period_s=period)


# --- the real files --------------------------------------------------------------------


def _reference(path: Path, period_s: int) -> tuple[int, int, int, set[str], int]:
    """Rows, airborne rows, ground rows, aircraft and the most aircraft heard in one
    period, counted the plain way over the whole file."""
    rows = airborne = ground = 0
    ids: set[str] = set()
    per_period: dict[int, set[str]] = defaultdict(set)
    with gzip.open(path, "rt") as lines:
        next(lines)
        for line in lines:
            fields = line.rstrip("\n").split(",")
            rows += 1
            ids.add(fields[1])
            if fields[4] == "":
                ground += 1
            elif "" not in fields[5:8]:
                airborne += 1
                when = datetime.fromisoformat(fields[0]).timestamp()
                per_period[int(when // period_s)].add(fields[1])
    return rows, airborne, ground, ids, max(len(v) for v in per_period.values())


@pytest.mark.parametrize(
    ("name", "rows", "aircraft", "airborne_aircraft", "ground", "incomplete", "most_at_once"),
    [
        ("switzerland_2018-08-01.csv.gz", 139_098, 842, 842, 0, 0, 47),
        ("paris_2021-10-07.csv.gz", 284_505, 213, 210, 50_665, 4_307, 34),
    ],
)
def test_real_replays_in_ten_second_ticks(
    name: str,
    rows: int,
    aircraft: int,
    airborne_aircraft: int,
    ground: int,
    incomplete: int,
    most_at_once: int,
) -> None:
    path = shared_file("traffic", name)
    replay = CsvReplay(path, period_s=10.0)
    seen: set[str] = set()
    most = 0
    previous = None
    for tick in replay:
        if previous is not None:
            assert tick.start == previous  # no gaps between ticks
        previous = tick.end
        assert all(tick.start <= s.timestamp < tick.end for s in tick.states)
        assert len({s.id for s in tick.states}) == len(tick.states)
        seen.update(s.id for s in tick.states)
        most = max(most, len(tick.states))
    assert (replay.rows, replay.ground_rows, replay.incomplete_rows) == (rows, ground, incomplete)
    assert (replay.late_rows, replay.bad_rows) == (0, 0)
    duplicate = replay.dropped["duplicate"]  # more than one state of an aircraft in 10 s
    assert replay.airborne_rows + duplicate == rows - ground - incomplete
    assert (len(seen), most) == (airborne_aircraft, most_at_once)

    ref_rows, ref_airborne, ref_ground, ref_ids, ref_most = _reference(path, 10)
    assert (ref_rows, ref_airborne, ref_ground) == (rows, replay.airborne_rows + duplicate, ground)
    assert (len(ref_ids), ref_most) == (aircraft, most)

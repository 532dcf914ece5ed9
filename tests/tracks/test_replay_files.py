"""``deconfliction replay`` on hand-made files, through the CLI (issue 9, item 5).

Good files: columns by name in any order, extra columns ignored, a UTF-8 byte-order
mark, an ``onground`` column; every row not sent counted by reason; seconds with no
states skipped in fast time. Bad files: exit status 2 and one line that says what to
do, never a traceback.
"""

from __future__ import annotations

import gzip
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from deconfliction.cli.app import build
from deconfliction.clock import SystemClock
from deconfliction.parties import Registry
from deconfliction.store.database import Database
from deconfliction.store.schema import Conflict
from tests.servers import free_port, served

HEADER = "timestamp,id,lat,lon,alt_m,gs_mps,trk_deg,vs_mps\n"
ROW = "2021-10-07T12:00:00.500Z,398564,48.36,1.41,6172.2,198.06,16.3,-13.0\n"


def replay(tmp_path: Path, path: Path, *more: str) -> Result:
    url = f"sqlite:///{tmp_path / 'replay.db'}"
    return CliRunner().invoke(build(), ["replay", str(path), "-d", url, *more])


def one_line(result: Result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    [line] = [line for line in result.output.splitlines() if line.startswith("error:")]
    return line


def test_columns_go_by_name_extra_ones_are_ignored_and_every_drop_is_counted(
    tmp_path: Path,
) -> None:
    path = tmp_path / "named.csv"
    path.write_text(
        "\ufeffcallsign,vs_mps,trk_deg,gs_mps,alt_m,lon,lat,id,timestamp,onground\n"
        "AFR1,-13.0,16.3,198.06,6172.2,1.41,48.36,398564,2021-10-07T12:00:00.5Z,false\n"
        "AFR1,-13.0,16.3,198.06,6172.2,1.41,48.36,398564,2021-10-07T12:00:00.7Z,false\n"
        "TAXI,0.0,90.0,8.0,120.0,2.55,49.0,39a415,2021-10-07T12:00:00.9Z,true\n"
        "GND,,,,,2.55,49.0,3964f5,2021-10-07T12:00:01.0Z,\n"
        "INC,,,,624.8,2.55,49.0,3964f6,2021-10-07T12:00:01.0Z,\n"
        "BAD,0,90,fast,1000,2.0,45.0,abc124,2021-10-07T12:00:01.0Z,\n"
        "FST,0,90,4000,1000,2.0,45.0,abc125,2021-10-07T12:00:01.0Z,\n"
        "AFR1,-13.0,16.3,198.06,6100.0,1.41,48.40,398564,2021-10-07T13:00:00.0Z,false\n"
        "OLD,0,90,100,1000,2.0,45.0,abc126,2021-10-07T12:59:59.0Z,\n",
        encoding="utf-8",
    )
    result = replay(tmp_path, path)
    assert result.exit_code == 0, result.output
    assert "2 ticks of 1 s" in result.output  # an hour without states costs nothing
    assert "3 states sent, 3 accepted" in result.output  # on_ground true taken
    assert (
        "6 of 9 rows of the file not sent: no altitude 1, incomplete 1, bad value 1, "
        "late 1, duplicate 1, implausible 1"
    ) in " ".join(result.output.split())


def test_a_file_in_fast_time_skips_its_quiet_seconds(tmp_path: Path) -> None:
    path = tmp_path / "two.csv.gz"
    path.write_bytes(
        gzip.compress(
            (
                HEADER + ROW + ROW.replace("12:00:00.500", "20:00:00.000").replace("48.36", "48.9")
            ).encode()
        )
    )
    result = replay(tmp_path, path, "--parties", "1")
    assert result.exit_code == 0, result.output
    assert re.search(r"\b2 ticks of 1 s: 2 states sent, 2 accepted", result.output)
    with Database(f"sqlite:///{tmp_path / 'replay.db'}").read() as session:
        assert session.scalars(select(Conflict)).all() == []


def test_days_of_quiet_between_flights_cost_no_tick(tmp_path: Path) -> None:
    """Three days of two aircraft flying a few minutes a day (one every second, one every
    two, overlapping), a row with no altitude alone at noon: one tick per second that
    holds a state, none for the rest of the 3 days' 250,000 seconds."""
    rows, seconds = [], set()
    for day in range(3):
        for ident, start_s, every_s, count in (
            ("4b1814", 8 * 3600, 1, 120),
            ("3c6444", 8 * 3600 + 60, 2, 60),
            ("4b1814", 17 * 3600 + 1800, 4, 15),
        ):
            for k in range(count):
                at = datetime(2021, 10, 7 + day, tzinfo=UTC) + timedelta(
                    seconds=start_s + k * every_s, milliseconds=250
                )
                lon = 8.0 + 0.0013 * k * every_s + (0.5 if ident == "3c6444" else 0.0)
                rows.append((at, f"{ident},47.0,{lon:.6f},3000.0,100.0,90.0,0.0"))
                seconds.add(int(at.timestamp()))
        noon = datetime(2021, 10, 7 + day, 12, tzinfo=UTC)
        rows.append((noon, "39a415,49.0,2.55,,,,"))
    rows.sort(key=lambda r: r[0])
    path = tmp_path / "days.csv.gz"
    path.write_bytes(
        gzip.compress(
            (
                HEADER
                + "".join(f"{at.isoformat().replace('+00:00', 'Z')},{row}\n" for at, row in rows)
            ).encode()
        )
    )
    result = replay(tmp_path, path, "--parties", "2")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert len(seconds) == 3 * (120 + 30 + 15)
    states = len(rows) - 3
    assert f"{len(seconds):,} ticks of 1 s: {states:,} states sent, {states:,} accepted" in text
    assert f"3 of {len(rows):,} rows of the file not sent: no altitude 3," in text
    assert "file 2021-10-07 08:00:00 to 2021-10-09 17:30:57 UTC (2 d 9.5 h) played in" in text


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"", "is empty"),
        (gzip.compress(b""), "is empty"),
        (b"time,icao,lat,lon\n" + ROW.encode(), "lacks the column(s) timestamp, id, alt_m"),
        (HEADER.replace("lat,lon", "lat,lat").encode(), "names the column(s) lat twice"),
        ((HEADER + ROW + HEADER + ROW).encode(), "repeats its header at data row 2"),
        ((HEADER + ROW).encode() + b"\xff\xfe,x\n", "is not UTF-8 text (byte 0xff"),
        ((HEADER + ROW).encode("utf-16"), "is not UTF-8 text"),
    ],
    ids=["empty", "empty-gzip", "wrong-header", "twice", "header-again", "latin", "utf-16"],
)
def test_a_bad_file_stops_with_one_line_saying_what_to_do(
    tmp_path: Path, content: bytes, says: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    line = one_line(replay(tmp_path, path))
    assert says in line


def test_a_truncated_gzip_says_at_which_byte(tmp_path: Path) -> None:
    whole = gzip.compress((HEADER + ROW * 2_000).encode())
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(whole[: len(whole) // 2])
    line = one_line(replay(tmp_path, path))
    assert f"truncated at byte {len(whole) // 2}" in line
    assert "download it again" in line


def test_into_a_server_it_shows_file_time_speed_sent_and_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'served.db'}"
    db = Database(url)
    db.migrate()
    _, token = Registry(db, SystemClock()).add("Alpha", "operator")
    db.dispose()
    path = tmp_path / "three.csv"
    rows = [
        ROW.replace("12:00:00.500", f"12:00:0{k}.500").replace("398564", f"39856{k}")
        for k in range(3)
    ]
    path.write_text(
        HEADER
        + "".join(rows)
        + ROW.replace("12:00:00.500", "12:00:02.900")
        .replace("198.06", "1980.6")
        .replace("398564", "398562")
    )
    port = free_port()
    with served(url, port):
        result = CliRunner().invoke(
            build(),
            [
                "replay",
                str(path),
                "--url",
                f"http://127.0.0.1:{port}",
                "-t",
                token,
                "--speed",
                "10",
            ],
        )
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "file 2021-10-07 12:00:03 · x10 · 3 sent · 0 refused" in text
    assert "3 states sent, 3 accepted, 0 refused" in text
    assert "1 of 4 rows of the file not sent" in text  # a speed no aircraft reaches

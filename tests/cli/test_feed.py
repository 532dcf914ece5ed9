"""``deconfliction feed`` from a local source into a real service process, into a
database in this process, stopped by SIGTERM, and exit 2 for what cannot go on."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from click.testing import Result
from sqlalchemy import select
from typer.testing import CliRunner

from deconfliction.agreements.terms import ANONYMOUS_COUNTERPART
from deconfliction.cli.app import build
from deconfliction.clock import SystemClock
from deconfliction.parties import Registry
from deconfliction.store.database import Database
from deconfliction.store.schema import Alert
from tests.feeds.frames import POSITION_EVEN, POSITION_ODD, squitter, velocity_me
from tests.feeds.sources import ScriptedServer
from tests.servers import free_port, served

runner = CliRunner()


def _run(*args: str) -> Result:
    return runner.invoke(build(), list(args))


def _text(result: Result) -> str:
    return " ".join(result.output.split())


def _store(tmp_path: Path) -> tuple[str, str]:
    """A SQLite store with the operator 'Ops' and the authority 'CAA'; Ops's token."""
    url = f"sqlite:///{tmp_path / 'feed.db'}"
    db = Database(url)
    db.migrate()
    registry = Registry(db, SystemClock())
    _, token = registry.add("Ops", "operator")
    registry.add("CAA", "authority")
    db.dispose()
    return url, token


def _sbs1(kind: int, icao: str, fields: dict[int, str]) -> bytes:
    now = datetime.now(UTC)
    day, moment = f"{now:%Y/%m/%d}", f"{now:%H:%M:%S.%f}"[:-3]
    line = ["MSG", str(kind), "1", "1", icao, "1", day, moment, day, moment] + [""] * 12
    for index, value in fields.items():
        line[index] = value
    return (",".join(line) + "\r\n").encode()


def _aircraft(icao: str, lat: float) -> list[bytes]:
    return [
        _sbs1(4, icao, {12: "420", 13: "90.0", 16: "0"}),
        _sbs1(3, icao, {11: "30000", 14: f"{lat}", 15: "14.5"}),
    ]


def test_sbs1_into_a_running_service_sends_only_the_fleet(tmp_path: Path) -> None:
    """Then the same source fed with a token the service refuses: exit 2 at once."""
    url, token = _store(tmp_path)
    fleet = tmp_path / "fleet.txt"
    fleet.write_text("# our aircraft\n4CA2D6\n")
    port = free_port()
    lines = _aircraft("4ca2d6", 46.0) + _aircraft("3c6544", 46.2)
    with (
        served(url, port),
        ScriptedServer([[b"".join(lines)]]) as source,
        ScriptedServer([[b"".join(lines)]]) as other,
    ):
        service = f"http://127.0.0.1:{port}"
        result = _run(
            "feed",
            f"sbs1://127.0.0.1:{source.port}",
            "--url",
            service,
            "--token",
            token,
            "--fleet",
            str(fleet),
            "--seconds",
            "2.5",
        )
        assert result.exit_code == 0, result.output
        tracks = httpx.get(f"{service}/v1/tracks", headers={"Authorization": f"Bearer {token}"})
        refused = _run(
            "feed",
            f"sbs1://127.0.0.1:{other.port}",
            "--url",
            service,
            "--token",
            "dcf_not_a_token",
            "--seconds",
            "20",
        )
    assert refused.exit_code == 2, refused.output  # a token refused stops the feed at once
    assert "refused the token" in _text(refused)
    assert [t["id"] for t in tracks.json()] == ["4ca2d6"]
    text = _text(result)
    assert "sbs1://127.0.0.1" in text
    assert "2 states, 2 sent" in text
    assert "not in the fleet" in text


def test_beast_into_a_database_runs_the_tactical_service_here(tmp_path: Path) -> None:
    """The aircraft (the book's 40621D at FL380 over the North Sea) flies inside a zone
    of CAA's: the tactical service run by the feed opens the intrusion and writes the
    alerts of both parties into the database."""
    url, _ = _store(tmp_path)
    zone = {
        "type": "Feature",
        "properties": {"name": "NORTH SEA TRA", "lower_m": 0, "upper_m": 20000},
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[3.7, 52.1], [4.1, 52.1], [4.1, 52.4], [3.7, 52.4], [3.7, 52.1]]],
        },
    }
    zones = tmp_path / "zone.geojson"
    zones.write_text(json.dumps({"type": "FeatureCollection", "features": [zone]}))
    assert _run("zones", "import", str(zones), "-p", "CAA", "-d", url).exit_code == 0
    velocity = squitter(0x40621D, velocity_me(east_kt=-20, north_kt=400))
    frames = [velocity, POSITION_ODD, POSITION_EVEN]
    data = b"".join(
        b"\x1a3" + (bytes(6) + b"\x80" + f).replace(b"\x1a", b"\x1a\x1a") for f in frames
    )
    with ScriptedServer([[data]]) as source:
        result = _run(
            "feed",
            f"beast://127.0.0.1:{source.port}",
            "-d",
            url,
            "-p",
            "Ops",
            "--seconds",
            "2",
        )
    assert result.exit_code == 0, result.output
    text = _text(result)
    assert "3 messages, 1 states, 1 sent" in text
    assert "refused" not in text
    db = Database(url)
    try:
        with db.read() as session:
            alerts = session.scalars(select(Alert)).all()
    finally:
        db.dispose()
    # no agreement between CAA and Ops: each is told only of another party
    assert [a.counterpart for a in alerts] == [ANONYMOUS_COUNTERPART] * 2


def test_sigterm_stops_the_feed_with_its_summary() -> None:
    with ScriptedServer([_aircraft("4ca2d6", 46.0)]) as source:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "deconfliction",
                "feed",
                f"sbs1://127.0.0.1:{source.port}",
                "--url",
                f"http://127.0.0.1:{free_port()}",
                "--token",
                "dcf_any",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "COLUMNS": "300"},
        )
        try:
            deadline = time.monotonic() + 30
            while source.connections < 1:
                assert time.monotonic() < deadline, "the feed never connected"
                time.sleep(0.05)
            time.sleep(1.5)  # a flush: the service is not there, so the state is dropped
            process.send_signal(signal.SIGTERM)
            out, _ = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert process.returncode == 0, out
    text = " ".join(out.split())
    assert "2 messages, 1 states, 1 sent" in text
    assert "service unreachable" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("http://x:1", "--url", "http://127.0.0.1:1", "-t", "t"), "KIND://HOST[:PORT]"),
        (("sbs1://127.0.0.1",), "give either --url"),
        (("sbs1://127.0.0.1", "--url", "http://127.0.0.1:1"), "--url needs --token"),
        (("sbs1://127.0.0.1", "-d", "{url}"), "--database needs --party"),
        (("sbs1://127.0.0.1", "-d", "{url}", "-p", "CAA"), "tracks come from operators"),
        (("sbs1://127.0.0.1", "-d", "{url}", "-p", "Nobody"), "Nobody"),
        (("sbs1://127.0.0.1", "-d", "{url}", "-p", "Ops", "--fleet", "{missing}"), "fleet"),
    ],
)
def test_what_cannot_go_on_exits_2_and_says_why(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    url, _ = _store(tmp_path)
    filled = [a.format(url=url, missing=tmp_path / "none.txt") for a in args]
    result = _run("feed", *filled)
    assert result.exit_code == 2, result.output
    assert message in _text(result)

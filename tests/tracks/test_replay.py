"""``deconfliction replay`` on a slice of the real Paris traffic: into a real server
process over HTTP, and in fast time through the service path in this process."""

from __future__ import annotations

import gzip
import re
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from deconfliction.cli.app import build
from deconfliction.cli.replay import party_of
from deconfliction.clock import SystemClock
from deconfliction.feeds.traffic import CsvReplay
from deconfliction.journal.verify import verify_database
from deconfliction.parties import Registry
from deconfliction.store.database import Database
from deconfliction.store.schema import Conflict, Party
from tests.servers import free_port, served

SHARED_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def paris_slice(tmp_path: Path) -> Path:
    """One minute of the real Paris file (half an hour in, when it is busy), as a gzip
    CSV of its own."""
    source = SHARED_DATA / "traffic" / "paris_2021-10-07.csv.gz"
    if not source.is_file():
        pytest.skip(
            f"real traffic file {source} is absent (a fresh checkout has no ../shared/data)"
        )
    target = tmp_path / "paris_slice.csv.gz"
    with gzip.open(source, "rt", encoding="utf-8") as inp, gzip.open(target, "wt") as out:
        out.write(inp.readline())
        first: datetime | None = None
        for line in inp:
            at = datetime.fromisoformat(line.split(",", 1)[0])
            first = first or at
            if at - first >= timedelta(minutes=31):
                break
            if at - first >= timedelta(minutes=30):
                out.write(line)
    return target


def _airborne(path: Path) -> set[str]:
    return {s.id for tick in CsvReplay(path) for s in tick.states}


def test_replay_posts_each_partys_share_to_a_running_server(
    paris_slice: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'served.db'}"
    db = Database(url)
    db.migrate()
    registry = Registry(db, SystemClock())
    _, alpha_token = registry.add("Alpha", "operator")
    _, bravo_token = registry.add("Bravo", "operator")
    db.dispose()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with served(url, port):
        result = CliRunner().invoke(
            build(),
            [
                "replay",
                str(paris_slice),
                "--url",
                base,
                "--speed",
                "30",
                "-t",
                alpha_token,
                "-t",
                bravo_token,
            ],
        )
        assert result.exit_code == 0, result.output
        held = {
            name: {t["id"] for t in httpx.get(f"{base}/v1/tracks", headers=auth).json()}
            for name, auth in (
                ("Alpha", {"Authorization": f"Bearer {alpha_token}"}),
                ("Bravo", {"Authorization": f"Bearer {bravo_token}"}),
            )
        }
    airborne = _airborne(paris_slice)
    assert len(airborne) > 20
    assert held["Alpha"] == {i for i in airborne if party_of(i, 2) == 0}
    assert held["Bravo"] == {i for i in airborne if party_of(i, 2) == 1}
    # The only refusals are the recording's own glitches (ADS-B positions kilometres off
    # for one second), which the plausibility gate refuses.
    match = re.search(r"([\d,]+) states sent, ([\d,]+) accepted, ([\d,]+) refused", result.output)
    assert match is not None, result.output
    sent, accepted, refused = (int(g.replace(",", "")) for g in match.groups())
    assert sent == accepted + refused
    assert refused < sent // 100
    reasons = re.findall(r"refused \d+ times: (.*)", result.output)
    assert all(r.startswith("implausible track") for r in reasons), reasons


def test_replay_keeps_within_a_tight_rate_limit(paris_slice: Path, tmp_path: Path) -> None:
    """At x60 a request per file second would be 60 a second; the server allows 2 (burst
    2): the replay batches and waits out each 429's Retry-After, and every aircraft
    arrives."""
    url = f"sqlite:///{tmp_path / 'tight.db'}"
    db = Database(url)
    db.migrate()
    _, token = Registry(db, SystemClock()).add("Alpha", "operator")
    db.dispose()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with served(url, port, {"RATE_PER_S": "2", "RATE_BURST": "2"}):
        result = CliRunner().invoke(
            build(), ["replay", str(paris_slice), "--url", base, "--speed", "60", "-t", token]
        )
        assert result.exit_code == 0, result.output
        auth = {"Authorization": f"Bearer {token}"}
        held = httpx.get(f"{base}/v1/tracks", headers=auth)
        if held.status_code == 429:  # the replay's last requests used the burst
            time.sleep(float(held.headers["Retry-After"]))
            held = httpx.get(f"{base}/v1/tracks", headers=auth)
    assert held.status_code == 200, held.text
    assert {t["id"] for t in held.json()} == _airborne(paris_slice)


def test_replay_in_fast_time_runs_the_service_path(paris_slice: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fast.db'}"
    args = ["replay", str(paris_slice), "-d", url, "--parties", "3"]
    result = CliRunner().invoke(build(), args)
    assert result.exit_code == 0, result.output
    assert "ms p95" in result.output
    opened = re.search(r"conflicts: ([\d,]+) opened", result.output)
    assert opened is not None, result.output
    db = Database(url)
    try:
        with db.read() as session:
            names = set(session.scalars(select(Party.name)))
            stored = session.scalar(select(func.count()).select_from(Conflict))
        assert names == {"replay-1", "replay-2", "replay-3"}
        assert stored == int(opened.group(1).replace(",", ""))
        assert verify_database(db).intact
    finally:
        db.dispose()
    again = CliRunner().invoke(build(), args)  # the parties exist now: they are reused
    assert again.exit_code == 0, again.output


def test_replay_says_what_is_wrong(paris_slice: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    both = runner.invoke(build(), ["replay", str(paris_slice), "--url", "x", "-d", "y"])
    assert both.exit_code == 2
    assert "either --url" in both.output
    no_token = runner.invoke(build(), ["replay", str(paris_slice), "--url", "http://x"])
    assert no_token.exit_code == 2
    assert "--token" in no_token.output
    closed = f"http://127.0.0.1:{free_port()}"
    down = runner.invoke(build(), ["replay", str(paris_slice), "--url", closed, "-t", "dcf_x"])
    assert down.exit_code == 2
    assert "cannot reach" in down.output

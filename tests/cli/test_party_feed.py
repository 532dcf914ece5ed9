"""``deconfliction party feed``: show, set and reset how a party's feed is read; bad
names and values are refused with exit 2 and change nothing; every change journaled.
``party limits`` shares the command's code and keeps its own names apart."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from deconfliction.cli.app import build
from deconfliction.clock import SystemClock
from deconfliction.party_feeds import PartyFeeds
from deconfliction.settings import Settings
from deconfliction.store.database import Database
from deconfliction.store.schema import JournalEntry


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(build(), list(args))
    return result.exit_code, result.stdout, result.stderr


def _row(out: str, name: str) -> list[str]:
    """The cells of the table row of ``name``."""
    line = next(line for line in out.splitlines() if f" {name} " in line)
    return [cell.strip() for cell in line.strip("│ ").split("│")]


def _journal(url: str) -> list[tuple[str, dict[str, object]]]:
    db = Database(url)
    try:
        with db.read() as session:
            rows = session.execute(
                select(JournalEntry.kind, JournalEntry.payload).order_by(JournalEntry.seq)
            ).all()
    finally:
        db.dispose()
    return [(kind, json.loads(payload)) for kind, payload in rows if kind.endswith("_set")]


def _store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'feed.db'}"
    assert run("party", "add", "Drones", "--role", "operator", "-d", url)[0] == 0
    return url


def test_set_show_and_reset_a_party_s_feed(tmp_path: Path) -> None:
    url = _store(tmp_path)
    code, out, _ = run("party", "feed", "Drones", "-d", url)
    assert code == 0
    assert _row(out, "track_takeoff_speed_mps") == ["track_takeoff_speed_mps", "30", "30", "-"]
    code, out, _ = run(
        "party", "feed", "Drones", "--set", "track_takeoff_speed_mps=0",
        "--set", "track_altitude_quantum_m=0", "-d", url,
    )  # fmt: skip
    assert code == 0, out
    assert _row(out, "track_takeoff_speed_mps") == ["track_takeoff_speed_mps", "0", "30", "yes"]
    assert _row(out, "track_altitude_quantum_m") == ["track_altitude_quantum_m", "0", "7.62", "yes"]
    assert _row(out, "track_level_vs_mps") == ["track_level_vs_mps", "0.5", "0.5", "-"]
    code, out, _ = run("party", "feed", "Drones", "--reset", "track_altitude_quantum_m", "-d", url)
    assert code == 0
    assert _row(out, "track_altitude_quantum_m") == [
        "track_altitude_quantum_m",
        "7.62",
        "7.62",
        "-",
    ]
    assert _row(out, "track_takeoff_speed_mps")[1] == "0"
    db = Database(url)
    try:
        feeds = PartyFeeds(db, SystemClock(), Settings(database_url=url))
        assert feeds.overrides("Drones") == {"track_takeoff_speed_mps": 0.0}
    finally:
        db.dispose()
    assert _journal(url) == [
        (
            "party.feed_set",
            {
                "name": "Drones",
                "set": {"track_takeoff_speed_mps": 0.0, "track_altitude_quantum_m": 0.0},
                "reset": [],
                "now": {"track_altitude_quantum_m": 0.0, "track_takeoff_speed_mps": 0.0},
            },
        ),
        (
            "party.feed_set",
            {
                "name": "Drones",
                "set": {},
                "reset": ["track_altitude_quantum_m"],
                "now": {"track_takeoff_speed_mps": 0.0},
            },
        ),
    ]


def test_bad_names_and_values_are_refused_and_change_nothing(tmp_path: Path) -> None:
    url = _store(tmp_path)
    assert run("party", "feed", "Drones", "--set", "track_ground_hold_s=5", "-d", url)[0] == 0
    before = _journal(url)
    for args, message in (
        (["--set", "track_floor_m=10"], "no feed setting 'track_floor_m'; the feed settings are"),
        (["--set", "max_aircraft=10"], "no feed setting 'max_aircraft'"),
        (["--reset", "bogus"], "no feed setting 'bogus'"),
        (["--set", "track_level_vs_mps=-1"], "write NAME=VALUE with a number 0 or more"),
        (["--set", "track_level_vs_mps=fast"], "write NAME=VALUE with a number 0 or more"),
        (["--set", "track_level_vs_mps=inf"], "write NAME=VALUE with a number 0 or more"),
        (["--set", "track_level_vs_mps"], "write NAME=VALUE with a number 0 or more"),
        # One good value beside a bad one: neither is set.
        (["--set", "track_ground_hold_s=9", "--set", "nope=1"], "no feed setting 'nope'"),
    ):
        code, out, err = run("party", "feed", "Drones", *args, "-d", url)
        assert code == 2, (args, out)
        assert message in err, (args, err)
        assert "Traceback" not in out + err
    code, out, err = run("party", "feed", "Nobody", "--set", "track_ground_hold_s=1", "-d", url)
    assert code == 2
    assert "no party named 'Nobody'; list them with 'deconfliction party list'" in err
    assert _journal(url) == before
    code, out, _ = run("party", "feed", "Drones", "-d", url)
    assert _row(out, "track_ground_hold_s") == ["track_ground_hold_s", "5", "20", "yes"]


def test_limits_and_feed_settings_share_the_table_but_not_their_names(tmp_path: Path) -> None:
    url = _store(tmp_path)
    assert run("party", "limits", "Drones", "--set", "max_aircraft=3", "-d", url)[0] == 0
    code, out, _ = run("party", "feed", "Drones", "--set", "track_level_vs_mps=0", "-d", url)
    assert code == 0
    assert "max_aircraft" not in out
    code, out, _ = run("party", "limits", "Drones", "-d", url)
    assert code == 0
    assert _row(out, "max_aircraft") == ["max_aircraft", "3", "5000", "yes"]
    assert "track_level_vs_mps" not in out
    code, _, err = run("party", "limits", "Drones", "--set", "track_level_vs_mps=1", "-d", url)
    assert (code, "no limit 'track_level_vs_mps'; the limits are" in err) == (2, True)
    assert [kind for kind, _ in _journal(url)] == ["party.limits_set", "party.feed_set"]

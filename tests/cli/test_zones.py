"""``deconfliction zones import | list`` on a temporary SQLite store: the summary, the
errors with their line, re-import, the dry run, and exit 2 for what cannot go on."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import func, select
from typer.testing import CliRunner

from deconfliction.cli.app import build
from deconfliction.notices.zones import start_of_day
from deconfliction.store.database import Database
from deconfliction.store.schema import Notice, Volume
from tests.feeds.realdata import shared_file

runner = CliRunner()

ZONES = """\
AC R
AN CLI-R1 RANGE
AL GND
AH FL100
V X=46:00:00 N 014:30:00 E
DC 3

AC UNC
AY TMZ
AN CLI TMZ [EAST]
AL GND
AH 1000FT AGL
DP 46:10:00 N 014:00:00 E
DP 46:10:00 N 014:10:00 E
DP 46:20:00 N 014:10:00 E
DP 46:20:00 N 014:00:00 E

AC UNC
AY Q
AN CLI-D2
AL GND
AH 5000FT AMSL
AA 2026-03-03T08:00Z/2026-03-03T12:00Z
AA 2026-03-05T08:00Z/NONE
V X=45:50:00 N 014:50:00 E
DC 2

AC UNC
AY R
AN CLI-R3 (NOTAM)
AL GND
AH FL195
AA NONE
V X=45:40:00 N 014:20:00 E
DC 2

AC R
AN CLI-BAD BOWTIE
AL GND
AH FL50
DP 46:00:00 N 015:00:00 E
DP 46:10:00 N 015:10:00 E
DP 46:10:00 N 015:00:00 E
DP 46:00:00 N 015:10:00 E
"""
"""Five records: two standing, one with two windows, one AA NONE and a bow tie (its AC
at line 37)."""


@pytest.fixture
def url(tmp_path: Path) -> str:
    """A SQLite store with the authority 'CAA' and the operator 'Ops'."""
    url = f"sqlite:///{tmp_path / 'zones.db'}"
    for name, role in (("CAA", "authority"), ("Ops", "operator")):
        assert _run("party", "add", name, "--role", role, "-d", url).exit_code == 0
    return url


@pytest.fixture
def zones(tmp_path: Path) -> Path:
    path = tmp_path / "zones.openair"
    path.write_text(ZONES)
    return path


def _run(*args: str) -> Result:
    return runner.invoke(build(), list(args))


def _text(result: Result) -> str:
    """The output with every run of white space made one space (the console wraps)."""
    return " ".join(result.output.split())


def _notices(url: str) -> int:
    db = Database(url)
    try:
        with db.read() as session:
            return int(session.scalar(select(func.count()).select_from(Notice)) or 0)
    finally:
        db.dispose()


def _row(output: str, label: str, *counts: int | str) -> bool:
    """Whether the summary has a row ``label │ counts…``."""
    cells = r"\s*│\s*".join(re.escape(str(c)) for c in (label, *counts))
    return re.search(rf"│\s*{cells}\s*│", output) is not None


WEEK = ("--from", "2026-03-02", "--days", "7")


def test_import_files_the_zones_and_a_second_import_files_nothing(url: str, zones: Path) -> None:
    result = _run(
        "zones", "import", str(zones), "-p", "CAA", *WEEK, "--agl-margin-m", "2864", "-d", url
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert _row(out, "filed", 3, 3, 4)
    assert _row(out, "already filed", 0, 0, 0)
    assert _row(out, "skipped: inactive (AA NONE)", 1, "-", "-")
    assert _row(out, "errors: not readable", 1, "-", "-")
    assert _row(out, "line 37", "CLI-BAD BOWTIE")
    assert "polygon ring 0 intersects" in _text(result)
    notes = _text(result)
    assert "horizon 2026-03-02 00:00Z to 2026-03-09 00:00Z (7 days)" in notes
    assert "zones with a ceiling above ground: 1, raised by 2,864 m (--agl-margin-m)" in notes
    assert "conflicts with other parties' notices: 0" in notes
    assert _notices(url) == 3

    again = _run(
        "zones", "import", str(zones), "-p", "CAA", *WEEK, "--agl-margin-m", "2864", "-d", url
    )
    assert again.exit_code == 0, again.output
    assert _row(again.output, "filed", 0, 0, 0)
    assert _row(again.output, "already filed", 3, 3, 4)
    assert _notices(url) == 3

    listed = _run("zones", "list", "-p", "CAA", "-d", url)
    assert listed.exit_code == 0, listed.output
    assert "[EAST]" in listed.output  # names are printed as they are, not as markup
    assert listed.output.count("ntc_") == 3


def test_a_dry_run_files_nothing_and_names_the_default_margin(url: str, zones: Path) -> None:
    result = _run("zones", "import", str(zones), "-p", "CAA", *WEEK, "--dry-run", "-d", url)
    assert result.exit_code == 0, result.output
    assert _row(result.output, "to file (dry run)", 3, 3, 4)
    assert "raised by 8,849 m (the default, Mount Everest" in _text(result)
    assert "conflicts with" not in result.output
    assert _notices(url) == 0


def test_classes_filter_and_the_horizon_defaults_to_today(url: str, zones: Path) -> None:
    before = start_of_day(datetime.now(UTC))
    result = _run(
        "zones", "import", str(zones), "-p", "CAA", "--class", "r,q", "--dry-run", "-d", url
    )
    after = start_of_day(datetime.now(UTC))
    assert result.exit_code == 0, result.output
    assert _row(result.output, "skipped: class not selected", 1, "-", "-")  # the TMZ
    assert any(f"horizon {day:%Y-%m-%d} 00:00Z" in _text(result) for day in (before, after))
    assert "(365 days)" in _text(result)


def test_the_summary_counts_conflicts_with_other_parties_zones(
    url: str, zones: Path, tmp_path: Path
) -> None:
    """A second authority's wide zone over the first's: one conflict per volume met."""
    assert _run("party", "add", "Other CAA", "--role", "authority", "-d", url).exit_code == 0
    assert _run("zones", "import", str(zones), "-p", "CAA", *WEEK, "-d", url).exit_code == 0
    overlapping = tmp_path / "other.geojson"
    overlapping.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"name": "Wide", "lower_m": 0, "upper_m": 500},
                        "geometry": {
                            "type": "Polygon",
                            "coordinates": [
                                [[14, 45.5], [15, 45.5], [15, 46.5], [14, 46.5], [14, 45.5]]
                            ],
                        },
                    }
                ],
            }
        )
    )
    result = _run("zones", "import", str(overlapping), "-p", "Other CAA", *WEEK, "-d", url)
    assert result.exit_code == 0, result.output
    assert _row(result.output, "filed", 1, 1, 1)
    # R1, the TMZ (its ceiling raised above 500 m) and each of CLI-D2's two windows
    assert "conflicts with other parties' notices: 4" in _text(result)


def _floors(url: str) -> list[tuple[float, float | None]]:
    """(lower_m, floor_m) of every stored volume, by lower limit."""
    db = Database(url)
    try:
        with db.read() as session:
            rows = session.execute(select(Volume.lower_m, Volume.floor_m)).all()
            return sorted((float(lower), floor) for lower, floor in rows)
    finally:
        db.dispose()


def test_floor_m_floors_the_zones_from_the_surface(url: str, zones: Path) -> None:
    result = _run("zones", "import", str(zones), "-p", "CAA", *WEEK, "--floor-m", "400", "-d", url)
    assert result.exit_code == 0, result.output
    assert "zones with a floor (floor_m, --floor-m): 3" in _text(result)
    assert _floors(url) == [(400.0, 400.0)] * 4  # every zone of the file is from GND


def test_a_geojson_zone_gives_its_own_floor(url: str, tmp_path: Path) -> None:
    ctr = tmp_path / "ctr.geojson"
    ring = [[14, 46], [14.2, 46], [14.2, 46.2], [14, 46.2], [14, 46]]
    features = [
        {
            "type": "Feature",
            "properties": {"name": name, "lower_m": lower, "upper_m": 1_500, **floor},
            "geometry": {"type": "Polygon", "coordinates": [ring]},
        }
        for name, lower, floor in (("CTR", 432, {"floor_m": 432}), ("TMA", 900, {}))
    ]
    ctr.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    result = _run("zones", "import", str(ctr), "-p", "CAA", *WEEK, "--floor-m", "100", "-d", url)
    assert result.exit_code == 0, result.output
    assert "zones with a floor (floor_m, --floor-m): 1" in _text(result)
    assert _floors(url) == [(432.0, 432.0), (900.0, None)]  # metres AMSL: not the surface


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("missing.openair", "-p", "CAA"), "cannot read"),
        (("{zones}", "-p", "Nobody"), "no party named 'Nobody'"),
        (("{zones}", "-p", "Ops"), "'Ops' is an operator; zones belong to authorities"),
        (("{zones}", "-p", "CAA", "--from", "next week"), "is not a date or time"),
        (("{zones}", "-p", "CAA", "--from", "2026-03-02T08:00"), "has no time zone"),
        (("{zones}", "-p", "CAA", "--max-area-km2", "0"), "must be positive"),
        (("{zones}", "-p", "CAA", "--format", "kml"), "kml"),
        (("{zones}", "-p", "CAA", "--floor-m", "-5000"), "the floor must be -1,000 to"),
    ],
)
def test_what_cannot_go_on_exits_2_and_says_why(
    url: str, zones: Path, args: tuple[str, ...], message: str
) -> None:
    filled = [a.replace("{zones}", str(zones)) for a in args]
    result = _run("zones", "import", *filled, "-d", url)
    assert result.exit_code == 2, result.output
    assert message in _text(result)
    assert _notices(url) == 0


def test_slovenia_through_the_command(url: str) -> None:
    """The eight TMAs whose outlines cross themselves by a few hundred metres are
    repaired (0.007-0.8 km² of 657-9,734 km²) and filed, each repair listed."""
    path = shared_file("airspace", "slovenia.openair")
    args = ("--from", "2025-05-01", "--days", "60", "--agl-margin-m", "2864")
    result = _run("zones", "import", str(path), "-p", "CAA", *args, "-d", url)
    assert result.exit_code == 0, result.output
    out = result.output
    assert _row(out, "filed", 51, 51, 56)
    assert _row(out, "skipped: inactive (AA NONE)", 6, "-", "-")
    assert _row(out, "skipped: no activation in the horizon", 1, "-", "-")
    assert _row(out, "errors: not readable", 0, "-", "-")
    assert "repaired outlines" in out
    assert all(f"line {n} " in out for n in (8, 40, 285, 407, 883, 1094, 1319, 1353))
    assert out.count("largest") == 8
    assert _notices(url) == 51


def test_slovenia_strict_refuses_the_crossed_outlines(url: str) -> None:
    path = shared_file("airspace", "slovenia.openair")
    args = ("--from", "2025-05-01", "--days", "60", "--agl-margin-m", "2864", "--strict")
    result = _run("zones", "import", str(path), "-p", "CAA", *args, "-d", url)
    assert result.exit_code == 0, result.output
    out = result.output
    assert _row(out, "filed", 43, 43, 48)
    assert _row(out, "errors: not readable", 8, "-", "-")
    assert "repaired outlines" not in out
    assert all(f"line {n} " in out for n in (8, 40, 285, 407, 883, 1094, 1319, 1353))
    assert _notices(url) == 43


def test_tighter_repair_limits_refuse_with_the_reason(url: str) -> None:
    path = shared_file("airspace", "slovenia.openair")
    args = ("--from", "2025-05-01", "--days", "60", "--repair-max-km2", "0.1", "--dry-run")
    result = _run("zones", "import", str(path), "-p", "CAA", *args, "-d", url)
    assert result.exit_code == 0, result.output
    # 0.171, 0.171, 0.798 and 0.215 km² are over 0.1 km²: four refused, four repaired.
    assert _row(result.output, "errors: not readable", 4, "-", "-")
    assert result.output.count("--repair-max-km2") == 4  # in each refusal's reason
    assert result.output.count("largest") == 4

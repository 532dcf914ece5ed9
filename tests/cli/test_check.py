"""``deconfliction check FILE.geojson [--json]``: every conflict in a file, offline.

Checked against a brute force (``overlap`` on every pair of features of different
parties) on seeded random collections full of shared edges, stacked bands and
back-to-back windows, and on one hand-written file with a known answer.
"""

from __future__ import annotations

import json
import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from deconfliction.cli import check as check_command
from deconfliction.cli.app import build
from deconfliction.core.footprint import Footprint
from deconfliction.core.volume import Volume4D, overlap
from deconfliction.errors import GeometryError, TimeWindowError, ValidationError
from deconfliction.notices.offline import check_features, read_features
from tests.zoo import FOOTPRINTS, HOUR, T0, box, circle, feature, rfc3339, volume

runner = CliRunner()


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command()(check_command.check)
    return app


def _collection(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


def _write(tmp_path: Path, content: Any, name: str = "volumes.geojson") -> Path:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


# -- the known answer ----------------------------------------------------------------------

KNOWN = _collection(
    # 0: red's square, 0-1500 m, 08:00-09:00
    feature(volume(FOOTPRINTS["square"], 0.0, 1_500.0), "red", "r1"),
    # 1: blue, half over the square, higher and later: meets 0 in 1000-1500 m, 08:30-09:00
    feature(
        volume(
            FOOTPRINTS["square_half_overlapping"], 1_000.0, 3_000.0, T0 + HOUR / 2, T0 + 2 * HOUR
        ),
        "blue",
        "b1",
    ),
    # 2: blue again, east of the square: a shared edge with 0; overlaps 1 (same party)
    feature(volume(FOOTPRINTS["square_east"]), "blue", "b1"),
    # 3: green circle over the square's east edge, stacked on 0 and 2 (1500 m); meets 1
    feature(volume(circle(8.58, 47.45, 3_000.0), 1_500.0, 3_000.0), "green", "g7"),
    # 4: red, where 1 is, back to back after it
    feature(
        volume(
            FOOTPRINTS["square_half_overlapping"], 1_000.0, 3_000.0, T0 + 2 * HOUR, T0 + 3 * HOUR
        ),
        "red",
        "r2",
    ),
)
KNOWN_ANSWER = [
    {
        "a": 0,
        "b": 1,
        "start": "2026-03-02T08:30:00Z",
        "end": "2026-03-02T09:00:00Z",
        "lower_m": 1_000.0,
        "upper_m": 1_500.0,
    },
    {
        "a": 1,
        "b": 3,
        "start": "2026-03-02T08:30:00Z",
        "end": "2026-03-02T09:00:00Z",
        "lower_m": 1_500.0,
        "upper_m": 3_000.0,
    },
]


def test_the_known_file_gives_the_known_answer_as_json(tmp_path: Path) -> None:
    result = runner.invoke(_app(), [str(_write(tmp_path, KNOWN)), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == KNOWN_ANSWER


def test_the_table_names_notices_features_window_and_band(tmp_path: Path) -> None:
    result = runner.invoke(_app(), [str(_write(tmp_path, KNOWN))], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "2 conflicts among 5 volumes" in out
    rows = [line for line in out.splitlines() if "2026-03-02T08:30:00Z" in line]
    cells = [[cell.strip() for cell in row.split("│")[1:-1]] for row in rows]
    window = ["2026-03-02T08:30:00Z", "2026-03-02T09:00:00Z"]
    assert cells == [
        ["0", "red", "r1", "1", "blue", "b1", *window, "1000", "1500"],
        ["1", "blue", "b1", "3", "green", "g7", *window, "1500", "3000"],
    ]


def test_no_conflicts_says_so(tmp_path: Path) -> None:
    quiet = _collection(*KNOWN["features"][:1], *KNOWN["features"][2:3])
    result = runner.invoke(_app(), [str(_write(tmp_path, quiet))])
    assert result.exit_code == 0
    assert "no conflicts among 2 volumes" in result.stdout
    result = runner.invoke(_app(), [str(_write(tmp_path, quiet)), "--json"])
    assert json.loads(result.stdout) == []


def test_the_command_is_registered_in_the_cli(tmp_path: Path) -> None:
    result = runner.invoke(build(), ["check", str(_write(tmp_path, KNOWN)), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == KNOWN_ANSWER


# -- against the brute force -------------------------------------------------------------


def _random_volume(rng: random.Random) -> Volume4D:
    """Boxes on a 0.02° grid (shared edges and corners), circles, bands on a 500 m grid
    (stacked limits), windows on a 30 min grid (back to back), windows up to 40 days."""
    if rng.random() < 0.6:
        footprint: Footprint = box(
            8.0 + 0.02 * rng.randrange(10),
            47.0 + 0.02 * rng.randrange(10),
            0.02 * rng.randint(1, 4),
            0.02 * rng.randint(1, 4),
        )
    else:
        footprint = circle(
            8.0 + 0.2 * rng.random(), 47.0 + 0.2 * rng.random(), rng.uniform(50.0, 8_000.0)
        )
    lower = 500.0 * rng.randrange(6)
    start = T0 + timedelta(minutes=30) * rng.randrange(12)
    length = (
        timedelta(minutes=30) * rng.randint(1, 6)
        if rng.random() < 0.8
        else timedelta(days=rng.randint(1, 40))
    )
    return Volume4D(footprint, lower, lower + 500.0 * rng.randint(1, 3), start, start + length)


def _brute_force(features: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """overlap() on every pair of features of different parties."""
    read = read_features(_collection(*features))
    found = []
    for i, first in enumerate(read):
        for second in read[i + 1 :]:
            if first.party == second.party:
                continue
            o = overlap(first.volume, second.volume)
            if o is not None:
                found.append(
                    {
                        "a": first.index,
                        "b": second.index,
                        "start": rfc3339(o.start),
                        "end": rfc3339(o.end),
                        "lower_m": o.lower_m,
                        "upper_m": o.upper_m,
                    }
                )
    return found


@pytest.mark.parametrize("seed", range(3))
def test_random_collections_agree_with_the_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    parties = ["red", "blue", "green", "amber"]
    features = []
    for k in range(40):
        party = rng.choice(parties)
        features.append(feature(_random_volume(rng), party, f"{party}-{rng.randrange(3)}", k=k))
    expected = _brute_force(features)
    found = [c.to_json() for c in check_features(_collection(*features))]
    assert found == expected
    assert len(expected) >= 10  # the collections are crowded enough to mean something


def test_the_check_reports_parties_and_notices_of_both_sides() -> None:
    found = check_features(KNOWN)
    assert [(c.party_a, c.notice_a, c.party_b, c.notice_b) for c in found] == [
        ("red", "r1", "blue", "b1"),
        ("blue", "b1", "green", "g7"),
    ]


def test_two_parties_may_use_the_same_notice_id() -> None:
    same = _collection(
        feature(volume(FOOTPRINTS["square"]), "red", "n-1"),
        feature(volume(FOOTPRINTS["square"]), "blue", "n-1"),
        feature(volume(FOOTPRINTS["square"]), 7, 12),
    )
    found = check_features(same)
    assert [(c.a, c.b) for c in found] == [(0, 1), (0, 2), (1, 2)]
    assert (found[1].party_b, found[1].notice_b) == ("7", "12")


def test_many_features_show_progress_on_stderr_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(check_command, "PROGRESS_FROM", 3)
    result = runner.invoke(_app(), [str(_write(tmp_path, KNOWN)), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == KNOWN_ANSWER


# -- errors: one line, exit 2 ------------------------------------------------------------


def _broken(index: int, **properties: Any) -> dict[str, Any]:
    """KNOWN with feature ``index``'s properties changed (a value of None removes one)."""
    features = json.loads(json.dumps(KNOWN["features"]))
    props = features[index]["properties"]
    for name, value in properties.items():
        if value is None:
            props.pop(name, None)
        else:
            props[name] = value
    return _collection(*features)


BAD_FILES = {
    "not json": ("{not json", "is not JSON: Expecting property name"),
    "not a collection": (json.dumps({"type": "Feature"}), "is not a GeoJSON FeatureCollection"),
    "features not a list": (
        json.dumps({"type": "FeatureCollection", "features": 3}),
        "features must be a list",
    ),
    "a bad ring": (
        json.dumps(
            _collection(
                *KNOWN["features"][:2],
                {
                    "type": "Feature",
                    "geometry": {"type": "Polygon", "coordinates": [[[8, 47], [9, 47], [9, 48]]]},
                    "properties": KNOWN["features"][0]["properties"],
                },
            )
        ),
        "feature 2: polygon ring 0 is not closed",
    ),
    "a naive start": (json.dumps(_broken(1, start="2026-03-02T08:00:00")), "feature 1: start"),
    "a bad date": (json.dumps(_broken(0, end="tomorrow")), "feature 0: has end 'tomorrow'"),
    "a missing band": (
        json.dumps(_broken(3, lower_m=None, upper_m=None)),
        "feature 3: lacks the properties lower_m, upper_m",
    ),
    "an empty party": (json.dumps(_broken(4, party=" ")), "feature 4: has party ' '"),
    "a radius on a polygon": (
        json.dumps(_broken(0, radius_m=5.0)),
        "feature 0: radius_m applies to a Point",
    ),
    "an upside-down band": (
        json.dumps(_broken(2, lower_m=2_000.0, upper_m=1_000.0)),
        "feature 2: lower_m 2000.0 is not below upper_m 1000.0",
    ),
}


def _one_message(stderr: str) -> str:
    """The error message with the console's line wrapping undone."""
    return " ".join(stderr.split())


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_input_is_one_clear_error_and_exit_2(tmp_path: Path, name: str) -> None:
    content, says = BAD_FILES[name]
    result = runner.invoke(_app(), [str(_write(tmp_path, content)), "--json"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    message = _one_message(result.stderr)
    assert message.startswith("error: ")
    assert " ".join(says.split()) in message
    assert "Traceback" not in result.stderr


def test_a_missing_file_is_one_clear_error_and_exit_2(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.geojson"
    result = runner.invoke(_app(), [str(missing)])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: cannot read {missing}: No such file or directory"


def test_a_long_error_stays_on_one_line(tmp_path: Path) -> None:
    result = runner.invoke(_app(), [str(_write(tmp_path, json.dumps(_broken(1, start="x"))))])
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_brackets_in_an_error_are_printed_as_they_are(tmp_path: Path) -> None:
    features = json.loads(json.dumps(KNOWN["features"]))
    features[2]["geometry"]["coordinates"][0][1] = [8.6]
    result = runner.invoke(_app(), [str(_write(tmp_path, _collection(*features)))])
    assert result.exit_code == 2
    assert "vertex 1 is not a [lon, lat] position" in result.stderr


@pytest.mark.parametrize(
    ("index", "properties", "error"),
    [
        (1, {"start": "2026-03-02T08:00:00"}, TimeWindowError),
        (0, {"end": "2026-03-02T07:00:00Z"}, TimeWindowError),
        (2, {"radius_m": 5.0}, GeometryError),
        (3, {"notice": ["a"]}, ValidationError),
    ],
)
def test_feature_errors_keep_their_kind_and_name_the_feature(
    index: int, properties: dict[str, Any], error: type[ValidationError]
) -> None:
    with pytest.raises(error) as caught:
        read_features(_broken(index, **properties))
    assert caught.value.message.startswith(f"feature {index}: ")
    assert caught.value.detail["feature"] == index

"""``deconfliction detect SNAPSHOT.csv``: the conflicts of a snapshot, as JSON or a table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from deconfliction.cli.app import build

HEADER = "id,lat,lon,alt_m,gs_mps,trk_deg,vs_mps"
# zz and aa fly head-on, 0.2° apart at 49° N; mm sits 1,000 ft above zz, level.
ROWS = [
    "zz,49.0,2.0,10000,200,90,0",
    "aa,49.0,2.2,10000,200,270,0",
    "mm,49.0,2.0,10304.8,200,90,0",
]


def run(tmp_path: Path, lines: list[str], *options: str) -> Any:
    path = tmp_path / "snapshot.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return CliRunner().invoke(build(), ["detect", str(path), *options])


def as_json(tmp_path: Path, lines: list[str], *options: str) -> dict[str, Any]:
    result = run(tmp_path, lines, "--json", *options)
    assert result.exit_code == 0, result.output
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def test_json_lists_each_pair_once_with_a_before_b(tmp_path: Path) -> None:
    out = as_json(tmp_path, [HEADER, *ROWS])
    assert out["n"] == 3
    assert isinstance(out["seconds"], float)
    assert out["seconds"] >= 0.0
    (pair,) = out["pairs"]  # mm is exactly 1,000 ft above zz, level: separated
    assert (pair["a"], pair["b"]) == ("aa", "zz")
    assert pair["los"] is False
    assert pair["tcpa"] == pytest.approx(36.6, abs=0.1)
    assert pair["tin"] == pytest.approx(13.4, abs=0.1)
    assert pair["tout"] == pytest.approx(59.7, abs=0.1)
    assert pair["dcpa"] < 1.0


def test_the_options_set_the_minima_and_look_ahead(tmp_path: Path) -> None:
    assert len(as_json(tmp_path, [HEADER, *ROWS], "--hpz-m", "400")["pairs"]) == 3
    assert as_json(tmp_path, [HEADER, *ROWS], "--lookahead-s", "10")["pairs"] == []
    far = [HEADER, "a,0.0,0.0,3000,0,0,0", "b,0.0,0.15,3000,0,0,0"]  # 16.7 km apart
    assert as_json(tmp_path, far)["pairs"] == []
    (pair,) = as_json(tmp_path, far, "--rpz-m", "20000")["pairs"]
    assert pair["los"] is True
    assert pair["dcpa"] == pytest.approx(16_697.9, abs=1.0)


def test_a_party_column_keeps_only_pairs_of_different_parties(tmp_path: Path) -> None:
    parties = ["AF", "AF", "LH"]  # zz and aa of one party, mm of another
    lines = [HEADER + ",party", *(f"{r},{p}" for r, p in zip(ROWS, parties, strict=True))]
    everyone = as_json(tmp_path, [HEADER, *ROWS], "--hpz-m", "400")["pairs"]
    assert len(everyone) == 3
    pairs = as_json(tmp_path, lines, "--hpz-m", "400")["pairs"]
    assert sorted((p["a"], p["b"]) for p in pairs) == [("aa", "mm"), ("mm", "zz")]


def test_a_pair_that_never_separates_has_no_exit_time(tmp_path: Path) -> None:
    lines = [HEADER, "a,47.0,8.0,3000,150,0,0", "b,47.01,8.0,3000,150,0,0"]
    (pair,) = as_json(tmp_path, lines)["pairs"]
    assert pair["tout"] is None
    assert pair["los"] is True


def test_the_table_names_the_pairs_and_sums_up(tmp_path: Path) -> None:
    result = run(tmp_path, [HEADER, *ROWS])
    assert result.exit_code == 0, result.output
    assert "aa" in result.stdout
    assert "zz" in result.stdout
    assert "3 aircraft, 1 conflict(s), 0 loss(es) of separation now" in result.stdout


@pytest.mark.parametrize(
    ("lines", "options", "fragment"),
    [
        ([HEADER.replace(",alt_m", ""), "a,1,2,3,4,5"], (), "lacks the column(s) alt_m"),
        ([HEADER, "a,49,2,,200,90,0"], (), "line 2: alt_m is empty, not a number"),
        ([HEADER, "a,49,2,high,200,90,0"], (), "line 2: alt_m is 'high', not a number"),
        ([HEADER, ROWS[0], "b,95,2,3000,200,90,0"], (), "line 3 (id 'b'): latitude 95.0"),
        ([HEADER, ROWS[0], ROWS[0]], (), "line 3 (id 'zz'): id 'zz' repeats row 0"),
        ([HEADER, "a,49,2,3000,-5,90,0"], (), "ground speed -5.0 m/s is negative"),
        ([HEADER, *ROWS], ("--lookahead-s", "0"), "lookahead_s must be a positive number"),
        ([HEADER, *ROWS], ("--device", "tpu"), "unknown device 'tpu'"),
    ],
)
def test_bad_input_is_one_clear_error_and_exit_code_2(
    tmp_path: Path, lines: list[str], options: tuple[str, ...], fragment: str
) -> None:
    result = run(tmp_path, lines, *options)
    assert result.exit_code == 2
    assert result.stdout == ""
    message = " ".join(result.stderr.split())  # the console may wrap a long line
    assert message.startswith("error: ")
    assert fragment in message


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(build(), ["detect", str(tmp_path / "nowhere.csv")])
    assert result.exit_code == 2
    assert "cannot read" in result.stderr
    assert "No such file" in " ".join(result.stderr.split())


REPRO = ["A,49.00,2.40,400,70,90,-5", "B,49.00,2.70,400,70,270,-5"]


def test_the_issue_s_repro_is_no_conflict_unless_asked_for_exact_geometry(tmp_path: Path) -> None:
    assert as_json(tmp_path, [HEADER, *REPRO])["pairs"] == []
    (pair,) = as_json(tmp_path, [HEADER, *REPRO], "--exact-geometry")["pairs"]
    assert pair["tin"] == pytest.approx(90.7, abs=0.1)
    # A lower floor (the feed's reference) lets them meet above it.
    assert len(as_json(tmp_path, [HEADER, *REPRO], "--floor-m", "-200")["pairs"]) == 1


def test_the_quantum_and_dead_band_flags(tmp_path: Path) -> None:
    adjacent = ["a,49.0,2.0,10000,200,90,0", "b,49.0,2.2,10297.18,200,270,0"]  # 975 ft
    assert as_json(tmp_path, [HEADER, *adjacent])["pairs"] == []
    assert len(as_json(tmp_path, [HEADER, *adjacent], "--altitude-quantum-m", "0")["pairs"]) == 1
    drifting = ["a,49.0,2.0,10000,200,90,0.3", "b,49.0,2.2,10304.8,200,270,-0.3"]
    assert as_json(tmp_path, [HEADER, *drifting])["pairs"] == []
    assert len(as_json(tmp_path, [HEADER, *drifting], "--level-vs-mps", "0")["pairs"]) == 1


def test_stream_writes_the_same_pairs_as_they_come(tmp_path: Path) -> None:
    lines = [HEADER, *ROWS, "yy,49.0,2.1,10000,200,0,0", "xx,49.1,2.1,10000,200,180,0"]
    whole = as_json(tmp_path, lines)
    streamed = as_json(tmp_path, lines, "--stream")
    assert streamed["n"] == whole["n"]
    assert isinstance(streamed["seconds"], float)
    assert len(whole["pairs"]) > 1

    def key(p: dict[str, Any]) -> tuple[str, str]:
        return p["a"], p["b"]

    assert sorted(streamed["pairs"], key=key) == sorted(whole["pairs"], key=key)


def test_an_onground_column_takes_aircraft_out_and_other_columns_are_ignored(
    tmp_path: Path,
) -> None:
    header = HEADER + ",onground,squawk"
    rows = [ROWS[0] + ",false,7000", ROWS[1] + ",true,7000"]
    assert as_json(tmp_path, [header, *rows])["pairs"] == []
    assert len(as_json(tmp_path, [header, ROWS[0] + ",0,1", ROWS[1] + ",0,2"])["pairs"]) == 1
    result = run(tmp_path, [header, ROWS[0] + ",maybe,1"])
    assert result.exit_code == 2
    assert "line 2: onground is 'maybe'" in " ".join(result.stderr.split())


def test_a_command_is_built_without_the_others() -> None:
    from deconfliction.cli.app import COMMANDS, GROUPS

    only = build("detect")
    assert [c.name for c in only.registered_commands] == ["detect"]
    assert not only.registered_groups
    every = build()
    assert len(every.registered_commands) + len(every.registered_groups) == len(COMMANDS + GROUPS)

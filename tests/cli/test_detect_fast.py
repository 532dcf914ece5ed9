"""The console script's fast start of ``deconfliction detect``: the same result as the
Typer command for every command line it takes, and none of the heavy imports."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from deconfliction.cli.app import build
from deconfliction.cli.detect_run import DEVICE_ENV, fast_main, parse_fast

HEADER = "id,lat,lon,alt_m,gs_mps,trk_deg,vs_mps"
# Far apart, one pair for each option to change: head-on at one level (the minima and
# the look-ahead), at adjacent levels 975 ft apart (the quantum), drifting by 0.3 m/s
# (the dead band), descending through 0 m (the floor).
ROWS = [
    "zz,49.0,2.0,10000,200,90,0",
    "aa,49.0,2.2,10000,200,270,0",
    "q1,40.0,2.0,10000,200,90,0",
    "q2,40.0,2.2,10297.18,200,270,0",
    "d1,30.0,2.0,10000,200,90,0.3",
    "d2,30.0,2.2,10304.8,200,270,-0.3",
    "f1,49.0,20.40,400,70,90,-5",
    "f2,49.0,20.70,400,70,270,-5",
]
SNAPSHOT = "\n".join([HEADER, *ROWS]) + "\n"

# Modules that detect must never load: the geodesy and geometry libraries, the store,
# the web stack, the command-line framework and its console toolkit.
HEAVY = ("pyproj", "shapely", "sqlalchemy", "alembic", "fastapi", "starlette", "pydantic")
HEAVY += ("httpx", "uvicorn", "h3", "typer", "click", "rich")


def _same_output(text: str) -> Any:
    """The output with what differs between two runs (the time taken) left out."""
    try:
        document = json.loads(text)
    except ValueError:
        return re.sub(r"detected in [0-9.]+ ms", "detected in _ ms", text)
    assert isinstance(document, dict)
    document.pop("seconds", None)
    return document


def _both(
    path: Path, args: list[str], capsys: pytest.CaptureFixture[str], env: dict[str, str]
) -> tuple[tuple[int, Any, str], tuple[int, Any, str]]:
    """(exit code, output, error output) of the fast start and of the Typer command."""
    full = [str(path) if a == "FILE" else a for a in args]
    code = fast_main(full, env)
    assert code is not None
    fast = capsys.readouterr()
    typer_run = CliRunner().invoke(build("detect"), ["detect", *full], env=env)
    return (
        (code, _same_output(fast.out), fast.err),
        (typer_run.exit_code, _same_output(typer_run.stdout), typer_run.stderr),
    )


@pytest.mark.parametrize(
    "args",
    [
        ["FILE", "--json"],
        ["--json", "FILE", "--exact-geometry"],
        ["FILE", "--json", "--rpz-m", "20000", "--hpz-m=400", "--lookahead-s", "1e2"],
        ["FILE", "--json", "--altitude-quantum-m", "0", "--level-vs-mps", "0"],
        ["FILE", "--json", "--floor-m", "-200"],
        ["FILE", "--json", "--floor-m", "-200", "--floor-m", "+0.5", "--level-vs-mps", "1E-1"],
        ["FILE", "--json", "--stream"],
        ["FILE"],  # the table
        ["FILE", "--json", "--lookahead-s", "0"],
        ["FILE", "--json", "--device", "tpu"],
        ["FILE", "--json", "--device="],
        ["FILE", "--json", "--device", "--json"],  # Typer takes the next word as the value
    ],
)
def test_the_fast_start_gives_what_the_typer_command_gives(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    path = tmp_path / "snapshot.csv"
    path.write_text(SNAPSHOT, encoding="utf-8")
    fast, typer_run = _both(path, args, capsys, {})
    assert fast == typer_run


def test_the_device_comes_from_the_environment_unless_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "snapshot.csv"
    path.write_text(SNAPSHOT, encoding="utf-8")
    fast, typer_run = _both(path, ["FILE", "--json"], capsys, {DEVICE_ENV: "tpu"})
    assert fast == typer_run
    assert fast[0] == 2
    assert "unknown device 'tpu'" in fast[2]
    fast, typer_run = _both(path, ["FILE", "--json", "--device", "cpu"], capsys, {DEVICE_ENV: "x"})
    assert fast == typer_run
    assert fast[0] == 0


@pytest.mark.parametrize(
    "lines",
    [
        [HEADER, "a,49,2,high,200,90,0"],
        [HEADER, ROWS[0], ROWS[0]],
        [HEADER.replace(",alt_m", ""), "a,1,2,3,4,5"],
        [HEADER + ",onground", ROWS[0] + ",maybe"],
    ],
)
def test_a_bad_file_is_the_same_error_line_and_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lines: list[str]
) -> None:
    path = tmp_path / "snapshot.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    fast, typer_run = _both(path, ["FILE", "--json"], capsys, {})
    assert fast == typer_run
    assert fast[0] == 2
    assert fast[2].startswith("error: ")
    fast, typer_run = _both(tmp_path / "nowhere.csv", ["FILE"], capsys, {})
    assert fast == typer_run
    assert "cannot read" in fast[2]


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["FILE", "--json", "--help"],
        ["FILE", "--rpz"],  # no prefixes of options
        ["FILE", "--json=1"],  # a flag takes no value
        ["FILE", "--rpz-m"],  # a value is missing
        ["FILE", "--rpz-m", "inf"],  # numbers Typer reads its own way
        ["FILE", "--rpz-m", "1_000"],
        ["FILE", "--rpz-m", " 5"],
        ["FILE", "--rpz-m", "0x10"],
        ["FILE", "other.csv"],
        [],
        ["-", "--json"],
        ["--", "FILE"],
    ],
)
def test_what_it_does_not_read_exactly_as_typer_is_left_to_typer(args: list[str]) -> None:
    assert parse_fast(args, {}) is None
    assert fast_main(args, {}) is None


def test_a_shell_completion_request_is_left_to_typer() -> None:
    assert parse_fast(["FILE"], {}) is not None
    assert parse_fast(["FILE"], {"_DECONFLICTION_COMPLETE": "bash_complete"}) is None


_WORDS = st.sampled_from(
    [
        "--json",
        "--stream",
        "--exact-geometry",
        "--rpz-m",
        "--hpz-m",
        "--lookahead-s",
        "--altitude-quantum-m",
        "--level-vs-mps",
        "--floor-m",
        "--device",
        "--floor-m=-150",
        "--rpz-m=1.2e4",
        "cpu",
        "auto",
        "0",
        "-200",
        "500",
        "2.5",
        ".5",
        "7.",
        "1E3",
        "+60",
        "inf",
        "x",
    ]
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(words=st.lists(_WORDS, max_size=7), at=st.integers(min_value=0, max_value=7))
def test_any_command_line_it_takes_runs_as_the_typer_command_would(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], words: list[str], at: int
) -> None:
    path = tmp_path / "snapshot.csv"
    path.write_text(SNAPSHOT, encoding="utf-8")
    capsys.readouterr()
    args = [*words[:at], "FILE", *words[at:]]
    if parse_fast([str(path) if a == "FILE" else a for a in args], {}) is None:
        return  # Typer's alone: nothing to compare
    fast, typer_run = _both(path, args, capsys, {})
    assert fast == typer_run


def test_detect_in_a_fresh_process_loads_none_of_the_heavy_modules(tmp_path: Path) -> None:
    path = tmp_path / "snapshot.csv"
    path.write_text(SNAPSHOT, encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "deconfliction", "detect", str(path), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert [(p["a"], p["b"]) for p in json.loads(run.stdout)["pairs"]] == [("aa", "zz")]
    imported = {
        line.split("|")[-1].strip().split(".")[0]
        for line in run.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "numpy" in imported  # the listing is read right
    assert "deconfliction" in imported
    assert sorted(imported.intersection(HEAVY)) == []

"""Snapshot CSV files of ``detect``: the bulk split reads every file as the ``csv`` module."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deconfliction.cli.snapshot import _columns, read_snapshot
from deconfliction.errors import ValidationError

HEADER = "id,lat,lon,alt_m,gs_mps,trk_deg,vs_mps"


def by_csv_module(path: Path) -> tuple[list[str], int, list[list[str]]]:
    """The reference: header, row count and columns (``""`` for a missing cell)."""
    with path.open(newline="", encoding="utf-8") as stream:
        rows = list(csv.reader(stream))
    header = rows[0] if rows else []
    body = [row for row in rows[1:] if row]
    columns = [[row[k] if k < len(row) else "" for row in body] for k in range(len(header))]
    return header, len(body), columns


_CELLS = st.text(alphabet=st.sampled_from(list('ab1., -"\t')), max_size=4)
_ENDS = st.sampled_from(["\n", "\r\n", "\r", ""])


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    lines=st.lists(st.tuples(st.lists(_CELLS, max_size=5), _ENDS), max_size=6),
    width=st.integers(min_value=0, max_value=4),
)
def test_every_file_is_split_as_the_csv_module_splits_it(
    tmp_path: Path, lines: list[tuple[list[str], str]], width: int
) -> None:
    header = ",".join(f"h{k}" for k in range(width)) + "\n" if width else ""  # 0: any line
    text = header + "".join(",".join(cells) + end for cells, end in lines)
    path = tmp_path / "snapshot.csv"
    path.write_bytes(text.encode("utf-8"))
    assert _columns(path) == by_csv_module(path)


@pytest.mark.parametrize("end", ["\n", "\r\n"])
def test_plain_and_quoted_files_give_the_same_state(tmp_path: Path, end: str) -> None:
    plain = [HEADER + ",party", "a1,49.0,2.0,3000,200,90,0,AF", "b2,49.1,2.1,3100,210,91,1,LH"]
    quoted = [HEADER + ",party", '"a1",49.0,2.0,3000,200,90,0,"AF"', "b2,49.1,2.1,3100,210,91,1,LH"]
    states = []
    for name, lines in (("plain", plain), ("quoted", quoted)):
        path = tmp_path / f"{name}.csv"
        path.write_bytes(end.join(lines).encode("utf-8") + end.encode())
        states.append(read_snapshot(path))
    for field in ("ids", "party", "lon", "lat", "alt_m", "gs_mps", "trk_deg", "vs_mps"):
        np.testing.assert_array_equal(getattr(states[0], field), getattr(states[1], field))
    assert states[0].ids.tolist() == ["a1", "b2"]


def test_short_rows_are_empty_cells_and_extra_cells_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "snapshot.csv"
    path.write_text(
        HEADER + ",squawk\n" + "a,49,2,3000,200,90,0,7000,x\n" + "b,49,2.1,3000,200,90\n",
        encoding="utf-8",
    )
    with pytest.raises(ValidationError, match=r"line 3: vs_mps is empty, not a number"):
        read_snapshot(path)


def test_bytes_that_are_not_utf8_say_where(tmp_path: Path) -> None:
    path = tmp_path / "snapshot.csv"
    path.write_bytes(HEADER.encode() + b"\na,49,2,3000,200,90,\xff\n")
    with pytest.raises(ValidationError, match=r"is not a readable UTF-8 CSV file: .*0xff"):
        read_snapshot(path)

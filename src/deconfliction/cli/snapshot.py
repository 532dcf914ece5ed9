"""Snapshot CSV files of ``deconfliction detect``: read in bulk into a :class:`TrafficState`.

The header names ``id,lat,lon,alt_m,gs_mps,trk_deg,vs_mps`` (SI units, track in
degrees true), in any order, and optionally ``party`` (only pairs of different parties
count; without it every pair does) and ``onground`` (``true``/``1``: reported on the
ground); other columns are ignored. Every problem names the file and the line.

A plain file (no quotes, no carriage returns but ``\\r\\n`` line ends, no NUL, no cell
longer than the ``csv`` module's limit) is split with ``str.split`` and its number
columns converted by NumPy a column at a time; any other file is read by the ``csv``
module, row by row, as it always was. Both give the same columns for the same file.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from deconfliction.errors import ValidationError
from deconfliction.tactical.state import TrafficState, row_rejections

__all__ = ["COLUMNS", "read_snapshot"]

COLUMNS = ("id", "lat", "lon", "alt_m", "gs_mps", "trk_deg", "vs_mps")
_NUMBERS = COLUMNS[1:]
_SHOWN = 5
_TRUE = frozenset({"true", "1", "yes", "t", "y"})
_FALSE = frozenset({"false", "0", "no", "f", "n", ""})


def _csv_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """The header and the non-empty rows, by the ``csv`` module."""
    try:
        with path.open(newline="", encoding="utf-8") as stream:
            reader = csv.reader(stream)
            header = next(reader, [])
            rows = [row for row in reader if row]
    except OSError as exc:
        raise ValidationError(f"cannot read {path}: {exc.strerror}; give a snapshot CSV") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ValidationError(f"{path} is not a readable UTF-8 CSV file: {exc}") from None
    return header, rows


def _text(path: Path) -> str | None:
    """The file's text with ``\\n`` line ends when ``str.split`` reads it as the ``csv``
    module would; ``None`` when only the ``csv`` module can (or the bytes are not UTF-8:
    it then says where)."""
    try:
        with path.open(newline="", encoding="utf-8") as stream:
            text = stream.read()
    except OSError as exc:
        raise ValidationError(f"cannot read {path}: {exc.strerror}; give a snapshot CSV") from None
    except UnicodeDecodeError:
        return None
    if '"' in text or "\0" in text:
        return None
    if "\r" in text:
        if text.count("\r") != text.count("\r\n"):
            return None
        text = text.replace("\r\n", "\n")
    limit = csv.field_size_limit()
    if len(text) > limit and max(map(len, text.split("\n"))) > limit:
        return None
    return text


def _columns(path: Path) -> tuple[list[str], int, list[list[str]]]:
    """The header, the number of rows and every column of cells (``""`` where a short
    row has none), as the ``csv`` module would split them."""
    text = _text(path)
    if text is None:
        header, rows = _csv_rows(path)
    else:
        lines = [line for line in text.split("\n") if line]
        if not text.startswith("\n") and lines:
            header, lines = lines[0].split(","), lines[1:]
        else:  # an empty first line is an empty header
            header = []
        width = len(header)
        if {line.count(",") for line in lines} <= {width - 1}:
            cells = ",".join(lines).split(",") if lines else []
            return header, len(lines), [cells[k::width] for k in range(width)]
        rows = [line.split(",") for line in lines]
    columns = [[row[k] if k < len(row) else "" for row in rows] for k in range(len(header))]
    return header, len(rows), columns


def _numbers(path: Path, name: str, cells: list[str]) -> np.ndarray[Any, Any]:
    """A number column, converted at once; the first bad cell names its line."""
    try:
        return np.array(cells, dtype=np.float64)
    except ValueError:
        for line, cell in enumerate(cells, start=2):
            text = cell.strip()
            try:
                float(text)
            except ValueError:
                hint = " (an aircraft on the ground? drop the row)" if name == "alt_m" else ""
                shown = repr(text) if text else "empty"
                raise ValidationError(
                    f"{path}, line {line}: {name} is {shown}, not a number{hint}"
                ) from None
        raise


def _flags(path: Path, cells: list[str]) -> np.ndarray[Any, Any]:
    words = [c.strip().lower() for c in cells]
    for line, word in enumerate(words, start=2):
        if word not in _TRUE and word not in _FALSE:
            raise ValidationError(
                f"{path}, line {line}: onground is {word!r}; give true or false (or 1 or 0)"
            )
    return np.array([w in _TRUE for w in words], dtype=bool)


def read_snapshot(path: Path) -> TrafficState:
    """The traffic state in a snapshot CSV; every problem names the file and line."""
    header, n, cells = _columns(path)
    names = [h.strip() for h in header]
    missing = [name for name in COLUMNS if name not in names]
    if missing:
        raise ValidationError(
            f"{path} lacks the column(s) {', '.join(missing)}; the header must name "
            f"{','.join(COLUMNS)} (and optionally party, onground)"
        )
    index = {name: k for k, name in enumerate(names)}

    def stripped(name: str) -> list[str]:
        return [cell.strip() for cell in cells[index[name]]]

    columns: dict[str, Any] = {name: _numbers(path, name, cells[index[name]]) for name in _NUMBERS}
    columns["ids"] = stripped("id")
    if "party" in index:
        _, codes = np.unique(np.array(stripped("party")), return_inverse=True)
        columns["party"] = codes.reshape(-1).astype(np.int64)
    else:
        columns["party"] = np.arange(n, dtype=np.int64)
    if "onground" in index:
        columns["on_ground"] = _flags(path, stripped("onground"))
    try:
        return TrafficState(**columns)
    except ValidationError:
        rejected = row_rejections(**columns)
        if not rejected:
            raise
    shown = "; ".join(f"line {r.row + 2} (id {r.id!r}): {r.reason}" for r in rejected[:_SHOWN])
    more = f"; and {len(rejected) - _SHOWN} more" if len(rejected) > _SHOWN else ""
    raise ValidationError(f"{path}: {shown}{more}")

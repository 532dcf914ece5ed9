"""``deconfliction detect``: the conflicts in one snapshot of traffic, from a CSV file.

The snapshot has the header ``id,lat,lon,alt_m,gs_mps,trk_deg,vs_mps`` (SI units,
track in degrees true) and optionally a ``party`` column (only pairs of different
parties count; without it every pair does) and an ``onground`` column (``true``/``1``:
reported on the ground, no part in prediction); other columns are ignored. States are
read with the feed model (floor, altitude quantum, level dead band; see the options;
``--exact-geometry`` for the states as given). ``--json`` prints::

    {"n": N, "seconds": detection time,
     "pairs": [{"a": id, "b": id, "tcpa": s, "dcpa": m, "tin": s, "tout": s, "los": bool}]}

with ``a < b`` (as strings), the most urgent pair first; ``tout`` is ``null`` when
straight flight never separates the pair. ``--stream`` writes the same document as the
pairs are found, chunk by chunk (in no particular order, ``seconds`` last), so a file
with millions of pairs is written in bounded memory.

Built to start fast on big files: the CSV is read in bulk (the ``csv`` module and
NumPy, not row by row), nothing of the store or the web stack is imported, and the JSON
is written as it is produced.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import typer

from deconfliction.cli.context import console, errors_as_exit
from deconfliction.errors import ValidationError
from deconfliction.tactical import (
    ConflictSet,
    DetectionParams,
    TrafficState,
    row_rejections,
    select_backend,
)
from deconfliction.tactical.backend import DEVICES
from deconfliction.tactical.detect import detect as detect_conflicts
from deconfliction.tactical.detect import detect_chunks
from deconfliction.tactical.params import (
    DEFAULT_HPZ_M,
    DEFAULT_LOOKAHEAD_S,
    DEFAULT_RPZ_M,
    EXACT,
    FEED_MODEL,
)

__all__ = ["COLUMNS", "detect", "read_snapshot"]

COLUMNS = ("id", "lat", "lon", "alt_m", "gs_mps", "trk_deg", "vs_mps")
_NUMBERS = COLUMNS[1:]
_SHOWN = 5
_TRUE = frozenset({"true", "1", "yes", "t", "y"})
_FALSE = frozenset({"false", "0", "no", "f", "n", ""})


def _numbers(path: Path, rows: list[list[str]], index: dict[str, int]) -> dict[str, Any]:
    """The number columns, converted at once; the first bad cell names its line."""
    values: dict[str, Any] = {}
    for name in _NUMBERS:
        k = index[name]
        cells = [row[k] if k < len(row) else "" for row in rows]
        try:
            values[name] = np.array(cells, dtype=np.float64)
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
    return values


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
    try:
        with path.open(newline="", encoding="utf-8") as stream:
            reader = csv.reader(stream)
            header = [h.strip() for h in next(reader, [])]
            rows = [row for row in reader if row]
    except OSError as exc:
        raise ValidationError(f"cannot read {path}: {exc.strerror}; give a snapshot CSV") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ValidationError(f"{path} is not a readable UTF-8 CSV file: {exc}") from None
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        raise ValidationError(
            f"{path} lacks the column(s) {', '.join(missing)}; the header must name "
            f"{','.join(COLUMNS)} (and optionally party, onground)"
        )
    index = {name: k for k, name in enumerate(header)}

    def cells(name: str) -> list[str]:
        k = index[name]
        return [row[k].strip() if k < len(row) else "" for row in rows]

    columns: dict[str, Any] = _numbers(path, rows, index)
    columns["ids"] = cells("id")
    if "party" in index:
        _, codes = np.unique(np.array(cells("party")), return_inverse=True)
        columns["party"] = codes.reshape(-1).astype(np.int64)
    else:
        columns["party"] = np.arange(len(rows), dtype=np.int64)
    if "onground" in index:
        columns["on_ground"] = _flags(path, cells("onground"))
    rejected = row_rejections(**columns)
    if rejected:
        shown = "; ".join(f"line {r.row + 2} (id {r.id!r}): {r.reason}" for r in rejected[:_SHOWN])
        more = f"; and {len(rejected) - _SHOWN} more" if len(rejected) > _SHOWN else ""
        raise ValidationError(f"{path}: {shown}{more}")
    return TrafficState(**columns)


def _json_pairs(state: TrafficState, found: ConflictSet, names: list[str]) -> Iterator[str]:
    """One JSON object per pair, in the set's order; ``names`` are the ids as JSON."""
    swap = state.ids[found.i] > state.ids[found.j]
    a = np.where(swap, found.j, found.i).tolist()
    b = np.where(swap, found.i, found.j).tolist()
    for ka, kb, tcpa, dcpa, tin, tout, los in zip(
        a,
        b,
        found.tcpa.tolist(),
        found.dcpa.tolist(),
        found.tin.tolist(),
        found.tout.tolist(),
        found.los.tolist(),
        strict=True,
    ):
        end = "null" if tout == float("inf") else repr(tout)
        yield (
            f'{{"a": {names[ka]}, "b": {names[kb]}, "tcpa": {tcpa!r}, "dcpa": {dcpa!r}, '
            f'"tin": {tin!r}, "tout": {end}, "los": {"true" if los else "false"}}}'
        )


def _write_json(
    state: TrafficState, parts: Iterable[ConflictSet], seconds: float | None = None
) -> float:
    """Write the JSON document, each part's pairs as it comes; returns the seconds the
    parts took to produce (``seconds`` when given: they were produced already)."""
    out = sys.stdout
    names = [json.dumps(i) for i in state.ids.tolist()]
    out.write(f'{{"n": {len(state)}, ')
    if seconds is not None:
        out.write(f'"seconds": {seconds!r}, ')
    out.write('"pairs": [')
    first = True
    spent = 0.0
    started = time.perf_counter()
    for part in parts:
        spent += time.perf_counter() - started
        text = ", ".join(_json_pairs(state, part, names))
        if text:
            out.write(text if first else ", " + text)
            first = False
        started = time.perf_counter()
    spent += time.perf_counter() - started
    if seconds is None:
        out.write(f'], "seconds": {spent!r}}}\n')
        return spent
    out.write("]}\n")
    return seconds


def _urgent_first(found: ConflictSet) -> ConflictSet:
    return found.where(np.lexsort((found.j, found.i, found.tin)))


def _table(state: TrafficState, found: ConflictSet, seconds: float) -> None:
    from rich.table import Table  # only the table needs it

    table = Table("a", "b", "tin s", "tout s", "tcpa s", "dcpa m", "now")
    names = [json.dumps(i) for i in state.ids.tolist()]
    for text in _json_pairs(state, found, names):
        p = json.loads(text)
        table.add_row(
            p["a"],
            p["b"],
            f"{p['tin']:.0f}",
            "never" if p["tout"] is None else f"{p['tout']:.0f}",
            f"{p['tcpa']:.0f}",
            f"{p['dcpa']:.0f}",
            "[bold red]LOSS[/]" if p["los"] else "",
        )
    if len(found):
        console.print(table)
    console.print(
        f"{len(state)} aircraft, {len(found)} conflict(s), {int(found.los.sum())} loss(es) "
        f"of separation now; detected in {seconds * 1000:.1f} ms"
    )


def detect(
    snapshot: Path = typer.Argument(
        ..., help="CSV: id,lat,lon,alt_m,gs_mps,trk_deg,vs_mps[,party]."
    ),
    rpz_m: float = typer.Option(DEFAULT_RPZ_M, "--rpz-m", help="Protected-zone radius, metres."),
    hpz_m: float = typer.Option(
        DEFAULT_HPZ_M, "--hpz-m", help="Protected-zone half-height, metres."
    ),
    lookahead_s: float = typer.Option(
        DEFAULT_LOOKAHEAD_S, "--lookahead-s", help="Look-ahead, seconds."
    ),
    altitude_quantum_m: float = typer.Option(
        FEED_MODEL.altitude_quantum_m,
        "--altitude-quantum-m",
        help="Altitude resolution of the source, metres: separated when |dz| >= H - Q "
        "(0: exact geometry).",
    ),
    level_vs_mps: float = typer.Option(
        FEED_MODEL.level_vs_mps,
        "--level-vs-mps",
        help="Vertical speeds within this band (m/s) are level flight (0: exact).",
    ),
    floor_m: float | None = typer.Option(
        FEED_MODEL.floor_m,
        "--floor-m",
        help="Floor, metres: descents land there (with --exact-geometry: none).",
    ),
    exact_geometry: bool = typer.Option(
        False,
        "--exact-geometry",
        help="Exact geometry on the states as given: no floor, quantum, dead band or "
        "ground rule (an onground column is still honoured).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    stream: bool = typer.Option(
        False,
        "--stream",
        help="Print the JSON as the pairs are found, in bounded memory (in no particular "
        "order; for files with millions of pairs).",
    ),
    device: str = typer.Option(
        "cpu",
        "--device",
        envvar="DECONFLICTION_TACTICAL_DEVICE",
        help=f"Where the pairwise work runs: {', '.join(DEVICES)} (gpu needs CuPy).",
    ),
) -> None:
    """Print the predicted losses of separation in one snapshot of traffic."""
    with errors_as_exit():
        model = (
            EXACT
            if exact_geometry
            else replace(
                FEED_MODEL,
                floor_m=floor_m,
                altitude_quantum_m=altitude_quantum_m,
                level_vs_mps=level_vs_mps,
            )
        )
        params = DetectionParams(rpz_m=rpz_m, hpz_m=hpz_m, lookahead_s=lookahead_s, model=model)
        backend = select_backend(device)
        state = read_snapshot(snapshot)
        if stream:
            _write_json(state, detect_chunks(state, params, backend))
            return
        started = time.perf_counter()
        found = _urgent_first(detect_conflicts(state, params, backend))
        seconds = time.perf_counter() - started
    if as_json:
        _write_json(state, [found], seconds)
    else:
        _table(state, found, seconds)

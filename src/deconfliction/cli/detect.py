"""``deconfliction detect``: the conflicts in one snapshot of traffic, from a CSV file.

The snapshot has the header ``id,lat,lon,alt_m,gs_mps,trk_deg,vs_mps`` (SI units,
track in degrees true) and optionally a ``party`` column; other columns are ignored.
With ``party`` only pairs of different parties count, without it every pair does.
``--json`` prints::

    {"n": N, "seconds": detection time,
     "pairs": [{"a": id, "b": id, "tcpa": s, "dcpa": m, "tin": s, "tout": s, "los": bool}]}

with ``a < b`` (as strings), the most urgent pair first; ``tout`` is ``null`` when
straight flight never separates the pair.
"""

from __future__ import annotations

import csv
import json
import math
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import typer
from rich.table import Table

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


def _numbers(path: Path, rows: list[dict[str, str]]) -> dict[str, list[float]]:
    values: dict[str, list[float]] = {name: [] for name in _NUMBERS}
    for k, row in enumerate(rows):
        for name in _NUMBERS:
            text = (row.get(name) or "").strip()
            try:
                values[name].append(float(text))
            except ValueError:
                hint = " (an aircraft on the ground? drop the row)" if name == "alt_m" else ""
                shown = repr(text) if text else "empty"
                raise ValidationError(
                    f"{path}, line {k + 2}: {name} is {shown}, not a number{hint}"
                ) from None
    return values


def read_snapshot(path: Path) -> TrafficState:
    """The traffic state in a snapshot CSV; every problem names the file and line."""
    try:
        with path.open(newline="", encoding="utf-8") as stream:
            reader = csv.DictReader(stream)
            header = [h.strip() for h in reader.fieldnames or []]
            reader.fieldnames = header
            rows = list(reader)
    except OSError as exc:
        raise ValidationError(f"cannot read {path}: {exc.strerror}; give a snapshot CSV") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ValidationError(f"{path} is not a readable UTF-8 CSV file: {exc}") from None
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        raise ValidationError(
            f"{path} lacks the column(s) {', '.join(missing)}; the header must name "
            f"{','.join(COLUMNS)} (and optionally party)"
        )
    columns: dict[str, Any] = _numbers(path, rows)
    columns["ids"] = [row["id"].strip() for row in rows]
    if "party" in header:
        names = [(row.get("party") or "").strip() for row in rows]
        codes: dict[str, int] = {}
        columns["party"] = [codes.setdefault(name, len(codes)) for name in names]
    else:
        columns["party"] = list(range(len(rows)))
    rejected = row_rejections(**columns)
    if rejected:
        shown = "; ".join(f"line {r.row + 2} (id {r.id!r}): {r.reason}" for r in rejected[:_SHOWN])
        more = f"; and {len(rejected) - _SHOWN} more" if len(rejected) > _SHOWN else ""
        raise ValidationError(f"{path}: {shown}{more}")
    return TrafficState(**columns)


def _pairs(state: TrafficState, found: ConflictSet) -> list[dict[str, Any]]:
    pairs = []
    for k in np.lexsort((found.j, found.i, found.tin)).tolist():
        a, b = str(state.ids[found.i[k]]), str(state.ids[found.j[k]])
        tout = float(found.tout[k])
        pairs.append(
            {
                "a": min(a, b),
                "b": max(a, b),
                "tcpa": float(found.tcpa[k]),
                "dcpa": float(found.dcpa[k]),
                "tin": float(found.tin[k]),
                "tout": tout if math.isfinite(tout) else None,
                "los": bool(found.los[k]),
            }
        )
    return pairs


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
        started = time.perf_counter()
        found = detect_conflicts(state, params, backend)
        seconds = time.perf_counter() - started
    pairs = _pairs(state, found)
    if as_json:
        print(json.dumps({"n": len(state), "seconds": seconds, "pairs": pairs}))
        return
    table = Table("a", "b", "tin s", "tout s", "tcpa s", "dcpa m", "now")
    for p in pairs:
        tout = "never" if p["tout"] is None else f"{p['tout']:.0f}"
        table.add_row(
            p["a"],
            p["b"],
            f"{p['tin']:.0f}",
            tout,
            f"{p['tcpa']:.0f}",
            f"{p['dcpa']:.0f}",
            "[bold red]LOSS[/]" if p["los"] else "",
        )
    if pairs:
        console.print(table)
    losses = sum(p["los"] for p in pairs)
    console.print(
        f"{len(state)} aircraft, {len(pairs)} conflict(s), {losses} loss(es) of separation now; "
        f"detected in {seconds * 1000:.1f} ms"
    )

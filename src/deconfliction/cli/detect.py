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

Built to start fast on big files: the console script runs ``deconfliction detect``
without Typer (:func:`~deconfliction.cli.detect_run.fast_main`), the CSV is read in
bulk (:mod:`~deconfliction.cli.snapshot`), nothing of the store, the web stack, pyproj
or shapely is imported, and the JSON is written as it is produced. This module is the
Typer command: its options, its help, and what ``deconfliction --help`` lists.
"""

from __future__ import annotations

from pathlib import Path

import typer

from deconfliction.cli.context import errors_as_exit
from deconfliction.cli.detect_run import DEVICE_ENV, DetectOptions, run
from deconfliction.tactical.backend import DEVICES
from deconfliction.tactical.params import (
    DEFAULT_HPZ_M,
    DEFAULT_LOOKAHEAD_S,
    DEFAULT_RPZ_M,
    FEED_MODEL,
)

__all__ = ["detect"]


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
        envvar=DEVICE_ENV,
        help=f"Where the pairwise work runs: {', '.join(DEVICES)} (gpu needs CuPy).",
    ),
) -> None:
    """Print the predicted losses of separation in one snapshot of traffic."""
    options = DetectOptions(
        snapshot=snapshot,
        rpz_m=rpz_m,
        hpz_m=hpz_m,
        lookahead_s=lookahead_s,
        altitude_quantum_m=altitude_quantum_m,
        level_vs_mps=level_vs_mps,
        floor_m=floor_m,
        exact_geometry=exact_geometry,
        as_json=as_json,
        stream=stream,
        device=device,
    )
    with errors_as_exit():
        run(options)

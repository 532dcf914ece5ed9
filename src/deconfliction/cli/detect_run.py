"""What ``deconfliction detect`` does, without the command-line framework.

:func:`run` reads the snapshot, detects and writes the result; the Typer command
(:mod:`deconfliction.cli.detect`) and the console script's fast start
(:func:`fast_main`) both call it. Nothing on the way imports Typer, Rich, pyproj,
shapely, the store or the web stack: a big file costs the interpreter, NumPy, the
tactical engine, the read, the detection and the writing. (Rich is imported to draw
the table, and to print an error.)

:func:`fast_main` takes only a command line it reads exactly as Typer would: the
options of ``detect``, as ``--name value`` or ``--name=value`` (the last one wins),
numbers in plain or exponent notation, and one file. Anything else (``--help``, an
unknown option, a value Typer might read otherwise or refuse, a shell-completion
request) gives ``None``, and the console script hands the command line to Typer, so
help, usage errors and their exit codes stay Typer's.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from deconfliction.cli.snapshot import read_snapshot
from deconfliction.errors import DeconflictionError
from deconfliction.tactical.backend import select_backend
from deconfliction.tactical.conflicts import ConflictSet
from deconfliction.tactical.detect import detect, detect_chunks
from deconfliction.tactical.params import (
    DEFAULT_HPZ_M,
    DEFAULT_LOOKAHEAD_S,
    DEFAULT_RPZ_M,
    EXACT,
    FEED_MODEL,
    DetectionParams,
)
from deconfliction.tactical.state import TrafficState

__all__ = ["DEVICE_ENV", "DetectOptions", "fast_main", "parse_fast", "run"]

DEVICE_ENV = "DECONFLICTION_TACTICAL_DEVICE"
"""The environment variable that gives ``--device`` when the option is not given."""


@dataclass(frozen=True)
class DetectOptions:
    """The command's options, in metres, seconds and metres per second."""

    snapshot: Path
    rpz_m: float = DEFAULT_RPZ_M
    hpz_m: float = DEFAULT_HPZ_M
    lookahead_s: float = DEFAULT_LOOKAHEAD_S
    altitude_quantum_m: float = FEED_MODEL.altitude_quantum_m
    level_vs_mps: float = FEED_MODEL.level_vs_mps
    floor_m: float | None = FEED_MODEL.floor_m
    exact_geometry: bool = False
    as_json: bool = False
    stream: bool = False
    device: str = "cpu"


def run(options: DetectOptions) -> None:
    """Read, detect, write to standard output; a problem is a :class:`DeconflictionError`
    raised before anything is written."""
    model = (
        EXACT
        if options.exact_geometry
        else replace(
            FEED_MODEL,
            floor_m=options.floor_m,
            altitude_quantum_m=options.altitude_quantum_m,
            level_vs_mps=options.level_vs_mps,
        )
    )
    params = DetectionParams(
        rpz_m=options.rpz_m, hpz_m=options.hpz_m, lookahead_s=options.lookahead_s, model=model
    )
    backend = select_backend(options.device)
    state = read_snapshot(options.snapshot)
    if options.stream:
        _write_json(state, detect_chunks(state, params, backend))
        return
    started = time.perf_counter()
    found = _urgent_first(detect(state, params, backend))
    seconds = time.perf_counter() - started
    if options.as_json:
        _write_json(state, [found], seconds)
    else:
        _table(state, found, seconds)


def _json_pairs(
    state: TrafficState, found: ConflictSet, ids: list[str], names: dict[int, str]
) -> Iterator[str]:
    """One JSON object per pair, in the set's order, ``a < b`` (as strings); ``names``
    holds the ids made JSON so far (by row), and gains those of these pairs."""
    swap = state.ids[found.i] > state.ids[found.j]
    a = np.where(swap, found.j, found.i).tolist()
    b = np.where(swap, found.i, found.j).tolist()
    for row in set(a).union(b).difference(names):
        names[row] = json.dumps(ids[row])
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
) -> None:
    """Write the JSON document, each part's pairs as it comes; ``seconds`` when the parts
    were produced already, else the time spent producing them, written last."""
    out = sys.stdout
    ids: list[str] = state.ids.tolist()
    names: dict[int, str] = {}
    out.write(f'{{"n": {len(state)}, ')
    if seconds is not None:
        out.write(f'"seconds": {seconds!r}, ')
    out.write('"pairs": [')
    first = True
    spent = 0.0
    started = time.perf_counter()
    for part in parts:
        spent += time.perf_counter() - started
        text = ", ".join(_json_pairs(state, part, ids, names))
        if text:
            out.write(text if first else ", " + text)
            first = False
        started = time.perf_counter()
    spent += time.perf_counter() - started
    if seconds is None:
        out.write(f'], "seconds": {spent!r}}}\n')
    else:
        out.write("]}\n")


def _urgent_first(found: ConflictSet) -> ConflictSet:
    return found.where(np.lexsort((found.j, found.i, found.tin)))


def _table(state: TrafficState, found: ConflictSet, seconds: float) -> None:
    from rich.table import Table  # only the table needs Rich

    from deconfliction.cli.context import console

    table = Table("a", "b", "tin s", "tout s", "tcpa s", "dcpa m", "now")
    for text in _json_pairs(state, found, state.ids.tolist(), {}):
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


_FLAGS = {"--json": "as_json", "--stream": "stream", "--exact-geometry": "exact_geometry"}
_VALUES = {
    "--rpz-m": "rpz_m",
    "--hpz-m": "hpz_m",
    "--lookahead-s": "lookahead_s",
    "--altitude-quantum-m": "altitude_quantum_m",
    "--level-vs-mps": "level_vs_mps",
    "--floor-m": "floor_m",
    "--device": "device",
}
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def parse_fast(args: Sequence[str], environ: Mapping[str, str]) -> DetectOptions | None:
    """The options of ``detect ARGS``, or ``None`` unless Typer would read them the same."""
    if any(name.startswith("_") and name.endswith("_COMPLETE") for name in environ):
        return None
    given: dict[str, Any] = {"device": environ.get(DEVICE_ENV) or "cpu"}
    files: list[str] = []
    rest = iter(args)
    for arg in rest:
        if not arg.startswith("-"):
            files.append(arg)
            continue
        name, equals, value = arg.partition("=")
        if name in _FLAGS and not equals:
            given[_FLAGS[name]] = True
            continue
        field = _VALUES.get(name)
        if field is None:
            return None
        if not equals:
            following = next(rest, None)  # as Typer: the next argument, whatever it is
            if following is None:
                return None
            value = following
        if field == "device":
            given[field] = value
        elif _NUMBER.fullmatch(value):
            given[field] = float(value)
        else:
            return None
    if len(files) != 1:
        return None
    return DetectOptions(snapshot=Path(files[0]), **given)


def fast_main(args: Sequence[str], environ: Mapping[str, str]) -> int | None:
    """Run ``detect ARGS`` and give its exit status, as the Typer command would; ``None``
    (having done nothing) when :func:`parse_fast` leaves the command line to Typer."""
    options = parse_fast(args, environ)
    if options is None:
        return None
    try:
        run(options)
    except DeconflictionError as exc:
        from deconfliction.cli.context import show_error  # Rich, for the error alone

        show_error(exc)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (``| head``): end quietly, as Typer does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0

"""``deconfliction detect`` as a whole process on big files (issue 9).

Run it from the repository root::

    python -m benchmarks.detect_cli            # 2k, 20k, 100k, and a 100k hub file streamed
    python -m benchmarks.detect_cli --quick    # 2k and 20k only
    python -m benchmarks.detect_cli --repeat 5 # each process five times (default 3)

Each case writes a snapshot CSV (fixed seeds, cached under ``benchmarks/.cache``) and
runs the installed console script on it in a fresh process, as a person would, as many
times as ``--repeat`` says. It prints the medians of the detection call's time (what
``detect`` reports as ``seconds``) and of the whole process's wall time (interpreter
start, imports, reading the CSV, detection, writing the JSON to a file), their ratio,
the pairs found and the process's largest peak resident memory (``wait4``). Targets:
whole process within 2x of the detection call at 20k; the hub file, with millions of
pairs, streamed in under 1 GB.

Below the cases, timed the same way in the same run, the floor no ``detect`` can go
under: an interpreter that does nothing (``python -c pass``) and one that only imports
NumPy, with its OpenBLAS thread pool (``python -c "import numpy"``) and without it
(``OPENBLAS_NUM_THREADS=1``, as ``detect`` runs). The ratio column of those rows is
their time over the 20k detection: where NumPy's import alone is near 2x, the target
cannot be met on that machine, however fast the rest.

The cases: 2,000 aircraft in a 400 km box and 20,000 and 100,000 in a 3,000 km box (the
tactical benchmark's regional and continental mixes; sparse, so detection is quick and
start-up weighs most), and 100,000 with 6,500 of them crowded around five hubs (1,300
each within 8 km and 300 m of altitude).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from rich.console import Console
from rich.table import Table

from benchmarks.tactical import CONTINENTAL_HALF_WIDTH_M, REGIONAL_HALF_WIDTH_M, traffic
from deconfliction.core.earth import WGS84
from deconfliction.tactical import TrafficState

CACHE = Path(__file__).resolve().parent / ".cache" / "detect_cli"
HUBS = ((2.55, 49.0), (8.55, 47.45), (-0.45, 51.47), (13.29, 52.56), (4.76, 52.31))
HUB_AIRCRAFT = 1_300
TARGET_RATIO, TARGET_MIB = 2.0, 1024.0


@dataclass(frozen=True)
class Case:
    name: str
    n: int
    stream: bool


@dataclass(frozen=True)
class Result:
    case: Case
    detection_s: float
    whole_s: float
    pairs: int
    peak_mib: float


def hub_traffic(n: int, seed: int) -> TrafficState:
    """``n`` aircraft: the continental mix, and :data:`HUB_AIRCRAFT` around each hub."""
    base = traffic(n, CONTINENTAL_HALF_WIDTH_M, seed)
    rng = np.random.default_rng(seed + 1)
    k = HUB_AIRCRAFT * len(HUBS)
    hub = np.repeat(np.array(HUBS), HUB_AIRCRAFT, axis=0)
    lon, lat, _ = WGS84.fwd(
        hub[:, 0], hub[:, 1], rng.uniform(0.0, 360.0, k), 8_000.0 * np.sqrt(rng.random(k))
    )
    lon_all, lat_all = base.lon.copy(), base.lat.copy()
    lon_all[:k], lat_all[:k] = lon, lat
    alt = base.alt_m.copy()
    alt[:k] = 3_000.0 + rng.uniform(-150.0, 150.0, k)
    vs = base.vs_mps.copy()
    vs[:k] = 0.0
    return TrafficState(
        ids=base.ids,
        party=base.party,
        lon=lon_all,
        lat=lat_all,
        alt_m=alt,
        gs_mps=base.gs_mps,
        trk_deg=base.trk_deg,
        vs_mps=vs,
    )


def snapshot(case: Case) -> Path:
    """The case's CSV, written once."""
    path = CACHE / f"{case.name}.csv"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    if case.name.startswith("hub"):
        state = hub_traffic(case.n, seed=3)
    else:
        width = REGIONAL_HALF_WIDTH_M if case.n <= 5_000 else CONTINENTAL_HALF_WIDTH_M
        state = traffic(case.n, width, seed=1)
    columns = np.stack(
        [state.lat, state.lon, state.alt_m, state.gs_mps, state.trk_deg, state.vs_mps], axis=1
    )
    with path.open("w", encoding="utf-8") as out:
        out.write("id,lat,lon,alt_m,gs_mps,trk_deg,vs_mps\n")
        for ident, row in zip(state.ids.tolist(), columns.tolist(), strict=True):
            out.write(ident + "," + ",".join(f"{v:.6f}" for v in row) + "\n")
    return path


def _command() -> list[str]:
    script = shutil.which("deconfliction")
    if script is None:
        return [sys.executable, "-c", "from deconfliction.cli import main; main()"]
    return [script]


def _process(
    args: list[str], out: BinaryIO, env: dict[str, str] | None = None
) -> tuple[float, float]:
    """Wall seconds and peak resident MiB of one fresh process; exits on a failure."""
    started = time.perf_counter()
    process = subprocess.Popen(args, stdout=out, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    whole = time.perf_counter() - started
    code = process.returncode = os.waitstatus_to_exitcode(status)  # reaped: Popen knows
    if code != 0:
        raise SystemExit(f"{' '.join(args)} failed (exit {code})")
    return whole, usage.ru_maxrss / 1024.0


def run(case: Case, repeat: int = 1) -> Result:
    """``repeat`` fresh processes on the case's file, their output to a temporary file:
    the median times, the largest peak."""
    path = snapshot(case)
    args = [*_command(), "detect", str(path), "--json", *(["--stream"] if case.stream else [])]
    wholes, detections, peaks = [], [], []
    for _ in range(repeat):
        with tempfile.TemporaryFile() as out:
            whole, peak = _process(args, out)
            out.seek(0)
            pairs, seconds = _read(out)
        wholes.append(whole)
        detections.append(seconds)
        peaks.append(peak)
    return Result(case, statistics.median(detections), statistics.median(wholes), pairs, max(peaks))


FLOORS: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("floor: python -c pass", "pass", {}),
    ("floor: import numpy", "import numpy", {}),
    ("floor: import numpy, 1 thread", "import numpy", {"OPENBLAS_NUM_THREADS": "1"}),
)
"""What an interpreter costs before ``detect`` does anything: label, code, environment."""


def floor(code: str, environment: dict[str, str], repeat: int) -> float:
    """The median wall seconds of ``python -c CODE`` in a fresh process."""
    env = {**os.environ, **environment}
    with tempfile.TemporaryFile() as out:
        return statistics.median(
            _process([sys.executable, "-c", code], out, env)[0] for _ in range(repeat)
        )


def _read(out: BinaryIO) -> tuple[int, float]:
    """Pairs and ``seconds`` of a detect document, read in blocks (it may be large):
    ``seconds`` comes before the pairs, or after them when streamed."""
    pairs, tail, first, ending = 0, b"", b"", b""
    keep = len(b'{"a": ') - 1  # too short to hold a whole marker: none counted twice
    while block := out.read(1 << 22):
        text = tail + block
        first = first or text
        pairs += text.count(b'{"a": ')
        tail = text[-keep:]
        ending = (ending + block)[-256:]
    marker = b'"seconds": '
    head = first[: first.index(b'"pairs"')]
    if marker not in head:
        head = ending
    start = head.rindex(marker) + len(marker)
    number = head[start:].split(b",")[0].split(b"}")[0]
    return pairs, float(number)


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2k and 20k only (no 100k files)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="processes per case, medians shown (default 3)"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    repeat = max(1, args.repeat)
    cases = [Case("regional_2k", 2_000, False), Case("continental_20k", 20_000, False)]
    if not args.quick:
        cases += [Case("continental_100k", 100_000, False), Case("hub_100k", 100_000, True)]
    results = [run(case, repeat) for case in cases]
    floors = [(label, floor(code, env, repeat)) for label, code, env in FLOORS]
    table = Table(
        "file", "aircraft", "pairs", "detection s", "whole process s", "ratio", "peak MiB"
    )
    for r in results:
        table.add_row(
            r.case.name + (" --stream" if r.case.stream else ""),
            f"{r.case.n:,}",
            f"{r.pairs:,}",
            f"{r.detection_s:.3f}",
            f"{r.whole_s:.3f}",
            f"{r.whole_s / r.detection_s:.1f}",
            f"{r.peak_mib:.0f}",
        )
    reference = next(r for r in results if r.case.n == 20_000)
    for label, seconds in floors:
        table.add_row(label, "", "", "", f"{seconds:.3f}", f"{seconds / reference.detection_s:.1f}")
    console = Console(width=max(110, Console().width))
    console.print(table)
    console.print(f"medians of {repeat} process(es) each; floor ratios are over the 20k detection")
    for r in results:
        if r.case.n == 20_000:
            ok = r.whole_s <= TARGET_RATIO * r.detection_s
            console.print(f"20k: whole process within {TARGET_RATIO:g}x of detection: {ok}")
        if r.case.stream:
            ok = r.peak_mib < TARGET_MIB
            console.print(f"hub file streamed in under {TARGET_MIB:.0f} MiB: {ok}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

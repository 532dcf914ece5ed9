"""``deconfliction detect`` as a whole process on big files (issue 9).

Run it from the repository root::

    python -m benchmarks.detect_cli            # 2k, 20k, and a 100k hub file streamed
    python -m benchmarks.detect_cli --quick    # 2k and 20k only

Each case writes a snapshot CSV (fixed seeds, cached under ``benchmarks/.cache``) and
runs the installed console script on it in a fresh process, as a person would. It
prints the detection call's time (what ``detect`` reports as ``seconds``), the whole
process's wall time (interpreter start, imports, reading the CSV, detection, writing
the JSON to a file), their ratio, the pairs found and the process's peak resident
memory (``wait4``). Targets: whole process within 2x of the detection call at 20k; the
hub file, with millions of pairs, streamed in under 1 GB.

The cases: 2,000 aircraft in a 400 km box and 20,000 in a 3,000 km box (the tactical
benchmark's regional and continental mixes), and 100,000 with 6,500 of them crowded
around five hubs (1,300 each within 8 km and 300 m of altitude).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

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


def run(case: Case) -> Result:
    """One fresh process on the case's file; its output goes to a temporary file."""
    path = snapshot(case)
    args = [*_command(), "detect", str(path), "--json", *(["--stream"] if case.stream else [])]
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        process = subprocess.Popen(args, stdout=out)
        _, status, usage = os.wait4(process.pid, 0)
        whole = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            raise SystemExit(f"detect failed on {path} (exit {process.returncode})")
        out.seek(0)
        pairs, seconds = _read(out)
    return Result(case, seconds, whole, pairs, usage.ru_maxrss / 1024.0)


def _read(out: object) -> tuple[int, float]:
    """Pairs and ``seconds`` of a detect document, read in blocks (it may be large)."""
    assert hasattr(out, "read")
    pairs, tail = 0, b""
    while block := out.read(1 << 22):
        text = tail + block
        pairs += text.count(b'{"a": ')
        keep = len(b'{"a": ') - 1
        tail = text[-keep:]
        last = text
    marker = b'"seconds": '
    head = last if marker in last else tail + last
    start = head.rindex(marker) + len(marker)
    number = head[start:].split(b",")[0].split(b"}")[0]
    return pairs, float(number)


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2k and 20k only (no hub file)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    cases = [Case("regional_2k", 2_000, False), Case("continental_20k", 20_000, False)]
    if not args.quick:
        cases.append(Case("hub_100k", 100_000, True))
    results = [run(case) for case in cases]
    table = Table(
        "file", "aircraft", "pairs", "detection s", "whole process s", "ratio", "peak MiB"
    )
    for r in results:
        table.add_row(
            r.case.name + (" --stream" if r.case.stream else ""),
            f"{r.case.n:,}",
            f"{r.pairs:,}",
            f"{r.detection_s:.3f}",
            f"{r.whole_s:.2f}",
            f"{r.whole_s / r.detection_s:.1f}",
            f"{r.peak_mib:.0f}",
        )
    console = Console()
    console.print(table)
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

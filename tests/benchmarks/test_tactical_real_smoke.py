"""The real-traffic benchmark on a toy recording, so that it cannot rot: counts, never
times. Two arrivals through the ground (the issue's repro) and a head-on at one level."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from benchmarks.tactical_real import main, party_of, replay

from deconfliction.tracks.reckoning import advance


def _recording(path: Path) -> Path:
    ids = [f"{k:06x}" for k in range(64)]
    a = ids[0]
    b = next(i for i in ids if party_of(i) != party_of(a))
    c = next(i for i in ids if i not in (a, b))
    d = next(i for i in ids if i not in (a, b, c) and party_of(i) != party_of(c))
    rows = ["timestamp,id,lat,lon,alt_m,gs_mps,trk_deg,vs_mps"]
    for t in range(0, 200, 2):
        stamp = f"2021-10-07T12:{t // 60:02d}:{t % 60:02d}.000Z"
        for ident, lon, alt, trk, vs, gs in (
            (a, 2.40, 400.0, 90.0, -5.0, 70.0),
            (b, 2.70, 400.0, 270.0, -5.0, 70.0),
            (c, 5.00, 3_000.0, 90.0, 0.0, 200.0),
            (d, 5.60, 3_000.0, 270.0, 0.0, 200.0),
        ):
            at = advance(*(np.array([x]) for x in (lon, 49.0, alt, gs, trk, vs)), t)
            alt = f"{at.alt_m[0]:.1f}" if at.alt_m[0] > 0.0 else ""  # landed: no altitude
            rows.append(f"{stamp},{ident},{at.lat[0]:.6f},{at.lon[0]:.6f},{alt},{gs},{trk},{vs}")
    path.write_bytes(gzip.compress(("\n".join(rows) + "\n").encode()))
    return path


@pytest.mark.parametrize("exact", [False, True])
def test_a_toy_recording_warns_of_the_real_head_on(tmp_path: Path, exact: bool) -> None:
    counts = replay(_recording(tmp_path / "toy.csv.gz"), exact, 2.0, None)
    assert counts.approaches == 1  # the head-on; the arrivals never come within H and R above 0
    assert len(counts.warnings) == 1
    assert counts.warnings[0] > 60.0
    # Exact geometry also opens the arrivals' alert through the ground; the feed model not.
    assert counts.opened == (2 if exact else 1)
    assert counts.below_floor == (1 if exact else 0)


def test_the_table_prints(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(_recording(tmp_path / "toy.csv.gz"))]) == 0
    assert "toy" in capsys.readouterr().out

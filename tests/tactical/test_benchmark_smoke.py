"""The tactical benchmark at toy size, so that it cannot rot: counts checked, never times."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from benchmarks.tactical import CONTINENTAL_HALF_WIDTH_M, main, replay, traffic

from deconfliction.core.earth import geodesic_distance_m
from deconfliction.tactical import CPU, detect, detect_all_pairs

TRAFFIC = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "traffic"


def test_the_synthetic_traffic_is_the_mix_the_issue_asks_for() -> None:
    state = traffic(4_000, CONTINENTAL_HALF_WIDTH_M, seed=1)
    assert len(state) == 4_000
    assert state.gs_mps.min() >= 60.0
    assert state.gs_mps.max() <= 260.0
    assert state.alt_m.min() >= 0.0
    assert state.alt_m.max() <= 13_200.0
    level = state.vs_mps == 0.0
    assert 0.6 < level.mean() < 0.8
    on_flight_levels = np.isclose(state.alt_m[level] / 304.8, np.round(state.alt_m[level] / 304.8))
    assert on_flight_levels.all()
    # The box is 3,000 km across: its corners are ~2,100 km from the centre.
    reach = geodesic_distance_m(10.0, 50.0, state.lon, state.lat)
    assert 2_000e3 < reach.max() < 2_130e3
    assert traffic(50, 1_000.0, seed=3).lon.tolist() == traffic(50, 1_000.0, seed=3).lon.tolist()


def test_the_benchmark_runs_and_agrees_with_the_brute_force(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(
        [
            "--regional",
            "400",
            "--continental",
            "600",
            "--repeat",
            "1",
            "--traffic-dir",
            str(tmp_path),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "yes" in out  # same pairs as the brute force
    assert "replay skipped" in out


def test_a_replay_of_real_traffic() -> None:
    path = TRAFFIC / "paris_2021-10-07.csv.gz"
    if not path.is_file():
        pytest.skip(f"{path} is absent (a fresh checkout has no ../shared/data)")
    result = replay(path, CPU, max_ticks=120)
    assert result.ticks == 120
    assert 5 <= result.max_aircraft <= 40
    assert result.conflict_pairs >= result.los_pairs
    assert result.engine_seconds > 0.0


def test_the_grid_agrees_with_the_brute_force_on_dense_continental_traffic() -> None:
    state = traffic(3_000, 300_000.0, seed=11)
    found = detect(state)
    assert len(found) > 200
    reference = detect_all_pairs(state)
    assert found.i.tolist() == reference.i.tolist()
    assert found.j.tolist() == reference.j.tolist()

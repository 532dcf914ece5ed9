"""The detect CLI benchmark at toy size, so that it cannot rot: counts checked, never times."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from benchmarks.detect_cli import HUB_AIRCRAFT, HUBS, Case, hub_traffic, run

from benchmarks import detect_cli
from deconfliction.core.earth import geodesic_distance_m


def test_the_hub_file_crowds_each_hub() -> None:
    state = hub_traffic(10_000, seed=3)
    assert len(state) == 10_000
    for k, (lon, lat) in enumerate(HUBS):
        rows = slice(k * HUB_AIRCRAFT, (k + 1) * HUB_AIRCRAFT)
        assert geodesic_distance_m(lon, lat, state.lon[rows], state.lat[rows]).max() <= 8_000.0
        assert np.ptp(state.alt_m[rows]) <= 300.0


@pytest.mark.parametrize("stream", [False, True])
def test_a_toy_case_runs_the_console_script(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stream: bool
) -> None:
    monkeypatch.setattr(detect_cli, "CACHE", tmp_path)
    result = run(Case("toy", 300, stream))
    assert result.pairs > 0
    assert result.detection_s >= 0.0
    assert result.peak_mib > 0.0
    lines = (tmp_path / "toy.csv").read_text(encoding="utf-8").count("\n")
    assert lines == 301  # the header and one line per aircraft

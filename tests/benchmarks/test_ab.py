"""The A/B benchmark at toy size: both versions really run, each its own code."""

from __future__ import annotations

from pathlib import Path

import pytest
from benchmarks._store import StoreSpec, cached_store
from benchmarks._volumes import VolumeMix

from benchmarks import ab

STORED = 200


def test_a_turn_files_with_the_code_it_is_given(tmp_path: Path) -> None:
    store, _ = cached_store(StoreSpec(STORED, 1, VolumeMix()), tmp_path, workers=0)
    taken = ab.turn(Path(ab.__file__).resolve().parent.parent, store, 1, 4, 1)
    assert len(taken.latencies_s) == len(taken.cpu_s) == len(taken.conflicts) == 4
    with pytest.raises(RuntimeError, match="not the code under"):
        ab.turn(tmp_path / "nowhere", store, 1, 4, 1)  # no code there: the installed ran


def test_the_working_tree_against_head_prints_both_and_their_ratio(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["HEAD", "--size", str(STORED), "--filings", "3", "--warmup", "1"]
    assert ab.main([*argv, "--rounds", "1", "--cache-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "ref " in out
    assert "working tree" in out
    assert "now / ref: CPU x" in out

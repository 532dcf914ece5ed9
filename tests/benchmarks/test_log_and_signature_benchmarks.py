"""The transparency-log and signed-request benchmarks run at toy size and print their
tables (the figures themselves are the scripts' business, not the tests')."""

from __future__ import annotations

import pytest

from benchmarks import journal_proofs, signed_requests


def test_journal_proofs_prints_its_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert journal_proofs.main(["--entries", "300", "--more", "21", "--proofs", "20"]) == 0
    out = capsys.readouterr().out
    assert "first checkpoint, 300 entries" in out
    assert "consistency proof 300 -> 321" in out


def test_signed_requests_prints_both_modes(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--requests", "4", "--warmup", "2", "--parties", "3"]
    assert signed_requests.main(args) == 0
    out = capsys.readouterr().out
    assert out.count("│ filing") == 2
    assert "mean latency ratio" in out

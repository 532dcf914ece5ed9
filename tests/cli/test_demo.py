"""``deconfliction demo --once`` runs the whole scenario through the real HTTP service."""

from __future__ import annotations

import os
import re
import subprocess
import sys


def test_demo_once_shows_conflicts_alerts_and_an_intact_journal() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "deconfliction", "demo", "--once"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Northern Air Group: 6,000-8,000 m" in out  # the ISR orbit meets the CAP
    assert "Northern Air Group: 4,572-5,000 m" in out  # the approach zone meets the CAP
    assert out.count("none: clear") == 3  # corridor below, tanker stacked above: adjacent
    assert "0 conflicts remain" in out
    assert "acknowledged" in out
    assert "resolved" in out
    assert "open" in out
    assert re.search(r"journal intact: \d+ entries, every one chained", out)

"""``deconfliction demo --once`` runs the whole scenario through the real HTTP service."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path


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
    # the ISR orbit meets the CAP; the task forces have no agreement: anonymous
    assert "(another party): 6,000-8,000 m" in out
    assert "Northern Air Group: 6,000-8,000 m" not in out
    assert "Northern Air Group: 4,572-5,000 m" in out  # the approach zone meets the CAP
    assert out.count("none: clear") == 3  # corridor below, tanker stacked above: adjacent
    assert "0 conflicts remain" in out
    assert "acknowledged" in out
    assert "resolved" in out
    assert "open" in out
    assert re.search(r"journal intact: \d+ entries, every one chained", out)


def test_demo_stopped_with_sigterm_removes_its_temporary_database(tmp_path: Path) -> None:
    """SIGTERM (what ``kill`` and service managers send) cleans up as Ctrl-C does."""
    process = subprocess.Popen(
        [sys.executable, "-m", "deconfliction", "demo", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "400", "TMPDIR": str(tmp_path)},
    )
    assert process.stdout is not None
    seen: list[str] = []
    try:
        for line in process.stdout:
            seen.append(line)
            if "Ctrl-C stops" in line:
                break
        folders = list(tmp_path.glob("deconfliction-demo-*"))
        assert [f.name for f in folders if (f / "demo.db").exists()], "".join(seen)
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, "".join(seen) + rest
    assert "stopped" in rest
    assert list(tmp_path.glob("deconfliction-demo-*")) == []

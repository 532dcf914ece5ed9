"""The real data files the feed tests read, and skipping the test when they are absent."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def shared_file(*parts: str) -> Path:
    """A file of the shared real data set; skips the test when it is not there."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.is_file():
        pytest.skip(
            f"real data file {path} is absent (a fresh checkout has no ../shared/data); "
            "these tests run where the team's shared data is mounted"
        )
    return path

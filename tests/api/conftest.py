"""An app client per test, on each store backend, with the manual clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from deconfliction.api import create_app
from deconfliction.clock import ManualClock
from deconfliction.settings import Settings
from tests.conftest import T0

Body = dict[str, Any]


@pytest.fixture
def client(database_url: str, clock: ManualClock) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=database_url), clock)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def box(west: float, south: float, east: float, north: float) -> Body:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def volume(
    geometry: Body,
    lower_m: float = 0.0,
    upper_m: float = 3000.0,
    start_h: float = 2.0,
    end_h: float = 4.0,
    **extra: Any,
) -> Body:
    """A volume Feature; times are hours after the clock's start T0."""
    return {
        "type": "Feature",
        "geometry": geometry,
        "properties": {
            "lower_m": lower_m,
            "upper_m": upper_m,
            "start": (T0 + timedelta(hours=start_h)).isoformat(),
            "end": (T0 + timedelta(hours=end_h)).isoformat(),
            **extra,
        },
    }


def hours_ahead(hours: float) -> float:
    """``hours`` from now, as hours after T0 (for :func:`volume`), for tests that run on
    the system clock: a notice's window must end in the future."""
    return (datetime.now(UTC) - T0).total_seconds() / 3600 + hours


VolumeFactory = Callable[..., Body]

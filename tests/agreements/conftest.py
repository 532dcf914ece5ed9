"""``world``: the agreement, notice, alert, lifecycle and escalation services together."""

from __future__ import annotations

import pytest

from deconfliction.clock import ManualClock
from deconfliction.settings import Settings
from deconfliction.store.database import Database
from tests.agreements.scenario import World


@pytest.fixture
def world(database: Database, clock: ManualClock) -> World:
    return World(database, clock, Settings())

"""The bus: wakes the streams of the parties that got events, once those events are durable.

The database rows are the truth (:mod:`deconfliction.delivery`); a wake-up only says
"look again". :func:`bus_for` picks the bus from the settings.
"""

from __future__ import annotations

from deconfliction.bus.base import Bus, BusClosedError, Subscription
from deconfliction.bus.memory import InProcessBus
from deconfliction.settings import Settings

__all__ = ["Bus", "BusClosedError", "InProcessBus", "Subscription", "bus_for"]


def bus_for(settings: Settings) -> Bus:
    """The bus for these settings: the in-process one."""
    return InProcessBus()

"""The bus: wakes the streams of the parties that got events, once those events are durable.

The database rows are the truth (:mod:`deconfliction.delivery`); a wake-up only says
"look again". In one process, :class:`InProcessBus`; with several replicas,
:class:`~deconfliction.bus.nats.NatsBus` carries wake-ups between them. :func:`bus_for`
picks one from the settings.
"""

from __future__ import annotations

from deconfliction.bus.base import Bus, BusClosedError, Subscription
from deconfliction.bus.memory import InProcessBus
from deconfliction.settings import Settings

__all__ = ["Bus", "BusClosedError", "InProcessBus", "Subscription", "bus_for"]


def bus_for(settings: Settings) -> Bus:
    """The NATS bus when ``settings.nats_url`` is set, else the in-process one."""
    if settings.nats_url:
        from deconfliction.bus.nats import NatsBus  # nats-py is an optional dependency

        return NatsBus(settings.nats_url)
    return InProcessBus()

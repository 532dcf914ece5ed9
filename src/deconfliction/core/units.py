"""SI units inside, named in the types; conversions for the edges, done once.

>>> round(feet_to_metres(1000), 1)
304.8
>>> flight_level_to_metres(100)
3048.0
>>> round(knots_to_mps(100), 3)
51.444
"""

from __future__ import annotations

from typing import Annotated

__all__ = [
    "FOOT_M",
    "KNOT_MPS",
    "MAX_ALTITUDE_M",
    "MIN_ALTITUDE_M",
    "NAUTICAL_MILE_M",
    "Degrees",
    "Metres",
    "MetresPerSecond",
    "Seconds",
    "feet_to_metres",
    "flight_level_to_metres",
    "knots_to_mps",
    "metres_to_feet",
]

Metres = Annotated[float, "m"]
Seconds = Annotated[float, "s"]
MetresPerSecond = Annotated[float, "m/s"]
Degrees = Annotated[float, "deg"]

FOOT_M: Metres = 0.3048
NAUTICAL_MILE_M: Metres = 1852.0
KNOT_MPS: MetresPerSecond = NAUTICAL_MILE_M / 3600.0

MIN_ALTITUDE_M: Metres = -1_000.0
"""The lowest altitude a volume or an aircraft may have (the Dead Sea shore is -430 m)."""
MAX_ALTITUDE_M: Metres = 100_000.0
"""The highest: the Kármán line."""


def feet_to_metres(feet: float) -> Metres:
    """International feet to metres."""
    return feet * FOOT_M


def metres_to_feet(metres: Metres) -> float:
    """Metres to international feet."""
    return metres / FOOT_M


def flight_level_to_metres(level: float) -> Metres:
    """Flight level (hundreds of feet on the standard pressure setting) to metres."""
    return level * 100.0 * FOOT_M


def knots_to_mps(knots: float) -> MetresPerSecond:
    """Knots (nautical miles per hour) to metres per second."""
    return knots * KNOT_MPS

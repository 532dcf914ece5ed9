"""DetectionParams: the separation minima and the look-ahead, in metres and seconds.

The defaults are the en-route minima: 5 NM horizontally, 1,000 ft vertically, and a
five-minute look-ahead. An aircraft may carry its own protected zone
(:class:`~deconfliction.tactical.state.TrafficState` ``rpz_m`` / ``hpz_m``); a pair then
uses the larger of the two.

>>> DetectionParams().rpz_m
9260.0
>>> DetectionParams(lookahead_s=0)
Traceback (most recent call last):
...
deconfliction.errors.ValidationError: lookahead_s must be a positive number of seconds, not 0
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from deconfliction.core.units import FOOT_M, NAUTICAL_MILE_M, Metres, Seconds
from deconfliction.errors import ValidationError

__all__ = [
    "DEFAULT_HPZ_M",
    "DEFAULT_LOOKAHEAD_S",
    "DEFAULT_RPZ_M",
    "EXACT",
    "FEED_MODEL",
    "DetectionParams",
    "PredictionModel",
]

DEFAULT_RPZ_M: Metres = 5 * NAUTICAL_MILE_M
DEFAULT_HPZ_M: Metres = 1000 * FOOT_M
DEFAULT_LOOKAHEAD_S: Seconds = 300.0


def _check(name: str, value: object, unit: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValidationError(f"{name} must be a non-negative number of {unit}, not {value!r}")
    return float(value)


@dataclass(frozen=True)
class PredictionModel:
    """How states from a real feed are read before prediction (metres, m/s).

    * ``floor_m``: no aircraft is predicted below its floor (``None``: no floor). A
      descending aircraft levels off at it; a state may carry its own floor (the ground
      under it, as a zone, an airport record or the feed itself knows it), which wins.
    * ``altitude_quantum_m``: the altitude resolution of the sources; two aircraft are
      vertically separated when ``|dz| >= H - q``.
    * ``level_vs_mps``: ``|vs| <= level_vs_mps`` is level flight.
    * ``ground_height_m`` and ``takeoff_speed_mps``: an aircraft within that height of
      its floor and slower than that speed is on the ground; on-ground aircraft take no
      part in track-track prediction.

    :data:`EXACT` (all off) is exact geometry on the states as given; :data:`FEED_MODEL`
    is what the service, ``replay`` and ``detect`` use on real feeds.

    >>> FEED_MODEL.altitude_quantum_m, EXACT.floor_m
    (7.62, None)
    """

    floor_m: Metres | None = None
    altitude_quantum_m: Metres = 0.0
    level_vs_mps: float = 0.0
    ground_height_m: Metres = 0.0
    takeoff_speed_mps: float = 0.0

    def __post_init__(self) -> None:
        if self.floor_m is not None:
            if (
                isinstance(self.floor_m, bool)
                or not isinstance(self.floor_m, int | float)
                or not math.isfinite(self.floor_m)
            ):
                raise ValidationError(f"floor_m must be a number of metres, not {self.floor_m!r}")
            object.__setattr__(self, "floor_m", float(self.floor_m))
        for name, unit in (
            ("altitude_quantum_m", "metres"),
            ("level_vs_mps", "metres per second"),
            ("ground_height_m", "metres"),
            ("takeoff_speed_mps", "metres per second"),
        ):
            value = _check(name, getattr(self, name), unit)
            object.__setattr__(self, name, value)


EXACT = PredictionModel()
FEED_MODEL = PredictionModel(
    floor_m=0.0,
    altitude_quantum_m=7.62,  # 25 ft
    level_vs_mps=0.5,
    ground_height_m=30.48,  # 100 ft
    takeoff_speed_mps=30.0,
)


@dataclass(frozen=True)
class DetectionParams:
    """Protected-zone radius ``rpz_m`` and half-height ``hpz_m`` (metres) and the
    look-ahead ``lookahead_s`` (seconds) within which a conflict must begin, and the
    :class:`PredictionModel` states are read with (default :data:`EXACT`)."""

    rpz_m: Metres = DEFAULT_RPZ_M
    hpz_m: Metres = DEFAULT_HPZ_M
    lookahead_s: Seconds = DEFAULT_LOOKAHEAD_S
    model: PredictionModel = EXACT

    def __post_init__(self) -> None:
        for name, unit in (("rpz_m", "metres"), ("hpz_m", "metres"), ("lookahead_s", "seconds")):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or value <= 0
            ):
                raise ValidationError(f"{name} must be a positive number of {unit}, not {value!r}")
            object.__setattr__(self, name, float(value))

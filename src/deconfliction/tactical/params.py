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

__all__ = ["DEFAULT_HPZ_M", "DEFAULT_LOOKAHEAD_S", "DEFAULT_RPZ_M", "DetectionParams"]

DEFAULT_RPZ_M: Metres = 5 * NAUTICAL_MILE_M
DEFAULT_HPZ_M: Metres = 1000 * FOOT_M
DEFAULT_LOOKAHEAD_S: Seconds = 300.0


@dataclass(frozen=True)
class DetectionParams:
    """Protected-zone radius ``rpz_m`` and half-height ``hpz_m`` (metres) and the
    look-ahead ``lookahead_s`` (seconds) within which a conflict must begin."""

    rpz_m: Metres = DEFAULT_RPZ_M
    hpz_m: Metres = DEFAULT_HPZ_M
    lookahead_s: Seconds = DEFAULT_LOOKAHEAD_S

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

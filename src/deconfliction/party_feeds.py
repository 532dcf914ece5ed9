"""How one party's feed is read: the prediction model's feed settings, per party.

The defaults are the deployment's :class:`~deconfliction.settings.Settings` fields
(``# Issue 9: prediction model``); an administrator sets any of them for one party's
feed (``deconfliction party feed NAME --set track_takeoff_speed_mps=0``), kept in the
``party_limits`` table beside its limits and journaled (``party.feed_set``).
:class:`PartyFeeds` reads them and remembers them for ``cache_s`` seconds
(:mod:`deconfliction.party_values`). The floor is not among them: it is the ground's,
not a feed's.

=============================  ======================================================
setting                        what, for the party's aircraft
=============================  ======================================================
``track_altitude_quantum_m``   altitude resolution (m); a pair's vertical limit is
                               ``max(H - q_i, H - q_j)``: the more precise feed governs
``track_level_vs_mps``         vertical speeds within it are level flight (m/s)
``track_ground_height_m``      within this height of the floor (m) and slower than
``track_takeoff_speed_mps``    this speed (m/s): on the ground (0: never inferred)
``track_ground_hold_s``        on the ground this long after a report saying so (s)
=============================  ======================================================

>>> FeedModel.from_settings(Settings()).with_values({"track_takeoff_speed_mps": 0})
... # doctest: +NORMALIZE_WHITESPACE
FeedModel(track_altitude_quantum_m=7.62, track_level_vs_mps=0.5,
          track_ground_height_m=30.48, track_takeoff_speed_mps=0.0, track_ground_hold_s=20.0)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from deconfliction.errors import ValidationError
from deconfliction.party_values import PartyValues
from deconfliction.settings import Settings

__all__ = ["FEED_NAMES", "FeedModel", "PartyFeeds"]


@dataclass(frozen=True)
class FeedModel:
    """One party's feed settings (see the module's table): metres, m/s, seconds."""

    track_altitude_quantum_m: float
    track_level_vs_mps: float
    track_ground_height_m: float
    track_takeoff_speed_mps: float
    track_ground_hold_s: float

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ValidationError(f"{f.name} must be a number 0 or more, not {value!r}")
            object.__setattr__(self, f.name, float(value))

    @classmethod
    def from_settings(cls, settings: Settings) -> FeedModel:
        return cls(**{name: getattr(settings, name) for name in FEED_NAMES})

    def with_values(self, values: Mapping[str, float]) -> FeedModel:
        """These settings with some replaced."""
        return replace(self, **{k: float(v) for k, v in values.items()})

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in FEED_NAMES}

    @property
    def lift_mps(self) -> float:
        """A climb faster than this (m/s) clears the ground height within the ground hold:
        such an aircraft is airborne whatever an earlier on-ground report said."""
        hold = self.track_ground_hold_s
        return self.track_ground_height_m / hold if hold > 0.0 else math.inf


FEED_NAMES: tuple[str, ...] = tuple(f.name for f in fields(FeedModel))


class PartyFeeds(PartyValues[FeedModel]):
    """Each party's feed settings: the deployment's and the party's own overrides."""

    kind = FeedModel
    names = FEED_NAMES
    what = "feed setting"
    journal_kind = "party.feed_set"

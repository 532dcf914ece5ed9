"""The plausibility gate: states that imply an impossible move are not predicted from.

Each state a party reports is compared with the aircraft's last *accepted* state (held
by the registry). It is implausible when, from there, it implies

* a ground speed above ``speed_mps`` (default 600 m/s), or
* a vertical rate above ``vs_mps`` (default 200 m/s),

allowing :data:`JITTER_S` of timing jitter, :data:`POSITION_SLACK_M` of position noise
and two altitude quanta of altitude steps; a state stamped before the accepted one is
refused by the registry already (time going backwards). GNSS spoofing (a jump of tens
of kilometres), time glitches and altitude spikes (37 km on one recording) fail it.

An implausible state is refused, and the aircraft is left out of the ticks (nothing is
predicted from it) until a state passes the gate again (or its last accepted state
ages out and the next one starts afresh). Its party hears of it once per **episode**
(``track.suspect``, journaled), with the evidence; an episode ends when the aircraft
has sent no implausible state for ``track_max_age_s``, so a flapping feed is one
episode, not one alert per glitch.

>>> import numpy as np
>>> gate = Gate(speed_mps=600.0, vs_mps=200.0, quantum_m=7.62)
>>> held = (np.array([0.0]), np.array([8.0]), np.array([47.0]), np.array([3000.0]))
>>> new = (np.array([10.0]), np.array([8.5]), np.array([47.0]), np.array([3000.0]))
>>> gate.judge(*held, *new)[0]["speed_mps"]  # 38 km in 10 s
3802.8
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from deconfliction.core.earth import WGS84
from deconfliction.tactical.state import FloatArray

__all__ = ["JITTER_S", "POSITION_SLACK_M", "SUSPECT_REASON", "Gate"]

JITTER_S = 1.0
"""Seconds of timing jitter allowed between two reports."""
POSITION_SLACK_M = 100.0
"""Metres of position noise allowed between two reports."""
SUSPECT_REASON = "implausible track: possible spoofing or feed fault"


@dataclass(frozen=True)
class Gate:
    """Speed ceilings (m/s) and the altitude quantum (m) of the feeds."""

    speed_mps: float
    vs_mps: float
    quantum_m: float

    def judge(
        self,
        time_s: FloatArray,
        lon: FloatArray,
        lat: FloatArray,
        alt_m: FloatArray,
        new_time_s: FloatArray,
        new_lon: FloatArray,
        new_lat: FloatArray,
        new_alt_m: FloatArray,
    ) -> list[dict[str, Any] | None]:
        """Per row: ``None`` when the new state is plausible from the held one (or none
        is held: NaN time), else the evidence (times, implied speed and rate)."""
        n = new_time_s.shape[0]
        out: list[dict[str, Any] | None] = [None] * n
        known = np.flatnonzero(~np.isnan(time_s))
        if known.size == 0:
            return out
        _, _, distance = WGS84.inv(lon[known], lat[known], new_lon[known], new_lat[known])
        distance = np.asarray(distance, dtype=np.float64)
        dt = np.maximum(new_time_s[known] - time_s[known], 0.0)
        climb = np.abs(new_alt_m[known] - alt_m[known])
        too_fast = distance > self.speed_mps * (dt + JITTER_S) + POSITION_SLACK_M
        too_steep = climb > self.vs_mps * (dt + JITTER_S) + 2.0 * self.quantum_m
        for k in np.flatnonzero(too_fast | too_steep).tolist():
            row = int(known[k])
            span = float(dt[k])
            out[row] = {
                "reason": SUSPECT_REASON,
                "from_time_s": float(time_s[row]),
                "to_time_s": float(new_time_s[row]),
                "distance_m": round(float(distance[k]), 1),
                "altitude_change_m": round(float(climb[k]), 1),
                "speed_mps": _rate(float(distance[k]), span),
                "vertical_rate_mps": _rate(float(climb[k]), span),
                "limits": {"speed_mps": self.speed_mps, "vertical_rate_mps": self.vs_mps},
            }
        return out


def _rate(change: float, span_s: float) -> float:
    """Change per second, rounded; ``inf`` as the largest float (JSON has no infinity)."""
    if span_s <= 0.0:
        return float(np.finfo(np.float64).max) if change > 0 else 0.0
    rate = change / span_s
    return round(rate, 1) if math.isfinite(rate) else float(np.finfo(np.float64).max)

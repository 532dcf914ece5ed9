"""Dead reckoning: where an aircraft is ``dt`` seconds after one of its states.

The aircraft flies straight on: along the WGS-84 geodesic through its position at its
track (so the track turns as the geodesic does, and nothing breaks at the antimeridian
or over a pole), at its ground speed, while its altitude changes at its vertical speed.
It brings states heard at different times to one tick time, and places aircraft at
their closest approach. ``dt`` may be negative (a state stamped a little ahead of the
tick). Altitudes are kept inside the range a
:class:`~deconfliction.tactical.state.TrafficState` accepts.

>>> out = advance(np.array([8.0]), np.array([47.0]), np.array([3000.0]),
...               np.array([100.0]), np.array([90.0]), np.array([-5.0]), 60.0)
>>> round(float(out.lon[0]), 4), round(float(out.alt_m[0]), 1), round(float(out.trk_deg[0]), 2)
(8.0789, 2700.0, 90.06)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from deconfliction.core.earth import WGS84
from deconfliction.core.volume import MAX_ALTITUDE_M, MIN_ALTITUDE_M
from deconfliction.tactical.state import FloatArray

__all__ = ["Reckoned", "advance"]


@dataclass(frozen=True, eq=False)
class Reckoned:
    """Positions (degrees, metres) and tracks (degrees true) after dead reckoning."""

    lon: FloatArray
    lat: FloatArray
    alt_m: FloatArray
    trk_deg: FloatArray


def advance(
    lon: FloatArray,
    lat: FloatArray,
    alt_m: FloatArray,
    gs_mps: FloatArray,
    trk_deg: FloatArray,
    vs_mps: FloatArray,
    dt_s: npt.ArrayLike,
) -> Reckoned:
    """Each aircraft ``dt_s`` seconds on (one value, or one per aircraft)."""
    dt = np.broadcast_to(np.asarray(dt_s, dtype=np.float64), lon.shape)
    distance = gs_mps * dt
    lon2, lat2, back = WGS84.fwd(lon, lat, trk_deg, distance)
    moved = distance != 0.0
    track = np.where(moved, np.mod(np.asarray(back, dtype=np.float64) + 180.0, 360.0), trk_deg)
    altitude = np.clip(alt_m + vs_mps * dt, MIN_ALTITUDE_M, MAX_ALTITUDE_M)
    return Reckoned(
        np.asarray(lon2, dtype=np.float64),
        np.asarray(lat2, dtype=np.float64),
        np.asarray(altitude, dtype=np.float64),
        np.asarray(track, dtype=np.float64),
    )

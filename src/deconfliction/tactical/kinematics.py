"""Per-aircraft motion in Earth-centred coordinates: the engine's Earth model.

Each aircraft is a point on the WGS-84 ellipsoid (its ground position; altitude is
kept apart) moving in a straight line along its local tangent plane at its ground
speed and track, while its altitude changes at its vertical speed:

    P(t) = P + v t          (ECEF metres, P on the ellipsoid, v ⟂ the normal at P)
    alt(t) = alt + vs t

Separation is measured per pair (see :mod:`deconfliction.tactical.cpa`) in the plane
perpendicular to the mean of the two aircraft's normals, so there is no map
projection, no seam at the antimeridian and no singularity at the poles. At t = 0 the
horizontal distance is the chord between the two ground points, which differs from
the WGS-84 geodesic by about D³/(24 R²), R the Earth's radius: 2·10⁻⁸ relative at
5 NM, far inside the 0.5 % required.

>>> m = Motion.of(np.array([0.0]), np.array([0.0]), np.array([100.0]), np.array([90.0]))
>>> [round(float(c), 6) + 0.0 for c in m.velocity[0]]  # due east at (0, 0) is +y in ECEF
[0.0, 100.0, 0.0]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deconfliction.core.ecef import enu_basis, geodetic_to_ecef
from deconfliction.tactical.state import FloatArray

__all__ = ["Motion"]


@dataclass(frozen=True, eq=False)
class Motion:
    """Ground positions, tangent velocities and unit normals, ECEF, shape (N, 3).

    ``position`` is in metres on the ellipsoid, ``velocity`` in m/s, ``normal`` the
    unit geodetic "up" at each position.
    """

    position: FloatArray
    velocity: FloatArray
    normal: FloatArray

    @classmethod
    def of(
        cls, lon_deg: FloatArray, lat_deg: FloatArray, gs_mps: FloatArray, trk_deg: FloatArray
    ) -> Motion:
        """The motion of aircraft at (lon, lat) degrees flying ``gs_mps`` along ``trk_deg``."""
        x, y, z = geodetic_to_ecef(lon_deg, lat_deg, 0.0)
        east, north, up = enu_basis(lon_deg, lat_deg)
        trk = np.radians(trk_deg)
        ve = (gs_mps * np.sin(trk))[:, None]
        vn = (gs_mps * np.cos(trk))[:, None]
        return cls(
            position=np.stack([x, y, z], axis=-1),
            velocity=ve * east + vn * north,
            normal=up,
        )

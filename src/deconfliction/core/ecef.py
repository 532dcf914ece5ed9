"""The WGS-84 ellipsoid in Earth-centred Earth-fixed metres, with NumPy alone.

The constants, geodetic to ECEF coordinates and the local east/north/up bases: what
the tactical engine needs to place aircraft, without the geodesic library that
:mod:`deconfliction.core.earth` adds for distances and areas (so that ``deconfliction
detect`` starts without loading it).

>>> x, y, z = geodetic_to_ecef(0.0, 0.0, 0.0)
>>> float(x) == WGS84_A and float(y) == 0.0 and float(z) == 0.0
True
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["WGS84_A", "WGS84_E2", "WGS84_F", "enu_basis", "geodetic_to_ecef"]

FloatArray = npt.NDArray[np.float64]

WGS84_A = 6_378_137.0
WGS84_F = 1.0 / 298.257223563
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)


def geodetic_to_ecef(
    lon_deg: npt.ArrayLike, lat_deg: npt.ArrayLike, h_m: npt.ArrayLike = 0.0
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """WGS-84 geodetic coordinates (degrees, metres) to Earth-centred Earth-fixed metres."""
    lon = np.radians(np.asarray(lon_deg, dtype=np.float64))
    lat = np.radians(np.asarray(lat_deg, dtype=np.float64))
    h = np.asarray(h_m, dtype=np.float64)
    sin_lat = np.sin(lat)
    cos_lat = np.cos(lat)
    n = WGS84_A / np.sqrt(1.0 - WGS84_E2 * sin_lat**2)
    x = (n + h) * cos_lat * np.cos(lon)
    y = (n + h) * cos_lat * np.sin(lon)
    z = (n * (1.0 - WGS84_E2) + h) * sin_lat
    return x, y, z


def enu_basis(
    lon_deg: npt.ArrayLike, lat_deg: npt.ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Unit east, north and up vectors (ECEF components on the last axis) at each point."""
    lon = np.radians(np.asarray(lon_deg, dtype=np.float64))
    lat = np.radians(np.asarray(lat_deg, dtype=np.float64))
    sl, cl = np.sin(lon), np.cos(lon)
    sp, cp = np.sin(lat), np.cos(lat)
    zero = np.zeros_like(sl)
    east = np.stack([-sl, cl, zero], axis=-1)
    north = np.stack([-sp * cl, -sp * sl, cp * np.ones_like(sl)], axis=-1)
    up = np.stack([cp * cl, cp * sl, sp * np.ones_like(sl)], axis=-1)
    return east, north, up

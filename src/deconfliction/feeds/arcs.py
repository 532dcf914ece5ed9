"""Arcs around a centre, as geodesic points no more than :data:`MAX_ARC_SPACING_M` and
:data:`MAX_ARC_STEP_DEG` apart (the second keeps small arcs round: a 1 NM quarter
circle gets 30 points, not 3).

OpenAIR draws arcs around a centre (``V X=``), clockwise or counter-clockwise
(``V D=+`` / ``V D=-``), either by radius and azimuths (``DA``) or between two points
(``DB``). Each arc becomes the points at the right geodesic distance and azimuth from
the centre (WGS-84); azimuths are degrees clockwise from true north.

>>> points = arc_by_angles(8.0, 47.0, 10_000.0, 0.0, 90.0, clockwise=True)
>>> len(points)  # a quarter of a 10 km circle: 15.7 km, so 30 steps of 3 degrees
31
>>> [round(c, 3) for c in points[0]], [round(c, 3) for c in points[-1]]
([8.0, 47.09], [8.131, 47.0])
"""

from __future__ import annotations

import math

import numpy as np

from deconfliction.core.earth import WGS84
from deconfliction.core.units import Degrees, Metres

__all__ = ["MAX_ARC_SPACING_M", "MAX_ARC_STEP_DEG", "arc_between", "arc_by_angles", "sweep_deg"]

MAX_ARC_SPACING_M: Metres = 1_000.0
MAX_ARC_STEP_DEG: Degrees = 3.0

Point = tuple[float, float]


def sweep_deg(start_deg: Degrees, end_deg: Degrees, clockwise: bool) -> Degrees:
    """Signed turn from azimuth ``start_deg`` to ``end_deg`` in the given direction:
    in (0, 360] clockwise, in [-360, 0) counter-clockwise; equal azimuths make a full turn.

    >>> sweep_deg(350.0, 10.0, clockwise=True), sweep_deg(350.0, 10.0, clockwise=False)
    (20.0, -340.0)
    """
    turn = (end_deg - start_deg) % 360.0 if clockwise else (start_deg - end_deg) % 360.0
    if turn == 0.0:
        turn = 360.0
    return turn if clockwise else -turn


def _spiral(
    lon: float, lat: float, start_deg: float, sweep: float, r_start: float, r_end: float
) -> list[Point]:
    """Points from azimuth ``start_deg`` turning by ``sweep`` degrees, the radius going
    linearly from ``r_start`` to ``r_end`` metres; both ends included."""
    length = max(r_start, r_end) * math.radians(abs(sweep)) + abs(r_end - r_start)
    steps = max(1, math.ceil(length / MAX_ARC_SPACING_M), math.ceil(abs(sweep) / MAX_ARC_STEP_DEG))
    fraction = np.linspace(0.0, 1.0, steps + 1)
    azimuths = start_deg + sweep * fraction
    radii = r_start + (r_end - r_start) * fraction
    lons, lats, _ = WGS84.fwd(np.full(steps + 1, lon), np.full(steps + 1, lat), azimuths, radii)
    return list(zip(np.asarray(lons).tolist(), np.asarray(lats).tolist(), strict=True))


def arc_by_angles(
    lon: Degrees,
    lat: Degrees,
    radius_m: Metres,
    start_deg: Degrees,
    end_deg: Degrees,
    clockwise: bool,
) -> list[Point]:
    """The arc of radius ``radius_m`` around (lon, lat) from azimuth ``start_deg`` to
    ``end_deg`` (degrees true), as (lon, lat) points, both ends included."""
    sweep = sweep_deg(start_deg, end_deg, clockwise)
    return _spiral(lon, lat, start_deg, sweep, radius_m, radius_m)


def arc_between(
    lon: Degrees, lat: Degrees, start: Point, end: Point, clockwise: bool
) -> list[Point]:
    """The arc around (lon, lat) from the point ``start`` to the point ``end``.

    Charted arcs put both ends at the same distance from the centre, up to rounding of
    their coordinates; where they differ the radius changes evenly along the arc, so
    the arc begins and ends exactly at the given points."""
    az_start, _, r_start = WGS84.inv(lon, lat, start[0], start[1])
    az_end, _, r_end = WGS84.inv(lon, lat, end[0], end[1])
    if r_start == 0.0 or r_end == 0.0:
        return [start, end]
    sweep = sweep_deg(az_start, az_end, clockwise)
    points = _spiral(lon, lat, az_start, sweep, r_start, r_end)
    points[0] = start
    points[-1] = end
    return points

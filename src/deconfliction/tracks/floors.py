"""The floor under aircraft, learned from the feed itself, in the feed's own reference.

Feeds report barometric (pressure) altitude. On a high-pressure day aircraft on final
at an airport near sea level read tens of metres *below* 0 m (on the Paris recording,
-30 to -76 m), so a fixed floor of 0 m would call them landed and silence real
warnings. :class:`FloorMap` therefore lowers the floor where the feed reads lower:

* the map is a grid of cells of :data:`CELL_DEG` degrees; for each it keeps the lowest
  altitude reported there by aircraft in flight, and the lowest altitude of aircraft
  reported *on the ground* there;
* the floor at a position starts from its **base**: the on-ground altitude of its own
  cell where the feed gave one (the ground in the feed's reference), else the floor of
  the authority's standing zone around it where one gives a floor (``zone_m`` of
  :meth:`FloorMap.under`, read by :mod:`.zone_floors`), else the deployment's floor;
* and it is never above the lowest altitude seen in flight in its cell and the 8 around
  it less the ground height (an aircraft seen flying there was above the ground, and
  the approaches to an airport lie in the cells beside it): a zone's floor, given
  above mean sea level, never puts an aircraft the feed shows flying below it (a
  barometric feed on a high-pressure day) into the ground.

The ground is a fact about the place it was reported (an airport), so it stays in its
cell: carried to the neighbours, an airport's ground would lower or raise the floor
28 km away, and a ground altitude that the feed (or a replay) derived from the floors
around it would be carried one ring of cells further each time (the Paris recording's
arrivals were predicted down to -114 m where nothing had been seen below +23 m).

It only ever lowers the floor below what aircraft were seen at, and raises it only to
where aircraft were reported on the ground: a feed that never says "on ground" keeps
the deployment's floor except where it reads lower.

>>> import numpy as np
>>> floors = FloorMap(default_m=0.0, ground_height_m=30.0)
>>> floors.see(np.array([2.55]), np.array([49.0]), np.array([-50.0]), np.array([False]))
>>> floors.under(np.array([2.56, 8.5]), np.array([49.01, 47.0])).tolist()
[-80.0, 0.0]
>>> floors.under(np.array([2.56, 8.5]), np.array([49.01, 47.0]), np.array([119.0, 400.0])).tolist()
[-80.0, 400.0]
"""

from __future__ import annotations

import math

import numpy as np

from deconfliction.tactical.state import BoolArray, FloatArray

__all__ = ["CELL_DEG", "FloorMap"]

CELL_DEG = 0.25
"""Cell size of the map, degrees of latitude and longitude (about 28 km by 18 km in
Europe): with its neighbours, a terminal area (an airport, its approaches and the
airports beside it) shares one floor, as it shares one pressure."""

_NEIGHBOURS = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]


def _cells(lon: FloatArray, lat: FloatArray) -> tuple[np.ndarray, np.ndarray]:
    return (
        np.floor(lat / CELL_DEG).astype(np.int64),
        np.floor(lon / CELL_DEG).astype(np.int64),
    )


class FloorMap:
    """Floors per cell learned from reports; see the module docstring."""

    def __init__(self, default_m: float, ground_height_m: float) -> None:
        self._default = default_m
        self._height = ground_height_m
        self._seen: dict[tuple[int, int], float] = {}
        self._ground: dict[tuple[int, int], float] = {}

    def see(
        self, lon: FloatArray, lat: FloatArray, alt_m: FloatArray, on_ground: BoolArray
    ) -> None:
        """Take accepted reports into the map."""
        for low, flags in ((self._seen, ~on_ground), (self._ground, on_ground)):
            rows = np.flatnonzero(flags)
            if rows.size == 0:
                continue
            cy, cx = _cells(lon[rows], lat[rows])
            keys, inverse = np.unique(np.stack([cy, cx], axis=1), axis=0, return_inverse=True)
            lowest = np.full(keys.shape[0], np.inf)
            np.minimum.at(lowest, inverse.reshape(-1), alt_m[rows])
            for (y, x), value in zip(keys.tolist(), lowest.tolist(), strict=True):
                key = (y, x)
                low[key] = min(low.get(key, math.inf), value)

    def under(
        self, lon: FloatArray, lat: FloatArray, zone_m: FloatArray | None = None
    ) -> FloatArray:
        """The floor at each position, metres. ``zone_m``: the floor an authority's
        standing zone gives at each position (``inf`` where none does), taken as the
        base where the feed reported no ground in the cell."""
        base = np.full(lon.shape[0], self._default)
        if zone_m is not None:
            base = np.where(np.isfinite(zone_m), zone_m, base)
        if not (self._seen or self._ground) or lon.shape[0] == 0:
            return base
        cy, cx = _cells(lon, lat)
        keys, inverse = np.unique(np.stack([cy, cx], axis=1), axis=0, return_inverse=True)
        cells = [self._cell(y, x) for y, x in keys.tolist()]
        ground = np.array([g for g, _ in cells])[inverse.reshape(-1)]
        limit = np.array([lim for _, lim in cells])[inverse.reshape(-1)]
        floor: FloatArray = np.minimum(np.where(np.isnan(ground), base, ground), limit)
        return floor

    def _cell(self, y: int, x: int) -> tuple[float, float]:
        """The on-ground altitude of the cell (NaN if none) and the highest floor that
        the aircraft seen in flight around it allow (``inf`` if none)."""
        near = [(y + dy, x + dx) for dy, dx in _NEIGHBOURS]
        seen = min((self._seen[k] for k in near if k in self._seen), default=math.inf)
        return self._ground.get((y, x), math.nan), seen - self._height

"""Seeded random volumes of realistic sizes: what the strategic benchmark stores and files.

A :class:`VolumeMix` says where and how big: footprints 1-50 km across (log-uniform;
a share of geodesic circles, the rest star-shaped polygons of 4-10 vertices), windows
1-6 h long starting anywhere in one week, altitude bands 300-3,000 m thick between
0 and 15,000 m, centres uniform over a disc ~500 km across. Metres, seconds, UTC.

Volumes come in chunks of :data:`CHUNK` drawn from their own generator, seeded by
``(seed, stream, chunk)``, so a chunk is the same whichever process draws it and
however many processes share the work.

>>> mix = VolumeMix()
>>> a = volume_chunk(mix, seed=7, stream=0, chunk=3)
>>> b = volume_chunk(mix, seed=7, stream=0, chunk=3)
>>> len(a) == CHUNK and [p for p, _ in a] == [p for p, _ in b]
True
>>> all(1 <= p <= mix.parties for p, _ in a)
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import numpy as np

from deconfliction.core.earth import WGS84
from deconfliction.core.footprint import Footprint
from deconfliction.core.volume import Volume4D

__all__ = ["CHUNK", "VolumeMix", "random_volume", "volume_chunk"]

CHUNK = 1_000


@dataclass(frozen=True)
class VolumeMix:
    """The distribution volumes are drawn from (degrees, metres, seconds, UTC).

    Centres lie uniformly within ``radius_m`` of (``lon``, ``lat``); parties are drawn
    uniformly from ``1..parties`` (party ids of the benchmark store). The week lies
    ahead of the clock (in 2030): a server on the real clock then finds nothing of it
    due yet, as in service, instead of working through a week of notices to close.
    """

    lon: float = 8.0
    lat: float = 47.0
    radius_m: float = 250_000.0
    min_across_m: float = 1_000.0
    max_across_m: float = 50_000.0
    circle_share: float = 0.5
    week_start: datetime = datetime(2030, 1, 7, tzinfo=UTC)  # a Monday
    week_s: float = 7 * 86_400.0
    min_window_s: float = 3_600.0
    max_window_s: float = 6 * 3_600.0
    floor_m: float = 0.0
    ceiling_m: float = 15_000.0
    min_thickness_m: float = 300.0
    max_thickness_m: float = 3_000.0
    parties: int = 20

    def piled(self, lon: float, lat: float, across_m: float) -> VolumeMix:
        """The same mix piled into one area ``across_m`` wide: every footprint lies inside.

        Footprints are 1 km up to half the area across; centres keep clear of its edge.
        """
        largest = max(self.min_across_m, across_m / 2.0)
        return replace(
            self, lon=lon, lat=lat, radius_m=(across_m - largest) / 2.0, max_across_m=largest
        )


def random_volume(rng: np.random.Generator, mix: VolumeMix) -> Volume4D:
    """One volume drawn from ``mix``."""
    distance = mix.radius_m * math.sqrt(rng.uniform())
    lon, lat, _ = WGS84.fwd(mix.lon, mix.lat, rng.uniform(0.0, 360.0), distance)
    across = math.exp(rng.uniform(math.log(mix.min_across_m), math.log(mix.max_across_m)))
    if rng.uniform() < mix.circle_share:
        footprint = Footprint.circle_at(float(lon), float(lat), across / 2.0)
    else:
        footprint = _star_polygon(rng, float(lon), float(lat), across / 2.0)
    thickness = rng.uniform(mix.min_thickness_m, mix.max_thickness_m)
    lower = rng.uniform(mix.floor_m, mix.ceiling_m - thickness)
    start = mix.week_start + timedelta(seconds=round(rng.uniform(0.0, mix.week_s)))
    window = timedelta(seconds=round(rng.uniform(mix.min_window_s, mix.max_window_s)))
    return Volume4D(footprint, round(lower, 1), round(lower + thickness, 1), start, start + window)


def _star_polygon(rng: np.random.Generator, lon: float, lat: float, radius_m: float) -> Footprint:
    """A simple polygon: 4-10 vertices around the centre, 60-100 % of ``radius_m`` out.

    Azimuths are evenly spaced, jittered by under half a step, so every gap between
    neighbours stays under 180° and the ring cannot cross itself.
    """
    n = int(rng.integers(4, 11))
    step = 360.0 / n
    azimuths = rng.uniform(0.0, 360.0) + step * (np.arange(n) + rng.uniform(-0.35, 0.35, n))
    distances = radius_m * rng.uniform(0.6, 1.0, n)
    lons, lats, _ = WGS84.fwd(np.full(n, lon), np.full(n, lat), azimuths, distances)
    ring = [(float(x), float(y)) for x, y in zip(lons, lats, strict=True)]
    return Footprint.polygon([*ring, ring[0]])


def volume_chunk(
    mix: VolumeMix, seed: int, stream: int, chunk: int, count: int = CHUNK
) -> list[tuple[int, Volume4D]]:
    """``count`` (party id, volume) pairs, chunk number ``chunk`` of stream ``stream``."""
    rng = np.random.default_rng([seed, stream, chunk])
    return [(int(rng.integers(1, mix.parties + 1)), random_volume(rng, mix)) for _ in range(count)]

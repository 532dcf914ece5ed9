"""Traffic for the tactical tests: hypothesis strategies and seeded random fleets.

Fleets gather around a few centres chosen to be awkward for an Earth model: Zurich,
the equator, both sides of the antimeridian, a few kilometres from each pole. Positions
are placed by geodesic distance and azimuth from the centre, so they wrap across the
antimeridian and over the poles as real traffic would. Altitudes are often exact
multiples of 1,000 ft (flight levels), so pairs exactly H apart come up all the time.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from deconfliction.core.earth import WGS84
from deconfliction.tactical import TrafficState

__all__ = ["CENTRES", "fleet", "states"]

CENTRES = [
    (8.5, 47.4),
    (0.0, 0.0),
    (179.97, -17.0),
    (-179.97, 52.0),
    (30.0, 89.96),
    (-120.0, -89.97),
]

_FL_M = 304.8

_altitudes = st.one_of(
    st.integers(0, 43).map(lambda fl: fl * _FL_M),
    st.integers(0, 430).map(lambda hundreds: hundreds * _FL_M / 10.0),
    st.floats(0.0, 13_000.0),
)
_vertical = st.one_of(st.just(0.0), st.just(0.0), st.floats(-25.0, 25.0))
_ground = st.one_of(st.just(0.0), st.floats(0.0, 320.0), st.sampled_from([100.0, 200.0]))
_track = st.one_of(st.sampled_from([0.0, 90.0, 180.0, 270.0]), st.floats(0.0, 360.0))


def _place(centre: tuple[float, float], azimuth: Any, distance: Any) -> tuple[Any, Any]:
    n = np.shape(azimuth)
    lon, lat, _ = WGS84.fwd(np.full(n, centre[0]), np.full(n, centre[1]), azimuth, distance)
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


@st.composite
def states(
    draw: st.DrawFn, max_aircraft: int = 24, spread_m: float = 120_000.0, parties: int = 4
) -> TrafficState:
    """A small fleet near one awkward centre, with some per-aircraft zone overrides."""
    centre = draw(st.sampled_from(CENTRES))
    rows = draw(
        st.lists(
            st.tuples(
                st.floats(0.0, 360.0),
                st.floats(0.0, spread_m),
                _altitudes,
                _ground,
                _track,
                _vertical,
                st.integers(0, parties - 1),
                st.one_of(st.just(np.nan), st.just(np.nan), st.floats(1_000.0, 20_000.0)),
            ),
            min_size=2,
            max_size=max_aircraft,
        )
    )
    az, dist, alt, gs, trk, vs, party, rpz = (
        np.array(c, dtype=np.float64) for c in zip(*rows, strict=True)
    )
    lon, lat = _place(centre, az, dist)
    return TrafficState(
        ids=[f"ac{k}" for k in range(len(rows))],
        party=party.astype(np.int64),
        lon=lon,
        lat=lat,
        alt_m=alt,
        gs_mps=gs,
        trk_deg=trk,
        vs_mps=vs,
        rpz_m=rpz if draw(st.booleans()) else None,
    )


def fleet(seed: int, n: int, centre: tuple[float, float], spread_m: float) -> TrafficState:
    """``n`` aircraft within ``spread_m`` of ``centre``: 75 % level on flight levels,
    the rest climbing or descending, 60-260 m/s, each of its own party."""
    rng = np.random.default_rng(seed)
    lon, lat = _place(centre, rng.uniform(0, 360, n), spread_m * np.sqrt(rng.uniform(0, 1, n)))
    level = rng.random(n) < 0.75
    alt = np.where(level, rng.integers(5, 44, n) * 1000 * 0.3048, rng.uniform(0, 13_000, n))
    return TrafficState(
        ids=[f"ac{k}" for k in range(n)],
        party=np.arange(n),
        lon=lon,
        lat=lat,
        alt_m=alt,
        gs_mps=rng.uniform(60, 260, n),
        trk_deg=rng.uniform(0, 360, n),
        vs_mps=np.where(level, 0.0, rng.choice([-1.0, 1.0], n) * rng.uniform(2, 20, n)),
    )

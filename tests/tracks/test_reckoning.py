"""Dead reckoning against the WGS-84 geodesic: distance flown, track held, way back."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from deconfliction.core.earth import WGS84, geodesic_distance_m
from deconfliction.core.volume import MAX_ALTITUDE_M, MIN_ALTITUDE_M
from deconfliction.tracks.reckoning import advance


def _one(value: float) -> np.ndarray:
    return np.array([value], dtype=np.float64)


@given(
    lon=st.floats(-180, 180),
    lat=st.floats(-89.9, 89.9),
    gs=st.floats(0, 1000),
    trk=st.floats(0, 359.99),
    dt=st.floats(-60, 300),
)
def test_an_aircraft_flies_its_speed_along_the_geodesic_and_back(
    lon: float, lat: float, gs: float, trk: float, dt: float
) -> None:
    out = advance(_one(lon), _one(lat), _one(1000.0), _one(gs), _one(trk), _one(0.0), dt)
    flown = float(geodesic_distance_m(lon, lat, out.lon, out.lat)[0])
    assert abs(flown - gs * abs(dt)) <= 1e-6 * gs * abs(dt) + 1e-3
    back = advance(out.lon, out.lat, out.alt_m, _one(gs), out.trk_deg, _one(0.0), -dt)
    assert float(geodesic_distance_m(lon, lat, back.lon, back.lat)[0]) < 1e-3
    if gs * abs(dt) > 1.0:  # the track carried along is the geodesic's at the far end
        expected_az = WGS84.inv(out.lon, out.lat, lon, lat)[0] + (180.0 if dt > 0 else 0.0)
        turn = (float(out.trk_deg[0]) - float(expected_az[0]) + 180.0) % 360.0 - 180.0
        assert abs(turn) < 1e-3


def test_crossing_the_antimeridian_and_the_pole() -> None:
    out = advance(
        np.array([179.99, 30.0]),
        np.array([0.0, 89.99]),
        np.array([3000.0, 3000.0]),
        np.array([250.0, 250.0]),
        np.array([90.0, 0.0]),
        np.array([0.0, 0.0]),
        60.0,
    )
    assert -180.0 < out.lon[0] < -179.8
    assert out.lat[1] < 89.99
    assert abs(abs(out.lon[1] - 30.0) - 180.0) < 1e-6
    assert abs(out.trk_deg[1] - 180.0) < 1e-6  # now heading south


def test_altitude_changes_at_the_vertical_speed_within_the_limits() -> None:
    out = advance(
        np.array([8.0, 8.0, 8.0]),
        np.array([47.0, 47.0, 47.0]),
        np.array([1000.0, 100.0, MAX_ALTITUDE_M - 10.0]),
        np.zeros(3),
        np.zeros(3),
        np.array([-5.0, -50.0, 50.0]),
        np.array([60.0, 60.0, 1.0]),
    )
    assert out.alt_m.tolist() == [700.0, MIN_ALTITUDE_M, MAX_ALTITUDE_M]
    assert out.lon.tolist() == [8.0, 8.0, 8.0]  # standing still
    assert out.trk_deg.tolist() == [0.0, 0.0, 0.0]

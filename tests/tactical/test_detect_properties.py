"""Properties of detect: exactly the brute force's pairs, symmetric, right by an
independent reference, whatever the place on Earth."""

from __future__ import annotations

import math
from dataclasses import fields

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deconfliction.tactical import (
    ConflictSet,
    DetectionParams,
    TrafficState,
    detect,
    detect_all_pairs,
)
from deconfliction.tactical.kinematics import Motion
from deconfliction.tactical.pruning import plane_drift_m
from tests.tactical.scalar import all_encounters
from tests.tactical.traffic import CENTRES, fleet, states

_params = st.builds(
    DetectionParams,
    rpz_m=st.sampled_from([9260.0, 1852.0, 30_000.0]),
    hpz_m=st.sampled_from([304.8, 152.4, 600.0]),
    lookahead_s=st.sampled_from([300.0, 60.0, 900.0]),
)

_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_identical(fast: ConflictSet, slow: ConflictSet) -> None:
    for f in fields(ConflictSet):
        a, b = getattr(fast, f.name), getattr(slow, f.name)
        assert a.dtype == b.dtype, f.name
        np.testing.assert_array_equal(a, b, err_msg=f.name)


@_SETTINGS
@given(state=states(), params=_params, chunk=st.sampled_from([1, 3, 64, 1 << 20]))
def test_the_grid_finds_exactly_the_brute_force_pairs(
    state: TrafficState, params: DetectionParams, chunk: int
) -> None:
    assert_identical(detect(state, params, chunk_pairs=chunk), detect_all_pairs(state, params))


@pytest.mark.parametrize("centre", CENTRES)
def test_the_grid_finds_exactly_the_brute_force_pairs_in_dense_traffic(
    centre: tuple[float, float],
) -> None:
    state = fleet(seed=3, n=1_200, centre=centre, spread_m=150_000.0)
    found = detect(state)
    assert len(found) > 100  # dense enough to mean something
    assert_identical(found, detect_all_pairs(state))


@_SETTINGS
@given(state=states(max_aircraft=12), params=_params)
def test_the_vectorised_test_agrees_with_a_scalar_one(
    state: TrafficState, params: DetectionParams
) -> None:
    found = detect_all_pairs(state, params)
    fast = {(int(i), int(j)): k for k, (i, j) in enumerate(zip(found.i, found.j, strict=True))}
    for pair, reference in all_encounters(state, params).items():
        if reference.margin < 1e-6:
            continue  # on a threshold to within rounding: either verdict is right
        assert (pair in fast) is reference.conflict, pair
        if not reference.conflict:
            continue
        k = fast[pair]
        assert bool(found.los[k]) is reference.los
        for name in ("tin", "tout", "tcpa"):
            value, expected = float(getattr(found, name)[k]), getattr(reference, name)
            assert value == expected or math.isclose(value, expected, rel_tol=1e-7, abs_tol=1e-6)
        assert math.isclose(float(found.dcpa[k]), reference.dcpa, rel_tol=1e-7, abs_tol=1e-4)


@_SETTINGS
@given(state=states(), params=_params, seed=st.integers(0, 2**32 - 1))
def test_the_order_of_the_aircraft_changes_nothing(
    state: TrafficState, params: DetectionParams, seed: int
) -> None:
    order = np.random.default_rng(seed).permutation(len(state))
    base = detect(state, params)
    shuffled = detect(state.take(order), params)
    i, j = order[shuffled.i], order[shuffled.j]
    mapped = ConflictSet(
        np.minimum(i, j),
        np.maximum(i, j),
        shuffled.tcpa,
        shuffled.dcpa,
        shuffled.tin,
        shuffled.tout,
        shuffled.los,
    )
    joined = ConflictSet.joined([mapped])
    # A pair's two aircraft may swap roles with the order, which may round its times
    # differently in the last bit; which pairs conflict, and when, may not change.
    for f in fields(ConflictSet):
        a, b = getattr(base, f.name), getattr(joined, f.name)
        assert a.dtype == b.dtype, f.name
        if a.dtype.kind == "f":
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-9, err_msg=f.name)
        else:
            np.testing.assert_array_equal(a, b, err_msg=f.name)


@_SETTINGS
@given(
    state=states(max_aircraft=16, spread_m=400_000.0),
    lookahead_s=st.sampled_from([300.0, 900.0]),
)
def test_the_pruning_margin_bounds_how_far_a_conflict_leaves_the_pair_plane(
    state: TrafficState, lookahead_s: float
) -> None:
    """The grid's boxes are grown by plane_drift_m: the out-of-plane part of the ECEF
    separation of a pair, at a moment it is in conflict, must never exceed it."""
    params = DetectionParams(rpz_m=30_000.0, lookahead_s=lookahead_s)
    found = detect_all_pairs(state, params)
    motion = Motion.of(state.lon, state.lat, state.gs_mps, state.trk_deg)
    bound = plane_drift_m(float(state.gs_mps.max()), params.rpz_m, lookahead_s)
    for k in range(len(found)):
        i, j = int(found.i[k]), int(found.j[k])
        t = (float(found.tin[k]) + min(float(found.tout[k]), lookahead_s)) / 2.0
        normal = motion.normal[i] + motion.normal[j]
        normal /= np.linalg.norm(normal)
        apart = motion.position[j] - motion.position[i]
        apart += (motion.velocity[j] - motion.velocity[i]) * t
        assert abs(float(apart @ normal)) <= bound

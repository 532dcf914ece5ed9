"""The prediction model for real feeds: floor, altitude quantum, level dead band,
aircraft on the ground (issue 9). Exact geometry (the default model) is judged by the
brute force elsewhere; here each rule is checked on its own, and the grid against the
brute force under every model."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deconfliction.errors import ValidationError
from deconfliction.tactical import (
    SEPARATION_TOLERANCE_M,
    ConflictSet,
    DetectionParams,
    TrafficState,
    detect,
    detect_all_pairs,
)
from deconfliction.tactical.detect import detect_chunks
from deconfliction.tactical.model import landing_s, level, on_ground, predicted_alt
from deconfliction.tactical.params import EXACT, FEED_MODEL, PredictionModel
from tests.tactical.scalar import ecef, enu, velocity
from tests.tactical.test_detect_properties import assert_identical
from tests.tactical.traffic import states

_SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEED = DetectionParams(model=FEED_MODEL)

_models = st.builds(
    PredictionModel,
    floor_m=st.one_of(st.none(), st.sampled_from([0.0, 500.0, 3_000.0, -60.0])),
    altitude_quantum_m=st.sampled_from([0.0, 7.62, 30.0]),
    level_vs_mps=st.sampled_from([0.0, 0.5, 3.0]),
    ground_height_m=st.sampled_from([0.0, 30.48]),
    takeoff_speed_mps=st.sampled_from([0.0, 30.0, 150.0]),
)


@st.composite
def _fed(draw: st.DrawFn) -> TrafficState:
    """A fleet as a feed sends it: some aircraft with their own floor, some on the ground."""
    state = draw(states())
    n = len(state)
    floor = draw(st.lists(st.sampled_from([math.nan, 0.0, 400.0, -70.0]), min_size=n, max_size=n))
    ground = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    columns: dict[str, Any] = {
        name: getattr(state, name)
        for name in ("ids", "party", "lon", "lat", "alt_m", "gs_mps", "trk_deg", "vs_mps")
    }
    columns["rpz_m"] = state.rpz_m
    if draw(st.booleans()):
        columns["floor_m"] = floor
    if draw(st.booleans()):
        columns["on_ground"] = ground
    columns.update(draw(_feed_columns(n)))
    return TrafficState(**columns)


@st.composite
def _feed_columns(draw: st.DrawFn, n: int) -> dict[str, list[float]]:
    """Per-aircraft feed settings as a service with parties of several feeds sends them:
    an altitude quantum and a dead band per row (NaN: the model's), or none."""
    columns = {}
    for name, values in (
        ("quantum_m", [math.nan, 0.0, 7.62, 30.0]),
        ("level_vs_mps", [math.nan, 0.0, 0.5, 3.0]),
    ):
        if draw(st.booleans()):
            columns[name] = draw(st.lists(st.sampled_from(values), min_size=n, max_size=n))
    return columns


def _state(*rows: tuple[Any, ...], **extra: Any) -> TrafficState:
    ids, lat, lon, alt, gs, trk, vs = zip(*rows, strict=True)
    return TrafficState(
        ids=ids,
        party=list(range(len(rows))),
        lat=lat,
        lon=lon,
        alt_m=alt,
        gs_mps=gs,
        trk_deg=trk,
        vs_mps=vs,
        **extra,
    )


@_SETTINGS
@given(state=_fed(), model=_models, chunk=st.sampled_from([1, 64, 1 << 20]))
def test_the_grid_finds_exactly_the_brute_force_pairs_under_any_model(
    state: TrafficState, model: PredictionModel, chunk: int
) -> None:
    params = DetectionParams(model=model)
    assert_identical(detect(state, params, chunk_pairs=chunk), detect_all_pairs(state, params))


def _sampled(state: TrafficState, params: DetectionParams, i: int, j: int, t: Any) -> Any:
    """Inside both limits at each time ``t`` (an array), the slow way: positions along
    each aircraft's straight path in the pair plane, altitudes as the model predicts
    them, nobody landed."""
    model = params.model
    up = np.add(enu(float(state.lon[i]), float(state.lat[i]))[2], enu(*_at(state, j))[2])
    u = up / np.linalg.norm(up)
    d = np.subtract(ecef(*_at(state, j)), ecef(*_at(state, i)))
    w = np.subtract(velocity(state, j), velocity(state, i))
    d, w = d - u * (d @ u), w - u * (w @ u)
    gap = d[None, :] + w[None, :] * t[:, None]
    horizontal = np.sqrt((gap * gap).sum(axis=1))
    assert model.floor_m is not None
    floor = np.full(2, model.floor_m)
    bands = None if state.level_vs_mps is None else state.level_vs_mps[[i, j]]
    vs = level(state.vs_mps[[i, j]], model, bands)
    alt = [predicted_alt(state.alt_m[[k]], vs[[n]], floor[[n]], t) for n, k in enumerate((i, j))]
    landed = [t >= landing_s(state.alt_m[[k]], vs[[n]], floor[[n]]) for n, k in enumerate((i, j))]
    quantum = [model.altitude_quantum_m] * 2
    if state.quantum_m is not None:  # each row's own, else the model's
        quantum = [
            model.altitude_quantum_m if math.isnan(q) else q for q in state.quantum_m[[i, j]]
        ]
    h = max(params.hpz_m - q for q in quantum) - SEPARATION_TOLERANCE_M
    zones = [params.rpz_m] if state.rpz_m is None else state.rpz_m[[i, j]].tolist()
    r = max(params.rpz_m if math.isnan(z) else z for z in zones) - SEPARATION_TOLERANCE_M
    return (horizontal, np.abs(alt[1] - alt[0]), r, h, ~(landed[0] | landed[1]))


@st.composite
def _with_feed_columns(draw: st.DrawFn) -> TrafficState:
    """A small fleet, with per-aircraft quanta and dead bands or without."""
    state = draw(states(max_aircraft=6))
    columns = {name: getattr(state, name) for name in ("ids", "party", "lon", "lat", "alt_m")}
    columns.update(gs_mps=state.gs_mps, trk_deg=state.trk_deg, vs_mps=state.vs_mps)
    return TrafficState(**columns, rpz_m=state.rpz_m, **draw(_feed_columns(len(state))))


@_SETTINGS
@given(
    state=_with_feed_columns(),
    floor=st.sampled_from([0.0, 1_500.0, 6_000.0]),
    quantum=st.sampled_from([0.0, 7.62]),
)
def test_conflicts_above_the_floor_agree_with_a_sampler(
    state: TrafficState, floor: float, quantum: float
) -> None:
    params = DetectionParams(model=PredictionModel(floor_m=floor, altitude_quantum_m=quantum))
    found = detect(state, params)
    reported = {
        (int(a), int(b)): (float(tin), float(tout))
        for a, b, tin, tout in zip(found.i, found.j, found.tin, found.tout, strict=True)
    }
    t = np.linspace(0.0, params.lookahead_s, 3001)[:-1]
    margin_m = 1.0
    for i in range(len(state)):
        for j in range(i + 1, len(state)):
            if state.party[i] == state.party[j]:
                continue
            horizontal, vertical, r, h, airborne = _sampled(state, params, i, j, t)
            surely = (horizontal < r - margin_m) & (vertical < h - margin_m) & airborne
            if surely.any():  # inside at a sample: reported, entering no later
                assert (i, j) in reported, (i, j, float(t[surely][0]))
                assert reported[(i, j)][0] <= t[surely][0] + 1e-6
            if (i, j) in reported:  # reported: inside just after it enters
                tin, tout = reported[(i, j)]
                at = np.array([tin + min(tout - tin, params.lookahead_s) * 1e-6])
                horizontal, vertical, r, h, airborne = _sampled(state, params, i, j, at)
                assert horizontal[0] < r + margin_m
                assert vertical[0] < h + margin_m
                assert tin >= params.lookahead_s or airborne[0] or tout - tin < 1e-3


@_SETTINGS
@given(state=states(max_aircraft=6), floor=st.sampled_from([0.0, 1_500.0, 6_000.0]))
def test_the_closest_approach_is_the_closest_before_the_first_landing(
    state: TrafficState, floor: float
) -> None:
    params = DetectionParams(model=PredictionModel(floor_m=floor))
    found = detect(state, params)
    vs = state.vs_mps
    lands = landing_s(state.alt_m, vs, np.full(len(state), floor))
    for i, j, tcpa, dcpa in zip(found.i, found.j, found.tcpa, found.dcpa, strict=True):
        first = min(float(lands[i]), float(lands[j]))
        assert 0.0 <= float(tcpa) <= first
        # No sampled moment before the first landing is closer than the one reported.
        t = np.linspace(0.0, min(first, 10 * params.lookahead_s), 2001)
        horizontal = _sampled(state, params, int(i), int(j), t)[0]
        assert float(dcpa) <= horizontal.min() + 1.0


def test_a_closest_approach_after_a_landing_is_reported_at_the_landing() -> None:
    # Two arrivals 8.8 km apart, the faster behind: exact geometry meets them closest in
    # about 440 s, 1,800 m below the ground; landed at 0 m after 80 s, they are closest
    # at the landing, and the alert's point is there, on the floor, not beyond it.
    state = _state(("A", 49.0, 2.40, 400, 80, 90, -5), ("B", 49.0, 2.52, 400, 60, 90, -5))
    exact = detect(state, EXACT_PARAMS)
    assert float(exact.tcpa[0]) > 400.0
    found = detect(state, FEED)
    assert float(found.tcpa[0]) == pytest.approx(80.0)
    assert float(found.dcpa[0]) == pytest.approx(8_800 - 80 * 20, rel=0.01)
    assert float(found.tin[0]) == 0.0
    assert float(found.tout[0]) == pytest.approx(80.0)


def _at(state: TrafficState, k: int) -> tuple[float, float]:
    return float(state.lon[k]), float(state.lat[k])


def test_the_issue_repro_gives_no_conflict_with_the_feed_model() -> None:
    # Two arrivals through the ground: exact geometry meets them at about -53 m.
    state = _state(("A", 49.00, 2.40, 400, 70, 90, -5), ("B", 49.00, 2.70, 400, 70, 270, -5))
    exact = detect(state)
    assert len(exact) == 1
    assert round(float(exact.tin[0])) == 91
    assert float(predicted_alt(state.alt_m, state.vs_mps, None, 91.0)[0]) < -50
    assert len(detect(state, FEED)) == 0


def test_a_head_on_at_one_level_and_a_descent_onto_each_other_still_conflict() -> None:
    head_on = _state(("A", 49.0, 2.4, 3_000, 200, 90, 0), ("B", 49.0, 2.7, 3_000, 200, 270, 0))
    assert len(detect(head_on, FEED)) == 1
    descending = _state(("A", 49.0, 2.4, 1_400, 70, 90, -5), ("B", 49.0, 2.7, 1_400, 70, 270, -5))
    found = detect(descending, FEED)
    assert len(found) == 1
    assert float(found.tin[0]) == pytest.approx(90.65, abs=0.01)
    assert_identical(found, detect(descending))  # the floor is not reached: exact result


def test_a_descent_levels_off_at_the_floor_and_lands_there() -> None:
    alt = predicted_alt(np.array([400.0, 400.0]), np.array([-5.0, 5.0]), np.zeros(2), 100.0)
    assert alt.tolist() == [0.0, 900.0]
    # Below its own floor already: stays where it is, and is landed from now.
    assert predicted_alt(np.array([-40.0]), np.array([-3.0]), np.zeros(1), 10.0).tolist() == [-40.0]
    assert landing_s(np.array([-40.0]), np.array([-3.0]), np.zeros(1)).tolist() == [0.0]


def test_a_state_s_own_floor_wins_over_the_model_s() -> None:
    # On a high-pressure day the feed reads -40 m near an airport whose floor is -76 m.
    rows = (("A", 49.0, 2.4, -40, 70, 90, -1), ("B", 49.0, 2.5, -40, 70, 270, -1))
    assert len(detect(_state(*rows), FEED)) == 0  # below the 0 m floor: landed
    assert len(detect(_state(*rows, floor_m=[-76.0, math.nan]), FEED)) == 0  # B still landed
    assert len(detect(_state(*rows, floor_m=[-76.0, -76.0]), FEED)) == 1


def test_adjacent_levels_within_the_quantum_are_separated() -> None:
    def pair(dz_ft: float) -> TrafficState:
        dz = dz_ft * 0.3048
        return _state(
            ("A", 49.0, 2.4, 3_000, 200, 90, 0), ("B", 49.0, 2.7, 3_000 + dz, 200, 270, 0)
        )

    assert len(detect(pair(975), EXACT_PARAMS)) == 1
    assert len(detect(pair(975), FEED)) == 0
    assert len(detect(pair(950), FEED)) == 1
    assert len(detect(pair(1_000), EXACT_PARAMS)) == 0


EXACT_PARAMS = DetectionParams(model=EXACT)


def test_of_two_feeds_the_more_precise_quantum_governs() -> None:
    # 980 ft apart at one level each: 25-ft feeds on both sides (H - q = 975 ft) are
    # separated; a feed with exact altitude (q = 0) on one side makes H - 0 = 1,000 ft
    # the pair's limit, and the pair is in conflict.
    rows = (
        ("A", 49.0, 2.4, 3_000, 200, 90, 0),
        ("B", 49.0, 2.7, 3_000 + 980 * 0.3048, 200, 270, 0),
    )
    assert len(detect(_state(*rows), FEED)) == 0
    assert len(detect(_state(*rows, quantum_m=[math.nan, math.nan]), FEED)) == 0
    assert len(detect(_state(*rows, quantum_m=[0.0, math.nan]), FEED)) == 1
    assert len(detect(_state(*rows, quantum_m=[7.62, 0.0]), FEED)) == 1
    # And a coarse feed's quantum applies to the other side only through the pair's max.
    assert len(detect(_state(*rows, quantum_m=[30.0, 30.0]), EXACT_PARAMS)) == 0


def test_each_aircraft_s_own_dead_band_applies() -> None:
    rows = (("A", 49.0, 2.4, 3_000, 200, 90, 0.33), ("B", 49.0, 2.7, 3_304.8, 200, 270, -0.33))
    assert len(detect(_state(*rows), FEED)) == 0  # both within the model's 0.5 m/s
    assert len(detect(_state(*rows, level_vs_mps=[0.0, 0.0]), FEED)) == 1  # exact: closing
    assert len(detect(_state(*rows, level_vs_mps=[math.nan, 0.0]), FEED)) == 1  # B descends
    assert len(detect(_state(*rows, level_vs_mps=[1.0, 1.0]), EXACT_PARAMS)) == 0


def test_a_negative_feed_column_is_refused() -> None:
    rows = (("A", 49.0, 2.4, 3_000, 200, 90, 0), ("B", 49.0, 2.7, 3_000, 200, 270, 0))
    with pytest.raises(ValidationError, match=r"quantum_m -1\.0 must be 0 or more"):
        _state(*rows, quantum_m=[-1.0, 0.0])
    with pytest.raises(ValidationError, match="level_vs_mps is inf, not a finite number"):
        _state(*rows, level_vs_mps=[math.inf, 0.0])


def test_a_rate_within_the_dead_band_is_level() -> None:
    state = _state(
        ("A", 49.0, 2.4, 3_000, 200, 90, 0.33), ("B", 49.0, 2.7, 3_304.8, 200, 270, -0.33)
    )
    assert len(detect(state, EXACT_PARAMS)) == 1  # 0.66 m/s closing: inside within 300 s
    assert len(detect(state, FEED)) == 0
    climbing = _state(("A", 49.0, 2.4, 3_000, 200, 90, 1.0), ("B", 49.0, 2.7, 3_304.8, 200, 270, 0))
    assert len(detect(climbing, FEED)) == 1


def test_aircraft_on_the_ground_take_no_part() -> None:
    rows = (("A", 49.0, 2.4, 20, 80, 90, 0), ("B", 49.0, 2.45, 20, 80, 270, 0))
    assert len(detect(_state(*rows), FEED)) == 1  # fast: a take-off roll, airborne soon
    assert len(detect(_state(*rows, on_ground=[True, False]), FEED)) == 0
    slow = (("A", 49.0, 2.4, 20, 10, 90, 0), ("B", 49.0, 2.45, 20, 10, 270, 0))
    assert len(detect(_state(*slow), FEED)) == 0  # taxiing
    assert len(detect(_state(*slow), EXACT_PARAMS)) == 1
    flags = on_ground(_state(*slow, on_ground=[False, True]), EXACT)
    assert flags.tolist() == [False, True]  # the flag is honoured whatever the model


def test_found_rows_are_those_of_the_whole_state() -> None:
    state = _state(
        ("G", 49.0, 2.0, 0, 5, 0, 0),
        ("A", 49.0, 2.4, 3_000, 200, 90, 0),
        ("B", 49.0, 2.7, 3_000, 200, 270, 0),
        on_ground=[True, False, False],
    )
    found = detect(state, FEED)
    assert (found.i.tolist(), found.j.tolist()) == ([1], [2])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"altitude_quantum_m": -1.0}, "altitude_quantum_m must be a non-negative"),
        ({"level_vs_mps": math.inf}, "level_vs_mps must be"),
        ({"floor_m": math.nan}, "floor_m must be a number"),
    ],
)
def test_a_bad_model_is_refused(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        PredictionModel(**kwargs)  # type: ignore[arg-type]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(state=_fed(), model=_models, chunk=st.sampled_from([1, 7, 1 << 20]))
def test_the_chunks_hold_exactly_the_pairs_of_detect(
    state: TrafficState, model: PredictionModel, chunk: int
) -> None:
    params = DetectionParams(model=model)
    parts = list(detect_chunks(state, params, chunk_pairs=chunk))
    assert all(len(p) > 0 for p in parts)
    assert_identical(ConflictSet.joined(parts), detect(state, params))

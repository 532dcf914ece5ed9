"""The prediction model applied to states: floors, level flight, who is on the ground.

Pure functions of a :class:`~deconfliction.tactical.state.TrafficState` and a
:class:`~deconfliction.tactical.params.PredictionModel` (see there for each rule and
its unit). With :data:`~deconfliction.tactical.params.EXACT` every function here is
the identity: the states are predicted exactly as given.

>>> import numpy as np
>>> predicted_alt(np.array([400.0]), np.array([-5.0]), np.array([0.0]), 91.0).tolist()
[0.0]
"""

from __future__ import annotations

import numpy as np

from deconfliction.tactical.params import PredictionModel
from deconfliction.tactical.state import BoolArray, FloatArray, IntArray, TrafficState

__all__ = [
    "floors",
    "landing_s",
    "level",
    "level_vs",
    "on_ground",
    "predicted_alt",
    "quanta",
    "taking_part",
]


def floors(state: TrafficState, model: PredictionModel) -> FloatArray | None:
    """The floor under each aircraft, metres (its own, else the model's; ``None`` when
    neither gives one: no floor)."""
    if state.floor_m is None:
        if model.floor_m is None:
            return None
        return np.full(len(state), model.floor_m)
    default = np.nan if model.floor_m is None else model.floor_m
    floor = np.where(np.isnan(state.floor_m), default, state.floor_m)
    return np.where(np.isnan(floor), -np.inf, floor)


def _stop(alt_m: FloatArray, floor_m: FloatArray) -> FloatArray:
    """Where a descent stops: the floor, or the altitude itself when already below it."""
    return np.minimum(alt_m, floor_m)


def landing_s(alt_m: FloatArray, vs_mps: FloatArray, floor_m: FloatArray) -> FloatArray:
    """Seconds until each descent reaches its floor and the aircraft lands (0 when it
    descends below its floor already; ``inf`` when it does not descend).

    >>> landing_s(np.array([400.0, 400.0]), np.array([-5.0, 0.0]), np.array([0.0, 0.0]))
    array([80., inf])
    """
    descends = vs_mps < 0.0
    drop = _stop(alt_m, floor_m) - alt_m
    with np.errstate(over="ignore"):  # a vanishing descent lands at infinity
        return np.where(descends, drop / np.where(descends, vs_mps, 1.0), np.inf)


def predicted_alt(
    alt_m: FloatArray, vs_mps: FloatArray, floor_m: FloatArray | None, dt_s: FloatArray | float
) -> FloatArray:
    """Altitude after ``dt_s`` seconds (``dt_s >= 0``): straight, but a descent levels off
    at the floor (or where it is, when reported below its floor)."""
    alt = alt_m + vs_mps * dt_s
    if floor_m is None:
        return alt
    return np.where(vs_mps < 0.0, np.maximum(alt, _stop(alt_m, floor_m)), alt)


def _per_row(column: FloatArray | None, default: float) -> FloatArray | float:
    if column is None:
        return default
    return np.where(np.isnan(column), default, column)


def quanta(state: TrafficState, model: PredictionModel) -> FloatArray:
    """Each aircraft's altitude quantum, metres: its feed's (``state.quantum_m``), else
    the model's. A pair is separated vertically when ``|dz| >= max(H_i - q_i, H_j - q_j)``:
    the more precise feed of the two governs.

    >>> from deconfliction.tactical.params import FEED_MODEL
    >>> s = TrafficState(ids=["a", "b"], party=[1, 2], lon=[0.0, 0.0], lat=[0.0, 0.0],
    ...     alt_m=[0.0, 0.0], gs_mps=[0.0, 0.0], trk_deg=[0.0, 0.0], vs_mps=[0.0, 0.0],
    ...     quantum_m=[0.0, np.nan])
    >>> quanta(s, FEED_MODEL).tolist()
    [0.0, 7.62]
    """
    return np.broadcast_to(_per_row(state.quantum_m, model.altitude_quantum_m), (len(state),))


def level(
    vs_mps: FloatArray, model: PredictionModel, band_mps: FloatArray | None = None
) -> FloatArray:
    """Vertical speeds with the level-flight dead band applied (``|vs| <= v_level`` is 0);
    ``band_mps``: each aircraft's own band (NaN: the model's)."""
    band = _per_row(band_mps, model.level_vs_mps)
    if band_mps is None and model.level_vs_mps <= 0.0:
        return vs_mps
    return np.where((np.abs(vs_mps) <= band) & (band > 0.0), 0.0, vs_mps)


def level_vs(state: TrafficState, model: PredictionModel) -> FloatArray:
    """The vertical speeds of ``state`` as the model reads them: each aircraft's dead
    band (``state.level_vs_mps``, else the model's) applied."""
    return level(state.vs_mps, model, state.level_vs_mps)


def on_ground(state: TrafficState, model: PredictionModel) -> BoolArray:
    """Aircraft reported on the ground, or within the model's ground height of their
    floor and slower than its take-off speed."""
    grounded = (
        np.zeros(len(state), dtype=bool) if state.on_ground is None else state.on_ground.copy()
    )
    floor = floors(state, model)
    if floor is not None and model.takeoff_speed_mps > 0.0:
        grounded |= (state.alt_m - floor <= model.ground_height_m) & (
            state.gs_mps < model.takeoff_speed_mps
        )
    return grounded


def taking_part(state: TrafficState, model: PredictionModel) -> IntArray | None:
    """The rows that take part in track-track prediction (``None``: all of them)."""
    grounded = on_ground(state, model)
    if not grounded.any():
        return None
    return np.flatnonzero(~grounded)

"""detect: every pair of aircraft of different parties in conflict within the look-ahead.

Two passes, as everywhere in this package: the grid of swept boxes
(:mod:`~deconfliction.tactical.pruning`) over-selects candidate pairs chunk by chunk,
and the exact closest-approach test (:mod:`~deconfliction.tactical.cpa`) decides each
chunk. A service calls it once per tick with the latest state of every aircraft.

>>> from deconfliction.tactical.state import TrafficState
>>> state = TrafficState(
...     ids=["AF1", "LH2"], party=[1, 2], lon=[2.0, 2.2], lat=[49.0, 49.0],
...     alt_m=[10_000.0, 10_000.0], gs_mps=[200.0, 200.0], trk_deg=[90.0, 270.0],
...     vs_mps=[0.0, 0.0])
>>> found = detect(state)
>>> len(found), round(float(found.tin[0])), round(float(found.tcpa[0])), bool(found.los[0])
(1, 13, 37, False)
"""

from __future__ import annotations

from deconfliction.tactical.backend import CPU, ArrayBackend
from deconfliction.tactical.conflicts import ConflictSet
from deconfliction.tactical.cpa import Fleet, encounters
from deconfliction.tactical.model import taking_part
from deconfliction.tactical.params import DetectionParams
from deconfliction.tactical.pruning import candidate_pairs
from deconfliction.tactical.state import TrafficState

__all__ = ["detect"]


def detect(
    state: TrafficState,
    params: DetectionParams | None = None,
    backend: ArrayBackend = CPU,
    *,
    chunk_pairs: int | None = None,
) -> ConflictSet:
    """The conflicts of ``state`` under ``params`` (defaults: 5 NM, 1,000 ft, 300 s).

    ``backend`` picks where the pairwise work runs (:func:`select_backend`); the
    result is always NumPy. ``chunk_pairs`` bounds the candidate pairs held at once
    (default: the backend's).
    """
    params = params or DetectionParams()
    rows = taking_part(state, params.model)
    if rows is not None:  # aircraft on the ground take no part
        return detect(state.take(rows), params, backend, chunk_pairs=chunk_pairs).of_rows(rows)
    fleet = Fleet.build(state, params, backend)
    parts = [
        encounters(fleet, i, j, params.lookahead_s)
        for i, j in candidate_pairs(fleet, params.lookahead_s, chunk_pairs or backend.chunk_pairs)
    ]
    return ConflictSet.joined(parts, backend).to_host(backend)

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

from collections.abc import Iterator

from deconfliction.tactical.backend import CPU, ArrayBackend
from deconfliction.tactical.conflicts import ConflictSet
from deconfliction.tactical.cpa import Fleet, encounters
from deconfliction.tactical.model import taking_part
from deconfliction.tactical.params import DetectionParams
from deconfliction.tactical.pruning import candidate_pairs
from deconfliction.tactical.state import TrafficState

__all__ = ["detect", "detect_chunks"]


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
    parts = list(_on_device(state, params or DetectionParams(), backend, chunk_pairs))
    return ConflictSet.joined(parts, backend).to_host(backend)


def detect_chunks(
    state: TrafficState,
    params: DetectionParams | None = None,
    backend: ArrayBackend = CPU,
    *,
    chunk_pairs: int | None = None,
) -> Iterator[ConflictSet]:
    """The conflicts of :func:`detect`, chunk by chunk as they are found (NumPy), so
    millions of pairs can be written out in bounded memory. Each pair is in exactly
    one chunk; a chunk is in no particular order."""
    for part in _on_device(state, params or DetectionParams(), backend, chunk_pairs):
        if len(part):
            yield part.to_host(backend)


def _on_device(
    state: TrafficState, params: DetectionParams, backend: ArrayBackend, chunk_pairs: int | None
) -> Iterator[ConflictSet]:
    rows = taking_part(state, params.model)
    if rows is not None:  # aircraft on the ground take no part
        on_device = backend.to_device(rows)
        for part in _on_device(state.take(rows), params, backend, chunk_pairs):
            yield part.of_rows(on_device)
        return
    fleet = Fleet.build(state, params, backend)
    for i, j in candidate_pairs(fleet, params.lookahead_s, chunk_pairs or backend.chunk_pairs):
        yield encounters(fleet, i, j, params.lookahead_s)

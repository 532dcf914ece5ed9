"""The brute-force reference: the exact test on every pair, no pruning.

It runs the same closest-approach arithmetic as :func:`~deconfliction.tactical.detect`
on all ``N (N - 1) / 2`` pairs (in blocks of rows, so memory stays bounded while time
grows as N²). The tests and the benchmark compare the fast path with it: any pair the
grid missed, or produced twice, shows up as a difference.
"""

from __future__ import annotations

import numpy as np

from deconfliction.tactical.backend import CPU, ArrayBackend
from deconfliction.tactical.conflicts import ConflictSet
from deconfliction.tactical.cpa import Fleet, encounters
from deconfliction.tactical.model import taking_part
from deconfliction.tactical.params import DetectionParams
from deconfliction.tactical.state import TrafficState

__all__ = ["detect_all_pairs"]


def detect_all_pairs(
    state: TrafficState,
    params: DetectionParams | None = None,
    backend: ArrayBackend = CPU,
    *,
    block_pairs: int = 1 << 22,
) -> ConflictSet:
    """The conflicts of ``state``, testing every pair of different parties."""
    params = params or DetectionParams()
    rows = taking_part(state, params.model)
    if rows is not None:  # aircraft on the ground take no part
        found = detect_all_pairs(state.take(rows), params, backend, block_pairs=block_pairs)
        return found.of_rows(rows)
    fleet = Fleet.build(state, params, backend)
    xp = backend.xp
    n = len(state)
    parts = []
    row = 0
    while row < n - 1:
        # Rows row..stop-1 pair with every later row: (n - 1 - r) pairs each.
        later = n - 1 - np.arange(row, n - 1)
        stop = row + max(1, int(np.searchsorted(np.cumsum(later), block_pairs, side="right")))
        counts = xp.asarray(later[: stop - row])
        i = row + backend.repeat_index(counts)
        first = xp.cumsum(counts) - counts
        j = i + 1 + (xp.arange(i.shape[0], dtype=xp.int64) - first[i - row])
        keep = xp.flatnonzero(fleet.party[i] != fleet.party[j])
        parts.append(encounters(fleet, i[keep], j[keep], params.lookahead_s))
        row = stop
    return ConflictSet.joined(parts, backend).to_host(backend)

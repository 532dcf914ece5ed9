"""ConflictSet: the predicted losses of separation of one tick, as named arrays.

Row ``k`` is one pair of aircraft, ``i[k] < j[k]`` (rows of the
:class:`~deconfliction.tactical.state.TrafficState`), each pair once, sorted by
``(i, j)``. Times are seconds from the state's time, distances metres:

========  ==================================================================
``tcpa``  time of horizontal closest approach, ≥ 0 (0 when diverging)
``dcpa``  horizontal distance at ``tcpa``
``tin``   time the pair enters the protected zone; 0 when already inside
``tout``  time it leaves; ``inf`` when straight flight never separates it
``los``   already inside: a loss of separation now, not only predicted
========  ==================================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from deconfliction.tactical.backend import CPU, ArrayBackend
from deconfliction.tactical.state import FloatArray, IntArray

__all__ = ["ConflictSet"]


@dataclass(frozen=True, eq=False)
class ConflictSet:
    """Pairs in conflict (``i < j``) with their closest approach and entry/exit times."""

    i: IntArray
    j: IntArray
    tcpa: FloatArray
    dcpa: FloatArray
    tin: FloatArray
    tout: FloatArray
    los: npt.NDArray[np.bool_]

    def __post_init__(self) -> None:
        n = self.i.shape[0]
        for f in fields(self):
            if getattr(self, f.name).shape != (n,):
                raise ValueError(f"ConflictSet.{f.name} must have shape ({n},)")

    def __len__(self) -> int:
        return int(self.i.shape[0])

    @classmethod
    def empty(cls, backend: ArrayBackend = CPU) -> ConflictSet:
        """No conflicts."""
        xp = backend.xp
        index = xp.zeros(0, dtype=xp.int64)
        time = xp.zeros(0, dtype=xp.float64)
        return cls(index, index, time, time, time, time, xp.zeros(0, dtype=bool))

    @classmethod
    def joined(cls, parts: Sequence[ConflictSet], backend: ArrayBackend = CPU) -> ConflictSet:
        """All rows of ``parts``, sorted by ``(i, j)`` (the parts must not share a pair)."""
        if not parts:
            return cls.empty(backend)
        xp = backend.xp
        columns = {f.name: xp.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)}
        order = xp.lexsort(xp.stack([columns["j"], columns["i"]]))
        return cls(**{name: column[order] for name, column in columns.items()})

    def to_host(self, backend: ArrayBackend) -> ConflictSet:
        """The same set with NumPy arrays."""
        return ConflictSet(**{f.name: backend.to_host(getattr(self, f.name)) for f in fields(self)})

    def of_rows(self, rows: Any) -> ConflictSet:
        """The same set with ``i`` and ``j`` mapped through ``rows`` (increasing, on the
        set's backend), for a set found over a subset of a state's rows."""
        return ConflictSet(
            rows[self.i], rows[self.j], self.tcpa, self.dcpa, self.tin, self.tout, self.los
        )

    def where(self, mask: Any) -> ConflictSet:
        """The rows selected by a boolean mask or an index array."""
        return ConflictSet(**{f.name: getattr(self, f.name)[mask] for f in fields(self)})

"""Candidate pairs without O(N²) memory: a uniform grid over swept boxes.

Each aircraft sweeps, over the look-ahead ``T``, a straight segment ``P → P + v T``
(ECEF) and an altitude range ``alt → alt + vs T``. Its **swept box** is the
axis-aligned box of that segment, grown on every side by half the largest horizontal
reach (the largest ``R``, plus :func:`plane_drift_m`, a bound on how far the pair-plane
distance of :mod:`~deconfliction.tactical.cpa` can differ from ECEF distance) and its
altitude range by half the largest ``H``. Two aircraft that come within ``R`` and ``H``
at the same moment before ``T`` are inside each other's grown boxes at that moment, so
their boxes overlap: this pass may over-select, never under-select.

The boxes live in an ECEF frame rotated so that its third axis is the fleet's mean
normal (any orthonormal frame is as correct; this one makes a regional fleet's boxes
flat along that axis) and are hashed into a 4-D grid of that frame's three axes and
altitude:

1. every aircraft is entered in each cell its box touches, with a flag per axis saying
   whether the cell is the box's first along it;
2. the entries are sorted by cell and, within a cell, by the box's low x, so that each
   entry need only be paired with the later entries whose box starts (in x) before its
   own ends: a sweep along x within each cell;
3. those pairs are generated in chunks of about ``chunk_pairs`` and kept when the two
   are of different parties, their boxes overlap on all four axes, and the cell is the
   first one both boxes share (on every axis, the cell is the first of one box or the
   other). That last rule keeps each pair exactly once, with no set of pairs held in
   memory.

What the filter reads is laid out in entry order, so its gathers are nearly
sequential. Memory is O(N * cells per box + chunk_pairs); time grows with the pairs
whose boxes overlap in x within a cell, not with N².
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from deconfliction.core.ecef import WGS84_A, WGS84_E2
from deconfliction.tactical.cpa import Fleet

__all__ = ["SweptBoxes", "candidate_pairs", "plane_drift_m"]

Array = Any  # a NumPy or CuPy array
Vector = tuple[float, float, float]

_RHO_MIN = WGS84_A * (1.0 - WGS84_E2)  # smallest radius of curvature of the ellipsoid, m
_SLACK_M = 1.0
_MAX_KEY = 1 << 53  # cell keys stay exact integers in float64 (the sort stacks them)
# Cell size against the median swept box. Larger cells hold more pairs whose boxes do
# not meet; smaller ones produce each meeting pair once per shared cell before the
# "first shared cell" rule drops the copies. Measured on the benchmark's regional and
# continental traffic (benchmarks/tactical.py), 2x (x, y, z) and 6x (altitude) cost
# least, within 10 % of each other from 1k to 1M aircraft.
_CELL_PER_BOX = 2.0
_ALT_CELL_PER_BOX = 6.0
_MAX_CELLS_PER_AXIS = 4.0
_MAX_ALT_CELLS = 16.0


def plane_drift_m(max_speed_mps: float, max_rpz_m: float, lookahead_s: float) -> float:
    """Bound on the out-of-plane part of the ECEF separation of a pair in conflict.

    A pair that comes within ``R`` before ``T`` starts at most ``D = R + 2 v T`` apart,
    so their normals differ by at most the angle ``phi = D / rho_min`` (``rho_min`` the
    ellipsoid's smallest radius of curvature); each velocity leaves the pair's plane at
    most at ``v phi / 2``, and the flattening tilts the chord by less than
    ``e² D² / rho_min``. Doubled, for a safe margin.
    """
    reach = max_rpz_m + 2.0 * max_speed_mps * lookahead_s
    phi = reach / _RHO_MIN
    return 2.0 * (max_speed_mps * phi * lookahead_s + WGS84_E2 * reach * reach / _RHO_MIN)


@dataclass(frozen=True, eq=False)
class SweptBoxes:
    """Swept boxes (low and high corner per axis: the rotated frame's three axes and
    altitude; metres), the range of cells each touches, and the grid: cells per axis
    (``radix``), its corner (``origin``) and cell sizes (``size``, metres)."""

    lo: tuple[Array, Array, Array, Array]
    hi: tuple[Array, Array, Array, Array]
    cell_lo: tuple[Array, Array, Array, Array]
    cell_hi: tuple[Array, Array, Array, Array]
    radix: tuple[int, int, int, int]
    origin: tuple[float, float, float, float]
    size: tuple[float, float, float, float]

    @classmethod
    def of(cls, fleet: Fleet, lookahead_s: float) -> SweptBoxes:
        xp = fleet.backend.xp
        t = lookahead_s
        vmax = float(xp.max(fleet.gs))
        rmax = float(xp.max(fleet.rpz))
        hmax = float(xp.max(fleet.hpz))
        half = (rmax + plane_drift_m(vmax, rmax, t)) / 2.0 + _SLACK_M
        half_alt = hmax / 2.0 + _SLACK_M
        lo: list[Array] = []
        hi: list[Array] = []
        axes = [
            (_along(fleet.px, fleet.py, fleet.pz, e), _along(fleet.vx, fleet.vy, fleet.vz, e), half)
            for e in _frame(xp, fleet)
        ]
        for p, v, grow in (*axes, (fleet.alt, fleet.vs, half_alt)):
            end = p + v * t
            lo.append(xp.minimum(p, end) - grow)
            hi.append(xp.maximum(p, end) + grow)
        # Cells a few times a typical box (see _CELL_PER_BOX), and never so small that
        # a box touches more than ~5 cells per axis (17 in altitude).
        extent = xp.maximum(xp.maximum(hi[0] - lo[0], hi[1] - lo[1]), hi[2] - lo[2])
        cell = max(
            float(xp.median(extent)) * _CELL_PER_BOX,
            float(xp.max(extent)) / _MAX_CELLS_PER_AXIS,
        )
        extent_alt = hi[3] - lo[3]
        cell_alt = max(
            float(xp.median(extent_alt)) * _ALT_CELL_PER_BOX,
            float(xp.max(extent_alt)) / _MAX_ALT_CELLS,
            2.0 * half_alt,
        )
        while True:
            sizes = (cell, cell, cell, cell_alt)
            origin = [float(xp.min(lo_k)) for lo_k in lo]
            cell_lo = tuple(
                xp.floor((lo[k] - origin[k]) / sizes[k]).astype(xp.int64) for k in range(4)
            )
            cell_hi = tuple(
                xp.floor((hi[k] - origin[k]) / sizes[k]).astype(xp.int64) for k in range(4)
            )
            radix = tuple(int(xp.max(c)) + 1 for c in cell_hi)
            if math.prod(radix) < _MAX_KEY:
                break
            cell, cell_alt = 2.0 * cell, 2.0 * cell_alt  # keys would overflow: coarser grid
        return cls(
            lo=(lo[0], lo[1], lo[2], lo[3]),
            hi=(hi[0], hi[1], hi[2], hi[3]),
            cell_lo=(cell_lo[0], cell_lo[1], cell_lo[2], cell_lo[3]),
            cell_hi=(cell_hi[0], cell_hi[1], cell_hi[2], cell_hi[3]),
            radix=(radix[0], radix[1], radix[2], radix[3]),
            origin=(origin[0], origin[1], origin[2], origin[3]),
            size=sizes,
        )

    def key(self, cx: Array, cy: Array, cz: Array, ca: Array) -> Array:
        """The integer key of cell (cx, cy, cz, ca)."""
        _, ry, rz, ra = self.radix
        return ((cx * ry + cy) * rz + cz) * ra + ca


def _frame(xp: ModuleType, fleet: Fleet) -> tuple[Vector, Vector, Vector]:
    """An orthonormal ECEF frame whose third axis is the fleet's mean normal.

    Only efficiency depends on it: in this frame a regional fleet's boxes are flat
    along the third axis, so each touches one or two cells there instead of many.
    """
    mean = [float(xp.mean(u)) for u in (fleet.ux, fleet.uy, fleet.uz)]
    norm = math.hypot(*mean)
    up = (0.0, 0.0, 1.0) if norm < 0.5 else (mean[0] / norm, mean[1] / norm, mean[2] / norm)
    # A first axis perpendicular to up, from whichever world axis is least aligned with it.
    pick = min(range(3), key=lambda k: abs(up[k]))
    seed = [0.0, 0.0, 0.0]
    seed[pick] = 1.0
    first = _unit(_cross(up, (seed[0], seed[1], seed[2])))
    return first, _cross(up, first), up


def _cross(a: Vector, b: Vector) -> Vector:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def _unit(a: Vector) -> Vector:
    norm = math.hypot(*a)
    return (a[0] / norm, a[1] / norm, a[2] / norm)


def _along(x: Array, y: Array, z: Array, e: Vector) -> Array:
    return x * e[0] + y * e[1] + z * e[2]


@dataclass(frozen=True, eq=False)
class _Entries:
    """One row per (cell, aircraft) that touch, sorted by cell and then by the box's low
    x, with what the pair filter reads laid out in that order (cache-friendly)."""

    owner: Array  # the aircraft
    party: Array
    lo: tuple[Array, Array, Array, Array]
    hi: tuple[Array, Array, Array, Array]
    first: Array  # bit k set: this is the first cell of the box along axis k
    later: Array  # how many later entries of the cell to pair with (the sweep in x)


def _cell_entries(fleet: Fleet, boxes: SweptBoxes) -> _Entries:
    backend = fleet.backend
    xp = backend.xp
    span = [boxes.cell_hi[k] - boxes.cell_lo[k] + 1 for k in range(4)]
    per_box = span[0] * span[1] * span[2] * span[3]
    owner = backend.repeat_index(per_box)
    start = xp.cumsum(per_box) - per_box
    rest = xp.arange(owner.shape[0], dtype=xp.int64) - start[owner]
    coords: list[Array] = [None, None, None, None]
    first = xp.zeros(owner.shape[0], dtype=xp.int8)
    for k in (3, 2, 1, 0):  # mixed radix, altitude fastest
        n = span[k][owner]
        offset = rest % n
        rest //= n
        coords[k] = boxes.cell_lo[k][owner] + offset
        first |= (offset == 0).astype(xp.int8) << k
    key = boxes.key(*coords)
    # Box edges in x as fractions of their cell, clipped to [0, 2]: monotone in x, so
    # the sweep below never misses a pair (rounding may only add some).
    edge_lo = _within_cell(xp, boxes, boxes.lo[0][owner], coords[0])
    edge_hi = _within_cell(xp, boxes, boxes.hi[0][owner], coords[0])
    order = xp.lexsort(xp.stack([edge_lo, key]))
    key, owner, edge_lo, edge_hi = key[order], owner[order], edge_lo[order], edge_hi[order]
    cell = xp.cumsum(xp.concatenate([xp.zeros(1, dtype=bool), key[1:] != key[:-1]]))
    sweep = cell * 4.0 + edge_lo
    end = xp.searchsorted(sweep, cell * 4.0 + edge_hi, side="right")
    return _Entries(
        owner=owner,
        party=fleet.party[owner],
        lo=(boxes.lo[0][owner], boxes.lo[1][owner], boxes.lo[2][owner], boxes.lo[3][owner]),
        hi=(boxes.hi[0][owner], boxes.hi[1][owner], boxes.hi[2][owner], boxes.hi[3][owner]),
        first=first[order],
        later=end - xp.arange(key.shape[0], dtype=xp.int64) - 1,
    )


def _within_cell(xp: ModuleType, boxes: SweptBoxes, x: Array, cx: Array) -> Array:
    return xp.clip((x - boxes.origin[0]) / boxes.size[0] - cx, -1.0, 1.0) + 1.0


def candidate_pairs(
    fleet: Fleet, lookahead_s: float, chunk_pairs: int
) -> Iterator[tuple[Array, Array]]:
    """Chunks of candidate pairs ``(i, j)``, ``i < j``, of different parties, each once.

    Every pair that can conflict within ``lookahead_s`` is among them.
    """
    xp: ModuleType = fleet.backend.xp
    if len(fleet) < 2:
        return
    entries = _cell_entries(fleet, SweptBoxes.of(fleet, lookahead_s))
    cumulative = xp.cumsum(entries.later)
    total = int(cumulative[-1])
    if total == 0:
        return
    cuts = xp.searchsorted(
        cumulative, xp.arange(chunk_pairs, total, chunk_pairs, dtype=xp.int64), side="right"
    )
    bounds = [0, *(int(c) for c in cuts), entries.owner.shape[0]]
    for e0, e1 in itertools.pairwise(bounds):
        if e1 > e0:
            yield _chunk(fleet, entries, e0, e1)


def _chunk(fleet: Fleet, entries: _Entries, e0: int, e1: int) -> tuple[Array, Array]:
    """The pairs of entries ``e0..e1 - 1`` with their later entries that pass the filter:
    different parties, overlapping boxes, and this cell the first both boxes share."""
    xp = fleet.backend.xp
    counts = entries.later[e0:e1]
    left_local = fleet.backend.repeat_index(counts)
    start = xp.cumsum(counts) - counts
    left = left_local + e0
    right = left + 1 + (xp.arange(left.shape[0], dtype=xp.int64) - start[left_local])
    keep = (entries.first[left] | entries.first[right]) == 0b1111
    keep &= entries.party[left] != entries.party[right]
    for k in (1, 3, 2, 0):  # the sweep has mostly settled x already
        keep &= (entries.lo[k][left] <= entries.hi[k][right]) & (
            entries.lo[k][right] <= entries.hi[k][left]
        )
    chosen = xp.flatnonzero(keep)
    a, b = entries.owner[left[chosen]], entries.owner[right[chosen]]
    return xp.minimum(a, b), xp.maximum(a, b)

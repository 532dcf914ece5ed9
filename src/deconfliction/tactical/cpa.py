"""The exact closest-approach test of aircraft pairs, vectorised over the pairs.

For a pair (i, j) the horizontal plane is the one perpendicular to ``u``, the mean of
the two aircraft's normals (the tangent plane at the pair's midpoint). Relative
position ``d`` and velocity ``w`` (see :mod:`~deconfliction.tactical.kinematics`) are
projected onto it, and

* horizontally the pair is inside while ``|d + w t|² < R²``, a quadratic in ``t``
  solved in the cancellation-free form (roots ``q/a`` and ``c/q``);
* vertically while ``|dz + dvs t| < H``; when the prediction model gives floors, a
  descent levels off at its floor: the aircraft lands there (at its ``brk``, see
  :mod:`~deconfliction.tactical.model`) and from then on takes no part, so the
  vertical interval ends at the pair's first landing, and the closest approach is
  the closest before it (``tcpa`` at most the first landing);
* it is in **conflict** when the two intervals overlap in ``[tin, tout)`` with
  ``tout > 0`` and ``tin < T``; **los** when ``tin < 0`` (inside both now).

``R`` and ``H`` are the larger of the pair's protected zones, less
:data:`SEPARATION_TOLERANCE_M`, each aircraft's half-height less its altitude quantum
first (its feed's, ``TrafficState.quantum_m``, else the model's): ``H = max(H_i - q_i,
H_j - q_j)``, so of two feeds the more precise one governs. Two aircraft exactly
``H`` apart and level (adjacent flight levels) are separated, and so are pairs that
differ from that by floating-point noise. Relative speeds below :data:`STILL_MPS`
count as no relative motion (the intervals are then all or nothing).

The arithmetic is symmetric: swapping i and j negates ``d``, ``w`` and ``dz`` exactly
and leaves every result bit-for-bit the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from deconfliction.tactical.backend import ArrayBackend
from deconfliction.tactical.conflicts import ConflictSet
from deconfliction.tactical.kinematics import Motion
from deconfliction.tactical.model import floors, landing_s, level_vs, quanta
from deconfliction.tactical.params import DetectionParams
from deconfliction.tactical.state import TrafficState

__all__ = ["SEPARATION_TOLERANCE_M", "STILL_MPS", "Fleet", "encounters"]

SEPARATION_TOLERANCE_M = 0.01
STILL_MPS = 1e-9

Array = Any  # a NumPy or CuPy array


@dataclass(frozen=True, eq=False)
class Fleet:
    """One array per per-aircraft quantity, on a backend: ECEF ground position ``p*``
    (m), velocity ``v*`` (m/s) and unit normal ``u*``; altitude ``alt`` (m), vertical
    speed ``vs`` (m/s), ground speed ``gs`` (m/s), the protected zone ``rpz``/``hpz``
    (m, overrides applied, ``hpz`` less each aircraft's altitude quantum) and the party code;
    when the model gives floors, ``brk``: when a descent reaches the floor and the
    aircraft lands (s from now; ``inf`` when it does not descend), else ``None``."""

    backend: ArrayBackend
    px: Array
    py: Array
    pz: Array
    vx: Array
    vy: Array
    vz: Array
    ux: Array
    uy: Array
    uz: Array
    alt: Array
    vs: Array
    gs: Array
    rpz: Array
    hpz: Array
    party: Array
    brk: Array | None = None

    @classmethod
    def build(cls, state: TrafficState, params: DetectionParams, backend: ArrayBackend) -> Fleet:
        """The fleet of ``state`` under ``params`` on ``backend``."""
        model = params.model
        motion = Motion.of(state.lon, state.lat, state.gs_mps, state.trk_deg)
        rpz = _zone(state.rpz_m, params.rpz_m, len(state))
        hpz = _zone(state.hpz_m, params.hpz_m, len(state))
        if state.quantum_m is not None or model.altitude_quantum_m > 0.0:
            hpz = np.maximum(hpz - quanta(state, model), 0.0)
        vs = level_vs(state, model)
        floor = floors(state, model)
        put = backend.to_device
        brk = None if floor is None else put(landing_s(state.alt_m, vs, floor))

        def column(a: np.ndarray[Any, Any], k: int) -> Any:
            return put(np.ascontiguousarray(a[:, k]))

        p, v, u = motion.position, motion.velocity, motion.normal
        return cls(
            backend=backend,
            px=column(p, 0),
            py=column(p, 1),
            pz=column(p, 2),
            vx=column(v, 0),
            vy=column(v, 1),
            vz=column(v, 2),
            ux=column(u, 0),
            uy=column(u, 1),
            uz=column(u, 2),
            alt=put(state.alt_m),
            vs=put(vs),
            gs=put(state.gs_mps),
            rpz=put(rpz),
            hpz=put(hpz),
            party=put(state.party),
            brk=brk,
        )

    def __len__(self) -> int:
        return int(self.px.shape[0])


def _zone(override: np.ndarray[Any, Any] | None, default: float, n: int) -> np.ndarray[Any, Any]:
    if override is None:
        return np.full(n, default)
    return np.where(np.isnan(override), default, override)


def encounters(fleet: Fleet, i: Array, j: Array, lookahead_s: float) -> ConflictSet:
    """The pairs ``(i[k], j[k])`` that are in conflict within ``lookahead_s`` seconds.

    ``i`` and ``j`` are index arrays on the fleet's backend; the result keeps their
    order (``i < j`` is the caller's to ensure) and stays on the backend.
    """
    xp: ModuleType = fleet.backend.xp
    f = fleet
    # Vertical first: it needs the fewest gathers and settles most candidates.
    h = xp.maximum(f.hpz[i], f.hpz[j]) - SEPARATION_TOLERANCE_M
    tv1, tv2 = _vertical_interval(xp, f.alt[j] - f.alt[i], f.vs[j] - f.vs[i], h)
    if f.brk is not None:  # neither takes part once landed
        tv2 = xp.minimum(tv2, xp.minimum(f.brk[i], f.brk[j]))
    near = xp.flatnonzero((tv1 < tv2) & (tv2 > 0.0) & (tv1 < lookahead_s))
    i, j, tv1, tv2 = i[near], j[near], tv1[near], tv2[near]
    ux, uy, uz = f.ux[i] + f.ux[j], f.uy[i] + f.uy[j], f.uz[i] + f.uz[j]
    norm = xp.sqrt(ux * ux + uy * uy + uz * uz)
    ux /= norm
    uy /= norm
    uz /= norm
    dx, dy, dz = _horizontal(f.px[j] - f.px[i], f.py[j] - f.py[i], f.pz[j] - f.pz[i], ux, uy, uz)
    wx, wy, wz = _horizontal(f.vx[j] - f.vx[i], f.vy[j] - f.vy[i], f.vz[j] - f.vz[i], ux, uy, uz)
    a = wx * wx + wy * wy + wz * wz
    b = dx * wx + dy * wy + dz * wz
    r = xp.maximum(f.rpz[i], f.rpz[j]) - SEPARATION_TOLERANCE_M
    th1, th2, moving = _horizontal_interval(xp, a, b, dx * dx + dy * dy + dz * dz - r * r)
    tin = xp.maximum(th1, tv1)
    tout = xp.minimum(th2, tv2)
    hit = xp.flatnonzero((tin < tout) & (tout > 0.0) & (tin < lookahead_s))
    a, b, moving, tin, tout = a[hit], b[hit], moving[hit], tin[hit], tout[hit]
    tcpa = xp.where(moving, xp.maximum(-b / xp.where(moving, a, 1.0), 0.0), 0.0)
    if f.brk is not None:  # the closest approach while both fly, not after a landing
        tcpa = xp.minimum(tcpa, xp.minimum(f.brk[i[hit]], f.brk[j[hit]]))
    ex = dx[hit] + wx[hit] * tcpa
    ey = dy[hit] + wy[hit] * tcpa
    ez = dz[hit] + wz[hit] * tcpa
    return ConflictSet(
        i=i[hit],
        j=j[hit],
        tcpa=tcpa,
        dcpa=xp.sqrt(ex * ex + ey * ey + ez * ez),
        tin=xp.maximum(tin, 0.0),
        tout=tout,
        los=tin < 0.0,
    )


def _horizontal(
    x: Array, y: Array, z: Array, ux: Array, uy: Array, uz: Array
) -> tuple[Array, Array, Array]:
    """The part of (x, y, z) perpendicular to the unit vector u."""
    along = x * ux + y * uy + z * uz
    return x - along * ux, y - along * uy, z - along * uz


def _horizontal_interval(
    xp: ModuleType, a: Array, b: Array, c: Array
) -> tuple[Array, Array, Array]:
    """Where ``a t² + 2 b t + c < 0``: (start, end, moving); empty is (inf, -inf)."""
    moving = a > STILL_MPS * STILL_MPS
    disc = b * b - a * c
    crosses = moving & (disc > 0.0)
    q = -(b + xp.copysign(xp.sqrt(xp.where(crosses, disc, 0.0)), b))
    r1 = q / xp.where(moving, a, 1.0)
    r2 = c / xp.where(crosses, q, 1.0)
    always = ~moving & (c < 0.0)
    start = xp.where(crosses, xp.minimum(r1, r2), xp.where(always, -xp.inf, xp.inf))
    end = xp.where(crosses, xp.maximum(r1, r2), xp.where(always, xp.inf, -xp.inf))
    return start, end, moving


def _vertical_interval(xp: ModuleType, dz: Array, dvs: Array, h: Array) -> tuple[Array, Array]:
    """Where ``|dz + dvs t| < h``: (start, end); empty is (inf, -inf)."""
    climbing = xp.abs(dvs) > STILL_MPS
    rate = xp.where(climbing, dvs, 1.0)
    t1 = (-h - dz) / rate
    t2 = (h - dz) / rate
    always = ~climbing & (xp.abs(dz) < h)
    start = xp.where(climbing, xp.minimum(t1, t2), xp.where(always, -xp.inf, xp.inf))
    end = xp.where(climbing, xp.maximum(t1, t2), xp.where(always, xp.inf, -xp.inf))
    return start, end

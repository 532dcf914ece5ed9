"""An independent, obvious reference for one pair: plain ``math``, one pair at a time.

It restates the engine's model (straight flight in each aircraft's tangent plane,
separation measured in the plane perpendicular to the mean of the two normals,
altitude apart) without sharing a line of its code: its own WGS-84 conversion, the
textbook quadratic formula, no vectorisation. :func:`encounter` also says how close
the pair's verdict is to a threshold (``margin``, seconds or metres), so a comparison
can set aside the pairs that floating-point noise may legitimately decide either way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from deconfliction.tactical import SEPARATION_TOLERANCE_M, DetectionParams, TrafficState

__all__ = ["Encounter", "all_encounters", "ecef", "encounter", "enu", "velocity"]

_A = 6_378_137.0
_F = 1.0 / 298.257223563
_E2 = _F * (2.0 - _F)
_STILL = 1e-9  # m/s: the engine's threshold for "no relative motion"

Vec = tuple[float, float, float]


@dataclass(frozen=True)
class Encounter:
    """The verdict on one pair: times in seconds from now, distances in metres."""

    conflict: bool
    tin: float
    tout: float
    tcpa: float
    dcpa: float
    los: bool
    margin: float


def ecef(lon: float, lat: float) -> Vec:
    """WGS-84 ground point (degrees) in ECEF metres."""
    lam, phi = math.radians(lon), math.radians(lat)
    n = _A / math.sqrt(1.0 - _E2 * math.sin(phi) ** 2)
    return (
        n * math.cos(phi) * math.cos(lam),
        n * math.cos(phi) * math.sin(lam),
        n * (1.0 - _E2) * math.sin(phi),
    )


def enu(lon: float, lat: float) -> tuple[Vec, Vec, Vec]:
    """Unit east, north and up vectors (ECEF) at a point (degrees)."""
    lam, phi = math.radians(lon), math.radians(lat)
    east = (-math.sin(lam), math.cos(lam), 0.0)
    north = (-math.sin(phi) * math.cos(lam), -math.sin(phi) * math.sin(lam), math.cos(phi))
    up = (math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi))
    return east, north, up


def _dot(a: Vec, b: Vec) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _sub(a: Vec, b: Vec) -> Vec:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def _scale(a: Vec, k: float) -> Vec:
    return (a[0] * k, a[1] * k, a[2] * k)


def _flat(a: Vec, u: Vec) -> Vec:
    return _sub(a, _scale(u, _dot(a, u)))


def velocity(state: TrafficState, k: int) -> Vec:
    """Aircraft k's ground velocity in ECEF m/s."""
    east, north, _ = enu(float(state.lon[k]), float(state.lat[k]))
    trk = math.radians(float(state.trk_deg[k]))
    gs = float(state.gs_mps[k])
    ve, vn = gs * math.sin(trk), gs * math.cos(trk)
    return (
        ve * east[0] + vn * north[0],
        ve * east[1] + vn * north[1],
        ve * east[2] + vn * north[2],
    )


def _zone(values: npt.NDArray[np.float64] | None, k: int, default: float) -> float:
    if values is None:
        return default
    value = float(values[k])
    return default if math.isnan(value) else value


def encounter(state: TrafficState, params: DetectionParams, i: int, j: int) -> Encounter:
    """The pair (i, j) under ``params``, computed the slow and obvious way."""
    t_max = params.lookahead_s
    r = max(_zone(state.rpz_m, i, params.rpz_m), _zone(state.rpz_m, j, params.rpz_m))
    h = max(_zone(state.hpz_m, i, params.hpz_m), _zone(state.hpz_m, j, params.hpz_m))
    r -= SEPARATION_TOLERANCE_M
    h -= SEPARATION_TOLERANCE_M
    up_i = enu(float(state.lon[i]), float(state.lat[i]))[2]
    up_j = enu(float(state.lon[j]), float(state.lat[j]))[2]
    mean = (up_i[0] + up_j[0], up_i[1] + up_j[1], up_i[2] + up_j[2])
    u = _scale(mean, 1.0 / math.sqrt(_dot(mean, mean)))
    d = _flat(
        _sub(
            ecef(float(state.lon[j]), float(state.lat[j])),
            ecef(float(state.lon[i]), float(state.lat[i])),
        ),
        u,
    )
    w = _flat(_sub(velocity(state, j), velocity(state, i)), u)
    a, b, c = _dot(w, w), _dot(d, w), _dot(d, d) - r * r
    margins = []
    if a > _STILL * _STILL:
        disc = b * b - a * c
        if disc > 0:
            root = math.sqrt(disc)
            h1, h2 = (-b - root) / a, (-b + root) / a
            margins.append(h2 - h1)
        else:
            h1, h2 = math.inf, -math.inf
            margins.append(math.sqrt(-disc) / a if disc < 0 else 0.0)
    else:
        h1, h2 = (-math.inf, math.inf) if c < 0 else (math.inf, -math.inf)
        margins.append(abs(c) / max(r, 1.0))
    dz = float(state.alt_m[j] - state.alt_m[i])
    dvs = float(state.vs_mps[j] - state.vs_mps[i])
    if abs(dvs) > _STILL:
        v1, v2 = sorted(((-h - dz) / dvs, (h - dz) / dvs))
    else:
        v1, v2 = (-math.inf, math.inf) if abs(dz) < h else (math.inf, -math.inf)
        margins.append(abs(abs(dz) - h))
    tin, tout = max(h1, v1), min(h2, v2)
    conflict = tin < tout and tout > 0 and tin < t_max
    for x, y in ((tin, tout), (tout, 0.0), (tin, t_max), (tin, 0.0)):
        if math.isfinite(x) and math.isfinite(y):
            margins.append(abs(x - y))
    tcpa = max(-b / a, 0.0) if a > _STILL * _STILL else 0.0
    gap = (d[0] + w[0] * tcpa, d[1] + w[1] * tcpa, d[2] + w[2] * tcpa)
    return Encounter(
        conflict=conflict,
        tin=max(tin, 0.0),
        tout=tout,
        tcpa=tcpa,
        dcpa=math.sqrt(_dot(gap, gap)),
        los=tin < 0,
        margin=min(margins) if margins else math.inf,
    )


def all_encounters(
    state: TrafficState, params: DetectionParams
) -> dict[tuple[int, int], Encounter]:
    """Every pair i < j of different parties, by brute force."""
    n = len(state)
    return {
        (i, j): encounter(state, params, i, j)
        for i in range(n)
        for j in range(i + 1, n)
        if state.party[i] != state.party[j]
    }

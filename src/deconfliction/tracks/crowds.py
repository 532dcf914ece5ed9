"""Crowds: many aircraft of two parties together in one area, told as one cluster.

Two parties that fly hundreds of aircraft through one area (an exercise, a formation,
a display) would otherwise make N x M pair conflicts, each with its own alerts: millions
of rows in a tick that must take a second. :func:`find_crowds` finds such crowds before
the pair search, in O(N log N), so that their inner pairs are never enumerated.

**Cells.** Every aircraft is put in a grid cell of ``R/2`` along each ECEF axis (its
ground position) and ``min(H/2, H - q)`` in altitude, ``R`` and ``H`` the *smallest*
minima of any pair in play and ``q`` the largest altitude quantum of any aircraft
(its feed's, else the prediction model's). Two
aircraft in one cell are less than ``R √3 / 2 < R`` apart (the chord bounds the
horizontal distance the conflict test measures) and less than ``H - q`` apart
vertically: a loss of separation, under any pair's minima. The grid is built at the
tick and every ``step_s`` after it within the look-ahead, on positions dead-reckoned
along the geodesic (:mod:`~deconfliction.tracks.reckoning`) with the model's altitudes
(level-flight dead band, descents that level off at the floor); a cell found at time
``t`` means a loss of separation no later than ``t``. Aircraft that take no part in
track-track prediction (on the ground; after a descent lands) are in no cell, and
suspect tracks never reach here (the service leaves them out of the snapshot).

**Crowds.** A cell where parties ``a`` and ``b`` have ``n_a`` and ``n_b`` aircraft with
``n_a * n_b >= threshold`` is a crowded cell of the pair. Every aircraft of ``a`` or
``b`` in a crowded cell of the pair, or in a cell next to one (less than ``R √3`` from
the crowd: the crowd's edge, which would otherwise make a pair with every member), is
a member of the pair's :class:`Cluster`; its
``tin_s`` is the earliest time a crowded cell was seen, its area and band where the
members were then.

**Groups.** Clusters that share an aircraft are one *group* (three parties crowded in
one place). :func:`pairs_around` is the pair search with the groups' inner pairs never
enumerated: the usual search (:func:`~deconfliction.tactical.detect`) over the aircraft
in no group, and for each group the exact test on explicit pairs, in chunks: its
members with the aircraft outside it whose swept boxes
(:class:`~deconfliction.tactical.pruning.SweptBoxes`) meet the group's, and its members
of two parties that are not crowded together (a group's pairs that no cluster tells).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from deconfliction.core.earth import geodetic_to_ecef
from deconfliction.tactical import ArrayBackend, ConflictSet, DetectionParams, detect
from deconfliction.tactical.cpa import Fleet, encounters
from deconfliction.tactical.model import (
    floors,
    landing_s,
    level_vs,
    predicted_alt,
    quanta,
    taking_part,
)
from deconfliction.tactical.pruning import SweptBoxes
from deconfliction.tactical.state import FloatArray, IntArray, TrafficState
from deconfliction.tracks.reckoning import advance

__all__ = ["Cluster", "Crowds", "find_crowds", "pairs_around"]

DEFAULT_STEP_S = 30.0


@dataclass(frozen=True, eq=False)
class Cluster:
    """Aircraft of two parties crowded together: ``parties`` (lower id first), each
    party's member rows, when the crowd is first predicted (``tin_s``, seconds from the
    tick, 0 when it is a loss of separation now), and where: ``area`` (west, south,
    east, north; degrees) and ``band`` (lower, upper; metres) of its members then."""

    parties: tuple[int, int]
    members: Mapping[int, IntArray]
    tin_s: float
    area: tuple[float, float, float, float]
    band: tuple[float, float]


@dataclass(frozen=True, eq=False)
class Crowds:
    """The clusters of a tick and, per aircraft row, its group (-1: in none)."""

    group: IntArray
    clusters: tuple[Cluster, ...] = field(default=())

    @property
    def groups(self) -> int:
        """How many groups there are."""
        return int(self.group.max()) + 1 if self.group.size else 0


def find_crowds(
    state: TrafficState, params: DetectionParams, threshold: int, step_s: float = DEFAULT_STEP_S
) -> Crowds:
    """The crowds of ``state`` under the smallest minima in play (``params``: radius,
    half-height, look-ahead and prediction model), looking ahead every ``step_s``
    seconds; a cell is crowded when two parties' counts there multiply to ``threshold``
    or more. Aircraft that take no part in track-track prediction (on the ground) are
    in no crowd, nor are aircraft after their descent reaches its floor."""
    n = len(state)
    nothing = Crowds(np.full(n, -1, dtype=np.int64))
    if n < 2 or threshold < 1:
        return nothing
    model = params.model
    part = taking_part(state, model)
    rows = np.arange(n) if part is None else part
    state = state if part is None else state.take(part)
    codes, party = np.unique(state.party, return_inverse=True)
    if codes.shape[0] < 2:
        return nothing
    vs = level_vs(state, model)
    floor = floors(state, model)
    height = min(params.hpz_m / 2.0, params.hpz_m - float(quanta(state, model).max()))
    # Every sample time at once: row k is aircraft who[k] at time ts[k].
    m = len(state)
    times = np.arange(0.0, params.lookahead_s, step_s)
    ts = np.repeat(times, m)
    who = np.tile(np.arange(m), times.shape[0])
    at = advance(
        state.lon[who], state.lat[who], state.alt_m[who], state.gs_mps[who],
        state.trk_deg[who], vs[who], ts,
    )  # fmt: skip
    alt = predicted_alt(state.alt_m[who], vs[who], None if floor is None else floor[who], ts)
    live = np.arange(who.shape[0])
    if floor is not None:  # after a descent lands, the aircraft takes no part
        live = np.flatnonzero(landing_s(state.alt_m, vs, floor)[who] > ts)
    clusters = []
    for pair, (rows_u, rows_v), first in _crowded(
        at.lon[live], at.lat[live], alt[live], party[who[live]], live // m,
        params.rpz_m, height, threshold,
    ):  # fmt: skip
        u, v = live[rows_u], live[rows_v]
        then = np.concatenate([u[u // m == first], v[v // m == first]])
        a, b = int(codes[pair[0]]), int(codes[pair[1]])
        clusters.append(
            Cluster(
                parties=(a, b),
                members={a: np.unique(rows[who[u]]), b: np.unique(rows[who[v]])},
                tin_s=float(times[first]),
                area=(
                    float(at.lon[then].min()),
                    float(at.lat[then].min()),
                    float(at.lon[then].max()),
                    float(at.lat[then].max()),
                ),
                band=(float(alt[then].min()), float(alt[then].max())),
            )
        )
    if not clusters:
        return nothing
    ordered = tuple(sorted(clusters, key=lambda c: c.parties))
    return Crowds(_groups(n, ordered), ordered)


def _crowded(
    lon: FloatArray,
    lat: FloatArray,
    alt: FloatArray,
    party: IntArray,
    sample: IntArray,
    rpz_m: float,
    height_m: float,
    threshold: int,
) -> list[tuple[tuple[int, int], tuple[IntArray, IntArray], int]]:
    """Each pair of party indices with crowded cells: its rows in them or in the cells
    around them at the same sample, and the earliest sample of its crowded cells."""
    x, y, z = geodetic_to_ecef(lon, lat, 0.0)
    side = rpz_m / 2.0
    coords = np.stack(  # samples 3 apart: a cell's neighbours are of its own sample
        [3 * sample, *(np.floor(c / side) for c in (x, y, z)), np.floor(alt / height_m)],
        axis=1,
    ).astype(np.int64)
    order = np.lexsort((party, *(coords[:, k] for k in (4, 3, 2, 1, 0))))
    ordered = coords[order]
    new_cell = np.ones(order.shape[0], dtype=bool)
    new_cell[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
    p = party[order]
    new_run = new_cell.copy()
    new_run[1:] |= p[1:] != p[:-1]
    run_start = np.flatnonzero(new_run)
    run_count = np.diff(np.append(run_start, order.shape[0]))
    run_cell = np.cumsum(new_cell)[run_start] - 1
    cells = int(run_cell[-1]) + 1
    total = np.bincount(run_cell, weights=run_count, minlength=cells)
    most = np.zeros(cells)
    np.maximum.at(most, run_cell, run_count)
    # n_a * n_b <= most * (total - most) for any two parties of a cell
    candidates = np.flatnonzero(most * (total - most) >= threshold)
    crowded: dict[tuple[int, int], list[IntArray]] = {}
    first_run = np.searchsorted(run_cell, candidates)
    last_run = np.searchsorted(run_cell, candidates, side="right")
    for r0, r1 in zip(first_run.tolist(), last_run.tolist(), strict=True):
        for u in range(r0, r1):
            for v in range(u + 1, r1):
                if int(run_count[u]) * int(run_count[v]) >= threshold:
                    pair = (int(p[run_start[u]]), int(p[run_start[v]]))
                    crowded.setdefault(pair, []).append(ordered[run_start[u]])
    return [
        (pair, _around(coords, party, pair, np.stack(cells)), int(min(c[0] for c in cells)) // 3)
        for pair, cells in crowded.items()
    ]


def _around(
    coords: IntArray, party: IntArray, pair: tuple[int, int], cells: IntArray
) -> tuple[IntArray, IntArray]:
    """The rows of each of the pair's parties in ``cells`` or a cell next to one (of
    the same sample), sample by sample."""
    found = []
    for sample in np.unique(cells[:, 0]).tolist():
        mine = cells[cells[:, 0] == sample]
        low, high = mine.min(axis=0) - 1, mine.max(axis=0) + 1
        rows = np.flatnonzero(
            (coords[:, 0] == sample)
            & (coords >= low).all(axis=1)
            & (coords <= high).all(axis=1)
            & np.isin(party, pair)
        )
        near = np.zeros(rows.shape[0], dtype=bool)
        for cell in mine:
            near |= (np.abs(coords[rows] - cell) <= 1).all(axis=1)
        found.append(rows[near])
    rows = np.concatenate(found)
    return rows[party[rows] == pair[0]], rows[party[rows] == pair[1]]


def _groups(n: int, clusters: tuple[Cluster, ...]) -> IntArray:
    """Per aircraft row, its group: clusters that share an aircraft are one group."""
    parent = list(range(len(clusters)))

    def root(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    owner = np.full(n, -1, dtype=np.int64)
    for k, cluster in enumerate(clusters):
        rows = np.concatenate(list(cluster.members.values()))
        for other in np.unique(owner[rows][owner[rows] >= 0]).tolist():
            parent[root(other)] = root(k)
        owner[rows] = k
    roots = np.array([root(k) for k in range(len(clusters))], dtype=np.int64)
    _, number = np.unique(roots, return_inverse=True)
    group = np.full(n, -1, dtype=np.int64)
    for k, cluster in enumerate(clusters):
        for rows in cluster.members.values():
            group[rows] = number[k]
    return group


def pairs_around(
    state: TrafficState, crowds: Crowds, params: DetectionParams, backend: ArrayBackend
) -> ConflictSet:
    """The pairs of different parties in conflict under ``params``, except those that
    the clusters tell (both aircraft in one group, of two parties crowded together)."""
    if crowds.groups == 0:
        return detect(state, params, backend)
    outside = np.flatnonzero(crowds.group < 0)
    found = detect(state.take(outside), params, backend)
    parts = [
        ConflictSet(
            outside[found.i],
            outside[found.j],
            found.tcpa,
            found.dcpa,
            found.tin,
            found.tout,
            found.los,
        )
    ]
    fleet = Fleet.build(state, params, backend)
    boxes = SweptBoxes.of(fleet, params.lookahead_s)
    lo = np.stack([backend.to_host(a) for a in boxes.lo], axis=1)
    hi = np.stack([backend.to_host(a) for a in boxes.hi], axis=1)
    part = taking_part(state, params.model)
    judged = np.ones(len(state), dtype=bool)
    if part is not None:  # aircraft on the ground take no part
        judged[:] = False
        judged[part] = True
    for g in range(crowds.groups):
        members = np.flatnonzero(crowds.group == g)
        others = np.flatnonzero(judged & ((crowds.group < 0) | (crowds.group > g)))  # once
        near = others[
            (lo[others] <= hi[members].max(axis=0)).all(axis=1)
            & (hi[others] >= lo[members].min(axis=0)).all(axis=1)
        ]
        sets = [(members, near)]
        crowded = {c.parties for c in crowds.clusters if crowds.group[_any_member(c)] == g}
        present = sorted(set(state.party[members].tolist()))
        for k, a in enumerate(present):
            for b in present[k + 1 :]:
                if (a, b) not in crowded:
                    sets.append(
                        (members[state.party[members] == a], members[state.party[members] == b])
                    )
        for left, right in sets:
            parts += _product(fleet, state, lo, hi, left, right, params.lookahead_s, backend)
    return ConflictSet.joined(parts)


def _any_member(cluster: Cluster) -> int:
    return int(cluster.members[cluster.parties[0]][0])


def _product(
    fleet: Fleet,
    state: TrafficState,
    lo: FloatArray,
    hi: FloatArray,
    left: IntArray,
    right: IntArray,
    lookahead_s: float,
    backend: ArrayBackend,
) -> list[ConflictSet]:
    """The exact test on every pair of ``left`` x ``right`` whose parties differ and
    whose swept boxes meet, in chunks of about the backend's ``chunk_pairs``."""
    if left.size == 0 or right.size == 0:
        return []
    step = max(1, backend.chunk_pairs // right.size)
    found = []
    for start in range(0, left.size, step):
        i = np.repeat(left[start : start + step], right.size)
        j = np.tile(right, min(step, left.size - start))
        keep = (state.party[i] != state.party[j]) & (lo[i] <= hi[j]).all(axis=1)
        keep &= (lo[j] <= hi[i]).all(axis=1)
        i, j = np.minimum(i[keep], j[keep]), np.maximum(i[keep], j[keep])
        c = encounters(fleet, backend.to_device(i), backend.to_device(j), lookahead_s)
        found.append(c.to_host(backend))
    return found

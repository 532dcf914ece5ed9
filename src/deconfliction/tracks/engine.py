"""What one tick finds: conflicts between aircraft, intrusions, nonconforming aircraft.

Pure: a :class:`~deconfliction.tracks.registry.Snapshot` of the live aircraft, the
separation minima per pair of parties (:class:`Separation`) and the volumes in play
(:class:`Airspace`) in; :class:`Finding` values out. The three kinds, each keyed so
that the same conflict has the same key from tick to tick:

=================  ===================================  ===============================
kind               key                                  sides told (need-to-know)
=================  ===================================  ===============================
``track-track``    (kind, lower id, higher id)          both aircraft's parties: each
                                                        sees the *other* aircraft's
                                                        predicted position at closest
                                                        approach
``track-volume``   (kind, aircraft id, notice id)       the aircraft's party and the
                                                        notice's: where and when the
                                                        aircraft enters the volume
``nonconforming``  (kind, aircraft id, its notice id)   its party (where it leaves its
                                                        notice) and every party whose
                                                        volumes it threatens (where it
                                                        enters them)
``track-cluster``  (kind, lower party id, higher)      both parties: how many of their
                                                        own aircraft are crowded with
                                                        how many of the other's, the
                                                        area and band, the earliest
                                                        entry
=================  ===================================  ===============================

**Crowds** (:mod:`.crowds`): when two parties have so many aircraft in one area that
their pairs in conflict would number ``cluster_pairs`` or more in one cell, those
aircraft's pairs are not searched; one ``track-cluster`` finding per pair of parties
("N aircraft of yours within R of M aircraft of Bravo's") stands for them. The tick's
work then stays bounded whatever the parties send: pairs are found as arrays and only
the pairs outside crowds become findings.

**Separation per pair.** Two parties with an agreement use its tactical minima and
look-ahead; others the service's defaults. :func:`track_track` runs
:func:`~deconfliction.tactical.detect` once over all aircraft with the widest minima
and look-ahead in play (a superset: a conflict under smaller minima or a shorter
look-ahead is one under larger ones), then decides each pair whose own minima are
smaller again, exactly, with the same kernel over just those aircraft.

**Volumes in two passes.** A coarse reach test (:func:`reachable_volumes`: each
footprint as a cap, every aircraft's travel within the look-ahead) keeps the volumes
some aircraft may reach, never fewer; the exact volume test
(:func:`~deconfliction.tactical.intrusions`) decides on those only.

**Times** are seconds from the tick (``Snapshot.time_s``); positions are (lon, lat,
alt_m), found by dead reckoning (:mod:`~deconfliction.tracks.reckoning`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import shapely

from deconfliction.core.earth import WGS84_A, WGS84_E2, geodetic_to_ecef
from deconfliction.core.volume import Volume4D
from deconfliction.tactical import (
    CPU,
    ArrayBackend,
    ConflictSet,
    DetectionParams,
    detect,
    intrusions,
    nonconformance,
)
from deconfliction.tactical.model import floors, level_vs, predicted_alt
from deconfliction.tactical.params import EXACT, PredictionModel
from deconfliction.tactical.state import FloatArray, IntArray, TrafficState
from deconfliction.tracks.crowds import Crowds, find_crowds, pairs_around
from deconfliction.tracks.reckoning import advance
from deconfliction.tracks.registry import Snapshot

__all__ = [
    "KINDS",
    "NONCONFORMING",
    "TRACK_CLUSTER",
    "TRACK_TRACK",
    "TRACK_VOLUME",
    "Airspace",
    "Crowd",
    "Finding",
    "Key",
    "Point",
    "Separation",
    "Side",
    "nonconforming",
    "reachable_volumes",
    "track_track",
    "track_volume",
    "volume_caps",
]

TRACK_TRACK = "track-track"
TRACK_VOLUME = "track-volume"
NONCONFORMING = "nonconforming"
TRACK_CLUSTER = "track-cluster"
KINDS = (TRACK_TRACK, TRACK_VOLUME, NONCONFORMING, TRACK_CLUSTER)

_DENSIFY_DEG = 0.05  # as the volume test densifies footprints
_RHO_MIN = WGS84_A * (1.0 - WGS84_E2)  # smallest radius of curvature of the ellipsoid, m
_CAP_SLACK_M = 1_000.0
_PAIRS_AT_ONCE = 1 << 20  # volume x aircraft distances held at once

Key = tuple[str, str, str]
"""(kind, aircraft id, aircraft id or notice id): the same conflict from tick to tick."""
Point = tuple[float, float, float]
"""(lon, lat, alt_m), GeoJSON order."""


@dataclass(frozen=True)
class Separation:
    """Tactical minima and look-ahead per pair of parties (ids, lower first); ``default``
    for pairs with no agreement."""

    default: DetectionParams = field(default_factory=DetectionParams)
    pairs: Mapping[tuple[int, int], DetectionParams] = field(default_factory=dict)

    def of(self, a: int, b: int) -> DetectionParams:
        """The minima between parties ``a`` and ``b``."""
        return self.pairs.get((a, b) if a < b else (b, a), self.default)

    def widest(self, parties: Collection[int]) -> DetectionParams:
        """The largest radius, half-height and look-ahead of any pair among ``parties``."""
        return self._bound(parties, max)

    def narrowest(self, parties: Collection[int]) -> DetectionParams:
        """The smallest radius, half-height and look-ahead of any pair among ``parties``."""
        return self._bound(parties, min)

    def _bound(
        self, parties: Collection[int], pick: Callable[[list[float]], float]
    ) -> DetectionParams:
        chosen = [self.default]
        chosen += [p for (a, b), p in self.pairs.items() if a in parties and b in parties]
        return DetectionParams(
            pick([p.rpz_m for p in chosen]),
            pick([p.hpz_m for p in chosen]),
            pick([p.lookahead_s for p in chosen]),
            self.default.model,
        )


@dataclass(frozen=True, eq=False)
class Airspace:
    """The volumes of one tick: live notices' volumes that aircraft of other parties may
    intrude (``owner`` party id and ``notice`` id per volume), and for each notice that
    tags an aircraft, its volumes (empty when it is no longer live). ``caps`` are the
    volumes' :func:`volume_caps` when the caller keeps them between ticks (computed
    here otherwise)."""

    volumes: tuple[Volume4D, ...] = ()
    owner: tuple[int, ...] = ()
    notice: tuple[str, ...] = ()
    tagged: Mapping[str, tuple[Volume4D, ...]] = field(default_factory=dict)
    caps: FloatArray | None = None


def volume_caps(volumes: Sequence[Volume4D]) -> FloatArray:
    """Each volume's footprint as a cap, shape (V, 4): the ECEF point (metres) on the
    ellipsoid under the footprint's centroid, and the chord distance to its farthest
    vertex (densified as the volume test densifies it), metres."""
    caps = np.zeros((len(volumes), 4))
    for k, volume in enumerate(volumes):
        shape = volume.footprint.shape
        centre = shape.centroid
        vertices = shapely.get_coordinates(shapely.segmentize(shape, _DENSIFY_DEG))
        cx, cy, cz = geodetic_to_ecef(centre.x, centre.y, 0.0)
        vx, vy, vz = geodetic_to_ecef(vertices[:, 0], vertices[:, 1], 0.0)
        radius = np.sqrt((vx - cx) ** 2 + (vy - cy) ** 2 + (vz - cz) ** 2).max()
        caps[k] = (cx, cy, cz, radius)
    return caps


def reachable_volumes(state: TrafficState, caps: FloatArray, horizon_s: float) -> IntArray:
    """Volumes some aircraft may reach within ``horizon_s``: a coarse pass that may
    over-select, never under-select. An aircraft that flies ``travel`` metres can be over
    a footprint of cap radius ``r`` only if it starts within ``r + travel + h`` of the
    cap's centre, ``h = (r + travel)(r + 3 travel) / rho_min`` bounding how far the
    ellipsoid curves away from the straight path and the footprint's plane (twice the
    bound the exact volume test uses), plus a kilometre."""
    if caps.shape[0] == 0 or len(state) == 0:
        return np.zeros(0, dtype=np.int64)
    x, y, z = geodetic_to_ecef(state.lon, state.lat, 0.0)
    travel = state.gs_mps * horizon_s
    near = np.zeros(caps.shape[0], dtype=bool)
    step = max(1, _PAIRS_AT_ONCE // len(state))
    for start in range(0, caps.shape[0], step):
        c = caps[start : start + step]
        distance = np.sqrt(
            (x[None, :] - c[:, 0:1]) ** 2
            + (y[None, :] - c[:, 1:2]) ** 2
            + (z[None, :] - c[:, 2:3]) ** 2
        )
        radius = c[:, 3:4]
        curve = (radius + travel[None, :]) * (radius + 3.0 * travel[None, :]) / _RHO_MIN
        reach = radius + travel[None, :] + curve + _CAP_SLACK_M
        near[start : start + step] = (distance <= reach).any(axis=1)
    return np.flatnonzero(near)


@dataclass(frozen=True)
class Side:
    """One party's view of a finding, what its alert says and nothing more.

    ``counterpart`` is the other party (the party itself for its own nonconforming
    aircraft); ``aircraft`` and ``notice`` are the party's own, when concerned;
    ``at_s`` (seconds from the tick) and ``point`` say when and where: the *other*
    aircraft at closest approach, the intruding aircraft where it enters, the party's
    own aircraft where it leaves its notice."""

    party: int
    counterpart: int
    aircraft: str | None
    notice: str | None
    at_s: float
    point: Point


@dataclass(frozen=True)
class Crowd:
    """What a ``track-cluster`` finding adds: aircraft per party id, the pair's radius
    (metres), the area (west, south, east, north; degrees) and band (metres) where the
    crowd is first predicted."""

    counts: Mapping[int, int]
    radius_m: float
    area: tuple[float, float, float, float]
    band: tuple[float, float]


@dataclass(frozen=True)
class Finding:
    """One conflict found at tick ``time_s`` (seconds since the epoch).

    ``tin_s``/``tout_s`` bound it (seconds from the tick; ``tout_s`` is ``inf`` when
    straight flight does not end it, or nothing predicts its end); ``horizon_s`` is the
    look-ahead it was judged with; ``dcpa_m`` the distance at closest approach
    (track-track only); ``inside`` whether it is happening now (a loss of separation,
    an aircraft inside the volume, an aircraft outside its notice). ``sides`` are the
    parties told, the conflict's ``a`` side first."""

    key: Key
    time_s: float
    tin_s: float
    tout_s: float
    horizon_s: float
    dcpa_m: float | None
    inside: bool
    sides: tuple[Side, ...]
    crowd: Crowd | None = None

    @property
    def kind(self) -> str:
        return self.key[0]

    @property
    def aircraft(self) -> tuple[str, ...]:
        """The ids of the aircraft it concerns (none for a cluster: its parties')."""
        if self.kind == TRACK_CLUSTER:
            return ()
        return self.key[1:] if self.kind == TRACK_TRACK else self.key[1:2]


def _now(snapshot: Snapshot) -> datetime:
    return datetime.fromtimestamp(snapshot.time_s, UTC)


def _points(
    state: TrafficState, rows: np.ndarray, dt_s: np.ndarray, model: PredictionModel = EXACT
) -> list[Point]:
    """Where the aircraft of ``rows`` are ``dt_s`` from now, altitudes as ``model``
    predicts them (level in the dead band, descents stopped at the floor)."""
    vs = level_vs(state, model)[rows]
    at = advance(
        state.lon[rows],
        state.lat[rows],
        state.alt_m[rows],
        state.gs_mps[rows],
        state.trk_deg[rows],
        vs,
        dt_s,
    )
    floor = floors(state, model)
    alt = predicted_alt(state.alt_m[rows], vs, None if floor is None else floor[rows], dt_s)
    return list(zip(at.lon.tolist(), at.lat.tolist(), alt.tolist(), strict=True))


def track_track(
    snapshot: Snapshot,
    separation: Separation,
    backend: ArrayBackend = CPU,
    *,
    cluster_pairs: int = 0,
) -> list[Finding]:
    """Every pair of aircraft of different parties in conflict, under its pair's minima;
    with ``cluster_pairs`` > 0, crowds (:mod:`.crowds`) as one ``track-cluster`` finding
    per pair of parties instead of their pairs."""
    state = snapshot.state
    parties = set(state.party.tolist())
    if len(parties) < 2:
        return []
    narrowest = separation.narrowest(parties)
    crowds = find_crowds(state, narrowest, cluster_pairs)
    findings = _cluster_findings(snapshot, crowds, separation)
    for pairs, params in _by_pair_minima(state, separation, backend, crowds):
        findings += _pair_findings(snapshot, pairs, params)
    return sorted(findings, key=lambda f: f.key)


def _cluster_findings(snapshot: Snapshot, crowds: Crowds, separation: Separation) -> list[Finding]:
    findings = []
    for cluster in crowds.clusters:
        a, b = cluster.parties
        params = separation.of(a, b)
        west, south, east, north = cluster.area
        centre = ((west + east) / 2.0, (south + north) / 2.0, sum(cluster.band) / 2.0)
        findings.append(
            Finding(
                key=(TRACK_CLUSTER, str(a), str(b)),
                time_s=snapshot.time_s,
                tin_s=cluster.tin_s,
                tout_s=math.inf,
                horizon_s=params.lookahead_s,
                dcpa_m=None,
                inside=cluster.tin_s == 0.0,
                sides=(
                    Side(a, b, None, None, cluster.tin_s, centre),
                    Side(b, a, None, None, cluster.tin_s, centre),
                ),
                crowd=Crowd(
                    {p: int(rows.shape[0]) for p, rows in cluster.members.items()},
                    params.rpz_m,
                    cluster.area,
                    cluster.band,
                ),
            )
        )
    return findings


def _pair_codes(i: IntArray, j: IntArray, n: int) -> IntArray:
    return np.minimum(i, j) * n + np.maximum(i, j)


def _by_pair_minima(
    state: TrafficState, separation: Separation, backend: ArrayBackend, crowds: Crowds
) -> list[tuple[ConflictSet, DetectionParams]]:
    """The pairs in conflict, grouped by their pair's minima: found once with the widest,
    then each group with smaller minima decided again over its own aircraft."""
    parties = set(state.party.tolist())
    widest = separation.widest(parties)
    found = pairs_around(state, crowds, widest, backend)
    if len(found) == 0:
        return []
    a, b = state.party[found.i], state.party[found.j]
    pairs, which = np.unique(
        np.stack([np.minimum(a, b), np.maximum(a, b)], axis=1), axis=0, return_inverse=True
    )
    which = which.reshape(-1)
    by_params: dict[DetectionParams, list[int]] = {}
    for k, (pa, pb) in enumerate(pairs.tolist()):
        by_params.setdefault(separation.of(pa, pb), []).append(k)
    kept = []
    for params, ks in by_params.items():
        rows = np.flatnonzero(np.isin(which, ks))
        if params == widest:
            kept.append((found.where(rows), params))
            continue
        aircraft = np.unique(np.concatenate([found.i[rows], found.j[rows]]))
        again = detect(state.take(aircraft), params, backend)
        first, second = aircraft[again.i], aircraft[again.j]
        n = len(state)
        mask = np.isin(_pair_codes(first, second, n), _pair_codes(found.i[rows], found.j[rows], n))
        c = again.where(mask)
        confirmed = ConflictSet(first[mask], second[mask], c.tcpa, c.dcpa, c.tin, c.tout, c.los)
        kept.append((confirmed, params))
    return kept


def _pair_findings(
    snapshot: Snapshot, pairs: ConflictSet, params: DetectionParams
) -> list[Finding]:
    """One finding per pair, from the pairs' arrays (ids ordered, points reckoned, all
    columns turned to lists at once)."""
    state = snapshot.state
    if len(pairs) == 0:
        return []
    swap = state.ids[pairs.i] > state.ids[pairs.j]
    first = np.where(swap, pairs.j, pairs.i)
    second = np.where(swap, pairs.i, pairs.j)
    at_first = _points(state, first, pairs.tcpa, params.model)
    at_second = _points(state, second, pairs.tcpa, params.model)
    ids, party, notice = state.ids, state.party, snapshot.notice
    columns = zip(
        first.tolist(),
        second.tolist(),
        ids[first].tolist(),
        ids[second].tolist(),
        party[first].tolist(),
        party[second].tolist(),
        pairs.tcpa.tolist(),
        pairs.tin.tolist(),
        pairs.tout.tolist(),
        pairs.dcpa.tolist(),
        pairs.los.tolist(),
        at_first,
        at_second,
        strict=True,
    )
    return [
        Finding(
            key=(TRACK_TRACK, id_i, id_j),
            time_s=snapshot.time_s,
            tin_s=tin,
            tout_s=tout,
            horizon_s=params.lookahead_s,
            dcpa_m=dcpa,
            inside=los,
            sides=(
                Side(p_i, p_j, id_i, notice[i], tcpa, where_j),
                Side(p_j, p_i, id_j, notice[j], tcpa, where_i),
            ),
        )
        for i, j, id_i, id_j, p_i, p_j, tcpa, tin, tout, dcpa, los, where_i, where_j in columns
    ]


def track_volume(snapshot: Snapshot, separation: Separation, airspace: Airspace) -> list[Finding]:
    """Every aircraft predicted inside a live volume of another party within its pair's
    look-ahead; one finding per (aircraft, notice), at the earliest entry."""
    state = snapshot.state
    if not airspace.volumes or len(state) == 0:
        return []
    horizon = separation.widest(set(state.party.tolist()) | set(airspace.owner)).lookahead_s
    caps = airspace.caps if airspace.caps is not None else volume_caps(airspace.volumes)
    near = reachable_volumes(state, caps, horizon)
    owners = np.array(airspace.owner, dtype=np.int64)[near]
    hits = intrusions(
        state, [airspace.volumes[v] for v in near.tolist()], owners, _now(snapshot), horizon
    )
    earliest: dict[tuple[int, str], tuple[float, int, float]] = {}
    for row, volume, tin in zip(
        hits.aircraft.tolist(), near[hits.volume].tolist(), hits.tin.tolist(), strict=True
    ):
        owner = airspace.owner[volume]
        limit = separation.of(int(state.party[row]), owner).lookahead_s
        key = (row, airspace.notice[volume])
        if tin < limit and (key not in earliest or tin < earliest[key][0]):
            earliest[key] = (tin, owner, limit)
    if not earliest:
        return []
    rows = np.array([row for row, _ in earliest], dtype=np.int64)
    entries = _points(state, rows, np.array([v[0] for v in earliest.values()]))
    findings = []
    for ((row, notice), (tin, owner, limit)), point in zip(earliest.items(), entries, strict=True):
        party = int(state.party[row])
        ident = str(state.ids[row])
        findings.append(
            Finding(
                key=(TRACK_VOLUME, ident, notice),
                time_s=snapshot.time_s,
                tin_s=tin,
                tout_s=math.inf,
                horizon_s=limit,
                dcpa_m=None,
                inside=tin == 0.0,
                sides=(
                    Side(party, owner, ident, snapshot.notice[row], tin, point),
                    Side(owner, party, None, notice, tin, point),
                ),
            )
        )
    return sorted(findings, key=lambda f: f.key)


def nonconforming(
    snapshot: Snapshot,
    separation: Separation,
    airspace: Airspace,
    intruding: Sequence[Finding] = (),
) -> list[Finding]:
    """Every tagged aircraft outside its notice's volumes, or predicted to leave them
    within the default look-ahead. Its party is told where it leaves; every party whose
    volumes it threatens (its ``intruding`` track-volume findings) where it enters them."""
    state = snapshot.state
    tagged = {
        row: airspace.tagged.get(notice, ())
        for row, notice in enumerate(snapshot.notice)
        if notice is not None
    }
    if not tagged:
        return []
    horizon = separation.default.lookahead_s
    out = nonconformance(state, tagged, _now(snapshot), horizon)
    if len(out) == 0:
        return []
    threats: dict[str, dict[int, Side]] = {}
    for finding in intruding:
        if finding.kind != TRACK_VOLUME:
            continue
        owner_side = finding.sides[1]
        by_party = threats.setdefault(finding.key[1], {})
        held = by_party.get(owner_side.party)
        if held is None or owner_side.at_s < held.at_s:
            by_party[owner_side.party] = owner_side
    leaving = _points(state, out.aircraft, out.tleave)
    findings = []
    for k, row in enumerate(out.aircraft.tolist()):
        ident, party, notice = str(state.ids[row]), int(state.party[row]), snapshot.notice[row]
        assert notice is not None
        tleave = float(out.tleave[k])
        own = Side(party, party, ident, notice, tleave, leaving[k])
        others = [threats.get(ident, {})[p] for p in sorted(threats.get(ident, {}))]
        findings.append(
            Finding(
                key=(NONCONFORMING, ident, notice),
                time_s=snapshot.time_s,
                tin_s=tleave,
                tout_s=math.inf,
                horizon_s=horizon,
                dcpa_m=None,
                inside=bool(out.outside[k]),
                sides=(
                    own,
                    *(Side(s.party, party, None, s.notice, s.at_s, s.point) for s in others),
                ),
            )
        )
    return sorted(findings, key=lambda f: f.key)

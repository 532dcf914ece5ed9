"""Aircraft against 4D volumes: intrusions into others' volumes, nonconformance with one's own.

An aircraft flies the straight path of :mod:`~deconfliction.tactical.kinematics`. A
:class:`~deconfliction.core.volume.Volume4D` holds it at time ``t`` (seconds from
``now``) when, all strictly,

* its ground position, projected on a tangent plane (with the footprint, densified
  as in the strategic test), is inside the footprint;
* its altitude ``alt + vs t`` is inside the band ``(lower_m, upper_m)``;
* ``now + t`` is inside the window ``[start, end)``.

Along the path each condition changes only at a few instants: where the path crosses
a footprint edge, where the altitude crosses a limit, where the window opens or
closes. Between two such breakpoints whether the volume holds the aircraft is
constant, so it is decided exactly by testing the midpoint of each piece.

* :func:`intrusions`: the first time in ``[0, T)`` each aircraft is inside each volume
  of **another** party (0 when inside now).
* :func:`nonconformance`: for an aircraft tagged with its own notice, the first time
  in ``[0, T)`` it is inside **none** of the notice's volumes (0 when outside now).

An intrusion is judged on the tangent plane at the volume's centroid, strictly: an
aircraft on the boundary is outside (touching is adjacent). Conformance is judged on
one plane per notice, at the centre of its volumes, so that volumes sharing an edge
share it exactly on that plane, and each volume is grown by
:data:`CONFORMANCE_TOLERANCE_M` sideways and up and down: an aircraft passing from one
volume of its notice into the next, or flying on the floor between two, conforms.
(The straight path leaves the ellipsoid as it goes, and its projection on planes
centred on different volumes differs by up to ~15 m at 70 km; one plane per notice
removes that from the seams.)

>>> from datetime import UTC, datetime, timedelta
>>> from deconfliction.core.footprint import Footprint
>>> from deconfliction.core.volume import Volume4D
>>> from deconfliction.tactical.state import TrafficState
>>> now = datetime(2026, 1, 1, 12, tzinfo=UTC)
>>> zone = Volume4D(Footprint.polygon([(8, 47), (8.5, 47), (8.5, 47.5), (8, 47.5), (8, 47)]),
...                 0.0, 6000.0, now, now + timedelta(hours=1))
>>> state = TrafficState(ids=["HB1"], party=[1], lon=[7.9], lat=[47.2], alt_m=[3000.0],
...                      gs_mps=[100.0], trk_deg=[90.0], vs_mps=[0.0])
>>> found = intrusions(state, [zone], owner=[2], now=now)
>>> found.aircraft.tolist(), found.volume.tolist(), round(float(found.tin[0]))
([0], [0], 76)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from deconfliction.core.ecef import WGS84_A, WGS84_E2, enu_basis, geodetic_to_ecef
from deconfliction.errors import TimeWindowError, ValidationError
from deconfliction.tactical.cpa import STILL_MPS
from deconfliction.tactical.kinematics import Motion
from deconfliction.tactical.params import DEFAULT_LOOKAHEAD_S
from deconfliction.tactical.state import FloatArray, IntArray, TrafficState

if TYPE_CHECKING:  # shapely is imported where a volume is prepared: detect needs none of it
    from shapely.geometry import Polygon

    from deconfliction.core.volume import Volume4D

__all__ = [
    "CONFORMANCE_TOLERANCE_M",
    "Intrusions",
    "Nonconformance",
    "intrusions",
    "nonconformance",
]

BoolArray = npt.NDArray[np.bool_]

CONFORMANCE_TOLERANCE_M = 1.0

_DENSIFY_DEG = 0.05
_RHO_MIN = WGS84_A * (1.0 - WGS84_E2)  # smallest radius of curvature of the ellipsoid, m
_SLACK_M = 1.0
_MAX_CELLS = 1 << 21  # aircraft x edges held at once when finding crossings


@dataclass(frozen=True, eq=False)
class Intrusions:
    """Aircraft (state rows) predicted inside volumes of other parties, sorted by
    (aircraft, volume): ``tin`` seconds from now (0 when ``inside`` now)."""

    aircraft: IntArray
    volume: IntArray
    tin: FloatArray
    inside: BoolArray

    def __len__(self) -> int:
        return int(self.aircraft.shape[0])


@dataclass(frozen=True, eq=False)
class Nonconformance:
    """Tagged aircraft (state rows, sorted) outside their notice's volumes, or
    predicted to leave them: ``tleave`` seconds from now (0 when ``outside`` now)."""

    aircraft: IntArray
    tleave: FloatArray
    outside: BoolArray

    def __len__(self) -> int:
        return int(self.aircraft.shape[0])


@dataclass(frozen=True, eq=False)
class _Path:
    """Straight paths of the aircraft: ECEF ground position (m), velocity (m/s)."""

    position: FloatArray
    velocity: FloatArray
    alt: FloatArray
    vs: FloatArray
    gs: FloatArray

    @classmethod
    def of(cls, state: TrafficState) -> _Path:
        motion = Motion.of(state.lon, state.lat, state.gs_mps, state.trk_deg)
        return cls(motion.position, motion.velocity, state.alt_m, state.vs_mps, state.gs_mps)


@dataclass(frozen=True, eq=False)
class _Plane:
    """A tangent plane of the ellipsoid: its ECEF origin and unit east/north vectors."""

    origin: FloatArray
    east: FloatArray
    north: FloatArray

    @classmethod
    def centred_on(cls, volumes: Sequence[Volume4D]) -> _Plane:
        """The plane at the mean of the footprints' centroids, averaged as unit normals
        (so that volumes on both sides of the antimeridian average correctly, and one
        footprint's plane is at its centroid: an ECEF mean would give the geocentric
        latitude, some 20 km off at mid-latitudes)."""
        centres = [v.footprint.shape.centroid for v in volumes]
        lam = np.radians([c.x for c in centres])
        phi = np.radians([c.y for c in centres])
        mx = float(np.mean(np.cos(phi) * np.cos(lam)))
        my = float(np.mean(np.cos(phi) * np.sin(lam)))
        mz = float(np.mean(np.sin(phi)))
        lon = math.degrees(math.atan2(my, mx))
        lat = math.degrees(math.atan2(mz, math.hypot(mx, my)))
        ox, oy, oz = geodetic_to_ecef(lon, lat, 0.0)
        east, north, _ = enu_basis(lon, lat)
        return cls(
            np.array([ox, oy, oz], dtype=np.float64),
            np.asarray(east, dtype=np.float64),
            np.asarray(north, dtype=np.float64),
        )


class _Region:
    """One volume, prepared: its footprint on a tangent plane (grown by ``grow_m``
    metres), its band (grown by as much) and its window relative to ``now``."""

    def __init__(self, volume: Volume4D, now: datetime, plane: _Plane, grow_m: float) -> None:
        import shapely

        self.origin, self.east, self.north = plane.origin, plane.east, plane.north
        dense = shapely.segmentize(volume.footprint.shape, _DENSIFY_DEG)
        projected = shapely.transform(dense, self._project_lonlat)
        self.polygon: Polygon = projected.buffer(grow_m) if grow_m > 0 else projected
        shapely.prepare(self.polygon)
        rings = [self.polygon.exterior, *self.polygon.interiors]
        coords = [np.asarray(r.coords) for r in rings]
        self.edge_start = np.concatenate([c[:-1] for c in coords])
        self.edge_vector = np.concatenate([c[1:] - c[:-1] for c in coords])
        vertices = np.asarray(dense.exterior.coords)
        vx, vy, vz = geodetic_to_ecef(vertices[:, 0], vertices[:, 1], 0.0)
        offsets = np.stack([vx, vy, vz], axis=-1) - self.origin
        self.radius_m = float(np.sqrt((offsets**2).sum(axis=1)).max()) + grow_m
        x0, y0, x1, y1 = (float(b) for b in self.polygon.bounds)
        self.bounds = (x0, y0, x1, y1)
        self.lower_m, self.upper_m = volume.lower_m - grow_m, volume.upper_m + grow_m
        self.opens_s = (volume.start - now).total_seconds()
        self.closes_s = (volume.end - now).total_seconds()

    def _project_lonlat(self, lonlat: FloatArray) -> FloatArray:
        x, y, z = geodetic_to_ecef(lonlat[:, 0], lonlat[:, 1], 0.0)
        offset = np.stack([x, y, z], axis=-1) - self.origin
        return np.column_stack([offset @ self.east, offset @ self.north])

    def _plane(self, path: _Path, rows: IntArray) -> tuple[FloatArray, ...]:
        offset = path.position[rows] - self.origin
        velocity = path.velocity[rows]
        return offset @ self.east, offset @ self.north, velocity @ self.east, velocity @ self.north

    def reachable(self, path: _Path, lookahead_s: float) -> IntArray:
        """Rows that might be inside at some t in [0, T): a coarse, conservative filter."""
        t = lookahead_s
        if self.closes_s <= 0.0 or self.opens_s >= t:
            return np.zeros(0, dtype=np.int64)
        distance = np.sqrt(((path.position - self.origin) ** 2).sum(axis=1))
        alt_end = path.alt + path.vs * t
        near = (distance <= self._reach_m(path.gs * t)) & (
            np.maximum(path.alt, alt_end) > self.lower_m
        )
        near &= np.minimum(path.alt, alt_end) < self.upper_m
        rows = np.flatnonzero(near)
        x, y, vx, vy = self._plane(path, rows)
        x1, y1 = x + vx * t, y + vy * t
        west, south, east, north = self.bounds
        inside_box = (np.maximum(x, x1) >= west) & (np.minimum(x, x1) <= east)
        inside_box &= (np.maximum(y, y1) >= south) & (np.minimum(y, y1) <= north)
        return rows[inside_box]

    def _reach_m(self, travel_m: FloatArray) -> FloatArray:
        """How far (ECEF) from the plane's origin an aircraft that travels ``travel_m``
        may start and still be over the footprint: the footprint's radius, plus the
        travel, plus what its height over the plane adds. That height is below
        ``D (D + 2 travel) / (2 rho_min)`` for a start ``D = radius + travel`` away
        (the Earth curving away from the plane, and the straight path tilted by the
        normals' angle); doubled, for a safe margin."""
        start = self.radius_m + travel_m
        height = start * (start + 2.0 * travel_m) / _RHO_MIN
        return np.sqrt(self.radius_m**2 + height**2) + travel_m + _SLACK_M

    def breakpoints(
        self, path: _Path, rows: IntArray, lookahead_s: float
    ) -> tuple[IntArray, FloatArray]:
        """(index into ``rows``, t) of every instant in (0, T) where a condition changes."""
        t = lookahead_s
        found_at: list[IntArray] = []
        found_t: list[FloatArray] = []
        moving = np.flatnonzero(path.gs[rows] > STILL_MPS)  # no crossings for the rest
        x, y, vx, vy = self._plane(path, rows[moving])
        step = max(1, _MAX_CELLS // max(1, self.edge_start.shape[0]))
        for k0 in range(0, moving.shape[0], step):
            k, s = self._crossings(x[k0 : k0 + step], y[k0 : k0 + step], vx, vy, k0, t)
            found_at.append(moving[k])
            found_t.append(s * t)
        climbing = np.flatnonzero(np.abs(path.vs[rows]) > STILL_MPS)
        for limit in (self.lower_m, self.upper_m):
            found_at.append(climbing)
            found_t.append((limit - path.alt[rows[climbing]]) / path.vs[rows[climbing]])
        for edge in (self.opens_s, self.closes_s):
            found_at.append(np.arange(rows.shape[0]))
            found_t.append(np.full(rows.shape[0], edge))
        at, when = np.concatenate(found_at), np.concatenate(found_t)
        keep = (when > 0.0) & (when < t)
        return at[keep], when[keep]

    def _crossings(
        self, x: FloatArray, y: FloatArray, vx: FloatArray, vy: FloatArray, k0: int, t: float
    ) -> tuple[IntArray, FloatArray]:
        """Where segments (x, y) → (x, y) + (vx, vy) t cross the edges: (row, fraction)."""
        n = x.shape[0]
        dx, dy = (vx[k0 : k0 + n] * t)[:, None], (vy[k0 : k0 + n] * t)[:, None]
        cx = self.edge_start[None, :, 0] - x[:, None]
        cy = self.edge_start[None, :, 1] - y[:, None]
        fx, fy = self.edge_vector[None, :, 0], self.edge_vector[None, :, 1]
        denom = dx * fy - dy * fx
        parallel = denom == 0.0
        safe = np.where(parallel, 1.0, denom)
        along_path = (cx * fy - cy * fx) / safe
        along_edge = (cx * dy - cy * dx) / safe
        hit = ~parallel & (along_path >= 0) & (along_path <= 1)
        hit &= (along_edge >= 0) & (along_edge <= 1)
        k, _ = np.nonzero(hit)
        return k + k0, along_path[hit]

    def holds(self, path: _Path, rows: IntArray, t: FloatArray) -> BoolArray:
        """Whether this volume holds aircraft ``rows[k]`` at time ``t[k]``."""
        import shapely

        x, y, vx, vy = self._plane(path, rows)
        alt = path.alt[rows] + path.vs[rows] * t
        inside = (alt > self.lower_m) & (alt < self.upper_m)
        inside &= (t >= self.opens_s) & (t < self.closes_s)
        inside &= shapely.contains_xy(self.polygon, x + vx * t, y + vy * t)
        return np.asarray(inside, dtype=bool)


def _first_piece(
    group: IntArray,
    breaks: FloatArray,
    groups: int,
    lookahead_s: float,
    member: Callable[[IntArray, FloatArray], BoolArray],
    wanted: bool,
) -> FloatArray:
    """For each group, the start of its first piece of [0, T) where ``member`` is
    ``wanted`` (NaN when none). ``group``/``breaks`` are the groups' breakpoints;
    ``member(group, t)`` answers for the midpoints of the pieces."""
    every = np.arange(groups)
    group = np.concatenate([group, every, every])
    breaks = np.concatenate([breaks, np.zeros(groups), np.full(groups, lookahead_s)])
    order = np.lexsort((breaks, group))
    group, breaks = group[order], breaks[order]
    piece = np.flatnonzero((group[1:] == group[:-1]) & (breaks[1:] > breaks[:-1]))
    start, g = breaks[piece], group[piece]
    match = member(g, (start + breaks[piece + 1]) / 2.0) == wanted
    first = np.full(groups, np.nan)
    found, index = np.unique(g[match], return_index=True)
    first[found] = start[match][index]
    return first


def _check(now: datetime, lookahead_s: float) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise TimeWindowError(f"now {now.isoformat()} has no time zone; give it in UTC")
    if not (math.isfinite(lookahead_s) and lookahead_s > 0):
        raise ValidationError(
            f"lookahead_s must be a positive number of seconds, not {lookahead_s}"
        )


def intrusions(
    state: TrafficState,
    volumes: Sequence[Volume4D],
    owner: npt.ArrayLike,
    now: datetime,
    lookahead_s: float = DEFAULT_LOOKAHEAD_S,
) -> Intrusions:
    """Each aircraft predicted inside a volume of another party within ``lookahead_s``.

    ``owner[v]`` is the party code of ``volumes[v]`` (the notice's or zone's party);
    an aircraft of that same party is never an intruder there.
    """
    _check(now, lookahead_s)
    owners = np.asarray(owner, dtype=np.int64)
    if owners.shape != (len(volumes),):
        raise ValidationError(f"owner needs one party code per volume ({len(volumes)})")
    path = _Path.of(state)
    found: list[tuple[IntArray, IntArray, FloatArray]] = []
    for v, volume in enumerate(volumes):
        region = _Region(volume, now, _Plane.centred_on([volume]), grow_m=0.0)
        rows = region.reachable(path, lookahead_s)
        rows = rows[state.party[rows] != owners[v]]
        if rows.shape[0] == 0:
            continue
        at, when = region.breakpoints(path, rows, lookahead_s)

        def member(
            k: IntArray, t: FloatArray, region: _Region = region, rows: IntArray = rows
        ) -> BoolArray:
            return region.holds(path, rows[k], t)

        tin = _first_piece(at, when, rows.shape[0], lookahead_s, member, wanted=True)
        hit = ~np.isnan(tin)
        found.append((rows[hit], np.full(int(hit.sum()), v, dtype=np.int64), tin[hit]))
    if not found:
        empty = np.zeros(0, dtype=np.int64)
        return Intrusions(empty, empty, np.zeros(0), np.zeros(0, dtype=bool))
    aircraft, volume_index, tin = (np.concatenate(c) for c in zip(*found, strict=True))
    order = np.lexsort((volume_index, aircraft))
    tin = tin[order]
    return Intrusions(aircraft[order], volume_index[order], tin, tin == 0.0)


def nonconformance(
    state: TrafficState,
    notices: Mapping[int, Sequence[Volume4D]],
    now: datetime,
    lookahead_s: float = DEFAULT_LOOKAHEAD_S,
) -> Nonconformance:
    """Tagged aircraft outside their notice's volumes now or within ``lookahead_s``.

    ``notices`` maps a state row to the volumes of the notice its party tagged it
    with; the aircraft conforms while at least one of them holds it.
    """
    _check(now, lookahead_s)
    rows = np.array(sorted(notices), dtype=np.int64)
    if rows.shape[0] and (rows[0] < 0 or rows[-1] >= len(state)):
        raise ValidationError(f"notices name rows outside the state's {len(state)} aircraft")
    path = _Path.of(state)
    # One plane per notice (the same sequence of volumes), shared by its volumes.
    by_notice: dict[int, tuple[Sequence[Volume4D], list[int]]] = {}
    for k, row in enumerate(rows.tolist()):
        by_notice.setdefault(id(notices[row]), (notices[row], []))[1].append(k)
    regions: list[tuple[_Region, IntArray]] = []
    for volumes, members in by_notice.values():
        if volumes:
            plane = _Plane.centred_on(volumes)
            for volume in volumes:
                region = _Region(volume, now, plane, grow_m=CONFORMANCE_TOLERANCE_M)
                regions.append((region, np.array(members, dtype=np.int64)))
    at_parts: list[IntArray] = [np.zeros(0, dtype=np.int64)]
    when_parts: list[FloatArray] = [np.zeros(0)]
    for region, ks in regions:
        at, when = region.breakpoints(path, rows[ks], lookahead_s)
        at_parts.append(ks[at])
        when_parts.append(when)

    def member(k: IntArray, t: FloatArray) -> BoolArray:
        held = np.zeros(k.shape[0], dtype=bool)
        for region, ks in regions:
            uses = np.isin(k, ks)
            held[uses] |= region.holds(path, rows[k[uses]], t[uses])
        return held

    tleave = _first_piece(
        np.concatenate(at_parts),
        np.concatenate(when_parts),
        rows.shape[0],
        lookahead_s,
        member,
        wanted=False,
    )
    hit = ~np.isnan(tleave)
    return Nonconformance(rows[hit], tleave[hit], tleave[hit] == 0.0)

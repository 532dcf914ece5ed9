"""The latest state of every aircraft, who reports it, and its state at a tick time.

:class:`TrackRegistry` keeps one row per aircraft in columns (NumPy arrays that grow by
doubling, rows reused when an aircraft leaves), so a tick over a hundred thousand
aircraft copies arrays instead of walking objects. It is in memory and does no I/O and
reads no clock: callers give it the time. It is not thread-safe; the service holds a
lock around it.

* **Ownership**: an aircraft id belongs to the party that reports it, until its last
  state ages out; another party reporting the same id meanwhile has that row refused.
* **Order**: a state older than the one held for the aircraft is refused (a late
  packet must not move an aircraft back); one of the same time replaces it.
* **Ageing**: :meth:`TrackRegistry.snapshot` forgets aircraft whose last state is older
  than ``max_age_s`` and dead-reckons every other one to the tick time
  (:mod:`~deconfliction.tracks.reckoning`).

>>> from deconfliction.tracks.batch import read_batch
>>> from datetime import UTC, datetime
>>> now = datetime(2026, 3, 2, 8, tzinfo=UTC)
>>> row = {"id": "a1", "time": "2026-03-02T08:00:00Z", "lat": 47.0, "lon": 8.0,
...        "alt_m": 3000.0, "gs_mps": 100.0, "trk_deg": 90.0, "vs_mps": 0.0}
>>> batch, _ = read_batch([row], now, max_ahead_s=30, max_age_s=60)
>>> registry = TrackRegistry()
>>> registry.report(1, batch, now.timestamp(), max_age_s=60)
()
>>> [r.reason for r in registry.report(2, batch, now.timestamp(), max_age_s=60)]
["aircraft 'a1' is reported by another party; report only your own aircraft"]
>>> snap = registry.snapshot(now.timestamp() + 10, max_age_s=60)
>>> len(snap), round(float(snap.state.lon[0]), 4), round(float(snap.age_s[0]))
(1, 8.0131, 10)
>>> len(registry.snapshot(now.timestamp() + 61, max_age_s=60)), len(registry)
(0, 0)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from deconfliction.party_feeds import FeedModel
from deconfliction.tactical.state import (
    FloatArray,
    IntArray,
    RowRejection,
    TrafficState,
    accept_rows,
)
from deconfliction.tracks.batch import TrackBatch
from deconfliction.tracks.reckoning import advance

__all__ = ["Snapshot", "TrackRegistry", "TrackView"]

_log = logging.getLogger(__name__)
_FLOATS = ("time_s", "lon", "lat", "alt_m", "gs_mps", "trk_deg", "vs_mps")


@dataclass(frozen=True, eq=False)
class Snapshot:
    """Every live aircraft at ``time_s`` (seconds since the epoch): ``state`` dead-reckoned
    to that time (``party`` holds the reporting party's id), ``notice`` the notice each
    is tagged with, ``age_s`` how old each one's last state is."""

    time_s: float
    state: TrafficState
    notice: tuple[str | None, ...]
    age_s: FloatArray

    def __len__(self) -> int:
        return len(self.state)

    @property
    def ids(self) -> frozenset[str]:
        """The ids of the aircraft in it."""
        return frozenset(self.state.ids.tolist())


@dataclass(frozen=True)
class TrackView:
    """One aircraft's last state as its party reported it (SI, UTC)."""

    id: str
    time: datetime
    lon: float
    lat: float
    alt_m: float
    gs_mps: float
    trk_deg: float
    vs_mps: float
    notice: str | None


@dataclass(frozen=True, eq=False)
class _FeedRows:
    """Each aircraft's party's feed settings, one array per setting, row by row."""

    quantum_m: FloatArray
    level_vs_mps: FloatArray
    ground_height_m: FloatArray
    takeoff_speed_mps: FloatArray
    ground_hold_s: FloatArray
    lift_mps: FloatArray

    @classmethod
    def of(
        cls, party: IntArray, feeds: Callable[[list[int]], Mapping[int, FeedModel]]
    ) -> _FeedRows:
        codes, inverse = np.unique(party, return_inverse=True)
        models = feeds(codes.tolist())
        table = np.array(
            [
                [
                    m.track_altitude_quantum_m,
                    m.track_level_vs_mps,
                    m.track_ground_height_m,
                    m.track_takeoff_speed_mps,
                    m.track_ground_hold_s,
                    m.lift_mps,
                ]
                for m in (models[code] for code in codes.tolist())
            ],
            dtype=np.float64,
        ).reshape(-1, 6)
        return cls(*table[inverse.reshape(-1)].T)


class TrackRegistry:
    """Latest state per aircraft, in columns; see the module docstring."""

    def __init__(self, capacity: int = 256) -> None:
        self._slot: dict[str, int] = {}
        self._ids: list[str | None] = [None] * capacity
        self._notice: list[str | None] = [None] * capacity
        self._party: IntArray = np.zeros(capacity, dtype=np.int64)
        self._live = np.zeros(capacity, dtype=bool)
        self._ground = np.zeros(capacity, dtype=bool)
        self._ground_s = np.full(capacity, np.nan)  # its last on-ground state, s
        self._columns: dict[str, FloatArray] = {
            name: np.zeros(capacity, dtype=np.float64) for name in _FLOATS
        }
        self._free: list[int] = list(range(capacity - 1, -1, -1))

    def __len__(self) -> int:
        return len(self._slot)

    def report(
        self, party_id: int, batch: TrackBatch, now_s: float, max_age_s: float
    ) -> tuple[RowRejection, ...]:
        """Take ``batch`` as the latest states of ``party_id``'s aircraft; returns the rows
        refused (another party's aircraft, or older than the state held). A state held
        longer than ``max_age_s`` before ``now_s`` no longer claims its id."""
        rejected: list[RowRejection] = []
        time_s = self._columns["time_s"]
        slots = np.empty(len(batch), dtype=np.int64)
        keep = np.ones(len(batch), dtype=bool)
        for k, (ident, row) in enumerate(zip(batch.ids, batch.rows.tolist(), strict=True)):
            slot = self._slot.get(ident)
            if slot is not None and now_s - time_s[slot] > max_age_s:
                self._forget(slot)
                slot = None
            if slot is None:
                slot = self._take_slot(ident, party_id)
            elif self._party[slot] != party_id:
                rejected.append(
                    RowRejection(
                        row,
                        ident,
                        f"aircraft {ident!r} is reported by another party; "
                        "report only your own aircraft",
                    )
                )
                keep[k] = False
                continue
            elif batch.time_s[k] < time_s[slot]:
                held = datetime.fromtimestamp(float(time_s[slot]), UTC).isoformat()
                rejected.append(
                    RowRejection(
                        row, ident, f"is older than the state already held for it (at {held})"
                    )
                )
                keep[k] = False
                continue
            slots[k] = slot
            self._notice[slot] = batch.notice[k]
        taken = slots[keep]
        for name in _FLOATS:
            self._columns[name][taken] = getattr(batch, name)[keep]
        self._ground[taken] = batch.on_ground[keep]
        grounded = batch.on_ground[keep]
        self._ground_s[taken[grounded]] = batch.time_s[keep][grounded]
        return tuple(rejected)

    def count(self, party_id: int, ids: Sequence[str], since_s: float) -> tuple[int, int]:
        """How many aircraft ``party_id`` has with a state at ``since_s`` or later, and
        how many of ``ids`` are not among them (the aircraft a report would add)."""
        mine = self._live & (self._party == party_id) & (self._columns["time_s"] >= since_s)
        held = {self._ids[s] for s in np.flatnonzero(mine).tolist()}
        return len(held), len(set(ids) - held)

    def held(
        self, party_id: int, ids: Sequence[str], since_s: float
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """The last accepted (time_s, lon, lat, alt_m) of each of ``party_id``'s aircraft
        ``ids``; NaN where none is held for that party at ``since_s`` or later."""
        slots = np.array([self._slot.get(i, -1) for i in ids], dtype=np.int64)
        found = slots >= 0
        found[found] = (self._party[slots[found]] == party_id) & (
            self._columns["time_s"][slots[found]] >= since_s
        )
        out = []
        for name in ("time_s", "lon", "lat", "alt_m"):
            column = np.full(len(ids), np.nan)
            column[found] = self._columns[name][slots[found]]
            out.append(column)
        return out[0], out[1], out[2], out[3]

    def snapshot(
        self,
        now_s: float,
        max_age_s: float,
        floor_of: Callable[[FloatArray, FloatArray], FloatArray] | None = None,
        *,
        level_vs_mps: float = 0.0,
        ground_hold_s: float = 0.0,
        lift_mps: float = np.inf,
        feeds: Callable[[list[int]], Mapping[int, FeedModel]] | None = None,
    ) -> Snapshot:
        """Every aircraft heard within ``max_age_s`` of ``now_s``, dead-reckoned to
        ``now_s``, with its on-ground flag and, given ``floor_of`` (lon, lat -> metres),
        the floor under it; older ones are forgotten.

        As a feed is read (:class:`~deconfliction.tactical.params.PredictionModel`): a
        vertical speed within ``level_vs_mps`` is level flight, so it moves no altitude
        between the state and the tick either; an aircraft reported on the ground within
        ``ground_hold_s`` before ``now_s`` is still on the ground (a feed's air/ground
        flag flickers on the runway) unless its latest state climbs faster than
        ``lift_mps``.

        ``feeds`` (the parties present -> each one's :class:`FeedModel`) reads each
        aircraft as its party's feed is read instead: its dead band and ground hold
        replace those above, an aircraft within the party's ground height of its floor
        and slower than its take-off speed is on the ground too, and the state carries
        each aircraft's altitude quantum and dead band (``quantum_m``, ``level_vs_mps``)
        for the core, which then needs to infer nothing itself. A state that cannot be
        dead-reckoned into a
        valid one (it should not happen: rows are checked on the way in) is left out of
        this tick and logged."""
        c = self._columns
        age = now_s - c["time_s"]
        stale = np.flatnonzero(self._live & (age > max_age_s))
        for slot in stale.tolist():
            self._forget(slot)
        rows = np.flatnonzero(self._live)
        party = self._party[rows]
        read = None if feeds is None else _FeedRows.of(party, feeds)
        band = level_vs_mps if read is None else read.level_vs_mps
        vs = c["vs_mps"][rows]
        at = advance(
            c["lon"][rows],
            c["lat"][rows],
            c["alt_m"][rows],
            c["gs_mps"][rows],
            c["trk_deg"][rows],
            np.where(np.abs(vs) <= band, 0.0, vs),
            age[rows],
        )
        hold = ground_hold_s if read is None else read.ground_hold_s
        lift = lift_mps if read is None else read.lift_mps
        with np.errstate(invalid="ignore"):  # NaN: never reported on the ground
            grounded = self._ground[rows] | ((now_s - self._ground_s[rows] <= hold) & (vs <= lift))
        floor = None if floor_of is None else floor_of(at.lon, at.lat)
        if read is not None and floor is not None:  # a take-off speed of 0: never inferred
            grounded |= (at.alt_m - floor <= read.ground_height_m) & (
                c["gs_mps"][rows] < read.takeoff_speed_mps
            )
        state, refused = accept_rows(
            ids=[str(self._ids[s]) for s in rows.tolist()],
            party=party,
            lon=at.lon,
            lat=at.lat,
            alt_m=at.alt_m,
            gs_mps=c["gs_mps"][rows],
            trk_deg=at.trk_deg,
            vs_mps=c["vs_mps"][rows],
            floor_m=floor,
            on_ground=grounded,
            quantum_m=None if read is None else read.quantum_m,
            level_vs_mps=None if read is None else read.level_vs_mps,
        )
        if refused:
            _log.warning(
                "%d aircraft left out of the tick: %s",
                len(refused),
                "; ".join(f"{r.id}: {r.reason}" for r in refused[:5]),
            )
            keep = np.ones(rows.shape[0], dtype=bool)
            keep[[r.row for r in refused]] = False
            rows = rows[keep]
        return Snapshot(now_s, state, tuple(self._notice[s] for s in rows.tolist()), age[rows])

    def tracks_of(self, party_id: int) -> list[TrackView]:
        """The last state of each of ``party_id``'s aircraft, by id."""
        c = self._columns
        rows = np.flatnonzero(self._live & (self._party == party_id))
        found = [
            TrackView(
                str(self._ids[s]),
                datetime.fromtimestamp(float(c["time_s"][s]), UTC),
                float(c["lon"][s]),
                float(c["lat"][s]),
                float(c["alt_m"][s]),
                float(c["gs_mps"][s]),
                float(c["trk_deg"][s]),
                float(c["vs_mps"][s]),
                self._notice[s],
            )
            for s in rows.tolist()
        ]
        return sorted(found, key=lambda t: t.id)

    def _take_slot(self, ident: str, party_id: int) -> int:
        if not self._free:
            self._grow()
        slot = self._free.pop()
        self._slot[ident] = slot
        self._ids[slot] = ident
        self._party[slot] = party_id
        self._live[slot] = True
        self._ground_s[slot] = np.nan
        return slot

    def _forget(self, slot: int) -> None:
        ident = self._ids[slot]
        assert ident is not None
        del self._slot[ident]
        self._ids[slot] = None
        self._notice[slot] = None
        self._live[slot] = False
        self._free.append(slot)

    def _grow(self) -> None:
        old = self._live.shape[0]
        new = max(2 * old, 16)
        self._ids.extend([None] * (new - old))
        self._notice.extend([None] * (new - old))
        self._party = np.concatenate([self._party, np.zeros(new - old, dtype=np.int64)])
        self._live = np.concatenate([self._live, np.zeros(new - old, dtype=bool)])
        self._ground = np.concatenate([self._ground, np.zeros(new - old, dtype=bool)])
        self._ground_s = np.concatenate([self._ground_s, np.full(new - old, np.nan)])
        for name in _FLOATS:
            self._columns[name] = np.concatenate([self._columns[name], np.zeros(new - old)])
        self._free.extend(range(new - 1, old - 1, -1))

"""The floors that authorities' standing zones give (issue 9, Floor).

An authority may give, with a standing zone's volume (airspace structure, ``zones
import``), the ground elevation under it (``floor_m``, metres in the feeds' altitude
reference: the field elevation of a CTR). The tracks service reads, for each
snapshot, the live standing volumes whose window holds the snapshot's time and which
give a floor, and :meth:`ZoneFloorSet.under` tells the floor at each aircraft's
position: the floor of the zone around it, the **lowest** where several are (a floor
must never silence an aircraft), ``inf`` where none is. :class:`~.floors.FloorMap`
takes it as the base of its floor where the feed reported no ground.

The read runs before the tick's airspace read (which needs the snapshot: its tagged
notices and horizon), so it is its own narrow query: standing, floored, live, not
ended. :class:`ZoneFloors` remembers what it read for ``cache_s`` seconds (the tracks
service passes ``auth_cache_s``, as for the parties' feed settings: a query per tick
cost the real-traffic replay about 8 %), so a zone filed, modified or cancelled is
felt at most that much later; each snapshot picks the volumes whose window holds its
time from what was read. The parsed shapes are kept by (volume id, notice version),
as :class:`~.context.TickContext` keeps volumes (a stored volume never changes under
one notice version), and the index over the volumes in force until they change. A
circle's test uses the polygon that contains it, as the strategic search does.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import shapely
from shapely import STRtree
from sqlalchemy import select
from sqlalchemy.orm import Session

from deconfliction.store.database import Database
from deconfliction.store.schema import Notice, Volume
from deconfliction.tactical.state import FloatArray
from deconfliction.tracks.context import LIVE_STATES

__all__ = ["ZoneFloorSet", "ZoneFloors"]


@dataclass(frozen=True)
class ZoneFloorSet:
    """The standing volumes giving a floor at one time: their footprints (an index over
    them) and floors, metres."""

    tree: STRtree | None
    floor_m: FloatArray

    def under(self, lon: FloatArray, lat: FloatArray) -> FloatArray:
        """The lowest zone floor at each position (degrees), metres; ``inf`` outside
        every zone."""
        out = np.full(lon.shape[0], np.inf)
        if self.tree is None or lon.shape[0] == 0:
            return out
        inside, zone = self.tree.query(shapely.points(lon, lat), predicate="within")
        np.minimum.at(out, inside, self.floor_m[zone])
        return out


_NONE = ZoneFloorSet(None, np.empty(0))


class ZoneFloors:
    """Reads the zone floors in force at a time, remembering the read for ``cache_s``
    seconds of ``timer`` (monotonic); safe to share between threads."""

    def __init__(self, cache_s: float = 0.0, timer: Callable[[], float] = time.monotonic) -> None:
        self._cache_s = cache_s
        self._timer = timer
        self._lock = threading.Lock()
        self._read_at = -math.inf
        self._keys: tuple[tuple[int, int], ...] = ()
        self._floor = np.empty(0)
        self._start = np.empty(0)
        self._end = np.empty(0)
        self._shapes: dict[tuple[int, int], shapely.Geometry] = {}
        self._last: tuple[tuple[tuple[int, int], ...], ZoneFloorSet] = ((), _NONE)

    def at(self, db: Database, now: datetime) -> ZoneFloorSet:
        """The floors of the live standing volumes whose window holds ``now``."""
        with self._lock:
            if self._timer() - self._read_at >= self._cache_s:
                with db.read() as session:
                    self._read(session, now)
            t = now.timestamp()
            held = np.flatnonzero((self._start <= t) & (t < self._end))
            keys = tuple(self._keys[k] for k in held.tolist())
            if keys != self._last[0]:
                found = (
                    ZoneFloorSet(STRtree([self._shapes[k] for k in keys]), self._floor[held])
                    if keys
                    else _NONE
                )
                self._last = (keys, found)
            return self._last[1]

    def _read(self, session: Session, now: datetime) -> None:
        """Read the live standing volumes giving a floor that have not ended by ``now``."""
        rows = session.execute(
            select(Volume.id, Notice.version, Volume.floor_m, Volume.start_at, Volume.end_at)
            .join(Notice, Notice.id == Volume.notice_id)
            .where(
                Notice.standing.is_(True),
                Notice.state.in_(LIVE_STATES),
                Volume.floor_m.is_not(None),
                Volume.end_at > now,
            )
            .order_by(Volume.id)
        ).all()
        self._read_at = self._timer()
        self._keys = tuple((int(i), int(v)) for i, v, *_ in rows)
        self._floor = np.array([floor for _, _, floor, _, _ in rows], dtype=np.float64)
        self._start = np.array([start.timestamp() for *_, start, _ in rows], dtype=np.float64)
        self._end = np.array([end.timestamp() for *_, end in rows], dtype=np.float64)
        self._load(session, dict(set(self._keys) - self._shapes.keys()))
        self._shapes = {k: s for k, s in self._shapes.items() if k in set(self._keys)}

    def _load(self, session: Session, version: dict[int, int]) -> None:
        """Parse the footprints of volumes ``{id: notice version}`` into the cache."""
        ids = sorted(version)
        for start in range(0, len(ids), 1000):
            chunk = ids[start : start + 1000]
            query = select(Volume.id, Volume.shape_wkb).where(Volume.id.in_(chunk))
            for i, wkb in session.execute(query):
                self._shapes[(i, version[i])] = shapely.from_wkb(wkb)

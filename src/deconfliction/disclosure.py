"""Progressive disclosure (issue 12): coarse cells until the pair's threshold, then exact.

Until ``exact_after_s`` before a notice-notice conflict's overlap starts (a term of the
pair's agreement; ``disclosure_exact_after_s`` between parties with none; 0: exact at
once), each side's alert tells only the H3 cells at ``disclosure_h3_level`` that cover
the overlap, and its band rounded out to blocks of ``disclosure_band_ft`` feet (flight
levels). The exact intersection follows at the threshold (the scheduler's
:meth:`Disclosures.run_once`) or as soon as both sides have acknowledged
(:func:`~deconfliction.alerts.disclose_when_both_acknowledged`): each side gets an
``alert.disclosed`` event (the alert as it now stands) and the journal an
``alert.disclosed`` entry in its name — what it was told, when and why — so that who knew
what, when, can be proven. An alert is coarse while its told geometry or band differs
from its conflict's.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import h3.api.basic_int as h3
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import or_, select

from deconfliction.agreements.service import terms_between
from deconfliction.alerts import disclose_exact
from deconfliction.clock import Clock
from deconfliction.journal.chain import lock_head
from deconfliction.store.database import Database
from deconfliction.store.schema import Alert, Conflict

__all__ = ["Coarsening", "Disclosures"]

FOOT_M = 0.3048


@dataclass(frozen=True)
class Coarsening:
    """How a conflict is told before its exact disclosure: H3 cells at ``h3_level``,
    the band rounded out to blocks of ``band_ft`` feet.

    >>> Coarsening(6, 1000.0).band(1000.0, 3000.0)
    (914.4, 3048.0)
    """

    h3_level: int = 6
    band_ft: float = 1000.0

    def geometry(self, footprint: BaseGeometry) -> dict[str, Any]:
        """The cells that cover ``footprint`` (lon/lat), as one GeoJSON geometry."""
        cells: set[int] = set()
        for piece in shapely.get_parts(footprint):
            if not isinstance(piece, Polygon):
                continue  # an overlap's footprint is areal; lines and points have no cells
            rings = (piece.exterior, *piece.interiors)
            poly = h3.LatLngPoly(*([(lat, lon) for lon, lat, *_ in r.coords] for r in rings))
            cells.update(h3.h3shape_to_cells_experimental(poly, self.h3_level, "overlap"))
        shape: dict[str, Any] = json.loads(json.dumps(h3.cells_to_geo(sorted(cells))))
        return shape

    def band(self, lower_m: float, upper_m: float) -> tuple[float, float]:
        """``[lower_m, upper_m]`` rounded out to whole blocks, metres."""
        block = self.band_ft * FOOT_M
        lower = math.floor(lower_m / block + 1e-9) * block
        upper = math.ceil(upper_m / block - 1e-9) * block
        return round(lower, 6), round(upper, 6)


class Disclosures:
    """The scheduler's part: disclose every coarse alert whose threshold has come."""

    def __init__(self, db: Database, clock: Clock, default_exact_after_s: float) -> None:
        self._db = db
        self._clock = clock
        self._default = default_exact_after_s

    def run_once(self, now: datetime | None = None) -> int:
        """Disclose what ``now`` (default: the clock) has made due; returns how many."""
        now = self._clock.now() if now is None else now
        coarse = (
            select(Alert, Conflict)
            .join(Conflict, Conflict.id == Alert.conflict_id)
            .where(
                Conflict.kind == "notice-notice",
                Alert.state != "resolved",
                or_(
                    Alert.geometry != Conflict.geometry,
                    Alert.lower_m != Conflict.lower_m,
                    Alert.upper_m != Conflict.upper_m,
                ),
            )
            .order_by(Alert.id)
        )
        with self._db.read() as session:
            if session.execute(coarse.limit(1)).first() is None:
                return 0
        told = 0
        with self._db.transaction() as session:
            lock_head(session)  # an acknowledgment disclosing the same alert waits
            thresholds: dict[tuple[int, int], float] = {}
            for alert, conflict in session.execute(coarse).all():
                pair = (conflict.a_party_id, conflict.b_party_id)
                if pair not in thresholds:
                    terms = terms_between(session, *pair)
                    agreed = None if terms is None else terms.exact_after_s
                    thresholds[pair] = self._default if agreed is None else agreed
                if conflict.start_at - timedelta(seconds=thresholds[pair]) <= now:
                    disclose_exact(session, alert, conflict, "threshold", now)
                    told += 1
        return told

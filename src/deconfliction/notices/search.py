"""The two passes of a strategic search: candidates from the cell index, then the core.

The SQL pass over-selects (cells, altitude band, time window, other parties only);
:func:`deconfliction.core.volume.overlap` decides exactly.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import BindParameter, Select, bindparam, select, union_all
from sqlalchemy.orm import Session

from deconfliction.core.footprint import Circle, Footprint
from deconfliction.core.volume import Buffers, Overlap, Volume4D, overlap
from deconfliction.notices.cells import SPAN_BOUNDS_S, index_cells, query_cells, span_class
from deconfliction.store.schema import UTCDateTime, Volume, VolumeCell

__all__ = [
    "Match",
    "Stored",
    "candidate_ids",
    "find_conflicts",
    "index_rows",
    "volume_from_row",
    "volume_row",
    "volume_values",
]

_CHUNK = 2_000
_METRES_PER_DEGREE = 111_320.0  # about a degree of latitude (110,574-111,694 m)
_MIN_COS_LAT = 0.05
_EARLIEST = datetime.min.replace(tzinfo=UTC)


def volume_values(notice_id: str, party_id: int, position: int, volume: Volume4D) -> dict[str, Any]:
    """The stored form of one volume, as the values of a ``volumes`` row (no id)."""
    fp = volume.footprint
    return {
        "notice_id": notice_id,
        "party_id": party_id,
        "position": position,
        "geometry": json.dumps(fp.to_geojson()),
        "radius_m": fp.radius_m,
        "shape_wkb": shapely.to_wkb(fp.shape),
        "lower_m": volume.lower_m,
        "upper_m": volume.upper_m,
        "start_at": volume.start,
        "end_at": volume.end,
        "floor_m": volume.floor_m,
    }


def volume_row(notice_id: str, party_id: int, position: int, volume: Volume4D) -> Volume:
    """The stored form of one volume, as a row object."""
    return Volume(**volume_values(notice_id, party_id, position, volume))


def volume_from_row(row: Volume) -> Volume4D:
    """A stored volume back as a Volume4D, without validating it again."""
    shape = shapely.from_wkb(row.shape_wkb)
    circle = None
    if row.radius_m is not None:
        lon, lat = json.loads(row.geometry)["coordinates"]
        circle = Circle(lon, lat, row.radius_m)
    shapely.prepare(shape)
    return Volume4D(
        Footprint(shape, circle), row.lower_m, row.upper_m, row.start_at, row.end_at, row.floor_m
    )


def index_rows(
    volume_id: int, party_id: int, volume: Volume4D, cells: Sequence[int] | None = None
) -> list[dict[str, Any]]:
    """Rows of ``volume_cells`` for one stored volume (for bulk inserts too); ``cells``:
    its :func:`~deconfliction.notices.cells.index_cells`, where already known."""
    k = span_class(volume.start, volume.end)
    return [
        {
            "cell": cell,
            "span_class": k,
            "start_at": volume.start,
            "volume_id": volume_id,
            "end_at": volume.end,
            "lower_m": volume.lower_m,
            "upper_m": volume.upper_m,
            "party_id": party_id,
        }
        for cell in (index_cells(volume.footprint) if cells is None else cells)
    ]


def _when(name: str) -> BindParameter[datetime]:
    return bindparam(name, type_=UTCDateTime())


def _in_span_class(k: int) -> Select[int]:
    """Candidates of span class ``k``: a range scan of ``start_at`` in each cell, from the
    earliest start a window of that class may have and still reach the searched one."""
    return select(VolumeCell.volume_id).where(
        VolumeCell.cell.in_(bindparam("cells", expanding=True)),
        VolumeCell.span_class == k,
        VolumeCell.start_at > _when(f"earliest_{k}"),
        VolumeCell.start_at < _when("end"),
        VolumeCell.end_at > _when("start"),
        VolumeCell.lower_m < bindparam("upper_m"),
        VolumeCell.upper_m > bindparam("lower_m"),
        VolumeCell.party_id != bindparam("party_id"),
    )


# One statement for every span class, compiled once and run once per chunk of cells.
_CANDIDATES = union_all(*(_in_span_class(k) for k in range(len(SPAN_BOUNDS_S))))


def candidate_ids(
    session: Session,
    volume: Volume4D,
    exclude_party_id: int,
    buffers: Buffers,
    cells: Sequence[int] | None = None,
) -> set[int]:
    """Ids of stored volumes of other parties that may meet ``volume`` (over-selects);
    ``cells``: its :func:`~deconfliction.notices.cells.query_cells` grown by
    ``buffers.horizontal_m``, where already known."""
    if cells is None:
        cells = query_cells(volume.footprint, buffers.horizontal_m)
    connection = session.connection()
    params: dict[str, Any] = {
        "end": volume.end,
        "start": volume.start,
        "upper_m": volume.upper_m + buffers.vertical_m,
        "lower_m": volume.lower_m - buffers.vertical_m,
        "party_id": exclude_party_id,
    }
    for k, bound in enumerate(SPAN_BOUNDS_S):
        params[f"earliest_{k}"] = (
            _EARLIEST if bound == float("inf") else volume.start - timedelta(seconds=bound)
        )
    found: set[int] = set()
    for i in range(0, len(cells), _CHUNK):
        params["cells"] = cells[i : i + _CHUNK]
        found.update(connection.execute(_CANDIDATES, params).scalars())
    return found


@dataclass(frozen=True)
class Stored:
    """Which stored volume: its id, notice, party and position in the notice."""

    id: int
    notice_id: str
    party_id: int
    position: int


@dataclass(frozen=True)
class Match:
    """A stored volume that conflicts with a new one, and where."""

    row: Stored
    overlap: Overlap


_EXACT_PASS = select(
    Volume.id,
    Volume.notice_id,
    Volume.party_id,
    Volume.position,
    Volume.shape_wkb,
    Volume.lower_m,
    Volume.upper_m,
    Volume.start_at,
    Volume.end_at,
).where(Volume.id.in_(bindparam("ids", expanding=True)))


def find_conflicts(
    session: Session,
    volume: Volume4D,
    exclude_party_id: int,
    buffers: Buffers,
    pair_buffers: Callable[[int], Buffers] | None = None,
    cells: Sequence[int] | None = None,
) -> list[Match]:
    """Every stored volume of another party that conflicts with ``volume``, exactly.

    ``buffers`` select the candidates; ``pair_buffers(party_id)``, where given, are the
    buffers each candidate is tested with (no wider). ``cells``: as for
    :func:`candidate_ids`. Candidates whose footprints are too far apart to meet are
    set aside in one vectorised test before the core's exact one.
    """
    ids = sorted(candidate_ids(session, volume, exclude_party_id, buffers, cells))
    connection = session.connection()
    matches = []
    for i in range(0, len(ids), _CHUNK):
        rows = connection.execute(_EXACT_PASS, {"ids": ids[i : i + _CHUNK]}).all()
        shapes = shapely.from_wkb([row.shape_wkb for row in rows])
        near = _near(volume.footprint.shape, shapes, buffers.horizontal_m)
        for index in np.flatnonzero(near):
            row = rows[int(index)]
            other = Volume4D(
                Footprint(shapes[index]), row.lower_m, row.upper_m, row.start_at, row.end_at
            )
            pair = buffers if pair_buffers is None else pair_buffers(row.party_id)
            found = overlap(volume, other, pair)
            if found is not None:
                stored = Stored(row.id, row.notice_id, row.party_id, row.position)
                matches.append(Match(stored, found))
    return matches


def _near(shape: BaseGeometry, others: np.ndarray, horizontal_m: float) -> np.ndarray:
    """Which of ``others`` may come within ``horizontal_m`` of ``shape`` (over-selects):
    those that intersect it, or, with a buffer, lie within a distance in degrees that
    the buffer cannot exceed at their latitudes (half as much again, for the length of
    a degree and the core's local plane). A buffer that reaches a pole or across the
    antimeridian sets nothing aside."""
    shapely.prepare(shape)
    if horizontal_m <= 0:
        return np.asarray(shapely.intersects(shape, others), dtype=bool)
    x0, y0, x1, y1 = shape.bounds
    reach_deg = horizontal_m / _METRES_PER_DEGREE
    cos_lat = math.cos(math.radians(min(90.0, max(abs(y0), abs(y1)) + reach_deg)))
    if cos_lat < _MIN_COS_LAT:  # near a pole a degree of longitude shrinks to nothing
        return np.ones(len(others), dtype=bool)
    reach_lon = 1.5 * reach_deg / cos_lat
    if x0 - reach_lon < -180.0 or x1 + reach_lon > 180.0:
        # the buffer reaches across the antimeridian, where degrees jump by 360
        return np.ones(len(others), dtype=bool)
    return np.asarray(shapely.dwithin(shape, others, reach_lon), dtype=bool)

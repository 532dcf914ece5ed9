"""The cell index: coverings contain the whole footprint; the search never under-selects.

Ground truth for "which cell holds a point" is ``h3.latlng_to_cell``. Coverings are
checked on dense samples of each footprint (vertices, points along every edge, random
points inside) and of the band within a margin around it, at every level, at high
latitudes and by the antimeridian. The search is checked in a real SQLite store: every
stored volume that the exact test finds in conflict is among the candidates.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import h3.api.basic_int as h3
import numpy as np
import pytest
import shapely
from hypothesis import event, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert

from deconfliction.core.earth import WGS84
from deconfliction.core.footprint import Footprint
from deconfliction.core.volume import Buffers, Volume4D, overlap
from deconfliction.notices.cells import (
    LEVELS,
    SPAN_BOUNDS_S,
    covering,
    coverings,
    grown,
    index_cells,
    level_for,
    query_cells,
    span_class,
)
from deconfliction.notices.search import (
    candidate_ids,
    find_conflicts,
    index_rows,
    volume_from_row,
    volume_row,
)
from deconfliction.store.database import Database
from deconfliction.store.schema import Notice, Party, Volume, VolumeCell
from tests.zoo import FOOTPRINTS, T0, box, circle, east_of

PROPERTY = settings(max_examples=120, deadline=None)


def _samples(f: Footprint, seed: int, per_edge: int = 6, inside: int = 300) -> np.ndarray:
    """(lon, lat) rows: every vertex, points along every edge, random points inside."""
    rows = []
    for ring in (f.shape.exterior, *f.shape.interiors):
        xy = np.asarray(ring.coords)
        t = np.linspace(0.0, 1.0, per_edge, endpoint=False)[:, None, None]
        rows.append((xy[:-1] + t * (xy[1:] - xy[:-1])).reshape(-1, 2))
    rng = np.random.default_rng(seed)
    min_lon, min_lat, max_lon, max_lat = f.bounds
    lon = rng.uniform(min_lon, max_lon, inside)
    lat = rng.uniform(min_lat, max_lat, inside)
    keep = shapely.contains_xy(f.shape, lon, lat)
    rows.append(np.column_stack([lon[keep], lat[keep]]))
    return np.concatenate(rows)


def _outside(cells: set[int], points: np.ndarray, level: int) -> list[tuple[float, float]]:
    """The points whose cell at ``level`` is not among ``cells``."""
    return [
        (float(lon), float(lat))
        for lon, lat in points
        if h3.latlng_to_cell(float(lat), float(lon), level) not in cells
    ]


sizes = st.floats(math.log10(10.0), math.log10(250_000.0)).map(lambda e: 10**e)
"""Footprint sizes (metres across), log-uniform from 10 m to 250 km: every level."""


def _log_uniform(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(math.log10(low), math.log10(high)).map(lambda e: 10**e)


LEVEL_SIZES = st.one_of(
    _log_uniform(10.0, 9_000.0), _log_uniform(12_000.0, 60_000.0), _log_uniform(80_000.0, 250_000.0)
)
"""Sizes (metres across) that fall evenly to the fine, middle and coarse levels."""


@st.composite
def footprints(
    draw: st.DrawFn, lat_limit: float = 86.0, size_from: st.SearchStrategy[float] = sizes
) -> Footprint:
    """A box, a star-shaped polygon or a circle, anywhere from ``lat_limit`` S to N; some
    with an edge on the antimeridian."""
    lat = draw(st.floats(-lat_limit, lat_limit))
    size = draw(size_from)
    half_lat = size / 2 / 110_574.0
    half_lon = min(size / 2 / (111_319.0 * math.cos(math.radians(lat))), 60.0)
    lat = max(min(lat, 88.0 - half_lat), -88.0 + half_lat)
    kind = draw(st.sampled_from(["box", "star", "circle", "east of 180", "west of -180"]))
    if kind in ("east of 180", "west of -180"):
        width = min(2 * half_lon, 10.0)
        lon = 180.0 - width if kind == "east of 180" else -180.0
        return box(lon, lat - half_lat, width, 2 * half_lat)
    lon = draw(st.floats(-179.0 + 2 * half_lon, 179.0 - 2 * half_lon))
    if kind == "box":
        return box(lon - half_lon, lat - half_lat, 2 * half_lon, 2 * half_lat)
    if kind == "circle":
        return circle(lon, lat, size / 2)
    n = draw(st.integers(3, 10))
    angles = np.linspace(0.0, 360.0, n, endpoint=False) + draw(st.floats(0.0, 30.0))
    radii = [size / 2 * draw(st.floats(0.3, 1.0)) for _ in range(n)]
    lons, lats, _ = WGS84.fwd([lon] * n, [lat] * n, angles.tolist(), radii)
    ring = list(zip(lons, lats, strict=True))
    return Footprint.polygon([*ring, ring[0]])


def _valid(draw_footprint: st.SearchStrategy[Footprint]) -> st.SearchStrategy[Footprint]:
    """Footprints within the default area limit (larger ones are refused anyway)."""
    return draw_footprint.filter(lambda f: f.area_m2 <= 100_000e6)


@PROPERTY
@given(f=footprints(), seed=st.integers(0, 2**32 - 1))
def test_the_covering_contains_the_whole_footprint_at_every_level(f: Footprint, seed: int) -> None:
    points = _samples(f, seed)
    own = level_for(f)
    assert _outside(set(index_cells(f)), points, own) == []
    searched = set(query_cells(f))
    for level in LEVELS:
        if level == 7 and f.area_m2 > 5_000e6:
            continue  # tens of thousands of cells: the zoo's huge footprint covers this
        assert _outside(searched, points, level) == [], level


@PROPERTY
@given(f=footprints(), margin=st.sampled_from([0.0, 250.0, 5_000.0]))
def test_coverings_are_the_query_and_index_cells(f: Footprint, margin: float) -> None:
    """The filing path's shortcut gives what the two functions give on their own."""
    assert coverings(f, margin) == (query_cells(f, margin), index_cells(f))


@PROPERTY
@given(
    f=footprints(lat_limit=89.0),
    margin=st.floats(1.0, 200_000.0),
    level=st.sampled_from(LEVELS),
    seed=st.integers(0, 2**32 - 1),
)
def test_a_grown_covering_contains_everything_within_the_margin(
    f: Footprint, margin: float, level: int, seed: int
) -> None:
    """Points up to ``margin`` metres (geodesic) from the footprint, in every direction,
    across the antimeridian and over the poles, are in the covering grown by it. Most
    lie on the rim, a micrometre short of the margin, where a short growth would show."""
    if level == 7:
        margin = min(margin, 50_000.0)  # keep the cell count in the tens of thousands
    rng = np.random.default_rng(seed)
    edge = _samples(f, seed, per_edge=4, inside=0)
    edge = edge[rng.choice(len(edge), size=min(len(edge), 300), replace=False)]
    edge = np.repeat(edge, 4, axis=0)
    n = len(edge)
    azimuth = rng.uniform(0.0, 360.0, n)
    distance = np.where(rng.uniform(size=n) < 0.8, 1.0, rng.uniform(size=n)) * margin - 1e-6
    lon, lat, _ = WGS84.fwd(edge[:, 0], edge[:, 1], azimuth, np.maximum(distance, 0.0))
    points = np.column_stack([lon, lat])
    assert _outside(set(covering(f, level, margin)), points, level) == []


@PROPERTY
@given(
    f=footprints(lat_limit=89.0),
    margin=st.floats(1.0, 300_000.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_grown_reaches_the_whole_margin(f: Footprint, margin: float, seed: int) -> None:
    """Points just short of ``margin`` metres from the footprint, in every direction,
    lie in the grown shape (or in it shifted by 360°, past the antimeridian)."""
    rng = np.random.default_rng(seed)
    edge = np.repeat(_samples(f, seed, per_edge=4, inside=0), 8, axis=0)
    azimuth = rng.uniform(0.0, 360.0, len(edge))
    lon, lat, _ = WGS84.fwd(edge[:, 0], edge[:, 1], azimuth, np.full(len(edge), margin - 1e-6))
    shape = grown(f.shape, margin)
    inside = shapely.intersects_xy(shape, lon, lat)
    inside |= shapely.intersects_xy(shape, lon + 360.0, lat)
    inside |= shapely.intersects_xy(shape, lon - 360.0, lat)
    assert inside.all(), np.column_stack([lon, lat])[~inside][:3]


def test_a_tiny_footprint_grows_by_the_whole_margin() -> None:
    """GEOS rounds corners in whole steps that may span 1.5 nominal ones: a few metres
    of footprint grown by 24 km once fell 1 km short to the north."""
    tiny = Footprint.polygon(
        [
            (6.0, 3.4e-5),
            (6.0000389, 2.26e-5),
            (6.0000389, -2.26e-5),
            (6.0, -4.52e-5),
            (5.9999611, -2.26e-5),
            (5.9999611, 2.26e-5),
            (6.0, 3.4e-5),
        ]
    )
    _, _, _, max_lat = grown(tiny.shape, 24_460.0).bounds
    assert max_lat >= float(WGS84.fwd(6.0, 3.4e-5, 0.0, 24_460.0)[1])


def test_the_huge_zoo_footprint_is_covered_at_the_finest_level() -> None:
    f = FOOTPRINTS["huge"]
    assert _outside(set(covering(f, 7)), _samples(f, 7, per_edge=200, inside=3_000), 7) == []


def test_a_margin_reaches_across_the_antimeridian() -> None:
    east = FOOTPRINTS["antimeridian_east"]  # its east edge is on 180°
    cells = set(covering(east, 7, margin_m=5_000.0))
    assert h3.latlng_to_cell(-16.95, -179.97, 7) in cells  # about 3 km east, across 180°
    assert h3.latlng_to_cell(-16.95, -179.90, 7) not in cells  # about 10 km east


def test_a_margin_reaches_over_the_pole() -> None:
    near_pole = box(10.0, 89.5, 5.0, 0.2)
    cells = set(covering(near_pole, 5, margin_m=100_000.0))
    assert h3.latlng_to_cell(89.6, -170.0, 5) in cells  # about 100 km away, over the pole


@pytest.mark.parametrize(
    ("f", "level"),
    [
        (circle(8.5, 47.4, 1_000.0), 7),
        (circle(8.5, 47.4, 5_000.0), 7),
        (circle(8.5, 47.4, 20_000.0), 5),
        (circle(8.5, 47.4, 100_000.0), 3),
        (FOOTPRINTS["tiny"], 7),
        (FOOTPRINTS["huge"], 3),
    ],
)
def test_small_footprints_get_fine_cells_and_large_ones_coarse(f: Footprint, level: int) -> None:
    assert level_for(f) == level
    assert len(index_cells(f)) <= 60


@pytest.mark.parametrize(
    ("length_s", "expected"),
    [
        (1.0, 0),
        (3_600.0, 0),
        (3_600.001, 1),
        (6 * 3_600.0, 1),
        (86_400.0, 2),
        (7 * 86_400.0, 3),
        (31 * 86_400.0, 4),
        (366 * 86_400.0, 5),
        (366 * 86_400.0 + 1, 6),
        (10 * 366 * 86_400.0, 6),
    ],
)
def test_span_class_is_the_smallest_bound_the_window_fits(length_s: float, expected: int) -> None:
    k = span_class(T0, T0 + timedelta(seconds=length_s))
    assert k == expected
    assert length_s <= SPAN_BOUNDS_S[k]
    assert k == 0 or length_s > SPAN_BOUNDS_S[k - 1]


# -- the search, in a real store ---------------------------------------------------------

STORED, SEARCHING = 1, 2


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """A SQLite file store with two parties and a notice each."""
    path: Path = tmp_path_factory.mktemp("cells") / "t.db"
    db = Database(f"sqlite:///{path}")
    db.migrate()
    with db.transaction() as session:
        for party_id in (STORED, SEARCHING):
            session.add(
                Party(id=party_id, name=f"party {party_id}", role="operator", created_at=T0)
            )
        session.flush()
        for party_id in (STORED, SEARCHING):
            session.add(
                Notice(
                    id=f"ntc_{party_id}",
                    party_id=party_id,
                    title="",
                    state="filed",
                    version=1,
                    filed_at=T0,
                    updated_at=T0,
                    lead_time_s=0.0,
                    starts_at=T0,
                    ends_at=T0 + timedelta(hours=1),
                )
            )
    yield db
    db.dispose()


def _store(db: Database, v: Volume4D) -> int:
    """Insert a volume of the STORED party as the service does; its id."""
    with db.transaction() as session:
        row = volume_row(f"ntc_{STORED}", STORED, 0, v)
        session.add(row)
        session.flush()
        session.execute(insert(VolumeCell), index_rows(row.id, STORED, v))
        return row.id


WINDOW_LENGTHS = [
    timedelta(minutes=5),
    timedelta(hours=1),
    timedelta(hours=1, seconds=1),
    timedelta(hours=5),
    timedelta(hours=6),
    timedelta(days=1),
    timedelta(days=3),
    timedelta(days=7),
    timedelta(days=20),
    timedelta(days=31),
    timedelta(days=200),
    timedelta(days=366),
    timedelta(days=800),
]


@st.composite
def searches(draw: st.DrawFn) -> tuple[Volume4D, Volume4D, Buffers]:
    """A stored volume, a volume searched for near it (space, band and time) and buffers."""
    stored_fp = draw(_valid(footprints(lat_limit=84.0, size_from=LEVEL_SIZES)))
    min_lon, min_lat, max_lon, max_lat = stored_fp.bounds
    at = draw(st.sampled_from(["inside", "near", "edge"]))
    if at == "edge":  # a vertex of the stored footprint
        xy = np.asarray(stored_fp.shape.exterior.coords)
        lon, lat = (float(c) for c in xy[draw(st.integers(0, len(xy) - 2))])
    else:
        lon = draw(st.floats(min_lon, max_lon))
        lat = draw(st.floats(min_lat, max_lat))
    size = draw(_log_uniform(10.0, 60_000.0))
    if at == "near":
        reach = draw(st.floats(0.0, 1.0)) * (size + 30_000.0)
        lon, lat, _ = WGS84.fwd(lon, lat, draw(st.floats(0.0, 360.0)), reach)
    searched_fp = draw(
        st.sampled_from(["circle", "box"]).map(
            lambda kind: _footprint_at(kind, float(lon), float(lat), size)
        )
    )
    stored_length = draw(st.sampled_from(WINDOW_LENGTHS))
    searched_length = draw(st.sampled_from(WINDOW_LENGTHS))
    offset = draw(st.floats(-1.2, 1.2)) * (stored_length + searched_length)
    offset = timedelta(seconds=round(offset.total_seconds()))
    lower = draw(st.sampled_from([0.0, 500.0, 1_000.0, 1_500.0]))
    stored = Volume4D(stored_fp, 500.0, 1_500.0, T0, T0 + stored_length)
    searched = Volume4D(
        searched_fp, lower, lower + 500.0, T0 + offset, T0 + offset + searched_length
    )
    horizontal = draw(st.sampled_from([0.0, 0.0, 10.0, 1_000.0, 25_000.0]))
    vertical = draw(st.sampled_from([0.0, 0.0, 100.0, 600.0]))
    return stored, searched, Buffers(horizontal_m=horizontal, vertical_m=vertical)


def _footprint_at(kind: str, lon: float, lat: float, size: float) -> Footprint:
    """A circle or a box of about ``size`` at (lon, lat), kept on its side of 180°."""
    half_lat = size / 2 / 110_574.0
    half_lon = min(half_lat / math.cos(math.radians(lat)), 20.0)
    if kind == "circle" and abs(lon) + 2 * half_lon < 180.0:
        return circle(lon, lat, size / 2)
    west = min(max(lon - half_lon, -180.0), 180.0 - 2 * half_lon)
    return box(west, lat - half_lat, 2 * half_lon, 2 * half_lat)


@settings(max_examples=120, deadline=None)
@given(case=searches())
def test_the_search_never_under_selects(
    store: Database, case: tuple[Volume4D, Volume4D, Buffers]
) -> None:
    """Whatever the exact test finds in conflict, the cell index offered as a candidate
    and the search found (its vectorised pass set nothing aside that meets): every
    level, every span class, with and without buffers."""
    stored, searched, buffers = case
    stored_id = _store(store, stored)
    with store.read() as session:
        candidates = candidate_ids(session, searched, SEARCHING, buffers)
        found = {match.row.id for match in find_conflicts(session, searched, SEARCHING, buffers)}
        as_stored = volume_from_row(session.get_one(Volume, stored_id))
    conflict = overlap(searched, stored, buffers) is not None
    assert (stored_id in found) == conflict
    event(f"stored at level {level_for(stored.footprint)}, conflict: {conflict}")
    event(f"stored span class {span_class(stored.start, stored.end)}, conflict: {conflict}")
    if conflict:
        assert stored_id in candidates
    assert (overlap(searched, as_stored, buffers) is not None) == conflict


def test_the_search_finds_zoo_conflicts_of_other_parties_only(store: Database) -> None:
    square = Volume4D(FOOTPRINTS["square"], 0.0, 1_500.0, T0, T0 + timedelta(hours=1))
    stored_id = _store(store, square)
    with store.read() as session:
        assert stored_id in candidate_ids(session, square, SEARCHING, Buffers())
        assert stored_id not in candidate_ids(session, square, STORED, Buffers())
        found = find_conflicts(session, square, SEARCHING, Buffers())
    assert stored_id in {m.row.id for m in found}


@settings(max_examples=40, deadline=None)
@given(
    lat=st.floats(-80.0, 80.0),
    size=_log_uniform(10.0, 60_000.0),
    gap=st.floats(0.0, 20_000.0),
    buffer_m=st.floats(1.0, 25_000.0),
    east_stored=st.booleans(),
)
def test_the_search_reaches_across_the_antimeridian(
    store: Database, lat: float, size: float, gap: float, buffer_m: float, east_stored: bool
) -> None:
    """A stored volume on one side of 180° and one searched for on the other, closer
    than the horizontal buffer: the candidates hold the stored one."""
    height = size / 110_574.0
    width = min(size / (111_319.0 * math.cos(math.radians(lat))), 10.0)
    east = box(180.0 - width, lat - height / 2, width, height)
    west = box(east_of(-180.0, lat, gap)[0], lat - height / 2, width, height)
    stored_fp, searched_fp = (east, west) if east_stored else (west, east)
    stored = Volume4D(stored_fp, 0.0, 1_000.0, T0, T0 + timedelta(hours=1))
    searched = Volume4D(searched_fp, 0.0, 1_000.0, T0, T0 + timedelta(hours=1))
    buffers = Buffers(horizontal_m=buffer_m)
    stored_id = _store(store, stored)
    found = overlap(searched, stored, buffers)
    if gap < 0.99 * buffer_m - 1.0:  # the meridians converge: the gap is narrower poleward
        assert found is not None
    if found is not None:
        with store.read() as session:
            assert stored_id in candidate_ids(session, searched, SEARCHING, buffers)


def test_a_notch_dropped_by_the_simplification_is_still_grown() -> None:
    """GEOS simplified this outline to 0.13 degree and dropped its top notch, 0.21 degree
    off: grown by 57 km, the point 57 km north of the notch fell 5.8 km outside."""
    notch = Footprint.polygon(
        [
            (0.0, 0.1377750348528658),
            (0.1320045644217021, 0.1829123998848618),
            (0.21358725631666, 0.0698662211461699),
            (0.4271751435536001, -0.1397314627660253),
            (0.2640118015337694, -0.3658237848732588),
            (0.0, -0.4521846442543773),
            (-0.2640118015337694, -0.3658237848732588),
            (-0.4271751435536001, -0.1397314627660253),
            (-0.4271751435536001, 0.1397314627660253),
            (-0.1320045644217021, 0.1829123998848618),
            (0.0, 0.1377750348528658),
        ]
    )
    lon, lat, _ = WGS84.fwd(0.1320045644217021, 0.1829123998848618, 0.0, 57_290.0 - 1e-6)
    assert shapely.intersects_xy(grown(notch.shape, 57_290.0), lon, lat)

"""Zone import: airspace records planned into notices (pure; windows against a brute
force over hour slots) and filed as the authority's notices on both backends, from a
hand-written OpenAIR file and from the real Slovenian one."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

import deconfliction.notices.zones as zones_module
from deconfliction.agreements.service import AgreementService
from deconfliction.agreements.terms import ANONYMOUS_COUNTERPART, Terms
from deconfliction.clock import ManualClock
from deconfliction.core.footprint import FootprintLimits
from deconfliction.core.outline import tolerance_m
from deconfliction.core.volume import Volume4D
from deconfliction.errors import PermissionDeniedError, ValidationError
from deconfliction.feeds import (
    UNLIMITED_M,
    AirspaceImport,
    AirspaceRecord,
    Origin,
    parse_geojson_zones,
    parse_openair,
)
from deconfliction.feeds.airspace import OPEN_END, OPEN_START, LimitReference
from deconfliction.notices.model import ApprovalKind, ApprovalState, NoticeDraft
from deconfliction.notices.service import NoticeService
from deconfliction.notices.zones import (
    DEFAULT_AGL_MARGIN_M,
    FilingOutcome,
    Horizon,
    SkipReason,
    ZoneFile,
    ZoneFormat,
    ZonePlan,
    ZoneRules,
    file_zones,
    plan_zones,
    read_zone_file,
    start_of_day,
)
from deconfliction.parties import PartyRef
from deconfliction.settings import Settings
from deconfliction.store.database import Database
from deconfliction.store.schema import Notice, Volume
from tests.conftest import T0, MakeParty
from tests.feeds.realdata import shared_file
from tests.zoo import box, circle

FT = 0.3048
DAY0 = datetime(2026, 3, 2, tzinfo=UTC)  # the day of T0
WEEK = Horizon.starting(DAY0, 7)

SAMPLE = """\
* zones of a made-up authority, around 46 N 14.5 E
AC R
AN TEST-R1 RANGE
AL GND
AH FL100
V X=46:00:00 N 014:30:00 E
DC 3

AC UNC
AY TMZ
AN TEST TMZ
AL GND
AH 1000FT AGL
DP 46:10:00 N 014:00:00 E
DP 46:10:00 N 014:10:00 E
DP 46:20:00 N 014:10:00 E
DP 46:20:00 N 014:00:00 E

AC UNC
AY Q
AN TEST-D2
AL GND
AH 5000FT AMSL
AA 2026-03-03T08:00Z/2026-03-03T12:00Z
AA 2026-03-05T08:00Z/NONE
V X=45:50:00 N 014:50:00 E
DC 2

AC UNC
AY R
AN TEST-R3 (NOTAM)
AL GND
AH FL195
AA NONE
V X=45:40:00 N 014:20:00 E
DC 2

AC UNC
AY R
AN TEST-R4 LAST YEAR
AL GND
AH FL195
AA 2025-01-01T00:00Z/2025-01-02T00:00Z
V X=45:40:00 N 014:40:00 E
DC 2

AC R
AN TEST-BAD BOWTIE
AL GND
AH FL50
DP 46:00:00 N 015:00:00 E
DP 46:10:00 N 015:10:00 E
DP 46:10:00 N 015:00:00 E
DP 46:00:00 N 015:10:00 E
"""
"""Six records: a standing R area, a TMZ with an AGL ceiling, a danger area with two
windows (the second open-ended), an AA NONE area, one whose only window is long past,
and a bow tie that cannot be read (its AC at line 47)."""


def _sample(rules: ZoneRules = ZoneRules(WEEK)) -> ZonePlan:
    return plan_zones(ZoneFile("sample.openair", ZoneFormat.OPENAIR, parse_openair(SAMPLE)), rules)


def _zone(plan: ZonePlan, name: str) -> NoticeDraft:
    (draft,) = [z.draft for z in plan.zones if z.record.name == name]
    return draft


# -- planning (pure) -----------------------------------------------------------------------


def test_the_sample_plans_one_notice_per_zone_and_skips_what_it_must() -> None:
    plan = _sample(ZoneRules(WEEK, agl_margin_m=2_864.0))
    assert [z.record.name for z in plan.zones] == ["TEST-R1 RANGE", "TEST TMZ", "TEST-D2"]
    assert [(s.record.name, s.reason) for s in plan.skipped] == [
        ("TEST-R3 (NOTAM)", SkipReason.INACTIVE),
        ("TEST-R4 LAST YEAR", SkipReason.OUTSIDE_HORIZON),
    ]
    assert [(e.origin.line, e.name) for e in plan.errors] == [(47, "TEST-BAD BOWTIE")]
    assert plan.volume_count == 4
    assert plan.raised == 1

    standing = _zone(plan, "TEST-R1 RANGE")
    assert [(v.start, v.end) for v in standing.volumes] == [(WEEK.start, WEEK.end)]
    assert (standing.volumes[0].lower_m, standing.volumes[0].upper_m) == (0.0, 3_048.0)
    assert standing.title == "TEST-R1 RANGE (class R)"

    tmz = _zone(plan, "TEST TMZ").volumes[0]
    assert tmz.lower_m == 0.0
    assert tmz.upper_m == pytest.approx(1_000 * FT + 2_864.0)

    danger = _zone(plan, "TEST-D2")
    assert [(v.start, v.end) for v in danger.volumes] == [
        (datetime(2026, 3, 3, 8, tzinfo=UTC), datetime(2026, 3, 3, 12, tzinfo=UTC)),
        (datetime(2026, 3, 5, 8, tzinfo=UTC), WEEK.end),  # open end clipped to the horizon
    ]
    assert danger.title == "TEST-D2 (class UNC Q)"


def test_a_horizon_that_reaches_back_takes_the_old_window_and_clips_it() -> None:
    plan = _sample(ZoneRules(Horizon.starting(datetime(2025, 1, 1, 12, tzinfo=UTC), 500)))
    old = _zone(plan, "TEST-R4 LAST YEAR").volumes
    assert [(v.start, v.end) for v in old] == [
        (datetime(2025, 1, 1, 12, tzinfo=UTC), datetime(2025, 1, 2, tzinfo=UTC))
    ]
    assert [s.reason for s in plan.skipped] == [SkipReason.INACTIVE]


def test_classes_select_by_class_or_type_in_any_case() -> None:
    plan = _sample(ZoneRules(WEEK, classes=frozenset({"r", "q"})))
    assert [z.record.name for z in plan.zones] == ["TEST-R1 RANGE", "TEST-D2"]
    reasons = {s.record.name: s.reason for s in plan.skipped}
    assert reasons["TEST TMZ"] == SkipReason.NOT_SELECTED
    assert reasons["TEST-R3 (NOTAM)"] == SkipReason.INACTIVE  # AY R: selected, then inactive


_FOOTPRINT = box(14.0, 46.0, 0.1, 0.1)


def _record(
    upper_m: float = 3_000.0,
    upper_ref: LimitReference = "amsl",
    lower_m: float = 0.0,
    activations: tuple[tuple[datetime, datetime], ...] | None = None,
    name: str = "Z",
) -> AirspaceRecord:
    return AirspaceRecord(
        name=name,
        airspace_class="R",
        lower_m=lower_m,
        lower_ref="agl",
        upper_m=upper_m,
        upper_ref=upper_ref,
        footprint=_FOOTPRINT,
        origin=Origin(line=1),
        activations=activations,
    )


def _plan(records: list[AirspaceRecord], rules: ZoneRules) -> ZonePlan:
    return plan_zones(ZoneFile("z", ZoneFormat.OPENAIR, AirspaceImport(tuple(records), ())), rules)


_HOURS = st.integers(min_value=-60, max_value=240)
_WINDOW = st.tuples(_HOURS, _HOURS, st.booleans(), st.booleans()).filter(
    lambda w: w[2] or w[3] or w[0] < w[1]
)


@settings(max_examples=150, deadline=None)
@given(
    windows=st.lists(_WINDOW, min_size=1, max_size=7),
    horizon_start=st.integers(min_value=0, max_value=48),
    horizon_hours=st.integers(min_value=24, max_value=120),
    max_volumes=st.integers(min_value=1, max_value=3),
)
def test_windows_are_the_activations_clipped_to_the_horizon_hour_by_hour(
    windows: list[tuple[int, int, bool, bool]],
    horizon_start: int,
    horizon_hours: int,
    max_volumes: int,
) -> None:
    """Every endpoint is a whole hour, so hour slots decide coverage exactly."""

    def at(hours: int) -> datetime:
        return DAY0 + timedelta(hours=hours)

    activations = tuple(
        (OPEN_START if open_start else at(s), OPEN_END if open_end else at(e))
        for s, e, open_start, open_end in windows
    )
    horizon = Horizon(at(horizon_start), at(horizon_start + horizon_hours))
    plan = _plan([_record(activations=activations)], ZoneRules(horizon, max_volumes=max_volumes))

    def active(slot: int) -> bool:
        return any(s <= at(slot) and at(slot + 1) <= e for s, e in activations)

    expected = {h for h in range(-61, 242) if active(h) and horizon.start <= at(h) < horizon.end}
    volumes = [v for z in plan.zones for v in z.draft.volumes]
    planned = {h for h in range(-61, 242) if any(v.start <= at(h) < v.end for v in volumes)}
    assert planned == expected
    inside = [w for w in activations if w[0] < horizon.end and horizon.start < w[1]]
    assert len(volumes) == len(inside)  # one volume per window that meets the horizon
    if not inside:
        assert [s.reason for s in plan.skipped] == [SkipReason.OUTSIDE_HORIZON]
    parts = math.ceil(len(inside) / max_volumes)
    assert [(z.part, z.parts) for z in plan.zones] == [(p, parts) for p in range(1, parts + 1)]
    assert all(len(z.draft.volumes) <= max_volumes for z in plan.zones)
    assert len({z.key for z in plan.zones}) == len(plan.zones)


@settings(max_examples=100, deadline=None)
@given(
    upper_m=st.floats(min_value=1.0, max_value=UNLIMITED_M),
    upper_ref=st.sampled_from(["amsl", "agl", "fl", "unl"]),
    margin_m=st.floats(min_value=0.0, max_value=UNLIMITED_M),
)
def test_only_ceilings_above_ground_are_raised_by_the_margin_up_to_unlimited(
    upper_m: float, upper_ref: LimitReference, margin_m: float
) -> None:
    plan = _plan([_record(upper_m, upper_ref)], ZoneRules(WEEK, agl_margin_m=margin_m))
    (volume,) = plan.zones[0].draft.volumes
    expected = min(upper_m + margin_m, UNLIMITED_M) if upper_ref == "agl" else upper_m
    assert volume.upper_m == expected
    assert volume.lower_m == 0.0  # a floor above ground stays at its height above 0 m
    assert plan.raised == (upper_ref == "agl")


def test_the_default_margin_is_the_highest_terrain_on_earth() -> None:
    assert DEFAULT_AGL_MARGIN_M == 8_849.0  # Mount Everest
    (volume,) = _plan([_record(150.0, "agl")], ZoneRules(WEEK)).zones[0].draft.volumes
    assert volume.upper_m == 150.0 + 8_849.0


def test_a_record_whose_band_cannot_be_a_volume_is_an_error_not_a_crash() -> None:
    plan = _plan([_record(upper_m=500.0, lower_m=900.0), _record(name="ok")], ZoneRules(WEEK))
    assert [z.record.name for z in plan.zones] == ["ok"]
    ((error),) = plan.errors
    assert (error.name, error.origin.line) == ("Z", 1)
    assert "not below upper_m" in error.message


def test_a_zone_repeated_in_the_file_is_planned_once() -> None:
    plan = _plan([_record(), _record(name="other"), _record()], ZoneRules(WEEK))
    assert [z.record.name for z in plan.zones] == ["Z", "other"]
    assert [(s.record.name, s.reason) for s in plan.skipped] == [("Z", SkipReason.DUPLICATE)]
    higher = _plan([_record(), _record(upper_m=4_000.0)], ZoneRules(WEEK))
    assert len(higher.zones) == 2  # same name, another band: another zone


def test_the_key_is_the_same_for_the_same_zone_and_changes_with_the_horizon() -> None:
    first, again = _sample(), _sample()
    assert [z.key for z in first.zones] == [z.key for z in again.zones]
    later = _sample(ZoneRules(Horizon.starting(DAY0 + timedelta(days=1), 7)))
    assert not {z.key for z in first.zones} & {z.key for z in later.zones}
    assert all(len(z.key) <= 200 for z in first.zones)  # the column's width


def test_horizon_and_rules_refuse_what_they_cannot_mean() -> None:
    with pytest.raises(ValidationError, match="no time zone"):
        Horizon.starting(datetime(2026, 3, 2), 7)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValidationError, match="at least one day"):
        Horizon.starting(DAY0, 0)
    with pytest.raises(ValidationError, match="past year 9999"):
        Horizon.starting(datetime(9999, 12, 1, tzinfo=UTC), 365)
    with pytest.raises(ValidationError, match="terrain margin"):
        ZoneRules(WEEK, agl_margin_m=-1.0)
    assert start_of_day(T0) == DAY0
    assert start_of_day(datetime(2026, 3, 2, 1, tzinfo=UTC) + timedelta(hours=-2)) == DAY0 - (
        timedelta(days=1)
    )


def test_floor_m_floors_the_zones_from_the_surface_and_stands_their_agl_limits_on_it() -> None:
    """``--floor-m`` (issue 9, Floor): every zone from GND of the sample gets the floor,
    its lower limit becomes the floor and a ceiling above ground is raised by the more
    of the margin and the floor; limits given above mean sea level stay."""
    plan = _sample(ZoneRules(WEEK, agl_margin_m=100.0, floor_m=400.0))
    r1, tmz = _zone(plan, "TEST-R1 RANGE"), _zone(plan, "TEST TMZ")
    assert [(v.floor_m, v.lower_m, v.upper_m) for v in r1.volumes] == [(400.0, 400.0, 3_048.0)]
    assert [(v.floor_m, v.lower_m) for v in tmz.volumes] == [(400.0, 400.0)]
    assert tmz.volumes[0].upper_m == pytest.approx(1_000 * FT + 400.0)  # not + 100 m
    assert {v.floor_m for v in _zone(plan, "TEST-D2").volumes} == {400.0}
    assert {z.key for z in plan.zones}.isdisjoint(z.key for z in _sample().zones)  # content
    assert all(v.floor_m is None for z in _sample().zones for v in z.draft.volumes)


def test_only_a_zone_from_the_surface_takes_floor_m_and_its_own_floor_wins() -> None:
    amsl = replace(_record(name="amsl"), lower_ref="amsl", lower_m=600.0)
    raised = _record(name="1000 ft AGL", lower_m=1_000 * FT)
    own = replace(_record(name="own"), floor_m=-3.0)  # below sea level, as at Schiphol
    plan = _plan([amsl, raised, own], ZoneRules(WEEK, floor_m=400.0))
    floors = {z.record.name: z.draft.volumes[0] for z in plan.zones}
    assert (floors["amsl"].floor_m, floors["amsl"].lower_m) == (None, 600.0)
    assert (floors["1000 ft AGL"].floor_m, floors["1000 ft AGL"].lower_m) == (None, 1_000 * FT)
    assert (floors["own"].floor_m, floors["own"].lower_m) == (-3.0, -3.0)


def test_a_floor_above_a_lower_limit_above_sea_level_is_an_error_of_its_zone() -> None:
    low = replace(_record(name="low"), lower_ref="amsl", lower_m=200.0, floor_m=400.0)
    plan = _plan([low, _record(name="ok")], ZoneRules(WEEK))
    assert [z.record.name for z in plan.zones] == ["ok"]
    (error,) = plan.errors
    assert error.name == "low"
    assert "floor_m 400.0 is above lower_m 200.0" in error.message
    with pytest.raises(ValidationError, match="the floor must be"):
        ZoneRules(WEEK, floor_m=-2_000.0)


def test_a_geojson_zone_gives_its_floor_and_a_bad_one_is_its_error() -> None:
    def feature(name: str, floor: object) -> dict[str, object]:
        return {
            "type": "Feature",
            "properties": {"name": name, "lower_m": 450, "upper_m": 1_500, "floor_m": floor},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[8, 47], [8.1, 47], [8.1, 47.1], [8, 47]]],
            },
        }

    read = parse_geojson_zones(
        {
            "type": "FeatureCollection",
            "features": [
                feature("CTR", 432),
                feature("none", None),
                feature("text", "432 m"),
                feature("deep", -5_000),
            ],
        }
    )
    assert [(r.name, r.floor_m) for r in read.records] == [("CTR", 432.0), ("none", None)]
    assert [e.name for e in read.errors] == ["text", "deep"]
    assert all("floor_m" in e.message for e in read.errors)
    plan = _plan(list(read.records), ZoneRules(WEEK, floor_m=0.0))
    assert [v.floor_m for z in plan.zones for v in z.draft.volumes] == [432.0, None]


# -- reading files -------------------------------------------------------------------------

_GEOJSON = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"name": "Big", "class": "FIR", "lower_m": 0, "upper_m": 20_000},
            # about 103,000 km²: over the 100,000 km² notices of operators are held to
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[10, 44], [13, 44], [13, 48], [10, 48], [10, 44]]],
            },
        }
    ],
}


def test_the_format_comes_from_the_name_then_the_content(tmp_path: Path) -> None:
    named = tmp_path / "zones.geojson"
    named.write_text(json.dumps(_GEOJSON))
    sniffed = tmp_path / "zones.txt"
    sniffed.write_text("\n  " + json.dumps(_GEOJSON))
    openair = tmp_path / "zones.txt.air"
    openair.write_text(SAMPLE)
    for path, fmt, count in (
        (named, "geojson", 1),
        (sniffed, "geojson", 1),
        (openair, "openair", 5),
    ):
        source = read_zone_file(path)
        assert (source.format, len(source.airspace.records)) == (fmt, count)
        assert source.name == path.name


def test_zones_are_read_with_room_for_firs_unless_told_otherwise(tmp_path: Path) -> None:
    path = tmp_path / "big.geojson"
    path.write_text(json.dumps(_GEOJSON))
    assert len(read_zone_file(path).airspace.records) == 1
    tight = read_zone_file(path, limits=FootprintLimits(max_area_m2=100_000e6))
    ((error),) = tight.airspace.errors
    assert "more than the limit of 100,000 km²" in error.message


def test_a_file_that_cannot_be_read_says_why(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"cannot read .*missing\.openair"):
        read_zone_file(tmp_path / "missing.openair")
    with pytest.raises(ValidationError, match="cannot read"):
        read_zone_file(tmp_path)  # a directory
    broken = tmp_path / "broken.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [')
    with pytest.raises(ValidationError, match="is not a GeoJSON file"):
        read_zone_file(broken)
    latin = tmp_path / "latin.json"
    latin.write_bytes('{"name": "Zürich"}'.encode("latin-1"))
    with pytest.raises(ValidationError, match="is not a GeoJSON file"):
        read_zone_file(latin)
    point = tmp_path / "point.geojson"
    point.write_text(json.dumps({"type": "Point", "coordinates": [0, 0]}))
    with pytest.raises(ValidationError, match="holds no zones"):
        read_zone_file(point)


# -- filing, on both backends --------------------------------------------------------------


def _service(database: Database, clock: ManualClock) -> NoticeService:
    return NoticeService(database, clock, Settings())


def _count(database: Database, table: type[Notice] | type[Volume]) -> int:
    with database.read() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_an_import_files_each_zone_once_and_again_files_nothing(
    database: Database, clock: ManualClock, make_party: MakeParty
) -> None:
    authority = make_party("Test Authority", "authority")[0]
    service = _service(database, clock)
    seen: list[FilingOutcome] = []
    report = file_zones(service, authority, _sample(), lambda f: seen.append(f.outcome))
    assert seen == [FilingOutcome.FILED] * 3
    assert (_count(database, Notice), _count(database, Volume)) == (3, 4)
    stored = {n.title: n for n in service.list_notices(authority)}
    assert sorted(stored) == [
        "TEST TMZ (class UNC TMZ)",
        "TEST-D2 (class UNC Q)",
        "TEST-R1 RANGE (class R)",
    ]
    assert [f.notice_id for f in report.filed] == [
        stored[z.draft.title].id for z in report.plan.zones
    ]
    assert len(stored["TEST-D2 (class UNC Q)"].volumes) == 2
    assert all(n.standing for n in stored.values())

    again = file_zones(service, authority, _sample())
    assert [f.outcome for f in again.filed] == [FilingOutcome.ALREADY_FILED] * 3
    assert [f.notice_id for f in again.filed] == [f.notice_id for f in report.filed]
    assert (_count(database, Notice), _count(database, Volume)) == (3, 4)

    # a new horizon is a new import: the zones are filed again, as new notices
    clock.advance(timedelta(days=1))
    tomorrow = _sample(ZoneRules(Horizon.starting(DAY0 + timedelta(days=1), 7)))
    assert file_zones(service, authority, tomorrow).count(FilingOutcome.FILED) == 3
    assert _count(database, Notice) == 6


def test_only_an_authority_imports_zones(
    database: Database, clock: ManualClock, make_party: MakeParty
) -> None:
    operator = make_party("Ops")[0]
    with pytest.raises(PermissionDeniedError, match="'Ops' is an operator; zones belong to"):
        file_zones(_service(database, clock), operator, _sample())
    assert _count(database, Notice) == 0


def test_only_an_authority_files_a_standing_zone(
    database: Database, clock: ManualClock, make_party: MakeParty
) -> None:
    operator = make_party("Ops")[0]
    (zone,) = (z for z in _sample().zones if z.record.name == "TEST-R1 RANGE")
    assert zone.draft.standing
    with pytest.raises(PermissionDeniedError, match="only authorities file standing zones"):
        _service(database, clock).file(operator, zone.draft)
    assert _count(database, Notice) == 0


def _operator_draft(lon: float, lat: float, lower_m: float, upper_m: float) -> NoticeDraft:
    start = T0 + timedelta(hours=2)
    footprint = circle(lon, lat, 1_000.0)
    return NoticeDraft((Volume4D(footprint, lower_m, upper_m, start, start + timedelta(hours=1)),))


def test_an_operator_inside_a_zone_meets_the_authority_and_needs_its_approval(
    database: Database, clock: ManualClock, make_party: MakeParty
) -> None:
    authority = make_party("Test Authority", "authority")[0]
    operator = make_party("Ops")[0]
    AgreementService(database, clock).set(
        "Test Authority", "Ops", Terms(authority_approval_required=True)
    )
    service = _service(database, clock)
    report = file_zones(service, authority, _sample(ZoneRules(WEEK, agl_margin_m=2_864.0)))
    r1 = next(f.notice_id for f in report.filed if f.zone.record.name == "TEST-R1 RANGE")
    assert r1 is not None

    inside = service.file(operator, _operator_draft(14.5, 46.0, 500.0, 1_000.0))
    assert not inside.notice.standing  # activity, not airspace structure
    (conflict,) = inside.conflicts
    assert conflict.counterpart == "Test Authority"
    # need to know: the overlap told is the operator's own circle (within the outline's
    # tolerance), not the authority's area
    told = shapely.geometry.shape(conflict.geometry)
    own = circle(14.5, 46.0, 1_000.0).shape
    assert told.covers(own)
    assert told.within(own.buffer(tolerance_m(own) / 111_320.0))
    assert (conflict.lower_m, conflict.upper_m) == (500.0, 1_000.0)
    (approval,) = inside.notice.approvals
    assert (approval.party, approval.kind, approval.state) == (
        "Test Authority",
        ApprovalKind.APPROVAL,
        ApprovalState.PENDING,
    )
    (seen_by_authority,) = service.conflicts_of(authority, r1)
    assert (seen_by_authority.counterpart, seen_by_authority.id) == ("Ops", conflict.id)

    above = service.file(operator, _operator_draft(14.5, 46.0, 3_100.0, 3_500.0))  # over FL100
    assert above.conflicts == ()
    # the TMZ tops out at 1000 ft above ground: at 2,000 m AMSL the real ground may be
    # high enough to put it inside, so the raised ceiling (3,169 m) still meets it
    in_tmz = service.file(operator, _operator_draft(14.08, 46.25, 2_000.0, 2_100.0))
    assert [c.counterpart for c in in_tmz.conflicts] == ["Test Authority"]


def test_standing_zones_are_exempt_from_the_agreed_largest_footprint(
    database: Database, clock: ManualClock, make_party: MakeParty
) -> None:
    authority = make_party("Test Authority", "authority")[0]
    operator = make_party("Ops")[0]
    AgreementService(database, clock).set("Test Authority", "Ops", Terms())  # 100,000 km²
    service = _service(database, clock)
    big = plan_zones(
        ZoneFile("big.geojson", ZoneFormat.GEOJSON, parse_geojson_zones(_GEOJSON, _ROOMY)),
        ZoneRules(WEEK),
    )
    (zone,) = big.zones
    assert zone.draft.volumes[0].footprint.area_m2 > 100_000e6
    # airspace structure: filed as it is, whatever the authority's agreements allow
    assert [f.outcome for f in file_zones(service, authority, big).filed] == [FilingOutcome.FILED]
    # the same outline as activity is held to the agreement
    start = T0 + timedelta(hours=2)
    activity = Volume4D(
        zone.draft.volumes[0].footprint, 0.0, 100.0, start, start + timedelta(hours=1)
    )
    with pytest.raises(ValidationError, match=r"than the 100,000\.0 km² that the agreement"):
        service.file(operator, NoticeDraft((activity,)))


_ROOMY = FootprintLimits(max_area_m2=1e12)


# -- the real files --------------------------------------------------------------------------


def test_france_plans_one_notice_per_zone_and_files_its_repeated_zit_once() -> None:
    france = read_zone_file(shared_file("airspace", "france.openair"))
    plan = plan_zones(france, ZoneRules(Horizon.starting(DAY0, 365), agl_margin_m=4_811.0))
    # 1,611 airspaces: R600 Coussa cannot be read; CTA MARSEILLE 7 (192,884 km²) can,
    # with room for large zones; ZIT ORANGE is in the file twice, word for word
    assert [(e.origin.line, e.name) for e in plan.errors] == [
        (19765, "LF-R600 COUSSA active NOTAM")
    ]
    assert [(s.record.origin.line, s.reason) for s in plan.skipped] == [
        (12284, SkipReason.DUPLICATE)
    ]
    assert len(plan.zones) == plan.volume_count == 1609
    assert any(z.record.name == "CTA MARSEILLE 7" for z in plan.zones)
    agl = [z for z in plan.zones if z.record.upper_ref == "agl"]
    assert plan.raised == len(agl) > 100
    assert all(z.draft.volumes[0].upper_m == pytest.approx(z.record.upper_m + 4_811.0) for z in agl)


SLOVENIA_RULES = ZoneRules(Horizon.starting(datetime(2025, 5, 1, tzinfo=UTC), 60), 2_864.0)
"""May and June 2025: LJD1's, Nova Gorica's and Luka Koper's windows, not LJR4's (2023)."""


def _slovenia() -> ZonePlan:
    return plan_zones(read_zone_file(shared_file("airspace", "slovenia.openair")), SLOVENIA_RULES)


def test_slovenia_is_filed_zone_by_zone_window_by_window(
    database: Database, clock: ManualClock, make_party: MakeParty
) -> None:
    authority = make_party("SLO-CAA", "authority")[0]
    service = _service(database, clock)
    report = file_zones(service, authority, _slovenia())
    plan = report.plan
    # 58 records: 8 unreadable, 6 AA NONE, LJR4's 2023 windows outside, 43 filed
    assert len(plan.errors) == 8
    assert [e.origin.line for e in report.errors] == [8, 40, 285, 407, 883, 1094, 1319, 1353]
    skipped = sorted((s.reason, s.record.name) for s in plan.skipped)
    assert [r for r, _ in skipped].count(SkipReason.INACTIVE) == 6
    assert (SkipReason.OUTSIDE_HORIZON, "LJR4 (NOTAM)") in skipped
    assert len(skipped) == 7
    assert report.count(FilingOutcome.FILED) == 43
    assert (_count(database, Notice), _count(database, Volume)) == (43, 48)

    notices = {n.title: n for n in service.list_notices(authority)}
    windows = {
        title.split(" (class")[0]: [(v.start, v.end) for v in n.volumes]
        for title, n in notices.items()
        if len(n.volumes) > 1 or n.volumes[0].start != SLOVENIA_RULES.horizon.start
    }
    assert windows == {
        "LJD1": [
            (datetime(2025, 6, d, s, tzinfo=UTC), datetime(2025, 6, d, e, tzinfo=UTC))
            for d, s, e in [(10, 18, 22), (12, 8, 12), (16, 17, 20), (23, 17, 20), (24, 18, 22)]
        ],
        "Nova Gorica TRA": [
            (datetime(2025, 5, 21, 9, tzinfo=UTC), datetime(2025, 5, 21, 10, 30, tzinfo=UTC)),
            (datetime(2025, 5, 24, 15, tzinfo=UTC), datetime(2025, 5, 24, 16, 30, tzinfo=UTC)),
        ],
        "Luka Koper TRA": [
            (datetime(2025, 5, 21, 9, tzinfo=UTC), datetime(2025, 5, 21, 10, 30, tzinfo=UTC))
        ],
    }
    (tmz,) = notices["TMZ LJLJ (class UNC TMZ)"].volumes  # GND to 1000 ft AGL
    assert (tmz.lower_m, tmz.upper_m) == (0.0, pytest.approx(1_000 * FT + 2_864.0))
    (krsko,) = notices["LJP1 KRSKO (class UNC P)"].volumes  # GND to 5000 ft AMSL
    assert (krsko.lower_m, krsko.upper_m) == (0.0, pytest.approx(5_000 * FT))

    again = file_zones(service, authority, _slovenia())
    assert again.count(FilingOutcome.ALREADY_FILED) == 43
    assert again.count(FilingOutcome.FILED) == 0
    assert (_count(database, Notice), _count(database, Volume)) == (43, 48)


def test_an_operator_over_krsko_is_alerted_of_the_prohibited_area(
    database: Database, make_party: MakeParty
) -> None:
    clock = ManualClock(datetime(2025, 5, 1, 6, tzinfo=UTC))
    authority = make_party("SLO-CAA", "authority")[0]
    operator: PartyRef = make_party("Drone Ops")[0]
    service = _service(database, clock)
    report = file_zones(service, authority, _slovenia())
    start = datetime(2025, 5, 2, 9, tzinfo=UTC)
    volume = Volume4D(
        circle(15.5153, 45.9383, 500.0), 0.0, 120.0, start, start + timedelta(hours=1)
    )
    filed = service.file(operator, NoticeDraft((volume,), "survey"))
    # no agreement: each side learns of the other only as another party (anonymous)
    assert [c.counterpart for c in filed.conflicts] == [ANONYMOUS_COUNTERPART] * 2
    # the authority gets an alert on each zone the survey meets: the prohibited area and
    # the CTR of Cerklje, which covers Krško from the ground up to 3100 ft
    alerted = {
        f.zone.draft.title: [(c.counterpart, c.lower_m, c.upper_m) for c in conflicts]
        for f in report.filed
        if f.notice_id is not None and (conflicts := service.conflicts_of(authority, f.notice_id))
    }
    assert alerted == {
        "LJP1 KRSKO (class UNC P)": [(ANONYMOUS_COUNTERPART, 0.0, 120.0)],
        "Cerklje CTR (class D CTR)": [(ANONYMOUS_COUNTERPART, 0.0, 120.0)],
    }


def test_the_module_exports_what_it_lists() -> None:
    for name in zones_module.__all__:
        assert hasattr(zones_module, name), name

"""OpenAIR import: each record type on hand-written airspace, then the real files."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

from deconfliction.core.earth import WGS84
from deconfliction.core.footprint import FootprintLimits
from deconfliction.errors import ValidationError
from deconfliction.feeds.airspace import OPEN_END, OPEN_START, AirspaceImport, AirspaceRecord
from deconfliction.feeds.arcs import MAX_ARC_SPACING_M
from deconfliction.feeds.openair import (
    activation_hint,
    load_openair,
    parse_coordinate,
    parse_openair,
)
from tests.feeds.realdata import shared_file

NM = 1852.0
FT = 0.3048
HEADER = "AC R\nAN TEST\nAL GND\nAH FL100\n"


def _only(result: AirspaceImport) -> AirspaceRecord:
    assert result.errors == ()
    assert len(result.records) == 1
    return result.records[0]


def _error(result: AirspaceImport) -> str:
    assert result.records == ()
    assert len(result.errors) == 1
    return result.errors[0].message


def _polygon_area_m2(record: AirspaceRecord) -> float:
    area, _ = WGS84.geometry_area_perimeter(record.footprint.shape)
    return abs(float(area))


# --- coordinates -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lon", "lat"),
    [
        ("43:12:30 N 005:30:00 E", 5.5, 43.0 + 12 / 60 + 30 / 3600),
        ("45:37:56N 13:55:08E", 13 + 55 / 60 + 8 / 3600, 45 + 37 / 60 + 56 / 3600),
        ("46:27:05.5 N 006:04:42.2 E", 6 + 4 / 60 + 42.2 / 3600, 46 + 27 / 60 + 5.5 / 3600),
        ("42:59:25 N  001:09:49 E", 1 + 9 / 60 + 49 / 3600, 42 + 59 / 60 + 25 / 3600),
        ("39:29.9N 119:46.1W", -(119 + 46.1 / 60), 39 + 29.9 / 60),
        ("33:56:00 S 018:25:00 E", 18 + 25 / 60, -(33 + 56 / 60)),
        ("39:29:09N, 119:36:10W", -(119 + 36 / 60 + 10 / 3600), 39 + 29 / 60 + 9 / 3600),
        ("43.5N 5.25E", 5.25, 43.5),
        ("50:26:02 N 6:22:35 E", 6 + 22 / 60 + 35 / 3600, 50 + 26 / 60 + 2 / 3600),
    ],
)
def test_coordinates_in_every_form_found_in_files(text: str, lon: float, lat: float) -> None:
    assert parse_coordinate(text) == pytest.approx((lon, lat), abs=1e-12)


@given(
    st.integers(0, 89),
    st.integers(0, 59),
    st.integers(0, 59),
    st.integers(0, 179),
    st.integers(0, 59),
    st.integers(0, 59),
    st.sampled_from("NS"),
    st.sampled_from("EW"),
    st.sampled_from([" ", "", "  "]),
)
def test_dms_reads_back_what_was_written(
    lat_d: int,
    lat_m: int,
    lat_s: int,
    lon_d: int,
    lon_m: int,
    lon_s: int,
    ns: str,
    ew: str,
    gap: str,
) -> None:
    text = (
        f"{lat_d:02d}:{lat_m:02d}:{lat_s:02d}{gap}{ns} {lon_d:03d}:{lon_m:02d}:{lon_s:02d}{gap}{ew}"
    )
    lat = (lat_d + lat_m / 60 + lat_s / 3600) * (1 if ns == "N" else -1)
    lon = (lon_d + lon_m / 60 + lon_s / 3600) * (1 if ew == "E" else -1)
    assert parse_coordinate(text) == pytest.approx((lon, lat), abs=1e-12)


@pytest.mark.parametrize(
    "text", ["43:12:30 005:30:00 E", "43:61:00 N 005:30:00 E", "91:00:00 N 005:00:00 E", "here"]
)
def test_bad_coordinates_are_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        parse_coordinate(text)


# --- records ---------------------------------------------------------------------------


def test_a_polygon_airspace_with_every_attribute() -> None:
    record = _only(
        parse_openair(
            "* a comment line\n"
            "AC D\n"
            "AY CTR\n"
            "AN CTR EXAMPLE H24 * trailing comment\n"
            "AF 118.480\n"
            "AG Example Tower\n"
            "AL 1000ft AGL\n"
            "AH 4500FT AMSL\n"
            "DP 45:00:00 N 005:00:00 E\n"
            "DP 45:00:00 N 005:10:00 E  * border\n"
            "DP 45:10:00 N 005:10:00 E\n"
            "DP 45:10:00 N 005:00:00 E\n"
        )
    )
    assert (record.name, record.airspace_class, record.kind) == ("CTR EXAMPLE H24", "D", "CTR")
    assert (record.lower_m, record.lower_ref) == (pytest.approx(304.8), "agl")
    assert (record.upper_m, record.upper_ref) == (pytest.approx(4500 * FT), "amsl")
    assert record.activation_hint == "H24"
    assert record.activations is None
    assert record.origin.line == 2
    # The ring was closed for us: four corners and the first again.
    assert len(record.footprint.shape.exterior.coords) == 5
    assert record.footprint.bounds == pytest.approx((5.0, 45.0, 5.0 + 1 / 6, 45.0 + 1 / 6))


def test_unused_records_are_counted_not_drawn() -> None:
    result = parse_openair(
        HEADER + "AF 118.480\nAG Tower\nAT 45:05:00 N 005:05:00 E\nSP 0,1,0,0,255\nSB -1,-1,-1\n"
        "V Z=100\nAX 7000\nZZ whatever\n"
        "DP 45:00:00 N 005:00:00 E\nDP 45:00:00 N 005:10:00 E\nDP 45:10:00 N 005:10:00 E\n"
    )
    _only(result)
    assert dict(result.ignored) == {
        "AF": 1, "AG": 1, "AT": 1, "SP": 1, "SB": 1, "V Z": 1, "AX": 1, "ZZ": 1
    }  # fmt: skip


def test_a_dc_circle_has_the_area_of_its_radius_in_nautical_miles() -> None:
    record = _only(parse_openair(HEADER + "V X=45:00:00 N 005:00:00 E\nDC 5\n"))
    assert record.footprint.circle is not None
    assert record.footprint.circle.radius_m == 5 * NM
    assert (record.footprint.circle.lon, record.footprint.circle.lat) == (5.0, 45.0)
    assert _polygon_area_m2(record) == pytest.approx(math.pi * (5 * NM) ** 2, rel=0.01)


@pytest.mark.parametrize(("direction", "north"), [("+", True), ("-", False)])
def test_a_db_arc_follows_its_direction(direction: str, north: bool) -> None:
    # West point, arc to the east point around the centre, straight back: a half disc,
    # over the north when clockwise and over the south when counter-clockwise.
    record = _only(
        parse_openair(
            HEADER + f"V D={direction}\nV X=45:00:00 N 005:00:00 E\n"
            "DP 45:00:00 N 004:50:00 E\n"
            "DB 45:00:00 N 004:50:00 E, 45:00:00 N 005:10:00 E\n"
        )
    )
    centroid = record.footprint.shape.centroid
    assert (centroid.y > 45.0) is north
    _, _, radius = WGS84.inv(5.0, 45.0, 5.0 + 10 / 60, 45.0)
    assert _polygon_area_m2(record) == pytest.approx(math.pi * radius**2 / 2, rel=0.01)
    ring = record.footprint.shape.exterior.coords
    assert len(ring) > 60  # 13 km radius, 41 km of arc: at least 42 steps
    xs, ys = zip(*ring, strict=True)
    _, _, steps = WGS84.inv(xs[:-1], ys[:-1], xs[1:], ys[1:])
    assert max(steps[:-1]) <= MAX_ARC_SPACING_M  # the last step is the straight diameter


def test_direction_and_centre_reset_for_each_airspace() -> None:
    result = parse_openair(
        HEADER + "V D=-\nV X=45:00:00 N 005:00:00 E\nDC 1\n"
        "AC R\nAN NEXT\nAL GND\nAH FL100\nDP 45:00:00 N 004:50:00 E\n"
        "DB 45:00:00 N 004:50:00 E, 45:00:00 N 005:10:00 E\n"
    )
    assert [r.name for r in result.records] == ["TEST"]
    assert result.errors[0].name == "NEXT"
    assert "V X=" in result.errors[0].message


def test_a_da_arc_by_radius_and_angles() -> None:
    # A quarter disc: centre, then the arc from 0 to 90 degrees at 2 NM.
    record = _only(
        parse_openair(
            HEADER + "V X=45:00:00 N 005:00:00 E\nDP 45:00:00 N 005:00:00 E\nDA 2, 0, 90\n"
        )
    )
    assert _polygon_area_m2(record) == pytest.approx(math.pi * (2 * NM) ** 2 / 4, rel=0.01)
    minx, miny, maxx, maxy = record.footprint.bounds
    assert (minx, miny) == pytest.approx((5.0, 45.0))
    assert maxy > 45.0  # north-east quadrant
    assert maxx > 5.0


def test_activation_windows_and_none() -> None:
    result = parse_openair(
        HEADER + "AA 2023-05-28T12:00Z/2023-05-28T20:00Z\nAA 2023-05-29T13:00Z/2023-05-29T18:00Z\n"
        "V X=45:00:00 N 005:00:00 E\nDC 1\n"
        "AC R\nAN QUIET (NOTAM)\nAL GND\nAH FL100\nAA NONE\nV X=45:00:00 N 005:00:00 E\nDC 1\n"
        "AC R\nAN OPEN\nAL GND\nAH FL100\nAA 2024-12-17T00:00Z/NONE\nAA NONE/2024-12-16T24:00Z\n"
        "V X=45:00:00 N 005:00:00 E\nDC 1\n"
    )
    assert result.errors == ()
    windowed, quiet, open_ended = result.records
    assert windowed.activations == (
        (datetime(2023, 5, 28, 12, tzinfo=UTC), datetime(2023, 5, 28, 20, tzinfo=UTC)),
        (datetime(2023, 5, 29, 13, tzinfo=UTC), datetime(2023, 5, 29, 18, tzinfo=UTC)),
    )
    assert quiet.activations == ()
    assert quiet.activation_hint == "NOTAM"
    assert open_ended.activations == (
        (datetime(2024, 12, 17, tzinfo=UTC), OPEN_END),
        (OPEN_START, datetime(2024, 12, 17, tzinfo=UTC)),
    )


def test_aa_none_overrides_the_windows_given_with_it() -> None:
    record = _only(
        parse_openair(
            HEADER + "AA 2023-05-28T12:00Z/2023-05-28T20:00Z\nAA NONE\n"
            "V X=45:00:00 N 005:00:00 E\nDC 1\n"
        )
    )
    assert record.activations == ()


@pytest.mark.parametrize(
    "window",
    ["2023-05-28T12:00/2023-05-28T20:00", "2023-05-28T20:00Z/2023-05-28T12:00Z", "tomorrow"],
)
def test_bad_activation_windows_fail_their_record(window: str) -> None:
    message = _error(parse_openair(HEADER + f"AA {window}\nV X=45:00:00 N 005:00:00 E\nDC 1\n"))
    assert "activation window" in message


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("EDR1 Garching H24", "H24"),
        ("EDR10A Todendorf-Putlos MON-SAT+", "MON-SAT+"),
        ("LF-R46A (MON-FRI)", "MON-FRI"),
        ("EDR PAROW (MO-FR)", "MO-FR"),
        ("ZRT DSV ROMORANTIN D activation NOTAM MON-FRI except HOL", "NOTAM MON-FRI"),
        ("EDR Klixbuell HX 125.100", "HX"),
        ("CTR LYON", None),
        ("ANOTAMED MONTH", None),
    ],
)
def test_activation_hints_in_names(name: str, hint: str | None) -> None:
    assert activation_hint(name) == hint


def test_crlf_and_lf_read_the_same() -> None:
    text = (
        HEADER + "DP 45:00:00 N 005:00:00 E\nDP 45:00:00 N 005:10:00 E\nDP 45:10:00 N 005:10:00 E\n"
    )
    lf = _only(parse_openair(text))
    crlf = _only(parse_openair(text.replace("\n", "\r\n")))
    assert (crlf.name, crlf.airspace_class) == ("TEST", "R")
    assert crlf.footprint.shape.equals(lf.footprint.shape)


def test_a_keyhole_outline_becomes_a_polygon_with_a_hole() -> None:
    outer = ["45:00:00 N 005:00:00 E", "45:00:00 N 005:20:00 E", "45:20:00 N 005:20:00 E"]
    outer += ["45:20:00 N 005:00:00 E", "45:00:00 N 005:00:00 E"]
    inner = ["45:05:00 N 005:05:00 E", "45:15:00 N 005:05:00 E", "45:15:00 N 005:15:00 E"]
    inner += ["45:05:00 N 005:15:00 E", "45:05:00 N 005:05:00 E"]
    points = [*outer, *inner, outer[0]]
    record = _only(parse_openair(HEADER + "".join(f"DP {p}\n" for p in points)))
    assert len(record.footprint.shape.interiors) == 1
    shell, _ = WGS84.polygon_area_perimeter(
        [5.0, 5 + 1 / 3, 5 + 1 / 3, 5.0], [45.0, 45.0, 45 + 1 / 3, 45 + 1 / 3]
    )
    hole, _ = WGS84.polygon_area_perimeter(
        [5 + 1 / 12, 5 + 1 / 12, 5.25, 5.25], [45 + 1 / 12, 45.25, 45.25, 45 + 1 / 12]
    )
    assert _polygon_area_m2(record) == pytest.approx(abs(shell) - abs(hole), rel=1e-9)


# --- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("AC R\nAN NO FLOOR\nAH FL100\nV X=45:00:00 N 005:00:00 E\nDC 1\n", "no AL"),
        ("AC R\nAN NO CEILING\nAL GND\nV X=45:00:00 N 005:00:00 E\nDC 1\n", "no AH"),
        ("AC R\nAN UPSIDE DOWN\nAL FL100\nAH 3000ft AMSL\nV X=45:00:00 N 005:00:00 E\nDC 1\n",
         "is not below"),
        (HEADER, "no outline"),
        (HEADER + "DC 1\n", "needs a centre"),
        (HEADER + "V X=45:00:00 N 005:00:00 E\nDC 1\nDP 45:00:00 N 005:00:00 E\n", "only outline"),
        (HEADER + "V X=45:00:00 N 005:00:00 E\nDC one\n", "DC radius"),
        (HEADER + "V X=45:00:00 N 005:00:00 E\nDA 2, 0\n", "DA radius"),
        (HEADER + "V D=x\n", "not a direction"),
        (HEADER + "DB 45:00:00 N 005:00:00 E\n", "cannot read the arc"),
        (HEADER + "V W=2\nDY 45:00:00 N 005:00:00 E\n", "not supported"),
        (HEADER + "DY 45:00:00 N 005:00:00 E\n", "not supported"),
        (HEADER.replace("FL100", "very high") + "V X=45:00:00 N 005:00:00 E\nDC 1\n",
         "cannot read the limit"),
        (HEADER + "DP 45:00:00 N 005:00:00 E\nDP 45:10:00 N 005:10:00 E\n"
         "DP 45:00:00 N 005:10:00 E\nDP 45:10:00 N 005:00:00 E\n", "intersects itself"),
    ],
)  # fmt: skip
def test_a_bad_record_is_reported_and_the_next_one_still_read(body: str, message: str) -> None:
    good = "\nAC Q\nAN GOOD\nAL GND\nAH FL50\nV X=46:00:00 N 006:00:00 E\nDC 1\n"
    result = parse_openair(body + good)
    assert [r.name for r in result.records] == ["GOOD"]
    assert len(result.errors) == 1
    error = result.errors[0]
    assert message in error.message
    assert error.origin.line == 1
    assert str(error).startswith(f"line 1 ({error.name}): ")


def test_a_geometry_line_before_any_airspace_is_an_error() -> None:
    result = parse_openair(
        "DP 45:00:00 N 005:00:00 E\nSP 0,1,0\n" + HEADER + "V X=45:00:00 N 005:00:00 E\nDC 1\n"
    )
    assert [r.name for r in result.records] == ["TEST"]
    assert [(e.origin.line, e.message) for e in result.errors] == [
        (1, "DP record outside any airspace; start each airspace with AC")
    ]
    assert result.ignored == {"SP": 1}


def test_footprint_limits_apply_and_can_be_raised() -> None:
    big = HEADER + "V X=45:00:00 N 005:00:00 E\nDC 100\n"  # 186,000 km²
    assert "more than the limit" in _error(parse_openair(big))
    assert _only(parse_openair(big, FootprintLimits(max_area_m2=1e12))).footprint.circle


def test_load_openair_falls_back_to_latin_1(tmp_path: Path) -> None:
    path = tmp_path / "latin.openair"
    path.write_bytes(
        (HEADER.replace("TEST", "CTR MÜNCHEN") + "V X=48:00:00 N 011:00:00 E\nDC 1\n").encode(
            "latin-1"
        )
    )
    assert _only(load_openair(path)).name == "CTR MÜNCHEN"


# --- the real files --------------------------------------------------------------------


@pytest.fixture(scope="module")
def france() -> AirspaceImport:
    return load_openair(shared_file("airspace", "france.openair"))


@pytest.fixture(scope="module")
def germany() -> AirspaceImport:
    return load_openair(shared_file("airspace", "germany.openair"))


@pytest.fixture(scope="module")
def slovenia() -> AirspaceImport:
    return load_openair(shared_file("airspace", "slovenia.openair"))


def _named(result: AirspaceImport, name: str) -> list[AirspaceRecord]:
    return [r for r in result.records if r.name == name]


def test_france_reads_1609_of_its_1611_airspaces(france: AirspaceImport) -> None:
    assert len(france.records) == 1609
    # The two it cannot: a CTA larger than the default footprint limit, and R600 Coussa,
    # drawn as two half circles whose shared diameter the outline runs three times.
    assert [(e.origin.line, e.name) for e in france.errors] == [
        (10620, "CTA MARSEILLE 7"),
        (19765, "LF-R600 COUSSA active NOTAM"),
    ]
    assert "192,884 km²" in france.errors[0].message
    assert "intersects itself" in france.errors[1].message
    assert france.ignored == {}


def test_france_with_room_for_large_areas_reads_the_cta(france: AirspaceImport) -> None:
    roomy = load_openair(
        shared_file("airspace", "france.openair"), FootprintLimits(max_area_m2=1e12)
    )
    assert len(roomy.records) == 1610
    (cta,) = _named(roomy, "CTA MARSEILLE 7")
    assert cta.footprint.area_m2 == pytest.approx(192_884e6, rel=1e-4)


def test_france_spot_checks(france: AirspaceImport) -> None:
    (p23,) = _named(france, "LF-P23 PARIS")
    assert p23.airspace_class == "P"
    assert (p23.lower_m, p23.lower_ref, p23.upper_ref) == (0.0, "agl", "amsl")
    assert p23.upper_m == pytest.approx(6500 * FT)
    centre = p23.footprint.shape.centroid
    assert (centre.x, centre.y) == pytest.approx((2.3406, 48.8587), abs=1e-3)  # central Paris
    assert p23.footprint.area_m2 == pytest.approx(84.44e6, rel=1e-3)

    (luc,) = [r for r in france.records if r.name.startswith("ZRT LE LUC")]
    assert luc.footprint.circle is not None
    assert luc.footprint.circle.radius_m == 6 * NM
    assert (luc.footprint.circle.lon, luc.footprint.circle.lat) == pytest.approx(
        (6 + 23 / 60 + 13 / 3600, 43 + 23 / 60 + 5 / 3600)
    )
    assert luc.upper_m == pytest.approx(3000 * FT)

    (r68b,) = [r for r in france.records if r.name.startswith("LF-R68B")]
    assert (r68b.lower_m, r68b.lower_ref) == (pytest.approx(8500 * FT), "fl")
    assert (r68b.upper_m, r68b.upper_ref) == (pytest.approx(19500 * FT), "fl")


def test_france_limits_in_metres_are_read_as_metres(france: AirspaceImport) -> None:
    metric = [r for r in france.records if r.name.startswith("ZSM C-2B SEC 049")]
    assert [r.upper_m for r in metric] == [2845.0]


def test_germany_reads_all_678_airspaces_from_crlf_lines(germany: AirspaceImport) -> None:
    assert len(germany.records) == 678
    assert germany.errors == ()
    assert not any("\r" in r.name or "\r" in r.airspace_class for r in germany.records)
    # One airspace has no AN line: kept, with an empty name and its line to find it by.
    (unnamed,) = _named(germany, "")
    assert (unnamed.origin.line, unnamed.airspace_class) == (1142, "G")


def test_germany_spot_checks(germany: AirspaceImport) -> None:
    (garching,) = _named(germany, "EDR1 Garching H24")
    assert (garching.airspace_class, garching.activation_hint) == ("R", "H24")
    assert garching.footprint.circle is not None
    assert garching.footprint.circle.radius_m == pytest.approx(0.8 * NM)
    assert garching.upper_m == pytest.approx(3600 * FT)
    # Frankfurt class D is drawn as a keyhole around the CTR: it has a hole.
    (frankfurt_d,) = [r for r in _named(germany, "Frankfurt") if r.airspace_class == "D"]
    assert len(frankfurt_d.footprint.shape.interiors) == 1
    assert (frankfurt_d.lower_m, frankfurt_d.upper_m) == pytest.approx((1500 * FT, 2500 * FT))
    assert frankfurt_d.footprint.shape.contains(shapely.Point(8.25, 50.0))
    assert not frankfurt_d.footprint.shape.contains(shapely.Point(8.57, 50.04))  # the airport


def test_germany_dc_5_nm_circles_have_the_area_of_pi_r_squared(germany: AirspaceImport) -> None:
    circles = [
        r for r in germany.records if r.footprint.circle and r.footprint.circle.radius_m == 5 * NM
    ]
    assert len(circles) == 2
    for record in circles:
        assert _polygon_area_m2(record) == pytest.approx(math.pi * 9260.0**2, rel=0.01)


def test_germany_arcs_are_densified_to_a_kilometre(germany: AirspaceImport) -> None:
    (stuttgart,) = [
        r
        for r in _named(germany, "Stuttgart")
        if r.airspace_class == "D" and r.footprint.shape.interiors
    ]
    xs, ys = zip(*stuttgart.footprint.shape.exterior.coords, strict=True)
    _, _, steps = WGS84.inv(xs[:-1], ys[:-1], xs[1:], ys[1:])
    assert len(xs) > 100
    assert sorted(steps)[len(steps) // 2] < MAX_ARC_SPACING_M  # most steps are arc steps


def test_slovenia_reads_50_of_58_and_reports_8_crossed_outlines(slovenia: AirspaceImport) -> None:
    assert len(slovenia.records) + len(slovenia.errors) == 58
    assert len(slovenia.records) == 50
    # Eight TMA outlines cross themselves by a few tens of metres where they follow the
    # border: real faults in the file, reported with where they cross.
    assert [e.origin.line for e in slovenia.errors] == [8, 40, 285, 407, 883, 1094, 1319, 1353]
    assert all("intersects itself near lon" in e.message for e in slovenia.errors)
    assert slovenia.ignored == {"AF": 55, "AG": 55}


def test_slovenia_activation_windows(slovenia: AirspaceImport) -> None:
    scheduled = {r.name: r.activations for r in slovenia.records if r.activations}
    assert scheduled == {
        "LJR4 (NOTAM)": (
            (datetime(2023, 5, 28, 12, tzinfo=UTC), datetime(2023, 5, 28, 20, tzinfo=UTC)),
            (datetime(2023, 5, 29, 13, tzinfo=UTC), datetime(2023, 5, 29, 18, tzinfo=UTC)),
        ),
        "LJD1": tuple(
            (datetime(2025, 6, day, start, tzinfo=UTC), datetime(2025, 6, day, end, tzinfo=UTC))
            for day, start, end in [
                (10, 18, 22),
                (12, 8, 12),
                (16, 17, 20),
                (23, 17, 20),
                (24, 18, 22),
            ]
        ),
        "Nova Gorica TRA": (
            (datetime(2025, 5, 21, 9, tzinfo=UTC), datetime(2025, 5, 21, 10, 30, tzinfo=UTC)),
            (datetime(2025, 5, 24, 15, tzinfo=UTC), datetime(2025, 5, 24, 16, 30, tzinfo=UTC)),
        ),
        "Luka Koper TRA": (
            (datetime(2025, 5, 21, 9, tzinfo=UTC), datetime(2025, 5, 21, 10, 30, tzinfo=UTC)),
        ),
    }
    assert sum(1 for r in slovenia.records if r.activations == ()) == 6  # AA NONE
    (koper,) = _named(slovenia, "Luka Koper TRA")
    assert (koper.airspace_class, koper.kind) == ("UNC", "TRA")
    assert koper.footprint.circle is not None
    assert koper.footprint.circle.radius_m == pytest.approx(1.56 * NM)
    assert koper.upper_m == pytest.approx(1600 * FT)

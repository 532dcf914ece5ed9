"""GeoJSON zones: the EUROCONTROL and generic property forms, per-record errors, real FIRs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from deconfliction.core.footprint import FootprintLimits
from deconfliction.errors import ValidationError
from deconfliction.feeds.airspace import UNLIMITED_M, AirspaceImport
from deconfliction.feeds.geojson_zones import load_geojson_zones, parse_geojson_zones
from tests.feeds.realdata import shared_file

FT = 0.3048
SQUARE = [[[8.0, 47.0], [8.1, 47.0], [8.1, 47.1], [8.0, 47.1], [8.0, 47.0]]]
FIR_LIMITS = FootprintLimits(max_area_m2=10e12)


def _feature(properties: dict[str, Any], geometry: Any = None) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": properties,
        "geometry": geometry
        if geometry is not None
        else {"type": "Polygon", "coordinates": SQUARE},
    }


def _collection(*features: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


def test_generic_zone_with_a_window() -> None:
    result = parse_geojson_zones(
        _collection(
            _feature(
                {
                    "name": "Range 7",
                    "class": "R",
                    "lower_m": 150,
                    "upper_m": 3000.5,
                    "start": "2026-03-02T08:00:00Z",
                    "end": "2026-03-02T10:00:00+01:00",
                }
            )
        )
    )
    assert result.errors == ()
    (zone,) = result.records
    assert (zone.name, zone.airspace_class, zone.kind) == ("Range 7", "R", None)
    assert (zone.lower_m, zone.lower_ref, zone.upper_m, zone.upper_ref) == (
        150.0,
        "amsl",
        3000.5,
        "amsl",
    )
    assert zone.activations == (
        (datetime(2026, 3, 2, 8, tzinfo=UTC), datetime(2026, 3, 2, 9, tzinfo=UTC)),
    )
    assert zone.footprint.bounds == pytest.approx((8.0, 47.0, 8.1, 47.1))
    assert (zone.origin.feature, zone.origin.polygon) == (0, None)


def test_eurocontrol_limits_with_units_and_unlimited() -> None:
    result = parse_geojson_zones(
        _feature(
            {
                "NAME": "EXAMPLE FIR",
                "TYPE": "FIR",
                "LOWERLIMIT": "11500",
                "LOWERUNIT": "FT",
                "UPPERLIMIT": "999",
                "UPPERUNIT": "FL",
            }
        )
    )
    (zone,) = result.records
    assert (zone.name, zone.airspace_class, zone.kind) == ("EXAMPLE FIR", "FIR", "FIR")
    assert zone.lower_m == pytest.approx(11500 * FT)
    assert (zone.upper_m, zone.upper_ref) == (UNLIMITED_M, "unl")
    assert zone.activations is None


def test_a_multipolygon_gives_one_record_per_polygon() -> None:
    east = [[[c[0] + 1.0, c[1]] for c in SQUARE[0]]]
    crossed = [[[9.0, 47.0], [9.1, 47.1], [9.1, 47.0], [9.0, 47.1], [9.0, 47.0]]]
    result = parse_geojson_zones(
        _collection(
            _feature(
                {"name": "Twins", "lower_m": 0, "upper_m": 500},
                {"type": "MultiPolygon", "coordinates": [SQUARE, east, crossed]},
            )
        )
    )
    assert [(r.name, r.origin.polygon) for r in result.records] == [("Twins", 0), ("Twins", 1)]
    assert [str(e) for e in result.errors] == [
        "feature 0, polygon 2 (Twins): polygon ring 0 intersects itself near lon 9.05, "
        "lat 47.05; reorder its vertices so that its edges do not cross"
    ]


def test_holes_are_kept() -> None:
    hole = [[8.02, 47.02], [8.02, 47.08], [8.08, 47.08], [8.08, 47.02], [8.02, 47.02]]
    result = parse_geojson_zones(
        _feature(
            {"name": "Ring", "lower_m": 0, "upper_m": 500},
            {"type": "Polygon", "coordinates": [*SQUARE, hole]},
        )
    )
    assert len(result.records[0].footprint.shape.interiors) == 1


def _zone(geometry: Any = None, **extra: Any) -> dict[str, Any]:
    return _feature({"name": "A", "lower_m": 0, "upper_m": 500, **extra}, geometry)


ACROSS_180 = [[[179.5, 0], [-179.5, 0], [-179.5, 1], [179.5, 1], [179.5, 0]]]
NM_UNITS = {"NAME": "B", "LOWERLIMIT": 0, "LOWERUNIT": "NM", "UPPERLIMIT": 1, "UPPERUNIT": "FL"}


@pytest.mark.parametrize(
    ("feature", "message"),
    [
        (_feature({"name": "A", "lower_m": 0}), "has no limits"),
        (_zone(lower_m=500), "is not below"),
        (_zone(lower_m="low"), "not a number"),
        (_zone(start="2026-03-02T08:00:00Z"), "both start and end"),
        (_zone(start="2026-03-02T08:00", end="2026-03-02T09:00"), "no time zone"),
        (_zone(start="2026-03-02T09:00Z", end="2026-03-02T08:00Z"), "is not after start"),
        (_zone(start="soon", end="later"), "not an ISO 8601"),
        (_zone({"type": "Point", "coordinates": [8, 47]}), "Point"),
        (_zone({"type": "Polygon", "coordinates": []}), "no coordinates"),
        ({"type": "Feature", "properties": _zone()["properties"]}, "no geometry"),
        (_zone({"type": "Polygon", "coordinates": ACROSS_180}), "crosses the antimeridian"),
        (_feature(NM_UNITS), "NM"),
    ],
)  # fmt: skip
def test_a_bad_feature_is_reported_and_the_next_one_still_read(
    feature: dict[str, Any], message: str
) -> None:
    good = _feature({"name": "Good", "lower_m": 0, "upper_m": 500})
    result = parse_geojson_zones(_collection(feature, good))
    assert [(r.name, r.origin.feature) for r in result.records] == [("Good", 1)]
    (error,) = result.errors
    assert message in error.message
    assert error.origin.feature == 0


def test_a_document_without_features_is_refused() -> None:
    with pytest.raises(ValidationError, match="give a FeatureCollection"):
        parse_geojson_zones({"type": "Polygon", "coordinates": SQUARE})
    with pytest.raises(ValidationError, match="no list of features"):
        parse_geojson_zones({"type": "FeatureCollection"})


def test_load_refuses_non_json_constants(tmp_path: Path) -> None:
    path = tmp_path / "zones.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [], "x": NaN}')
    with pytest.raises(ValidationError, match="NaN"):
        load_geojson_zones(path)
    path.write_text(json.dumps(_collection(_feature({"name": "Z", "lower_m": 0, "upper_m": 9}))))
    assert [r.name for r in load_geojson_zones(path).records] == ["Z"]


# --- the real file ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def firs() -> AirspaceImport:
    return load_geojson_zones(shared_file("airspace", "eurocontrol_firs.geojson"), FIR_LIMITS)


def test_all_58_firs_import_with_limits_for_large_zones(firs: AirspaceImport) -> None:
    assert len(firs.records) == 58
    assert firs.errors == ()
    assert {r.airspace_class for r in firs.records} == {"FIR"}
    upper_refs = [r.upper_ref for r in firs.records]
    assert upper_refs.count("unl") == 19  # UPPERLIMIT 999 FL
    assert upper_refs.count("fl") == 39


def test_fir_spot_checks(firs: AirspaceImport) -> None:
    by_name = {r.name: r for r in firs.records}
    switzerland = by_name["SWITZERLAND FIR"]
    assert (switzerland.lower_m, switzerland.upper_m) == (0.0, pytest.approx(19500 * FT))
    # Switzerland and Liechtenstein cover 41,445 km²; the FIR follows their borders.
    assert switzerland.footprint.area_m2 == pytest.approx(41_445e6, rel=0.05)
    yerevan = by_name["YEREVAN FIR"]
    assert yerevan.lower_m == pytest.approx(11500 * FT)
    assert yerevan.upper_m == UNLIMITED_M
    assert by_name["KYIV FIR"].lower_ref == "amsl"  # LOWERUNIT M
    assert by_name["SANTA MARIA OCEANIC FIR"].footprint.area_m2 == pytest.approx(5.129e12, rel=1e-3)


def test_default_limits_refuse_the_large_firs_one_by_one() -> None:
    result = load_geojson_zones(shared_file("airspace", "eurocontrol_firs.geojson"))
    assert (len(result.records), len(result.errors)) == (20, 38)
    assert all("more than the limit of 100,000 km²" in e.message for e in result.errors)

"""Zones from a GeoJSON FeatureCollection, one :class:`AirspaceRecord` per polygon.

Two forms of feature properties are read:

- EUROCONTROL airspace (e.g. FIRs): ``NAME``, ``TYPE``, ``LOWERLIMIT``/``LOWERUNIT``
  and ``UPPERLIMIT``/``UPPERUNIT`` with units ``FL``, ``FT`` or ``M`` above mean sea
  level; FL 999 means unlimited and becomes
  :data:`~deconfliction.feeds.airspace.UNLIMITED_M`;
- generic: ``name``, ``lower_m`` and ``upper_m`` (metres above mean sea level),
  optional ``class``, and optional ``start`` and ``end`` (ISO 8601 with a time zone)
  for one activation window.

Either form may give ``floor_m``: the ground elevation under the zone (metres, in the
traffic feeds' altitude reference), which the tracks service takes as the floor there
(see :mod:`deconfliction.notices.zones`).

A ``Polygon`` gives one record, a ``MultiPolygon`` one per polygon (same name; see
``origin.polygon``). Footprints are checked against ``limits``: FIRs are larger than
the default :class:`FootprintLimits` allows, so pass a larger one for them. A shape
that crosses the antimeridian is refused for its record only.

>>> zones = parse_geojson_zones({"type": "FeatureCollection", "features": [{
...     "type": "Feature",
...     "properties": {"name": "Range 7", "lower_m": 0, "upper_m": 3000},
...     "geometry": {"type": "Polygon",
...                  "coordinates": [[[8, 47], [8.1, 47], [8.1, 47.1], [8, 47]]]}}]})
>>> [(z.name, z.lower_m, z.upper_m, z.upper_ref) for z in zones.records]
[('Range 7', 0.0, 3000.0, 'amsl')]
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from deconfliction.core.footprint import Footprint, FootprintLimits
from deconfliction.core.units import MAX_ALTITUDE_M, MIN_ALTITUDE_M
from deconfliction.errors import GeometryError, ValidationError
from deconfliction.feeds.airspace import AirspaceImport, AirspaceRecord, Origin, RecordError
from deconfliction.feeds.limits import VerticalLimit, limit_from_value
from deconfliction.feeds.repair import Repair, RepairPolicy, repair_polygon

__all__ = ["load_geojson_zones", "parse_geojson_zones"]


def _features(document: Mapping[str, Any]) -> Sequence[Any]:
    kind = document.get("type")
    if kind == "FeatureCollection":
        features = document.get("features")
        if isinstance(features, Sequence) and not isinstance(features, str):
            return features
        raise ValidationError("the FeatureCollection has no list of features")
    if kind == "Feature":
        return [document]
    raise ValidationError(f"GeoJSON type {kind!r} holds no zones; give a FeatureCollection")


def _limits(properties: Mapping[str, Any]) -> tuple[VerticalLimit, VerticalLimit]:
    if "LOWERLIMIT" in properties or "UPPERLIMIT" in properties:
        return (
            limit_from_value(properties.get("LOWERLIMIT"), str(properties.get("LOWERUNIT"))),
            limit_from_value(properties.get("UPPERLIMIT"), str(properties.get("UPPERUNIT"))),
        )
    if "lower_m" in properties and "upper_m" in properties:
        return (
            limit_from_value(properties["lower_m"], "M"),
            limit_from_value(properties["upper_m"], "M"),
        )
    raise ValidationError(
        "the feature has no limits; give lower_m and upper_m (metres AMSL), or "
        "LOWERLIMIT/LOWERUNIT and UPPERLIMIT/UPPERUNIT"
    )


def _floor(properties: Mapping[str, Any]) -> float | None:
    """The feature's ``floor_m``, metres (``None`` when it gives none)."""
    value = properties.get("floor_m")
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not MIN_ALTITUDE_M <= value <= MAX_ALTITUDE_M
    ):
        raise ValidationError(
            f"floor_m {value!r} is not a number of metres from {MIN_ALTITUDE_M:,.0f} to "
            f"{MAX_ALTITUDE_M:,.0f}; give the ground elevation under the zone, or leave it out"
        )
    return float(value)


def _instant(value: Any, name: str) -> datetime:
    try:
        instant = datetime.fromisoformat(str(value))
    except ValueError:
        raise ValidationError(f"{name} {value!r} is not an ISO 8601 date and time") from None
    if instant.tzinfo is None:
        raise ValidationError(f"{name} {value!r} has no time zone; give it in UTC, with Z")
    return instant.astimezone(UTC)


def _activations(properties: Mapping[str, Any]) -> tuple[tuple[datetime, datetime], ...] | None:
    start, end = properties.get("start"), properties.get("end")
    if start is None and end is None:
        return None
    if start is None or end is None:
        raise ValidationError("give both start and end for an activation window, or neither")
    window = (_instant(start, "start"), _instant(end, "end"))
    if window[1] <= window[0]:
        raise ValidationError(f"end {end} is not after start {start}")
    return (window,)


def _polygons(geometry: Any) -> list[Any]:
    if not isinstance(geometry, Mapping):
        raise ValidationError("the feature has no geometry")
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    if kind not in ("Polygon", "MultiPolygon"):
        raise ValidationError(f"geometry type {kind!r} is not a zone; use Polygon or MultiPolygon")
    if not isinstance(coordinates, Sequence) or isinstance(coordinates, str) or not coordinates:
        raise ValidationError(f"the {kind} has no coordinates")
    return [coordinates] if kind == "Polygon" else list(coordinates)


def _name(properties: Mapping[str, Any]) -> str:
    return str(properties.get("name") or properties.get("NAME") or properties.get("IDENT") or "")


def _feature_records(
    index: int, feature: Any, limits: FootprintLimits, repair_policy: RepairPolicy | None
) -> tuple[list[AirspaceRecord], list[RecordError]]:
    properties = feature.get("properties") if isinstance(feature, Mapping) else None
    if not isinstance(properties, Mapping):
        properties = {}
    name = _name(properties)
    try:
        lower, upper = _limits(properties)
        if lower.metres >= upper.metres:
            raise ValidationError(
                f"lower limit {lower.metres:.0f} m is not below upper limit {upper.metres:.0f} m"
            )
        activations = _activations(properties)
        floor_m = _floor(properties)
        polygons = _polygons(feature.get("geometry") if isinstance(feature, Mapping) else None)
    except ValidationError as error:
        return [], [RecordError(Origin(feature=index), name, error.message)]
    records: list[AirspaceRecord] = []
    errors: list[RecordError] = []
    several = len(polygons) > 1
    for part, rings in enumerate(polygons):
        origin = Origin(feature=index, polygon=part if several else None)
        try:
            if not isinstance(rings, Sequence) or isinstance(rings, str) or not rings:
                raise ValidationError("a polygon needs a list of rings")
            footprint, repair = _footprint(rings[0], rings[1:], limits, repair_policy)
        except ValidationError as error:
            errors.append(RecordError(origin, name, error.message))
            continue
        kind = properties.get("TYPE")
        records.append(
            AirspaceRecord(
                name=name,
                airspace_class=str(properties.get("class") or kind or ""),
                lower_m=lower.metres,
                lower_ref=lower.reference,
                upper_m=upper.metres,
                upper_ref=upper.reference,
                footprint=footprint,
                origin=origin,
                kind=None if kind is None else str(kind),
                activations=activations,
                repair=repair,
                floor_m=floor_m,
            )
        )
    return records, errors


def _footprint(
    exterior: Any, holes: Any, limits: FootprintLimits, policy: RepairPolicy | None
) -> tuple[Footprint, Repair | None]:
    try:
        return Footprint.polygon(exterior, holes, limits), None
    except GeometryError as refusal:
        if policy is None:
            raise
        return repair_polygon(exterior, holes, refusal, policy, limits)


def parse_geojson_zones(
    document: Mapping[str, Any],
    limits: FootprintLimits | None = None,
    repair: RepairPolicy | None = None,
) -> AirspaceImport:
    """The zones of a GeoJSON FeatureCollection (or one Feature). A feature or polygon
    that fails a check is reported in ``errors`` and the others are still read. A ring
    that crosses itself is repaired within ``repair`` (see
    :mod:`deconfliction.feeds.repair`), or refused when it is ``None``."""
    limits = limits or FootprintLimits()
    records: list[AirspaceRecord] = []
    errors: list[RecordError] = []
    for index, feature in enumerate(_features(document)):
        good, bad = _feature_records(index, feature, limits, repair)
        records.extend(good)
        errors.extend(bad)
    return AirspaceImport(tuple(records), tuple(errors))


def load_geojson_zones(
    path: str | Path, limits: FootprintLimits | None = None, repair: RepairPolicy | None = None
) -> AirspaceImport:
    """:func:`parse_geojson_zones` on a UTF-8 GeoJSON file."""
    document = json.loads(Path(path).read_text(encoding="utf-8"), parse_constant=_no_constant)
    if not isinstance(document, Mapping):
        raise ValidationError("the file is not a GeoJSON object")
    return parse_geojson_zones(document, limits, repair)


def _no_constant(name: str) -> float:
    if name in ("NaN", "Infinity", "-Infinity"):
        raise ValidationError(f"the file holds {name}, which is not JSON; remove it")
    return math.nan

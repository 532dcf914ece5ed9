"""F3548 wire types in and out: JSON of ``uas_standards.astm.f3548.v21.api`` <-> the core.

Parsing is strict where the standard is (units ``M``, altitude reference ``W84``, time
format ``RFC3339``, latitudes and longitudes in range, a circle or a polygon but not
both); any fault is a :class:`~deconfliction.errors.ValidationError` naming the field,
which the DSS answers with 400.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from deconfliction.core.footprint import Footprint, FootprintLimits
from deconfliction.core.volume import MAX_ALTITUDE_M, MIN_ALTITUDE_M, Volume4D
from deconfliction.errors import ValidationError

__all__ = [
    "EARLIEST",
    "LATEST",
    "MAX_AREA_M2",
    "Area",
    "check_entity_id",
    "check_url",
    "parse_area",
    "parse_time",
    "parse_volumes",
    "time_json",
    "union_shape",
]

MAX_AREA_M2 = 2_500e6
"""The largest footprint of an F3548 request, m² (the InterUSS DSS's 2,500 km²)."""
MAX_VERTICES = 1_000
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)
_LIMITS = FootprintLimits(MAX_AREA_M2, MAX_VERTICES)
_POLAR_LAT = 89.99  # the core's circles stop short of the poles
_METRES_PER_DEGREE_MIN = 110_574.0  # a degree of latitude at its shortest
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def check_entity_id(value: str, what: str = "entity id") -> str:
    """An entity or subscription id: a UUID in its 8-4-4-4-12 hex form."""
    if not _UUID.match(value):
        raise ValidationError(f"{what} {value!r} is not a UUID (8-4-4-4-12 hex digits)")
    return value.lower()


def check_url(value: object, where: str) -> str:
    """A USS base URL: an https URL."""
    if not isinstance(value, str) or not value.startswith("https://") or len(value) > 2_000:
        raise ValidationError(f"{where} must be an https:// URL, not {value!r}")
    return value


def _object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValidationError(f"{where} must be a JSON object, not {value!r}")
    return value


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(f"{where} must be a number, not {value!r}")
    return float(value)


def parse_time(value: object, where: str) -> datetime:
    """An F3548 ``Time``: ``{"value": RFC 3339 text, "format": "RFC3339"}``."""
    time = _object(value, where)
    if time.get("format", "RFC3339") != "RFC3339":
        raise ValidationError(f"{where}.format must be RFC3339, not {time.get('format')!r}")
    text = time.get("value")
    if not isinstance(text, str) or not _RFC3339.match(text):
        raise ValidationError(
            f"{where}.value must be an RFC 3339 time such as 2026-03-02T08:00:00Z, not {text!r}"
        )
    try:
        return datetime.fromisoformat(text.upper().replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        raise ValidationError(f"{where}.value {text!r} is not a valid time") from None


def time_json(value: datetime) -> dict[str, str]:
    """An F3548 ``Time`` for a UTC datetime."""
    return {"value": value.astimezone(UTC).isoformat().replace("+00:00", "Z"), "format": "RFC3339"}


def _altitude(value: object, where: str) -> float:
    altitude = _object(value, where)
    if altitude.get("reference") != "W84":
        raise ValidationError(f"{where}.reference must be W84, not {altitude.get('reference')!r}")
    if altitude.get("units") != "M":
        raise ValidationError(f"{where}.units must be M, not {altitude.get('units')!r}")
    metres = _number(altitude.get("value"), f"{where}.value")
    if not MIN_ALTITUDE_M <= metres <= MAX_ALTITUDE_M:
        raise ValidationError(f"{where}.value {metres} m is out of range")
    return metres


def _point(value: object, where: str) -> tuple[float, float]:
    point = _object(value, where)
    lat = _number(point.get("lat"), f"{where}.lat")
    lng = _number(point.get("lng"), f"{where}.lng")
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lng <= 180.0):
        raise ValidationError(f"{where}: lat {lat}, lng {lng} is outside [-90, 90] x [-180, 180]")
    return lng, lat


def _polar_cap(lat: float, reach_deg: float) -> Footprint:
    """A circle that reaches a pole, as the cap of every longitude beyond its nearest
    latitude (it contains the circle)."""
    edge = max(0.0, abs(lat) - reach_deg)
    if edge >= _POLAR_LAT - 0.01:
        edge = _POLAR_LAT - 0.01
    pole = 90.0 if lat > 0 else -90.0
    edge = edge if lat > 0 else -edge
    lons = [-180.0, -90.0, 0.0, 90.0, 180.0]  # edges short of half the globe each
    ring = [(x, edge) for x in lons] + [(x, pole) for x in reversed(lons)] + [(-180.0, edge)]
    return Footprint.polygon(ring, limits=FootprintLimits(math.inf, MAX_VERTICES))


def _footprint(value: object, where: str) -> Footprint:
    volume = _object(value, where)
    polygon, circle = volume.get("outline_polygon"), volume.get("outline_circle")
    if (polygon is None) == (circle is None):
        raise ValidationError(f"{where} needs exactly one of outline_polygon and outline_circle")
    if circle is not None:
        c = _object(circle, f"{where}.outline_circle")
        lon, lat = _point(c.get("center"), f"{where}.outline_circle.center")
        radius = _object(c.get("radius"), f"{where}.outline_circle.radius")
        if radius.get("units") != "M":
            raise ValidationError(f"{where}.outline_circle.radius.units must be M")
        metres = _number(radius.get("value"), f"{where}.outline_circle.radius.value")
        reach_deg = metres / _METRES_PER_DEGREE_MIN
        if metres > 0 and abs(lat) + reach_deg >= _POLAR_LAT:
            return _polar_cap(lat, reach_deg)
        return Footprint.circle_at(lon, lat, metres, _LIMITS)
    vertices = _object(polygon, f"{where}.outline_polygon").get("vertices")
    if not isinstance(vertices, list) or len(vertices) < 3:
        raise ValidationError(f"{where}.outline_polygon.vertices needs 3 or more points")
    ring = [_point(v, f"{where}.outline_polygon.vertices[{i}]") for i, v in enumerate(vertices)]
    if ring[0] != ring[-1]:
        ring.append(ring[0])
    return Footprint.polygon(ring, limits=_LIMITS)


@dataclass(frozen=True)
class Area:
    """An area of interest: a footprint, an altitude band and a time window, each
    unbounded where the request left it out."""

    volume: Volume4D

    @property
    def shape(self) -> BaseGeometry:
        return self.volume.footprint.shape


def _volume(value: object, where: str, *, need_times: bool) -> Volume4D:
    v4 = _object(value, where)
    v3 = _object(v4.get("volume"), f"{where}.volume")
    footprint = _footprint(v3, f"{where}.volume")
    lower = v3.get("altitude_lower")
    upper = v3.get("altitude_upper")
    lower_m = MIN_ALTITUDE_M if lower is None else _altitude(lower, f"{where}.altitude_lower")
    upper_m = MAX_ALTITUDE_M if upper is None else _altitude(upper, f"{where}.altitude_upper")
    times = {}
    for key in ("time_start", "time_end"):
        if v4.get(key) is None:
            if need_times:
                raise ValidationError(f"{where}.{key} is required")
            continue
        times[key] = parse_time(v4[key], f"{where}.{key}")
    start = times.get("time_start", EARLIEST)
    end = times.get("time_end", LATEST)
    if end < start or (end == start and need_times):
        raise ValidationError(f"{where}: time_end {end.isoformat()} is not after time_start")
    if end == start:  # an instant: the window of one millisecond from it
        end += timedelta(milliseconds=1)
    if upper_m < lower_m:
        raise ValidationError(f"{where}: altitude_upper is below altitude_lower")
    if upper_m == lower_m:  # a flat band still occupies its level
        upper_m += 0.001
    return Volume4D(footprint, lower_m, upper_m, start, end)


def parse_area(value: object, where: str = "area_of_interest") -> Area:
    """An area of interest (``Volume4D`` whose times and altitudes may be left out)."""
    if value is None:
        raise ValidationError(f"{where} is required")
    return Area(_volume(value, where, need_times=False))


def parse_volumes(value: object, where: str = "extents") -> tuple[Volume4D, ...]:
    """The ``extents`` of an entity: one or more ``Volume4D`` with both times."""
    if not isinstance(value, list) or not value:
        raise ValidationError(f"{where} must be a non-empty list of Volume4D")
    if len(value) > 100:
        raise ValidationError(f"{where} has {len(value)} volumes; at most 100")
    return tuple(_volume(v, f"{where}[{i}]", need_times=True) for i, v in enumerate(value))


def union_shape(volumes: tuple[Volume4D, ...]) -> BaseGeometry:
    """The union of the volumes' footprints."""
    return shapely.union_all([v.footprint.shape for v in volumes])

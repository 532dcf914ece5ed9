"""OpenAIR airspace files, standard and extended, to :class:`AirspaceRecord` s.

Each airspace starts with ``AC`` (its class) and goes on with ``AN`` (name), ``AL`` /
``AH`` (lower and upper limits, see :mod:`deconfliction.feeds.limits`), and its
outline: ``DP`` points, ``DB`` arcs between two points, ``DA`` arcs by radius (NM) and
azimuths, or one ``DC`` circle (radius in NM), arcs and circles drawn around the last
``V X=`` centre in the ``V D=`` direction (``+`` clockwise, the default; both reset for
each airspace). The extended format adds ``AY`` (type) and ``AA`` activation windows
(``AA 2023-05-28T12:00Z/2023-05-28T20:00Z``, ``NONE`` for an unknown start or end,
``AA NONE`` for none yet, which overrides the others). Text after ``*`` is a
comment. An outline that comes back to its own vertices is read as
:mod:`deconfliction.feeds.rings` says (a keyhole around a hole, a spike dropped).
``AF``, ``AG``, ``AT``, ``AI``, ``AX``, ``SP``, ``SB``, ``V Z=`` and unknown records
draw nothing and are counted in :attr:`AirspaceImport.ignored`; airways (``DY``,
``V W=``) would draw something this importer does not, so they fail their record.

Coordinates are degrees, minutes and seconds in the forms found in real files:
``43:12:30 N 005:30:00 E``, ``45:37:56N 13:55:08E``, ``46:27:05.5 N 006:04:42.2 E``,
and decimal minutes or degrees (``43:12.5N``, ``43.2083N``).

>>> result = parse_openair('''
... AC R
... AN LF-R 999 EXAMPLE H24
... AL GND
... AH FL65
... V X=45:00:00 N 005:00:00 E
... DC 2
... ''')
>>> [(r.name, r.airspace_class, r.upper_m, r.upper_ref, r.activation_hint) for r in result.records]
[('LF-R 999 EXAMPLE H24', 'R', 1981.2, 'fl', 'H24')]
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from deconfliction.core.footprint import Footprint, FootprintLimits
from deconfliction.core.units import NAUTICAL_MILE_M
from deconfliction.errors import GeometryError, ValidationError
from deconfliction.feeds.airspace import (
    OPEN_END,
    OPEN_START,
    AirspaceImport,
    AirspaceRecord,
    Origin,
    RecordError,
)
from deconfliction.feeds.arcs import arc_between, arc_by_angles
from deconfliction.feeds.limits import VerticalLimit, parse_limit
from deconfliction.feeds.repair import Repair, RepairPolicy, repair_polygon
from deconfliction.feeds.rings import shell_and_holes

__all__ = ["activation_hint", "load_openair", "parse_coordinate", "parse_openair"]

_ANGLE = r"\d+(?:\.\d+)?(?::\d+(?:\.\d+)?){0,2}"
_COORDINATE = rf"({_ANGLE})\s*([NS])\s*,?\s*({_ANGLE})\s*([EW])"
_POINT = re.compile(rf"\s*{_COORDINATE}\s*", re.IGNORECASE)
_TWO_POINTS = re.compile(rf"\s*{_COORDINATE}\s*,\s*{_COORDINATE}\s*", re.IGNORECASE)
_DAY = r"(?:MON|TUE|WED|THU|FRI|SAT|SUN|MO|TU|WE|TH|FR|SA|SU)"
_HINT = re.compile(rf"\b(?:H24|HX|HJ|HN|NOTAM|{_DAY}-{_DAY}\+?)(?![\w-])", re.IGNORECASE)
_VARIABLE = re.compile(r"V(?:[A-Z]=.*)?\Z")
_DRAWS_NOTHING = {"AF", "AG", "AT", "AI", "AX", "SP", "SB"}
_END_OF_DAY = re.compile(r"(\d{4}-\d{2}-\d{2})T24:00(?::00)?(Z|[+-]\d{2}:?\d{2})", re.IGNORECASE)


def parse_coordinate(text: str) -> tuple[float, float]:
    """One OpenAIR position as (lon, lat) degrees.

    >>> parse_coordinate("43:12:30 N 005:30:00 W")
    (-5.5, 43.208333333333336)
    """
    match = _POINT.fullmatch(text)
    if match is None:
        raise ValidationError(
            f"cannot read the position {text.strip()!r}; write it as 43:12:30 N 005:30:00 E"
        )
    return _position(match.groups())


def _position(groups: tuple[str | None, ...]) -> tuple[float, float]:
    lat = _degrees(groups[0] or "", 90.0) * (-1.0 if (groups[1] or "").upper() == "S" else 1.0)
    lon = _degrees(groups[2] or "", 180.0) * (-1.0 if (groups[3] or "").upper() == "W" else 1.0)
    return lon, lat


def _degrees(text: str, bound: float) -> float:
    parts = [float(p) for p in text.split(":")]
    if any(p >= 60.0 for p in parts[1:]):
        raise ValidationError(f"{text} has minutes or seconds of 60 or more")
    value = sum(p / 60.0**k for k, p in enumerate(parts))
    if value > bound:
        raise ValidationError(f"{text} is more than {bound:.0f} degrees")
    return value


def activation_hint(name: str) -> str | None:
    """Activation words in an airspace name (``H24``, ``HX``, ``NOTAM``, ``MON-FRI+``…),
    in upper case and in order, or ``None``.

    >>> activation_hint("ZRT DSV ROMORANTIN D activation NOTAM MON-FRI except HOL")
    'NOTAM MON-FRI'
    """
    found = [m.upper() for m in _HINT.findall(name)]
    return " ".join(dict.fromkeys(found)) or None


@dataclass
class _Draft:
    """An airspace being read: what its lines said so far."""

    line: int
    airspace_class: str
    name: str = ""
    kind: str | None = None
    lower: VerticalLimit | None = None
    upper: VerticalLimit | None = None
    activations: list[tuple[datetime, datetime]] | None = None
    inactive: bool = False
    ring: list[tuple[float, float]] = field(default_factory=list)
    circle: tuple[float, float, float] | None = None
    centre: tuple[float, float] | None = None
    clockwise: bool = True
    error: str | None = None

    def fail(self, line: int, message: str) -> None:
        if self.error is None:
            self.error = f"line {line}: {message}"


class _Reader:
    def __init__(self, limits: FootprintLimits, repair: RepairPolicy | None) -> None:
        self.limits = limits
        self.repair = repair
        self.records: list[AirspaceRecord] = []
        self.errors: list[RecordError] = []
        self.ignored: Counter[str] = Counter()
        self.draft: _Draft | None = None

    def read(self, text: str) -> AirspaceImport:
        for number, raw in enumerate(text.removeprefix("\ufeff").split("\n"), start=1):
            content = raw.split("*", 1)[0].strip()
            if content:
                self.line(number, content)
        self.finish()
        return AirspaceImport(tuple(self.records), tuple(self.errors), dict(self.ignored))

    def line(self, number: int, content: str) -> None:
        code, _, rest = content.partition(" ")
        code, rest = code.upper(), rest.strip()
        if _VARIABLE.match(code):
            code, rest = "V", content[1:].strip()
        if code == "AC":
            self.finish()
            self.draft = _Draft(number, rest)
            return
        if code in _DRAWS_NOTHING:
            self.ignored[code] += 1
            return
        draft = self.draft
        if draft is None:
            if code in {"AN", "AY", "AL", "AH", "AA", "DP", "DB", "DA", "DC", "DY", "V"}:
                self.errors.append(
                    RecordError(
                        Origin(line=number),
                        "",
                        f"{code} record outside any airspace; start each airspace with AC",
                    )
                )
            else:
                self.ignored[code] += 1
            return
        try:
            self.record(draft, number, code, rest)
        except ValidationError as error:
            draft.fail(number, error.message)

    def record(self, draft: _Draft, number: int, code: str, rest: str) -> None:
        if code == "AN":
            draft.name = rest
        elif code == "AY":
            draft.kind = rest or None
        elif code == "AL":
            draft.lower = parse_limit(rest)
        elif code == "AH":
            draft.upper = parse_limit(rest)
        elif code == "AA":
            if draft.activations is None:
                draft.activations = []
            if rest.upper() == "NONE":
                draft.inactive = True
            else:
                draft.activations.append(_window(rest))
        elif code == "V":
            self.variable(draft, rest)
        elif code == "DP":
            self.outline(draft).append(parse_coordinate(rest))
        elif code == "DB":
            match = _TWO_POINTS.fullmatch(rest)
            if match is None:
                raise ValidationError(
                    f"cannot read the arc {rest!r}; write DB lat1 lon1, lat2 lon2"
                )
            start, end = _position(match.groups()[:4]), _position(match.groups()[4:])
            centre = self.centre(draft, "DB")
            self.outline(draft).extend(
                arc_between(centre[0], centre[1], start, end, draft.clockwise)
            )
        elif code == "DA":
            radius_nm, start_deg, end_deg = _numbers(rest, 3, "DA radius, start angle, end angle")
            centre = self.centre(draft, "DA")
            self.outline(draft).extend(
                arc_by_angles(
                    centre[0],
                    centre[1],
                    radius_nm * NAUTICAL_MILE_M,
                    start_deg,
                    end_deg,
                    draft.clockwise,
                )
            )
        elif code == "DC":
            (radius_nm,) = _numbers(rest, 1, "DC radius in nautical miles")
            centre = self.centre(draft, "DC")
            if draft.circle is not None or draft.ring:
                raise ValidationError("a DC circle must be the airspace's only outline")
            draft.circle = (centre[0], centre[1], radius_nm * NAUTICAL_MILE_M)
        elif code == "DY":
            raise ValidationError("airways (DY) are not supported; draw the airway as DP points")
        else:
            self.ignored[code] += 1

    def variable(self, draft: _Draft, rest: str) -> None:
        key, _, value = rest.partition("=")
        key, value = key.strip().upper(), value.strip()
        if key == "X":
            draft.centre = parse_coordinate(value)
        elif key == "D":
            if value not in {"+", "-"}:
                raise ValidationError(f"V D={value} is not a direction; write V D=+ or V D=-")
            draft.clockwise = value == "+"
        elif key == "W":
            raise ValidationError("airway widths (V W=) are not supported; draw the airway as DP")
        else:
            self.ignored[f"V {key}"] += 1

    @staticmethod
    def centre(draft: _Draft, code: str) -> tuple[float, float]:
        if draft.centre is None:
            raise ValidationError(f"{code} needs a centre; put a V X= line before it")
        return draft.centre

    @staticmethod
    def outline(draft: _Draft) -> list[tuple[float, float]]:
        if draft.circle is not None:
            raise ValidationError("a DC circle must be the airspace's only outline")
        return draft.ring

    def finish(self) -> None:
        draft, self.draft = self.draft, None
        if draft is None:
            return
        origin = Origin(line=draft.line)
        try:
            record = self.build(draft, origin)
        except ValidationError as error:
            self.errors.append(RecordError(origin, draft.name, error.message))
            return
        self.records.append(record)

    def build(self, draft: _Draft, origin: Origin) -> AirspaceRecord:
        if draft.error is not None:
            raise ValidationError(draft.error)
        if draft.lower is None or draft.upper is None:
            missing = "AL (lower limit)" if draft.lower is None else "AH (upper limit)"
            raise ValidationError(f"the airspace has no {missing} line")
        if draft.lower.metres >= draft.upper.metres:
            raise ValidationError(
                f"lower limit {draft.lower.metres:.0f} m ({draft.lower.reference}) is not "
                f"below upper limit {draft.upper.metres:.0f} m ({draft.upper.reference})"
            )
        footprint, repair = self.footprint(draft)
        return AirspaceRecord(
            name=draft.name,
            airspace_class=draft.airspace_class,
            lower_m=draft.lower.metres,
            lower_ref=draft.lower.reference,
            upper_m=draft.upper.metres,
            upper_ref=draft.upper.reference,
            footprint=footprint,
            origin=origin,
            kind=draft.kind,
            activations=(
                None
                if draft.activations is None
                else ()
                if draft.inactive
                else tuple(draft.activations)
            ),
            activation_hint=activation_hint(draft.name),
            repair=repair,
        )

    def footprint(self, draft: _Draft) -> tuple[Footprint, Repair | None]:
        if draft.circle is not None:
            return Footprint.circle_at(*draft.circle, limits=self.limits), None
        if not draft.ring:
            raise ValidationError("the airspace has no outline; give DP points or a DC circle")
        ring = list(draft.ring)
        if ring[0] != ring[-1]:
            ring.append(ring[0])
        try:
            return Footprint.polygon(ring, limits=self.limits), None
        except GeometryError as error:
            refusal = error
        nested = shell_and_holes(ring)
        if nested is not None:
            try:
                return Footprint.polygon(nested[0], nested[1], limits=self.limits), None
            except GeometryError:
                pass
        if self.repair is None:
            raise refusal
        return repair_polygon(ring, [], refusal, self.repair, self.limits)


def _numbers(text: str, count: int, form: str) -> list[float]:
    parts = [p.strip() for p in text.split(",")]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != count:
        raise ValidationError(f"cannot read {text!r}; write {form}")
    return values


def _instant(text: str, open_value: datetime, problem: ValidationError) -> datetime:
    text = text.strip()
    if text.upper() == "NONE":
        return open_value
    match = _END_OF_DAY.fullmatch(text)
    try:
        if match is not None:
            instant = datetime.fromisoformat(f"{match[1]}T00:00{match[2]}") + timedelta(days=1)
        else:
            instant = datetime.fromisoformat(text)
    except ValueError:
        raise problem from None
    if instant.tzinfo is None:
        raise problem
    return instant.astimezone(UTC)


def _window(text: str) -> tuple[datetime, datetime]:
    """An ``AA`` interval in UTC; ``NONE`` for an unknown start or end, ``T24:00`` for
    the end of a day."""
    problem = ValidationError(
        f"cannot read the activation window {text!r}; write "
        "AA 2023-05-28T12:00Z/2023-05-28T20:00Z (UTC), with NONE for an unknown start "
        "or end, or AA NONE"
    )
    start_text, slash, end_text = text.partition("/")
    if not slash:
        raise problem
    start = _instant(start_text, OPEN_START, problem)
    end = _instant(end_text, OPEN_END, problem)
    if end <= start:
        raise ValidationError(f"activation window {text!r} ends before it starts")
    return start, end


def parse_openair(
    text: str, limits: FootprintLimits | None = None, repair: RepairPolicy | None = None
) -> AirspaceImport:
    """Every airspace in an OpenAIR text; line ends LF or CRLF. Footprints are checked
    against ``limits`` (default :class:`FootprintLimits`); a record that fails any
    check is reported in ``errors`` and the others are still read. An outline that
    crosses itself is repaired within ``repair`` (see
    :mod:`deconfliction.feeds.repair`), or refused when it is ``None``."""
    return _Reader(limits or FootprintLimits(), repair).read(text)


def load_openair(
    path: str | Path, limits: FootprintLimits | None = None, repair: RepairPolicy | None = None
) -> AirspaceImport:
    """:func:`parse_openair` on a file, read as UTF-8, or Latin-1 when it is not UTF-8."""
    data = Path(path).read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return parse_openair(text, limits, repair)

"""Zones: an authority's standing areas, read from OpenAIR or GeoJSON, filed as its notices.

Authorities file their standing areas (restricted, danger and prohibited areas, TMAs,
FIRs) as notices, so every other party's notice that meets one gets a conflict with the
authority, and, under an agreement that says so, needs its approval (see
:mod:`deconfliction.notices.lifecycle`). An import goes in two steps:

1. :func:`plan_zones` (pure) turns each :class:`~deconfliction.feeds.AirspaceRecord`
   of a :class:`ZoneFile` into notice drafts under :class:`ZoneRules`, or says why it
   is skipped;
2. :func:`file_zones` files the drafts through :meth:`NoticeService.file` as the
   authority, one notice (one transaction) per zone, or several when its windows are
   more than a notice may hold, and reports each outcome.

Decisions (``deconfliction zones import --help`` says the same):

* **Time.** The import covers a horizon ``[start, start + days)`` (default: from the
  start of the current UTC day, 365 days). A zone without a schedule stands for the
  whole horizon. A zone with activation windows gets one volume per window, clipped to
  the horizon (an open start or end is clipped to it too); one whose windows all fall
  outside it is skipped. A zone marked ``AA NONE`` (no activation yet, e.g. announced
  by NOTAM) is skipped and reported: file it when its schedule comes. A zone repeated
  in the file (same name, class, outline, band and windows) is filed once.
* **Ceilings above ground.** The feeds take the ground as 0 m above mean sea level. A
  ceiling given above ground (``AGL``, ``SFC``) is raised by a terrain margin
  (:data:`DEFAULT_AGL_MARGIN_M`, 8,849 m, the summit of Mount Everest, unless the user
  gives the highest terrain of the zones' region), so the zone is never lower than it
  really is and no conflict is missed; the cost is conflicts above low zones in flat
  country, which a regional margin removes. Floors above ground stay at their height
  above 0 m: lower is conservative (unless the zone gives its ground: see Floors).
  Unlimited ceilings keep :data:`~deconfliction.feeds.UNLIMITED_M`.
* **Floors.** A zone may give the ground elevation under it (``floor_m``, metres in
  the traffic feeds' altitude reference: a GeoJSON property), and ``--floor-m``
  (:attr:`ZoneRules.floor_m`) gives one to every zone whose lower limit is the surface
  (``GND``, ``SFC``) and which gives none itself: an authority declaring the field
  elevation of its CTRs. The tracks service predicts no aircraft inside the zone below
  it (:mod:`deconfliction.tracks.zone_floors`). A zone with a floor stands on that
  ground: a lower limit given above ground is raised by the floor (``GND`` becomes the
  floor), a ceiling above ground by the floor where that is more than the terrain
  margin; a floor above a lower limit given above mean sea level (or as a flight level)
  is an error of that zone. The floor is part of the zone's content: importing again
  with another floor files the zones anew.
* **Size.** Footprints are validated against :data:`DEFAULT_ZONE_MAX_AREA_M2` (10
  million km²: the largest European FIR, Santa Maria Oceanic, is 5.1 million) instead
  of the 100,000 km² that notices of operators are held to. Zones are filed as
  ``standing`` notices (airspace structure), which are exempt from the largest
  footprint an agreement allows (``max_footprint_area_m2``), from the notice horizon
  and longest window, and from the quota of live notices (see
  :mod:`deconfliction.notices.reach`): an FIR is filed as it is.
* **Re-import.** Each notice is filed with an ``Idempotency-Key`` derived from its
  draft (title and volumes): importing the same file again with the same horizon and
  margin files nothing new (each zone reads as already filed), and a new edition of a
  file files only the zones that changed. Zones changed or dropped by the new edition
  stay live under their old notices until cancelled; a different horizon files the
  zones again, as new notices. A zone whose notice was cancelled or has closed also
  reads as already filed: import it with another horizon to file it anew.
* **Who.** Only a party of role ``authority`` imports zones.
* **Standing.** Each notice is marked ``standing`` (airspace structure, not planned
  activity), which the API shows and the console draws as a layer of its own.

>>> from deconfliction.feeds import parse_openair
>>> text = '''
... AC UNC
... AY R
... AN LJR9 EXAMPLE
... AL GND
... AH 1000FT AGL
... AA 2025-06-10T18:00Z/2025-06-10T22:00Z
... AA 2025-08-01T08:00Z/NONE
... V X=45:38:30 N 014:18:20 E
... DC 2
... '''
>>> source = ZoneFile("example.openair", ZoneFormat.OPENAIR, parse_openair(text))
>>> rules = ZoneRules(Horizon.starting(datetime(2025, 6, 1, tzinfo=UTC), 92), 2_864.0)
>>> (zone,) = plan_zones(source, rules).zones
>>> [(v.start.isoformat(), v.end.isoformat()) for v in zone.draft.volumes]
[('2025-06-10T18:00:00+00:00', '2025-06-10T22:00:00+00:00'), \
('2025-08-01T08:00:00+00:00', '2025-09-01T00:00:00+00:00')]
>>> [(v.lower_m, round(v.upper_m, 1)) for v in zone.draft.volumes][0]   # 1000 ft AGL + 2,864 m
(0.0, 3168.8)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from deconfliction.core.footprint import FootprintLimits
from deconfliction.core.units import MAX_ALTITUDE_M, MIN_ALTITUDE_M, Metres
from deconfliction.core.volume import Volume4D
from deconfliction.errors import DeconflictionError, PermissionDeniedError, ValidationError
from deconfliction.feeds import (
    UNLIMITED_M,
    AirspaceImport,
    AirspaceRecord,
    RecordError,
    load_geojson_zones,
    load_openair,
)
from deconfliction.feeds.repair import RepairPolicy
from deconfliction.notices.model import NoticeDraft
from deconfliction.notices.service import NoticeService, request_hash
from deconfliction.parties import PartyRef, Role

__all__ = [
    "DEFAULT_AGL_MARGIN_M",
    "DEFAULT_HORIZON_DAYS",
    "DEFAULT_ZONE_MAX_AREA_M2",
    "FiledZone",
    "FilingOutcome",
    "Horizon",
    "SkipReason",
    "SkippedZone",
    "ZoneDraft",
    "ZoneFile",
    "ZoneFormat",
    "ZonePlan",
    "ZoneReport",
    "ZoneRules",
    "check_authority",
    "file_zones",
    "idempotency_key",
    "plan_zones",
    "read_zone_file",
    "start_of_day",
]

DEFAULT_HORIZON_DAYS = 365
DEFAULT_AGL_MARGIN_M: Metres = 8_849.0
"""The summit of Mount Everest: the highest terrain anywhere, so a ceiling above ground
raised by it is never below the true one, wherever the zone is."""
DEFAULT_ZONE_MAX_AREA_M2 = 10_000_000e6
"""10 million km²: room for every European FIR (the largest, Santa Maria Oceanic, is
5.1 million km²)."""
_TITLE_LENGTH = 200  # notices.title is VARCHAR(200)


class ZoneFormat(StrEnum):
    OPENAIR = "openair"
    GEOJSON = "geojson"
    AUTO = "auto"
    """From the file name (``.geojson``/``.json``), else from its first character."""


@dataclass(frozen=True)
class ZoneFile:
    """An airspace file as read: its name, format and the records and errors in it."""

    name: str
    format: ZoneFormat
    airspace: AirspaceImport


def read_zone_file(
    path: str | Path,
    fmt: ZoneFormat = ZoneFormat.AUTO,
    limits: FootprintLimits | None = None,
    repair: RepairPolicy | None = None,
) -> ZoneFile:
    """Read an OpenAIR or GeoJSON file of zones; footprints are checked against
    ``limits`` (default: :data:`DEFAULT_ZONE_MAX_AREA_M2`); a crossed outline is
    repaired within ``repair``, refused when it is ``None``. A file that cannot be read
    at all raises :class:`ValidationError`; a bad record is reported among the errors."""
    path = Path(path)
    limits = limits or FootprintLimits(max_area_m2=DEFAULT_ZONE_MAX_AREA_M2)
    try:
        if fmt == ZoneFormat.AUTO:
            fmt = _guess_format(path)
        if fmt == ZoneFormat.GEOJSON:
            airspace = load_geojson_zones(path, limits, repair)
        else:
            airspace = load_openair(path, limits, repair)
    except OSError as exc:
        raise ValidationError(
            f"cannot read {path}: {exc.strerror or exc}; check the path and its permissions"
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError(
            f"{path} is not a GeoJSON file ({exc}); give a FeatureCollection in UTF-8, "
            "or --format openair for an OpenAIR file"
        ) from None
    return ZoneFile(path.name, fmt, airspace)


def _guess_format(path: Path) -> ZoneFormat:
    if path.suffix.lower() in (".geojson", ".json"):
        return ZoneFormat.GEOJSON
    with path.open("rb") as handle:
        head = handle.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    return ZoneFormat.GEOJSON if head.startswith(b"{") else ZoneFormat.OPENAIR


def start_of_day(moment: datetime) -> datetime:
    """00:00 UTC of the day of ``moment``: the default start of an import's horizon, so
    that the same import run twice on one day plans the same notices."""
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class Horizon:
    """The time an import covers, ``[start, end)`` in UTC."""

    start: datetime
    end: datetime

    @classmethod
    def starting(cls, start: datetime, days: float) -> Horizon:
        """``days`` days from ``start`` (which must carry a time zone)."""
        if start.tzinfo is None:
            raise ValidationError(
                f"the horizon start {start.isoformat()} has no time zone; give it in UTC, "
                f"e.g. {start.isoformat()}Z"
            )
        if not days > 0:
            raise ValidationError(f"the horizon must be at least one day long, not {days} days")
        start = start.astimezone(UTC)
        try:
            end = start + timedelta(days=days)
        except OverflowError:
            raise ValidationError(
                f"{days} days from {start.isoformat()} is past year 9999"
            ) from None
        return cls(start, end)

    def clip(self, start: datetime, end: datetime) -> tuple[datetime, datetime] | None:
        """``[start, end)`` cut to the horizon, or ``None`` when nothing is left."""
        start, end = max(start, self.start), min(end, self.end)
        return (start, end) if start < end else None


@dataclass(frozen=True)
class ZoneRules:
    """How records become notices: the horizon, the terrain margin for ceilings above
    ground (metres), the classes kept (``None``: all; a record is kept when its class or
    its type, OpenAIR ``AY`` or GeoJSON ``TYPE``, is listed), the most volumes in one
    notice (a zone with more windows is filed as several notices) and the floor of the
    zones whose lower limit is the surface and which give none (``None``: none)."""

    horizon: Horizon
    agl_margin_m: Metres = DEFAULT_AGL_MARGIN_M
    classes: frozenset[str] | None = None
    max_volumes: int = 100
    floor_m: Metres | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.agl_margin_m <= UNLIMITED_M:
            raise ValidationError(
                f"the terrain margin must be 0 to {UNLIMITED_M:,.0f} m, not {self.agl_margin_m} m; "
                "give the highest terrain of the zones' region"
            )
        if self.max_volumes < 1:
            raise ValidationError("a notice holds at least one volume")
        if self.floor_m is not None and not MIN_ALTITUDE_M <= self.floor_m <= MAX_ALTITUDE_M:
            raise ValidationError(
                f"the floor must be {MIN_ALTITUDE_M:,.0f} to {MAX_ALTITUDE_M:,.0f} m, not "
                f"{self.floor_m} m; give the ground elevation under the zones (the field "
                "elevation of a CTR)"
            )
        if self.classes is not None:
            object.__setattr__(self, "classes", frozenset(c.upper() for c in self.classes))


class SkipReason(StrEnum):
    INACTIVE = "inactive (AA NONE)"
    NOT_SELECTED = "class not selected"
    OUTSIDE_HORIZON = "no activation in the horizon"
    DUPLICATE = "same as an earlier zone of the file"


@dataclass(frozen=True)
class ZoneDraft:
    """One notice to file for a record (``part`` of ``parts`` when its windows fill
    several) and the ``Idempotency-Key`` it is filed under."""

    record: AirspaceRecord
    draft: NoticeDraft
    key: str
    part: int = 1
    parts: int = 1


@dataclass(frozen=True)
class SkippedZone:
    record: AirspaceRecord
    reason: SkipReason


@dataclass(frozen=True)
class ZonePlan:
    """What an import will file: the drafts, the records skipped and why, the records
    that could not be read (with where and why) and the rules applied. ``raised``:
    how many zones had a ceiling above ground raised by the terrain margin."""

    source: ZoneFile
    rules: ZoneRules
    zones: tuple[ZoneDraft, ...]
    skipped: tuple[SkippedZone, ...]
    errors: tuple[RecordError, ...]
    raised: int

    @property
    def volume_count(self) -> int:
        return sum(len(z.draft.volumes) for z in self.zones)


def _selected(record: AirspaceRecord, classes: frozenset[str] | None) -> bool:
    if classes is None:
        return True
    names = {record.airspace_class.upper(), (record.kind or "").upper()}
    return not names.isdisjoint(classes)


def _windows(
    record: AirspaceRecord, horizon: Horizon
) -> list[tuple[datetime, datetime]] | SkipReason:
    if record.activations is None:
        return [(horizon.start, horizon.end)]
    if not record.activations:
        return SkipReason.INACTIVE
    clipped = [horizon.clip(start, end) for start, end in record.activations]
    windows = [w for w in clipped if w is not None]
    return windows or SkipReason.OUTSIDE_HORIZON


def _ceiling_m(record: AirspaceRecord, margin_m: Metres) -> Metres:
    """The upper limit in metres above mean sea level, raised by the terrain margin when
    it was given above ground (at most :data:`UNLIMITED_M`)."""
    if record.upper_ref == "agl":
        return min(record.upper_m + margin_m, UNLIMITED_M)
    return record.upper_m


def _title(record: AirspaceRecord, part: int, parts: int) -> str:
    suffix = f" (part {part} of {parts})" if parts > 1 else ""
    kind = f" {record.kind}" if record.kind and record.kind != record.airspace_class else ""
    head = f"{record.name} (class {record.airspace_class}{kind})"
    return head[: _TITLE_LENGTH - len(suffix)] + suffix


def idempotency_key(draft: NoticeDraft) -> str:
    """The key a zone's notice is filed under: a digest of its title and volumes, so the
    same zone planned again (same file or a new edition) is recognised as filed."""
    return "zone-" + request_hash(draft)


def _floor_m(record: AirspaceRecord, rules: ZoneRules) -> Metres | None:
    """The zone's floor: its own, else the rules' where its lower limit is the surface."""
    if record.floor_m is not None:
        return record.floor_m
    surface = record.lower_ref == "agl" and record.lower_m == 0.0
    return rules.floor_m if surface else None


def _drafts(
    record: AirspaceRecord, rules: ZoneRules, windows: list[tuple[datetime, datetime]]
) -> list[ZoneDraft]:
    floor_m = _floor_m(record, rules)
    ground_m = 0.0 if floor_m is None else floor_m
    lower_m = record.lower_m + ground_m if record.lower_ref == "agl" else record.lower_m
    upper_m = _ceiling_m(record, max(rules.agl_margin_m, ground_m))
    volumes = [Volume4D(record.footprint, lower_m, upper_m, s, e, floor_m) for s, e in windows]
    chunks = [
        tuple(volumes[i : i + rules.max_volumes]) for i in range(0, len(volumes), rules.max_volumes)
    ]
    drafts = []
    for part, chunk in enumerate(chunks, start=1):
        draft = NoticeDraft(chunk, _title(record, part, len(chunks)), standing=True)
        drafts.append(ZoneDraft(record, draft, idempotency_key(draft), part, len(chunks)))
    return drafts


def plan_zones(source: ZoneFile, rules: ZoneRules) -> ZonePlan:
    """The notices an import of ``source`` files under ``rules``, and what it skips."""
    zones: list[ZoneDraft] = []
    skipped: list[SkippedZone] = []
    errors = list(source.airspace.errors)
    keys: set[str] = set()
    raised = 0
    for record in source.airspace.records:
        if not _selected(record, rules.classes):
            skipped.append(SkippedZone(record, SkipReason.NOT_SELECTED))
            continue
        windows = _windows(record, rules.horizon)
        if isinstance(windows, SkipReason):
            skipped.append(SkippedZone(record, windows))
            continue
        try:
            drafts = _drafts(record, rules, windows)
        except ValidationError as exc:
            errors.append(RecordError(record.origin, record.name, exc.message))
            continue
        if keys.issuperset(d.key for d in drafts):
            skipped.append(SkippedZone(record, SkipReason.DUPLICATE))
            continue
        keys.update(d.key for d in drafts)
        zones.extend(drafts)
        raised += record.upper_ref == "agl"
    return ZonePlan(source, rules, tuple(zones), tuple(skipped), tuple(errors), raised)


class FilingOutcome(StrEnum):
    FILED = "filed"
    ALREADY_FILED = "already filed"
    REFUSED = "refused"


@dataclass(frozen=True)
class FiledZone:
    """What became of one zone's notice: its id once filed, the conflicts found with
    other parties' notices, or why the service refused it."""

    zone: ZoneDraft
    outcome: FilingOutcome
    notice_id: str | None = None
    conflicts: int = 0
    reason: str | None = None


@dataclass(frozen=True)
class ZoneReport:
    """An import's plan and what filing made of each of its notices."""

    plan: ZonePlan
    filed: tuple[FiledZone, ...]

    def count(self, outcome: FilingOutcome) -> int:
        """Notices with this outcome."""
        return sum(1 for f in self.filed if f.outcome == outcome)

    @property
    def errors(self) -> tuple[RecordError, ...]:
        """Records that could not be read or planned, then notices the service refused."""
        refused = tuple(
            RecordError(f.zone.record.origin, f.zone.record.name, f.reason or "refused")
            for f in self.filed
            if f.outcome == FilingOutcome.REFUSED
        )
        return self.plan.errors + refused


def check_authority(party: PartyRef) -> PartyRef:
    """``party``, if it is an authority; zones belong to authorities."""
    if party.role != Role.AUTHORITY:
        raise PermissionDeniedError(
            f"party {party.name!r} is an {party.role.value}; zones belong to authorities: "
            "import them as an authority (deconfliction party add NAME --role authority)"
        )
    return party


def file_zones(
    service: NoticeService,
    party: PartyRef,
    plan: ZonePlan,
    progress: Callable[[FiledZone], None] | None = None,
) -> ZoneReport:
    """File every notice of ``plan`` as the authority ``party``, in order, each in its
    own transaction; ``progress`` is called after each. A notice the service refuses
    (e.g. larger than an agreement of the authority allows) is reported and the rest
    go on."""
    check_authority(party)
    filed = []
    for zone in plan.zones:
        try:
            result = service.file(party, zone.draft, idempotency_key=zone.key)
        except DeconflictionError as exc:
            outcome = FiledZone(zone, FilingOutcome.REFUSED, reason=exc.message)
        else:
            outcome = FiledZone(
                zone,
                FilingOutcome.ALREADY_FILED if result.replayed else FilingOutcome.FILED,
                result.notice.id,
                len(result.conflicts),
            )
        filed.append(outcome)
        if progress is not None:
            progress(outcome)
    return ZoneReport(plan, tuple(filed))

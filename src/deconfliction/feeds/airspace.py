"""Airspace records: what the zone importers (OpenAIR, GeoJSON) hand out.

An import never fails as a whole because one airspace is bad: each record either
becomes an :class:`AirspaceRecord` (validated footprint, limits in metres) or a
:class:`RecordError` that says where it is, which airspace it is and what is wrong.

Vertical limits are metres with the reference they were given in, kept as information:

- ``"amsl"``: above mean sea level, as given;
- ``"agl"``: above ground (``GND``, ``SFC``, ``nnnnFT AGL``); the ground is taken as
  0 m AMSL, so the metres are the height above ground, and a consumer that knows the
  terrain should raise them;
- ``"fl"``: a flight level, converted at the standard 100 ft per level;
- ``"unl"``: unlimited, carried as :data:`UNLIMITED_M`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from deconfliction.core.footprint import Footprint
from deconfliction.core.units import Metres
from deconfliction.core.volume import MAX_ALTITUDE_M
from deconfliction.feeds.repair import Repair

__all__ = [
    "OPEN_END",
    "OPEN_START",
    "UNLIMITED_M",
    "AirspaceImport",
    "AirspaceRecord",
    "LimitReference",
    "Origin",
    "RecordError",
]

LimitReference = Literal["amsl", "agl", "fl", "unl"]

UNLIMITED_M: Metres = MAX_ALTITUDE_M
"""The upper limit of an unlimited airspace (``UNL``, FL 999): the highest altitude a
volume may have (100 km), so that an unlimited zone meets everything above its floor."""


OPEN_START = datetime.min.replace(tzinfo=UTC)
"""The start of an activation window whose start is not known (OpenAIR ``AA NONE/end``)."""

OPEN_END = datetime.max.replace(tzinfo=UTC)
"""The end of an activation window whose end is not known (OpenAIR ``AA start/NONE``)."""


@dataclass(frozen=True)
class Origin:
    """Where a record came from: a line of an OpenAIR file (1-based) or a GeoJSON
    feature (0-based index in ``features``) and, for a MultiPolygon, its polygon."""

    line: int | None = None
    feature: int | None = None
    polygon: int | None = None

    def __str__(self) -> str:
        if self.line is not None:
            return f"line {self.line}"
        where = f"feature {self.feature}"
        return where if self.polygon is None else f"{where}, polygon {self.polygon}"


@dataclass(frozen=True, eq=False)
class AirspaceRecord:
    """One imported airspace (a zone-to-be).

    ``activations`` are UTC windows ``[start, end)``, an unknown end or start being
    :data:`OPEN_END` or :data:`OPEN_START`; ``None`` means the source gave no schedule
    (standing airspace, or activation announced elsewhere: see ``activation_hint``), an
    empty tuple that it said there is none yet (OpenAIR ``AA NONE``: inactive until a
    schedule comes, e.g. by NOTAM).
    ``activation_hint`` is free text such as ``"H24"`` or ``"NOTAM MON-FRI"`` found in
    the name, or ``None``. ``kind`` is the extended OpenAIR ``AY`` type (``"TMA"``,
    ``"R"``, …) or the GeoJSON ``TYPE`` (which is also its class there, e.g. ``"FIR"``).
    ``repair`` says how a crossed outline was repaired (see
    :mod:`deconfliction.feeds.repair`), ``None`` when it was read as drawn.
    ``floor_m`` is the ground elevation under it where the source gives one (GeoJSON
    ``floor_m``), metres in the feeds' altitude reference, else ``None``.
    """

    name: str
    airspace_class: str
    lower_m: Metres
    lower_ref: LimitReference
    upper_m: Metres
    upper_ref: LimitReference
    footprint: Footprint
    origin: Origin
    kind: str | None = None
    activations: tuple[tuple[datetime, datetime], ...] | None = None
    activation_hint: str | None = None
    repair: Repair | None = None
    floor_m: Metres | None = None


@dataclass(frozen=True)
class RecordError:
    """One record the import skipped, with what to fix."""

    origin: Origin
    name: str
    message: str

    def __str__(self) -> str:
        name = f" ({self.name})" if self.name else ""
        return f"{self.origin}{name}: {self.message}"


@dataclass(frozen=True)
class AirspaceImport:
    """The outcome of one import: the good records, the skipped ones and, for OpenAIR,
    how many lines of each unused record type (``AF``, ``AG``, ``SP``, …) were passed over."""

    records: tuple[AirspaceRecord, ...]
    errors: tuple[RecordError, ...]
    ignored: Mapping[str, int] = field(default_factory=dict)

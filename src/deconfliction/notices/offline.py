"""The offline check: every conflict among the volumes of one GeoJSON FeatureCollection.

Each Feature is one volume: a ``Polygon``, or a ``Point`` with a ``radius_m`` property
(metres), and the properties ``party``, ``notice``, ``start`` and ``end`` (RFC 3339,
with a time zone) and ``lower_m`` and ``upper_m`` (metres above mean sea level).

The check runs the service's own two passes, so it finds what filing would: the
features go, in file order, into a throw-away SQLite store with the service's schema
and cell index, and each is searched for (cells, then the exact core test) among the
earlier ones of other parties before it is stored. Each conflicting pair of volumes of
different parties is so found once, when the later of the two is checked.

>>> square = [[[8.5, 47.4], [8.6, 47.4], [8.6, 47.5], [8.5, 47.5], [8.5, 47.4]]]
>>> def feature(party, lower_m):
...     properties = {"party": party, "notice": "n1", "start": "2026-03-02T08:00:00Z",
...                   "end": "2026-03-02T09:00:00Z", "lower_m": lower_m, "upper_m": 3000}
...     geometry = {"type": "Polygon", "coordinates": square}
...     return {"type": "Feature", "geometry": geometry, "properties": properties}
>>> features = [feature("red", 0), feature("red", 0), feature("blue", 2000)]
>>> found = check_features({"type": "FeatureCollection", "features": features})
>>> [(c.a, c.b, c.lower_m, c.upper_m) for c in found]
[(0, 2, 2000.0, 3000.0), (1, 2, 2000.0, 3000.0)]
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from deconfliction.core.footprint import Footprint, FootprintLimits
from deconfliction.core.volume import Buffers, Volume4D
from deconfliction.errors import ValidationError
from deconfliction.notices.search import find_conflicts, index_rows, volume_row
from deconfliction.store.database import Database
from deconfliction.store.schema import Notice, Party, VolumeCell

__all__ = ["FeatureVolume", "OfflineConflict", "check_features", "read_features", "rfc3339"]

_PROPERTIES = ("party", "notice", "start", "end", "lower_m", "upper_m")


def rfc3339(moment: datetime) -> str:
    """A UTC instant as RFC 3339 text ending in ``Z``, e.g. ``2026-03-02T08:00:00Z``."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class FeatureVolume:
    """One Feature of the collection, validated: its index, party, notice and volume."""

    index: int
    party: str
    notice: str
    volume: Volume4D


@dataclass(frozen=True)
class OfflineConflict:
    """Two volumes of different parties that meet, by feature index (``a < b``).

    ``start``/``end`` is the common window (UTC) and ``lower_m``/``upper_m`` the common
    band (metres), as a filing would report them.
    """

    a: int
    b: int
    party_a: str
    party_b: str
    notice_a: str
    notice_b: str
    start: datetime
    end: datetime
    lower_m: float
    upper_m: float

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` form: ``a``, ``b``, ``start``, ``end``, ``lower_m``, ``upper_m``."""
        return {
            "a": self.a,
            "b": self.b,
            "start": rfc3339(self.start),
            "end": rfc3339(self.end),
            "lower_m": self.lower_m,
            "upper_m": self.upper_m,
        }


def read_features(
    feature_collection: Mapping[str, Any], limits: FootprintLimits | None = None
) -> list[FeatureVolume]:
    """Every Feature of the collection as a validated volume, in file order.

    Raises a :class:`~deconfliction.errors.ValidationError` (or one of its kinds) that
    names the feature by its index and says what to fix.
    """
    if not isinstance(feature_collection, Mapping) or (
        feature_collection.get("type") != "FeatureCollection"
    ):
        raise ValidationError(
            'the input is not a GeoJSON FeatureCollection: write {"type": '
            '"FeatureCollection", "features": [...]} with one Feature per volume'
        )
    features = feature_collection.get("features")
    if not isinstance(features, Sequence) or isinstance(features, str):
        raise ValidationError("the FeatureCollection's features must be a list of Features")
    read = []
    for index, feature in enumerate(features):
        try:
            read.append(_feature_volume(index, feature, limits))
        except ValidationError as exc:
            raise type(exc)(
                f"feature {index}: {exc.message}", feature=index, **exc.detail
            ) from None
    return read


def _feature_volume(index: int, feature: Any, limits: FootprintLimits | None) -> FeatureVolume:
    if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
        raise ValidationError('is not a GeoJSON Feature ({"type": "Feature", ...})')
    geometry = feature.get("geometry")
    properties = feature.get("properties")
    if not isinstance(geometry, Mapping):
        raise ValidationError("has no geometry; give a Polygon, or a Point with radius_m")
    if not isinstance(properties, Mapping):
        raise ValidationError(f"has no properties; it needs {', '.join(_PROPERTIES)}")
    missing = [name for name in _PROPERTIES if properties.get(name) is None]
    if missing:
        raise ValidationError(
            f"lacks the propert{'y' if len(missing) == 1 else 'ies'} {', '.join(missing)}"
        )
    party = _name(properties["party"], "party")
    notice = _name(properties["notice"], "notice")
    radius = properties.get("radius_m")
    footprint = Footprint.from_geojson(geometry, radius, limits)
    volume = Volume4D(
        footprint,
        properties["lower_m"],
        properties["upper_m"],
        _instant(properties["start"], "start"),
        _instant(properties["end"], "end"),
    )
    return FeatureVolume(index, party, notice, volume)


def _name(value: Any, name: str) -> str:
    """A party or notice name: non-empty text (a whole number is taken as its digits)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"has {name} {value!r}; give it as non-empty text")
    return value


def _instant(value: Any, name: str) -> datetime:
    if not isinstance(value, str):
        raise ValidationError(
            f"has {name} {value!r}; give it as RFC 3339 text, e.g. 2026-03-02T08:00:00Z"
        )
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(
            f"has {name} {value!r}, which is not an RFC 3339 date and time; write it like "
            "2026-03-02T08:00:00Z"
        ) from None


def check_features(
    feature_collection: Mapping[str, Any],
    limits: FootprintLimits | None = None,
    on_checked: Callable[[int], None] | None = None,
) -> list[OfflineConflict]:
    """Every conflicting pair of volumes of different parties, sorted by ``(a, b)``.

    ``on_checked(n)`` is called after each feature, with how many have been checked
    (for a progress bar). The store lives in a temporary directory, removed on return.
    """
    features = read_features(feature_collection, limits)
    with tempfile.TemporaryDirectory(prefix="deconfliction-check-") as folder:
        db = Database(f"sqlite:///{Path(folder) / 'check.db'}")
        try:
            db.migrate()
            with db.transaction() as session:
                found = _search(session, features, on_checked)
        finally:
            db.dispose()
    return sorted(found, key=lambda c: (c.a, c.b))


def _search(
    session: Session,
    features: list[FeatureVolume],
    on_checked: Callable[[int], None] | None,
) -> list[OfflineConflict]:
    """Search for each feature among those before it, then store and index it.

    A party's row id stands for its name and a notice's row id (``n0``, ``n1``, …) for
    its (party, notice) pair, since two parties may use the same notice id. A volume's
    ``position`` holds its feature index. The store keeps no filing time: a notice is
    entered as filed at its earliest start.
    """
    parties: dict[str, int] = {}
    spans: dict[tuple[str, str], tuple[datetime, datetime]] = {}
    for f in features:
        if f.party not in parties:
            party = Party(name=f.party, role="operator", created_at=f.volume.start)
            session.add(party)
            session.flush()
            parties[f.party] = party.id
        key = (f.party, f.notice)
        start, end = spans.get(key, (f.volume.start, f.volume.end))
        spans[key] = (min(start, f.volume.start), max(end, f.volume.end))
    notices = {key: f"n{k}" for k, key in enumerate(spans)}
    for (name, title), (start, end) in spans.items():
        session.add(
            Notice(
                id=notices[(name, title)],
                party_id=parties[name],
                title=title,
                state="filed",
                version=1,
                filed_at=start,
                updated_at=start,
                lead_time_s=0.0,
                starts_at=start,
                ends_at=end,
            )
        )
    session.flush()
    by_index = {f.index: f for f in features}
    found: list[OfflineConflict] = []
    for f in features:
        party_id = parties[f.party]
        for match in find_conflicts(session, f.volume, party_id, Buffers()):
            earlier = by_index[match.row.position]
            o = match.overlap
            found.append(
                OfflineConflict(
                    a=earlier.index,
                    b=f.index,
                    party_a=earlier.party,
                    party_b=f.party,
                    notice_a=earlier.notice,
                    notice_b=f.notice,
                    start=o.start,
                    end=o.end,
                    lower_m=o.lower_m,
                    upper_m=o.upper_m,
                )
            )
        row = volume_row(notices[(f.party, f.notice)], party_id, f.index, f.volume)
        session.add(row)
        session.flush()
        session.execute(insert(VolumeCell), index_rows(row.id, party_id, f.volume))
        if on_checked is not None:
            on_checked(f.index + 1)
    return found

"""What two parties agreed, as a frozen value: validated, JSON in and out, SI units.

Every duration is in seconds, every distance in metres, areas in square metres. A key
left out of the JSON takes its default; an unknown key is refused (a typo must not
silently become a default).

>>> terms = Terms.from_json({"min_lead_time_s": 1800, "ladder": [
...     {"name": "duty officer", "contacts": ["+972 3 000 0000"], "deadline_s": 300}]})
>>> terms.min_lead_time_s, terms.ladder[0].name, terms.ack_deadlines.for_priority("flash")
(1800.0, 'duty officer', 120.0)
>>> Terms.from_json(terms.to_json()) == terms
True
>>> Terms.from_json({"ack_deadline_s": {"routine": -5}})  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
deconfliction.errors.ValidationError: terms.ack_deadline_s.routine must be a positive ..., not -5
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from typing import Any, TypeVar

from deconfliction.core.footprint import DEFAULT_MAX_AREA_M2
from deconfliction.core.units import Seconds
from deconfliction.core.volume import Buffers
from deconfliction.errors import ValidationError
from deconfliction.tactical.params import DetectionParams

__all__ = [
    "ANONYMOUS_COUNTERPART",
    "DEFAULT_ACK_DEADLINES_S",
    "AckDeadlines",
    "Disclosure",
    "Priority",
    "Terms",
    "Tier",
    "Visibility",
]

DEFAULT_ACK_DEADLINES_S: Mapping[str, Seconds] = {
    "routine": 3600.0,
    "urgent": 600.0,
    "flash": 120.0,
}
"""Acknowledgment deadlines, seconds after delivery, when nothing else is agreed."""

_T = TypeVar("_T")

MAX_TIERS = 10
MAX_CONTACTS = 20
MAX_TEXT = 200


class Priority(StrEnum):
    """How urgently an alert or message must be acknowledged."""

    ROUTINE = "routine"
    URGENT = "urgent"
    FLASH = "flash"

    @classmethod
    def parse(cls, value: object, where: str = "priority") -> Priority:
        try:
            return cls(str(value))
        except ValueError:
            known = ", ".join(p.value for p in cls)
            raise ValidationError(f"{where} {value!r} is not a priority; use {known}") from None


class Visibility(StrEnum):
    """What a counterpart receives of a notice: only conflicts' overlaps, or its volumes."""

    OVERLAP = "overlap"
    FULL = "full"


class Disclosure(StrEnum):
    """What each side of a pair learns of a conflict with the other (issue 12).

    ``anonymous``: that its activity meets *another party's*, with the overlap and window
    and the conflict's random id to quote, never the other's name; ``named``: also the
    other's name; ``full``: also the notices' volumes (``visibility: full``).
    """

    ANONYMOUS = "anonymous"
    NAMED = "named"
    FULL = "full"

    @classmethod
    def parse(cls, value: object, where: str = "disclosure") -> Disclosure:
        try:
            return cls(str(value))
        except ValueError:
            known = ", ".join(d.value for d in cls)
            raise ValidationError(f"{where} {value!r} is not one of: {known}") from None


ANONYMOUS_COUNTERPART = "(another party)"
"""The counterpart an ``anonymous`` side is told of: no party name can start with "("."""


def _number(value: object, where: str, unit: str, *, positive: bool) -> float:
    ok = (
        not isinstance(value, bool)
        and isinstance(value, int | float)
        and math.isfinite(value)
        and (value > 0 if positive else value >= 0)
    )
    if not ok:
        kind = "a positive" if positive else "zero or a positive"
        raise ValidationError(f"{where} must be {kind} number of {unit}, not {value!r}")
    assert isinstance(value, int | float)
    return float(value)


def _text(value: object, where: str, example: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{where} is empty or not text; write it out, e.g. {example!r}")
    if len(value) > MAX_TEXT:
        raise ValidationError(f"{where} is longer than {MAX_TEXT} characters; shorten it")
    return value.strip()


def _object(value: object, where: str, known: Sequence[str]) -> Mapping[str, Any]:
    subject = f"{where} " if where else ""
    if not isinstance(value, Mapping):
        raise ValidationError(f"{subject}must be a JSON object, not {value!r}")
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise ValidationError(
            f"{subject}has unknown key {unknown[0]!r}; the keys are: {', '.join(known)}"
        )
    return value


@dataclass(frozen=True)
class Tier:
    """One rung of the escalation ladder: who is told (``name``, ``contacts``) and how
    long it has to acknowledge (``deadline_s``, seconds) before the next rung."""

    name: str
    contacts: tuple[str, ...] = ()
    deadline_s: Seconds = 600.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", _text(self.name, "name", "duty officer"))
        if len(self.contacts) > MAX_CONTACTS:
            raise ValidationError(f"contacts: more than {MAX_CONTACTS}; keep the main ones")
        contacts = tuple(
            _text(c, f"contacts[{i}]", "+1 555 0100") for i, c in enumerate(self.contacts)
        )
        object.__setattr__(self, "contacts", contacts)
        deadline = _number(self.deadline_s, "deadline_s", "seconds", positive=True)
        object.__setattr__(self, "deadline_s", deadline)

    @classmethod
    def from_json(cls, value: object) -> Tier:
        data = _object(value, "", _TIER_KEYS)
        contacts = data.get("contacts", [])
        if not isinstance(contacts, list):
            raise ValidationError("contacts must be a list of strings")
        return cls(data.get("name", ""), tuple(contacts), data.get("deadline_s", 600.0))

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "contacts": list(self.contacts), "deadline_s": self.deadline_s}


@dataclass(frozen=True)
class AckDeadlines:
    """Seconds from delivery within which an item of each priority must be acknowledged."""

    routine_s: Seconds = DEFAULT_ACK_DEADLINES_S["routine"]
    urgent_s: Seconds = DEFAULT_ACK_DEADLINES_S["urgent"]
    flash_s: Seconds = DEFAULT_ACK_DEADLINES_S["flash"]

    def __post_init__(self) -> None:
        for priority in Priority:
            name = f"{priority.value}_s"
            value = _number(getattr(self, name), priority.value, "seconds", positive=True)
            object.__setattr__(self, name, value)

    def for_priority(self, priority: str) -> Seconds:
        """The deadline of one priority, seconds."""
        value: float = getattr(self, f"{Priority.parse(priority).value}_s")
        return value

    @classmethod
    def from_json(cls, value: object) -> AckDeadlines:
        """From ``{"routine": s, "urgent": s, "flash": s}`` (keys left out keep defaults)."""
        if not isinstance(value, Mapping):
            raise ValidationError("must be a JSON object of priority: seconds")
        for key in value:
            Priority.parse(key, "key")
        return cls(**{f"{key}_s": value[key] for key in value})

    def to_json(self) -> dict[str, float]:
        return {p.value: self.for_priority(p) for p in Priority}


def _located(where: str, build: Callable[[], _T], keys: Sequence[str]) -> _T:
    """Call ``build()``; a validation error it raises is prefixed with ``where``, joined
    by a dot when the message starts with one of the object's ``keys``."""
    try:
        return build()
    except ValidationError as exc:
        first = exc.message.split(" ", 1)[0].split("[", 1)[0]
        joint = "." if first in keys else ": "
        raise ValidationError(f"{where}{joint}{exc.message}", **exc.detail) from None


_TIER_KEYS = ("name", "contacts", "deadline_s")
_SEPARATION_KEYS = ("rpz_m", "hpz_m", "lookahead_s")
_KEYS = (
    "min_lead_time_s",
    "activation_requires_acknowledgment",
    "authority_approval_required",
    "buffers",
    "separation",
    "ack_deadline_s",
    "ladder",
    "max_footprint_area_m2",
    "visibility",
    "notice_horizon_s",
    "notice_max_duration_s",
    "disclosure",
    "exact_after_s",
    "require_signed",
)


@dataclass(frozen=True)
class Terms:
    """An agreement's terms. Units: seconds, metres, square metres.

    * ``min_lead_time_s`` — notices must be filed this long before they start; a later
      one is still recorded and delivered, flagged ``short_notice``, at ``flash``.
    * ``activation_requires_acknowledgment`` — a notice of either party activates only
      once the other has acknowledged it.
    * ``authority_approval_required`` — a notice inside an authority's areas (one that
      conflicts with a live notice of that authority, which files its standing areas as
      notices) activates only once the authority has approved it.
    * ``buffers`` — horizontal/vertical separation demanded between the two parties'
      notices in the strategic check.
    * ``separation`` — tactical minima (``rpz_m``, ``hpz_m``) and ``lookahead_s``.
    * ``ack_deadlines`` — per priority, seconds to acknowledge an alert or message.
    * ``ladder`` — escalation tiers, climbed one by one while an item goes unacknowledged.
    * ``max_footprint_area_m2`` — the largest footprint a notice of either party may have.
    * ``visibility`` — ``overlap``: the counterpart sees only conflicts' overlaps;
      ``full``: it also receives the notice's volumes.
    * ``notice_horizon_s``, ``notice_max_duration_s`` — widen, for notices of either
      party, how far ahead a notice may end and how long its window may be (``None``:
      each party's own limits, see :mod:`deconfliction.limits`).
    * ``disclosure`` — ``anonymous``, ``named`` (the default within an agreement) or
      ``full`` (:class:`Disclosure`); ``full`` and ``visibility: full`` are one setting,
      and an ``anonymous`` pair cannot require acknowledgment of notices it is not shown.
    * ``exact_after_s`` — progressive disclosure: until this long before a conflict's
      overlap starts, each side is told only coarse cells and a rounded band, the exact
      intersection at that time or once both acknowledged (``None``: the deployment's
      ``disclosure_exact_after_s``; 0: exact at once), see :mod:`deconfliction.disclosure`.
    * ``require_signed`` — each party's filings, acknowledgments and hotline messages
      toward the other must be signed with its own key (RFC 9421); unsigned ones are
      refused (``signature-required``).
    """

    min_lead_time_s: Seconds = 0.0
    activation_requires_acknowledgment: bool = False
    authority_approval_required: bool = False
    buffers: Buffers = field(default_factory=Buffers)
    separation: DetectionParams = field(default_factory=DetectionParams)
    ack_deadlines: AckDeadlines = field(default_factory=AckDeadlines)
    ladder: tuple[Tier, ...] = ()
    max_footprint_area_m2: float = DEFAULT_MAX_AREA_M2
    visibility: Visibility = Visibility.OVERLAP
    notice_horizon_s: Seconds | None = None
    notice_max_duration_s: Seconds | None = None
    disclosure: Disclosure = Disclosure.NAMED
    exact_after_s: Seconds | None = None
    require_signed: bool = False

    def __post_init__(self) -> None:
        for name in ("notice_horizon_s", "notice_max_duration_s"):
            if getattr(self, name) is not None:
                value = _number(getattr(self, name), name, "seconds", positive=True)
                object.__setattr__(self, name, value)
        if self.exact_after_s is not None:
            after = _number(self.exact_after_s, "exact_after_s", "seconds", positive=False)
            object.__setattr__(self, "exact_after_s", after)
        lead = _number(self.min_lead_time_s, "min_lead_time_s", "seconds", positive=False)
        object.__setattr__(self, "min_lead_time_s", lead)
        area = _number(self.max_footprint_area_m2, "max_footprint_area_m2", "m²", positive=True)
        object.__setattr__(self, "max_footprint_area_m2", area)
        for name in (
            "activation_requires_acknowledgment",
            "authority_approval_required",
            "require_signed",
        ):
            if not isinstance(getattr(self, name), bool):
                raise ValidationError(f"{name} must be true or false, not {getattr(self, name)!r}")
        if len(self.ladder) > MAX_TIERS:
            raise ValidationError(f"ladder has more than {MAX_TIERS} tiers; merge some")
        try:
            object.__setattr__(self, "visibility", Visibility(self.visibility))
        except ValueError:
            known = ", ".join(v.value for v in Visibility)
            raise ValidationError(
                f"visibility {self.visibility!r} is not one of: {known}"
            ) from None
        disclosure = Disclosure.parse(self.disclosure)
        if self.visibility == Visibility.FULL:
            if disclosure == Disclosure.ANONYMOUS:
                raise ValidationError(
                    "disclosure 'anonymous' contradicts visibility 'full'; drop one of them"
                )
            disclosure = Disclosure.FULL
        object.__setattr__(self, "disclosure", disclosure)
        if disclosure == Disclosure.FULL:
            object.__setattr__(self, "visibility", Visibility.FULL)
        if disclosure == Disclosure.ANONYMOUS and self.activation_requires_acknowledgment:
            raise ValidationError(
                "activation_requires_acknowledgment needs disclosure 'named' or 'full': an "
                "anonymous counterpart is not shown the notices it would acknowledge"
            )

    @classmethod
    def from_json(cls, value: object) -> Terms:
        """Terms from their JSON object; errors name the key at fault (``terms.<key>``)."""
        data = _object(value, "terms", _KEYS)
        if {"visibility", "disclosure"} <= set(data) and (data["visibility"] == "full") != (
            data["disclosure"] == "full"
        ):
            raise ValidationError(
                f"terms.disclosure {data['disclosure']!r} contradicts terms.visibility "
                f"{data['visibility']!r}; 'full' is both or neither (or give only disclosure)"
            )
        kwargs: dict[str, Any] = {
            name: data[name]
            for name in (
                "min_lead_time_s",
                "activation_requires_acknowledgment",
                "authority_approval_required",
                "max_footprint_area_m2",
                "visibility",
                "notice_horizon_s",
                "notice_max_duration_s",
                "disclosure",
                "exact_after_s",
                "require_signed",
            )
            if name in data
        }
        if "buffers" in data:
            b = _object(data["buffers"], "terms.buffers", ("horizontal_m", "vertical_m"))
            kwargs["buffers"] = _located("terms.buffers", lambda: Buffers(**b), ())
        if "separation" in data:
            s = _object(data["separation"], "terms.separation", _SEPARATION_KEYS)
            kwargs["separation"] = _located(
                "terms.separation", lambda: DetectionParams(**s), _SEPARATION_KEYS
            )
        if "ack_deadline_s" in data:
            kwargs["ack_deadlines"] = _located(
                "terms.ack_deadline_s",
                lambda: AckDeadlines.from_json(data["ack_deadline_s"]),
                [p.value for p in Priority],
            )
        if "ladder" in data:
            ladder = data["ladder"]
            if not isinstance(ladder, list):
                raise ValidationError("terms.ladder must be a list of tiers")
            kwargs["ladder"] = tuple(
                _located(f"terms.ladder[{i}]", partial(Tier.from_json, t), _TIER_KEYS)
                for i, t in enumerate(ladder)
            )
        return _located("terms", lambda: cls(**kwargs), _KEYS)

    def to_json(self) -> dict[str, Any]:
        """The JSON object of these terms (every key, defaults included)."""
        return {
            "min_lead_time_s": self.min_lead_time_s,
            "activation_requires_acknowledgment": self.activation_requires_acknowledgment,
            "authority_approval_required": self.authority_approval_required,
            "buffers": {
                "horizontal_m": self.buffers.horizontal_m,
                "vertical_m": self.buffers.vertical_m,
            },
            "separation": {
                "rpz_m": self.separation.rpz_m,
                "hpz_m": self.separation.hpz_m,
                "lookahead_s": self.separation.lookahead_s,
            },
            "ack_deadline_s": self.ack_deadlines.to_json(),
            "ladder": [t.to_json() for t in self.ladder],
            "max_footprint_area_m2": self.max_footprint_area_m2,
            "visibility": self.visibility.value,
            "notice_horizon_s": self.notice_horizon_s,
            "notice_max_duration_s": self.notice_max_duration_s,
            "disclosure": self.disclosure.value,
            "exact_after_s": self.exact_after_s,
            "require_signed": self.require_signed,
        }

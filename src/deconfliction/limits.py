"""What one party may use of the service: request rate, quotas, the notice window.

The defaults are :class:`~deconfliction.settings.Settings` fields (``# Issue 10:
limits``); an administrator sets any of them for one party
(``deconfliction party limits NAME --set max_aircraft=20000``), kept in the
``party_limits`` table and journaled. :class:`PartyLimits` reads a party's limits and
remembers them for ``cache_s`` seconds, as the token cache does
(:mod:`deconfliction.party_values`).

==========================  =====================================================
limit                       what (refusal)
==========================  =====================================================
``rate_per_s``              requests a second on average, 0: unlimited (429
``rate_burst``              ``rate-limited``, with ``Retry-After``) / at once
``max_active_notices``      live notices, standing zones apart (429 ``quota-exceeded``)
``max_volumes_per_notice``  volumes in one notice (422 ``too-many-volumes``)
``max_aircraft``            aircraft tracked at once (429 ``quota-exceeded``)
``max_streams``             WebSockets open at once (close 4429 ``quota-exceeded``)
``max_unacked``             events a stream sends unacknowledged (close 4429)
``notice_horizon_s``        how far ahead a notice may end (422 ``beyond-horizon``)
``notice_max_duration_s``   the longest notice window (422 ``window-too-long``)
==========================  =====================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from deconfliction.party_values import PartyValues
from deconfliction.party_values import parse_assignment as _parse
from deconfliction.settings import Settings

__all__ = ["LIMIT_NAMES", "Limits", "PartyLimits", "parse_assignment"]


@dataclass(frozen=True)
class Limits:
    """One party's limits (see the module's table). Units: seconds, counts."""

    rate_per_s: float
    rate_burst: int
    max_active_notices: int
    max_volumes_per_notice: int
    max_aircraft: int
    max_streams: int
    max_unacked: int
    notice_horizon_s: float
    notice_max_duration_s: float

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(**{name: getattr(settings, name) for name in LIMIT_NAMES})

    def with_values(self, values: Mapping[str, float]) -> Limits:
        """These limits with some replaced (values of integer limits made integers)."""
        kinds = {f.name: f.type for f in fields(self)}
        typed: dict[str, Any] = {
            k: int(v) if kinds[k] in ("int", int) else float(v) for k, v in values.items()
        }
        return replace(self, **typed)

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in LIMIT_NAMES}


LIMIT_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Limits))


def parse_assignment(text: str) -> tuple[str, float]:
    """``NAME=VALUE`` of ``--set``, checked.

    >>> parse_assignment("max_aircraft=20000")
    ('max_aircraft', 20000.0)
    """
    return _parse(text, LIMIT_NAMES, "limit")


class PartyLimits(PartyValues[Limits]):
    """Each party's limits: the settings' defaults and its own overrides."""

    kind = Limits
    names = LIMIT_NAMES
    what = "limit"
    journal_kind = "party.limits_set"

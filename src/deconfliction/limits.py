"""What one party may use of the service: request rate, quotas, the notice window.

The defaults are :class:`~deconfliction.settings.Settings` fields (``# Issue 10:
limits``); an administrator sets any of them for one party
(``deconfliction party limits NAME --set max_aircraft=20000``), kept in the
``party_limits`` table and journaled. :class:`PartyLimits` reads a party's limits and
remembers them for ``cache_s`` seconds, as the token cache does.

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

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from deconfliction.clock import Clock
from deconfliction.errors import NotFoundError, ValidationError
from deconfliction.journal.chain import append, lock_head
from deconfliction.settings import Settings
from deconfliction.store.database import Database
from deconfliction.store.schema import Party, PartyLimit

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
    name, sep, value = text.partition("=")
    name = name.strip()
    check_name(name)
    try:
        number = float(value) if sep else float("nan")
    except ValueError:
        number = float("nan")
    if not number >= 0 or number == float("inf"):
        raise ValidationError(f"--set {text!r}: write NAME=VALUE with a number 0 or more")
    return name, number


def check_name(name: str) -> None:
    if name not in LIMIT_NAMES:
        raise ValidationError(f"no limit {name!r}; the limits are: {', '.join(LIMIT_NAMES)}")


class PartyLimits:
    """Each party's limits: the settings' defaults and its own overrides."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        settings: Settings,
        *,
        cache_s: float = 0.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._clock = clock
        self.defaults = Limits.from_settings(settings)
        self._cache_s = cache_s
        self._monotonic = monotonic
        self._known: dict[int, tuple[Limits, float]] = {}

    def remembered(self, party_id: int) -> Limits | None:
        """The party's limits if read within ``cache_s``, without asking the store."""
        known = self._known.get(party_id)
        if known is not None and self._monotonic() < known[1]:
            return known[0]
        return None

    def of(self, party_id: int) -> Limits:
        """The limits in force for the party."""
        known = self.remembered(party_id)
        if known is not None:
            return known
        with self._db.read() as session:
            values = _overrides(session, party_id)
        limits = self.defaults.with_values(values)
        if self._cache_s > 0:
            self._known[party_id] = (limits, self._monotonic() + self._cache_s)
        return limits

    def overrides(self, name: str) -> dict[str, float]:
        """The limits set for the party ``name`` (the others are the defaults)."""
        with self._db.read() as session:
            return _overrides(session, _party_id(session, name))

    def set(
        self, name: str, values: Mapping[str, float], reset: Iterable[str] = ()
    ) -> dict[str, float]:
        """Set some of the party's limits and put others back to the default; journaled.
        Returns the party's overrides after the change."""
        reset = list(reset)
        for key in [*values, *reset]:
            check_name(key)
        now = self._clock.now()
        with self._db.transaction() as session:
            lock_head(session)
            party_id = _party_id(session, name)
            gone = [*values, *reset]
            if gone:
                session.execute(
                    delete(PartyLimit).where(
                        PartyLimit.party_id == party_id, PartyLimit.name.in_(gone)
                    )
                )
            session.add_all(
                PartyLimit(party_id=party_id, name=k, value=float(v), updated_at=now)
                for k, v in values.items()
            )
            session.flush()
            after = _overrides(session, party_id)
            append(
                session,
                at=now,
                kind="party.limits_set",
                party=name,
                subject=name,
                payload={"name": name, "set": dict(values), "reset": sorted(reset), "now": after},
            )
        self._known.pop(party_id, None)
        return after


def _overrides(session: Session, party_id: int) -> dict[str, float]:
    rows = session.execute(
        select(PartyLimit.name, PartyLimit.value).where(PartyLimit.party_id == party_id)
    ).all()
    return {name: value for name, value in rows if name in LIMIT_NAMES}


def _party_id(session: Session, name: str) -> int:
    party_id = session.scalar(select(Party.id).where(Party.name == name))
    if party_id is None:
        raise NotFoundError(f"no party named {name!r}; list them with 'deconfliction party list'")
    return int(party_id)

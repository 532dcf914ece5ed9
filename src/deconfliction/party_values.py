"""Named numbers an administrator sets for one party, over the deployment's defaults.

A party's limits (:mod:`deconfliction.limits`) and its feed's prediction model
(:mod:`deconfliction.party_feeds`) are both kept this way: one row per (party, name)
in the ``party_limits`` table for each value set, the settings' default for every
other, each change journaled. :class:`PartyValues` reads a party's values and
remembers them for ``cache_s`` seconds, as the token cache does; each kind reads only
its own names from the shared table.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from deconfliction.clock import Clock
from deconfliction.errors import NotFoundError, ValidationError
from deconfliction.journal.chain import append, lock_head
from deconfliction.settings import Settings
from deconfliction.store.database import Database
from deconfliction.store.schema import Party, PartyLimit

__all__ = ["PartyValues", "Values", "check_name", "parse_assignment"]


class Values(Protocol):
    """A frozen set of named numbers: the defaults, or one party's values."""

    @classmethod
    def from_settings(cls, settings: Settings) -> Self: ...

    def with_values(self, values: Mapping[str, float]) -> Self: ...

    def as_dict(self) -> dict[str, Any]: ...


V = TypeVar("V", bound=Values)


def check_name(name: str, names: Collection[str], what: str) -> None:
    """Refuse a name that is not one of ``names`` (``what`` each is, e.g. "limit")."""
    if name not in names:
        raise ValidationError(f"no {what} {name!r}; the {what}s are: {', '.join(names)}")


def parse_assignment(text: str, names: Collection[str], what: str) -> tuple[str, float]:
    """``NAME=VALUE`` of ``--set``, checked: a known name and a finite number 0 or more.

    >>> parse_assignment("max_aircraft=20000", ["max_aircraft"], "limit")
    ('max_aircraft', 20000.0)
    """
    name, sep, value = text.partition("=")
    name = name.strip()
    check_name(name, names, what)
    try:
        number = float(value) if sep else math.nan
    except ValueError:
        number = math.nan
    if not number >= 0 or number == math.inf:
        raise ValidationError(f"--set {text!r}: write NAME=VALUE with a number 0 or more")
    return name, number


class PartyValues(Generic[V]):
    """Each party's values of one kind: the deployment's (``kind.from_settings``) and
    its own overrides of ``names`` (``what`` one of them is called in messages; changes
    journaled as ``journal_kind``). A kind is a subclass that sets these four."""

    kind: ClassVar[type[Values]]
    names: ClassVar[tuple[str, ...]]
    what: ClassVar[str]
    journal_kind: ClassVar[str]

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
        # a ClassVar cannot name V, so the kind is typed as any Values
        self.defaults: V = self.kind.from_settings(settings)  # type: ignore[assignment]
        self._cache_s = cache_s
        self._monotonic = monotonic
        self._known: dict[int, tuple[V, float]] = {}

    def remembered(self, party_id: int) -> V | None:
        """The party's values if read within ``cache_s``, without asking the store."""
        known = self._known.get(party_id)
        if known is not None and self._monotonic() < known[1]:
            return known[0]
        return None

    def of(self, party_id: int) -> V:
        """The values in force for the party."""
        return self.of_many([party_id])[party_id]

    def of_many(self, party_ids: Iterable[int]) -> dict[int, V]:
        """The values in force for each of the parties, with one read of the store for
        those not remembered."""
        found: dict[int, V] = {}
        missing = []
        for party_id in set(party_ids):
            known = self.remembered(party_id)
            if known is None:
                missing.append(party_id)
            else:
                found[party_id] = known
        if not missing:
            return found
        with self._db.read() as session:
            rows = session.execute(
                select(PartyLimit.party_id, PartyLimit.name, PartyLimit.value).where(
                    PartyLimit.party_id.in_(missing), PartyLimit.name.in_(self.names)
                )
            ).all()
        own: dict[int, dict[str, float]] = {party_id: {} for party_id in missing}
        for party_id, name, value in rows:
            own[party_id][name] = value
        until = self._monotonic() + self._cache_s
        for party_id, values in own.items():
            found[party_id] = self.defaults.with_values(values) if values else self.defaults
            if self._cache_s > 0:
                self._known[party_id] = (found[party_id], until)
        return found

    def overrides(self, name: str) -> dict[str, float]:
        """The values set for the party ``name`` (the others are the defaults)."""
        with self._db.read() as session:
            return self._overrides(session, _party_id(session, name))

    def parse(self, text: str) -> tuple[str, float]:
        """``NAME=VALUE`` of ``--set``, checked against this kind's names."""
        return parse_assignment(text, self.names, self.what)

    def set(
        self, name: str, values: Mapping[str, float], reset: Iterable[str] = ()
    ) -> dict[str, float]:
        """Set some of the party's values and put others back to the default; journaled.
        Returns the party's overrides after the change."""
        reset = list(reset)
        for key in [*values, *reset]:
            check_name(key, self.names, self.what)
        self.defaults.with_values(values)  # a value the kind refuses changes nothing
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
            after = self._overrides(session, party_id)
            append(
                session,
                at=now,
                kind=self.journal_kind,
                party=name,
                subject=name,
                payload={"name": name, "set": dict(values), "reset": sorted(reset), "now": after},
            )
        self._known.pop(party_id, None)
        return after

    def _overrides(self, session: Session, party_id: int) -> dict[str, float]:
        rows = session.execute(
            select(PartyLimit.name, PartyLimit.value).where(PartyLimit.party_id == party_id)
        ).all()
        return {name: value for name, value in rows if name in self.names}


def _party_id(session: Session, name: str) -> int:
    party_id = session.scalar(select(Party.id).where(Party.name == name))
    if party_id is None:
        raise NotFoundError(f"no party named {name!r}; list them with 'deconfliction party list'")
    return int(party_id)

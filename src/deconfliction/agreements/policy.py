"""What a filer's agreements demand of one filing: checks, buffers, priorities, deadlines.

Loaded once per filing inside its transaction (:meth:`FilingPolicy.load`). Between two
parties with no agreement the service's defaults hold: its buffers, ``routine``
priority, the default acknowledgment deadlines and the default disclosure.

* **Footprints**: a volume larger than any of the filer's agreements allows is refused.
* **Buffers**: the candidate search uses the largest buffers across the filer's
  agreements (it may over-select, never under-select); the exact test of a candidate
  uses the buffers of the filer's pair with the candidate's party.
* **Window**: an agreement may widen the filer's notice horizon and longest window
  (``notice_horizon_s``, ``notice_max_duration_s``); the widest of them holds.
* **Lead time**: a notice starting sooner than an agreement's minimum lead time is
  ``short_notice`` for that counterpart, which is told (and alerted) at ``flash``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from deconfliction.agreements.service import Counterpart, counterparts, signature_required
from deconfliction.agreements.terms import AckDeadlines, Disclosure, Priority
from deconfliction.core.units import Seconds
from deconfliction.core.volume import Buffers, Volume4D
from deconfliction.errors import ValidationError
from deconfliction.parties import PartyRef

__all__ = ["FilingPolicy"]


@dataclass(frozen=True)
class FilingPolicy:
    """The filer's agreements, by counterpart id, and the defaults for everyone else."""

    party: PartyRef
    counterparts: Mapping[int, Counterpart]
    default_buffers: Buffers
    default_deadlines: AckDeadlines
    default_disclosure: Disclosure = Disclosure.ANONYMOUS
    default_exact_after_s: Seconds = 0.0

    @classmethod
    def load(
        cls,
        session: Session,
        party: PartyRef,
        default_buffers: Buffers,
        default_deadlines: AckDeadlines,
        default_disclosure: Disclosure = Disclosure.ANONYMOUS,
        default_exact_after_s: Seconds = 0.0,
    ) -> FilingPolicy:
        found = counterparts(session, party.id)
        return cls(
            party,
            found,
            default_buffers,
            default_deadlines,
            default_disclosure,
            default_exact_after_s,
        )

    def exact_after(self, party_id: int) -> Seconds:
        """How long before a conflict with ``party_id`` starts it is told exactly (0:
        at once); before that, coarsely."""
        c = self.counterparts.get(party_id)
        if c is None or c.terms.exact_after_s is None:
            return self.default_exact_after_s
        return c.terms.exact_after_s

    def disclosure(self, party_id: int) -> Disclosure:
        """What the filer and ``party_id`` learn of each other's conflicts."""
        c = self.counterparts.get(party_id)
        return self.default_disclosure if c is None else c.terms.disclosure

    def check_signed(self) -> None:
        """Refuse an unsigned filing when an agreement of the filer requires signatures."""
        if self.party.signature is None:
            required = [c.name for c in self.counterparts.values() if c.terms.require_signed]
            if required:
                raise signature_required(required)

    def check_footprints(self, volumes: tuple[Volume4D, ...]) -> None:
        """Refuse a volume whose footprint is larger than an agreement allows."""
        for index, volume in enumerate(volumes):
            area = volume.footprint.area_m2
            for c in self.counterparts.values():
                limit = c.terms.max_footprint_area_m2
                if area > limit:
                    raise ValidationError(
                        f"volumes[{index}]: its footprint covers {area / 1e6:,.1f} km², more "
                        f"than the {limit / 1e6:,.1f} km² that the {c.label} allows; "
                        "file smaller volumes that say where the activity is",
                        volume=index,
                        agreement=c.label,
                        limit_m2=limit,
                        area_m2=area,
                    )

    def widest(self, term: str) -> tuple[Seconds, str] | None:
        """The largest value of a window term (``notice_horizon_s`` or
        ``notice_max_duration_s``) among the filer's agreements, with the agreement's
        label; ``None`` where none sets it."""
        found = [
            (value, c.label)
            for c in self.counterparts.values()
            if (value := getattr(c.terms, term)) is not None
        ]
        return max(found) if found else None

    @property
    def search_buffers(self) -> Buffers:
        """Buffers wide enough for every pair: the candidate search's."""
        buffers = [self.default_buffers, *(c.terms.buffers for c in self.counterparts.values())]
        return Buffers(max(b.horizontal_m for b in buffers), max(b.vertical_m for b in buffers))

    def buffers_for(self, party_id: int) -> Buffers:
        """The buffers of the filer's pair with ``party_id``."""
        c = self.counterparts.get(party_id)
        return self.default_buffers if c is None else c.terms.buffers

    def is_short(self, party_id: int, lead_time_s: Seconds) -> bool:
        """Whether a lead time is below the minimum agreed with ``party_id``."""
        c = self.counterparts.get(party_id)
        return c is not None and lead_time_s < c.terms.min_lead_time_s

    def short_notice(self, lead_time_s: Seconds) -> bool:
        """Whether a lead time is below the minimum of any of the filer's agreements."""
        return any(self.is_short(pid, lead_time_s) for pid in self.counterparts)

    def priority(self, party_id: int, lead_time_s: Seconds) -> Priority:
        """The priority of what ``party_id`` is told of a notice: ``flash`` when short."""
        return Priority.FLASH if self.is_short(party_id, lead_time_s) else Priority.ROUTINE

    def deadline(self, party_id: int, priority: Priority, now: datetime) -> datetime:
        """When an item of ``priority`` between the filer and ``party_id`` must be
        acknowledged (the agreement's deadline, else the default)."""
        c = self.counterparts.get(party_id)
        deadlines = self.default_deadlines if c is None else c.terms.ack_deadlines
        return now + timedelta(seconds=deadlines.for_priority(priority))

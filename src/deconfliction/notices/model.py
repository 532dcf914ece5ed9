"""Notices, conflicts and alerts as the services hand them out (frozen, SI, UTC)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from deconfliction.core.volume import Volume4D

__all__ = [
    "AlertView",
    "ApprovalKind",
    "ApprovalState",
    "ApprovalView",
    "ConflictView",
    "Decision",
    "EscalationState",
    "FilingResult",
    "NoticeDraft",
    "NoticeState",
    "NoticeView",
]


class NoticeState(StrEnum):
    FILED = "filed"
    ACKNOWLEDGED = "acknowledged"
    ACTIVE = "active"
    CLOSED = "closed"
    CANCELLED = "cancelled"

    @property
    def is_live(self) -> bool:
        """Whether the notice still claims airspace (and so can conflict)."""
        return self in (NoticeState.FILED, NoticeState.ACKNOWLEDGED, NoticeState.ACTIVE)


class ApprovalKind(StrEnum):
    """What a notice needs from another party before it may activate."""

    ACKNOWLEDGMENT = "acknowledgment"
    """From a counterpart whose agreement requires it."""
    APPROVAL = "approval"
    """From an authority whose area the notice enters, when their agreement requires it."""


class ApprovalState(StrEnum):
    PENDING = "pending"
    ACKNOWLEDGED = "acknowledged"
    APPROVED = "approved"
    REJECTED = "rejected"

    @property
    def is_given(self) -> bool:
        """Whether this lets the notice activate."""
        return self in (ApprovalState.ACKNOWLEDGED, ApprovalState.APPROVED)


@dataclass(frozen=True)
class ApprovalView:
    """One party's acknowledgment or approval of a notice, and where it stands."""

    notice_id: str
    party: str
    kind: ApprovalKind
    state: ApprovalState
    reason: str | None
    requested_at: datetime
    decided_at: datetime | None


@dataclass(frozen=True)
class Decision:
    """A party's acknowledgment, approval or rejection of a notice, and the notice's state
    after it (the deciding party may not read the notice itself)."""

    approval: ApprovalView
    notice_state: NoticeState


class EscalationState(StrEnum):
    """Where an alert or message stands on its agreement's escalation ladder."""

    NONE = "none"
    """Its first deadline has not passed (or it was acknowledged in time)."""
    ESCALATED = "escalated"
    """Its deadline passed; it is at tier ``escalation_tier`` of the ladder."""
    STOPPED = "stopped"
    """It was acknowledged or resolved before the ladder ran out."""
    UNACKNOWLEDGED = "unacknowledged"
    """The last tier's deadline passed without acknowledgment; both sides were told."""

    @property
    def is_pending(self) -> bool:
        """Whether a passed deadline still escalates it."""
        return self in (EscalationState.NONE, EscalationState.ESCALATED)


@dataclass(frozen=True)
class NoticeDraft:
    """What a party files: a title and one or more validated volumes. ``standing``: an
    authority's standing zone (airspace structure, see :mod:`deconfliction.notices.zones`)
    rather than planned activity."""

    volumes: tuple[Volume4D, ...]
    title: str = ""
    standing: bool = False


@dataclass(frozen=True)
class NoticeView:
    """A party's own notice as stored. ``lead_time_s`` = earliest start minus the time it
    was filed (or last modified), seconds; ``short_notice`` when that is below the
    minimum of one of the filer's agreements; ``approvals``: what it awaits or got;
    ``standing``: an authority's standing zone rather than planned activity."""

    id: str
    party: str
    title: str
    state: NoticeState
    version: int
    filed_at: datetime
    updated_at: datetime
    lead_time_s: float
    volumes: tuple[Volume4D, ...]
    short_notice: bool = False
    approvals: tuple[ApprovalView, ...] = ()
    standing: bool = False


@dataclass(frozen=True)
class ConflictView:
    """A conflict as one side may see it: the overlap, never the other side's plan.

    ``position`` is the index of the viewer's own volume; ``geometry`` is GeoJSON of the
    intersection as :func:`~deconfliction.core.outline.told_outline` tells it (a
    LineString when the volumes meet only through a buffer).
    """

    id: str
    kind: str
    counterpart: str
    notice_id: str | None
    position: int | None
    geometry: dict[str, Any]
    lower_m: float
    upper_m: float
    start: datetime
    end: datetime


@dataclass(frozen=True)
class FilingResult:
    """A notice as filed (or modified) and the conflicts found for it."""

    notice: NoticeView
    conflicts: tuple[ConflictView, ...]
    replayed: bool = False


@dataclass(frozen=True)
class AlertView:
    """One party's alert: its conflict (need-to-know view), priority, state, and where it
    stands on the escalation ladder (``ack_deadline`` is the current tier's deadline)."""

    id: str
    kind: str
    state: str
    priority: str
    created_at: datetime
    acknowledged_at: datetime | None
    conflict: ConflictView
    ack_deadline: datetime | None = None
    escalation_tier: int = 0
    escalation_state: EscalationState = EscalationState.NONE

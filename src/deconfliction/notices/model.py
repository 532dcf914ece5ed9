"""Notices, conflicts and alerts as the services hand them out (frozen, SI, UTC)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from deconfliction.core.volume import Volume4D

__all__ = [
    "AlertView",
    "ConflictView",
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


@dataclass(frozen=True)
class NoticeDraft:
    """What a party files: a title and one or more validated volumes."""

    volumes: tuple[Volume4D, ...]
    title: str = ""


@dataclass(frozen=True)
class NoticeView:
    """A party's own notice as stored. ``lead_time_s`` = earliest start minus filed time."""

    id: str
    party: str
    title: str
    state: NoticeState
    version: int
    filed_at: datetime
    updated_at: datetime
    lead_time_s: float
    volumes: tuple[Volume4D, ...]


@dataclass(frozen=True)
class ConflictView:
    """A conflict as one side may see it: the overlap, never the other side's plan.

    ``position`` is the index of the viewer's own volume; ``geometry`` is GeoJSON of the
    intersection (a LineString when the volumes meet only through a buffer).
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
    """One party's alert: its conflict (need-to-know view), priority, state."""

    id: str
    kind: str
    state: str
    priority: str
    created_at: datetime
    acknowledged_at: datetime | None
    conflict: ConflictView

"""The services one app serves with, built from settings in the lifespan (never at import)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from deconfliction.agreements.service import AgreementService
from deconfliction.alerts import AlertService
from deconfliction.clock import Clock
from deconfliction.hotline.escalation import Escalation
from deconfliction.notices.lifecycle import NoticeLifecycle
from deconfliction.notices.service import NoticeService
from deconfliction.parties import Registry
from deconfliction.settings import Settings
from deconfliction.stats import StatsService
from deconfliction.store.database import Database
from deconfliction.tracks.service import TrackService

__all__ = ["Services"]


@dataclass(frozen=True)
class Services:
    settings: Settings
    clock: Clock
    db: Database
    registry: Registry
    notices: NoticeService
    alerts: AlertService
    agreements: AgreementService
    lifecycle: NoticeLifecycle
    escalation: Escalation
    stats: StatsService
    tracks: TrackService

    @classmethod
    def build(cls, settings: Settings, clock: Clock, db: Database) -> Services:
        return cls(
            settings=settings,
            clock=clock,
            db=db,
            registry=Registry(db, clock),
            notices=NoticeService(db, clock, settings),
            alerts=AlertService(db, clock),
            agreements=AgreementService(db, clock),
            lifecycle=NoticeLifecycle(db, clock),
            escalation=Escalation(db, clock),
            stats=StatsService(db),
            tracks=TrackService(db, clock, settings),
        )

    def run_once(self, now: datetime) -> None:
        """One scheduler run: notices the clock has made due, then escalations."""
        self.lifecycle.run_once(now)
        self.escalation.run_once(now)

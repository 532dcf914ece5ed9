"""The services one app serves with, built from settings in the lifespan (never at import)."""

from __future__ import annotations

from dataclasses import dataclass

from deconfliction.alerts import AlertService
from deconfliction.clock import Clock
from deconfliction.notices.service import NoticeService
from deconfliction.parties import Registry
from deconfliction.settings import Settings
from deconfliction.store.database import Database

__all__ = ["Services"]


@dataclass(frozen=True)
class Services:
    settings: Settings
    clock: Clock
    db: Database
    registry: Registry
    notices: NoticeService
    alerts: AlertService

    @classmethod
    def build(cls, settings: Settings, clock: Clock, db: Database) -> Services:
        return cls(
            settings=settings,
            clock=clock,
            db=db,
            registry=Registry(db, clock),
            notices=NoticeService(db, clock, settings),
            alerts=AlertService(db, clock),
        )

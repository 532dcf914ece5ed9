"""The services one app serves with, built from settings in the lifespan (never at import)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from deconfliction.agreements.service import AgreedDeadlines, AgreementService
from deconfliction.alerts import AlertService
from deconfliction.api.connections import Connections
from deconfliction.bus import Bus, bus_for
from deconfliction.clock import Clock
from deconfliction.delivery.outbox import PUBLISHED_KEY
from deconfliction.delivery.stream import AckBatcher, Deliveries, EventCache, GroupCommit
from deconfliction.disclosure import Disclosures
from deconfliction.f3548.dss import Dss
from deconfliction.f3548.enrolment import UssAuth
from deconfliction.f3548.routes import F3548
from deconfliction.f3548.tokens import TokenVerifier, load_public_keys
from deconfliction.hotline.escalation import Escalation
from deconfliction.hotline.messages import MessageService
from deconfliction.idempotency import forget_expired
from deconfliction.journal.log import TransparencyLog
from deconfliction.journal.receipts import ProofService
from deconfliction.limits import PartyLimits
from deconfliction.notices.lifecycle import NoticeLifecycle
from deconfliction.notices.service import NoticeService
from deconfliction.parties import Registry
from deconfliction.party_keys import PartyKeys
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
    limits: PartyLimits
    notices: NoticeService
    alerts: AlertService
    bus: Bus
    events: EventCache
    deliveries: Deliveries
    writer: GroupCommit
    acks: AckBatcher
    messages: MessageService
    proofs: ProofService
    log: TransparencyLog
    keys: PartyKeys
    agreements: AgreementService
    lifecycle: NoticeLifecycle
    escalation: Escalation
    disclosures: Disclosures
    stats: StatsService
    tracks: TrackService
    f3548: F3548
    connections: Connections

    @classmethod
    def build(cls, settings: Settings, clock: Clock, db: Database) -> Services:
        bus = bus_for(settings)
        events = EventCache()
        # The events are kept before the streams are woken, so a woken stream finds them.
        db.after_commit(events.take)
        db.after_commit(lambda info: bus.notify(info.get(PUBLISHED_KEY, ())))
        deliveries = Deliveries(db, clock)
        writer = GroupCommit(db)
        registry = Registry(db, clock, cache_s=settings.auth_cache_s)
        limits = PartyLimits(db, clock, settings, cache_s=settings.auth_cache_s)
        notices = NoticeService(db, clock, settings, limits=limits)
        audiences = tuple(a.strip() for a in settings.f3548_audiences.split(",") if a.strip())
        verifier = TokenVerifier(load_public_keys(settings.f3548_public_keys), audiences)
        return cls(
            settings=settings,
            clock=clock,
            db=db,
            registry=registry,
            limits=limits,
            notices=notices,
            alerts=AlertService(db, clock),
            bus=bus,
            events=events,
            deliveries=deliveries,
            writer=writer,
            acks=AckBatcher(deliveries, writer),
            messages=MessageService(db, clock, AgreedDeadlines(settings.ack_deadlines)),
            proofs=ProofService(db, clock),
            log=TransparencyLog(db, clock),
            keys=PartyKeys(db, clock),
            agreements=AgreementService(db, clock),
            lifecycle=NoticeLifecycle(db, clock),
            escalation=Escalation(db, clock),
            disclosures=Disclosures(db, clock, settings.disclosure_exact_after_s),
            stats=StatsService(db),
            tracks=TrackService(db, clock, settings, limits=limits),
            f3548=F3548(
                Dss(db, clock, notices, settings.f3548_max_subscription_s),
                UssAuth(verifier, registry),
            ),
            connections=Connections(),
        )

    @property
    def token_check_s(self) -> float:
        """Seconds between checks of an open stream's token: the auth cache period."""
        return self.settings.auth_cache_s if self.settings.auth_cache_s > 0 else 1.0

    def run_once(self, now: datetime) -> None:
        """One scheduler run: notices the clock has made due, then escalations, then
        idempotency keys past their time, then the journal's checkpoint when due."""
        self.lifecycle.run_once(now)
        self.escalation.run_once(now)
        self.disclosures.run_once(now)
        forget_expired(self.db, now - timedelta(seconds=self.settings.idempotency_ttl_s))
        self.log.run_once(now, self.settings.journal_checkpoint_s)

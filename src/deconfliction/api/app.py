"""``create_app(settings)``: builds the FastAPI app; the database opens in the lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from deconfliction import __version__
from deconfliction.api import problems
from deconfliction.api.limits import Gate
from deconfliction.api.routes import agreements, alerts, notices, parties, stats
from deconfliction.api.routes import console as console_routes
from deconfliction.api.routes import docs as docs_routes
from deconfliction.api.routes import journal as journal_routes
from deconfliction.api.routes import messages as message_routes
from deconfliction.api.routes import stream as stream_routes
from deconfliction.api.routes import tracks as track_routes
from deconfliction.api.services import Services
from deconfliction.clock import Clock, SystemClock
from deconfliction.f3548 import routes as f3548_routes
from deconfliction.journal.receipts import ensure_service_key
from deconfliction.settings import Settings
from deconfliction.store.database import Database
from deconfliction.tracks.service import run_ticks

__all__ = ["create_app"]

_log = logging.getLogger(__name__)


async def _schedule(services: Services, clock: Clock, tick_s: float, stop: asyncio.Event) -> None:
    """Every ``tick_s`` seconds, apply what the clock has made due (notices' lifecycle,
    escalation) until ``stop`` is set; a failed run is logged and the next one goes on.
    With ``tick_s`` <= 0 there is no scheduler."""
    if tick_s <= 0:
        return
    while not stop.is_set():
        try:
            await asyncio.to_thread(services.run_once, clock.now())
        except Exception:
            _log.exception("the scheduler's run failed; the next tick tries again")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), tick_s)


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    """The service as an ASGI app. Nothing opens until the app starts."""
    settings = settings or Settings.from_env()
    clock = clock or SystemClock()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(settings.database_url)
        db.migrate()
        ensure_service_key(db, clock)
        app.state.services = Services.build(settings, clock, db)
        services: Services = app.state.services
        app.state.f3548 = services.f3548
        await services.bus.start()
        writer = asyncio.create_task(services.writer.run(), name="group commit")
        acks = asyncio.create_task(services.acks.run(), name="acknowledgments")
        stop_scheduler = asyncio.Event()
        scheduler = asyncio.create_task(
            _schedule(services, clock, settings.tick_s, stop_scheduler), name="scheduler"
        )
        stop_engine = asyncio.Event()
        engine = asyncio.create_task(
            run_ticks(services.tracks, clock, settings.track_tick_s, stop_engine),
            name="tactical engine",
        )
        try:
            yield
        finally:
            stop_scheduler.set()
            await scheduler
            stop_engine.set()
            await engine
            acks.cancel()
            writer.cancel()
            await asyncio.gather(acks, writer, return_exceptions=True)
            await services.bus.close()
            db.dispose()

    app = FastAPI(
        title="Deconfliction",
        version=__version__,
        description="Tell each party what it needs to know to stay clear of the others.",
        lifespan=lifespan,
        docs_url=None,  # served from the package instead (routes.docs): no CDN
        redoc_url=None,
    )
    problems.install(app)

    app.add_middleware(Gate, settings=settings)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    # Busiest first: a request is matched against the routes in this order.
    app.include_router(message_routes.router)
    app.include_router(stream_routes.router)
    app.include_router(notices.router)
    app.include_router(track_routes.router)
    app.include_router(alerts.router)
    app.include_router(parties.router)
    app.include_router(agreements.router)
    app.include_router(stats.router)
    app.include_router(journal_routes.router)
    app.include_router(docs_routes.router)
    f3548_routes.install(app)
    console_routes.install(app)
    return app

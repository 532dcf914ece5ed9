"""``deconfliction demo``: the whole strategic mechanism on the embedded default.

Three parties over the eastern Mediterranean file notices through the real HTTP API;
the service finds where they meet in space and time, tells each side only what it
needs, and journals everything. Then it keeps serving (``--once`` exits instead).
"""

from __future__ import annotations

import signal
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
import typer
from rich.panel import Panel
from rich.table import Table

from deconfliction.agreements.service import AgreementService
from deconfliction.agreements.terms import Disclosure, Terms
from deconfliction.cli.context import console
from deconfliction.cli.serve import running_server
from deconfliction.clock import SystemClock
from deconfliction.journal.verify import verify_database
from deconfliction.parties import Registry
from deconfliction.settings import Settings
from deconfliction.store.database import Database

__all__ = ["demo"]

_FL = 30.48  # metres per flight level


def _box(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def _volume(
    geometry: dict[str, Any],
    lower_m: float,
    upper_m: float,
    start: datetime,
    end: datetime,
    radius_m: float | None = None,
) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "lower_m": lower_m,
        "upper_m": upper_m,
        "start": start.isoformat(),
        "end": end.isoformat(),
    }
    if radius_m is not None:
        properties["radius_m"] = radius_m
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def _scenario(now: datetime) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """(party, title, volumes) in filing order; times relative to ``now``."""
    h = timedelta(hours=1)
    t0 = now.replace(minute=0, second=0, microsecond=0) + 2 * h
    return [
        (
            "Northern Air Group",
            "CAP station ALPHA, FL150-FL300",
            [_volume(_box(35.55, 35.35, 36.10, 35.75), 150 * _FL, 300 * _FL, t0, t0 + 3 * h)],
        ),
        (
            "Coastal ANSP",
            "Medevac corridor LATAKIA-TARTUS, SFC-1500 m",
            [_volume(_box(35.70, 34.85, 35.95, 35.55), 0.0, 1500.0, t0 - h, t0 + 6 * h)],
        ),
        (
            "Southern Task Force",
            "Tanker track above CAP ALPHA, FL300-FL340",
            [_volume(_box(35.55, 35.35, 36.10, 35.75), 300 * _FL, 340 * _FL, t0, t0 + 3 * h)],
        ),
        (
            "Southern Task Force",
            "ISR orbit HOTEL, 25 km radius, 6,000-8,000 m",
            [
                _volume(
                    {"type": "Point", "coordinates": [36.05, 35.45]},
                    6000.0,
                    8000.0,
                    t0 + h,
                    t0 + 4 * h,
                    radius_m=25_000.0,
                )
            ],
        ),
        (
            "Coastal ANSP",
            "Airport approach protection, SFC-5,000 m",
            [
                _volume(
                    {"type": "Point", "coordinates": [35.95, 35.40]},
                    0.0,
                    5000.0,
                    t0 - h,
                    t0 + 8 * h,
                    radius_m=15_000.0,
                )
            ],
        ),
    ]


def _km2(geometry: dict[str, Any]) -> str:
    from shapely.geometry import shape

    from deconfliction.core.earth import WGS84

    area, _ = WGS84.geometry_area_perimeter(shape(geometry))
    return f"{abs(area) / 1e6:,.0f} km²"


def _run_scenario(base_url: str, tokens: dict[str, str], now: datetime) -> None:
    filings = Table(title="Filings: what each filer was told at once", show_lines=True)
    for column in ("party", "notice", "lead time", "conflicts found (counterpart, band, window)"):
        filings.add_column(column)
    notices: dict[str, dict[str, Any]] = {}
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for party, title, volumes in _scenario(now):
            response = client.post(
                "/v1/notices",
                json={"title": title, "volumes": volumes},
                headers={
                    "Authorization": f"Bearer {tokens[party]}",
                    "Idempotency-Key": f"demo-{party}-{title}",
                },
            )
            response.raise_for_status()
            body = response.json()
            notices[title] = body["notice"]
            found = (
                "\n".join(
                    f"{c['properties']['counterpart']}: "
                    f"{c['properties']['lower_m']:,.0f}-{c['properties']['upper_m']:,.0f} m, "
                    f"{c['properties']['start'][11:16]}-{c['properties']['end'][11:16]} UTC, "
                    f"{_km2(c['geometry'])}"
                    for c in body["conflicts"]
                )
                or "[green]none: clear[/]"
            )
            lead = timedelta(seconds=round(body["notice"]["lead_time_s"]))
            filings.add_row(party, title, str(lead), found)
        console.print(filings)

        # The ISR orbit moves east, clear of the CAP: a new version, its conflicts resolve.
        orbit = notices["ISR orbit HOTEL, 25 km radius, 6,000-8,000 m"]
        moved = orbit["volumes"]["features"]
        moved[0]["geometry"]["coordinates"] = [36.60, 35.60]
        response = client.put(
            f"/v1/notices/{orbit['id']}",
            json={
                "title": "ISR orbit HOTEL moved east",
                "volumes": moved,
                "version": orbit["version"],
            },
            headers={"Authorization": f"Bearer {tokens['Southern Task Force']}"},
        )
        response.raise_for_status()
        console.print(
            f"Southern Task Force moved ISR orbit HOTEL east (version "
            f"{response.json()['notice']['version']}): "
            f"{len(response.json()['conflicts'])} conflicts remain for it."
        )

        northern = {"Authorization": f"Bearer {tokens['Northern Air Group']}"}
        for alert in client.get("/v1/alerts?state=open", headers=northern).json():
            client.post(f"/v1/alerts/{alert['id']}/acknowledge", headers=northern)
            console.print(
                f"Northern Air Group acknowledged its alert about "
                f"{alert['conflict']['properties']['counterpart']}."
            )

        northern = {"Authorization": f"Bearer {tokens['Northern Air Group']}"}
        for alert in client.get("/v1/alerts?state=open", headers=northern).json():
            client.post(f"/v1/alerts/{alert['id']}/acknowledge", headers=northern)
            console.print(
                f"Northern Air Group acknowledged its alert about "
                f"{alert['conflict']['properties']['counterpart']}."
            )

        told = Table(title="What each party was told (need-to-know: overlap only)", show_lines=True)
        for column in (
            "party",
            "alert state",
            "counterpart",
            "own notice",
            "band",
            "window",
            "overlap",
        ):
            told.add_column(column)
        titles = {n["id"]: t for t, n in notices.items()}
        for party, token in tokens.items():
            alerts = client.get("/v1/alerts", headers={"Authorization": f"Bearer {token}"})
            alerts.raise_for_status()
            for alert in alerts.json():
                p = alert["conflict"]["properties"]
                told.add_row(
                    party,
                    alert["state"],
                    p["counterpart"],
                    titles.get(p["notice"], p["notice"]),
                    f"{p['lower_m']:,.0f}-{p['upper_m']:,.0f} m",
                    f"{p['start'][11:16]}-{p['end'][11:16]} UTC",
                    _km2(alert["conflict"]["geometry"]),
                )
        console.print(told)


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (``kill``, a service manager stopping the demo) raises
    :class:`KeyboardInterrupt` as Ctrl-C does, so the temporary database is removed
    either way; the handler before is put back afterwards."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    before = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


def demo(
    once: bool = typer.Option(False, "--once", help="Exit after the scenario (for tests and CI)."),
    port: int = typer.Option(8000, help="TCP port to keep serving on (0: any free port)."),
) -> None:
    """Show the mechanism: three parties file notices; conflicts, alerts, journal."""
    with (
        _sigterm_as_interrupt(),
        tempfile.TemporaryDirectory(prefix="deconfliction-demo-") as folder,
    ):
        url = f"sqlite:///{Path(folder) / 'demo.db'}"
        settings = Settings(database_url=url)
        db = Database(url)
        db.migrate()
        registry = Registry(db, SystemClock())
        tokens = {}
        for name, role in (
            ("Northern Air Group", "operator"),
            ("Southern Task Force", "operator"),
            ("Coastal ANSP", "authority"),
        ):
            tokens[name] = registry.add(name, role)[1]
        # The authority is named to both task forces; the task forces, with no agreement
        # between them, learn of each other only as another party (anonymous).
        agreements = AgreementService(db, SystemClock())
        for operator in ("Northern Air Group", "Southern Task Force"):
            agreements.set("Coastal ANSP", operator, Terms(disclosure=Disclosure.NAMED))
        console.print(
            Panel.fit(
                "Three parties share the airspace off the Levant coast. Each files its plans;\n"
                "the service finds where they meet in space AND time and tells each side\n"
                "only the overlap, never the whole plan; the counterpart's name only where\n"
                "their agreement discloses it (the two task forces have none: anonymous).",
                title="Deconfliction demo",
            )
        )
        try:
            with running_server(settings, port=0 if once else port) as base_url:
                console.print(f"service running at [bold]{base_url}[/] (database {url})")
                _run_scenario(base_url, tokens, datetime.now(UTC))
                check = verify_database(db)
                if check.first_break is not None:
                    console.print(
                        f"[red]journal broken at entry {check.first_break.seq}[/]: "
                        f"{check.first_break.reason}"
                    )
                    raise typer.Exit(1)
                console.print(
                    f"[green]journal intact[/]: {check.head_seq} entries, every one chained "
                    f"to the one before (head {check.head_hash[:16]}…)"
                )
                if once:
                    return
                console.print(
                    f"\nStill serving at [bold]{base_url}[/] (API docs at {base_url}/docs, "
                    f"operator console at {base_url}/console/). "
                    "Tokens for trying the API:"
                )
                for name, token in tokens.items():
                    console.print(f"  {name}: {token}")
                try:
                    console.print("Ctrl-C stops.")
                    while True:
                        time.sleep(1)
                except KeyboardInterrupt:
                    console.print("stopped")
        finally:
            db.dispose()

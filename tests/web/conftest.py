"""The browser tests' shared service (one server, one Chromium for all of ``tests/web``).

Without a chromium binary these tests skip, except under CI (``$CI`` set): they fail.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from deconfliction.agreements.service import AgreementService
from deconfliction.agreements.terms import Terms
from deconfliction.clock import SystemClock
from deconfliction.parties import Registry
from deconfliction.store.database import Database
from tests.web.cdp import Page, chromium_binary, page_in_chromium
from tests.web.seeded import (
    ALPHA_BOX,
    BRAVO_BOX,
    CIRCLE,
    MESSAGE,
    ZONE_OPENAIR,
    Service,
    file_notice,
    free_port,
    polygon,
    volume,
)


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The real server with Alpha's and Bravo's overlapping notices and Bravo's message."""
    chromium_binary()  # skip (or fail under CI) before starting anything
    folder = tmp_path_factory.mktemp("console")
    url = f"sqlite:///{folder / 'console.db'}"
    db = Database(url)
    db.migrate()
    registry = Registry(db, SystemClock())
    tokens = {name: registry.add(name, "operator")[1] for name in ("Alpha", "Bravo", "Charlie")}
    tokens["Delta"] = registry.add("Delta", "authority")[1]
    agreements = AgreementService(db, SystemClock())
    agreements.set("Alpha", "Charlie", Terms(activation_requires_acknowledgment=True))
    agreements.set("Charlie", "Delta", Terms(authority_approval_required=True))
    db.dispose()
    zones = folder / "delta.txt"
    zones.write_text(ZONE_OPENAIR)
    imported = subprocess.run(
        [
            sys.executable,
            "-m",
            "deconfliction",
            "zones",
            "import",
            str(zones),
            "-p",
            "Delta",
            "-d",
            url,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert imported.returncode == 0, imported.stdout + imported.stderr
    port = free_port()
    with (folder / "server.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "deconfliction", "serve", "--port", str(port), "-d", url],
            stdout=subprocess.DEVNULL,
            stderr=log,
            # a deployment whose parties are named to each other without an agreement:
            # the console shows counterparts by name (the default would be anonymous)
            env={**os.environ, "DECONFLICTION_DISCLOSURE_DEFAULT": "named"},
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", trust_env=False).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, (folder / "server.log").read_text()
            assert time.monotonic() < deadline, "the server did not start within 30 s"
            time.sleep(0.1)
        start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=3)
        service = Service(base, tokens, start)
        file_notice(service, "Bravo", "Bravo patrol", volume(polygon(*BRAVO_BOX), start, 3))
        lon, lat, radius = CIRCLE
        circle = {"type": "Point", "coordinates": [lon, lat]}
        file_notice(
            service,
            "Alpha",
            "Alpha sortie",
            volume(polygon(*ALPHA_BOX), start + timedelta(hours=1), 2),
            volume(circle, start, 4, radius_m=radius),
        )
        with service.api("Bravo") as bravo:
            sent = bravo.post("/v1/messages", json={"to": "Alpha", "text": MESSAGE})
            assert sent.status_code == 201, sent.text
        yield service
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def browser(service: Service, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    with page_in_chromium(
        chromium_binary(), tmp_path_factory.mktemp("chromium") / "profile"
    ) as page:
        yield page


@pytest.fixture
def page(browser: Page) -> Iterator[Page]:
    """The tab on a blank page; the test fails on any error the page reported, and on
    any request it tried beyond loopback."""
    browser.navigate("about:blank")
    browser.errors.clear()
    browser.offsite.clear()
    yield browser
    assert browser.errors == [], "the page reported errors"
    assert browser.offsite == [], "the page tried to reach beyond this machine"

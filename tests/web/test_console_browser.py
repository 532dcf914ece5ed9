"""The operator console in a real browser (headless Chromium) against a real server.

The service runs as ``deconfliction serve`` on a SQLite file; two operators, Alpha and
Bravo, file overlapping notices and Bravo writes to Alpha, all through the API. Alpha
then works the console as a person does (typing, clicking), and the effects are checked
in the page and through the API. Every test also fails on any error the page reports:
script exceptions, console errors, Content-Security-Policy violations, failed loads.

Without a chromium binary these tests skip, except under CI (``$CI`` set): they fail.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from deconfliction.clock import SystemClock
from deconfliction.parties import Registry
from deconfliction.store.database import Database
from tests.web.cdp import Page, chromium_binary, page_in_chromium

pytestmark = pytest.mark.timeout(120)

METRES_PER_DEGREE = 111195.08
"""Along a meridian on the mean Earth sphere (radius 6371008.8 m), as the map draws it."""

ALPHA_BOX = (8.2, 47.2, 8.5, 47.5)
BRAVO_BOX = (8.0, 47.0, 8.3, 47.3)
CIRCLE = (8.6, 47.1, 5000.0)  # Alpha's second volume: lon, lat, radius (m); meets nothing
MESSAGE = "Bravo here: we hold our box until 14:00Z, keep east of 8.3 E"


@dataclass(frozen=True)
class Service:
    url: str
    tokens: dict[str, str]
    start: datetime  # a whole hour, a few hours ahead: when the seeded notices begin

    def api(self, party: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {self.tokens[party]}"},
            trust_env=False,
        )


def _polygon(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def _volume(geometry: dict[str, Any], start: datetime, hours: float, **extra: Any) -> Any:
    return {
        "type": "Feature",
        "geometry": geometry,
        "properties": {
            "lower_m": 0.0,
            "upper_m": 3000.0,
            "start": start.isoformat(),
            "end": (start + timedelta(hours=hours)).isoformat(),
            **extra,
        },
    }


def _file(service: Service, party: str, title: str, *volumes: Any) -> dict[str, Any]:
    with service.api(party) as api:
        response = api.post("/v1/notices", json={"title": title, "volumes": list(volumes)})
    assert response.status_code == 201, response.text
    return dict(response.json())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The real server with Alpha's and Bravo's overlapping notices and Bravo's message."""
    chromium_binary()  # skip (or fail under CI) before starting anything
    folder = tmp_path_factory.mktemp("console")
    url = f"sqlite:///{folder / 'console.db'}"
    db = Database(url)
    db.migrate()
    registry = Registry(db, SystemClock())
    tokens = {name: registry.add(name, "operator")[1] for name in ("Alpha", "Bravo")}
    db.dispose()
    port = _free_port()
    with (folder / "server.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "deconfliction", "serve", "--port", str(port), "-d", url],
            stdout=subprocess.DEVNULL,
            stderr=log,
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
        _file(service, "Bravo", "Bravo patrol", _volume(_polygon(*BRAVO_BOX), start, 3))
        lon, lat, radius = CIRCLE
        circle = {"type": "Point", "coordinates": [lon, lat]}
        _file(
            service,
            "Alpha",
            "Alpha sortie",
            _volume(_polygon(*ALPHA_BOX), start + timedelta(hours=1), 2),
            _volume(circle, start, 4, radius_m=radius),
        )
        with service.api("Bravo") as bravo:
            sent = bravo.post("/v1/messages", json={"to": "Alpha", "text": MESSAGE})
            assert sent.status_code == 201, sent.text
        yield service
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def browser(service: Service, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    with page_in_chromium(
        chromium_binary(), tmp_path_factory.mktemp("chromium") / "profile"
    ) as page:
        yield page


@pytest.fixture
def page(browser: Page) -> Iterator[Page]:
    """The tab on a blank page; the test fails on any error the page reported."""
    browser.navigate("about:blank")
    browser.errors.clear()
    yield browser
    assert browser.errors == [], "the page reported errors"


def _signed_out(page: Page, service: Service) -> None:
    """Open the console with no token in the tab (forgotten on a page of the origin that
    runs no console, so no sign-in in flight can save it again)."""
    page.navigate(f"{service.url}/healthz")
    page.evaluate("sessionStorage.clear()")
    page.navigate(f"{service.url}/console/")


def _sign_in(page: Page, service: Service, party: str) -> None:
    _signed_out(page, service)
    page.type("#token", service.tokens[party])
    page.click("#sign-in-form button[type=submit]")
    page.wait_for(f"document.querySelector('#party')?.textContent === {json.dumps(party)}")


def _text(page: Page, selector: str) -> str:
    return str(page.evaluate(f"document.querySelector({json.dumps(selector)})?.textContent ?? ''"))


def _count(page: Page, selector: str) -> int:
    return int(page.evaluate(f"document.querySelectorAll({json.dumps(selector)}).length"))


def _box(page: Page, selector: str) -> tuple[float, float, float, float]:
    """(x, y, width, height) of an SVG element, in the map's own units."""
    box = page.evaluate(
        f"(() => {{ const b = document.querySelector({json.dumps(selector)}).getBBox();"
        " return [b.x, b.y, b.width, b.height]; })()"
    )
    return (box[0], box[1], box[2], box[3])


def _drawn(service: Service, party: str) -> tuple[int, int]:
    """(footprints, overlaps) the map should hold, from the API: every volume of a
    notice that still claims airspace, and every alert that is not resolved."""
    with service.api(party) as api:
        notices = api.get("/v1/notices").json()
        alerts = api.get("/v1/alerts").json()
    footprints = sum(
        len(n["volumes"]["features"]) for n in notices if n["state"] not in ("cancelled", "closed")
    )
    return footprints, sum(1 for a in alerts if a["state"] != "resolved")


def _set_field(page: Page, selector: str, value: str) -> None:
    """Set a date-time field (its picker is not typed into) as its input event would."""
    page.evaluate(
        f"(() => {{ const f = document.querySelector({json.dumps(selector)});"
        f" f.value = {json.dumps(value)}; f.dispatchEvent(new Event('input', {{bubbles: true}}));"
        " })()"
    )


def _fill_circle(
    page: Page,
    lon: float,
    lat: float,
    radius_m: float,
    start: datetime,
    end: datetime,
    lower_m: float = 0.0,
    upper_m: float = 3000.0,
) -> None:
    for field, value in [
        ("#file-title-input", "console sortie"),
        ("#file-lon", lon),
        ("#file-lat", lat),
        ("#file-radius", radius_m),
        ("#file-lower", lower_m),
        ("#file-upper", upper_m),
    ]:
        page.type(field, str(value))
    _set_field(page, "#file-start", start.strftime("%Y-%m-%dT%H:%M"))
    _set_field(page, "#file-end", end.strftime("%Y-%m-%dT%H:%M"))


def test_sign_in_shows_the_party_its_alerts_messages_and_map(page: Page, service: Service) -> None:
    _sign_in(page, service, "Alpha")
    assert _text(page, "#role") == "operator"
    assert service.tokens["Alpha"] not in page.evaluate("location.href")
    assert page.evaluate("sessionStorage.getItem('deconfliction.token')") == service.tokens["Alpha"]

    page.wait_for(
        "[...document.querySelectorAll('#alerts li[data-alert]')]"
        ".some(li => li.textContent.includes('Conflict with Bravo'))"
    )
    page.wait_for(
        "[...document.querySelectorAll('#messages li[data-message]')]"
        f".some(li => li.textContent.includes({json.dumps(MESSAGE)}))"
    )
    assert "From Bravo" in _text(page, "#messages li[data-message]")
    with service.api("Alpha") as api:
        assert _count(page, "#notices li[data-notice]") == len(api.get("/v1/notices").json())

    footprints, overlaps = _drawn(service, "Alpha")
    assert (_count(page, "#map-notices path"), _count(page, "#map-overlaps path")) == (
        footprints,
        overlaps,
    )
    with service.api("Alpha") as api:
        sortie = next(n for n in api.get("/v1/notices").json() if n["title"] == "Alpha sortie")
        alert = next(
            a
            for a in api.get("/v1/alerts").json()
            if a["conflict"]["properties"]["notice"] == sortie["id"]
        )
    own = _box(page, f"#map-notices path[data-notice='{sortie['id']}'][data-volume='0']")
    circle = _box(page, f"#map-notices path[data-notice='{sortie['id']}'][data-volume='1']")
    overlap = _box(page, f"#map-overlaps path[data-alert='{alert['id']}']")
    # the two boxes overlap in 0.1° x 0.1° at the south-west corner of Alpha's box
    west, south, east, north = ALPHA_BOX
    assert overlap[2] / own[2] == pytest.approx(0.1 / (east - west), rel=1e-2)
    assert overlap[3] / own[3] == pytest.approx(0.1 / (north - south), rel=1e-2)
    assert overlap[0] == pytest.approx(own[0], abs=0.5)
    assert overlap[1] + overlap[3] == pytest.approx(own[1] + own[3], abs=0.5)
    # the circle's height is its diameter on the latitude scale, and it is drawn round
    # (one scale on both axes near its latitude: a plain lon/lat plot stretches it 1.47x)
    radius = CIRCLE[2]
    assert circle[3] / own[3] == pytest.approx(2 * radius / METRES_PER_DEGREE / 0.3, rel=1e-2)
    assert circle[2] / circle[3] == pytest.approx(1.0, abs=0.02)

    page.navigate(f"{service.url}/console/")  # a reload keeps the tab signed in
    page.wait_for("document.querySelector('#party')?.textContent === 'Alpha'")


def test_acknowledge_changes_the_alert_state(page: Page, service: Service) -> None:
    _file(
        service,
        "Bravo",
        "Bravo relief",
        _volume(_polygon(8.35, 47.35, 8.45, 47.45), service.start, 3),
    )
    with service.api("Alpha") as api:
        alert = next(
            a
            for a in api.get("/v1/alerts", params={"state": "open"}).json()
            if a["conflict"]["properties"]["counterpart"] == "Bravo"
        )
    item = f"#alerts li[data-alert={json.dumps(alert['id'])}]"
    _sign_in(page, service, "Alpha")
    page.wait_for(f"!!document.querySelector({json.dumps(item + ' button')})")
    assert _text(page, f"{item} .state") == "open"

    page.click(f"{item} button")

    page.wait_for(
        f"document.querySelector({json.dumps(item + ' .state')})?.textContent === 'acknowledged'"
    )
    assert _count(page, f"{item} button") == 0
    with service.api("Alpha") as api:
        after = api.get(f"/v1/alerts/{alert['id']}").json()
    assert after["state"] == "acknowledged"
    assert after["acknowledged_at"] is not None


def test_acknowledging_a_message_tells_its_sender(page: Page, service: Service) -> None:
    with service.api("Bravo") as bravo:
        sent = bravo.post(
            "/v1/messages", json={"to": "Alpha", "text": "confirm you copy", "priority": "urgent"}
        ).json()
    item = f"#messages li[data-message={json.dumps(sent['id'])}]"
    _sign_in(page, service, "Alpha")
    page.wait_for(f"!!document.querySelector({json.dumps(item + ' button')})")
    assert "confirm you copy" in _text(page, item)

    page.click(f"{item} button")

    page.wait_for(
        f"document.querySelector({json.dumps(item + ' .state')})?.textContent === 'acknowledged'"
    )
    with service.api("Bravo") as bravo:
        assert bravo.get(f"/v1/messages/{sent['id']}").json()["acknowledged_at"] is not None


@pytest.mark.parametrize(
    ("hours", "band", "what"),
    [((3, 2), (0.0, 3000.0), "end before start"), ((2, 3), (2000.0, 1000.0), "band upside down")],
)
def test_a_refused_filing_shows_the_problem_detail(
    page: Page, service: Service, hours: tuple[int, int], band: tuple[float, float], what: str
) -> None:
    start, end = (service.start + timedelta(hours=h) for h in hours)
    with service.api("Alpha") as api:
        before = len(api.get("/v1/notices").json())
        circle = {"type": "Point", "coordinates": [8.25, 47.25]}
        volume = _volume(circle, start, 0, radius_m=2000.0)
        volume["properties"].update(end=end.isoformat(), lower_m=band[0], upper_m=band[1])
        refused = api.post("/v1/notices", json={"title": "console sortie", "volumes": [volume]})
    assert refused.status_code == 422, f"{what}: {refused.text}"
    _sign_in(page, service, "Alpha")

    _fill_circle(page, 8.25, 47.25, 2000.0, start, end, *band)
    page.click("#file-form button[type=submit]")

    shown = page.wait_for("document.querySelector('#file-problem').textContent")
    assert shown == refused.json()["detail"]
    assert _count(page, "#filed-conflicts") == 0
    with service.api("Alpha") as api:
        assert len(api.get("/v1/notices").json()) == before


def test_filing_lists_its_conflicts_and_new_alerts_arrive_live(
    page: Page, service: Service
) -> None:
    _sign_in(page, service, "Alpha")
    page.wait_for("document.querySelector('#live').dataset.mode === 'stream'")
    page.evaluate("window.sameDocument = true")

    _fill_circle(page, 8.1, 47.1, 3000.0, service.start, service.start + timedelta(hours=2))
    page.click("#file-form button[type=submit]")

    page.wait_for(
        "[...document.querySelectorAll('#filed-conflicts li')]"
        ".some(li => li.textContent.includes('Bravo'))"
    )
    notice_id = _text(page, "#filed p").split()[1]
    with service.api("Alpha") as api:
        filed = api.get(f"/v1/notices/{notice_id}").json()
        conflicts = api.get(f"/v1/notices/{notice_id}/conflicts").json()
    assert filed["title"] == "console sortie"
    assert filed["volumes"]["features"][0]["properties"]["radius_m"] == 3000.0
    assert _count(page, "#filed-conflicts li") == len(conflicts) > 0
    page.wait_for(f"!!document.querySelector('#notices li[data-notice={json.dumps(notice_id)}]')")
    footprints, overlaps = _drawn(service, "Alpha")
    page.wait_for(f"document.querySelectorAll('#map-notices path').length === {footprints}")

    # Bravo files over Alpha's new circle: Alpha's console shows the alert unprompted
    _file(
        service,
        "Bravo",
        "Bravo late patrol",
        _volume(_polygon(8.05, 47.05, 8.15, 47.15), service.start, 1),
    )
    _, overlaps = _drawn(service, "Alpha")
    page.wait_for(f"document.querySelectorAll('#map-overlaps path').length === {overlaps}")
    page.wait_for(
        f"document.querySelectorAll('#alerts li.open').length === {_open(service, 'Alpha')}"
    )
    assert page.evaluate("window.sameDocument") is True  # no reload: pushed over the stream


def _open(service: Service, party: str) -> int:
    with service.api(party) as api:
        return len(api.get("/v1/alerts", params={"state": "open"}).json())


NO_WEBSOCKET = """
window.WebSocket = class {
  constructor() { setTimeout(() => this.onclose?.({ code: 1006 }), 0); }
  send() {}
  close() {}
};
"""
"""A browser (or a proxy) where the WebSocket never opens."""


def test_without_a_websocket_the_console_polls(page: Page, service: Service) -> None:
    with page.scripted(NO_WEBSOCKET):
        _sign_in(page, service, "Alpha")
        page.wait_for("document.querySelector('#live').dataset.mode === 'poll'")
        page.evaluate("window.sameDocument = true")
        before = _open(service, "Alpha")
        _file(
            service,
            "Bravo",
            "Bravo sweep",
            _volume(_polygon(8.22, 47.22, 8.27, 47.27), service.start + timedelta(hours=1), 1),
        )
        assert _open(service, "Alpha") == before + 1
        page.wait_for(f"document.querySelectorAll('#alerts li.open').length === {before + 1}")
        assert page.evaluate("window.sameDocument") is True
        page.click("#sign-out")
    # the server holds the long poll the console dropped until an event for Alpha comes
    # (and would make the server's shutdown wait for it): end it with one
    with service.api("Bravo") as bravo:
        assert bravo.post("/v1/messages", json={"to": "Alpha", "text": "end"}).status_code == 201


def test_a_wrong_token_is_refused_and_signing_out_forgets_the_token(
    page: Page, service: Service
) -> None:
    _signed_out(page, service)
    page.type("#token", "not-a-token")
    page.click("#sign-in-form button[type=submit]")
    with httpx.Client(base_url=service.url, trust_env=False) as api:
        refused = api.get("/v1/me", headers={"Authorization": "Bearer not-a-token"})
    assert refused.status_code == 401
    assert (
        page.wait_for("document.querySelector('#sign-in-error').textContent")
        == refused.json()["detail"]
    )
    assert page.evaluate("document.querySelector('#console').hidden") is True

    _sign_in(page, service, "Bravo")
    page.click("#sign-out")
    page.wait_for("!document.querySelector('#sign-in').hidden")
    assert page.evaluate("sessionStorage.getItem('deconfliction.token')") is None
    assert page.evaluate("document.activeElement.id") == "token"

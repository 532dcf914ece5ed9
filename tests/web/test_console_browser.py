"""The operator console in a real browser (headless Chromium) against a real server.

Alpha works the console as a person does (typing, clicking) in the service of
``tests/web/seeded.py``, and the effects are checked in the page and through the API.
Every test also fails on any error the page reports (script exceptions, console
errors, Content-Security-Policy violations, failed loads) and on any request it tries
beyond loopback.
"""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest

from tests.web.cdp import Page
from tests.web.seeded import (
    ALPHA_BOX,
    CIRCLE,
    MESSAGE,
    METRES_PER_DEGREE,
    Service,
    box,
    count,
    drawn,
    file_notice,
    fill_circle,
    polygon,
    sign_in,
    signed_out,
    text,
    volume,
)

pytestmark = pytest.mark.timeout(120)


def test_sign_in_shows_the_party_its_alerts_messages_and_map(page: Page, service: Service) -> None:
    sign_in(page, service, "Alpha")
    assert text(page, "#role") == "operator"
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
    assert "From Bravo" in text(page, "#messages li[data-message]")
    with service.api("Alpha") as api:
        assert count(page, "#notices li[data-notice]") == len(api.get("/v1/notices").json())

    footprints, overlaps = drawn(service, "Alpha")
    assert (
        count(page, ".leaflet-notices-pane path"),
        count(page, ".leaflet-overlaps-pane path"),
    ) == (
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
    own = box(page, f".leaflet-notices-pane path[data-notice='{sortie['id']}'][data-volume='0']")
    circle = box(page, f".leaflet-notices-pane path[data-notice='{sortie['id']}'][data-volume='1']")
    overlap = box(page, f".leaflet-overlaps-pane path[data-alert='{alert['id']}']")
    # the two boxes overlap in 0.1° x 0.1° at the south-west corner of Alpha's box
    west, south, east, north = ALPHA_BOX
    assert overlap[2] / own[2] == pytest.approx(0.1 / (east - west), rel=1e-2)
    assert overlap[3] / own[3] == pytest.approx(0.1 / (north - south), rel=1e-2)
    assert overlap[0] == pytest.approx(own[0], abs=0.5)
    assert overlap[1] + overlap[3] == pytest.approx(own[1] + own[3], abs=0.5)
    # the circle's height is its diameter on the latitude scale (Mercator: within 2 %),
    # and it is drawn round (a plain lon/lat plot would stretch it 1.47x)
    radius = CIRCLE[2]
    assert circle[3] / own[3] == pytest.approx(2 * radius / METRES_PER_DEGREE / 0.3, rel=2e-2)
    assert circle[2] / circle[3] == pytest.approx(1.0, abs=0.02)

    page.navigate(f"{service.url}/console/")  # a reload keeps the tab signed in
    page.wait_for("document.querySelector('#party')?.textContent === 'Alpha'")


def test_acknowledge_changes_the_alert_state(page: Page, service: Service) -> None:
    file_notice(
        service,
        "Bravo",
        "Bravo relief",
        volume(polygon(8.35, 47.35, 8.45, 47.45), service.start, 3),
    )
    with service.api("Alpha") as api:
        alert = next(
            a
            for a in api.get("/v1/alerts", params={"state": "open"}).json()
            if a["conflict"]["properties"]["counterpart"] == "Bravo"
        )
    item = f"#alerts li[data-alert={json.dumps(alert['id'])}]"
    sign_in(page, service, "Alpha")
    page.wait_for(f"!!document.querySelector({json.dumps(item + ' button')})")
    assert text(page, f"{item} .state") == "open"

    page.click(f"{item} button")

    page.wait_for(
        f"document.querySelector({json.dumps(item + ' .state')})?.textContent === 'acknowledged'"
    )
    assert count(page, f"{item} button") == 0
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
    sign_in(page, service, "Alpha")
    page.wait_for(f"!!document.querySelector({json.dumps(item + ' button.ack')})")
    assert "confirm you copy" in text(page, item)

    page.click(f"{item} button.ack")

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
        bad = volume(circle, start, 0, radius_m=2000.0)
        bad["properties"].update(end=end.isoformat(), lower_m=band[0], upper_m=band[1])
        refused = api.post("/v1/notices", json={"title": "console sortie", "volumes": [bad]})
    assert refused.status_code == 422, f"{what}: {refused.text}"
    sign_in(page, service, "Alpha")

    fill_circle(page, 8.25, 47.25, 2000.0, start, end, *band)
    page.click("#file-form button[type=submit]")

    shown = page.wait_for("document.querySelector('#file-problem').textContent")
    assert shown == refused.json()["detail"]
    assert count(page, "#filed-conflicts") == 0
    with service.api("Alpha") as api:
        assert len(api.get("/v1/notices").json()) == before


def test_filing_lists_its_conflicts_and_new_alerts_arrive_live(
    page: Page, service: Service
) -> None:
    sign_in(page, service, "Alpha")
    page.wait_for("document.querySelector('#live').dataset.mode === 'stream'")
    page.evaluate("window.sameDocument = true")

    fill_circle(page, 8.1, 47.1, 3000.0, service.start, service.start + timedelta(hours=2))
    page.click("#file-form button[type=submit]")

    page.wait_for(
        "[...document.querySelectorAll('#filed-conflicts li')]"
        ".some(li => li.textContent.includes('Bravo'))"
    )
    notice_id = text(page, "#filed p").split()[1]
    with service.api("Alpha") as api:
        filed = api.get(f"/v1/notices/{notice_id}").json()
        conflicts = api.get(f"/v1/notices/{notice_id}/conflicts").json()
    assert filed["title"] == "console sortie"
    assert filed["volumes"]["features"][0]["properties"]["radius_m"] == 3000.0
    assert count(page, "#filed-conflicts li") == len(conflicts) > 0
    page.wait_for(f"!!document.querySelector('#notices li[data-notice={json.dumps(notice_id)}]')")
    footprints, overlaps = drawn(service, "Alpha")
    page.wait_for(
        f"document.querySelectorAll('.leaflet-notices-pane path').length === {footprints}"
    )

    # Bravo files over Alpha's new circle: Alpha's console shows the alert unprompted
    file_notice(
        service,
        "Bravo",
        "Bravo late patrol",
        volume(polygon(8.05, 47.05, 8.15, 47.15), service.start, 1),
    )
    _, overlaps = drawn(service, "Alpha")
    page.wait_for(f"document.querySelectorAll('.leaflet-overlaps-pane path').length === {overlaps}")
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
        sign_in(page, service, "Alpha")
        page.wait_for("document.querySelector('#live').dataset.mode === 'poll'")
        page.evaluate("window.sameDocument = true")
        before = _open(service, "Alpha")
        file_notice(
            service,
            "Bravo",
            "Bravo sweep",
            volume(polygon(8.22, 47.22, 8.27, 47.27), service.start + timedelta(hours=1), 1),
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
    signed_out(page, service)
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

    sign_in(page, service, "Bravo")
    page.click("#sign-out")
    page.wait_for("!document.querySelector('#sign-in').hidden")
    assert page.evaluate("sessionStorage.getItem('deconfliction.token')") is None
    assert page.evaluate("document.activeElement.id") == "token"


RATE_LIMITED_ONCE = """
window.refused = [];
const realFetch = window.fetch;
window.fetch = (path, init) => {
  if (String(path).startsWith("/v1/") && !window.refused.includes(String(path))) {
    window.refused.push(String(path));
    return Promise.resolve(new Response(
      JSON.stringify({ status: 429, code: "rate-limited", detail: "slow down" }),
      { status: 429, headers: { "Content-Type": "application/problem+json", "Retry-After": "1" } },
    ));
  }
  return realFetch(path, init);
};
"""
"""The service refuses each API request once for the party's rate (429, Retry-After 1)."""


def test_a_rate_limited_request_is_sent_again_after_retry_after(
    page: Page, service: Service
) -> None:
    with page.scripted(RATE_LIMITED_ONCE):
        sign_in(page, service, "Alpha")
        assert page.evaluate("window.refused.length") >= 1
        page.wait_for("document.querySelectorAll('#notices li').length > 0")

"""The console's map in Chromium, judged by what the screen shows (pixels of screenshots),
not only by the page's elements: the basemap, the layers, the time slider, the altitude
band and live traffic. The browser is denied every request beyond loopback."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PIL import Image

from tests.web.cdp import Page
from tests.web.seeded import CIRCLE, ZONE_BOX, Service, count, sign_in

pytestmark = pytest.mark.timeout(120)

MAP = "document.getElementById('map').airspace.map"
LAND = (236, 232, 217)
SEA = (188, 211, 230)
NOTICE_ONLY = (8.45, 47.25)  # in Alpha's box and in no one else's
OVERLAP = (8.29, 47.21)  # where Alpha's box meets Bravo's


def _near(a: tuple[int, ...], b: tuple[int, ...], tolerance: int = 12) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


def _border(colour: tuple[int, int, int]) -> bool:
    """A pixel of a land border (dashed, grey-violet: darker than land, not green-grey
    as the coast is, nor blue as the sea)."""
    r, g, b = colour
    return r + g + b < sum(LAND) - 60 and b >= g and r < b + 40


def _at(page: Page, image: Image.Image, lon: float, lat: float) -> tuple[int, int, int]:
    """The colour the screen shows at (lon, lat): the median of a 3x3 patch there."""
    x, y = page.evaluate(f"(p => [p.x, p.y])({MAP}.latLngToContainerPoint([{lat}, {lon}]))")
    patch = [
        image.getpixel((round(x) + dx, round(y) + dy)) for dx in (-1, 0, 1) for dy in (-1, 0, 1)
    ]
    r, g, b = (sorted(c[i] for c in patch)[4] for i in range(3))
    return (r, g, b)


def _view(page: Page, lat: float, lon: float, zoom: float) -> None:
    page.evaluate(f"void {MAP}.setView([{lat}, {lon}], {zoom}, {{animate: false}})")


def _sortie(service: Service) -> dict[str, Any]:
    with service.api("Alpha") as api:
        notices = api.get("/v1/notices").json()
    return dict(next(n for n in notices if n["title"] == "Alpha sortie"))


def _signed_in_with_map(page: Page, service: Service, party: str = "Alpha") -> None:
    sign_in(page, service, party)
    page.wait_for("document.getElementById('map').dataset.basemap === 'drawn'")


def _shown(page: Page, selector: str) -> bool:
    return count(page, selector) > 0


def test_the_basemap_draws_land_sea_borders_and_names(page: Page, service: Service) -> None:
    _signed_in_with_map(page, service)
    _view(page, 45.2, 7.5, 7)  # the French-Italian Alps, Switzerland, the Ligurian Sea
    shot = page.shot("#map")
    assert _near(_at(page, shot, 5.0, 45.0), LAND), "inland France is not drawn as land"
    assert _near(_at(page, shot, 8.0, 43.5), SEA), "the Ligurian Sea is not drawn as sea"
    # the French-Italian border crosses every parallel from 44.4 to 45.8 N near 6.6-7.2 E
    crossings = 0
    for step in range(15):
        lat = 44.4 + step * 0.1
        row = [_at(page, shot, 6.3 + i * 0.02, lat) for i in range(50)]
        crossings += any(_border(c) for c in row)
    assert crossings >= 5, f"the border shows on only {crossings} of 15 parallels"
    names = page.evaluate(
        "(() => { const m = document.getElementById('map').getBoundingClientRect();"
        " return [...document.querySelectorAll('.place')].map(n => {"
        " const r = n.getBoundingClientRect();"
        " return [n.textContent, r.left - m.left, r.top - m.top, r.width, r.height]; })"
        " .filter(([, x, y, w, h]) => x >= 0 && y >= 0 && x + w <= m.width && y + h <= m.height);"
        " })()"
    )
    assert "Switzerland" in [n[0] for n in names]
    _, x, y, w, h = next(n for n in names if n[0] == "Switzerland")
    text = [
        shot.getpixel((round(x + i), round(y + j)))
        for i in range(round(w))
        for j in range(round(h))
    ]
    assert sum(1 for c in text if sum(c) < 350) > 20, "the name Switzerland is not drawn"


def test_notices_overlaps_and_standing_zones_draw(page: Page, service: Service) -> None:
    _signed_in_with_map(page, service)
    shot = page.shot("#map")
    notice = _at(page, shot, *NOTICE_ONLY)
    assert notice[2] > notice[0] + 15, f"Alpha's box shows {notice}, not its blue"
    overlap = _at(page, shot, *OVERLAP)
    assert overlap[0] > overlap[1] + 40, f"the overlap with Bravo shows {overlap}, not red"
    circle = _at(page, shot, CIRCLE[0], CIRCLE[1])
    assert circle[2] > circle[0] + 15, f"Alpha's circle shows {circle}"
    # Delta's standing zone is not Alpha's to see (it meets none of Alpha's notices)
    zone_centre = ((ZONE_BOX[0] + ZONE_BOX[2]) / 2, (ZONE_BOX[1] + ZONE_BOX[3]) / 2)
    assert count(page, ".leaflet-zones-pane path") == 0

    _signed_in_with_map(page, service, "Delta")
    page.wait_for("document.querySelectorAll('.leaflet-zones-pane path').length === 1")
    assert count(page, ".leaflet-notices-pane path") == 0  # a standing zone is no plan
    zone = _at(page, page.shot("#map"), *zone_centre)
    assert zone[0] > zone[2] + 30, f"Delta's standing zone shows {zone}, not its amber"


def _slide_to(page: Page, moment: datetime | None) -> None:
    if moment is None:
        page.click("#map-any-time")
        page.wait_for("document.getElementById('map-any-time').checked")
        return
    page.evaluate(
        "(() => { const s = document.getElementById('map-time');"
        f" s.value = String({int(moment.timestamp() * 1000)});"
        " s.dispatchEvent(new Event('input', {bubbles: true})); })()"
    )


def test_the_time_slider_shows_the_picture_at_one_time(page: Page, service: Service) -> None:
    sortie = _sortie(service)
    box = f".leaflet-notices-pane path[data-notice='{sortie['id']}'][data-volume='0']"
    circle = f".leaflet-notices-pane path[data-notice='{sortie['id']}'][data-volume='1']"
    _signed_in_with_map(page, service)
    assert _shown(page, box)
    assert _shown(page, circle)

    _slide_to(page, service.start + timedelta(minutes=30))  # the circle only (box: +1 h)
    page.wait_for(f"!document.querySelector({json.dumps(box)})")
    assert _shown(page, circle)
    assert page.evaluate("document.getElementById('map-any-time').checked") is False
    shown = (service.start + timedelta(minutes=30)).strftime("%Y-%m-%d %H:%MZ")
    assert page.evaluate("document.getElementById('map-time-shown').textContent") == shown
    shot = page.shot("#map")
    assert _near(_at(page, shot, *NOTICE_ONLY), LAND), "the box still shows before its window"
    overlap_now = _at(page, shot, *OVERLAP)
    assert overlap_now[0] < overlap_now[1] + 40, "the overlap shows before its window"
    circle_colour = _at(page, shot, CIRCLE[0], CIRCLE[1])
    assert circle_colour[2] > circle_colour[0] + 15

    _slide_to(page, service.start + timedelta(minutes=90))
    page.wait_for(f"!!document.querySelector({json.dumps(box)})")
    notice = _at(page, page.shot("#map"), *NOTICE_ONLY)
    assert notice[2] > notice[0] + 15

    _slide_to(page, service.start + timedelta(hours=3, minutes=30))  # the circle's last half hour
    page.wait_for(f"!document.querySelector({json.dumps(box)})")
    assert _shown(page, circle)

    _slide_to(page, None)
    page.wait_for(f"!!document.querySelector({json.dumps(box)})")


def test_the_altitude_band_filters_the_volumes(page: Page, service: Service) -> None:
    _signed_in_with_map(page, service)
    every = int(page.evaluate("document.getElementById('map').dataset.shown"))
    assert every > 0
    page.type("#map-lower", "3500")  # every volume seeded is 0-3000 m
    page.wait_for("document.getElementById('map').dataset.shown === '0'")
    assert _near(_at(page, page.shot("#map"), *NOTICE_ONLY), LAND)
    page.type("#map-lower", "2500")
    page.wait_for(f"document.getElementById('map').dataset.shown === '{every}'")


def _state(aircraft: str, lon: float, lat: float, trk: float, at: datetime) -> dict[str, Any]:
    return {
        "id": aircraft,
        "time": at.isoformat(),
        "lat": lat,
        "lon": lon,
        "alt_m": 1500.0,
        "gs_mps": 100.0,
        "trk_deg": trk,
        "vs_mps": 0.0,
    }


def _report(service: Service, party: str, *states: dict[str, Any]) -> None:
    with service.api(party) as api:
        report = api.post("/v1/tracks", json={"states": list(states)}).json()
    assert report["accepted"] == len(states), report


def _marker_x(page: Page, selector: str) -> float:
    return float(
        page.evaluate(
            f"(r => r.left + r.width / 2)(document.querySelector({json.dumps(selector)})"
            ".getBoundingClientRect())"
        )
    )


def test_live_traffic_moves_and_others_show_only_as_alerts_disclose(
    page: Page, service: Service
) -> None:
    _signed_in_with_map(page, service)
    now = datetime.now(UTC)
    _report(service, "Alpha", _state("AL1", 8.30, 47.05, 90.0, now))
    own = ".leaflet-traffic-pane [data-track='AL1']"
    page.wait_for(f"document.querySelector({json.dumps(own)})?.dataset.lon === '8.3'")
    before = _marker_x(page, own)
    label = page.wait_for("document.querySelector('.aircraft-label')?.textContent")
    assert label == "AL1 1500 m 194 kt"
    green = _at(page, page.shot("#map"), 8.30, 47.05)
    assert green[1] > green[0] + 50, f"Alpha's aircraft shows {green}"

    _report(service, "Alpha", _state("AL1", 8.33, 47.05, 90.0, now + timedelta(seconds=3)))
    page.wait_for(f"document.querySelector({json.dumps(own)})?.dataset.lon === '8.33'")
    assert _marker_x(page, own) > before + 5, "the aircraft did not move east on the screen"
    # its speed vector: a green line east of it, to where it will be in a minute (6 km)
    shot = page.shot("#map")
    x, y = page.evaluate(f"(p => [p.x, p.y])({MAP}.latLngToContainerPoint([47.05, 8.38]))")
    column = [shot.getpixel((round(x), round(y) + dy)) for dy in range(-3, 4)]
    assert any(c[1] > c[0] + 30 for c in column), f"no speed vector ahead: {column}"

    # Bravo's aircraft head-on, 3 km away at the same height: Alpha sees it only as its
    # tactical alert tells, never as a track of its own
    _report(service, "Bravo", _state("BR1", 8.37, 47.05, 270.0, now + timedelta(seconds=3)))
    page.wait_for("!!document.querySelector('.leaflet-traffic-pane [data-track-alert]')")
    assert count(page, ".leaflet-traffic-pane [data-track]") == 1
    with service.api("Alpha") as api:
        alerts = api.get("/v1/tracks/alerts").json()
    assert alerts
    assert all(a["counterpart"] == "Bravo" for a in alerts)


def test_an_aircraft_the_gate_finds_implausible_is_marked_suspect(
    page: Page, service: Service
) -> None:
    _signed_in_with_map(page, service)
    now = datetime.now(UTC)
    _report(service, "Alpha", _state("AL2", 8.45, 47.12, 0.0, now))
    own = ".leaflet-traffic-pane [data-track='AL2']"
    page.wait_for(f"document.querySelector({json.dumps(own)})?.dataset.suspect === 'false'")
    # 40 km in one second: refused by the plausibility gate, which tells Alpha
    with service.api("Alpha") as api:
        report = api.post(
            "/v1/tracks",
            json={"states": [_state("AL2", 9.0, 47.12, 0.0, now + timedelta(seconds=1))]},
        ).json()
    assert report["accepted"] == 0
    page.wait_for(f"document.querySelector({json.dumps(own)})?.dataset.suspect === 'true'")
    assert "AL2 1500 m 194 kt SUSPECT" in page.evaluate(
        "[...document.querySelectorAll('.aircraft-label')].map(n => n.textContent)"
    )
    red = _at(page, page.shot("#map"), 8.45, 47.12)
    assert red[0] > red[1] + 60, f"the suspect aircraft shows {red}"

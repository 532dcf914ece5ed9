"""The service the browser tests share, and how they work the console in it.

The service runs as ``deconfliction serve`` on a SQLite file (``conftest.py`` starts it
once for all of ``tests/web``); three operators, Alpha, Bravo and Charlie, file notices
and write to each other, all through the API; Charlie and Alpha have agreed that a
notice of either activates only once the other acknowledges it. Delta, an authority,
has imported one standing zone, and Charlie's notices inside it need Delta's approval.
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from tests.web.cdp import Page

METRES_PER_DEGREE = 111195.08
"""Along a meridian on the mean Earth sphere (radius 6371008.8 m), as the map draws it."""

ALPHA_BOX = (8.2, 47.2, 8.5, 47.5)
BRAVO_BOX = (8.0, 47.0, 8.3, 47.3)
CIRCLE = (8.6, 47.1, 5000.0)  # Alpha's second volume: lon, lat, radius (m); meets nothing
ZONE_BOX = (8.7, 47.3, 8.9, 47.45)
"""Delta's standing zone (an authority's, imported from OpenAIR): meets nothing."""
ZONE_OPENAIR = """
AC R
AN LSR99 DELTA TEST
AL GND
AH 6000FT MSL
DP 47:18:00 N 008:42:00 E
DP 47:27:00 N 008:42:00 E
DP 47:27:00 N 008:54:00 E
DP 47:18:00 N 008:54:00 E
"""
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


def polygon(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def volume(geometry: dict[str, Any], start: datetime, hours: float, **extra: Any) -> Any:
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


def file_notice(service: Service, party: str, title: str, *volumes: Any) -> dict[str, Any]:
    with service.api(party) as api:
        response = api.post("/v1/notices", json={"title": title, "volumes": list(volumes)})
    assert response.status_code == 201, response.text
    return dict(response.json())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def signed_out(page: Page, service: Service) -> None:
    """Open the console with no token in the tab (forgotten on a page of the origin that
    runs no console, so no sign-in in flight can save it again)."""
    page.navigate(f"{service.url}/healthz")
    page.evaluate("sessionStorage.clear()")
    page.navigate(f"{service.url}/console/")


def sign_in(page: Page, service: Service, party: str) -> None:
    signed_out(page, service)
    page.type("#token", service.tokens[party])
    page.click("#sign-in-form button[type=submit]")
    page.wait_for(f"document.querySelector('#party')?.textContent === {json.dumps(party)}")


def text(page: Page, selector: str) -> str:
    return str(page.evaluate(f"document.querySelector({json.dumps(selector)})?.textContent ?? ''"))


def count(page: Page, selector: str) -> int:
    return int(page.evaluate(f"document.querySelectorAll({json.dumps(selector)}).length"))


def box(page: Page, selector: str) -> tuple[float, float, float, float]:
    """(x, y, width, height) of an SVG element of the map, in its layer's pixels."""
    box = page.evaluate(
        f"(() => {{ const b = document.querySelector({json.dumps(selector)}).getBBox();"
        " return [b.x, b.y, b.width, b.height]; })()"
    )
    return (box[0], box[1], box[2], box[3])


def drawn(service: Service, party: str) -> tuple[int, int]:
    """(footprints, overlaps) the map should hold, from the API: every volume of a
    notice that still claims airspace, and every alert that is not resolved."""
    with service.api(party) as api:
        notices = api.get("/v1/notices").json()
        alerts = api.get("/v1/alerts").json()
    footprints = sum(
        len(n["volumes"]["features"]) for n in notices if n["state"] not in ("cancelled", "closed")
    )
    return footprints, sum(1 for a in alerts if a["state"] != "resolved")


def set_field(page: Page, selector: str, value: str) -> None:
    """Set a date-time field (its picker is not typed into) as its input event would."""
    page.evaluate(
        f"(() => {{ const f = document.querySelector({json.dumps(selector)});"
        f" f.value = {json.dumps(value)}; f.dispatchEvent(new Event('input', {{bubbles: true}}));"
        " })()"
    )


def fill_circle(
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
    set_field(page, "#file-start", start.strftime("%Y-%m-%dT%H:%M"))
    set_field(page, "#file-end", end.strftime("%Y-%m-%dT%H:%M"))

"""The console's files: served under ``/console/`` with a strict CSP, shipped in the
package, and written so that CSP can hold (no inline script, style or handlers) and
every field has a label."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from importlib.resources import files
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from deconfliction.api import create_app
from deconfliction.api.routes.console import CONTENT_SECURITY_POLICY, SECURITY_HEADERS
from deconfliction.api.routes.docs import DOCS_POLICY
from deconfliction.settings import Settings

WEB = files("deconfliction") / "web"
SERVED = {
    "index.html": "text/html",
    "console.js": "text/javascript",
    "map.js": "text/javascript",
    "audit.js": "text/javascript",
    "basemap/basemap.json": "application/json",
    "vendor/leaflet/leaflet.js": "text/javascript",
    "vendor/leaflet/leaflet.css": "text/css",
    "console.css": "text/css",
    "icon.svg": "image/svg+xml",
}


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    """The app without its lifespan: static files need no database."""
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'unused.db'}"))
    return TestClient(app, follow_redirects=False)


def test_the_root_and_the_bare_path_lead_to_the_console(client: TestClient) -> None:
    assert client.get("/").headers["location"] == "/console/"
    assert client.get("/console").headers["location"].endswith("/console/")
    assert client.get("/favicon.ico").headers["location"] == "/console/icon.svg"


@pytest.mark.parametrize(("name", "media_type"), SERVED.items())
def test_each_file_is_served_with_the_security_headers(
    client: TestClient, name: str, media_type: str
) -> None:
    response = client.get(f"/console/{'' if name == 'index.html' else name}")
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type
    assert response.content == (WEB / name).read_bytes()
    for header, value in SECURITY_HEADERS.items():
        assert response.headers[header] == value


def test_the_policy_allows_this_origin_only() -> None:
    directives = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["default-src"] == "'none'"
    for kind in ("script-src", "style-src", "img-src", "connect-src"):
        assert directives[kind] == "'self'"
    assert directives["frame-ancestors"] == directives["form-action"] == "'none'"


def test_a_missing_file_is_a_problem_and_writes_are_refused(client: TestClient) -> None:
    missing = client.get("/console/nothing.js")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert client.post("/console/", content=b"token=x").status_code == 405


class _Page(HTMLParser):
    """What the CSP and accessibility checks need from index.html."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.inline: list[str] = []
        self.labels: set[str] = set()
        self.fields: list[str] = []
        self.ids: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.ids += [attributes["id"] or ""] if "id" in attributes else []
        self.inline += [f"<{tag} {k}>" for k in attributes if k == "style" or k.startswith("on")]
        if tag == "style":
            self.inline.append("<style>")
        if tag == "script":
            self.scripts.append(attributes)
            self._in_script = True
        if tag == "label":
            self.labels.add(attributes.get("for") or "")
        if tag in ("input", "select", "textarea"):
            self.fields.append(attributes.get("id") or f"<{tag} without id>")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = self._in_script and tag != "script"

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline.append(f"<script>{data.strip()[:40]}")


def test_the_page_has_no_inline_code_and_labels_every_field() -> None:
    page = _Page()
    page.feed((WEB / "index.html").read_text())
    assert page.scripts == [
        {"src": "vendor/leaflet/leaflet.js"},
        {"type": "module", "src": "console.js"},
    ]
    assert page.inline == []
    assert page.fields, "the page has no fields: the parse went wrong"
    assert [f for f in page.fields if f not in page.labels] == []
    assert len(page.ids) == len(set(page.ids)), "an id is used twice"


def test_every_module_and_id_the_scripts_use_exists() -> None:
    page = _Page()
    page.feed((WEB / "index.html").read_text())
    for name in ("console.js", "map.js", "audit.js"):
        source = (WEB / name).read_text()
        for module in re.findall(r'^import .* from "\./([^"]+)";$', source, re.MULTILINE):
            assert (WEB / module).is_file(), f"{name} imports {module}, which is not shipped"
        used = set(re.findall(r'\$\("([\w-]+)"\)', source))
        assert used - set(page.ids) == set(), f"{name} uses ids the page lacks"
    for name in ("console.js", "map.js", "audit.js"):
        assert "innerHTML" not in (WEB / name).read_text()


def test_the_vendored_libraries_and_the_basemap_ship_with_their_licences() -> None:
    for folder in ("leaflet", "swagger-ui", "redoc"):
        assert (WEB / "vendor" / folder / "LICENSE").is_file(), folder
    assert (WEB / "basemap" / "LICENSE.world-atlas").is_file()
    basemap = json.loads((WEB / "basemap" / "basemap.json").read_text())
    assert "Natural Earth" in basemap["source"]
    assert len(basemap["land"]) > 1000
    assert len(basemap["borders"]) > 300
    places = {p["name"] for p in basemap["places"]}
    assert {"Switzerland", "France", "Slovenia"} <= places


@pytest.mark.parametrize(("path", "asset"), [("/docs", "swagger-ui"), ("/redoc", "redoc")])
def test_the_api_docs_are_served_from_the_package(
    client: TestClient, path: str, asset: str
) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == DOCS_POLICY
    sources = re.findall(r'(?:src|href)="([^"]+)"', response.text)
    assert sources
    assert all(s.startswith("/") and not s.startswith("//") for s in sources)
    assert any(f"/vendor/{asset}/" in s for s in sources)
    for source in sources:
        assert client.get(source).status_code == 200, source
    assert "cdn" not in response.text.lower()

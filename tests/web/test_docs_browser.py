"""``/docs`` and ``/redoc`` render in Chromium denied every request beyond loopback: their
scripts come from the package, and they read this service's OpenAPI document."""

from __future__ import annotations

import pytest

from tests.web.cdp import Page
from tests.web.seeded import Service

pytestmark = pytest.mark.timeout(120)


def test_swagger_ui_renders_the_api_offline(page: Page, service: Service) -> None:
    page.navigate(f"{service.url}/docs")
    page.wait_for("document.querySelectorAll('.opblock').length > 10", timeout_s=20)
    paths = page.evaluate(
        "[...document.querySelectorAll('.opblock-summary-path')].map(n => n.textContent)"
    )
    assert "/v1/notices" in [p.replace("\u200b", "") for p in paths]
    assert page.evaluate("document.querySelector('.info .title').textContent").startswith(
        "Deconfliction"
    )


def test_redoc_renders_the_api_offline(page: Page, service: Service) -> None:
    page.navigate(f"{service.url}/redoc")
    page.wait_for("document.body.innerText.includes('/v1/notices')", timeout_s=20)
    assert "Deconfliction" in page.evaluate("document.querySelector('h1').textContent")
    # its maker's logo (from a CDN, as npm ships it) is a "data:," address in our copy
    # (tools/vendor.sh), which fails and hides
    page.wait_for("!document.querySelector('img[alt=\"redocly logo\"]')")

"""The operator console: the static files of ``deconfliction/web`` under ``/console/``.

``/`` redirects there (and ``/favicon.ico`` to its icon). Every file goes out with a
strict Content-Security-Policy (scripts, styles, images and connections from this origin
only; no inline script or style, no framing, no form posts), so a value the API returns
can never run as code in the page.
The console signs in with the party's bearer token, which it keeps in the tab's
``sessionStorage`` and sends as a header; it never appears in a URL.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.responses import RedirectResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

__all__ = ["CONSOLE_PATH", "CONTENT_SECURITY_POLICY", "SECURITY_HEADERS", "install"]

CONSOLE_PATH = "/console"
"""Where the console is served (its index is ``/console/``)."""

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
"""Self only: the console's own files and this origin's API (HTTP and WebSocket)."""

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-cache",
}
"""Headers on every console file (``no-cache``: revalidate, so an upgrade shows at once)."""

router = APIRouter(include_in_schema=False)


@router.get("/")
def home() -> RedirectResponse:
    """The root leads to the console."""
    return RedirectResponse(f"{CONSOLE_PATH}/")


@router.get("/favicon.ico")
def favicon() -> RedirectResponse:
    """Browsers ask for this on any page of the service: the console's icon."""
    return RedirectResponse(f"{CONSOLE_PATH}/icon.svg")


class _ConsoleFiles(StaticFiles):
    """Static files that carry :data:`SECURITY_HEADERS`."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(SECURITY_HEADERS)
        return response


def install(app: FastAPI) -> None:
    """Serve the console at :data:`CONSOLE_PATH` and redirect ``/`` to it."""
    app.include_router(router)
    app.mount(
        CONSOLE_PATH,
        _ConsoleFiles(packages=[("deconfliction", "web")], html=True),
        name="console",
    )

"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) served from the package, so they work
on a network with no way out (FastAPI's own pages load their scripts from a CDN).

The scripts are vendored under ``deconfliction/web/vendor`` (swagger-ui-dist and ReDoc's
standalone bundle, each with its licence) and served with the console's files. Both
libraries set styles inline and ReDoc runs its search in a worker made from a ``blob:``
URL, so these two pages carry a policy of their own, looser than the console's in
exactly that (:data:`DOCS_POLICY`); scripts and connections stay this origin's only.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from deconfliction.api.routes.console import SECURITY_HEADERS

__all__ = ["DOCS_POLICY", "router"]

DOCS_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
"""This origin only, with inline styles and ``blob:`` workers allowed (see above)."""

router = APIRouter(include_in_schema=False)


def _page(name: str) -> HTMLResponse:
    html = (files("deconfliction") / "web" / "docs" / name).read_text(encoding="utf-8")
    headers = {**SECURITY_HEADERS, "Content-Security-Policy": DOCS_POLICY}
    return HTMLResponse(html, headers=headers)


@router.get("/docs")
def swagger_ui() -> HTMLResponse:
    """The API in Swagger UI (try requests with your bearer token: Authorize)."""
    return _page("swagger.html")


@router.get("/redoc")
def redoc() -> HTMLResponse:
    """The API in ReDoc."""
    return _page("redoc.html")

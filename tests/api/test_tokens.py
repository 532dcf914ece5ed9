"""The token lifecycle over HTTP: an administrator (an authority) lists, issues, rotates
and revokes tokens; revocation ends the streams opened with the token."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from deconfliction.api import create_app
from deconfliction.clock import ManualClock
from deconfliction.journal.verify import verify_database
from deconfliction.settings import Settings
from deconfliction.store.database import Database
from tests.api.conftest import bearer
from tests.conftest import MakeParty


@pytest.fixture
def fast(database_url: str, clock: ManualClock) -> Iterator[TestClient]:
    """An app that checks open streams' tokens every 0.2 s."""
    app = create_app(Settings(database_url=database_url, auth_cache_s=0.2), clock)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_an_administrator_issues_rotates_and_revokes_tokens(
    fast: TestClient, make_party: MakeParty, database: Database
) -> None:
    _, admin = make_party("CAA", "authority")
    _, alpha = make_party("Alpha")
    as_admin = bearer(admin)

    listed = fast.get("/v1/parties/Alpha/tokens", headers=as_admin)
    assert listed.status_code == 200, listed.text
    [first] = listed.json()
    assert first["active"] is True
    assert "value" not in first

    issued = fast.post("/v1/parties/Alpha/tokens", headers=as_admin, json={"expires_in_s": 3600})
    assert issued.status_code == 201, issued.text
    assert issued.headers["cache-control"] == "no-store"
    second = issued.json()
    assert second["token"]["expires_at"] is not None
    assert fast.get("/v1/me", headers=bearer(second["value"])).json()["name"] == "Alpha"

    rotated = fast.post("/v1/parties/Alpha/tokens/rotate", headers=as_admin)
    assert rotated.status_code == 201, rotated.text
    fresh = rotated.json()["value"]
    for old in (alpha, second["value"]):
        assert fast.get("/v1/me", headers=bearer(old)).status_code == 401  # at once
    assert fast.get("/v1/me", headers=bearer(fresh)).status_code == 200
    states = [t["active"] for t in fast.get("/v1/parties/Alpha/tokens", headers=as_admin).json()]
    assert states == [False, False, True]

    revoked = fast.delete(f"/v1/tokens/{rotated.json()['token']['id']}", headers=as_admin)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["active"] is False
    assert fast.get("/v1/me", headers=bearer(fresh)).status_code == 401
    assert verify_database(database).intact


def test_only_an_administrator_manages_tokens(fast: TestClient, make_party: MakeParty) -> None:
    _, alpha = make_party("Alpha")
    _, admin = make_party("CAA", "authority")
    for method, path in (
        ("GET", "/v1/parties/CAA/tokens"),
        ("POST", "/v1/parties/CAA/tokens"),
        ("POST", "/v1/parties/CAA/tokens/rotate"),
        ("DELETE", "/v1/tokens/1"),
    ):
        refused = fast.request(method, path, headers=bearer(alpha))
        assert refused.status_code == 403, (method, path, refused.text)
        assert refused.json()["code"] == "forbidden"
    missing = fast.get("/v1/parties/Nobody/tokens", headers=bearer(admin))
    assert (missing.status_code, missing.json()["code"]) == (404, "not-found")
    assert fast.delete("/v1/tokens/999", headers=bearer(admin)).status_code == 404
    bad = fast.post("/v1/parties/CAA/tokens", headers=bearer(admin), json={"expires_in_s": -1})
    assert bad.status_code == 422


def test_revoking_over_http_closes_the_party_s_open_stream(
    fast: TestClient, make_party: MakeParty
) -> None:
    _, admin = make_party("CAA", "authority")
    _, alpha = make_party("Alpha")
    with fast.websocket_connect("/v1/stream", headers=bearer(alpha)) as ws:
        assert ws.receive_json()["hello"]["party"] == "Alpha"
        [token] = fast.get("/v1/parties/Alpha/tokens", headers=bearer(admin)).json()
        assert fast.delete(f"/v1/tokens/{token['id']}", headers=bearer(admin)).status_code == 200
        assert ws.receive_json()["error"]["code"] == "token-revoked"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert (closed.value.code, closed.value.reason) == (4401, "token-revoked")

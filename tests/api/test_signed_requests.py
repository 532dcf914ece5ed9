"""Party signatures (RFC 9421) over real HTTP, on both stores: a party registers a key,
signs its messages and acknowledgments; an agreement that requires signatures refuses
unsigned ones; bad, stale and revoked signatures are refused; the journal keeps each
signature, and ``journal verify`` checks them offline with the keys it records."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from deconfliction.agreements.service import AgreementService
from deconfliction.agreements.terms import Terms
from deconfliction.cli import journal as journal_cli
from deconfliction.clock import ManualClock
from deconfliction.parties import Registry
from deconfliction.signatures import public_key_hex, sign_request
from deconfliction.store.database import Database
from deconfliction.store.schema import JournalEntry
from tests.api.conftest import bearer, box, volume
from tests.conftest import MakeParty
from tests.servers import free_port, served


def _post(
    client: httpx.Client,
    path: str,
    token: str,
    body: Any = None,
    key: tuple[Ed25519PrivateKey, str] | None = None,
    created: datetime | None = None,
    sent: bytes | None = None,
) -> httpx.Response:
    data = b"" if body is None else json.dumps(body).encode()
    headers = {**bearer(token), "Content-Type": "application/json"}
    if key is not None:
        url = str(client.base_url.join(path))
        headers |= sign_request("POST", url, data, key[0], key[1], created)
    return client.post(path, content=data if sent is None else sent, headers=headers)


def test_signed_messages_and_acknowledgments_over_http(
    database: Database, database_url: str, registry: Registry, clock: ManualClock
) -> None:
    _, alpha = registry.add("Alpha", "operator")
    _, bravo = registry.add("Bravo", "authority")
    AgreementService(database, clock).set("Alpha", "Bravo", Terms(require_signed=True))
    alpha_key, bravo_key = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    port = free_port()
    with served(database_url, port), httpx.Client(base_url=f"http://127.0.0.1:{port}") as c:
        for token, key, key_id in ((alpha, alpha_key, "alpha-1"), (bravo, bravo_key, None)):
            added = _post(
                c,
                "/v1/parties/me/keys",
                token,
                {"public_key": public_key_hex(key), "keyid": key_id},
            )
            assert added.status_code == 201, added.text
        bravo_id = c.get("/v1/parties/me/keys", headers=bearer(bravo)).json()[0]["keyid"]
        message = {"to": "Bravo", "priority": "urgent", "text": "descending through FL100"}

        unsigned = _post(c, "/v1/messages", alpha, message)
        assert unsigned.status_code == 403
        assert unsigned.json()["code"] == "signature-required"
        forged = _post(
            c,
            "/v1/messages",
            alpha,
            message,
            (alpha_key, "alpha-1"),
            sent=b'{"to":"Bravo","text":"x"}',
        )
        assert (forged.status_code, forged.json()["code"]) == (401, "signature-invalid")
        stale = _post(
            c,
            "/v1/messages",
            alpha,
            message,
            (alpha_key, "alpha-1"),
            created=datetime.now(UTC) - timedelta(minutes=10),
        )
        assert (stale.status_code, stale.json()["code"]) == (401, "signature-invalid")
        wrong_key = _post(c, "/v1/messages", alpha, message, (bravo_key, bravo_id))
        assert (wrong_key.status_code, wrong_key.json()["code"]) == (401, "signature-invalid")

        sent = _post(c, "/v1/messages", alpha, message, (alpha_key, "alpha-1"))
        assert sent.status_code == 201, sent.text
        path = f"/v1/messages/{sent.json()['id']}/acknowledge"
        assert _post(c, path, bravo).json()["code"] == "signature-required"
        acked = _post(c, path, bravo, None, (bravo_key, bravo_id))
        assert acked.status_code == 200, acked.text

        revoked = _post(c, "/v1/parties/me/keys/alpha-1/revoke", alpha)
        assert revoked.json()["revoked_at"] is not None
        after = _post(c, "/v1/messages", alpha, message, (alpha_key, "alpha-1"))
        assert (after.status_code, after.json()["code"]) == (401, "signature-invalid")

    with database.read() as session:
        payloads = {
            kind: json.loads(payload)
            for kind, payload in session.execute(
                select(JournalEntry.kind, JournalEntry.payload).where(
                    JournalEntry.kind.in_(("message.sent", "message.acknowledged"))
                )
            )
        }
    assert payloads["message.sent"]["signature"]["keyid"] == "alpha-1"
    assert json.loads(payloads["message.sent"]["signature"]["body"]) == message
    assert payloads["message.acknowledged"]["signature"]["keyid"] == bravo_id

    result = CliRunner().invoke(journal_cli.app, ["verify", "--database", database_url])
    assert result.exit_code == 0, result.stdout
    assert "2 party signature(s) verified" in result.stdout
    # an operator rewriting what Alpha said is caught by Alpha's signature
    with database.transaction() as session:
        entry = session.scalars(
            select(JournalEntry).where(JournalEntry.kind == "message.sent")
        ).one()
        forged_payload = json.loads(entry.payload)
        forged_payload["signature"]["body"] = json.dumps({**message, "text": "climbing"})
        entry.payload = json.dumps(forged_payload, sort_keys=True, separators=(",", ":"))
    result = CliRunner().invoke(journal_cli.app, ["verify", "--database", database_url])
    assert result.exit_code == 1
    assert "party signature NOT valid" in result.stdout


def test_an_agreement_requiring_signatures_refuses_unsigned_filings(
    client: TestClient, make_party: MakeParty, database: Database, clock: ManualClock
) -> None:
    _, alpha = make_party("Alpha")
    make_party("Bravo")
    body = {"title": "sortie", "volumes": [volume(box(8.0, 47.0, 8.3, 47.3))]}
    assert client.post("/v1/notices", json=body, headers=bearer(alpha)).status_code == 201
    AgreementService(database, clock).set("Alpha", "Bravo", Terms(require_signed=True))
    refused = client.post("/v1/notices", json=body, headers=bearer(alpha))
    assert refused.status_code == 403
    assert refused.json()["code"] == "signature-required"
    assert "Bravo" in refused.json()["detail"]
    key = Ed25519PrivateKey.generate()
    client.post(
        "/v1/parties/me/keys",
        json={"public_key": public_key_hex(key), "keyid": "a1"},
        headers=bearer(alpha),
    )
    data = json.dumps(body).encode()
    created = clock.now()
    headers = {**bearer(alpha), "Content-Type": "application/json"}
    headers |= sign_request("POST", "http://testserver/v1/notices", data, key, "a1", created)
    filed = client.post("/v1/notices", content=data, headers=headers)
    assert filed.status_code == 201, filed.text
    with database.read() as session:
        payload = session.scalars(
            select(JournalEntry.payload)
            .where(JournalEntry.kind == "notice.filed")
            .order_by(JournalEntry.seq.desc())
        ).first()
    assert payload is not None
    assert json.loads(payload)["signature"]["keyid"] == "a1"


def test_bad_keys_are_problems(client: TestClient, make_party: MakeParty) -> None:
    _, alpha = make_party("Alpha")
    for body in (
        {"public_key": "xyz"},
        {"public_key": "ab" * 32, "keyid": "no spaces allowed"},
        {},
    ):
        response = client.post("/v1/parties/me/keys", json=body, headers=bearer(alpha))
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    ok = client.post(
        "/v1/parties/me/keys", json={"public_key": "ab" * 32, "keyid": "k"}, headers=bearer(alpha)
    )
    assert ok.status_code == 201
    again = client.post(
        "/v1/parties/me/keys", json={"public_key": "cd" * 32, "keyid": "k"}, headers=bearer(alpha)
    )
    assert (again.status_code, again.json()["code"]) == (409, "conflict")
    missing = client.post("/v1/parties/me/keys/nope/revoke", headers=bearer(alpha))
    assert (missing.status_code, missing.json()["code"]) == (404, "not-found")


def test_a_counterpart_acknowledges_a_notice_signed_when_required(
    client: TestClient, make_party: MakeParty, database: Database, clock: ManualClock
) -> None:
    _, alpha = make_party("Alpha")
    _, bravo = make_party("Bravo")
    terms = Terms(require_signed=True, activation_requires_acknowledgment=True)
    AgreementService(database, clock).set("Alpha", "Bravo", terms)
    keys = {}
    for name, token in (("a", alpha), ("b", bravo)):
        keys[name] = Ed25519PrivateKey.generate()
        added = client.post(
            "/v1/parties/me/keys",
            json={"public_key": public_key_hex(keys[name]), "keyid": name},
            headers=bearer(token),
        )
        assert added.status_code == 201

    def signed_post(path: str, token: str, key: str, body: Any = None) -> Any:
        data = b"" if body is None else json.dumps(body).encode()
        headers = {**bearer(token), "Content-Type": "application/json"}
        url = f"http://testserver{path}"
        headers |= sign_request("POST", url, data, keys[key], key, clock.now())
        return client.post(path, content=data, headers=headers)

    body = {"title": "sortie", "volumes": [volume(box(8.0, 47.0, 8.3, 47.3))]}
    filed = signed_post("/v1/notices", alpha, "a", body)
    assert filed.status_code == 201, filed.text
    path = f"/v1/notices/{filed.json()['notice']['id']}/acknowledge"
    refused = client.post(path, headers=bearer(bravo))
    assert (refused.status_code, refused.json()["code"]) == (403, "signature-required")
    acknowledged = signed_post(path, bravo, "b")
    assert acknowledged.status_code == 200, acknowledged.text
    with database.read() as session:
        decision = session.scalars(
            select(JournalEntry.payload).where(JournalEntry.kind == "notice.decision")
        ).one()
    assert json.loads(decision)["signature"]["keyid"] == "b"

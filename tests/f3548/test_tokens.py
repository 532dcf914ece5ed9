"""F3548 access tokens: refusals with the standard's bodies, enrolment, JWKS, alerts."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from deconfliction.errors import ValidationError
from deconfliction.f3548.tokens import TokenVerifier, load_public_keys
from deconfliction.store.schema import JournalEntry
from tests.f3548.conftest import AA, CM, SC, Token, auth, extent

QUERY = {"area_of_interest": extent(8.55, 47.45)}
PATH = "/dss/v1/operational_intent_references/query"


def test_no_token_is_401(client: TestClient) -> None:
    response = client.post(PATH, json=QUERY)
    assert response.status_code == 401
    assert "Authorization" in response.json()["message"]


def test_a_token_signed_with_another_key_is_401(
    client: TestClient, token: Token, other_key: rsa.RSAPrivateKey
) -> None:
    response = client.post(PATH, json=QUERY, headers=auth(token("uss1", SC, key=other_key)))
    assert response.status_code == 401
    assert "signature" in response.json()["message"]
    assert response.json()["code"] == "unauthenticated"


def test_a_token_for_another_audience_is_401(client: TestClient, token: Token) -> None:
    response = client.post(PATH, json=QUERY, headers=auth(token("uss1", SC, audience="other")))
    assert response.status_code == 401
    assert "audience" in response.json()["message"]


def test_an_expired_token_is_401(client: TestClient, token: Token) -> None:
    response = client.post(PATH, json=QUERY, headers=auth(token("uss1", SC, expires_in_s=-60)))
    assert response.status_code == 401
    assert "expired" in response.json()["message"]


@pytest.mark.parametrize(
    ("method", "path", "granted"),
    [
        ("post", PATH, CM),
        ("post", "/dss/v1/constraint_references/query", SC),
        ("put", f"/dss/v1/constraint_references/{uuid.uuid4()}", SC),
        ("put", "/dss/v1/uss_availability/uss2", SC),
    ],
)
def test_a_token_without_the_scope_is_403(
    client: TestClient, token: Token, method: str, path: str, granted: str
) -> None:
    response = client.request(method, path, json=QUERY, headers=auth(token("uss1", granted)))
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert "scope" in response.json()["message"]


def test_the_first_valid_token_enrols_the_uss_once(client: TestClient, token: Token) -> None:
    for _ in range(2):
        response = client.post(PATH, json=QUERY, headers=auth(token("uss-alpha", SC)))
        assert response.status_code == 200, response.text
        assert response.json() == {"operational_intent_references": []}
    services = client.app.state.services  # type: ignore[attr-defined]
    assert services.registry.get("uss-alpha").role == "uss"
    with services.db.read() as session:
        created = [
            json.loads(e.payload)
            for e in session.query(JournalEntry).filter(JournalEntry.kind == "party.created")
        ]
    assert created == [{"name": "uss-alpha", "role": "uss", "enrolled_by": "f3548-token"}]


def test_a_sub_naming_a_native_party_is_refused(client: TestClient, token: Token) -> None:
    services = client.app.state.services  # type: ignore[attr-defined]
    services.registry.add("Coastal ANSP", "authority")
    response = client.post(PATH, json=QUERY, headers=auth(token("Coastal ANSP", SC)))
    assert response.status_code == 403


def test_a_uss_reads_its_alerts_with_its_access_token(client: TestClient, token: Token) -> None:
    response = client.get("/v1/alerts", headers=auth(token("uss1", SC)))
    assert response.status_code == 200, response.text
    assert response.json() == []
    refused = client.get("/v1/alerts", headers=auth(token("uss1", SC, audience="other")))
    assert refused.status_code == 401


def test_availability_needs_arbitration_scope_to_set(client: TestClient, token: Token) -> None:
    got = client.get("/dss/v1/uss_availability/uss9", headers=auth(token("uss1", AA)))
    assert got.json() == {"version": "", "status": {"uss": "uss9", "availability": "Unknown"}}
    put = client.put(
        "/dss/v1/uss_availability/uss9",
        json={"availability": "down"},
        headers=auth(token("uss1", AA)),
    )
    assert put.status_code == 200
    assert put.json()["status"]["availability"] == "Down"
    stale = client.put(
        "/dss/v1/uss_availability/uss9",
        json={"availability": "normal", "old_version": "nope"},
        headers=auth(token("uss1", AA)),
    )
    assert stale.status_code == 409


def test_keys_from_a_jwks_file(signing_key: rsa.RSAPrivateKey, tmp_path: Path) -> None:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(signing_key.public_key()))
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"keys": [jwk]}))
    keys = load_public_keys(f"{path}")
    verifier = TokenVerifier(keys, ("aud",))
    good = jwt.encode(
        {"sub": "uss1", "scope": SC, "aud": "aud", "exp": 4_000_000_000},
        signing_key,
        algorithm="RS256",
    )
    claims = verifier.verify(good)
    assert claims.sub == "uss1"
    assert claims.scopes == frozenset({SC})


def test_keys_from_several_files_and_an_unreadable_one_named(
    public_pem: Path, tmp_path: Path
) -> None:
    assert len(load_public_keys(f"{public_pem}, {public_pem}")) == 2
    with pytest.raises(ValidationError, match=r"missing\.pem"):
        load_public_keys(f"{public_pem}:{tmp_path / 'missing.pem'}")

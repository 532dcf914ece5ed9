"""``/v1/agreements`` on both backends: each party sees its own agreements, and no other."""

from __future__ import annotations

from fastapi.testclient import TestClient

from deconfliction.agreements.service import AgreementService
from deconfliction.agreements.terms import Terms, Tier
from deconfliction.clock import ManualClock
from deconfliction.store.database import Database
from tests.api.conftest import bearer
from tests.conftest import MakeParty


def test_both_parties_see_their_agreement_and_a_third_party_gets_404(
    client: TestClient, make_party: MakeParty, database: Database, clock: ManualClock
) -> None:
    _, alpha = make_party("Alpha")
    _, bravo = make_party("Bravo")
    _, charlie = make_party("Charlie")
    terms = Terms(min_lead_time_s=1800, ladder=(Tier("duty officer", ("+1 555 0100",), 300),))
    AgreementService(database, clock).set("Alpha", "Bravo", terms)

    [mine] = client.get("/v1/agreements", headers=bearer(alpha)).json()
    assert (mine["counterpart"], mine["version"]) == ("Bravo", 1)
    assert mine["terms"] == terms.to_json()
    theirs = client.get("/v1/agreements/Alpha", headers=bearer(bravo))
    assert theirs.status_code == 200
    assert theirs.json()["counterpart"] == "Alpha"
    assert theirs.json()["terms"]["ladder"][0]["name"] == "duty officer"

    assert client.get("/v1/agreements", headers=bearer(charlie)).json() == []
    for path in ("/v1/agreements/Alpha", "/v1/agreements/Bravo", "/v1/agreements/Nobody"):
        response = client.get(path, headers=bearer(charlie))
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert "has no agreement with" in response.json()["detail"]
    assert client.get("/v1/agreements").status_code == 401

"""The lifecycle over HTTP on both backends: decisions on notices, the scheduler in the
app's lifespan, agreements at filing, alerts' deadlines and the statistics route."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from deconfliction.agreements.service import AgreementService
from deconfliction.agreements.terms import ANONYMOUS_COUNTERPART, Terms
from deconfliction.api import create_app
from deconfliction.clock import ManualClock
from deconfliction.settings import Settings
from deconfliction.store.database import Database
from tests.api.conftest import bearer, box, volume
from tests.conftest import T0, MakeParty

_AREA = volume(box(8.0, 47.0, 8.4, 47.3), start_h=1, end_h=3)
_FAR = volume(box(9.5, 46.0, 9.7, 46.2), start_h=1, end_h=3)


@pytest.fixture
def ticking(database_url: str, clock: ManualClock) -> Iterator[TestClient]:
    """A client whose app runs its scheduler every 20 ms (of wall time)."""
    app = create_app(Settings(database_url=database_url, tick_s=0.02), clock)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def _problem(response: Any, status: int, words: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert words in response.json()["detail"], response.json()


def test_decisions_over_http_and_what_each_bad_one_answers(
    client: TestClient, make_party: MakeParty, database: Database, clock: ManualClock
) -> None:
    _, alpha = make_party("Alpha")
    _, bravo = make_party("Bravo")
    _, charlie = make_party("Charlie")
    _, tower = make_party("Tower", "authority")
    agreements = AgreementService(database, clock)
    agreements.set("Alpha", "Bravo", Terms(activation_requires_acknowledgment=True))
    agreements.set("Alpha", "Tower", Terms(authority_approval_required=True))
    client.post("/v1/notices", headers=bearer(tower), json={"volumes": [_AREA]})
    filed = client.post("/v1/notices", headers=bearer(alpha), json={"volumes": [_AREA]}).json()
    notice = filed["notice"]["id"]
    assert sorted((a["party"], a["kind"]) for a in filed["notice"]["approvals"]) == [
        ("Bravo", "acknowledgment"),
        ("Tower", "approval"),
    ]

    ack = client.post(f"/v1/notices/{notice}/acknowledge", headers=bearer(bravo))
    assert ack.status_code == 200, ack.text
    assert (ack.json()["state"], ack.json()["notice_state"]) == ("acknowledged", "filed")
    again = client.post(f"/v1/notices/{notice}/acknowledge", headers=bearer(bravo))
    assert again.json() == ack.json()  # idempotent

    _problem(
        client.post(f"/v1/notices/{notice}/acknowledge", headers=bearer(charlie)),
        404,
        "awaits acknowledgment",
    )
    _problem(client.post(f"/v1/notices/{notice}/approve", headers=bearer(bravo)), 403, "authority")
    _problem(
        client.post(f"/v1/notices/{notice}/reject", headers=bearer(bravo), json={"reason": "no"}),
        403,
        "authority",
    )
    response = client.post(f"/v1/notices/{notice}/reject", headers=bearer(tower), json={})
    assert response.status_code == 422
    _problem(
        client.post(f"/v1/notices/{notice}/reject", headers=bearer(tower), json={"reason": "   "}),
        422,
        "needs a reason",
    )
    approved = client.post(f"/v1/notices/{notice}/approve", headers=bearer(tower))
    assert (approved.json()["state"], approved.json()["notice_state"]) == (
        "approved",
        "acknowledged",
    )
    _problem(
        client.post(
            f"/v1/notices/{notice}/reject", headers=bearer(tower), json={"reason": "changed mind"}
        ),
        409,
        "already approved",
    )
    seen = client.get(f"/v1/notices/{notice}", headers=bearer(alpha)).json()
    assert seen["state"] == "acknowledged"
    assert {a["state"] for a in seen["approvals"]} == {"acknowledged", "approved"}
    _problem(client.get(f"/v1/notices/{notice}", headers=bearer(bravo)), 404, "no notice")


def test_filing_under_an_agreement_over_http(
    client: TestClient, make_party: MakeParty, database: Database, clock: ManualClock
) -> None:
    _, alpha = make_party("Alpha")
    _, bravo = make_party("Bravo")
    AgreementService(database, clock).set(
        "Alpha", "Bravo", Terms(min_lead_time_s=7200, max_footprint_area_m2=600e6)
    )
    too_big = client.post("/v1/notices", headers=bearer(alpha), json={"volumes": [_AREA]})
    _problem(too_big, 422, "agreement of Alpha and Bravo (version 1) allows")
    client.post("/v1/notices", headers=bearer(bravo), json={"volumes": [_FAR]})
    late = client.post("/v1/notices", headers=bearer(alpha), json={"volumes": [_FAR]})
    assert late.status_code == 201
    body = late.json()
    assert (body["notice"]["short_notice"], body["notice"]["lead_time_s"]) == (True, 3600.0)
    [conflict] = body["conflicts"]
    [alert] = client.get("/v1/alerts", headers=bearer(bravo)).json()
    assert alert["conflict"]["properties"]["conflict"] == conflict["properties"]["conflict"]
    assert alert["priority"] == "flash"
    assert alert["ack_deadline"].startswith((T0 + timedelta(seconds=120)).isoformat()[:19])
    assert (alert["escalation_tier"], alert["escalation_state"]) == (0, "none")


def test_the_apps_scheduler_activates_closes_and_escalates(
    ticking: TestClient, make_party: MakeParty, clock: ManualClock
) -> None:
    _, alpha = make_party("Alpha")
    _, bravo = make_party("Bravo")
    notice = ticking.post("/v1/notices", headers=bearer(alpha), json={"volumes": [_AREA]})
    notice_id = notice.json()["notice"]["id"]
    ticking.post("/v1/notices", headers=bearer(bravo), json={"volumes": [_AREA]})

    def state() -> str:
        return str(ticking.get(f"/v1/notices/{notice_id}", headers=bearer(alpha)).json()["state"])

    def alert_state() -> str:
        [alert] = ticking.get("/v1/alerts", headers=bearer(alpha)).json()
        return str(alert["escalation_state"])

    clock.advance(timedelta(hours=1, seconds=30))  # past the start and the alert deadline
    _eventually(lambda: state() == "active" and alert_state() == "unacknowledged")
    clock.advance(timedelta(hours=2))
    _eventually(lambda: state() == "closed")

    stats = ticking.get("/v1/stats", headers=bearer(alpha)).json()
    # no agreement: Alpha met Bravo anonymously, so its statistics do not name Bravo
    assert {(r["sender"], r["recipient"]) for r in stats} == {
        ("Alpha", ANONYMOUS_COUNTERPART),
        (ANONYMOUS_COUNTERPART, "Alpha"),
    }
    to_alpha = next(r for r in stats if r["recipient"] == "Alpha")
    assert (to_alpha["unacknowledged"], to_alpha["alerts_acknowledged"]) == (1, 0)


def _eventually(condition: Any, within_s: float = 20.0) -> None:
    """Wait for the background scheduler to make ``condition()`` true (polling)."""
    deadline = time.monotonic() + within_s
    while not condition():
        assert time.monotonic() < deadline, "the scheduler did not get there"
        time.sleep(0.02)

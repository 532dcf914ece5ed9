"""The notice routes over HTTP: filing, need-to-know alerts, concurrency, idempotency."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from deconfliction.agreements.service import AgreementService
from deconfliction.agreements.terms import Disclosure, Terms
from deconfliction.clock import ManualClock
from deconfliction.core.volume import Volume4D
from deconfliction.journal.verify import verify_database
from deconfliction.notices.model import NoticeDraft
from deconfliction.notices.service import NoticeService
from deconfliction.settings import Settings
from deconfliction.store.database import Database
from tests.api.conftest import bearer, box, volume
from tests.conftest import T0, MakeParty
from tests.zoo import box as zoo_box


def test_filing_finds_the_conflict_and_tells_both_sides_only_the_overlap(
    client: TestClient, make_party: MakeParty, database: Database, clock: ManualClock
) -> None:
    _, alpha = make_party("Alpha")
    _, bravo = make_party("Bravo")
    AgreementService(database, clock).set("Alpha", "Bravo", Terms(disclosure=Disclosure.NAMED))
    first = client.post(
        "/v1/notices",
        headers=bearer(alpha),
        json={"title": "CAP", "volumes": [volume(box(8.0, 47.0, 8.4, 47.3))]},
    )
    assert first.status_code == 201, first.text
    assert first.json()["conflicts"] == []
    alpha_notice = first.json()["notice"]["id"]

    second = client.post(
        "/v1/notices",
        headers=bearer(bravo),
        json={"title": "ISR", "volumes": [volume(box(8.2, 47.1, 8.6, 47.5), 1000, 5000, 3, 6)]},
    )
    assert second.status_code == 201, second.text
    [conflict] = second.json()["conflicts"]
    p = conflict["properties"]
    assert p["counterpart"] == "Alpha"
    assert (p["lower_m"], p["upper_m"]) == (1000.0, 3000.0)
    assert p["start"].startswith("2026-03-02T11:00")
    assert p["end"].startswith("2026-03-02T12:00")
    assert second.headers["Location"] == f"/v1/notices/{second.json()['notice']['id']}"

    alerts = client.get("/v1/alerts", headers=bearer(alpha)).json()
    [alert] = alerts
    seen = alert["conflict"]
    assert seen["properties"]["counterpart"] == "Bravo"
    assert seen["properties"]["notice"] == alpha_notice  # its own notice, never Bravo's
    assert second.json()["notice"]["id"] not in json.dumps(alerts)
    assert "ISR" not in json.dumps(alerts)
    lons = [x for x, _ in seen["geometry"]["coordinates"][0]]
    assert min(lons) >= 8.2 - 1e-9
    assert max(lons) <= 8.4 + 1e-9


def test_touching_and_own_notices_do_not_conflict(
    client: TestClient, make_party: MakeParty
) -> None:
    _, alpha = make_party("Alpha")
    _, bravo = make_party("Bravo")
    client.post(
        "/v1/notices", headers=bearer(alpha), json={"volumes": [volume(box(8.0, 47.0, 8.4, 47.3))]}
    )
    own = client.post(
        "/v1/notices", headers=bearer(alpha), json={"volumes": [volume(box(8.1, 47.0, 8.3, 47.3))]}
    )
    assert own.json()["conflicts"] == []
    edge = client.post(
        "/v1/notices", headers=bearer(bravo), json={"volumes": [volume(box(8.4, 47.0, 8.8, 47.3))]}
    )
    above = client.post(
        "/v1/notices",
        headers=bearer(bravo),
        json={"volumes": [volume(box(8.0, 47.0, 8.4, 47.3), 3000, 6000)]},
    )
    after = client.post(
        "/v1/notices",
        headers=bearer(bravo),
        json={"volumes": [volume(box(8.0, 47.0, 8.4, 47.3), 0, 3000, 4, 6)]},
    )
    for response in (edge, above, after):
        assert response.status_code == 201
        assert response.json()["conflicts"] == []


def test_another_partys_notice_reads_as_not_found(
    client: TestClient, make_party: MakeParty
) -> None:
    _, alpha = make_party("Alpha")
    _, bravo = make_party("Bravo")
    filed = client.post(
        "/v1/notices", headers=bearer(alpha), json={"volumes": [volume(box(8.0, 47.0, 8.4, 47.3))]}
    ).json()
    notice_id = filed["notice"]["id"]
    assert client.get(f"/v1/notices/{notice_id}", headers=bearer(alpha)).status_code == 200
    for method, path in (
        ("GET", f"/v1/notices/{notice_id}"),
        ("GET", f"/v1/notices/{notice_id}/conflicts"),
        ("POST", f"/v1/notices/{notice_id}/cancel"),
    ):
        response = client.request(method, path, headers=bearer(bravo))
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
    assert client.get("/v1/notices", headers=bearer(bravo)).json() == []


def test_modify_needs_the_current_version(client: TestClient, make_party: MakeParty) -> None:
    _, alpha = make_party("Alpha")
    _, bravo = make_party("Bravo")
    client.post(
        "/v1/notices", headers=bearer(bravo), json={"volumes": [volume(box(8.0, 47.0, 8.4, 47.3))]}
    )
    filed = client.post(
        "/v1/notices", headers=bearer(alpha), json={"volumes": [volume(box(8.2, 47.0, 8.6, 47.3))]}
    ).json()
    assert len(filed["conflicts"]) == 1
    notice_id = filed["notice"]["id"]
    moved = {"title": "moved", "version": 1, "volumes": [volume(box(9.0, 47.0, 9.4, 47.3))]}
    response = client.put(f"/v1/notices/{notice_id}", headers=bearer(alpha), json=moved)
    assert response.status_code == 200, response.text
    assert response.json()["notice"]["version"] == 2
    assert response.json()["conflicts"] == []
    assert [a["state"] for a in client.get("/v1/alerts", headers=bearer(bravo)).json()] == [
        "resolved"
    ]

    stale = client.put(f"/v1/notices/{notice_id}", headers=bearer(alpha), json=moved)
    assert stale.status_code == 409
    assert stale.json()["code"] == "stale-version"
    assert stale.json()["current_version"] == 2


def test_cancel_frees_the_airspace(client: TestClient, make_party: MakeParty) -> None:
    _, alpha = make_party("Alpha")
    _, bravo = make_party("Bravo")
    filed = client.post(
        "/v1/notices", headers=bearer(alpha), json={"volumes": [volume(box(8.0, 47.0, 8.4, 47.3))]}
    ).json()
    notice_id = filed["notice"]["id"]
    cancelled = client.post(
        f"/v1/notices/{notice_id}/cancel", headers=bearer(alpha), json={"version": 1}
    )
    assert cancelled.status_code == 200
    assert cancelled.json()["state"] == "cancelled"
    again = client.post(f"/v1/notices/{notice_id}/cancel", headers=bearer(alpha))
    assert again.status_code == 409
    assert again.json()["code"] == "invalid-state"
    later = client.post(
        "/v1/notices", headers=bearer(bravo), json={"volumes": [volume(box(8.0, 47.0, 8.4, 47.3))]}
    )
    assert later.json()["conflicts"] == []


def test_idempotency_key_returns_the_first_result(
    client: TestClient, make_party: MakeParty
) -> None:
    _, alpha = make_party("Alpha")
    body = {"title": "retry me", "volumes": [volume(box(8.0, 47.0, 8.4, 47.3))]}
    headers = {**bearer(alpha), "Idempotency-Key": "flight-42-v1"}
    first = client.post("/v1/notices", headers=headers, json=body)
    retry = client.post("/v1/notices", headers=headers, json=body)
    assert first.status_code == retry.status_code == 201
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json()["notice"]["id"] == first.json()["notice"]["id"]
    assert len(client.get("/v1/notices", headers=bearer(alpha)).json()) == 1

    other = client.post("/v1/notices", headers=headers, json={**body, "title": "something else"})
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency-key-reused"


def test_an_idempotency_key_is_forgotten_after_its_time(
    client: TestClient, make_party: MakeParty, clock: ManualClock
) -> None:
    _, alpha = make_party("Alpha")
    headers = {**bearer(alpha), "Idempotency-Key": "flight-43"}
    body = {"title": "first", "volumes": [volume(box(8.0, 47.0, 8.4, 47.3), 0, 3000, 60, 62)]}
    assert client.post("/v1/notices", headers=headers, json=body).status_code == 201
    services = client.app.state.services  # type: ignore[attr-defined]
    other = {**body, "title": "a new filing under the old key"}

    clock.advance(timedelta(seconds=Settings().idempotency_ttl_s - 1))
    services.run_once(clock.now())
    assert client.post("/v1/notices", headers=headers, json=other).status_code == 409

    clock.advance(timedelta(seconds=2))
    services.run_once(clock.now())
    again = client.post("/v1/notices", headers=headers, json=other)
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again.headers
    assert again.json()["notice"]["title"] == other["title"]


def _alpha_alerted_of_bravo(
    client: TestClient, make_party: MakeParty
) -> tuple[str, str, dict[str, Any]]:
    """Alpha's and Bravo's tokens, after they filed overlapping notices, and Alpha's alert."""
    _, alpha = make_party("Alpha")
    _, bravo = make_party("Bravo")
    client.post(
        "/v1/notices", headers=bearer(alpha), json={"volumes": [volume(box(8.0, 47.0, 8.4, 47.3))]}
    )
    client.post(
        "/v1/notices", headers=bearer(bravo), json={"volumes": [volume(box(8.2, 47.0, 8.6, 47.3))]}
    )
    [alert] = client.get("/v1/alerts", headers=bearer(alpha)).json()
    return alpha, bravo, alert


def test_alert_acknowledgment_is_idempotent_and_private(
    client: TestClient, make_party: MakeParty
) -> None:
    alpha, bravo, alert = _alpha_alerted_of_bravo(client, make_party)
    first = client.post(f"/v1/alerts/{alert['id']}/acknowledge", headers=bearer(alpha))
    second = client.post(f"/v1/alerts/{alert['id']}/acknowledge", headers=bearer(alpha))
    assert first.status_code == second.status_code == 200
    assert first.json()["state"] == "acknowledged"
    assert second.json()["acknowledged_at"] == first.json()["acknowledged_at"]
    foreign = client.post(f"/v1/alerts/{alert['id']}/acknowledge", headers=bearer(bravo))
    assert foreign.status_code == 404
    assert client.get("/v1/alerts?state=open", headers=bearer(alpha)).json() == []


def test_observers_may_not_file(client: TestClient, make_party: MakeParty) -> None:
    _, watcher = make_party("Watcher", "observer")
    response = client.post(
        "/v1/notices",
        headers=bearer(watcher),
        json={"volumes": [volume(box(8.0, 47.0, 8.4, 47.3))]},
    )
    assert response.status_code == 403
    assert "observer" in response.json()["detail"]


def test_filings_that_arrive_together_each_get_their_own_answer(
    client: TestClient, database: Database, make_party: MakeParty
) -> None:
    """Concurrent filings, one at a time underneath: each valid one is filed with the
    conflicts the others filed before it give, a refused one writes nothing and holds
    up none, a key retried at the same moment files once; the journal stays whole."""
    _, alpha = make_party("Alpha")
    _, bravo = make_party("Bravo")
    _, watcher = make_party("Watcher", "observer")
    posts = [
        (alpha if i % 2 else bravo, {"volumes": [volume(box(8.0 + i / 100, 47.0, 8.4, 47.3))]})
        for i in range(8)
    ]
    posts += [(watcher, {"volumes": [volume(box(8.0, 47.0, 8.4, 47.3))]})] * 2
    headers = [bearer(token) for token, _ in posts]
    headers[0] = headers[2] = {**headers[0], "Idempotency-Key": "same-filing"}
    posts[2] = posts[0]
    with ThreadPoolExecutor(len(posts)) as pool:
        answers = list(
            pool.map(
                lambda p: client.post("/v1/notices", headers=p[0], json=p[1][1]),
                zip(headers, posts, strict=True),
            )
        )
    assert [a.status_code for a in answers] == [201] * 8 + [403] * 2
    assert answers[0].json()["notice"]["id"] == answers[2].json()["notice"]["id"]
    filed = {a.json()["notice"]["id"] for a in answers[:8]}
    assert len(filed) == 7  # the retry filed nothing
    mine = [client.get("/v1/notices", headers=bearer(t)).json() for t in (alpha, bravo)]
    assert {n["id"] for notices in mine for n in notices} == filed
    conflicts = sum(len(a.json()["conflicts"]) for a in answers[:8] if a is not answers[2])
    alerts = [client.get("/v1/alerts", headers=bearer(t)).json() for t in (alpha, bravo)]
    assert sum(len(a) for a in alerts) == 2 * conflicts  # one alert for each side
    assert verify_database(database).intact


def test_openapi_and_docs_are_served(client: TestClient) -> None:
    spec = client.get("/openapi.json")
    assert spec.status_code == 200
    assert "/v1/notices" in spec.json()["paths"]
    assert client.get("/docs").status_code == 200
    assert client.get("/healthz").json()["status"] == "ok"


def test_acknowledging_an_alert_yields_a_signed_receipt(
    client: TestClient, make_party: MakeParty
) -> None:
    alpha, bravo, alert = _alpha_alerted_of_bravo(client, make_party)
    client.post(f"/v1/alerts/{alert['id']}/acknowledge", headers=bearer(alpha))
    receipts = client.get(f"/v1/receipts?item={alert['id']}", headers=bearer(alpha)).json()
    assert [r["body"]["event"] for r in receipts] == ["acknowledged"]
    assert client.get(f"/v1/receipts?item={alert['id']}", headers=bearer(bravo)).json() == []


def test_a_notice_says_whether_it_is_a_standing_zone(
    client: TestClient, make_party: MakeParty, database: Database, clock: ManualClock
) -> None:
    authority, caa = make_party("CAA", "authority")
    _, alpha = make_party("Alpha")
    zone = Volume4D(zoo_box(8.0, 47.0, 0.4, 0.3), 0.0, 3000.0, T0, T0 + timedelta(days=365))
    filed = NoticeService(database, clock, Settings()).file(
        authority, NoticeDraft((zone,), "R1", standing=True)
    )
    activity = client.post(
        "/v1/notices", headers=bearer(alpha), json={"volumes": [volume(box(8.0, 47.0, 8.4, 47.3))]}
    )
    assert activity.status_code == 201, activity.text
    assert activity.json()["notice"]["standing"] is False
    seen = client.get(f"/v1/notices/{filed.notice.id}", headers=bearer(caa))
    assert seen.status_code == 200, seen.text
    assert seen.json()["standing"] is True
    assert [n["standing"] for n in client.get("/v1/notices", headers=bearer(caa)).json()] == [True]


def test_a_standing_zone_takes_a_floor_and_other_notices_are_refused_one(
    client: TestClient, make_party: MakeParty, database: Database, clock: ManualClock
) -> None:
    """``floor_m`` (issue 9, Floor): accepted on an authority's standing zone, shown with
    its volume; refused with a clear 422 on planned activity, above the lower limit or
    out of range, and a refusal stores nothing."""
    authority, caa = make_party("CAA", "authority")
    _, alpha = make_party("Alpha")
    zone = Volume4D(zoo_box(8.0, 47.0, 0.4, 0.3), 0.0, 3000.0, T0, T0 + timedelta(days=365))
    filed = NoticeService(database, clock, Settings()).file(
        authority, NoticeDraft((zone,), "CTR", standing=True)
    )
    here = box(8.0, 47.0, 8.4, 47.3)

    def counts() -> tuple[int, int]:
        with database.read() as session:
            rows = session.execute(text("SELECT count(*), count(floor_m) FROM volumes")).one()
            return int(rows[0]), int(rows[1])

    before = counts()
    for who, path, body, status, code, words in [
        (
            alpha,
            "",
            {"volumes": [volume(here, floor_m=-5.0)]},
            422,
            "floor-not-standing",
            "standing zones only",
        ),
        (
            caa,
            "",
            {"volumes": [volume(here, floor_m=-5.0)]},
            422,
            "floor-not-standing",
            "standing zones only",
        ),
        (
            caa,
            f"/{filed.notice.id}",
            {"version": 1, "volumes": [volume(here, floor_m=10.0)]},
            422,
            "invalid-altitude",
            "at or below the lower limit",
        ),
        (
            caa,
            f"/{filed.notice.id}",
            {"version": 1, "volumes": [volume(here, floor_m=-1e6)]},
            422,
            "invalid-input",
            "floor_m",
        ),
    ]:
        send = client.put if path else client.post
        response = send(f"/v1/notices{path}", headers=bearer(who), json=body)
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["type"].endswith(code), problem
        assert words in problem["detail"] + str(problem.get("errors", "")), problem
        assert counts() == before

    floored = client.put(
        f"/v1/notices/{filed.notice.id}",
        headers=bearer(caa),
        json={"version": 1, "volumes": [volume(here, 0.0, 3000.0, floor_m=-15.5)]},
    )
    assert floored.status_code == 200, floored.text
    [feature] = floored.json()["notice"]["volumes"]["features"]
    assert feature["properties"]["floor_m"] == -15.5
    shown = client.get(f"/v1/notices/{filed.notice.id}", headers=bearer(caa)).json()
    assert shown["standing"] is True
    assert shown["volumes"]["features"][0]["properties"]["floor_m"] == -15.5
    assert counts() == (before[0], 1)
    planned = client.post("/v1/notices", headers=bearer(alpha), json={"volumes": [volume(here)]})
    assert "floor_m" not in planned.json()["notice"]["volumes"]["features"][0]["properties"]

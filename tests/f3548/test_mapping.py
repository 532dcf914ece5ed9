"""One airspace: a USS's intents meet native notices (alerts on both sides), native
notices shown to a USS only under an agreement and clipped to its visibility, the
key checked with the exact test, and a Down USS refused (412)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from deconfliction.agreements.terms import Terms, Visibility
from tests.api.conftest import bearer, box, volume
from tests.f3548.conftest import AA, CM, SC, Token, auth, extent, intent, when

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])  # the store is tested below

# A native notice over [8.50, 8.60] x [47.40, 47.50], 0-3000 m, T0+1h..T0+3h.
_NATIVE = {"title": "Exercise", "volumes": [volume(box(8.50, 47.40, 8.60, 47.50), 0, 3000, 1, 3)]}


def _native(client: TestClient) -> str:
    services = client.app.state.services  # type: ignore[attr-defined]
    _, token = services.registry.add("Northern Air Group", "operator")
    filed = client.post("/v1/notices", json=_NATIVE, headers=bearer(token))
    assert filed.status_code == 201, filed.text
    return token


def _put(client: TestClient, token: str, body: dict[str, Any]) -> Any:
    return client.put(
        f"/dss/v1/operational_intent_references/{uuid.uuid4()}", json=body, headers=auth(token)
    )


def _constraints(client: TestClient, token: str, area: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.post(
        "/dss/v1/constraint_references/query",
        json={"area_of_interest": area},
        headers=auth(token),
    )
    assert response.status_code == 200, response.text
    refs: list[dict[str, Any]] = response.json()["constraint_references"]
    return refs


def _agree(client: TestClient, uss: str, visibility: Visibility) -> None:
    services = client.app.state.services  # type: ignore[attr-defined]
    services.agreements.set("Northern Air Group", uss, Terms(visibility=visibility))


def test_an_intent_meeting_a_native_notice_alerts_both_sides(
    client: TestClient, token: Token
) -> None:
    native = _native(client)
    uss = token("uss1", SC)
    put = _put(client, uss, intent(extent(8.55, 47.45, start_h=1.5, end_h=2.5)))
    assert put.status_code == 201, put.text  # a native notice is no OVN to hold
    native_alerts = client.get("/v1/alerts", headers=bearer(native)).json()
    uss_alerts = client.get("/v1/alerts", headers=auth(uss)).json()
    # no agreement between them: each is told of "another party" (issue 12's default)
    assert [a["conflict"]["properties"]["counterpart"] for a in native_alerts] == [
        "(another party)"
    ]
    assert [a["conflict"]["properties"]["counterpart"] for a in uss_alerts] == ["(another party)"]
    assert native_alerts[0]["conflict"]["properties"]["start"].startswith("2026-03-02T09:30")


def test_a_native_notice_is_invisible_without_an_agreement(
    client: TestClient, token: Token
) -> None:
    _native(client)
    assert _constraints(client, token("uss1", CM), extent(8.55, 47.45, 5_000, 0, 3000, 0, 4)) == []


def test_with_full_visibility_the_notice_is_a_constraint_of_its_whole_window(
    client: TestClient, token: Token
) -> None:
    _native(client)
    uss = token("uss1", CM)
    _constraints(client, uss, extent(8.55, 47.45))  # enrols uss1
    _agree(client, "uss1", Visibility.FULL)
    [ref] = _constraints(client, uss, extent(8.55, 47.45, 500, 0, 100, 0, 4))
    assert ref["manager"] == "Northern Air Group"
    assert ref["ovn"] == "Available from USS"
    assert (ref["time_start"], ref["time_end"]) == (when(1), when(3))
    assert _constraints(client, uss, extent(9.55, 47.45, 500, 0, 100, 0, 4)) == []  # elsewhere


def test_with_overlap_visibility_only_where_it_meets_the_uss_intents(
    client: TestClient, token: Token
) -> None:
    _native(client)
    uss = token("uss1", SC, CM)
    area = extent(8.55, 47.45, 8_000, 0, 3000, 0, 4)
    _constraints(client, uss, area)  # enrols uss1
    _agree(client, "uss1", Visibility.OVERLAP)
    assert _constraints(client, uss, area) == []  # no intent of uss1 meets it yet
    put = _put(client, uss, intent(extent(8.55, 47.45, start_h=2.5, end_h=4.0)))
    assert put.status_code == 201, put.text
    [ref] = _constraints(client, uss, area)
    # clipped: the window of the overlap, not the notice's T0+1h..T0+3h
    assert (ref["time_start"], ref["time_end"]) == (when(2.5), when(3))
    assert _constraints(client, uss, extent(8.51, 47.41, 300, 0, 3000, 0, 4)) == []


def test_intents_in_one_cell_that_do_not_meet_need_no_ovn(client: TestClient, token: Token) -> None:
    uss1, uss2 = token("uss1", SC), token("uss2", SC)
    first = _put(client, uss1, intent(extent(8.55, 47.45, 50, 0, 100, 1, 2)))
    assert first.status_code == 201, first.text
    # 300 m away in one small cell, and the same place an hour later: no key needed
    assert _put(client, uss2, intent(extent(8.554, 47.45, 50, 0, 100, 1, 2))).status_code == 201
    assert _put(client, uss2, intent(extent(8.55, 47.45, 50, 0, 100, 2, 3))).status_code == 201
    # the same place and time: the key must hold the first intent's OVN
    missing = _put(client, uss2, intent(extent(8.55, 47.45, 50, 50, 150, 1.2, 1.8)))
    assert missing.status_code == 409
    body = missing.json()
    [ref] = body["missing_operational_intents"]
    assert ref["id"] == first.json()["operational_intent_reference"]["id"]
    assert ref["ovn"] == "Available from USS"
    ovn = first.json()["operational_intent_reference"]["ovn"]
    keyed = _put(client, uss2, intent(extent(8.55, 47.45, 50, 50, 150, 1.2, 1.8), key=[ovn]))
    assert keyed.status_code == 201, keyed.text


def test_a_down_uss_is_refused_412(client: TestClient, token: Token) -> None:
    uss = token("uss1", SC)
    created = _put(client, uss, intent(extent(8.55, 47.45)))
    assert created.status_code == 201
    down = client.put(
        "/dss/v1/uss_availability/uss1",
        json={"availability": "Down"},
        headers=auth(token("arbiter", AA)),
    )
    assert down.status_code == 200
    refused = _put(client, uss, intent(extent(9.55, 47.45)))
    assert refused.status_code == 412
    assert refused.json()["code"] == "precondition-failed"
    ref = created.json()["operational_intent_reference"]
    path = f"/dss/v1/operational_intent_references/{ref['id']}"
    assert client.delete(f"{path}/{ref['ovn']}", headers=auth(uss)).status_code == 412
    got = client.get(path, headers=auth(token("uss2", SC))).json()
    assert got["operational_intent_reference"]["uss_availability"] == "Down"
    nonconforming = {**intent(extent(9.55, 47.45)), "state": "Nonconforming"}
    assert _put(client, uss, nonconforming).status_code == 201  # off-nominal is allowed


def test_an_intent_keeps_the_standards_window_not_the_native_horizon(
    client: TestClient, token: Token
) -> None:
    """A native notice ending 60 days ahead is refused (beyond-horizon); a USS's intent
    ending as far ahead is the standard's business, and is put."""
    native = _native(client)
    far = {"title": "Far", "volumes": [volume(box(9.0, 47.0, 9.1, 47.1), 0, 3000, 1, 24 * 60)]}
    refused = client.post("/v1/notices", json=far, headers=bearer(native))
    assert (refused.status_code, refused.json()["code"]) == (422, "beyond-horizon")
    uss = token("uss1", SC)
    put = _put(client, uss, intent(extent(9.05, 47.05, start_h=1.0, end_h=24 * 60)))
    assert put.status_code == 201, put.text

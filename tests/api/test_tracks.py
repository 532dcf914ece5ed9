"""``/v1/tracks`` over HTTP and WebSocket, on both store backends, and the app's tick loop."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from deconfliction.agreements.terms import ANONYMOUS_COUNTERPART
from deconfliction.api import create_app
from deconfliction.clock import ManualClock
from deconfliction.settings import Settings
from deconfliction.tracks.service import TrackService
from tests.api.conftest import bearer
from tests.conftest import T0, MakeParty
from tests.zoo import east_of


@pytest.fixture
def app_client(database_url: str, clock: ManualClock) -> Iterator[TestClient]:
    """The app with no background ticks: tests tick the engine themselves."""
    app = create_app(Settings(database_url=database_url, track_tick_s=0, tick_s=0), clock)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def engine(client: TestClient) -> TrackService:
    tracks = client.app.state.services.tracks  # type: ignore[attr-defined]
    assert isinstance(tracks, TrackService)
    return tracks


def state(ident: str, lon: float, **more: Any) -> dict[str, Any]:
    return {
        "id": ident,
        "time": T0.isoformat(),
        "lat": 49.0,
        "lon": lon,
        "alt_m": 10_000.0,
        "gs_mps": 200.0,
        "trk_deg": 90.0,
        "vs_mps": 0.0,
    } | more


FAR_LON, _ = east_of(2.0, 49.0, 30_000.0)


def test_a_batch_is_answered_202_with_a_report_per_row(
    app_client: TestClient, make_party: MakeParty
) -> None:
    _, alpha = make_party("Alpha")
    _, bravo = make_party("Bravo")
    assert (
        app_client.post(
            "/v1/tracks", json={"states": [state("BX1", 2.5)]}, headers=bearer(bravo)
        ).status_code
        == 202
    )
    text = (
        '{"states": [{"id": "AX1", "time": "2026-03-02T08:00:00Z", "lat": NaN, "lon": 2.0,'
        ' "alt_m": 10000, "gs_mps": 200, "trk_deg": 90, "vs_mps": 0}, '
        + ", ".join(
            json.dumps(s)
            for s in (
                state("AX2", 2.0),
                state("AX2", 2.1),
                state("AX3", 2.0, gs_mps=-5.0),
                state("AX4", 2.0, lat=123.0),
                state("AX5", 2.0, time="2026-03-02T08:05:00Z"),
                state("AX6", 2.0, time="2026-03-02T07:50:00Z"),
                state("BX1", 2.0),
                state("AX7", 2.0, notice="ntc_nobody"),
            )
        )
        + "]}"
    )
    response = app_client.post(
        "/v1/tracks",
        content=text,
        headers={**bearer(alpha), "Content-Type": "application/json"},
    )
    assert response.status_code == 202, response.text
    body = response.json()
    assert (body["received"], body["accepted"]) == (9, 1)
    reasons = {r["index"]: (r["id"], r["reason"]) for r in body["rejected"]}
    assert reasons[0] == ("AX1", "lat is nan, not a finite number")
    assert reasons[2] == ("AX2", "id 'AX2' repeats row 1")
    assert "negative" in reasons[3][1]
    assert "latitude 123.0" in reasons[4][1]
    assert "ahead of the service's clock" in reasons[5][1]
    assert "600 s old" in reasons[6][1]
    assert "reported by another party" in reasons[7][1]
    assert "not one of your notices" in reasons[8][1]
    mine = app_client.get("/v1/tracks", headers=bearer(alpha)).json()
    assert [t["id"] for t in mine] == ["AX2"]
    assert mine[0]["time"] == "2026-03-02T08:00:00Z"
    assert [t["id"] for t in app_client.get("/v1/tracks", headers=bearer(bravo)).json()] == ["BX1"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"states": "AX1"}, 422, "invalid-input"),
        ({"state": []}, 422, "invalid-input"),
        ({"states": [state("A", 2.0)] * 3}, 422, "invalid-input"),
    ],
)
def test_a_batch_that_is_not_one_is_refused_whole(
    database_url: str,
    clock: ManualClock,
    make_party: MakeParty,
    body: Any,
    status: int,
    code: str,
) -> None:
    app = create_app(Settings(database_url=database_url, track_tick_s=0, track_max_batch=2), clock)
    _, token = make_party("Alpha")
    with TestClient(app) as client:
        response = client.post("/v1/tracks", json=body, headers=bearer(token))
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert response.headers["content-type"] == "application/problem+json"


def test_observers_and_strangers_are_refused(app_client: TestClient, make_party: MakeParty) -> None:
    _, watcher = make_party("Watcher", "observer")
    body = {"states": [state("A", 2.0)]}
    assert app_client.post("/v1/tracks", json=body, headers=bearer(watcher)).status_code == 403
    assert app_client.post("/v1/tracks", json=body).status_code == 401
    assert app_client.post("/v1/tracks", json=body, headers=bearer("dcf_nope")).status_code == 401


def test_alerts_after_a_tick_show_each_party_its_view(
    app_client: TestClient, make_party: MakeParty
) -> None:
    _, alpha = make_party("Alpha")
    _, bravo = make_party("Bravo")
    app_client.post("/v1/tracks", json={"states": [state("AX1", 2.0)]}, headers=bearer(alpha))
    app_client.post(
        "/v1/tracks",
        json={"states": [state("BX1", FAR_LON, trk_deg=270.0)]},
        headers=bearer(bravo),
    )
    assert engine(app_client).run_tick().opened == 1
    (live,) = app_client.get("/v1/tracks/alerts", headers=bearer(alpha)).json()
    assert (live["kind"], live["counterpart"], live["track"]["aircraft"]) == (
        "track-track",
        ANONYMOUS_COUNTERPART,  # no agreement: anonymous
        "AX1",
    )
    assert live["geometry"]["type"] == "Point"
    assert live["track"]["moment"] == "closest-approach"
    (stored,) = app_client.get("/v1/alerts", headers=bearer(bravo)).json()
    assert stored["kind"] == "track-track"
    assert stored["priority"] == "flash"
    assert stored["conflict"]["properties"]["counterpart"] == ANONYMOUS_COUNTERPART
    assert "AX1" not in str(stored)
    events = app_client.get("/v1/events", headers=bearer(bravo)).json()["events"]
    assert [e["kind"] for e in events] == ["alert.created"]
    assert events[0]["payload"]["track"]["aircraft"] == "BX1"


def test_the_websocket_answers_each_batch_in_order(
    app_client: TestClient, make_party: MakeParty
) -> None:
    _, alpha = make_party("Alpha")
    with app_client.websocket_connect("/v1/tracks/stream") as ws:
        ws.send_json({"token": alpha})
        hello = ws.receive_json()
        assert hello == {"hello": {"party": "Alpha", "max_batch": 10_000}}
        ws.send_json({"states": [state("AX1", 2.0)], "batch": 1})
        ws.send_text("not json")
        ws.send_json({"states": [state("AX1", 2.0), state("AX1", 2.1)], "batch": "two"})
        ws.send_bytes(b'{"states": []}')
        first, second, third, fourth = (ws.receive_json() for _ in range(4))
    assert first == {"received": 1, "accepted": 1, "rejected": [], "batch": 1}
    assert second["error"]["status"] == 422
    assert "states" in second["error"]["detail"]
    assert (third["accepted"], third["batch"]) == (1, "two")
    assert third["rejected"] == [{"index": 1, "id": "AX1", "reason": "id 'AX1' repeats row 0"}]
    assert fourth == {"received": 0, "accepted": 0, "rejected": []}
    assert [t["id"] for t in app_client.get("/v1/tracks", headers=bearer(alpha)).json()] == ["AX1"]


def test_the_websocket_authenticates_by_header_and_refuses_bad_tokens(
    app_client: TestClient, make_party: MakeParty
) -> None:
    _, alpha = make_party("Alpha")
    _, watcher = make_party("Watcher", "observer")
    with app_client.websocket_connect("/v1/tracks/stream", headers=bearer(alpha)) as ws:
        assert ws.receive_json()["hello"]["party"] == "Alpha"
    for headers, code in ((bearer("dcf_nope"), 4401), (bearer(watcher), 4403)):
        with app_client.websocket_connect("/v1/tracks/stream", headers=headers) as ws:
            assert ws.receive_json()["error"]["status"] == code - 4000
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json()
            assert closed.value.code == code


def test_the_apps_engine_ticks_on_its_own(
    database_url: str, clock: ManualClock, make_party: MakeParty
) -> None:
    app = create_app(Settings(database_url=database_url, track_tick_s=0.05, tick_s=0), clock)
    _, alpha = make_party("Alpha")
    _, bravo = make_party("Bravo")
    with TestClient(app) as client:
        client.post("/v1/tracks", json={"states": [state("AX1", 2.0)]}, headers=bearer(alpha))
        client.post(
            "/v1/tracks",
            json={"states": [state("BX1", FAR_LON, trk_deg=270.0)]},
            headers=bearer(bravo),
        )
        page = client.get("/v1/events?wait=20", headers=bearer(bravo)).json()
    assert [e["kind"] for e in page["events"]] == ["alert.created"]


def test_on_ground_is_a_flag_and_an_aircraft_on_the_ground_takes_no_part(
    app_client: TestClient, make_party: MakeParty
) -> None:
    _, alpha = make_party("Alpha")
    _, bravo = make_party("Bravo")
    bad = app_client.post(
        "/v1/tracks", json={"states": [state("AX9", 2.0, on_ground="yes")]}, headers=bearer(alpha)
    ).json()
    assert bad["rejected"][0]["reason"] == "on_ground must be true or false, not 'yes'"
    app_client.post("/v1/tracks", json={"states": [state("AX1", 2.0)]}, headers=bearer(alpha))
    grounded = state("BX1", FAR_LON, trk_deg=270.0, on_ground=True)
    body = app_client.post("/v1/tracks", json={"states": [grounded]}, headers=bearer(bravo)).json()
    assert body["accepted"] == 1
    assert engine(app_client).run_tick().opened == 0

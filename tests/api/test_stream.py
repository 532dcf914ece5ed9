"""The event stream (WebSocket) and polling: in order, each once, resumable, and durable.

In-app tests use Starlette's TestClient on both stores; a missed wake-up would leave a
live test waiting (the idle re-check is set out of reach), so the test times out instead
of passing slowly. Tests over real sockets run the real server: in this process (to
shorten its timeouts) or as ``deconfliction serve`` killed with SIGKILL.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

from deconfliction.api.routes import stream as stream_routes
from deconfliction.cli.serve import running_server
from deconfliction.clock import ManualClock, SystemClock
from deconfliction.delivery.outbox import publish
from deconfliction.journal.receipts import RECEIPT_TYPE, verify_export, verify_signed
from deconfliction.limits import PartyLimits
from deconfliction.parties import Registry
from deconfliction.settings import Settings
from deconfliction.store.database import Database
from tests.api.conftest import bearer
from tests.conftest import MakeParty
from tests.delivery.test_bus import NATS_URL, _nats_reachable
from tests.servers import free_port, served

pytestmark = pytest.mark.timeout(120)

_names = itertools.count()


@pytest.fixture(autouse=True)
def no_idle_recheck(monkeypatch: pytest.MonkeyPatch) -> None:
    """Streams wake only when told to: a lost wake-up hangs the test (it fails)."""
    monkeypatch.setattr(stream_routes, "RECHECK_S", 3600.0)


def _send(client: TestClient, token: str, to: str, text: str = "hello") -> str:
    response = client.post("/v1/messages", json={"to": to, "text": text}, headers=bearer(token))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _open(client: TestClient, token: str, after: int = 0) -> WebSocketTestSession:
    return client.websocket_connect(f"/v1/stream?after={after}", headers=bearer(token))


def _closed_with(ws: WebSocketTestSession) -> tuple[dict[str, Any], int]:
    """The error frame and close code that end a connection."""
    error = ws.receive_json()
    with pytest.raises(WebSocketDisconnect) as closed:
        ws.receive_json()
    return error["error"], closed.value.code


def _poll_until(client: TestClient, token: str, count: int) -> list[dict[str, Any]]:
    """The party's events, long-polling until there are ``count`` of them."""
    events: list[dict[str, Any]] = []
    while len(events) < count:
        after = events[-1]["seq"] if events else 0
        page = client.get(f"/v1/events?after={after}&wait=10", headers=bearer(token)).json()
        events += page["events"]
    return events


def test_the_backlog_comes_first_then_live_events_in_order(
    client: TestClient, make_party: MakeParty
) -> None:
    _, alpha = make_party("Alpha")
    _, bravo = make_party("Bravo")
    first = [_send(client, alpha, "Bravo", f"m{i}") for i in range(2)]
    with _open(client, bravo) as ws:
        assert ws.receive_json() == {"hello": {"party": "Bravo", "after": 0, "last_seq": 2}}
        backlog = [ws.receive_json() for _ in range(2)]
        assert [e["seq"] for e in backlog] == [1, 2]
        assert [e["item"] for e in backlog] == first
        assert {e["kind"] for e in backlog} == {"message.received"}
        assert [e["payload"]["text"] for e in backlog] == ["m0", "m1"]
        live = _send(client, alpha, "Bravo", "m2")
        event = ws.receive_json()
        assert (event["seq"], event["item"], event["payload"]["from"]) == (3, live, "Alpha")
        assert set(event) == {"seq", "kind", "item", "at", "payload"}


def test_a_backlog_longer_than_a_read_comes_whole_without_a_wake_up(
    client: TestClient, make_party: MakeParty, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream_routes, "SEND_BUFFER", 3)
    _, alpha = make_party("Alpha")
    _, bravo = make_party("Bravo")
    sent = [_send(client, alpha, "Bravo", f"m{i}") for i in range(8)]
    with _open(client, bravo) as ws:
        assert ws.receive_json()["hello"]["last_seq"] == 8
        assert [ws.receive_json()["item"] for _ in range(8)] == sent
        live = _send(client, alpha, "Bravo", "m8")  # from the commit, kept in memory
        assert ws.receive_json()["item"] == live


def test_an_event_another_writer_committed_comes_in_its_place_before_this_apps_own(
    client: TestClient, make_party: MakeParty, database_url: str, clock: ManualClock
) -> None:
    """The app keeps in memory the events it committed; one that another writer (another
    replica) committed in between is not there and must be read from the store."""
    _, alpha = make_party("Alpha")
    bravo_ref, bravo = make_party("Bravo")
    with _open(client, bravo) as ws:
        assert ws.receive_json()["hello"]["last_seq"] == 0
        other = Database(database_url)  # this app hears nothing of its commits
        try:
            with other.transaction() as session:
                publish(session, party_id=bravo_ref.id, kind="note", payload={}, at=clock.now())
        finally:
            other.dispose()
        live = _send(client, alpha, "Bravo", "mine")  # seq 2, kept in this app's memory
        first, second = ws.receive_json(), ws.receive_json()
        assert (first["seq"], first["kind"]) == (1, "note")
        assert (second["seq"], second["item"]) == (2, live)


def test_a_client_that_never_acknowledges_is_told_and_dropped_then_resumes(
    client: TestClient, make_party: MakeParty, database: Database, clock: ManualClock
) -> None:
    _, alpha = make_party("Alpha")
    _, bravo = make_party("Bravo")
    PartyLimits(database, clock, Settings()).set("Bravo", {"max_unacked": 3})
    sent = [_send(client, alpha, "Bravo", f"m{i}") for i in range(5)]
    with _open(client, bravo) as ws:
        ws.receive_json()
        assert [ws.receive_json()["item"] for _ in range(3)] == sent[:3]
        error, code = _closed_with(ws)
        assert (error["status"], error["code"], code) == (429, "too-many-unacknowledged", 4429)
        assert "after=3" in error["detail"]
    with _open(client, bravo, after=3) as ws:  # which acknowledges 1 to 3
        assert ws.receive_json()["hello"]["after"] == 3
        assert [ws.receive_json()["item"] for _ in range(2)] == sent[3:]


def test_a_client_without_headers_sends_its_token_first(
    client: TestClient, make_party: MakeParty, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, bravo = make_party("Bravo")
    with client.websocket_connect("/v1/stream") as ws:
        ws.send_json({"token": bravo})
        assert ws.receive_json()["hello"]["party"] == "Bravo"
    with client.websocket_connect("/v1/stream") as ws:
        ws.send_json({"token": "dcf_wrong"})
        error, code = _closed_with(ws)
        assert (error["status"], code) == (401, 4401)
    with client.websocket_connect("/v1/stream", headers={"Authorization": "Basic x"}) as ws:
        assert _closed_with(ws)[1] == 4401
    monkeypatch.setattr(stream_routes, "AUTH_TIMEOUT_S", 0.1)
    with client.websocket_connect("/v1/stream") as ws:
        error, code = _closed_with(ws)
        assert code == 4401
        assert "first message" in error["detail"]


def test_a_position_beyond_the_last_event_is_a_clear_4xx(
    client: TestClient, make_party: MakeParty
) -> None:
    _, alpha = make_party("Alpha")
    _, bravo = make_party("Bravo")
    _send(client, alpha, "Bravo")
    with _open(client, bravo, after=5) as ws:
        error, code = _closed_with(ws)
    assert (code, error["status"], error["last_seq"]) == (4422, 422, 1)
    assert "beyond your last event (1)" in error["detail"]
    polled = client.get("/v1/events?after=5", headers=bearer(bravo))
    assert polled.status_code == 422
    assert polled.json()["last_seq"] == 1
    assert client.get("/v1/events?after=-1", headers=bearer(bravo)).status_code == 422
    assert client.get("/v1/events").status_code == 401


def test_acknowledging_tells_the_sender_with_a_signed_receipt(
    client: TestClient, make_party: MakeParty
) -> None:
    _, alpha = make_party("Alpha")
    _, bravo = make_party("Bravo")
    message = _send(client, alpha, "Bravo")
    with _open(client, bravo) as ws:
        ws.receive_json()
        event = ws.receive_json()
        ws.send_json({"ack": event["seq"]})
        [told] = _poll_until(client, alpha, 1)
    assert (told["kind"], told["item"]) == ("message.delivered", message)
    key = client.get("/v1/journal/key").json()["public_key"]
    assert verify_signed(told["payload"]["receipt"], key, RECEIPT_TYPE) is None
    stored = client.get(f"/v1/messages/{message}", headers=bearer(alpha)).json()
    assert stored["delivered_at"] is not None


BAD_FRAMES: list[tuple[Any, str]] = [
    ({"ack": 9}, "beyond the last event sent to you (1)"),
    ({"ack": -1}, "0 or more"),
    ({"ack": True}, "must be a seq"),
    ({"nack": 1}, '{"ack": <seq>}'),
    ("not json", '{"ack": <seq>}'),
]


def test_a_bad_frame_ends_the_connection_with_a_reason(
    client: TestClient, make_party: MakeParty
) -> None:
    _, alpha = make_party("Alpha")
    _, bravo = make_party("Bravo")
    _send(client, alpha, "Bravo")
    for frame, words in BAD_FRAMES:
        with _open(client, bravo) as ws:
            ws.receive_json()
            ws.receive_json()
            ws.send_text(frame if isinstance(frame, str) else json.dumps(frame))
            error, code = _closed_with(ws)
        assert code == 4422, frame
        assert words in error["detail"], frame


def test_reconnecting_gets_exactly_what_was_missed_and_replays_change_nothing(
    client: TestClient, make_party: MakeParty
) -> None:
    _, alpha = make_party("Alpha")
    _, bravo = make_party("Bravo")
    sent = [_send(client, alpha, "Bravo", f"m{i}") for i in range(3)]
    with _open(client, bravo) as ws:
        ws.receive_json()
        assert ws.receive_json()["seq"] == 1
        ws.send_json({"ack": 1})
    more = _send(client, alpha, "Bravo", "m3")
    with _open(client, bravo, after=1) as ws:  # it kept seq 1: it misses 2, 3 and 4
        assert ws.receive_json()["hello"]["after"] == 1
        resumed = [ws.receive_json() for _ in range(3)]
        assert [e["seq"] for e in resumed] == [2, 3, 4]
        assert [e["item"] for e in resumed] == [*sent[1:], more]
        ws.send_json({"ack": 4})
        delivered = _poll_until(client, alpha, 4)
    times = {m: client.get(f"/v1/messages/{m}", headers=bearer(alpha)).json() for m in sent}
    with _open(client, bravo, after=1) as ws:  # replaying old positions: a no-op
        ws.receive_json()
        assert [ws.receive_json()["seq"] for _ in range(3)] == [2, 3, 4]
        ws.send_json({"ack": 2})
        ws.send_json({"ack": 4})
        last = _send(client, alpha, "Bravo", "m4")  # a fresh one, to know the replays are done
        assert ws.receive_json()["item"] == last
        ws.send_json({"ack": 5})
        delivered = _poll_until(client, alpha, 5)
    assert [e["item"] for e in delivered] == [*sent, more, last]  # each delivery once
    for message, before in times.items():
        after = client.get(f"/v1/messages/{message}", headers=bearer(alpha)).json()
        assert after["delivered_at"] == before["delivered_at"]
    assert len(client.get("/v1/receipts", headers=bearer(alpha)).json()) == 5


def test_polling_pages_acknowledges_and_waits(client: TestClient, make_party: MakeParty) -> None:
    _, alpha = make_party("Alpha")
    _, bravo = make_party("Bravo")
    sent = [_send(client, alpha, "Bravo", f"m{i}") for i in range(3)]
    page = client.get("/v1/events?after=0&limit=2", headers=bearer(bravo)).json()
    assert [e["item"] for e in page["events"]] == sent[:2]
    assert page["last_seq"] == 3
    rest = client.get("/v1/events?after=2", headers=bearer(bravo)).json()  # acknowledges 1, 2
    assert [e["seq"] for e in rest["events"]] == [3]
    assert [e["item"] for e in _poll_until(client, alpha, 2)] == sent[:2]
    assert (
        client.get(f"/v1/messages/{sent[2]}", headers=bearer(alpha)).json()["delivered_at"] is None
    )

    later = threading.Timer(0.3, _send, args=(client, alpha, "Bravo", "late"))
    later.start()
    started = time.monotonic()
    waited = client.get("/v1/events?after=3&wait=30", headers=bearer(bravo)).json()
    later.join()
    assert [e["payload"]["text"] for e in waited["events"]] == ["late"]
    assert time.monotonic() - started < 25  # woken by the message, not by the deadline
    empty = client.get("/v1/events?after=4&wait=0.2", headers=bearer(bravo)).json()
    assert empty == {"events": [], "last_seq": 4}


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(
        st.one_of(
            st.tuples(st.just("send"), st.integers(1, 3)),
            st.tuples(st.just("receive"), st.integers(1, 4)),
            st.tuples(st.just("reconnect"), st.just(0)),
            st.tuples(st.just("ack"), st.just(0)),
        ),
        max_size=10,
    )
)
def test_any_interleaving_of_sends_and_dropped_connections_delivers_each_once_in_order(
    client: TestClient, make_party: MakeParty, steps: list[tuple[str, int]]
) -> None:
    """Messages are sent while the recipient receives some, drops its connection (losing
    whatever was in flight) and resumes from the last seq it kept."""
    n = next(_names)
    _, sender = make_party(f"Sender{n}")
    _, receiver = make_party(f"Receiver{n}")
    sent: list[str] = []
    kept: list[tuple[int, str]] = []

    def connect() -> WebSocketTestSession:
        ws = _open(client, receiver, kept[-1][0] if kept else 0)
        ws.__enter__()
        ws.receive_json()
        return ws

    ws = connect()
    try:
        for action, count in [*steps, ("reconnect", 0), ("receive", 10_000)]:
            if action == "send":
                sent += [_send(client, sender, f"Receiver{n}") for _ in range(count)]
            elif action == "receive":
                waiting = len(sent) - (kept[-1][0] if kept else 0)
                for _ in range(min(count, waiting)):
                    event = ws.receive_json()
                    kept.append((event["seq"], event["item"]))
            elif action == "ack" and kept:
                ws.send_json({"ack": kept[-1][0]})
            elif action == "reconnect":
                ws.__exit__(None, None, None)
                ws = connect()
    finally:
        ws.__exit__(None, None, None)
    assert kept == list(enumerate(sent, start=1))


# -- over real sockets --------------------------------------------------------------------


def _store(tmp_path: Path, *names: str) -> tuple[str, dict[str, str]]:
    url = f"sqlite:///{tmp_path / 'stream.db'}"
    db = Database(url)
    db.migrate()
    registry = Registry(db, SystemClock())
    tokens = {name: registry.add(name, "operator")[1] for name in names}
    db.dispose()
    return url, tokens


def _ws(base: str, token: str, after: int = 0, **options: Any) -> ClientConnection:
    url = base.replace("http://", "ws://") + f"/v1/stream?after={after}"
    return ws_connect(
        url, additional_headers=bearer(token), proxy=None, compression=None, **options
    )


def test_a_slow_client_holds_up_no_one_and_is_dropped_with_its_position(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream_routes, "SEND_TIMEOUT_S", 0.5)
    monkeypatch.setattr(stream_routes, "CLOSE_TIMEOUT_S", 60.0)  # its reason waits for it
    url, tokens = _store(tmp_path, "Alpha", "Slow", "Quick")
    db = Database(url)
    with db.transaction() as session:  # 9 MB waiting for Slow: more than the socket buffers
        for i in range(550):
            publish(
                session,
                party_id=2,
                kind="note",
                payload={"i": i, "pad": os.urandom(8000).hex()},
                at=SystemClock().now(),
            )
    db.dispose()
    with (
        running_server(Settings(database_url=url)) as base,
        _ws(base, tokens["Slow"], max_queue=1) as slow,  # it reads nothing for now
    ):
        with _ws(base, tokens["Quick"]) as quick:
            assert json.loads(quick.recv(timeout=10))["hello"]["party"] == "Quick"
            httpx.post(
                f"{base}/v1/messages",
                json={"to": "Quick", "text": "still here"},
                headers=bearer(tokens["Alpha"]),
                timeout=10,
            )
            event = json.loads(quick.recv(timeout=10))  # while Slow's stream is stuck
            assert event["payload"]["text"] == "still here"
        time.sleep(1.5)  # Slow is dropped meanwhile
        frames, code = _read_until_closed(slow)
    seqs = [f["seq"] for f in frames if "seq" in f]
    assert seqs == list(range(1, len(seqs) + 1))
    assert 0 < len(seqs) < 550
    assert frames[-1]["error"]["code"] == "too-slow"
    assert f"after={seqs[-1]}" in frames[-1]["error"]["detail"]
    assert code == 4408


def _read_until_closed(ws: ClientConnection) -> tuple[list[dict[str, Any]], int | None]:
    """Every frame left on a connection, and the close code it ends with."""
    frames = []
    try:
        while True:
            frames.append(json.loads(ws.recv(timeout=10)))
    except ConnectionClosed as closed:
        return frames, None if closed.rcvd is None else closed.rcvd.code


def _delivered(base: str, token: str, count: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    while len(events) < count:
        after = events[-1]["seq"] if events else 0
        page = httpx.get(
            f"{base}/v1/events?after={after}&wait=10", headers=bearer(token), timeout=20
        )
        events += page.json()["events"]
    return events


def test_a_kill_9_loses_nothing_answered_or_acknowledged(tmp_path: Path) -> None:
    url, tokens = _store(tmp_path, "Alpha", "Bravo")
    alpha, bravo = tokens["Alpha"], tokens["Bravo"]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with served(url, port) as process:
        key = httpx.get(f"{base}/v1/journal/key").json()["public_key"]
        sent = []
        for i in range(10):
            response = httpx.post(
                f"{base}/v1/messages", json={"to": "Bravo", "text": f"m{i}"}, headers=bearer(alpha)
            )
            assert response.status_code == 201
            sent.append(response.json()["id"])
        with _ws(base, bravo) as ws:
            ws.recv(timeout=10)
            received = [json.loads(ws.recv(timeout=10)) for _ in range(10)]
            ws.send(json.dumps({"ack": 5}))
            before = _delivered(base, alpha, 5)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    assert [e["item"] for e in received] == sent

    with served(url, port):
        assert httpx.get(f"{base}/v1/journal/key").json()["public_key"] == key
        for i, message in enumerate(sent):
            stored = httpx.get(f"{base}/v1/messages/{message}", headers=bearer(alpha)).json()
            assert (stored["delivered_at"] is not None) == (i < 5)
        with _ws(base, bravo, after=7) as ws:  # it had handled 7 of them
            assert json.loads(ws.recv(timeout=10))["hello"]["last_seq"] == 10
            assert [json.loads(ws.recv(timeout=10))["seq"] for _ in range(3)] == [8, 9, 10]
            ws.send(json.dumps({"ack": 10}))
            after = _delivered(base, alpha, 10)
            httpx.post(
                f"{base}/v1/messages", json={"to": "Bravo", "text": "after"}, headers=bearer(alpha)
            )
            assert json.loads(ws.recv(timeout=10))["seq"] == 11  # numbering goes on, no gap
        assert after[:5] == before
        assert [e["item"] for e in after] == sent  # each delivered once, in order
        export = httpx.get(f"{base}/v1/journal/export", headers=bearer(alpha)).json()
        check = verify_export(export, key)
        assert check.ok, check.problems
        assert check.receipts == 10


@pytest.mark.nats
def test_two_replicas_on_one_store_wake_each_others_streams_over_nats(
    database_url: str, make_party: MakeParty
) -> None:
    """A message sent through one replica reaches a stream held by the other at once (the
    idle re-check is out of reach, so only the NATS wake-up can bring it)."""
    _nats_reachable()
    _, alpha = make_party("Alpha")
    _, bravo = make_party("Bravo")
    settings = Settings(database_url=database_url, nats_url=NATS_URL, tick_s=0)
    with running_server(settings) as one, running_server(settings) as two, _ws(two, bravo) as ws:
        assert json.loads(ws.recv(timeout=10))["hello"]["party"] == "Bravo"
        sent = httpx.post(
            f"{one}/v1/messages", json={"to": "Bravo", "text": "via one"}, headers=bearer(alpha)
        )
        assert sent.status_code == 201
        event = json.loads(ws.recv(timeout=10))
        assert (event["item"], event["payload"]["text"]) == (sent.json()["id"], "via one")
        ws.send(json.dumps({"ack": event["seq"]}))
        told = httpx.get(f"{one}/v1/events?after=0&wait=10", headers=bearer(alpha)).json()
        assert [e["kind"] for e in told["events"]] == ["message.delivered"]

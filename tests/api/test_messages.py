"""The hotline over HTTP (both stores): sending, threads, receipts, proofs, bad input."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from deconfliction.journal.receipts import RECEIPT_TYPE, verify_export, verify_signed
from deconfliction.store.database import Database
from deconfliction.store.schema import JournalEntry, Message
from tests.api.conftest import bearer
from tests.conftest import MakeParty


@pytest.fixture
def tokens(make_party: MakeParty) -> dict[str, str]:
    return {
        name: make_party(name, role)[1]
        for name, role in [("Alpha", "operator"), ("Bravo", "authority"), ("Eye", "observer")]
    }


def _send(client: TestClient, token: str, **body: Any) -> Any:
    response = client.post("/v1/messages", json=body, headers=bearer(token))
    assert response.status_code == 201, response.text
    return response.json()


def test_send_read_acknowledge_and_see_the_receipts(
    client: TestClient, tokens: dict[str, str]
) -> None:
    alpha, bravo = tokens["Alpha"], tokens["Bravo"]
    response = client.post(
        "/v1/messages",
        json={
            "to": "Bravo",
            "priority": "flash",
            "text": "Break right, traffic 2 o'clock",
            "ref": {"kind": "aircraft", "id": "4CA123"},
        },
        headers=bearer(alpha),
    )
    assert response.status_code == 201, response.text
    sent = response.json()
    assert response.headers["Location"] == f"/v1/messages/{sent['id']}"
    assert (sent["from"], sent["to"], sent["priority"]) == ("Alpha", "Bravo", "flash")
    assert sent["ref"] == {"kind": "aircraft", "id": "4CA123"}
    assert sent["delivered_at"] is None

    [inbox] = client.get("/v1/messages?box=inbox", headers=bearer(bravo)).json()
    assert inbox["id"] == sent["id"]
    assert client.get("/v1/messages?box=sent", headers=bearer(bravo)).json() == []
    read = client.post(f"/v1/messages/{sent['id']}/read", headers=bearer(bravo)).json()
    assert read["read_at"] is not None
    assert read["delivered_at"] is not None
    acked = client.post(f"/v1/messages/{sent['id']}/acknowledge", headers=bearer(bravo))
    assert acked.status_code == 200
    again = client.post(f"/v1/messages/{sent['id']}/acknowledge", headers=bearer(bravo))
    assert again.json() == acked.json()  # idempotent: the same timestamps
    seen_by_sender = client.get(f"/v1/messages/{sent['id']}", headers=bearer(alpha)).json()
    assert seen_by_sender["acknowledged_at"] == acked.json()["acknowledged_at"]

    key = client.get("/v1/journal/key").json()
    assert key["algorithm"] == "ed25519"
    receipts = client.get(f"/v1/receipts?item={sent['id']}", headers=bearer(alpha)).json()
    assert [r["body"]["event"] for r in receipts] == ["delivered", "acknowledged"]
    for receipt in receipts:
        assert verify_signed(receipt, key["public_key"], RECEIPT_TYPE) is None
        assert receipt["body"]["party"] == "Bravo"
    assert client.get(f"/v1/receipts?item={sent['id']}", headers=bearer(bravo)).json() == receipts
    assert client.get(f"/v1/receipts?item={sent['id']}", headers=bearer(tokens["Eye"])).json() == []

    for token in (alpha, bravo):
        export = client.get("/v1/journal/export", headers=bearer(token)).json()
        check = verify_export(export, key["public_key"])
        assert check.ok, check.problems
        assert check.receipts == 2


def test_threads_replies_and_observers(client: TestClient, tokens: dict[str, str]) -> None:
    alpha, bravo, eye = tokens["Alpha"], tokens["Bravo"], tokens["Eye"]
    question = _send(client, alpha, to="Bravo", text="Request FL280 through your zone")
    answer = _send(client, bravo, in_reply_to=question["id"], text="Approved")
    assert (answer["to"], answer["thread_id"]) == ("Alpha", question["thread_id"])
    thread = client.get(f"/v1/threads/{question['thread_id']}", headers=bearer(alpha)).json()
    assert [m["id"] for m in thread] == [question["id"], answer["id"]]
    assert (
        client.get(f"/v1/threads/{question['thread_id']}", headers=bearer(eye)).status_code == 404
    )

    refused = client.post("/v1/messages", json={"to": "Alpha", "text": "hi"}, headers=bearer(eye))
    assert refused.status_code == 403
    assert "observer" in refused.json()["detail"]
    to_eye = _send(client, alpha, to="Eye", text="FYI: exercise at 1400Z")
    reply = _send(client, eye, in_reply_to=to_eye["id"], text="Noted")
    assert reply["to"] == "Alpha"


def test_an_idempotency_key_makes_a_retry_safe(
    client: TestClient, tokens: dict[str, str], database: Database
) -> None:
    body = {"to": "Bravo", "text": "once only"}
    headers = {**bearer(tokens["Alpha"]), "Idempotency-Key": "retry-1"}
    first = client.post("/v1/messages", json=body, headers=headers)
    second = client.post("/v1/messages", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json()["id"] == first.json()["id"]
    other = client.post("/v1/messages", json={**body, "text": "changed"}, headers=headers)
    assert other.status_code == 409
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 1


# (name, body, status, words the detail must contain)
BAD: list[tuple[str, Any, int, str]] = [
    ("unknown recipient", {"to": "Zulu", "text": "hi"}, 404, "no party named 'Zulu'"),
    ("to yourself", {"to": "Alpha", "text": "hi"}, 422, "yourself"),
    ("oversized", {"to": "Bravo", "text": "x" * 4001}, 422, "should have at most 4000"),
    ("empty", {"to": "Bravo", "text": ""}, 422, "text: String should have at least 1"),
    ("blank", {"to": "Bravo", "text": " \n "}, 422, "text is empty"),
    ("no recipient", {"text": "hi"}, 422, "'to'"),
    ("bad priority", {"to": "Bravo", "text": "hi", "priority": "high"}, 422, "priority"),
    ("bad ref", {"to": "Bravo", "text": "hi", "ref": {"kind": "ship", "id": "x"}}, 422, "ref.kind"),
    ("unknown field", {"to": "Bravo", "text": "hi", "colour": "red"}, 422, "colour"),
    ("unknown reply", {"in_reply_to": "msg_x", "text": "hi"}, 404, "msg_x"),
]


def test_bad_messages_get_a_problem_and_change_nothing(
    client: TestClient, tokens: dict[str, str], database: Database
) -> None:
    with database.read() as session:
        entries = session.scalar(select(func.count()).select_from(JournalEntry))
    for name, body, status, words in BAD:
        response = client.post("/v1/messages", json=body, headers=bearer(tokens["Alpha"]))
        assert response.status_code == status, (name, response.text)
        assert response.headers["content-type"] == "application/problem+json", name
        assert words in response.json()["detail"], name
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 0
        assert session.scalar(select(func.count()).select_from(JournalEntry)) == entries


def test_only_the_recipient_reads_or_acknowledges(
    client: TestClient, tokens: dict[str, str], make_party: MakeParty
) -> None:
    sent = _send(client, tokens["Alpha"], to="Bravo", text="Acknowledge please")
    _, charlie = make_party("Charlie")
    for token in (tokens["Alpha"], charlie):  # the sender; another party
        for action in ("read", "acknowledge"):
            response = client.post(f"/v1/messages/{sent['id']}/{action}", headers=bearer(token))
            assert response.status_code == 404
            assert "addressed to" in response.json()["detail"]
    assert client.get(f"/v1/messages/{sent['id']}", headers=bearer(charlie)).status_code == 404
    assert (
        client.post("/v1/messages/msg_nope/acknowledge", headers=bearer(charlie)).status_code == 404
    )
    assert client.get("/v1/messages?box=outbox", headers=bearer(charlie)).status_code == 422
    assert client.post("/v1/messages", json={"to": "Bravo", "text": "x"}).status_code == 401


def test_a_message_must_be_acknowledged_by_the_default_deadline(
    client: TestClient, tokens: dict[str, str]
) -> None:
    """Between parties with no agreement, the service's default deadlines apply (the
    escalation ladder reads them)."""
    urgent = _send(client, tokens["Alpha"], to="Bravo", text="Now", priority="urgent")
    routine = _send(client, tokens["Alpha"], to="Bravo", text="Later", priority="routine")
    assert urgent["ack_deadline"] is not None
    assert urgent["ack_deadline"] < routine["ack_deadline"]

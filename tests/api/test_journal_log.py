"""The transparency log over HTTP (both stores): checkpoints on demand and on the
stream, proofs that check offline, receipts and exports that carry their proof."""

from __future__ import annotations

from fastapi.testclient import TestClient

from deconfliction.journal.checkpoint import (
    check_consistency,
    check_inclusion,
    log_problems,
    read_checkpoint,
)
from tests.api.conftest import bearer
from tests.conftest import MakeParty


def test_checkpoints_proofs_receipts_and_exports(client: TestClient, make_party: MakeParty) -> None:
    _, alpha = make_party("Alpha")
    _, bravo = make_party("Bravo")
    key = client.get("/v1/journal/key").json()["public_key"]
    assert client.get("/v1/journal/checkpoints/latest", headers=bearer(alpha)).status_code == 404
    made = client.post("/v1/journal/checkpoints", headers=bearer(alpha))
    assert made.status_code == 201, made.text
    old, problem = read_checkpoint(made.json(), key)
    assert old is not None, problem

    sent = client.post(
        "/v1/messages", json={"to": "Bravo", "text": "hello"}, headers=bearer(alpha)
    ).json()
    client.post(f"/v1/messages/{sent['id']}/acknowledge", headers=bearer(bravo))
    [receipt] = [
        r
        for r in client.get(f"/v1/receipts?item={sent['id']}", headers=bearer(alpha)).json()
        if r["body"]["event"] == "acknowledged"
    ]
    assert receipt["log"] is None  # no checkpoint covers it yet
    latest = client.post("/v1/journal/checkpoints", headers=bearer(bravo)).json()
    new, _ = read_checkpoint(latest, key)
    assert new is not None
    assert new.tree_size > old.tree_size
    assert client.get("/v1/journal/checkpoints/latest", headers=bearer(alpha)).json() == latest
    listed = client.get("/v1/journal/checkpoints", headers=bearer(alpha)).json()
    assert [c["body"]["tree_size"] for c in listed] == [old.tree_size, new.tree_size]

    [receipt] = [
        r
        for r in client.get(f"/v1/receipts?item={sent['id']}", headers=bearer(alpha)).json()
        if r["body"]["event"] == "acknowledged"
    ]
    assert receipt["log"]["checkpoint"] == latest
    assert log_problems(receipt, key) == []
    forged = {
        **receipt,
        "body": {**receipt["body"], "journal": {**receipt["body"]["journal"], "seq": 2}},
    }
    assert log_problems(forged, key) != []

    seq = receipt["body"]["journal"]["seq"]
    inclusion = client.get(f"/v1/journal/proofs/inclusion?seq={seq}", headers=bearer(alpha)).json()
    assert inclusion["entry_hash"] == receipt["body"]["journal"]["hash"]
    assert check_inclusion(inclusion["entry_hash"], seq, inclusion["proof"], new) is None
    consistency = client.get(
        f"/v1/journal/proofs/consistency?first={old.tree_size}", headers=bearer(alpha)
    ).json()
    assert check_consistency(old, new, consistency["proof"]) is None

    export = client.get("/v1/journal/export", headers=bearer(alpha)).json()
    assert (
        export["log"]["checkpoint"]["body"]["tree_size"]
        >= export["statement"]["body"]["head"]["seq"]
    )
    assert log_problems(export, key) == []
    export["entries"][0]["hash"] = "0" * 64
    assert log_problems(export, key) != []

    # each checkpoint reached every party's stream
    with client.websocket_connect("/v1/stream", headers=bearer(bravo)) as ws:
        kinds = []
        for _ in range(20):
            message = ws.receive_json()
            events = message.get("events", [message])
            kinds += [e.get("kind") for e in events]
            if kinds.count("journal.checkpoint") >= 2:
                break
    assert kinds.count("journal.checkpoint") >= 2


def test_bad_proof_requests_are_problems(client: TestClient, make_party: MakeParty) -> None:
    _, alpha = make_party("Alpha")
    client.post("/v1/journal/checkpoints", headers=bearer(alpha))
    for url in (
        "/v1/journal/proofs/inclusion?seq=999999",
        "/v1/journal/proofs/inclusion?seq=0",
        "/v1/journal/proofs/inclusion?seq=1&tree_size=12345",
        "/v1/journal/proofs/consistency?first=999999",
        "/v1/journal/proofs/consistency?first=abc",
    ):
        response = client.get(url, headers=bearer(alpha))
        assert 400 <= response.status_code < 500, (url, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"]
    assert client.post("/v1/journal/checkpoints").status_code == 401

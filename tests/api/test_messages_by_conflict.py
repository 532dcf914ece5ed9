"""Hotline messages by a conflict's id over HTTP on both backends: the sides of an
anonymous conflict reach each other without learning who; a named pair sees names."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from deconfliction.agreements.service import AgreementService
from deconfliction.agreements.terms import ANONYMOUS_COUNTERPART, Terms
from deconfliction.clock import ManualClock
from deconfliction.store.database import Database
from tests.api.conftest import bearer, box, volume
from tests.conftest import MakeParty


def _conflict(client: TestClient, tokens: dict[str, str]) -> str:
    """Alpha's and Bravo's notices meet: the conflict id both are told."""
    for i, name in enumerate(("Alpha", "Bravo")):
        area = box(8.0 + 0.1 * i, 47.0, 8.4 + 0.1 * i, 47.3)
        response = client.post(
            "/v1/notices",
            headers=bearer(tokens[name]),
            json={"title": f"{name} op", "volumes": [volume(area)]},
        )
        assert response.status_code == 201, response.text
    handles = {
        name: [
            a["conflict"]["properties"]["conflict"]
            for a in client.get("/v1/alerts", headers=bearer(tokens[name])).json()
        ]
        for name in ("Alpha", "Bravo")
    }
    assert handles["Alpha"] == handles["Bravo"]
    assert len(handles["Alpha"]) == 1
    return str(handles["Alpha"][0])


def _send(client: TestClient, token: str, body: dict[str, Any]) -> Any:
    return client.post("/v1/messages", headers=bearer(token), json=body)


def _everything(client: TestClient, token: str) -> str:
    """All a party can read of its messages and of what they did: boxes, threads,
    each message, events, receipts, its journal export."""
    headers = bearer(token)
    got = [client.get(f"/v1/messages?box={b}", headers=headers).json() for b in ("inbox", "sent")]
    for message in got[0] + got[1]:
        got.append(client.get(f"/v1/messages/{message['id']}", headers=headers).json())
        got.append(client.get(f"/v1/threads/{message['thread_id']}", headers=headers).json())
    for path in ("/v1/events?limit=1000", "/v1/receipts", "/v1/journal/export"):
        response = client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.text)
        got.append(response.json())
    return json.dumps(got)


def test_an_anonymous_pair_talks_by_the_conflict_id_and_never_learns_who(
    client: TestClient, make_party: MakeParty
) -> None:
    tokens = {name: make_party(name)[1] for name in ("Alpha", "Bravo", "Charlie")}
    handle = _conflict(client, tokens)
    sent = _send(client, tokens["Alpha"], {"to_conflict": handle, "text": "Climbing to FL120"})
    assert sent.status_code == 201, sent.text
    assert (sent.json()["from"], sent.json()["to"]) == ("Alpha", ANONYMOUS_COUNTERPART)
    (got,) = client.get("/v1/messages", headers=bearer(tokens["Bravo"])).json()
    assert (got["from"], got["to"], got["conflict"]) == (ANONYMOUS_COUNTERPART, "Bravo", handle)
    bravo = bearer(tokens["Bravo"])
    assert client.post(f"/v1/messages/{got['id']}/acknowledge", headers=bravo).status_code == 200
    by_handle = _send(client, tokens["Bravo"], {"to_conflict": handle, "text": "Copy"})
    assert by_handle.status_code == 201, by_handle.text
    reply = _send(client, tokens["Bravo"], {"in_reply_to": got["id"], "text": "Holding"})
    assert reply.status_code == 201, reply.text
    assert reply.json()["conflict"] == handle  # a reply stays anonymous
    inbox = client.get("/v1/messages", headers=bearer(tokens["Alpha"])).json()
    assert sorted(m["text"] for m in inbox) == ["Copy", "Holding"]
    assert {m["from"] for m in inbox} == {ANONYMOUS_COUNTERPART}
    client.post(f"/v1/messages/{inbox[0]['id']}/read", headers=bearer(tokens["Alpha"]))
    alpha, bravo_text = _everything(client, tokens["Alpha"]), _everything(client, tokens["Bravo"])
    assert "Bravo" not in alpha
    assert "Alpha" not in bravo_text
    assert "Holding" in alpha
    assert "Climbing to FL120" in bravo_text


def test_another_partys_conflict_reads_as_an_unknown_one(
    client: TestClient, make_party: MakeParty
) -> None:
    tokens = {name: make_party(name)[1] for name in ("Alpha", "Bravo", "Charlie")}
    handle = _conflict(client, tokens)
    for conflict in (handle, "no-such-conflict"):
        response = _send(client, tokens["Charlie"], {"to_conflict": conflict, "text": "Hi"})
        assert response.status_code == 404, response.text
        assert response.json()["code"] == "not-found"
        assert "Alpha" not in response.text
        assert "Bravo" not in response.text
    assert client.get("/v1/messages", headers=bearer(tokens["Alpha"])).json() == []


def test_to_and_to_conflict_together_are_refused(client: TestClient, make_party: MakeParty) -> None:
    tokens = {name: make_party(name)[1] for name in ("Alpha", "Bravo")}
    handle = _conflict(client, tokens)
    body = {"to": "Bravo", "to_conflict": handle, "text": "Hi"}
    response = _send(client, tokens["Alpha"], body)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid-input"
    assert "not both" in response.json()["detail"]
    assert client.get("/v1/messages", headers=bearer(tokens["Bravo"])).json() == []


@pytest.mark.parametrize("level", ["named", "full"])
def test_a_named_pair_sees_names_when_writing_by_conflict_id(
    client: TestClient, make_party: MakeParty, database: Database, clock: ManualClock, level: str
) -> None:
    tokens = {name: make_party(name)[1] for name in ("Alpha", "Bravo")}
    AgreementService(database, clock).set("Alpha", "Bravo", Terms.from_json({"disclosure": level}))
    handle = _conflict(client, tokens)
    sent = _send(client, tokens["Alpha"], {"to_conflict": handle, "text": "Climbing"})
    assert sent.status_code == 201, sent.text
    assert (sent.json()["to"], sent.json()["conflict"]) == ("Bravo", None)
    (got,) = client.get("/v1/messages", headers=bearer(tokens["Bravo"])).json()
    assert got["from"] == "Alpha"

"""Disclosure levels over HTTP on both backends: what a party's every view holds of the
parties its notices meet, at ``anonymous`` (the default without an agreement), ``named``
and ``full``."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from deconfliction.agreements.service import AgreementService
from deconfliction.agreements.terms import ANONYMOUS_COUNTERPART, Terms
from deconfliction.clock import ManualClock
from deconfliction.store.database import Database
from tests.api.conftest import bearer, box, volume
from tests.conftest import MakeParty

_ID = re.compile(r"\b[a-z]{3}_[0-9a-f]{32}\b")
NAMES = ("Alpha", "Bravo", "Charlie")


def _views(client: TestClient, token: str, notices: list[str]) -> dict[str, Any]:
    """Everything the party can read of the service: alerts, its notices' conflicts,
    the event stream, receipts, its journal export, statistics, the console's views."""
    headers = bearer(token)
    for alert in client.get("/v1/alerts", headers=headers).json():
        client.post(f"/v1/alerts/{alert['id']}/acknowledge", headers=headers)
    got = {
        "alerts": client.get("/v1/alerts", headers=headers),
        "events": client.get("/v1/events?limit=1000", headers=headers),
        "receipts": client.get("/v1/receipts", headers=headers),
        "export": client.get("/v1/journal/export", headers=headers),
        "stats": client.get("/v1/stats", headers=headers),
        "me": client.get("/v1/me", headers=headers),
        "tracks": client.get("/v1/tracks/alerts", headers=headers),
        **{
            f"conflicts {n}": client.get(f"/v1/notices/{n}/conflicts", headers=headers)
            for n in notices
        },
    }
    for what, response in got.items():
        assert response.status_code == 200, (what, response.text)
    return {what: response.json() for what, response in got.items()}


def _file(client: TestClient, token: str, west: float, title: str) -> dict[str, Any]:
    response = client.post(
        "/v1/notices",
        headers=bearer(token),
        json={"title": title, "volumes": [volume(box(west, 47.0, west + 0.4, 47.3))]},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("level", ["anonymous", "named", "full"])
def test_each_party_sees_the_others_only_as_its_disclosure_allows(
    client: TestClient, make_party: MakeParty, database: Database, clock: ManualClock, level: str
) -> None:
    tokens = {name: make_party(name)[1] for name in NAMES}
    if level != "anonymous":  # anonymous: the deployment's default, no agreement at all
        agreements = AgreementService(database, clock)
        for a, b in (("Alpha", "Bravo"), ("Alpha", "Charlie"), ("Bravo", "Charlie")):
            agreements.set(a, b, Terms.from_json({"disclosure": level}))
    # three notices over one area: every pair meets once
    filed = {
        name: _file(client, tokens[name], 8.0 + 0.1 * i, f"{name} op")
        for i, name in enumerate(NAMES)
    }
    notices = {name: filed[name]["notice"]["id"] for name in NAMES}

    for name in NAMES:
        views = _views(client, tokens[name], [notices[name]])
        text = json.dumps(views)
        others = [n for n in NAMES if n != name]
        alerts = views["alerts"]
        assert len(alerts) == 2  # one per other party
        told = sorted(a["conflict"]["properties"]["counterpart"] for a in alerts)
        if level == "anonymous":
            assert told == [ANONYMOUS_COUNTERPART] * 2
            for other in others:
                assert other not in text, (name, other)
                assert notices[other] not in text
                assert f"{other} op" not in text
            # what it holds of one conflict shares nothing with the other but its own ids
            by_conflict = [
                set(_ID.findall(json.dumps([v for v in _flatten(views) if c in json.dumps(v)])))
                for c in (a["conflict"]["properties"]["conflict"] for a in alerts)
            ]
            own = {notices[name]} | {a["id"] for a in alerts}
            assert by_conflict[0] & by_conflict[1] <= own
            handles = {a["conflict"]["properties"]["conflict"] for a in alerts}
            assert len(handles) == 2  # a fresh handle per conflict
        else:
            assert told == others
        titles_seen = [f"{other} op" in text for other in others]
        assert all(titles_seen) if level == "full" else not any(titles_seen)


def _flatten(views: dict[str, Any]) -> list[Any]:
    """Each view's items: the entries of lists, and of the export its entries and items."""
    items: list[Any] = []
    for value in views.values():
        if isinstance(value, list):
            items.extend(value)
        elif isinstance(value, dict) and "events" in value:
            items.extend(value["events"])
        elif isinstance(value, dict) and "entries" in value:
            items.extend(value["entries"])
            items.extend(value["items"])
            items.extend(value["receipts"])
        else:
            items.append(value)
    return items

"""Bad input everywhere: a 4xx problem+json that says what is wrong, and nothing changes."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from deconfliction.store.database import Database
from deconfliction.store.schema import (
    Alert,
    Conflict,
    JournalEntry,
    Notice,
    Volume,
    VolumeCell,
)
from tests.api.conftest import bearer, box, volume
from tests.conftest import MakeParty

_GOOD = volume(box(8.0, 47.0, 8.4, 47.3))


def _with(**properties: Any) -> dict[str, Any]:
    return {**_GOOD, "properties": {**_GOOD["properties"], **properties}}


def _geometry(geometry: dict[str, Any], **properties: Any) -> dict[str, Any]:
    return {"volumes": [{**_with(**properties), "geometry": geometry}]}


_SPIRAL = [[8.0 + 0.3 * (i % 2), 47.0 + i * 1e-5] for i in range(10_001)] + [[8.0, 47.0]]

# (name, raw body or JSON, expected status, words the detail must contain)
CASES: list[tuple[str, Any, int, str]] = [
    ("malformed JSON", b'{"volumes": [', 422, "not valid JSON"),
    ("not an object", b"[1, 2, 3]", 422, "body"),
    ("no volumes", {"volumes": []}, 422, "at least 1"),
    ("unknown field", {"volumes": [_GOOD], "colour": "red"}, 422, "colour"),
    (
        "self-intersecting",
        _geometry(
            box(0, 0, 0, 0)
            | {"coordinates": [[[8.0, 47.0], [8.4, 47.3], [8.4, 47.0], [8.0, 47.3], [8.0, 47.0]]]}
        ),
        422,
        "intersects itself near lon 8.2",
    ),
    ("latitude out of range", _geometry(box(8.0, 47.0, 8.4, 97.0)), 422, "latitude 97"),
    ("longitude out of range", _geometry(box(8.0, 47.0, 188.4, 47.3)), 422, "longitude 188.4"),
    (
        "unclosed ring",
        _geometry(
            {
                "type": "Polygon",
                "coordinates": [[[8.0, 47.0], [8.4, 47.0], [8.4, 47.3], [8.0, 47.3]]],
            }
        ),
        422,
        "not closed",
    ),
    (
        "two distinct vertices",
        _geometry(
            {
                "type": "Polygon",
                "coordinates": [[[8.0, 47.0], [8.4, 47.0], [8.0, 47.0], [8.0, 47.0]]],
            }
        ),
        422,
        "distinct",
    ),
    ("absurd vertex count", _geometry({"type": "Polygon", "coordinates": [_SPIRAL]}), 422, "10000"),
    ("antimeridian", _geometry(box(179.5, 10.0, -179.5, 11.0)), 422, "antimeridian"),
    ("too large", _geometry(box(0.0, 40.0, 10.0, 50.0)), 422, "km²"),
    (
        "lower above upper",
        {"volumes": [_with(lower_m=5000.0, upper_m=1000.0)]},
        422,
        "lower_m 5000.0 is not below upper_m 1000.0",
    ),
    (
        "end before start",
        {"volumes": [_with(start="2026-03-02T12:00:00Z", end="2026-03-02T10:00:00Z")]},
        422,
        "not after",
    ),
    ("naive datetime", {"volumes": [_with(start="2026-03-02T10:00:00")]}, 422, "time zone"),
    (
        "radius zero",
        _geometry({"type": "Point", "coordinates": [8.0, 47.0]}, radius_m=0),
        422,
        "radius_m: Input should be greater than 0",
    ),
    (
        "point without radius",
        _geometry({"type": "Point", "coordinates": [8.0, 47.0]}),
        422,
        "radius_m",
    ),
    (
        "unsupported geometry",
        _geometry({"type": "LineString", "coordinates": [[8, 47], [9, 47]]}),
        422,
        "LineString",
    ),
    (
        "nan altitude",
        b'{"volumes": [{"type": "Feature", "geometry": {"type": "Point", '
        b'"coordinates": [8, 47]}, "properties": {"radius_m": 100, "lower_m": NaN, "upper_m": 10,'
        b' "start": "2026-03-02T10:00:00Z", "end": "2026-03-02T11:00:00Z"}}]}',
        422,
        "lower_m",
    ),
    (
        "string coordinates",
        _geometry({"type": "Polygon", "coordinates": "8,47"}),
        422,
        "Polygon.geometry.coordinates: Input should be a valid list",
    ),
]


def _counts(db: Database) -> dict[str, int]:
    with db.read() as session:
        return {
            table.__tablename__: session.scalar(select(func.count()).select_from(table)) or 0
            for table in (Notice, Volume, VolumeCell, Conflict, Alert, JournalEntry)
        }


@pytest.mark.parametrize(("name", "body", "status", "words"), CASES, ids=[c[0] for c in CASES])
def test_bad_notice_is_refused_clearly_and_changes_nothing(
    client: TestClient,
    make_party: MakeParty,
    database: Database,
    name: str,
    body: Any,
    status: int,
    words: str,
) -> None:
    _, alpha = make_party("Alpha")
    _, bravo = make_party("Bravo")
    assert (
        client.post("/v1/notices", headers=bearer(bravo), json={"volumes": [_GOOD]}).status_code
        == 201
    )
    before = _counts(database)
    if isinstance(body, bytes):
        response = client.post(
            "/v1/notices",
            content=body,
            headers={**bearer(alpha), "Content-Type": "application/json"},
        )
    else:
        response = client.post("/v1/notices", json=body, headers=bearer(alpha))
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status
    assert problem["type"].startswith("urn:deconfliction:problem:")
    assert words in problem["detail"] + str(problem.get("errors", "")), problem
    assert _counts(database) == before


def test_wrong_or_missing_token_is_401(client: TestClient, make_party: MakeParty) -> None:
    make_party("Alpha")
    for headers in ({}, {"Authorization": "Bearer dcf_not-a-token"}, {"Authorization": "Basic x"}):
        response = client.get("/v1/notices", headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert "token" in response.json()["detail"]


def test_oversized_body_is_413(client: TestClient, make_party: MakeParty) -> None:
    _, alpha = make_party("Alpha")
    response = client.post(
        "/v1/notices",
        content=b" " * 5_000_000,
        headers={**bearer(alpha), "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert "larger than" in response.json()["detail"]


def test_stale_version_and_bad_paths_change_nothing(
    client: TestClient, make_party: MakeParty, database: Database
) -> None:
    _, alpha = make_party("Alpha")
    filed = client.post("/v1/notices", headers=bearer(alpha), json={"volumes": [_GOOD]}).json()
    before = _counts(database)
    notice_id = filed["notice"]["id"]
    stale = client.put(
        f"/v1/notices/{notice_id}", headers=bearer(alpha), json={"version": 7, "volumes": [_GOOD]}
    )
    assert stale.status_code == 409
    bad_volume = client.put(
        f"/v1/notices/{notice_id}",
        headers=bearer(alpha),
        json={"version": 1, "volumes": [_with(lower_m=9e9)]},
    )
    assert bad_volume.status_code == 422
    assert client.get("/v1/notices/ntc_nope", headers=bearer(alpha)).status_code == 404
    assert client.get("/v1/notices?limit=0", headers=bearer(alpha)).status_code == 422
    assert client.get("/v1/alerts?state=sideways", headers=bearer(alpha)).status_code == 422
    assert client.delete("/v1/notices", headers=bearer(alpha)).status_code == 405
    assert _counts(database) == before
    current = client.get(f"/v1/notices/{notice_id}", headers=bearer(alpha)).json()
    assert current["version"] == 1
    assert current["volumes"]["features"][0]["geometry"] == _GOOD["geometry"]

"""The API's contract: stable codes for bodies that do not parse, text without control or
bidi characters, bounded integers, the right ``Allow`` on 405, and an OpenAPI document
that lists every status each ``/v1`` operation can return as problem+json."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from deconfliction.api.body import MAX_DEPTH
from tests.api.conftest import bearer, box, volume
from tests.conftest import MakeParty

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])  # the store plays no part

_NOTICE = {"title": "Survey", "volumes": [volume(box(8.0, 47.0, 8.2, 47.2))]}


@pytest.fixture
def alpha(make_party: MakeParty) -> str:
    make_party("Bravo")
    return make_party("Alpha")[1]


def _post(client: TestClient, token: str, path: str, content: bytes, **headers: str) -> Any:
    sent = {**bearer(token), "Content-Type": "application/json", **headers}
    return client.post(path, content=content, headers=sent)


def _problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["code"] == code, problem
    assert problem["type"] == f"urn:deconfliction:problem:{code}"
    return problem


def _nested(depth: int) -> bytes:
    return b'{"title": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b', "volumes": []}'


def test_malformed_json_says_where(client: TestClient, alpha: str) -> None:
    response = _post(client, alpha, "/v1/notices", b'{"title": "x",\n "volumes": [}')
    problem = _problem(response, 422, "malformed-json")
    assert problem["line"] == 2
    assert problem["offset"] == 28  # the "}" where a value should be
    assert "send one JSON document" in problem["detail"]


def test_invalid_utf8_names_the_byte(client: TestClient, alpha: str) -> None:
    body = b'{"to": "Bravo", "text": "caf\xe9"}'
    problem = _problem(_post(client, alpha, "/v1/messages", body), 422, "invalid-utf8")
    assert problem["offset"] == body.index(b"\xe9")
    assert "encode the JSON as UTF-8" in problem["detail"]


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 100_000])
def test_too_deep_is_refused(client: TestClient, alpha: str, depth: int) -> None:
    problem = _problem(_post(client, alpha, "/v1/notices", _nested(depth)), 422, "too-deep")
    assert problem["limit"] == MAX_DEPTH


def test_depth_at_the_limit_reaches_validation(client: TestClient, alpha: str) -> None:
    """Nested exactly MAX_DEPTH deep (the body object counts): parsed, then judged."""
    _problem(_post(client, alpha, "/v1/notices", _nested(MAX_DEPTH - 1)), 422, "invalid-input")


def test_brackets_in_strings_are_not_nesting(client: TestClient, alpha: str) -> None:
    notice = {**_NOTICE, "title": "[" * 150}
    response = _post(client, alpha, "/v1/notices", json.dumps(notice).encode())
    assert response.status_code == 201, response.text


def test_a_body_that_is_not_json_is_415(client: TestClient, alpha: str) -> None:
    body = json.dumps(_NOTICE).encode()
    response = _post(client, alpha, "/v1/notices", body, **{"Content-Type": "text/plain"})
    problem = _problem(response, 415, "unsupported-media-type")
    assert "application/json" in problem["detail"]
    merged = "application/merge-patch+json"
    ok = _post(client, alpha, "/v1/notices", body, **{"Content-Type": merged})
    assert ok.status_code == 201, ok.text


@pytest.mark.parametrize(
    ("character", "name"),
    [
        ("\x00", "NUL"),
        ("\x1b", "escape"),
        ("\r", "carriage return"),
        ("\u202e", "RLO"),
        ("\u2066", "LRI"),
        ("\u2069", "PDI"),
        ("\u202a", "LRE"),
    ],
)
def test_text_refuses_control_and_bidi_characters(
    client: TestClient, alpha: str, character: str, name: str
) -> None:
    text = "Hold at " + character + "FL100"
    for path, body in [
        ("/v1/notices", {**_NOTICE, "title": text}),
        ("/v1/messages", {"to": "Bravo", "text": text}),
        ("/v1/messages", {"to": "Bravo", "text": "see", "ref": {"kind": "notice", "id": text}}),
    ]:
        response = _post(client, alpha, path, json.dumps(body).encode())
        problem = _problem(response, 422, "forbidden-character")
        assert problem["errors"][0]["offset"] == len("Hold at "), name
        assert f"U+{ord(character):04X} at offset 8" in problem["detail"]
    assert client.get("/v1/messages?box=sent", headers=bearer(alpha)).json() == []
    assert client.get("/v1/notices", headers=bearer(alpha)).json() == []


def test_a_lone_surrogate_is_refused(client: TestClient, alpha: str) -> None:
    body = b'{"to": "Bravo", "text": "x\\ud800y"}'
    problem = _problem(_post(client, alpha, "/v1/messages", body), 422, "invalid-input")
    assert "text" in problem["detail"]


def test_tab_newline_and_other_scripts_are_text(client: TestClient, alpha: str) -> None:
    text = "Line one\n\t\u05e7\u05d5 \u05e9\u05e0\u05d9 \u2014 \u7b2c\u4e8c\u884c \u2708"
    response = client.post(
        "/v1/messages", json={"to": "Bravo", "text": text}, headers=bearer(alpha)
    )
    assert response.status_code == 201, response.text
    assert response.json()["text"] == text


@pytest.mark.parametrize(
    "path",
    ["/v1/notices", "/v1/alerts", "/v1/messages", "/v1/receipts"],
)
def test_offsets_are_bounded_not_a_server_error(client: TestClient, alpha: str, path: str) -> None:
    assert client.get(f"{path}?offset={2**31}", headers=bearer(alpha)).status_code == 200
    for offset in (2**31 + 1, 2**63, 10**30):
        response = client.get(f"{path}?offset={offset}", headers=bearer(alpha))
        problem = _problem(response, 422, "invalid-input")
        assert "offset" in problem["detail"]


def test_event_positions_are_bounded(client: TestClient, alpha: str) -> None:
    response = client.get(f"/v1/events?after={2**64}", headers=bearer(alpha))
    _problem(response, 422, "invalid-input")


def test_405_allows_every_method_of_the_path(client: TestClient, alpha: str) -> None:
    response = client.delete("/v1/notices", headers=bearer(alpha))
    _problem(response, 405, "method-not-allowed")
    assert response.headers["allow"] == "GET, POST"
    item = client.patch("/v1/notices/ntc_x", headers=bearer(alpha))
    assert item.headers["allow"] == "GET, PUT"
    undocumented = client.post("/favicon.ico")  # not in the document: Starlette's own
    assert undocumented.status_code == 405
    assert undocumented.headers["allow"] == "GET"


def _operations(client: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    document = client.get("/openapi.json").json()
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        if path.startswith("/v1/")
        for method, operation in item.items()
    ]


def test_every_operation_documents_its_statuses_as_problems(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in json.dumps(document)
    operations = _operations(client)
    assert len(operations) >= 25
    for path, method, operation in operations:
        answers = operation["responses"]
        expected = {"429"}
        if (path, method) != ("/v1/journal/key", "get"):  # the public key is public
            assert operation["security"], (path, method)
            expected.add("401")
        if operation.get("parameters") or "requestBody" in operation:
            expected.add("422")
        if "requestBody" in operation:
            expected |= {"413", "415"}
        if "{" in path:
            expected.add("404")
        where = f"{method.upper()} {path}"
        assert expected <= set(answers), (where, sorted(answers))
        for status, answer in answers.items():
            if int(status) >= 400:
                content = answer["content"]
                assert list(content) == ["application/problem+json"], (where, status)
                assert content["application/problem+json"]["schema"] == {
                    "$ref": "#/components/schemas/Problem"
                }


def test_routes_name_their_own_refusals(client: TestClient) -> None:
    answers = {(m, p): set(o["responses"]) for p, m, o in _operations(client)}
    assert {"403", "409"} <= answers[("post", "/v1/notices")]
    assert {"403", "404", "409"} <= answers[("put", "/v1/notices/{notice_id}")]
    assert {"403", "404", "409"} <= answers[("post", "/v1/notices/{notice_id}/approve")]
    assert {"403", "404", "409"} <= answers[("post", "/v1/messages")]
    assert "403" in answers[("post", "/v1/tracks")]


def test_request_schemas_carry_the_constraints(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    volumes = schemas["NoticeIn"]["properties"]["volumes"]["items"]["oneOf"]
    assert volumes == [
        {"$ref": "#/components/schemas/PolygonFeature"},
        {"$ref": "#/components/schemas/CircleFeature"},
    ]
    polygon, point = schemas["PolygonGeometry"], schemas["PointGeometry"]
    assert (polygon["properties"]["type"]["const"], point["properties"]["type"]["const"]) == (
        "Polygon",
        "Point",
    )
    assert "radius_m" in schemas["CircleProperties"]["required"]
    assert "radius_m" not in schemas["PolygonProperties"]["properties"]
    assert schemas["PolygonProperties"]["additionalProperties"] is False
    ring = schemas["PolygonGeometry"]["properties"]["coordinates"]["items"]
    assert ring["minItems"] == 4
    lon, lat, _ = ring["items"]["prefixItems"]
    assert (lon["minimum"], lon["maximum"], lat["minimum"], lat["maximum"]) == (-180, 180, -90, 90)
    message = schemas["MessageIn"]["properties"]
    assert message["priority"]["enum"] == ["routine", "urgent", "flash"]
    assert message["text"]["minLength"] == 1
    assert "\\u202e" in message["text"]["pattern"]
    assert schemas["NoticeIn"]["properties"]["title"]["maxLength"] == 200


def test_a_blank_idempotency_key_is_refused(client: TestClient, alpha: str) -> None:
    body = json.dumps(_NOTICE).encode()
    response = _post(client, alpha, "/v1/notices", body, **{"Idempotency-Key": " "})
    problem = _problem(response, 422, "invalid-input")
    assert "header.idempotency-key" in problem["detail"]

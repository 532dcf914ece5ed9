"""Hostile clients through the real HTTP stack (``deconfliction serve``, uvicorn on
loopback): bodies bounded before trust, chunked or not; rate limits per party."""

from __future__ import annotations

import json
import select
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

from deconfliction.agreements.service import AgreementService
from deconfliction.agreements.terms import Terms
from deconfliction.clock import SystemClock
from deconfliction.limits import PartyLimits
from deconfliction.parties import Registry
from deconfliction.settings import Settings
from deconfliction.store.database import Database
from tests.api.conftest import bearer, box, hours_ahead, volume
from tests.servers import free_port, served

MB = 1_000_000
SMALL = {
    "max_volumes_per_notice": 2,
    "max_active_notices": 2,
    "max_aircraft": 3,
    "max_streams": 2,
    "notice_horizon_s": 2 * 86_400,
    "notice_max_duration_s": 86_400,
}
"""The limits of the party Small."""


@dataclass(frozen=True)
class Server:
    port: int
    pid: int
    tokens: dict[str, str]
    database_url: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _store(tmp_path: Path, *names: str) -> tuple[str, dict[str, str]]:
    url = f"sqlite:///{tmp_path / 'limits.db'}"
    db = Database(url)
    db.migrate()
    registry = Registry(db, SystemClock())
    tokens = {name: registry.add(name, "operator")[1] for name in names}
    limits = PartyLimits(db, SystemClock(), Settings())
    limits.set("Slow", {"rate_per_s": 1, "rate_burst": 3})
    limits.set("Small", SMALL)
    db.dispose()
    return url, tokens


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the module (starting one takes seconds)."""
    url, tokens = _store(
        tmp_path_factory.mktemp("limits"), "Alpha", "Slow", "Small", "Partner", "Gone"
    )
    port = free_port()
    settings = {
        "MAX_BODY_BYTES": str(100_000),
        "MAX_TRACK_BODY_BYTES": str(MB),
        "AUTH_CACHE_S": "1",
    }
    with served(url, port, settings) as process:
        yield Server(port, process.pid, tokens, url)


@dataclass(frozen=True)
class Answer:
    status: int | None
    """None: the server closed the connection without an answer."""
    head: str
    body: bytes
    sent: int
    """Bytes of body sent before the answer came (or the connection closed)."""


def _post_chunked(port: int, path: str, token: str, total: int, chunk: int = MB) -> Answer:
    """POST ``total`` bytes in chunks of ``chunk``, reading the answer as soon as one
    comes: a server that refuses early stops the sending."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        )
        piece = f"{chunk:x}\r\n".encode() + b"[" * chunk + b"\r\n"
        sent = 0
        try:
            while sent < total:
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    break
                sock.sendall(piece)
                sent += chunk
            else:
                sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        return _read_answer(sock, sent)


def _read_answer(sock: socket.socket, sent: int) -> Answer:
    data = b""
    try:
        while b"\r\n\r\n" not in data or not _complete(data):
            more = sock.recv(65536)
            if not more:
                break
            data += more
    except ConnectionResetError:
        pass
    if not data:
        return Answer(None, "", b"", sent)
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return Answer(status, head.decode().lower(), body, sent)


def _complete(data: bytes) -> bool:
    head, _, body = data.partition(b"\r\n\r\n")
    for line in head.decode().lower().split("\r\n"):
        if line.startswith("content-length:"):
            return len(body) >= int(line.split(":")[1])
    return False


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_a_wrong_token_is_refused_before_any_body_is_read(server: Server) -> None:
    answer = _post_chunked(server.port, "/v1/notices", "dcf_wrong", 300 * MB)
    assert answer.status == 401
    assert json.loads(answer.body)["code"] == "unauthenticated"
    assert "connection: close" in answer.head
    assert answer.sent < 50 * MB  # refused on the headers: the rest was never sent


def test_memory_returns_to_its_baseline_after_giant_chunked_bodies(server: Server) -> None:
    with httpx.Client(base_url=server.url) as client:
        assert client.get("/v1/me", headers=bearer(server.tokens["Alpha"])).status_code == 200
    baseline = _rss_mb(server.pid)
    for _ in range(2):
        assert _post_chunked(server.port, "/v1/notices", "dcf_wrong", 300 * MB).status == 401
    for _ in range(2):
        answer = _post_chunked(server.port, "/v1/notices", server.tokens["Alpha"], 300 * MB)
        assert answer.status == 413
    assert _rss_mb(server.pid) - baseline < 50


def test_a_body_is_counted_as_it_streams_and_refused_at_the_route_limit(server: Server) -> None:
    alpha = server.tokens["Alpha"]
    chunked = _post_chunked(server.port, "/v1/notices", alpha, 50 * MB, chunk=10_000)
    assert chunked.status == 413
    problem = json.loads(chunked.body)
    assert problem["code"] == "too-large"
    assert "100000 bytes" in problem["detail"]
    assert "connection: close" in chunked.head
    assert chunked.sent < 10 * MB

    with httpx.Client(base_url=server.url, headers=bearer(alpha)) as client:
        declared = client.post("/v1/notices", content=b"{" * 200_000)
        assert (declared.status_code, declared.json()["code"]) == (413, "too-large")
        # track batches may be larger than notices: 500 kB is read, and judged as JSON
        states = [{"aircraft": f"A{i:05d}"} for i in range(20_000)]
        big = json.dumps({"states": states}).encode()
        assert 100_000 < len(big) < MB
        tracks = client.post("/v1/tracks", content=big)
        assert tracks.status_code == 422, tracks.text
        assert client.post("/v1/tracks", content=b"[" * (MB + 1)).status_code == 413
    # the limit holds for chunked track batches too
    over = _post_chunked(server.port, "/v1/tracks", alpha, 20 * MB, chunk=100_000)
    assert over.status == 413


def test_each_party_has_its_own_rate(server: Server) -> None:
    with httpx.Client(base_url=server.url) as client:
        slow = [client.get("/v1/me", headers=bearer(server.tokens["Slow"])) for _ in range(6)]
        alpha = [client.get("/v1/me", headers=bearer(server.tokens["Alpha"])) for _ in range(6)]
    assert [r.status_code for r in slow[:3]] == [200, 200, 200]  # the burst
    refused = [r for r in slow if r.status_code == 429]
    assert refused, [r.status_code for r in slow]
    problem = refused[0].json()
    assert problem["code"] == "rate-limited"
    assert (problem["rate_per_s"], problem["rate_burst"]) == (1.0, 3)
    assert int(refused[0].headers["Retry-After"]) >= 1
    assert refused[0].headers["content-type"] == "application/problem+json"
    assert [r.status_code for r in alpha] == [200] * 6  # another party is not held up


def _notice(*windows: tuple[float, float]) -> dict[str, Any]:
    """A notice of one volume per window, in hours from now."""
    return {
        "volumes": [
            volume(box(8.0, 47.0, 8.1, 47.1), start_h=hours_ahead(a), end_h=hours_ahead(b))
            for a, b in windows
        ]
    }


def test_quotas_and_the_notice_window_say_which_limit_holds(server: Server) -> None:
    with httpx.Client(base_url=server.url, headers=bearer(server.tokens["Small"])) as client:

        def refused(body: dict[str, Any], status: int, code: str) -> dict[str, Any]:
            response = client.post("/v1/notices", json=body)
            assert response.status_code == status, response.text
            problem: dict[str, Any] = response.json()
            assert problem["code"] == code
            assert response.headers["content-type"] == "application/problem+json"
            return problem

        many = refused(_notice((1, 2), (2, 3), (3, 4)), 422, "too-many-volumes")
        assert (many["limit"], many["max_volumes_per_notice"]) == ("max_volumes_per_notice", 2)
        refused(_notice((-3, -1)), 422, "window-ended")
        long = refused(_notice((1, 2), (20, 27)), 422, "window-too-long")
        assert long["notice_max_duration_s"] == 86_400
        far = refused(_notice((60, 62)), 422, "beyond-horizon")
        assert (far["limit"], far["notice_horizon_s"]) == ("notice_horizon_s", 2 * 86_400)

        # an agreement widens the horizon for the notices of either party
        db = Database(server.database_url)
        terms = Terms(notice_horizon_s=4 * 86_400.0)
        AgreementService(db, SystemClock()).set("Small", "Partner", terms)
        db.dispose()
        assert client.post("/v1/notices", json=_notice((60, 62))).status_code == 201
        second = client.post("/v1/notices", json=_notice((1, 2)))
        assert second.status_code == 201, second.text
        quota = refused(_notice((1, 2)), 429, "quota-exceeded")
        assert (quota["limit"], quota["max_active_notices"], quota["active"]) == (
            "max_active_notices",
            2,
            2,
        )
        notice = second.json()["notice"]
        cancel = f"/v1/notices/{notice['id']}/cancel"
        assert client.post(cancel, json={"version": notice["version"]}).status_code == 200
        assert client.post("/v1/notices", json=_notice((1, 2))).status_code == 201

        now = datetime.now(UTC).isoformat()
        rows = [
            {
                "id": f"S{i}",
                "time": now,
                "lat": 47.0,
                "lon": 8.0 + i / 100,
                "alt_m": 3000.0,
                "gs_mps": 100.0,
                "trk_deg": 90.0,
                "vs_mps": 0.0,
            }
            for i in range(4)
        ]
        assert client.post("/v1/tracks", json={"states": rows[:3]}).status_code == 202
        aircraft = client.post("/v1/tracks", json={"states": rows})
        assert aircraft.status_code == 429, aircraft.text
        assert (aircraft.json()["code"], aircraft.json()["max_aircraft"]) == ("quota-exceeded", 3)
        assert client.post("/v1/tracks", json={"states": rows[1:3]}).status_code == 202


def _ws(server: Server, path: str, token: str) -> ClientConnection:
    return ws_connect(
        f"ws://127.0.0.1:{server.port}{path}", additional_headers=bearer(token), open_timeout=10
    )


def test_revoking_a_token_closes_the_streams_opened_with_it(server: Server) -> None:
    gone = server.tokens["Gone"]
    with (
        _ws(server, "/v1/stream", gone) as events,
        _ws(server, "/v1/tracks/stream", gone) as tracks,
    ):
        assert json.loads(events.recv(timeout=10))["hello"]["party"] == "Gone"
        assert json.loads(tracks.recv(timeout=10))["hello"]["party"] == "Gone"
        db = Database(server.database_url)  # as 'deconfliction party token revoke' does
        registry = Registry(db, SystemClock())
        (token,) = registry.tokens("Gone")
        registry.revoke(token.id)
        db.dispose()
        for ws in (events, tracks):
            error = json.loads(ws.recv(timeout=15))["error"]
            assert error["code"] == "token-revoked"
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=15)
            assert closed.value.rcvd is not None
            assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4401, "token-revoked")
    with httpx.Client(base_url=server.url) as client:
        assert client.get("/v1/me", headers=bearer(gone)).status_code == 401


def test_a_party_holds_at_most_its_streams(server: Server) -> None:
    small = server.tokens["Small"]
    with (
        _ws(server, "/v1/stream", small) as first,
        _ws(server, "/v1/tracks/stream", small) as second,
    ):
        first.recv(timeout=10)
        second.recv(timeout=10)
        with _ws(server, "/v1/stream", small) as third:
            error = json.loads(third.recv(timeout=10))["error"]
            assert (error["code"], error["max_streams"]) == ("quota-exceeded", 2)
            with pytest.raises(ConnectionClosed) as closed:
                third.recv(timeout=10)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 4429
    with _ws(server, "/v1/stream", small) as again:  # the others closed: room again
        assert "hello" in json.loads(again.recv(timeout=10))

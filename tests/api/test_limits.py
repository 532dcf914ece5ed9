"""Hostile clients through the real HTTP stack (``deconfliction serve``, uvicorn on
loopback): bodies bounded before trust, chunked or not; rate limits per party."""

from __future__ import annotations

import json
import select
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from deconfliction.clock import SystemClock
from deconfliction.limits import PartyLimits
from deconfliction.parties import Registry
from deconfliction.settings import Settings
from deconfliction.store.database import Database
from tests.api.conftest import bearer
from tests.servers import free_port, served

MB = 1_000_000


@dataclass(frozen=True)
class Server:
    port: int
    pid: int
    tokens: dict[str, str]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _store(tmp_path: Path, *names: str) -> tuple[str, dict[str, str]]:
    url = f"sqlite:///{tmp_path / 'limits.db'}"
    db = Database(url)
    db.migrate()
    registry = Registry(db, SystemClock())
    tokens = {name: registry.add(name, "operator")[1] for name in names}
    if "Slow" in names:
        PartyLimits(db, SystemClock(), Settings()).set("Slow", {"rate_per_s": 1, "rate_burst": 3})
    db.dispose()
    return url, tokens


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the module (starting one takes seconds)."""
    url, tokens = _store(tmp_path_factory.mktemp("limits"), "Alpha", "Slow")
    port = free_port()
    limits = {"MAX_BODY_BYTES": str(100_000), "MAX_TRACK_BODY_BYTES": str(MB)}
    with served(url, port, limits) as process:
        yield Server(port, process.pid, tokens)


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

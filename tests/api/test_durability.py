"""A 2xx means durable: filings answered 201 survive ``kill -9`` of the real server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import select

from deconfliction.clock import SystemClock
from deconfliction.journal.chain import verify
from deconfliction.parties import Registry
from deconfliction.store.database import Database
from deconfliction.store.schema import JournalEntry, JournalHead
from tests.api.conftest import bearer, box, volume


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _server(url: str, port: int) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "deconfliction", "serve", "--port", str(port), "-d", url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "the server did not start within 30 s"
            time.sleep(0.1)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)
        if process.stderr:
            process.stderr.close()


def test_answered_filings_survive_kill_9(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'durable.db'}"
    db = Database(url)
    db.migrate()
    _, token = Registry(db, SystemClock()).add("Alpha", "operator")
    db.dispose()
    port = _free_port()
    filed = []
    with _server(url, port) as process, httpx.Client(base_url=f"http://127.0.0.1:{port}") as c:
        for i in range(20):
            body = {
                "title": f"sortie {i}",
                "volumes": [
                    volume(box(8.0 + i * 0.01, 47.0, 8.3, 47.3), start_h=48 + i, end_h=50 + i)
                ],
            }
            response = c.post("/v1/notices", json=body, headers=bearer(token))
            assert response.status_code == 201, response.text
            filed.append(response.json()["notice"]["id"])
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    with _server(url, port), httpx.Client(base_url=f"http://127.0.0.1:{port}") as c:
        for notice_id in filed:
            assert c.get(f"/v1/notices/{notice_id}", headers=bearer(token)).status_code == 200
    db = Database(url)
    with db.read() as session:
        head = session.get(JournalHead, 1)
        entries = session.scalars(select(JournalEntry).order_by(JournalEntry.seq))
        assert verify(entries, head) is None
    db.dispose()

"""A 2xx means durable: filings answered 201 survive ``kill -9`` of the real server."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx
from sqlalchemy import select

from deconfliction.clock import SystemClock
from deconfliction.journal.chain import verify
from deconfliction.parties import Registry
from deconfliction.store.database import Database
from deconfliction.store.schema import JournalEntry, JournalHead
from tests.api.conftest import bearer, box, hours_ahead, volume
from tests.servers import free_port, served


def test_answered_filings_survive_kill_9(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'durable.db'}"
    db = Database(url)
    db.migrate()
    _, token = Registry(db, SystemClock()).add("Alpha", "operator")
    db.dispose()
    port = free_port()
    filed = []
    ahead = hours_ahead(48)
    with served(url, port) as process, httpx.Client(base_url=f"http://127.0.0.1:{port}") as c:
        for i in range(20):
            body = {
                "title": f"sortie {i}",
                "volumes": [
                    volume(
                        box(8.0 + i * 0.01, 47.0, 8.3, 47.3), start_h=ahead + i, end_h=ahead + 2 + i
                    )
                ],
            }
            response = c.post("/v1/notices", json=body, headers=bearer(token))
            assert response.status_code == 201, response.text
            filed.append(response.json()["notice"]["id"])
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    with served(url, port), httpx.Client(base_url=f"http://127.0.0.1:{port}") as c:
        for notice_id in filed:
            assert c.get(f"/v1/notices/{notice_id}", headers=bearer(token)).status_code == 200
    db = Database(url)
    with db.read() as session:
        head = session.get(JournalHead, 1)
        entries = session.scalars(select(JournalEntry).order_by(JournalEntry.seq))
        assert verify(entries, head) is None
    db.dispose()

"""The honest party's latency while another party attacks the service (issue 10).

On loopback, ``deconfliction serve`` runs in its own process with the service's default
limits. One honest party files a notice and sends a message alternately at a steady
rate; its latency (from sending to having read the answer) and its errors (anything but
a 2xx, or no answer) are measured in two phases of the same length:

* **quiet**: the honest party alone;
* **abuse**: the same, while an attacker, from processes of its own,
  sends 300 MB chunked bodies (with a wrong token and with its own), floods
  ``GET /v1/me`` as fast as it can, opens WebSockets and never reads them (a new one
  every 100 ms; the service takes 8), and posts dense track batches (4,000 aircraft
  within a few kilometres) as fast as it is answered.

It prints both phases (p50, p99, errors), their ratio, what the attacker was answered
(by status), and the server's peak resident memory (``VmHWM``). On a 2-core machine the
server, the honest client and the attackers share the cores: the ratio measures CPU
contention as much as the service's defences.

    python -m benchmarks.abuse [--seconds 20] [--rate 10] [--quick]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from benchmarks._http_load import stop
from benchmarks._latency import Latency, summarise
from deconfliction.clock import SystemClock
from deconfliction.parties import Registry
from deconfliction.store.database import Database

__all__ = ["Phase", "main", "run"]

_START_TIMEOUT_S = 60.0
_GIANT = 300 * 1_000_000


@dataclass(frozen=True)
class Phase:
    """The honest party's view of one phase, and the attacker's answers by status."""

    name: str
    latency: Latency
    errors: int
    attacker: Counter[str]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _served(url: str, log: Path) -> Iterator[tuple[int, int]]:
    """The service on a free port with its default limits; yields (port, pid)."""
    port = _free_port()
    command = [sys.executable, "-m", "deconfliction", "serve", "--port", str(port), "-d", url]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + _START_TIMEOUT_S
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield port, process.pid
    finally:
        stop(process)


def _peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory (MB), from /proc (0 where absent)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _notice(k: int) -> bytes:
    start = datetime.now(UTC) + timedelta(hours=2)
    lon, lat = 5.0 + (k % 100) * 0.05, 45.0 + (k // 100 % 100) * 0.05
    ring = [[lon, lat], [lon + 0.02, lat], [lon + 0.02, lat + 0.02], [lon, lat + 0.02], [lon, lat]]
    volume = {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {
            "lower_m": 0.0,
            "upper_m": 500.0,
            "start": start.isoformat(),
            "end": (start + timedelta(hours=1)).isoformat(),
        },
    }
    return json.dumps({"title": f"sortie {k}", "volumes": [volume]}).encode()


def _honest(port: int, token: str, rate: float, seconds: float) -> tuple[list[float], int]:
    """File and message alternately, ``rate`` requests a second, for ``seconds``."""
    latencies: list[float] = []
    errors = 0
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    message = json.dumps({"to": "Attacker", "text": "position report", "priority": "routine"})
    start = time.perf_counter()
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30) as http:
        k = 0
        while (now := time.perf_counter()) < start + seconds:
            due = start + k / rate
            if due > now:
                time.sleep(due - now)
            sent = time.perf_counter()
            try:
                if k % 2 == 0:
                    response = http.post("/v1/notices", content=_notice(k))
                else:
                    response = http.post("/v1/messages", content=message.encode())
                ok = response.is_success
            except httpx.HTTPError:
                ok = False
            latencies.append(time.perf_counter() - sent)
            errors += not ok
            k += 1
    return latencies, errors


# -- the attacker (each in a process of its own) -------------------------------------------


def _giant(port: int, token: str, seconds: float, answers: Any, go: Any) -> None:
    """300 MB chunked bodies, one after another, until ``until`` (time.time())."""
    until = _ready(answers, go, seconds)
    piece = f"{1_000_000:x}\r\n".encode() + b"[" * 1_000_000 + b"\r\n"
    head = (
        f"POST /v1/notices HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
        "Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"
    ).encode()
    seen: Counter[str] = Counter()
    while time.time() < until:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(head)
                sent = 0
                while sent < _GIANT and time.time() < until:
                    sock.sendall(piece)
                    sent += len(piece)
                answer = sock.recv(64).split(b" ", 2)
                seen[f"giant {answer[1].decode() if len(answer) > 1 else 'closed'}"] += 1
        except OSError:
            seen["giant closed"] += 1
    answers.put(seen)


def _flood(port: int, token: str, seconds: float, answers: Any, go: Any) -> None:
    """``GET /v1/me`` as fast as one connection goes."""
    until = _ready(answers, go, seconds)
    seen: Counter[str] = Counter()
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30) as http:
        while time.time() < until:
            try:
                seen[f"flood {http.get('/v1/me').status_code}"] += 1
            except httpx.HTTPError:
                seen["flood error"] += 1
    answers.put(seen)


def _streams(port: int, token: str, seconds: float, answers: Any, go: Any) -> None:
    """Open WebSockets and never read them (a new one every 100 ms)."""
    until = _ready(answers, go, seconds)
    seen: Counter[str] = Counter()
    held: list[socket.socket] = []
    request = (
        f"GET /v1/stream HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        f"Authorization: Bearer {token}\r\n\r\n"
    ).encode()
    while time.time() < until:
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            sock.sendall(request)
            held.append(sock)
            seen["streams opened"] += 1
        except OSError:
            seen["streams refused"] += 1
        time.sleep(0.1)
    for sock in held:
        sock.close()
    answers.put(seen)


def _tracks(port: int, token: str, seconds: float, answers: Any, go: Any) -> None:
    """Batches of 4,000 aircraft (within the aircraft quota, so the tactical engine
    takes them) within a few kilometres, as fast as answered."""
    until = _ready(answers, go, seconds)
    seen: Counter[str] = Counter()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=60) as http:
        while time.time() < until:
            now = datetime.now(UTC).isoformat()
            states = [
                {
                    "id": f"X{i:05d}",
                    "time": now,
                    "lat": 46.0 + (i % 100) * 1e-4,
                    "lon": 7.0 + (i // 100) * 1e-4,
                    "alt_m": 3000.0 + i % 7,
                    "gs_mps": 100.0,
                    "trk_deg": float(i % 360),
                    "vs_mps": 0.0,
                }
                for i in range(4_000)
            ]
            try:
                response = http.post("/v1/tracks", content=json.dumps({"states": states}))
                seen[f"tracks {response.status_code}"] += 1
            except httpx.HTTPError:
                seen["tracks error"] += 1
    answers.put(seen)


def _ready(answers: Any, go: Any, seconds: float) -> float:
    """Say this worker is up, wait for the others; when the attack ends (time.time())."""
    answers.put(Counter())
    go.wait()
    return time.time() + seconds


def _attack(port: int, token: str, seconds: float) -> tuple[list[Any], Any]:
    """Start the attackers, all at once once all are up; they stop after ``seconds``."""
    ctx = multiprocessing.get_context("spawn")
    answers: Any = ctx.Queue()
    go = ctx.Event()
    workers = [
        ctx.Process(target=work, args=(port, key, seconds, answers, go))
        for work, key in (
            (_giant, "dcf_wrong"),
            (_giant, token),
            (_flood, token),
            (_streams, token),
            (_tracks, token),
        )
    ]
    for worker in workers:
        worker.start()
    for _ in workers:
        answers.get(timeout=_START_TIMEOUT_S)  # each says it is up
    go.set()
    return workers, answers


def _store(work: Path) -> tuple[str, dict[str, str]]:
    url = f"sqlite:///{work / 'abuse.db'}"
    db = Database(url)
    db.migrate()
    registry = Registry(db, SystemClock())
    tokens = {name: registry.add(name, "operator")[1] for name in ("Honest", "Attacker")}
    db.dispose()
    return url, tokens


def run(seconds: float, rate: float, work: Path) -> tuple[list[Phase], float]:
    """Both phases on one server; the phases and the server's peak memory (MB)."""
    url, tokens = _store(work)
    with _served(url, work / "server.log") as (port, pid):
        _honest(port, tokens["Honest"], rate, min(3.0, seconds))  # warm up
        quiet = _honest(port, tokens["Honest"], rate, seconds)
        workers, answers = _attack(port, tokens["Attacker"], seconds + 2)
        time.sleep(1.0)  # the attack under way
        abused = _honest(port, tokens["Honest"], rate, seconds)
        attacker: Counter[str] = Counter()
        for _ in workers:
            attacker.update(answers.get(timeout=60))
        for worker in workers:
            worker.join(timeout=10)
        peak = _peak_rss_mb(pid)
    phases = [
        Phase("quiet", summarise(quiet[0], seconds), quiet[1], Counter()),
        Phase("under abuse", summarise(abused[0], seconds), abused[1], attacker),
    ]
    return phases, peak


def table(phases: Sequence[Phase], peak_mb: float, rate: float) -> Table:
    result = Table(title=f"honest party at {rate:g} requests/s (notices and messages)")
    for column in ("phase", "requests", "p50 ms", "p99 ms", "errors", "attacker answered"):
        result.add_column(column)
    for p in phases:
        answered = ", ".join(f"{k}: {v}" for k, v in sorted(p.attacker.items())) or "-"
        result.add_row(
            p.name,
            str(p.latency.count),
            f"{p.latency.p50_ms:.1f}",
            f"{p.latency.p99_ms:.1f}",
            str(p.errors),
            answered,
        )
    quiet, abused = phases
    result.caption = (
        f"p99 under abuse / quiet: {abused.latency.p99_ms / quiet.latency.p99_ms:.2f}x; "
        f"p50: {abused.latency.p50_ms / quiet.latency.p50_ms:.2f}x; "
        f"server peak RSS {peak_mb:.0f} MB; {os.cpu_count()} CPUs"
    )
    return result


def main(argv: Sequence[str] | None = None) -> tuple[list[Phase], float]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="Length of each phase.")
    parser.add_argument("--rate", type=float, default=10.0, help="Honest requests a second.")
    parser.add_argument("--quick", action="store_true", help="3 s phases (a smoke run).")
    args = parser.parse_args(argv)
    seconds = 3.0 if args.quick else args.seconds
    with tempfile.TemporaryDirectory(prefix="dcf-abuse-") as tmp:
        phases, peak = run(seconds, args.rate, Path(tmp))
    Console().print(table(phases, peak, args.rate))
    return phases, peak


if __name__ == "__main__":
    main()

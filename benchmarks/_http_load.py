"""Load over HTTP: the service in its own process, clients filing from threads.

The server is ``deconfliction serve`` run as a separate process, so that the clients do
not share its interpreter lock; clients are threads, each with its own connection,
filing pre-encoded request bodies one after another until the time is up.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from benchmarks._limits import lifted_env

__all__ = ["Filed", "Request", "Server", "cpu_seconds", "file_concurrently", "served", "stop"]

_START_TIMEOUT_S = 60.0
_SERVE = "from deconfliction.cli import main; main()"


@dataclass(frozen=True)
class Request:
    """One filing: the filer's bearer token and the JSON body, encoded."""

    token: str
    body: bytes


@dataclass(frozen=True)
class Filed:
    """What the clients saw: latency (s) of each 201, status counts, conflicts, wall time,
    the CPU time (s) the clients' process spent; and, where measured, the CPU time (s)
    the server spent meanwhile."""

    latencies_s: list[float]
    statuses: Counter[int]
    conflicts: int
    wall_s: float
    client_cpu_s: float
    server_cpu_s: float | None = None


@dataclass(frozen=True)
class Server:
    """A running server: where to reach it and its process id."""

    base_url: str
    pid: int


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system, seconds) the process has used; None where /proc is absent."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # the name may hold spaces; what follows not
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def served(database_url: str, log: Path) -> Iterator[Server]:
    """Run ``deconfliction serve`` on the store until the block ends, its per-party
    limits lifted (see :mod:`benchmarks._limits`).

    The server's output goes to ``log``; when it does not come up, the error quotes it.
    """
    port = _free_port()
    command = [sys.executable, "-c", _SERVE, "serve", "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--database", database_url],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **lifted_env()},
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not _healthy(base_url):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"the server did not start; its output:\n{tail}")
            time.sleep(0.1)
        yield Server(base_url, process.pid)
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server process: SIGTERM, then SIGKILL after 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _healthy(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/healthz", timeout=1.0).status_code == 200
    except httpx.TransportError:
        return False


def file_concurrently(
    base_url: str, requests: Sequence[Request], clients: int, seconds: float
) -> Filed:
    """``clients`` threads file ``requests`` (each once, in turn) for up to ``seconds``.

    Client ``k`` files requests ``k, k + clients, …``; it stops when the time is up or
    its share runs out. Latency is from sending to having read the whole response.
    """
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    conflicts = 0
    failures: list[BaseException] = []
    lock = threading.Lock()
    start, cpu = time.perf_counter(), time.process_time()
    deadline = start + seconds

    def client(k: int) -> None:
        try:
            run(k)
        except BaseException as exc:  # raised again in the caller's thread
            failures.append(exc)

    def run(k: int) -> None:
        nonlocal conflicts
        with httpx.Client(base_url=base_url, timeout=60.0) as http:
            for request in requests[k::clients]:
                if time.perf_counter() >= deadline:
                    return
                sent = time.perf_counter()
                response = http.post(
                    "/v1/notices",
                    content=request.body,
                    headers={
                        "Authorization": f"Bearer {request.token}",
                        "Content-Type": "application/json",
                    },
                )
                took = time.perf_counter() - sent
                found = len(response.json()["conflicts"]) if response.status_code == 201 else 0
                with lock:
                    statuses[response.status_code] += 1
                    if response.status_code == 201:
                        latencies.append(took)
                        conflicts += found

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    wall_s, cpu_s = time.perf_counter() - start, time.process_time() - cpu
    return Filed(latencies, statuses, conflicts, wall_s, cpu_s)

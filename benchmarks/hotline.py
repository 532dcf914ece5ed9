"""The hotline benchmark: parties on WebSockets, messages at a steady rate, a kill -9 midway.

Run it from the repository root::

    python -m benchmarks.hotline                  # 100 parties, 1,000 messages/s, 60 s
    python -m benchmarks.hotline --quick          # the same for 10 s
    python -m benchmarks.hotline --rate 300 --duration 30 --kill-at 0 \\
        --database postgresql+psycopg://postgres@127.0.0.1:5432/postgres

``deconfliction serve`` runs in its own process on a fresh store (a SQLite file, or a
fresh database on the PostgreSQL server given). Load generators (``--processes``, one
asyncio loop each) hold one WebSocket per party (``/v1/stream``, acknowledging every
event) and send messages from random parties to random others over HTTP
(``POST /v1/messages``) on a fixed schedule (open loop: a slow server does not slow the
schedule down). Each message carries its send time (the monotonic clock, shared by the
processes of one machine) in its text, so the recipient's loop measures the **latency
from the start of the POST to the event on the recipient's socket**.

With ``--servers N`` (N > 1) N server processes serve one store, on N ports, woken
across by NATS (``--nats``); each party's socket and each HTTP connection goes to one of
them in turn.

Midway (``--kill-at``, a fraction of the run; 0: no kill) every server gets SIGKILL and
is started again on the same store and port. Clients reconnect with the last seq they
have (``after=``); a POST that got no answer is retried with the same
``Idempotency-Key`` until it is answered. At the end every answered message is counted
per (recipient, message id): **lost** if it never reached the recipient's socket,
**duplicated** if it reached it twice.

Targets on the 2-core machine: p99 under 50 ms, 0 lost, 0 duplicated. The load
generators share those cores with the server: see the CPU columns for who used what.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from benchmarks._latency import summarise
from benchmarks._limits import lifted_env
from deconfliction.clock import SystemClock
from deconfliction.parties import Registry
from deconfliction.store.database import Database

__all__ = ["Config", "Outcome", "main", "run"]

_START_TIMEOUT_S = 60.0
_DRAIN_QUIET_S = 3.0
_DRAIN_MAX_S = 60.0


@dataclass(frozen=True)
class Config:
    """One run: ``rate`` messages/s for ``duration_s`` among ``parties``; the server is
    killed at ``kill_at`` of the run (0: never)."""

    parties: int = 100
    rate: float = 1_000.0
    duration_s: float = 60.0
    kill_at: float = 0.5
    processes: int = 1
    connections: int = 64
    """HTTP connections per load process (each sends one message at a time)."""
    servers: int = 1
    """Server processes on the one store (woken across by NATS when more than one)."""
    nats: str = "nats://127.0.0.1:4222"
    database: str | None = None
    seed: int = 1


@dataclass
class _WorkerResult:
    sent: list[tuple[str, str, float, float, int]] = field(default_factory=list)
    """(message id, recipient, POST start, answered, attempts) of each answered POST."""
    unanswered: int = 0
    received: list[tuple[str, str, float, float]] = field(default_factory=list)
    """(recipient, message id, send time, receive time) of each event received."""
    reconnects: int = 0
    """Connections made again after a drop (hello received)."""
    cpu_s: float = 0.0
    late_start_s: float = 0.0


@dataclass(frozen=True)
class Outcome:
    """What a run measured; latencies in seconds, times on the shared monotonic clock."""

    config: Config
    sent: int
    unanswered: int
    lost: int
    duplicated: int
    unexpected: int
    latencies: dict[str, list[float]]
    answers: list[float]
    """Seconds from the start of each answered POST to its answer (its last attempt's)."""
    reconnects: int
    killed_at: float
    """When the server was killed and when it answered again (monotonic; 0: no kill)."""
    restarted_at: float
    answering_s: float
    """Seconds from the first POST's due time to the last answer."""
    wall_s: float
    server_cpu_s: float
    """From the start of sending to the end (a restarted server's start-up included)."""
    client_cpu_s: float
    max_late_start_s: float


# -- the store and the server -------------------------------------------------------------


@contextmanager
def _store(database: str | None, parties: int, work: Path) -> Iterator[tuple[str, list[str]]]:
    """A fresh store with ``parties`` operators; yields its URL and their tokens."""
    if database is None:
        url = f"sqlite:///{work / 'hotline.db'}"
        dropped = None
    else:
        server = make_url(database)
        name = f"dcf_hotline_{uuid.uuid4().hex[:10]}"
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = server.set(database=name).render_as_string(hide_password=False)
        dropped = (admin, name)
    db = Database(url)
    db.migrate()
    registry = Registry(db, SystemClock())
    tokens = [registry.add(f"P{i:03d}", "operator")[1] for i in range(parties)]
    db.dispose()
    try:
        yield url, tokens
    finally:
        if dropped is not None:
            admin, name = dropped
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_server(
    url: str, port: int, log: Path, nats: str | None = None
) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "deconfliction", "serve", "--port", str(port), "-d", url]
    env = {**os.environ, **lifted_env()}  # the per-party limits lifted
    if nats is not None:
        env["DECONFLICTION_NATS_URL"] = nats
    with log.open("ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + _START_TIMEOUT_S
    while True:
        with suppress(httpx.TransportError):
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the server did not start:\n{log.read_text()[-2000:]}")
        time.sleep(0.05)


def _cpu_s(pid: int) -> float:
    """User and system CPU seconds a process has used (Linux /proc)."""
    with suppress(OSError, IndexError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


# -- a load generator ---------------------------------------------------------------------


class _Party:
    """One party's socket: receives its events, acknowledges each, resumes after drops."""

    def __init__(self, name: str, token: str, ws_url: str, result: _WorkerResult) -> None:
        self.name = name
        self.token = token
        self.url = ws_url
        self.result = result
        self.last_seq = 0
        self.ready = asyncio.Event()
        self.last_event_at = time.monotonic()
        self.stopping = False
        self.ws: Any = None

    async def run(self) -> None:
        while not self.stopping:
            try:
                async with connect(
                    f"{self.url}?after={self.last_seq}",
                    additional_headers={"Authorization": f"Bearer {self.token}"},
                    compression=None,
                    proxy=None,
                    open_timeout=10,
                ) as ws:
                    self.ws = ws
                    async for text in ws:
                        await self._take(ws, json.loads(text))
            except (OSError, ConnectionClosed, InvalidStatus, TimeoutError):
                pass
            if not self.stopping:
                await asyncio.sleep(0.1)

    async def _take(self, ws: Any, frame: dict[str, Any]) -> None:
        now = time.monotonic()
        if "hello" in frame:
            if self.ready.is_set():
                self.result.reconnects += 1
            self.ready.set()
            return
        if "error" in frame:
            raise RuntimeError(f"{self.name}: {frame['error']['detail']}")
        self.last_seq = frame["seq"]
        self.last_event_at = now
        if frame["kind"] == "message.received":
            sent_at = float(frame["payload"]["text"].split()[1])
            self.result.received.append((self.name, frame["item"], sent_at, now))
        await ws.send(f'{{"ack":{frame["seq"]}}}')

    async def stop(self) -> None:
        self.stopping = True
        if self.ws is not None:
            await self.ws.close()


class _Http:
    """One keep-alive HTTP/1.1 connection, as lean as a load generator needs."""

    def __init__(self, host: str, port: int) -> None:
        self._address = (host, port)
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        """Status and body of one POST; OSError (and the connection dropped) on failure."""
        if self._streams is None:
            self._streams = await asyncio.open_connection(*self._address)
        reader, writer = self._streams
        lines = [f"POST {path} HTTP/1.1", f"Host: {self._address[0]}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}", "", ""]
        try:
            writer.write("\r\n".join(lines).encode() + body)
            status = int((await reader.readuntil(b"\r\n")).split()[1])
            length = 0
            while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            return status, await reader.readexactly(length)
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
            writer.close()
            self._streams = None
            raise OSError(f"the connection failed: {exc}") from exc


async def _send_one(
    http: _Http, token: str, recipient: str, give_up_at: float, result: _WorkerResult
) -> None:
    started = time.monotonic()
    key = uuid.uuid4().hex
    body = json.dumps({"to": recipient, "text": f"{key} {started:.6f}", "priority": "urgent"})
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
    attempts = 0
    while time.monotonic() < give_up_at:
        attempts += 1
        try:
            status, answer = await http.post("/v1/messages", body.encode(), headers)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        if status == 201:
            message = json.loads(answer)["id"]
            result.sent.append((message, recipient, started, time.monotonic(), attempts))
            return
        if status < 500:
            raise RuntimeError(f"POST /v1/messages: {status} {answer.decode()}")
        await asyncio.sleep(0.1)
    result.unanswered += 1


async def _generate(spec: dict[str, Any]) -> _WorkerResult:
    result = _WorkerResult()
    names: list[str] = spec["names"]
    tokens: dict[str, str] = spec["tokens"]
    mine = spec["mine"]
    ports: list[int] = spec["ports"]
    parties = [
        _Party(n, tokens[n], f"ws://{spec['host']}:{ports[i % len(ports)]}/v1/stream", result)
        for i, n in enumerate(mine)
    ]
    readers = [asyncio.create_task(p.run()) for p in parties]
    await asyncio.wait_for(asyncio.gather(*(p.ready.wait() for p in parties)), 60)
    spec["ready"].set()
    start = spec["start_at"].value
    while start == 0.0:
        await asyncio.sleep(0.01)
        start = spec["start_at"].value
    await asyncio.sleep(max(0.0, start - time.monotonic()))
    rng = random.Random(spec["seed"])
    interval = 1.0 / spec["rate"]
    end = start + spec["duration_s"]
    give_up_at = end + _DRAIN_MAX_S
    jobs: asyncio.Queue[tuple[str, str, float] | None] = asyncio.Queue()

    async def connection(port: int) -> None:
        http = _Http(spec["host"], port)
        while (job := await jobs.get()) is not None:
            sender, recipient, due = job
            result.late_start_s = max(result.late_start_s, time.monotonic() - due)
            await _send_one(http, tokens[sender], recipient, give_up_at, result)

    senders = [
        asyncio.create_task(connection(ports[k % len(ports)])) for k in range(spec["connections"])
    ]
    i = 0
    while (due := start + spec["offset"] + i * interval) < end:
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        sender = rng.choice(mine)
        recipient = rng.choice(names)
        while recipient == sender:
            recipient = rng.choice(names)
        jobs.put_nowait((sender, recipient, due))
        i += 1
    for _ in senders:
        jobs.put_nowait(None)
    await asyncio.gather(*senders)
    spec["sent_done"].set()
    # drain: until every generator has sent, then until no event came for a while
    while not spec["all_sent"].is_set():
        await asyncio.sleep(0.05)
    drain_end = time.monotonic() + _DRAIN_MAX_S
    while time.monotonic() < drain_end:
        quiet = time.monotonic() - max(p.last_event_at for p in parties)
        if quiet > _DRAIN_QUIET_S:
            break
        await asyncio.sleep(0.1)
    await asyncio.gather(*(p.stop() for p in parties))
    await asyncio.gather(*readers, return_exceptions=True)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result.cpu_s = usage.ru_utime + usage.ru_stime
    return result


def _worker(spec: dict[str, Any], results: Any) -> None:
    with suppress(ImportError):
        import uvloop

        uvloop.install()
    results.put(asyncio.run(_generate(spec)))


# -- the run ------------------------------------------------------------------------------


def run(config: Config, work: Path, console: Console | None = None) -> Outcome:
    """Run the benchmark in ``work`` (store, server log); returns what it measured."""

    def say(message: str) -> None:
        if console is not None:
            console.print(message)

    with _store(config.database, config.parties, work) as (url, tokens):
        names = [f"P{i:03d}" for i in range(config.parties)]
        ports = [_free_port() for _ in range(config.servers)]
        log = work / "server.log"
        nats = config.nats if config.servers > 1 else None
        servers: list[subprocess.Popen[bytes]] = []
        workers: list[Any] = []
        server_cpu = 0.0
        try:
            for port in ports:  # each stopped in the end, whatever fails after it started
                servers.append(_start_server(url, port, log, nats))
            context = multiprocessing.get_context("spawn")
            results = context.Queue()
            start_at = context.Value("d", 0.0)
            all_sent = context.Event()
            ready: list[Any] = []  # multiprocessing events of the spawn context
            sent_done: list[Any] = []
            for k in range(config.processes):
                ready.append(context.Event())
                sent_done.append(context.Event())
                spec = {
                    "names": names,
                    "tokens": dict(zip(names, tokens, strict=True)),
                    "mine": names[k :: config.processes],
                    "host": "127.0.0.1",
                    "ports": ports[k % config.servers :] + ports[: k % config.servers],
                    "connections": config.connections,
                    "rate": config.rate / config.processes,
                    "offset": k / config.rate,
                    "duration_s": config.duration_s,
                    "seed": config.seed * 1000 + k,
                    "start_at": start_at,
                    "ready": ready[-1],
                    "sent_done": sent_done[-1],
                    "all_sent": all_sent,
                }
                workers.append(context.Process(target=_worker, args=(spec, results), daemon=True))
                workers[-1].start()
            for event in ready:
                if not event.wait(120):
                    raise RuntimeError("the load generators did not connect within 120 s")
            say(f"{config.parties} parties connected; sending for {config.duration_s:g} s")
            server_cpu -= sum(_cpu_s(s.pid) for s in servers)  # not start-up, connections
            start = time.monotonic() + 0.5
            start_at.value = start
            killed = restarted = 0.0
            if config.kill_at > 0:
                time.sleep(max(0.0, start + config.kill_at * config.duration_s - time.monotonic()))
                server_cpu += sum(_cpu_s(s.pid) for s in servers)
                for server in servers:
                    os.kill(server.pid, signal.SIGKILL)
                    server.wait()
                killed = time.monotonic()
                servers = []
                for port in ports:
                    servers.append(_start_server(url, port, log, nats))
                restarted = time.monotonic()
                say(f"killed the server (SIGKILL), restarted it: {restarted - killed:.1f} s down")
            for event in sent_done:
                event.wait()
            all_sent.set()
            gathered = [results.get() for _ in workers]
            wall = time.monotonic() - start
            for worker in workers:
                worker.join(timeout=30)
        finally:
            server_cpu += sum(_cpu_s(s.pid) for s in servers)
            for server in servers:
                server.terminate()
            for server in servers:
                try:
                    server.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    server.kill()
            for worker in workers:
                if worker.is_alive():
                    worker.kill()
    return _outcome(config, gathered, (start, killed, restarted), wall, server_cpu)


def _outcome(
    config: Config,
    gathered: Sequence[_WorkerResult],
    times: tuple[float, float, float],
    wall: float,
    cpu: float,
) -> Outcome:
    sent = {m: (r, started) for g in gathered for m, r, started, _, _ in g.sent}
    seen = Counter((recipient, m) for g in gathered for recipient, m, _, _ in g.received)
    first: dict[tuple[str, str], float] = {}
    for g in gathered:
        for recipient, m, sent_at, received_at in g.received:
            first.setdefault((recipient, m), received_at - sent_at)
    lost = sum(1 for m, (r, _) in sent.items() if (r, m) not in seen)
    duplicated = sum(n - 1 for n in seen.values() if n > 1)
    unexpected = sum(1 for _, m in seen if m not in sent)
    all_latencies = [lat for (_, m), lat in first.items() if m in sent]
    latencies = {"all messages": all_latencies}
    start, killed, restarted = times
    if config.kill_at > 0:
        latencies["POST before the kill"] = [
            lat for (_, m), lat in first.items() if m in sent and sent[m][1] < killed
        ]
        latencies["POST after the restart"] = [
            lat for (_, m), lat in first.items() if m in sent and sent[m][1] > restarted
        ]
    return Outcome(
        config=config,
        sent=len(sent),
        unanswered=sum(g.unanswered for g in gathered),
        lost=lost,
        duplicated=duplicated,
        unexpected=unexpected,
        latencies=latencies,
        answers=[done - started for g in gathered for _, _, started, done, n in g.sent if n == 1],
        reconnects=sum(g.reconnects for g in gathered),
        killed_at=killed,
        restarted_at=restarted,
        answering_s=max((done for g in gathered for _, _, _, done, _ in g.sent), default=start)
        - start,
        wall_s=wall,
        server_cpu_s=cpu,
        client_cpu_s=sum(g.cpu_s for g in gathered),
        max_late_start_s=max(g.late_start_s for g in gathered),
    )


def table(outcome: Outcome) -> Table:
    """The run as one table: latency per group, then counts."""
    c = outcome.config
    store = "SQLite file" if c.database is None else make_url(c.database).get_backend_name()
    title = (
        f"hotline: {c.parties} parties, {c.rate:g} messages/s for {c.duration_s:g} s, "
        f"{store}, {c.servers} server process(es), {c.processes} load process(es), "
        f"{os.cpu_count()} CPUs"
    )
    result = Table(title=title)
    result.add_column("measure")
    result.add_column("value", justify="right")
    for group, samples in outcome.latencies.items():
        if samples:
            s = summarise(samples, outcome.wall_s)
            result.add_row(
                f"POST to recipient's socket, {group} (n={s.count:,})",
                f"p50 {s.p50_ms:.1f} ms / p99 {s.p99_ms:.1f} ms / max {max(samples) * 1e3:.0f} ms",
            )
    if outcome.answers:
        s = summarise(outcome.answers, outcome.wall_s)
        longest = max(outcome.answers) * 1e3
        result.add_row(
            f"POST to its 201 answer, first attempts (n={s.count:,})",
            f"p50 {s.p50_ms:.1f} ms / p99 {s.p99_ms:.1f} ms / max {longest:.0f} ms",
        )
    result.add_row("messages answered 201", f"{outcome.sent:,}")
    result.add_row(
        "answered per second (from the first POST to the last answer)",
        f"{outcome.sent / max(outcome.answering_s, 1e-9):,.0f}/s over {outcome.answering_s:.0f} s",
    )
    result.add_row("lost (answered, never on the recipient's socket)", str(outcome.lost))
    result.add_row("duplicated (on a recipient's socket twice)", str(outcome.duplicated))
    result.add_row("unexpected (never answered, yet delivered)", str(outcome.unexpected))
    result.add_row(
        f"not answered {_DRAIN_MAX_S:g} s after the window (given up)", str(outcome.unanswered)
    )
    result.add_row("reconnections (after a drop)", str(outcome.reconnects))
    if c.kill_at > 0:
        down = outcome.restarted_at - outcome.killed_at
        result.add_row("kill -9 at", f"{c.kill_at * c.duration_s:g} s; {down:.1f} s down")
    result.add_row(
        "longest wait for a free connection (POST start after its due time)",
        f"{outcome.max_late_start_s * 1e3:.0f} ms",
    )
    result.add_row(
        "CPU used: server / load generators",
        f"{outcome.server_cpu_s:.0f} s / {outcome.client_cpu_s:.0f} s over {outcome.wall_s:.0f} s",
    )
    result.add_row(
        "server CPU per message answered (from the start of sending)",
        f"{outcome.server_cpu_s * 1e3 / max(outcome.sent, 1):.2f} ms",
    )
    return result


def main(argv: Sequence[str] | None = None) -> Outcome:
    parser = argparse.ArgumentParser(description="Hotline delivery latency, loss and duplication.")
    parser.add_argument("--parties", type=int, default=100)
    parser.add_argument("--rate", type=float, default=1_000.0, help="Messages per second.")
    parser.add_argument("--duration", type=float, default=60.0, help="Seconds of sending.")
    parser.add_argument("--quick", action="store_true", help="10 s of sending.")
    parser.add_argument(
        "--kill-at", type=float, default=0.5, help="Kill -9 at this fraction of the run; 0: no."
    )
    parser.add_argument("--processes", type=int, default=1, help="Load generator processes.")
    parser.add_argument(
        "--connections", type=int, default=64, help="HTTP connections per load process."
    )
    parser.add_argument("--servers", type=int, default=1, help="Server processes on the one store.")
    parser.add_argument(
        "--nats", default=Config.nats, help="NATS between the servers (with --servers 2+)."
    )
    parser.add_argument(
        "--database", default=None, help="A PostgreSQL server URL (default: a SQLite file)."
    )
    args = parser.parse_args(argv)
    if (
        args.parties < 2
        or args.rate <= 0
        or not 0 <= args.kill_at < 1
        or min(args.processes, args.servers) < 1
    ):
        parser.error(
            "need 2+ parties, a positive rate, 0 <= --kill-at < 1, 1+ processes and servers"
        )
    config = Config(
        parties=args.parties,
        rate=args.rate,
        duration_s=10.0 if args.quick else args.duration,
        kill_at=args.kill_at,
        processes=args.processes,
        connections=args.connections,
        servers=args.servers,
        nats=args.nats,
        database=args.database,
    )
    console = Console()
    with tempfile.TemporaryDirectory(prefix="hotline-") as work:
        outcome = run(config, Path(work), console)
    console.print(table(outcome))
    return outcome


if __name__ == "__main__":
    main()

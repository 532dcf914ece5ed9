"""A real ``deconfliction serve`` process for tests that need the whole server: a free
loopback port, start-up awaited on ``/healthz``, stopped (or found killed) at the end."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import httpx

__all__ = ["free_port", "served"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served(
    url: str, port: int, settings: Mapping[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """``deconfliction serve`` on ``port`` and the database ``url``, up within 30 s;
    ``settings``: ``DECONFLICTION_*`` variables to set, e.g. ``{"RATE_PER_S": "1"}``."""
    env = {**os.environ, **{f"DECONFLICTION_{k}": v for k, v in (settings or {}).items()}}
    process = subprocess.Popen(
        [sys.executable, "-m", "deconfliction", "serve", "--port", str(port), "-d", url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
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

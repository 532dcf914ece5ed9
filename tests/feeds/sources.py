"""Local sources for the feed tests: a TCP server on 127.0.0.1 (port 0) that plays one
script of chunks per connection and then hangs up, as a receiver that restarts does."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Sequence

__all__ = ["ScriptedServer"]


class ScriptedServer:
    """Accepts connections on a free loopback port; connection *k* is sent
    ``sessions[k]`` chunk by chunk and then closed (a source that disconnects
    mid-stream). Connections after the last script are held open, silent."""

    def __init__(self, sessions: Sequence[Sequence[bytes]], pause_s: float = 0.01) -> None:
        self.sessions = list(sessions)
        self.pause_s = pause_s
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._held: list[socket.socket] = []

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for conn in self._held:
            conn.close()
        self._listener.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            index = self.connections
            self.connections += 1
            if index >= len(self.sessions):
                self._held.append(conn)
                continue
            with conn:
                for chunk in self.sessions[index]:
                    conn.sendall(chunk)
                    time.sleep(self.pause_s)

"""``deconfliction serve``: run the HTTP service."""

from __future__ import annotations

import gc
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import typer
import uvicorn

from deconfliction.api import create_app
from deconfliction.cli.context import DATABASE_OPTION, console, settings_for
from deconfliction.settings import Settings

__all__ = ["running_server", "serve"]


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="TCP port to listen on."),
    database: str | None = DATABASE_OPTION,
) -> None:
    """Run the service (OpenAPI at /openapi.json, docs at /docs) until Ctrl-C."""
    settings = settings_for(database)
    console.print(
        f"serving on [bold]http://{host}:{port}[/] (docs at /docs), "
        f"database {settings.database_url}; Ctrl-C stops"
    )
    app = create_app(settings)
    # What is loaded by now (modules, models, routes) lives as long as the process: out
    # of the collector's sight, a full collection under load takes a few ms, not 100+.
    gc.collect()
    gc.freeze()
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=5,  # held long polls must not keep a stopping server up
    )


@contextmanager
def running_server(settings: Settings, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve in a background thread; yields the base URL and stops on exit."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    config = uvicorn.Config(create_app(settings), log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the service did not start; see the log above")
        time.sleep(0.02)
    try:
        yield f"http://{host}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()

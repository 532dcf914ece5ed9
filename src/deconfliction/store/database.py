"""The database handle: one engine per URL, transactions, migrations.

SQLite (the embedded default) runs in WAL mode with ``synchronous=FULL``, so a commit
that returned has reached the disk and survives ``kill -9`` or a power cut; writers
take the lock up front (``BEGIN IMMEDIATE``) so two writers never deadlock on an
upgrade. On PostgreSQL, reads run at REPEATABLE READ so that, as on SQLite, one read
sees one state of the store however many queries it makes; writes run at READ
COMMITTED and serialise where they must on the journal head (``journal.chain``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

__all__ = ["Database"]

_MIGRATIONS = Path(__file__).parent / "migrations"


class Database:
    """An engine and its sessions for one URL (``sqlite:///path`` or ``postgresql+psycopg://``)."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
            # Enough pooled connections for the server's worker threads: a connection
            # made afresh runs its PRAGMAs again, which showed in profiles under load.
            kwargs.update(pool_size=20, max_overflow=20)
        else:
            kwargs.update(pool_size=10, max_overflow=20, pool_pre_ping=True)
        self.engine: Engine = create_engine(self.url, **kwargs)
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._after_commit: list[Callable[[dict[str, Any]], None]] = []
        self._writer: AbstractContextManager[Any] = (
            threading.RLock() if self.is_sqlite else nullcontext()
        )
        reader_options: dict[str, Any] = {"read_only": True}
        if not self.is_sqlite:
            reader_options["isolation_level"] = "REPEATABLE READ"
        self._readers = sessionmaker(
            self.engine.execution_options(**reader_options), expire_on_commit=False
        )

    def after_commit(self, listener: Callable[[dict[str, Any]], None]) -> None:
        """Call ``listener(session.info)`` after each transaction that commits.

        Services note in ``session.info`` what others must hear of (the parties that got
        events, say); a listener wakes them once the change is durable, never before.
        """
        self._after_commit.append(listener)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error.

        On SQLite the writers of this process queue on a lock before they begin: SQLite's
        own busy handler sleeps up to 100 ms between tries, so writers left to it starve
        one another (seconds at p99 under load); the queue serves them in turn.
        """
        with self._writer, self._sessions() as session:
            with session.begin():
                yield session
            if session.info:
                for listener in self._after_commit:
                    listener(session.info)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading only, on one snapshot of the store for its whole length.

        On SQLite it does not take the write lock, so it neither waits for writers nor
        holds them up.
        """
        with self._readers() as session, session.begin():
            yield session

    def migrate(self) -> None:
        """Bring the schema to the newest migration (idempotent)."""
        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def dispose(self) -> None:
        self.engine.dispose()


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get("read_only", False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

"""Fixtures shared by every test: the store on each backend, a manual clock, parties.

``backend`` runs a test once on SQLite (a file, the embedded default) and once on the
PostgreSQL server (marked ``postgres``). ``database`` is a migrated
:class:`~deconfliction.store.database.Database` of a fresh, empty store:

* SQLite: a copy of a file migrated once per session, in the test's ``tmp_path``;
* PostgreSQL: one database ``dcf_test_<random>`` per session, created and migrated at
  its start and dropped at its end; before each test every table is emptied, the rows
  the migrations seed are put back and the id sequences restart, so each test starts
  from a freshly migrated store (a DELETE costs milliseconds where cloning a database
  costs a few hundred). The server URL is ``$DECONFLICTION_TEST_POSTGRES_URL`` (default
  ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``); its user must be allowed
  to create databases.

When PostgreSQL cannot be reached, ``postgres`` tests skip with the reason, except under
CI (``$CI`` set), where they fail: a CI run must not pass by skipping half the store.

Other fixtures: ``database_url`` (the same store as a URL, for code that opens its own
engine), ``empty_database_url`` (a database with no tables, to test migrations),
``clock`` (a :class:`~deconfliction.clock.ManualClock` at :data:`T0`), ``registry`` and
``make_party(name, role="operator") -> (PartyRef, token)``.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import OperationalError

from deconfliction.clock import ManualClock
from deconfliction.parties import PartyRef, Registry
from deconfliction.store.database import Database
from deconfliction.store.schema import Base

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
"""The time the ``clock`` fixture starts at (a Monday, 08:00 UTC)."""

POSTGRES_URL_VARIABLE = "DECONFLICTION_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

MakeParty = Callable[..., tuple[PartyRef, str]]


def _url_text(url: URL) -> str:
    return url.render_as_string(hide_password=False)


class _PostgresServer:
    """The test server: creates and drops databases over an AUTOCOMMIT connection."""

    def __init__(self, url: URL) -> None:
        self.url = url
        self.admin: Engine = create_engine(
            url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5}
        )

    def create(self, name: str) -> URL:
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        return self.url.set(database=name)

    def drop(self, name: str) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def _postgres_server() -> Iterator[_PostgresServer]:
    url = make_url(os.environ.get(POSTGRES_URL_VARIABLE, DEFAULT_POSTGRES_URL))
    server = _PostgresServer(url)
    try:
        with server.admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        server.admin.dispose()
        reason = (
            f"PostgreSQL at {url.render_as_string()} is not reachable ({exc.orig}); start it "
            f"or point ${POSTGRES_URL_VARIABLE} at a server where the user may create databases"
        )
        if os.environ.get("CI"):
            pytest.fail(f"CI is set, so postgres tests may not skip: {reason}", pytrace=False)
        pytest.skip(reason)
    yield server
    server.admin.dispose()


class _PostgresStore:
    """The session's database, and how to bring it back to freshly migrated."""

    def __init__(self, url: URL) -> None:
        self.url = url
        self.engine: Engine = create_engine(url)
        db = Database(_url_text(url))
        try:
            db.migrate()
        finally:
            db.dispose()
        tables = list(reversed(Base.metadata.sorted_tables))  # dependents first
        with self.engine.connect() as connection:
            self._seed = {
                t: [dict(r._mapping) for r in connection.execute(t.select())] for t in tables
            }
            self._sequences = list(
                connection.scalars(
                    text("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")
                )
            )
        self._tables = tables

    def reset(self) -> None:
        with self.engine.begin() as connection:
            connection.execute(text("SET LOCAL lock_timeout = '10s'"))
            try:
                for table in self._tables:
                    connection.execute(table.delete())
            except OperationalError as exc:
                raise RuntimeError(
                    "could not empty the test database: an earlier test left a transaction "
                    "open on it (dispose every Database and engine a test opens)"
                ) from exc
            for name in self._sequences:
                connection.execute(text(f'ALTER SEQUENCE "{name}" RESTART'))
            for table in reversed(self._tables):
                if self._seed[table]:
                    connection.execute(table.insert(), self._seed[table])


@pytest.fixture(scope="session")
def _postgres_store(_postgres_server: _PostgresServer) -> Iterator[_PostgresStore]:
    name = f"dcf_test_{uuid.uuid4().hex[:12]}"
    store = _PostgresStore(_postgres_server.create(name))
    yield store
    store.engine.dispose()
    _postgres_server.drop(name)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per session, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "deconfliction.db"
    db = Database(f"sqlite:///{path}")
    db.migrate()
    db.dispose()  # the last connection to close checkpoints the WAL into the file
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """The store backend under test: ``"sqlite"`` or ``"postgres"``."""
    return str(request.param)


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """URL of a fresh, migrated, empty store on ``backend``."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("_sqlite_template")
        path = tmp_path / "deconfliction.db"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    store: _PostgresStore = request.getfixturevalue("_postgres_store")
    store.reset()
    yield _url_text(store.url)


@pytest.fixture
def empty_database_url(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[str]:
    """URL of a store with no tables at all on ``backend`` (for migration tests)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    server: _PostgresServer = request.getfixturevalue("_postgres_server")
    name = f"dcf_test_{uuid.uuid4().hex[:12]}"
    url = server.create(name)
    yield _url_text(url)
    server.drop(name)


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """A migrated, empty :class:`Database` on ``backend``; disposed after the test."""
    db = Database(database_url)
    yield db
    db.dispose()


@pytest.fixture
def clock() -> ManualClock:
    """A clock standing at :data:`T0` until a test moves it."""
    return ManualClock(T0)


@pytest.fixture
def registry(database: Database, clock: ManualClock) -> Registry:
    return Registry(database, clock)


@pytest.fixture
def make_party(registry: Registry) -> MakeParty:
    """``make_party(name, role="operator")`` creates a party; returns it and its token."""

    def make(name: str, role: str = "operator") -> tuple[PartyRef, str]:
        return registry.add(name, role)

    return make

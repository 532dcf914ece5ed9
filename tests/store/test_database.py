"""The database handle on both backends: migrations, no schema drift, times, durability."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import StatementError

from deconfliction.clock import ManualClock
from deconfliction.core.volume import Volume4D
from deconfliction.journal.chain import GENESIS
from deconfliction.notices.model import NoticeDraft
from deconfliction.notices.service import NoticeService
from deconfliction.parties import Registry
from deconfliction.settings import Settings
from deconfliction.store import database as database_module
from deconfliction.store.database import Database
from deconfliction.store.schema import Base, JournalHead, Party
from tests.zoo import T0, box, volume

MIGRATIONS = Path(database_module.__file__).parent / "migrations"


def _head_revision() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def _revision(db: Database) -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _diff(db: Database) -> list[object]:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def test_migrate_creates_the_schema_then_changes_nothing(empty_database_url: str) -> None:
    db = Database(empty_database_url)
    try:
        assert _revision(db) is None
        db.migrate()
        assert _revision(db) == _head_revision()
        tables = set(inspect(db.engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        with db.transaction() as session:
            session.add(Party(name="Alpha", role="operator", created_at=datetime.now(UTC)))
        db.migrate()
        db.migrate()
        assert _revision(db) == _head_revision()
        with db.read() as session:
            assert session.scalar(select(func.count()).select_from(Party)) == 1
            head = session.get(JournalHead, 1)
            assert head is not None
            assert (head.seq, head.hash) == (0, GENESIS)
    finally:
        db.dispose()


def test_the_migrations_match_the_schema_module(database: Database) -> None:
    """Autogenerate finds nothing to do: schema.py and the migrations agree."""
    assert _diff(database) == []


@pytest.fixture
def own_database(empty_database_url: str) -> Iterator[Database]:
    """A migrated database of the test's own, for tests that change the schema."""
    db = Database(empty_database_url)
    db.migrate()
    yield db
    db.dispose()


def test_autogenerate_would_notice_drift(own_database: Database) -> None:
    """The drift check can fail: an index missing from the database is reported."""
    with own_database.engine.begin() as connection:
        connection.execute(text("DROP INDEX ix_notices_party_id"))
    diff = _diff(own_database)
    assert any(change[0] == "add_index" for change in diff if isinstance(change, tuple))


def test_downgrade_to_nothing_and_back(own_database: Database) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with own_database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert set(inspect(own_database.engine).get_table_names()) <= {"alembic_version"}
    own_database.migrate()
    assert _diff(own_database) == []


def test_0004_keeps_the_cells_and_serves_searches_from_the_key(own_database: Database) -> None:
    """Revision 0004 rebuilds the cell index (SQLite: WITHOUT ROWID; PostgreSQL: the key
    includes the searched columns) without losing a row, both ways."""
    clock = ManualClock(T0 - timedelta(days=1))
    alpha, _ = Registry(own_database, clock).add("Alpha", "operator")
    service = NoticeService(own_database, clock, Settings(database_url=str(own_database.url)))
    for k in range(3):
        service.file(
            alpha, NoticeDraft((volume(box(8.5 + k / 10, 47.4, 0.05, 0.05)),), title=f"n{k}")
        )

    def cells() -> list[tuple[object, ...]]:
        with own_database.engine.connect() as connection:
            return sorted(tuple(r) for r in connection.execute(text("SELECT * FROM volume_cells")))

    def searched_from_the_key() -> bool:
        with own_database.engine.connect() as connection:
            if own_database.is_sqlite:
                sql = connection.execute(
                    text("SELECT sql FROM sqlite_master WHERE name = 'volume_cells'")
                ).scalar_one()
                return "WITHOUT ROWID" in sql
            definition = connection.execute(
                text("SELECT pg_get_indexdef('pk_volume_cells'::regclass)")
            ).scalar_one()
            return "INCLUDE (end_at, lower_m, upper_m, party_id)" in definition

    before = cells()
    assert len(before) >= 3
    assert searched_from_the_key()
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with own_database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0003")
    assert cells() == before
    assert not searched_from_the_key()
    own_database.migrate()
    assert cells() == before
    assert searched_from_the_key()
    assert _diff(own_database) == []


def test_times_come_back_aware_utc_to_the_microsecond(database: Database) -> None:
    moment = datetime(2026, 3, 2, 10, 15, 30, 123456, tzinfo=timezone(timedelta(hours=2)))
    with database.transaction() as session:
        session.add(Party(name="Alpha", role="operator", created_at=moment))
    with database.read() as session:
        stored = session.scalars(select(Party.created_at)).one()
    assert stored == moment
    assert stored.tzinfo is UTC
    assert stored.microsecond == 123456


def test_naive_times_are_refused(database: Database) -> None:
    naive = datetime(2026, 3, 2)  # noqa: DTZ001 - the point of the test

    def store_naive() -> None:
        with database.transaction() as session:
            session.add(Party(name="Alpha", role="operator", created_at=naive))
            session.flush()

    with pytest.raises(StatementError, match="naive datetime"):
        store_naive()


def test_a_failed_transaction_leaves_nothing(database: Database) -> None:
    def fail_after_writing() -> None:
        with database.transaction() as session:
            session.add(Party(name="Alpha", role="operator", created_at=datetime.now(UTC)))
            session.flush()
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail_after_writing()
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(Party)) == 0


def test_a_read_sees_one_state_while_others_write(database: Database) -> None:
    """A read session is one snapshot on both backends (REPEATABLE READ on PostgreSQL)."""
    with database.read() as reader:
        before = reader.scalars(select(func.count()).select_from(Party)).one()
        with database.transaction() as writer:
            writer.add(Party(name="Alpha", role="operator", created_at=datetime.now(UTC)))
        assert reader.scalar(select(func.count()).select_from(Party)) == before
    with database.read() as reader:
        assert reader.scalar(select(func.count()).select_from(Party)) == before + 1


# -- SQLite durability --------------------------------------------------------------------


@pytest.fixture
def sqlite_database(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'deconfliction.db'}")
    db.migrate()
    return db


def test_every_sqlite_connection_is_wal_and_synchronous_full(sqlite_database: Database) -> None:
    """Pragmas hold on each pooled connection, for writers and readers alike."""
    db = sqlite_database
    readers = db.engine.execution_options(read_only=True)  # four open at once: none may write
    connections = [readers.connect() for _ in range(4)]
    try:
        for connection in connections:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert len({id(c.connection.dbapi_connection) for c in connections}) == 4
    finally:
        for connection in connections:
            connection.close()
    with db.read() as reader, db.transaction() as writer:
        for session in (reader, writer):
            assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert session.execute(text("PRAGMA synchronous")).scalar() == 2
    db.dispose()


def test_sqlite_writers_take_the_lock_at_begin_and_readers_do_not(
    sqlite_database: Database, tmp_path: Path
) -> None:
    other = sqlite3.connect(tmp_path / "deconfliction.db", timeout=0, isolation_level=None)
    try:
        with sqlite_database.read() as reader:
            reader.execute(select(func.count()).select_from(Party))
            other.execute("BEGIN IMMEDIATE")  # a reader does not hold writers up
            other.execute("ROLLBACK")
        with sqlite_database.transaction() as writer:
            writer.execute(select(func.count()).select_from(Party))  # a read, yet it locks
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
    finally:
        other.close()
        sqlite_database.dispose()


def test_sqlite_commits_survive_kill_9(tmp_path: Path) -> None:
    """A child commits rows and reports each commit; after kill -9 every reported row is there."""
    path = tmp_path / "deconfliction.db"
    db = Database(f"sqlite:///{path}")
    db.migrate()
    db.dispose()
    child = textwrap.dedent(
        f"""
        from datetime import UTC, datetime
        from deconfliction.store.database import Database
        from deconfliction.store.schema import Party
        db = Database("sqlite:///{path}")
        n = 0
        while True:
            n += 1
            with db.transaction() as session:
                session.add(Party(name=f"P{{n}}", role="operator", created_at=datetime.now(UTC)))
            print(n, flush=True)
        """
    )
    errors = (tmp_path / "child.err").open("w")
    process = subprocess.Popen(
        [sys.executable, "-c", child], stdout=subprocess.PIPE, stderr=errors, text=True
    )
    assert process.stdout is not None
    reported = 0
    for line in process.stdout:
        reported = int(line)
        if reported >= 50:
            break
    process.kill()  # SIGKILL: no cleanup, no checkpoint
    process.wait()
    process.stdout.close()
    errors.close()
    assert reported >= 50, (tmp_path / "child.err").read_text()
    connection = sqlite3.connect(path)
    try:
        names = {row[0] for row in connection.execute("SELECT name FROM parties")}
    finally:
        connection.close()
    assert {f"P{n}" for n in range(1, reported + 1)} <= names


def test_0011_adds_and_drops_the_zone_floor_keeping_the_volumes(own_database: Database) -> None:
    """Revision 0011 adds ``volumes.floor_m`` in place (a standing zone's floor is kept);
    down, it drops the column and neither the volumes nor their cells are lost."""
    clock = ManualClock(T0 - timedelta(days=1))
    caa, _ = Registry(own_database, clock).add("CAA", "authority")
    service = NoticeService(own_database, clock, Settings(database_url=str(own_database.url)))
    zone = volume(box(8.5, 47.4, 0.05, 0.05))
    floored = Volume4D(zone.footprint, zone.lower_m, zone.upper_m, zone.start, zone.end, -20.0)
    filed = service.file(caa, NoticeDraft((floored,), "CTR", standing=True))
    assert filed.notice.volumes[0].floor_m == -20.0

    def rows() -> tuple[int, int]:
        with own_database.engine.connect() as connection:
            return (
                connection.execute(text("SELECT count(*) FROM volumes")).scalar_one(),
                connection.execute(text("SELECT count(*) FROM volume_cells")).scalar_one(),
            )

    before = rows()
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with own_database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0010")
    assert "floor_m" not in {c["name"] for c in inspect(own_database.engine).get_columns("volumes")}
    assert rows() == before
    own_database.migrate()
    assert rows() == before
    assert _diff(own_database) == []
    again = service.get(caa, filed.notice.id)
    assert again.volumes[0].floor_m is None  # the floor went with the column

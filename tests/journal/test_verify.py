"""Verifying the stored journal: tampering with the rows is caught at the right entry, by
``verify_database`` and by ``deconfliction journal verify``; ``journal show`` reads it."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from typer.testing import CliRunner

from deconfliction.cli import journal as journal_cli
from deconfliction.cli.app import build
from deconfliction.errors import ValidationError
from deconfliction.journal.verify import read_entries, verify_database
from deconfliction.parties import Registry
from deconfliction.store.database import Database
from deconfliction.store.schema import JournalEntry

ENTRIES = 10

Tamper = Callable[[list[str]], None]
"""Runs SQL statements directly against the store, around the application."""

TAMPERING = {
    # name: (statements, first bad seq)
    "edit a payload": (
        ['UPDATE journal SET payload = \'{"name":"P3","role":"authority"}\' WHERE seq = 4'],
        4,
    ),
    "delete a row": (["DELETE FROM journal WHERE seq = 6"], 6),
    "swap two rows' seq": (
        [
            "UPDATE journal SET seq = -1 WHERE seq = 3",
            "UPDATE journal SET seq = 3 WHERE seq = 7",
            "UPDATE journal SET seq = 7 WHERE seq = -1",
        ],
        3,
    ),
    "truncate the tail": (["DELETE FROM journal WHERE seq > 8"], 9),
    "change a prev_hash": (["UPDATE journal SET prev_hash = '" + "f" * 64 + "' WHERE seq = 5"], 5),
    "rewrite the time": (["UPDATE journal SET at = '2030-01-01 00:00:00' WHERE seq = 2"], 2),
}


@pytest.fixture
def journal(database: Database, registry: Registry) -> Database:
    """A store whose journal holds ENTRIES entries (one per party created)."""
    for i in range(ENTRIES):
        registry.add(f"P{i}", "operator")
    return database


@pytest.fixture
def tamper(backend: str, database_url: str) -> Tamper:
    """Edits the journal behind the application's back: through the ``sqlite3`` module
    on the SQLite file, through a plain connection on PostgreSQL."""

    def run(statements: list[str]) -> None:
        if backend == "sqlite":
            connection = sqlite3.connect(database_url.removeprefix("sqlite:///"))
            try:
                with connection:
                    for statement in statements:
                        connection.execute(statement)
            finally:
                connection.close()
            return
        engine = create_engine(database_url)
        try:
            with engine.begin() as pg:
                for statement in statements:
                    pg.execute(text(statement))
        finally:
            engine.dispose()

    return run


def cli(*args: str) -> tuple[int, str]:
    """Runs ``deconfliction journal ARGS``; returns the exit code and what it printed."""
    result = CliRunner().invoke(journal_cli.app, list(args))
    return result.exit_code, result.stdout


def test_the_journal_commands_are_registered() -> None:
    result = CliRunner().invoke(build(), ["journal", "--help"])
    assert result.exit_code == 0
    assert "verify" in result.stdout
    assert "show" in result.stdout


# -- verify ----------------------------------------------------------------------------------


def test_an_untouched_journal_is_intact(journal: Database, database_url: str) -> None:
    result = verify_database(journal)
    assert (result.head_seq, result.checked, result.first_break) == (ENTRIES, ENTRIES, None)
    with journal.read() as session:
        last = session.scalars(select(JournalEntry.hash).where(JournalEntry.seq == ENTRIES)).one()
    assert result.head_hash == last
    code, out = cli("verify", "--database", database_url)
    assert (code, out) == (0, f"journal intact: {ENTRIES} entries, head {last}\n")


@pytest.mark.parametrize("case", list(TAMPERING))
def test_tampering_is_caught_at_the_first_bad_entry(
    journal: Database, tamper: Tamper, database_url: str, case: str
) -> None:
    statements, first_bad = TAMPERING[case]
    tamper(statements)
    result = verify_database(journal)
    assert result.first_break is not None
    assert result.first_break.seq == first_bad, result.first_break.reason
    assert result.checked == first_bad - 1
    code, out = cli("verify", "--database", database_url)
    assert code == 1
    assert out.startswith(f"journal broken at entry {first_bad}: {result.first_break.reason}")


def test_verify_streams_in_batches_and_reports_progress(journal: Database) -> None:
    seen: list[tuple[int, int]] = []
    result = verify_database(journal, lambda done, total: seen.append((done, total)), batch=3)
    assert result.intact
    assert seen == [(3, 10), (6, 10), (9, 10), (10, 10)]


def test_verify_checks_one_snapshot_while_others_append(
    journal: Database, registry: Registry
) -> None:
    """Entries appended while a verification runs neither count nor look like tampering."""
    added: list[str] = []

    def append_meanwhile(done: int, total: int) -> None:
        if not added:
            added.append(registry.add("Latecomer", "observer")[0].name)

    result = verify_database(journal, append_meanwhile, batch=2)
    assert added == ["Latecomer"]
    assert (result.intact, result.head_seq) == (True, ENTRIES)
    assert verify_database(journal).head_seq == ENTRIES + 1


def test_verify_without_a_journal_says_so(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    code, _ = cli("verify", "--database", f"sqlite:///{missing}")
    assert code == 2
    assert not missing.exists()  # looking did not create it
    sqlite3.connect(tmp_path / "empty.db").close()
    code, _ = cli("verify", "--database", f"sqlite:///{tmp_path / 'empty.db'}")
    assert code == 2


# -- show ------------------------------------------------------------------------------------


def test_show_json_pages_through_the_journal(journal: Database, database_url: str) -> None:
    code, out = cli("show", "--json", "--since", "3", "--limit", "2", "-d", database_url)
    assert code == 0
    shown = json.loads(out)
    assert [e["seq"] for e in shown] == [4, 5]
    assert shown[0]["kind"] == "party.created"
    assert shown[0]["payload"] == {"name": "P3", "role": "operator"}
    assert shown[1]["prev_hash"] == shown[0]["hash"]

    code, out = cli("show", "--json", "--limit", "3", "-d", database_url)
    assert [e["seq"] for e in json.loads(out)] == [8, 9, 10]  # the newest, oldest first
    code, out = cli("show", "--json", "--since", "10", "-d", database_url)
    assert json.loads(out) == []


def test_show_prints_a_table_for_people(journal: Database, database_url: str) -> None:
    code, out = cli("show", "--limit", "2", "-d", database_url)
    assert code == 0
    assert "party.created" in out
    assert "P9" in out
    assert "P7" not in out
    code, out = cli("show", "--since", "99", "-d", database_url)
    assert (code, out.strip()) == (0, "no entries after 99")


def test_read_entries_refuses_a_silly_limit(journal: Database) -> None:
    with pytest.raises(ValidationError, match="at least 1"):
        read_entries(journal, limit=0)

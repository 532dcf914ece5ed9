"""``deconfliction party``: create parties and issue their tokens (an administrator's job)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.table import Table

from deconfliction.cli.context import (
    DATABASE_OPTION,
    console,
    errors_as_exit,
    open_database,
    settings_for,
)
from deconfliction.clock import SystemClock
from deconfliction.parties import Registry

__all__ = ["app"]


@contextmanager
def _registry(database: str | None) -> Iterator[Registry]:
    """The party registry on the database (migrated), closed afterwards."""
    db = open_database(settings_for(database))
    try:
        yield Registry(db, SystemClock())
    finally:
        db.dispose()


app = typer.Typer(help="Create parties and issue their bearer tokens.", no_args_is_help=True)


@app.command("add")
def add(
    name: str = typer.Argument(..., help="The party's name, as counterparts will see it."),
    role: str = typer.Option(..., "--role", "-r", help="operator, authority or observer."),
    database: str | None = DATABASE_OPTION,
) -> None:
    """Create a party and print its bearer token (shown once, stored hashed)."""
    with errors_as_exit(), _registry(database) as registry:
        party, token = registry.add(name, role)
    console.print(f"created party [bold]{party.name}[/] ({party.role.value})")
    console.print("its token (shown once; keep it secret, it cannot be shown again):")
    print(token)


@app.command("token")
def token(
    name: str = typer.Argument(..., help="An existing party's name."),
    database: str | None = DATABASE_OPTION,
) -> None:
    """Issue a further bearer token for an existing party."""
    with errors_as_exit(), _registry(database) as registry:
        value = registry.issue_token(name)
    print(value)


@app.command("list")
def list_parties(database: str | None = DATABASE_OPTION) -> None:
    """List the parties and their roles."""
    with errors_as_exit(), _registry(database) as registry:
        parties = registry.all()
    table = Table("name", "role")
    for party in parties:
        table.add_row(party.name, party.role.value)
    console.print(table)

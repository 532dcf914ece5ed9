"""What every command shares: settings, the database, errors a person can act on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape

from deconfliction.errors import DeconflictionError

if TYPE_CHECKING:  # imported when used: a command that needs no store loads none of it
    from deconfliction.settings import Settings
    from deconfliction.store.database import Database

__all__ = [
    "DATABASE_OPTION",
    "console",
    "errors_as_exit",
    "open_database",
    "settings_for",
    "show_error",
]

console = Console()
err_console = Console(stderr=True, soft_wrap=True)

DATABASE_OPTION = typer.Option(
    None,
    "--database",
    "-d",
    help="Database URL (default: $DECONFLICTION_DATABASE_URL or sqlite:///deconfliction.db).",
)


def settings_for(database: str | None) -> Settings:
    from deconfliction.settings import Settings

    return Settings.from_env(database_url=database)


def open_database(settings: Settings) -> Database:
    """The database of these settings, migrated to the newest schema."""
    from deconfliction.store.database import Database

    db = Database(settings.database_url)
    db.migrate()
    return db


def show_error(exc: DeconflictionError) -> None:
    """Print a DeconflictionError as one plain line on standard error."""
    err_console.print(f"[bold red]error:[/] {escape(exc.message)}")


@contextmanager
def errors_as_exit() -> Iterator[None]:
    """Print a DeconflictionError as one plain line and exit 2 (no traceback)."""
    try:
        yield
    except DeconflictionError as exc:
        show_error(exc)
        raise typer.Exit(2) from None

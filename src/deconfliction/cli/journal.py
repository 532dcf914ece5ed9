"""``deconfliction journal``: verify the hash chain and read its entries.

Neither command migrates or writes the database: they look at the journal as it is.
``verify`` exits 0 when the chain is intact, 1 naming the first bad entry, 2 when there
is no journal to check.
"""

from __future__ import annotations

import json

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Column, Table
from rich.text import Text

from deconfliction.cli.context import (
    DATABASE_OPTION,
    console,
    err_console,
    errors_as_exit,
    settings_for,
)
from deconfliction.journal.chain import canonical_json
from deconfliction.journal.verify import read_entries, verify_database
from deconfliction.store.database import Database

__all__ = ["app"]

_PAYLOAD_MIN_WIDTH = 120
"""Terminal columns below which ``show`` leaves payloads out (``--json`` has them all)."""

app = typer.Typer(help="Verify and read the hash-chained journal.", no_args_is_help=True)


@app.command("verify")
def verify(database: str | None = DATABASE_OPTION) -> None:
    """Check the whole chain from its first entry and name the first bad one."""
    with errors_as_exit():
        db = Database(settings_for(database).database_url)
        try:
            with Progress(
                TextColumn("verifying journal"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=err_console,
                transient=True,
            ) as bar:
                task = bar.add_task("verify", total=None)
                result = verify_database(
                    db, lambda done, total: bar.update(task, completed=done, total=total)
                )
        finally:
            db.dispose()
    if result.first_break is None:
        print(f"journal intact: {result.head_seq} entries, head {result.head_hash}")
        return
    broken = result.first_break
    print(f"journal broken at entry {broken.seq}: {broken.reason}")
    intact = f"entries 1 to {broken.seq - 1} are intact" if broken.seq > 1 else "it is the first"
    print(f"{intact}; the head says the journal has {result.head_seq} entries")
    raise typer.Exit(1)


@app.command("show")
def show(
    since: int | None = typer.Option(
        None, "--since", min=0, help="Show entries after this seq (default: the newest)."
    ),
    limit: int = typer.Option(50, "--limit", "-n", min=1, help="At most this many entries."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list instead of a table."),
    database: str | None = DATABASE_OPTION,
) -> None:
    """Show journal entries, oldest first: the newest ones, or those after --since.

    On a terminal narrower than 120 columns the payloads are left out; --json shows
    every field of every entry.
    """
    with errors_as_exit():
        db = Database(settings_for(database).database_url)
        try:
            entries = read_entries(db, after=since, limit=limit)
        finally:
            db.dispose()
    if as_json:
        print(json.dumps([e.to_json() for e in entries], indent=2, ensure_ascii=False))
        return
    if not entries:
        console.print("no entries" + (f" after {since}" if since is not None else ""))
        return
    # seq, time, kind and hash keep their width; payloads only where there is room
    with_payload = console.width >= _PAYLOAD_MIN_WIDTH
    columns = [
        Column("seq", justify="right", no_wrap=True, min_width=max(3, len(str(entries[-1].seq)))),
        Column("at (UTC)", no_wrap=True, min_width=19),
        Column("kind", no_wrap=True, min_width=max(len(e.kind) for e in entries)),
        Column("party", overflow="fold"),
        Column("subject", overflow="fold"),
        Column("hash", no_wrap=True, min_width=8),
    ]
    if with_payload:
        columns.insert(5, Column("payload", no_wrap=True, overflow="ellipsis"))
    table = Table(*columns)
    for e in entries:
        cells = [
            str(e.seq),
            e.at.strftime("%Y-%m-%d %H:%M:%S"),
            e.kind,
            e.party or "",
            e.subject or "",
            e.hash[:8],
        ]
        if with_payload:
            cells.insert(5, canonical_json(e.payload))
        table.add_row(*(Text(cell) for cell in cells))  # Text: no markup in stored values
    console.print(table)

"""``deconfliction journal``: verify the hash chain and read its entries.

None of the commands but ``checkpoint`` migrates or writes the database: they look at
the journal as it is. ``verify`` exits 0 when the chain is intact (and, with
``--checkpoint``, holds to every checkpoint given), 1 naming the first bad entry or the
checkpoint it breaks, 2 when there is no journal to check. ``consistency OLD NEW``
checks that a later checkpoint extends an earlier one (exit 0, or 1: truncated or
rewritten), from a proof the service gave or from the database's entries.

``key`` prints the service's public key; ``receipt verify FILE`` and ``export verify
FILE`` check a receipt or a party's export offline, with only that key (exit 0 valid,
1 not, 2 when the input cannot be read).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

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
from deconfliction.clock import SystemClock
from deconfliction.errors import NotFoundError, ValidationError
from deconfliction.journal import merkle
from deconfliction.journal.chain import canonical_json
from deconfliction.journal.checkpoint import (
    CheckpointBody,
    check_consistency,
    log_problems,
    read_checkpoint,
)
from deconfliction.journal.log import TransparencyLog
from deconfliction.journal.receipts import RECEIPT_TYPE, public_key, verify_export, verify_signed
from deconfliction.journal.verify import (
    check_signatures,
    entry_leaves,
    read_entries,
    tree_roots,
    verify_database,
)
from deconfliction.store.database import Database

__all__ = ["app"]

_PAYLOAD_MIN_WIDTH = 120
"""Terminal columns below which ``show`` leaves payloads out (``--json`` has them all)."""

app = typer.Typer(help="Verify and read the hash-chained journal.", no_args_is_help=True)


PUBLIC_KEY_OPTION = typer.Option(
    None, "--public-key", help="The service's public key (64 hex digits), taken beforehand."
)
KEY_FILE_OPTION = typer.Option(
    None,
    "--key-file",
    help="A file holding the public key: its hex, or the JSON of GET /v1/journal/key.",
)


@app.command("verify")
def verify(
    checkpoints: list[Path] = typer.Option(
        [],
        "--checkpoint",
        help="A checkpoint you kept (JSON; repeat for several): the journal's first "
        "tree_size entries must hash to its signed root.",
    ),
    public_key_hex: str | None = PUBLIC_KEY_OPTION,
    key_file: Path | None = KEY_FILE_OPTION,
    database: str | None = DATABASE_OPTION,
) -> None:
    """Check the whole chain from its first entry and name the first bad one; with
    --checkpoint, also hold it to checkpoints kept (catches entries cut from the end, and
    entries edited with every hash after them recomputed)."""
    problems: list[str] = []
    with errors_as_exit():
        db = Database(settings_for(database).database_url)
        try:
            kept = _kept_checkpoints(db, checkpoints, public_key_hex, key_file)
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
            if kept:
                count, roots = tree_roots(db, [c.tree_size for _, c in kept])
                problems = [_held_to(path, c, count, roots) for path, c in kept]
            signatures = check_signatures(db)
        finally:
            db.dispose()
    problems = [p for p in problems if p]
    if result.first_break is None:
        print(f"journal intact: {result.head_seq} entries, head {result.head_hash}")
    else:
        broken = result.first_break
        print(f"journal broken at entry {broken.seq}: {broken.reason}")
        intact = (
            f"entries 1 to {broken.seq - 1} are intact" if broken.seq > 1 else "it is the first"
        )
        print(f"{intact}; the head says the journal has {result.head_seq} entries")
    for problem in problems:
        print(f"checkpoint NOT kept: {problem}")
    if kept and not problems:
        print(f"held to {len(kept)} checkpoint(s): each one's entries are there, unchanged")
    for problem in signatures.problems:
        print(f"party signature NOT valid: {problem}")
    if signatures.checked and not signatures.problems:
        print(f"{signatures.checked} party signature(s) verified with the keys the journal records")
    if result.first_break is not None or problems or signatures.problems:
        raise typer.Exit(1)


def _kept_checkpoints(
    db: Database, paths: list[Path], public_key_hex: str | None, key_file: Path | None
) -> list[tuple[Path, CheckpointBody]]:
    if not paths:
        return []
    if public_key_hex is None and key_file is None:
        with db.read() as session:
            trusted = public_key(session)
    else:
        trusted = _trusted_key(public_key_hex, key_file)
    kept = []
    for path in paths:
        body, problem = read_checkpoint(_parse(_read_text(path), path), trusted)
        if body is None:
            raise ValidationError(f"{path} is not a checkpoint signed by that key: {problem}")
        kept.append((path, body))
    return kept


def _held_to(path: Path, kept: CheckpointBody, count: int, roots: dict[int, bytes]) -> str:
    if count < kept.tree_size:
        return (
            f"{path} signed {kept.tree_size} entries but the journal holds {count}: "
            f"entries {count + 1} to {kept.tree_size} were cut from the end"
        )
    if roots.get(kept.tree_size) != kept.root:
        return (
            f"{path}: the journal's first {kept.tree_size} entries are not those it signed "
            "(an entry was edited or replaced, and the hashes after it recomputed)"
        )
    return ""


@app.command("consistency")
def consistency(
    old: Path = typer.Argument(..., help="The earlier checkpoint you kept (JSON)."),
    new: Path = typer.Argument(..., help="A later checkpoint (JSON)."),
    proof: Path | None = typer.Option(
        None,
        "--proof",
        help="The consistency proof (GET /v1/journal/proofs/consistency); without it, "
        "the proof is hashed from the database's entries.",
    ),
    public_key_hex: str | None = PUBLIC_KEY_OPTION,
    key_file: Path | None = KEY_FILE_OPTION,
    database: str | None = DATABASE_OPTION,
) -> None:
    """Check that the NEW checkpoint's journal starts with the OLD one's, unchanged:
    exit 0 when it does, 1 when the journal was truncated or rewritten between them."""
    with errors_as_exit():
        if proof is not None or public_key_hex is not None or key_file is not None:
            trusted = _trusted_key(public_key_hex, key_file)
        else:
            trusted = ""
        db = Database(settings_for(database).database_url) if proof is None else None
        try:
            if db is not None and not trusted:
                with db.read() as session:
                    trusted = public_key(session)
            bodies = []
            for path in (old, new):
                body, problem = read_checkpoint(_parse(_read_text(path), path), trusted)
                if body is None:
                    raise ValidationError(
                        f"{path} is not a checkpoint signed by that key: {problem}"
                    )
                bodies.append(body)
            first, second = bodies
            if proof is not None:
                hashes = list(_parse(_read_text(proof), proof).get("proof") or [])
                problem = check_consistency(first, second, hashes)
            else:
                assert db is not None
                problem = _consistency_from(db, first, second)
        finally:
            if db is not None:
                db.dispose()
    if problem is not None:
        print(f"NOT consistent: {problem}")
        raise typer.Exit(1)
    print(
        f"consistent: the {second.tree_size} entries of {new} begin with the "
        f"{first.tree_size} entries of {old}, unchanged"
    )


def _consistency_from(db: Database, first: CheckpointBody, second: CheckpointBody) -> str | None:
    if second.tree_size < first.tree_size:
        return check_consistency(first, second, [])
    leaves = entry_leaves(db, second.tree_size)
    if len(leaves) < second.tree_size:
        return (
            f"the journal holds {len(leaves)} entries, fewer than the {second.tree_size} "
            "the new checkpoint signed: it was truncated"
        )
    if merkle.tree_hash(leaves) != second.root:
        return (
            f"the journal's first {second.tree_size} entries are not those the new "
            "checkpoint signed"
        )
    return check_consistency(
        first, second, [h.hex() for h in merkle.consistency_proof(leaves, first.tree_size)]
    )


@app.command("checkpoint")
def checkpoint(database: str | None = DATABASE_OPTION) -> None:
    """Make a signed checkpoint of the journal now (or print the last one, when nothing
    was added since) as JSON: keep it to hold the journal to later."""
    with errors_as_exit():
        settings = settings_for(database)
        db = Database(settings.database_url)
        try:
            document = TransparencyLog(db, SystemClock()).checkpoint()
        finally:
            db.dispose()
    print(json.dumps(document, indent=2))


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


# -- proof: the service key, receipts and exports, checked offline -------------------------

receipt_app = typer.Typer(help="Check signed receipts offline.", no_args_is_help=True)
export_app = typer.Typer(help="Check journal exports offline.", no_args_is_help=True)
app.add_typer(receipt_app, name="receipt")
app.add_typer(export_app, name="export")


@app.command("key")
def key(database: str | None = DATABASE_OPTION) -> None:
    """Print the service's public key (Ed25519, hex), to give to the parties."""
    with errors_as_exit():
        db = Database(settings_for(database).database_url)
        path = db.url.database
        try:
            if db.is_sqlite and path and path != ":memory:" and not Path(path).exists():
                raise NotFoundError(f"there is no database file {path}; check the database URL")
            with db.read() as session:
                print(public_key(session))
        finally:
            db.dispose()


def _trusted_key(public_key_hex: str | None, key_file: Path | None) -> str:
    if (public_key_hex is None) == (key_file is None):
        raise ValidationError(
            "give the service's public key you took beforehand, with --public-key HEX or "
            "--key-file FILE (the key inside a document proves nothing about it)"
        )
    if public_key_hex is not None:
        return public_key_hex
    assert key_file is not None
    text = _read_text(key_file).strip()
    if text.startswith("{"):
        return str(_parse(text, key_file).get("public_key", ""))
    return text


def _read_text(path: Path) -> str:
    if str(path) == "-":
        return sys.stdin.read()
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise NotFoundError(f"cannot read {path}: {exc.strerror}") from None


def _parse(text: str, path: Path) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ValidationError(f"{path} is not JSON ({exc})") from None


@receipt_app.command("verify")
def verify_receipt(
    file: Path = typer.Argument(..., help="A receipt as JSON ('-': standard input)."),
    public_key_hex: str | None = PUBLIC_KEY_OPTION,
    key_file: Path | None = KEY_FILE_OPTION,
) -> None:
    """Check one receipt's signature with only the public key: exit 0 valid, 1 not."""
    with errors_as_exit():
        trusted = _trusted_key(public_key_hex, key_file)
        document = _parse(_read_text(file), file)
        problem = verify_signed(document, trusted, RECEIPT_TYPE)
        if problem is None:
            problem = "; ".join(log_problems(document, trusted)) or None
    if problem is not None:
        print(f"receipt NOT valid: {problem}")
        raise typer.Exit(1)
    body = document["body"]
    item, position = body["item"], body["journal"]
    print(
        f"receipt valid: {item['kind']} {item['id']} {body['event']} to {body['party']} at "
        f"{body['at']}; item hash {item['hash']}; journal entry {position['seq']} "
        f"(hash {position['hash']})"
    )


@export_app.command("verify")
def verify_export_file(
    file: Path = typer.Argument(..., help="An export (GET /v1/journal/export; '-': stdin)."),
    public_key_hex: str | None = PUBLIC_KEY_OPTION,
    key_file: Path | None = KEY_FILE_OPTION,
) -> None:
    """Check a journal export offline: the signed statement, every entry's hash and the
    links between neighbours, every receipt's signature and journal position, and the
    items' hashes. Exit 0 when all hold, 1 listing what does not."""
    with errors_as_exit():
        trusted = _trusted_key(public_key_hex, key_file)
        document = _parse(_read_text(file), file)
        check = verify_export(document, trusted)
        problems = [*check.problems, *log_problems(document, trusted)]
    summary = (
        f"party {check.party}: {check.entries} entries, {check.receipts} receipts, "
        f"{check.items} items; signed head at entry {check.head_seq}"
    )
    if not problems:
        print(f"export valid: {summary}")
        print(
            "(a slice: entries of other parties are not in it; checking that these entries "
            "lead to the signed head needs the whole chain)"
        )
        return
    print(f"export NOT valid: {summary}")
    for problem in problems:
        print(f"  - {problem}")
    raise typer.Exit(1)

"""``deconfliction party``: create parties, manage their tokens, set their limits and how
their feeds are read (an administrator's job); ``party key``: make, register, list and
revoke the keys parties sign requests with."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rich.table import Table

from deconfliction.cli.context import (
    DATABASE_OPTION,
    console,
    errors_as_exit,
    open_database,
    settings_for,
)
from deconfliction.clock import SystemClock
from deconfliction.errors import ValidationError
from deconfliction.limits import LIMIT_NAMES, PartyLimits
from deconfliction.parties import Registry, TokenInfo
from deconfliction.party_feeds import FEED_NAMES, PartyFeeds
from deconfliction.party_keys import PartyKeys
from deconfliction.party_values import PartyValues, check_name, parse_assignment
from deconfliction.settings import Settings
from deconfliction.signatures import load_private_key, public_key_hex, sign_request
from deconfliction.store.database import Database

__all__ = ["app"]


@contextmanager
def _registry(database: str | None) -> Iterator[Registry]:
    """The party registry on the database (migrated), closed afterwards."""
    db = open_database(settings_for(database))
    try:
        yield Registry(db, SystemClock())
    finally:
        db.dispose()


app = typer.Typer(
    help="Create parties, manage their bearer tokens, set their limits and feed settings.",
    no_args_is_help=True,
)
tokens = typer.Typer(
    help="Issue, list, rotate and revoke a party's bearer tokens (each journaled).",
    no_args_is_help=True,
)
app.add_typer(tokens, name="token")

_EXPIRES = typer.Option(
    None, "--expires-in", min=1, help="Seconds the token is valid (default: until revoked)."
)


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


@app.command("list")
def list_parties(database: str | None = DATABASE_OPTION) -> None:
    """List the parties and their roles."""
    with errors_as_exit(), _registry(database) as registry:
        parties = registry.all()
    table = Table("name", "role")
    for party in parties:
        table.add_row(party.name, party.role.value)
    console.print(table)


@tokens.command("issue")
def issue_token(
    name: str = typer.Argument(..., help="An existing party's name."),
    expires_in: float | None = _EXPIRES,
    database: str | None = DATABASE_OPTION,
) -> None:
    """Issue a further bearer token for a party and print it (shown once)."""
    with errors_as_exit(), _registry(database) as registry:
        info, value = registry.issue_token(name, expires_in)
    console.print(f"token {info.id} of [bold]{info.party}[/]{_until(info)}")
    print(value)


@tokens.command("rotate")
def rotate_tokens(
    name: str = typer.Argument(..., help="An existing party's name."),
    expires_in: float | None = _EXPIRES,
    database: str | None = DATABASE_OPTION,
) -> None:
    """Issue a party a fresh token and revoke all its others; print the new one."""
    with errors_as_exit(), _registry(database) as registry:
        info, value = registry.rotate(name, expires_in)
    console.print(f"token {info.id} of [bold]{info.party}[/]{_until(info)}; its others revoked")
    print(value)


@tokens.command("revoke")
def revoke_token(
    token_id: int = typer.Argument(..., help="The token's id (see 'party token list')."),
    database: str | None = DATABASE_OPTION,
) -> None:
    """Revoke one token: refused within DECONFLICTION_AUTH_CACHE_S, its streams closed."""
    with errors_as_exit(), _registry(database) as registry:
        info = registry.revoke(token_id)
    console.print(f"token {info.id} of [bold]{info.party}[/] revoked")


@tokens.command("list")
def list_tokens(
    name: str = typer.Argument(..., help="An existing party's name."),
    database: str | None = DATABASE_OPTION,
) -> None:
    """List a party's tokens (ids and times; a token's value is never shown again)."""
    with errors_as_exit(), _registry(database) as registry:
        infos = registry.tokens(name)
    now = SystemClock().now()
    table = Table("id", "issued", "expires", "revoked", "state")
    for t in infos:
        state = "active" if t.is_active(now) else ("revoked" if t.revoked_at else "expired")
        table.add_row(
            str(t.id), _time(t.created_at), _time(t.expires_at), _time(t.revoked_at), state
        )
    console.print(table)


def _time(moment: datetime | None) -> str:
    return "-" if moment is None else f"{moment:%Y-%m-%d %H:%M:%S}Z"


def _until(info: TokenInfo) -> str:
    return "" if info.expires_at is None else f", valid until {_time(info.expires_at)}"


_LIMITS_HELP = (
    "Show a party's limits (rate, quotas, notice window) or set some, journaled: "
    + ", ".join(LIMIT_NAMES)
    + ". A change holds in running services within DECONFLICTION_AUTH_CACHE_S seconds."
)
_FEED_HELP = (
    "Show how a party's feed is read (the prediction model for its aircraft) or set "
    "some of it, journaled: "
    + ", ".join(FEED_NAMES)
    + " (metres, m/s, seconds; the defaults are the DECONFLICTION_TRACK_* settings). "
    "A change holds in running services within DECONFLICTION_AUTH_CACHE_S seconds."
)
_SET = typer.Option([], "--set", help="NAME=VALUE: set one of the party's values (repeatable).")
_RESET = typer.Option(
    [], "--reset", help="NAME: put a value back to the service's default (repeatable)."
)


@app.command("limits", help=_LIMITS_HELP)
def limits(
    name: str = typer.Argument(..., help="An existing party's name."),
    assign: list[str] = _SET,
    reset: list[str] = _RESET,
    database: str | None = DATABASE_OPTION,
) -> None:
    """Show a party's limits, or set some (see _LIMITS_HELP)."""
    _show_or_set(PartyLimits, LIMIT_NAMES, "limit", name, assign, reset, database)


@app.command("feed", help=_FEED_HELP)
def feed(
    name: str = typer.Argument(..., help="An existing party's name."),
    assign: list[str] = _SET,
    reset: list[str] = _RESET,
    database: str | None = DATABASE_OPTION,
) -> None:
    """Show a party's feed settings, or set some (see _FEED_HELP)."""
    _show_or_set(PartyFeeds, FEED_NAMES, "feed setting", name, assign, reset, database)


def _show_or_set(
    kind: Callable[[Database, SystemClock, Settings], PartyValues[Any]],
    names: tuple[str, ...],
    what: str,
    name: str,
    assign: list[str],
    reset: list[str],
    database: str | None,
) -> None:
    """Set and reset some of a party's values of one kind (checked before the store is
    opened: a bad one changes nothing), then print the values in force."""
    settings = settings_for(database)
    with errors_as_exit():
        values = dict(parse_assignment(a, names, what) for a in assign)
        for key in reset:
            check_name(key, names, what)
        db = open_database(settings)
        try:
            store = kind(db, SystemClock(), settings)
            if values or reset:
                store.set(name, values, reset)
            own = store.overrides(name)
        finally:
            db.dispose()
    defaults = store.defaults.as_dict()
    table = Table(what, "in force", "default", "set for the party", title=f"{what}s of {name}")
    for key in names:
        value = own.get(key)
        shown = f"{defaults[key]:g}" if value is None else f"{value:g}"
        table.add_row(key, shown, f"{defaults[key]:g}", "-" if value is None else "yes")
    console.print(table)


# -- keys a party signs its requests with (RFC 9421) ----------------------------------------

key_app = typer.Typer(
    help="A party's Ed25519 keys, with which it signs its requests (RFC 9421).",
    no_args_is_help=True,
)
app.add_typer(key_app, name="key")


@contextmanager
def _keys(database: str | None) -> Iterator[tuple[Registry, PartyKeys]]:
    db = open_database(settings_for(database))
    try:
        yield Registry(db, SystemClock()), PartyKeys(db, SystemClock())
    finally:
        db.dispose()


@key_app.command("new")
def new_key(
    file: Path = typer.Argument(..., help="Where to write the private key (PEM); keep it."),
) -> None:
    """Make an Ed25519 key pair: the private key into FILE, the public key (hex) printed,
    to register with 'party key add' or POST /v1/parties/me/keys."""
    with errors_as_exit():
        if file.exists():
            raise ValidationError(f"{file} exists; choose a new file (keys are not overwritten)")
        key = Ed25519PrivateKey.generate()
        file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        file.chmod(0o600)
    print(public_key_hex(key))


@key_app.command("add")
def add_key(
    name: str = typer.Argument(..., help="The party's name."),
    public_key: str = typer.Argument(..., help="Its Ed25519 public key, 64 hex digits."),
    key_id: str | None = typer.Option(None, "--keyid", help="The keyid (default: made)."),
    database: str | None = DATABASE_OPTION,
) -> None:
    """Register a public key for a party; prints the keyid its signatures name."""
    with errors_as_exit(), _keys(database) as (registry, keys):
        view = keys.add(registry.get(name), public_key, key_id)
    print(view.key_id)


@key_app.command("revoke")
def revoke_key(
    name: str = typer.Argument(..., help="The party's name."),
    key_id: str = typer.Argument(..., help="The keyid to revoke."),
    database: str | None = DATABASE_OPTION,
) -> None:
    """Revoke a party's key: requests signed with it are refused from now on."""
    with errors_as_exit(), _keys(database) as (registry, keys):
        keys.revoke(registry.get(name), key_id)
    console.print(f"revoked {key_id}")


@key_app.command("list")
def list_keys(
    name: str = typer.Argument(..., help="The party's name."),
    database: str | None = DATABASE_OPTION,
) -> None:
    """List a party's keys, revoked ones included."""
    with errors_as_exit(), _keys(database) as (registry, keys):
        views = keys.of(registry.get(name))
    table = Table("keyid", "public key", "created", "revoked")
    for v in views:
        revoked = "" if v.revoked_at is None else v.revoked_at.isoformat(timespec="seconds")
        table.add_row(v.key_id, v.public_key, v.created_at.isoformat(timespec="seconds"), revoked)
    console.print(table)


@key_app.command("sign")
def sign(
    method: str = typer.Argument(..., help="The request's method, e.g. POST."),
    url: str = typer.Argument(..., help="The request's full URL."),
    body: Path | None = typer.Argument(None, help="The body file, sent as is ('-': stdin)."),
    key: Path = typer.Option(..., "--key", help="Your private key (PEM, or hex)."),
    key_id: str = typer.Option(..., "--keyid", help="The keyid you registered it under."),
) -> None:
    """Print the headers that sign a request (Content-Digest, Signature-Input, Signature),
    one per line, to add to it (curl -H); they are good for 5 minutes."""
    with errors_as_exit():
        data = (
            b""
            if body is None
            else (sys.stdin.buffer.read() if str(body) == "-" else body.read_bytes())
        )
        headers = sign_request(method, url, data, load_private_key(key), key_id)
    for name, value in headers.items():
        print(f"{name}: {value}")

"""``deconfliction agreement``: set and list the agreements between parties (an
administrator's job; both parties see them over the API)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from deconfliction.agreements.service import AgreementService, AgreementView, agreement_document
from deconfliction.agreements.terms import Terms
from deconfliction.cli.context import (
    DATABASE_OPTION,
    console,
    errors_as_exit,
    open_database,
    settings_for,
)
from deconfliction.clock import SystemClock
from deconfliction.errors import ValidationError

__all__ = ["app", "parse_tier", "terms_from"]

app = typer.Typer(help="Set and list agreements between two parties.", no_args_is_help=True)


@contextmanager
def _agreements(database: str | None) -> Iterator[AgreementService]:
    """The agreement service on the database (migrated), closed afterwards."""
    db = open_database(settings_for(database))
    try:
        yield AgreementService(db, SystemClock())
    finally:
        db.dispose()


def parse_tier(text: str) -> dict[str, Any]:
    """A ladder tier from ``NAME:DEADLINE_S[:CONTACT,CONTACT...]``.

    >>> parse_tier("duty officer:300:+972 3 555 0100,ops@example.org")["contacts"]
    ['+972 3 555 0100', 'ops@example.org']
    """
    parts = text.split(":", 2)
    if len(parts) < 2:
        raise ValidationError(
            f"--tier {text!r} is not NAME:DEADLINE_S[:CONTACT,...], "
            "e.g. 'duty officer:300:+1 555 0100'"
        )
    try:
        deadline = float(parts[1])
    except ValueError:
        raise ValidationError(f"--tier {text!r}: deadline {parts[1]!r} is not seconds") from None
    contacts = [c.strip() for c in parts[2].split(",")] if len(parts) == 3 else []
    return {"name": parts[0], "deadline_s": deadline, "contacts": contacts}


def _ack_deadline(text: str) -> tuple[str, float]:
    priority, _, seconds = text.partition("=")
    try:
        return priority.strip(), float(seconds)
    except ValueError:
        raise ValidationError(
            f"--ack-deadline {text!r} is not PRIORITY=SECONDS, e.g. flash=120"
        ) from None


def terms_from(base: dict[str, Any], changes: dict[str, Any]) -> Terms:
    """``base`` terms JSON with ``changes`` applied (a ``None`` value changes nothing;
    nested objects merge), validated."""
    merged = dict(base)
    for key, value in changes.items():
        if value is None:
            continue
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return Terms.from_json(merged)


@app.command("set")
def set_agreement(
    first: str = typer.Argument(..., help="One party's name."),
    second: str = typer.Argument(..., help="The other party's name."),
    terms_file: Path | None = typer.Option(
        None,
        "--terms",
        exists=True,
        dir_okay=False,
        help="A JSON file of terms (see 'agreement show'); flags below override it.",
    ),
    min_lead_time_s: float | None = typer.Option(None, help="Minimum notice lead time, s."),
    require_acknowledgment: bool | None = typer.Option(
        None, help="Activation needs the counterpart's acknowledgment."
    ),
    require_approval: bool | None = typer.Option(
        None, help="Notices inside an authority's areas need its approval."
    ),
    buffer_horizontal_m: float | None = typer.Option(None, help="Strategic buffer, m."),
    buffer_vertical_m: float | None = typer.Option(None, help="Strategic buffer, m."),
    max_footprint_area_m2: float | None = typer.Option(None, help="Largest footprint, m²."),
    visibility: str | None = typer.Option(None, help="overlap (default) or full."),
    notice_horizon_s: float | None = typer.Option(
        None, help="How far ahead a notice of either party may end, s (widens their limits)."
    ),
    notice_max_duration_s: float | None = typer.Option(
        None, help="The longest window of a notice of either party, s (widens their limits)."
    ),
    disclosure: str | None = typer.Option(
        None, help="anonymous, named (default) or full: what each side learns of the other."
    ),
    exact_after_s: float | None = typer.Option(
        None, help="Coarse cells until this long before a conflict starts, then exact, s."
    ),
    ack_deadline: list[str] = typer.Option(
        [], help="PRIORITY=SECONDS (routine, urgent, flash); repeat for each."
    ),
    tier: list[str] = typer.Option(
        [], help="Ladder tier NAME:DEADLINE_S[:CONTACT,...]; repeat in order (replaces it)."
    ),
    database: str | None = DATABASE_OPTION,
) -> None:
    """Create or change the agreement of two parties (a new version, journaled; both
    parties get an agreement.updated event). Unset terms keep their current value."""
    with errors_as_exit(), _agreements(database) as service:
        if terms_file is not None:
            try:
                base = json.loads(terms_file.read_text())
            except json.JSONDecodeError as exc:
                raise ValidationError(f"{terms_file} is not valid JSON ({exc})") from None
        else:
            current = service.get(first, second)
            base = (Terms() if current is None else current.terms).to_json()
        # visibility full and disclosure full are one setting: one flag moves both
        if disclosure is not None and visibility is None:
            visibility = "full" if disclosure == "full" else "overlap"
        elif visibility is not None and disclosure is None:
            if visibility == "full":
                disclosure = "full"
            elif base.get("disclosure") == "full":
                disclosure = "named"
        terms = terms_from(
            base,
            {
                "min_lead_time_s": min_lead_time_s,
                "activation_requires_acknowledgment": require_acknowledgment,
                "authority_approval_required": require_approval,
                "buffers": {
                    k: v
                    for k, v in (
                        ("horizontal_m", buffer_horizontal_m),
                        ("vertical_m", buffer_vertical_m),
                    )
                    if v is not None
                }
                or None,
                "max_footprint_area_m2": max_footprint_area_m2,
                "visibility": visibility,
                "notice_horizon_s": notice_horizon_s,
                "notice_max_duration_s": notice_max_duration_s,
                "disclosure": disclosure,
                "exact_after_s": exact_after_s,
                "ack_deadline_s": dict(_ack_deadline(a) for a in ack_deadline) or None,
                "ladder": [parse_tier(t) for t in tier] or None,
            },
        )
        view = service.set(first, second, terms)
    console.print(f"{view.label} set")


@app.command("list")
def list_agreements(database: str | None = DATABASE_OPTION) -> None:
    """List every agreement and its main terms."""
    with errors_as_exit(), _agreements(database) as service:
        views = service.all()
    table = Table("parties", "version", "min lead", "ack", "approval", "disclosure", "ladder")
    for view in views:
        t = view.terms
        table.add_row(
            f"{view.parties[0]} ↔ {view.parties[1]}",
            str(view.version),
            f"{t.min_lead_time_s / 60:g} min",
            "yes" if t.activation_requires_acknowledgment else "no",
            "yes" if t.authority_approval_required else "no",
            t.disclosure.value,
            " → ".join(f"{tier.name} ({tier.deadline_s:g} s)" for tier in t.ladder) or "-",
        )
    console.print(table)


@app.command("show")
def show(
    first: str = typer.Argument(..., help="One party's name."),
    second: str = typer.Argument(..., help="The other party's name."),
    database: str | None = DATABASE_OPTION,
) -> None:
    """Print one agreement as JSON (its ``terms`` can be edited and given to --terms)."""
    with errors_as_exit(), _agreements(database) as service:
        view: AgreementView | None = service.get(first, second)
        if view is None:
            raise ValidationError(
                f"{first!r} and {second!r} have no agreement; set one with 'agreement set'"
            )
    print(json.dumps(agreement_document(view), indent=2, ensure_ascii=False))

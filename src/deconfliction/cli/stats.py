"""``deconfliction stats``: lead times, acknowledgment times and escalations per party pair."""

from __future__ import annotations

import json
from dataclasses import asdict

import typer
from rich.table import Table

from deconfliction.cli.context import (
    DATABASE_OPTION,
    console,
    errors_as_exit,
    open_database,
    settings_for,
)
from deconfliction.stats import StatsService

__all__ = ["stats"]


def _s(value: float | None) -> str:
    """Seconds for people: ``-`` for none, else s, min or h."""
    if value is None:
        return "-"
    if abs(value) < 120:
        return f"{value:.0f} s"
    if abs(value) < 7200:
        return f"{value / 60:.1f} min"
    return f"{value / 3600:.1f} h"


def stats(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    database: str | None = DATABASE_OPTION,
) -> None:
    """Statistics of every party pair (sender → recipient), for administrators."""
    with errors_as_exit():
        db = open_database(settings_for(database))
        try:
            rows = StatsService(db).pairs()
        finally:
            db.dispose()
    if as_json:
        print(json.dumps([asdict(r) for r in rows], indent=2, ensure_ascii=False))
        return
    table = Table(
        "sender → recipient",
        "notices",
        "short",
        "lead min",
        "lead median",
        "alert ack p50",
        "alert ack p95",
        "msg ack p50",
        "msg ack p95",
        "escalations",
        "unacked",
        title="lead and response times per party pair",
    )
    for r in rows:
        table.add_row(
            f"{r.sender} → {r.recipient}",
            str(r.notices),
            str(r.short_notices),
            _s(r.lead_time_min_s),
            _s(r.lead_time_median_s),
            _s(r.alert_ack_p50_s),
            _s(r.alert_ack_p95_s),
            _s(r.message_ack_p50_s),
            _s(r.message_ack_p95_s),
            str(r.escalations),
            str(r.unacknowledged),
        )
    console.print(table)

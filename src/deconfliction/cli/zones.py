"""``deconfliction zones``: import an authority's standing zones from OpenAIR or GeoJSON
(filed as its notices, see :mod:`deconfliction.notices.zones`) and list them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from deconfliction.cli.context import (
    DATABASE_OPTION,
    console,
    errors_as_exit,
    open_database,
    settings_for,
)
from deconfliction.clock import SystemClock
from deconfliction.core.footprint import FootprintLimits
from deconfliction.errors import ValidationError
from deconfliction.feeds import AirspaceRecord, RecordError
from deconfliction.feeds.repair import (
    DEFAULT_REPAIR_MAX_FRACTION,
    DEFAULT_REPAIR_MAX_M2,
    RepairPolicy,
)
from deconfliction.notices.service import NoticeService
from deconfliction.notices.zones import (
    DEFAULT_AGL_MARGIN_M,
    DEFAULT_HORIZON_DAYS,
    DEFAULT_ZONE_MAX_AREA_M2,
    FiledZone,
    FilingOutcome,
    Horizon,
    ZoneDraft,
    ZoneFormat,
    ZonePlan,
    ZoneReport,
    ZoneRules,
    check_authority,
    file_zones,
    plan_zones,
    read_zone_file,
    start_of_day,
)
from deconfliction.parties import PartyRef, Registry
from deconfliction.settings import Settings

__all__ = ["app", "parse_classes", "parse_start"]

app = typer.Typer(
    help="Import an authority's standing zones (OpenAIR, GeoJSON) as its notices.",
    no_args_is_help=True,
)


def parse_start(text: str) -> datetime:
    """The horizon start from ``--from``: a date (00:00 UTC that day) or a time with a zone.

    >>> parse_start("2025-06-01").isoformat()
    '2025-06-01T00:00:00+00:00'
    >>> parse_start("2025-06-01T06:30+02:00").isoformat()
    '2025-06-01T04:30:00+00:00'
    """
    try:
        if len(text.strip()) == 10:
            day = date.fromisoformat(text.strip())
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(
            f"--from {text!r} is not a date or time; write 2025-06-01 or 2025-06-01T06:00Z"
        ) from None
    if moment.tzinfo is None:
        raise ValidationError(f"--from {text!r} has no time zone; give it in UTC, e.g. {text}Z")
    return moment.astimezone(UTC)


def parse_classes(values: list[str]) -> frozenset[str] | None:
    """The classes of ``--class R,D,P`` (repeatable); ``None`` when none is given.

    >>> sorted(parse_classes(["r, q", "P"]) or ())
    ['P', 'Q', 'R']
    """
    classes = frozenset(c.strip().upper() for v in values for c in v.split(",") if c.strip())
    return classes or None


@dataclass(frozen=True)
class _Store:
    settings: Settings
    registry: Registry
    notices: NoticeService


@contextmanager
def _store(database: str | None) -> Iterator[_Store]:
    """The registry and the notice service on the database (migrated), closed afterwards."""
    settings = settings_for(database)
    db = open_database(settings)
    clock = SystemClock()
    try:
        yield _Store(settings, Registry(db, clock), NoticeService(db, clock, settings))
    finally:
        db.dispose()


def _authority(store: _Store, name: str) -> PartyRef:
    return check_authority(store.registry.get(name))


def _volumes(zones: list[ZoneDraft]) -> int:
    return sum(len(z.draft.volumes) for z in zones)


def _summary(plan: ZonePlan, report: ZoneReport | None) -> Table:
    """Zones (records), notices and volumes per outcome."""
    table = Table("outcome", "zones", "notices", "volumes", title=f"zones of {plan.source.name}")

    def row(label: str, zones: list[ZoneDraft]) -> None:
        records = len({z.record for z in zones})
        table.add_row(label, str(records), str(len(zones)), str(_volumes(zones)))

    if report is None:
        row("to file (dry run)", list(plan.zones))
    else:
        for outcome in FilingOutcome:
            row(outcome.value, [f.zone for f in report.filed if f.outcome == outcome])
    skipped = Counter(s.reason for s in plan.skipped)
    for reason, count in skipped.items():
        table.add_row(f"skipped: {reason.value}", str(count), "-", "-")
    table.add_row("errors: not readable", str(len(plan.errors)), "-", "-")
    return table


def _errors(errors: tuple[RecordError, ...]) -> Table:
    table = Table("where", "zone", "reason", title="errors")
    for error in errors:
        table.add_row(escape(str(error.origin)), escape(error.name), escape(error.message))
    return table


def _repairs(records: list[AirspaceRecord]) -> Table:
    table = Table(title="repaired outlines (they crossed themselves)")
    table.add_column("where", no_wrap=True)
    table.add_column("zone")
    table.add_column("kept")
    table.add_column("km² drawn → kept", justify="right")
    table.add_column("changed", justify="right")
    for record in records:
        repair = record.repair
        assert repair is not None
        table.add_row(
            escape(str(record.origin)),
            escape(record.name),
            f"{repair.kept} of {repair.parts}",
            f"{repair.drawn_m2 / 1e6:,.2f} → {repair.kept_m2 / 1e6:,.2f}",
            f"{repair.changed_m2 / 1e6:,.3f} km² ({repair.changed_fraction:.3%})",
        )
    return table


def _notes(plan: ZonePlan, report: ZoneReport | None) -> list[str]:
    rules = plan.rules
    days = (rules.horizon.end - rules.horizon.start).total_seconds() / 86_400
    notes = [
        f"horizon {rules.horizon.start:%Y-%m-%d %H:%M}Z to {rules.horizon.end:%Y-%m-%d %H:%M}Z "
        f"({days:g} days)"
    ]
    if plan.raised:
        how = (
            "the default, Mount Everest: pass the highest terrain of the zones' region"
            if rules.agl_margin_m == DEFAULT_AGL_MARGIN_M
            else "--agl-margin-m"
        )
        notes.append(
            f"zones with a ceiling above ground: {plan.raised}, raised by "
            f"{rules.agl_margin_m:,.0f} m ({how})"
        )
    floored = len({z.record for z in plan.zones if z.draft.volumes[0].floor_m is not None})
    if floored:
        notes.append(f"zones with a floor (floor_m, --floor-m): {floored}")
    if report is not None:
        conflicts = sum(f.conflicts for f in report.filed if f.outcome == FilingOutcome.FILED)
        notes.append(f"conflicts with other parties' notices: {conflicts}")
    return notes


def _show(plan: ZonePlan, report: ZoneReport | None) -> None:
    console.print(_summary(plan, report))
    repaired = [r for r in plan.source.airspace.records if r.repair is not None]
    if repaired:
        console.print(_repairs(repaired))
    errors = report.errors if report is not None else plan.errors
    if errors:
        console.print(_errors(errors))
    for note in _notes(plan, report):
        console.print(escape(note))


_IMPORT_HELP = (
    "Import the zones of FILE as notices of the authority PARTY.\n\n"
    "A zone with activation windows becomes one volume per window, clipped to the horizon "
    "(--from, --days); a zone without them stands for the whole horizon; a zone marked "
    "AA NONE (no activation yet) is skipped. Ceilings given above ground are raised by "
    "--agl-margin-m; floors above ground are kept (lower is safe). A zone's floor_m "
    "(GeoJSON), or --floor-m for zones from the surface, is the ground under it: the "
    "tracks service predicts no aircraft there below it, and the zone's limits given "
    "above ground stand on it.\n\n"
    "Re-importing the same file with the same horizon files nothing new: each zone is "
    "filed under an Idempotency-Key made from its content. An outline that crosses "
    "itself is repaired (its polygonal part kept) when that changes its area by less "
    "than --repair-max-percent and less than --repair-max-km2, and each repair is listed "
    "with the area changed; --strict refuses such outlines instead. Records that cannot be read, "
    "or that the service refuses, are listed with their line or feature; the others are "
    "filed. Exits 2 when the file cannot be read or PARTY is not an authority."
)


@app.command("import", help=_IMPORT_HELP)
def import_zones(
    file: Path = typer.Argument(..., help="An OpenAIR or GeoJSON file of zones."),
    party: str = typer.Option(..., "--party", "-p", help="The authority that owns the zones."),
    fmt: ZoneFormat = typer.Option(
        ZoneFormat.AUTO, "--format", help="openair, geojson or auto (by name, then content)."
    ),
    start: str | None = typer.Option(
        None,
        "--from",
        help="Start of the horizon: a date (00:00 UTC) or an ISO time with a zone "
        "(default: 00:00 UTC today, so a re-run the same day files nothing new).",
    ),
    days: int = typer.Option(DEFAULT_HORIZON_DAYS, "--days", min=1, help="Horizon length, days."),
    agl_margin_m: float = typer.Option(
        DEFAULT_AGL_MARGIN_M,
        "--agl-margin-m",
        help="Metres added to ceilings given above ground (the file takes the ground as "
        "0 m AMSL): the highest terrain of the zones' region, e.g. 2864 for Slovenia "
        "(Triglav), 4811 for France (Mont Blanc); the default, Mount Everest, holds anywhere.",
    ),
    max_area_km2: float = typer.Option(
        DEFAULT_ZONE_MAX_AREA_M2 / 1e6,
        "--max-area-km2",
        help="Largest footprint read, km² (room for FIRs; standing zones are exempt from "
        "the largest footprint agreements allow).",
    ),
    classes: list[str] = typer.Option(
        [],
        "--class",
        "-c",
        help="Import only these classes or types, e.g. R,Q,P (repeatable; in standard "
        "OpenAIR, Q is danger and D is ATC class D).",
    ),
    strict: bool = typer.Option(
        False, "--strict", help="Refuse outlines that cross themselves; repair none."
    ),
    repair_max_percent: float = typer.Option(
        DEFAULT_REPAIR_MAX_FRACTION * 100,
        "--repair-max-percent",
        help="A repair must change a zone's area by less than this share of it, %.",
    ),
    repair_max_km2: float = typer.Option(
        DEFAULT_REPAIR_MAX_M2 / 1e6,
        "--repair-max-km2",
        help="... and by less than this area, km² (both must hold).",
    ),
    floor_m: float | None = typer.Option(
        None,
        "--floor-m",
        help="The ground elevation under the zones whose lower limit is the surface (GND, "
        "SFC) and which give no floor_m of their own, metres in the traffic feeds' altitude "
        "reference (the field elevation of a CTR): no aircraft inside is predicted below "
        "it, and their limits above ground stand on it.",
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Read and plan; file nothing."),
    database: str | None = DATABASE_OPTION,
) -> None:
    """Import the zones of FILE as notices of the authority PARTY (see _IMPORT_HELP)."""
    with errors_as_exit():
        if not max_area_km2 > 0:
            raise ValidationError(f"--max-area-km2 must be positive, not {max_area_km2}")
        if not (repair_max_percent >= 0 and repair_max_km2 >= 0):
            raise ValidationError(
                "--repair-max-percent and --repair-max-km2 must be 0 or more "
                "(--strict repairs nothing)"
            )
        repair = None if strict else RepairPolicy(repair_max_percent / 100, repair_max_km2 * 1e6)
        horizon_start = start_of_day(SystemClock().now()) if start is None else parse_start(start)
        horizon = Horizon.starting(horizon_start, days)
        selected = parse_classes(classes)
    with errors_as_exit(), _store(database) as store:
        authority = _authority(store, party)
        limits = FootprintLimits(max_area_km2 * 1e6, store.settings.max_vertices)
        source = read_zone_file(file, fmt, limits, repair)
        rules = ZoneRules(
            horizon, agl_margin_m, selected, store.settings.max_volumes_per_notice, floor_m
        )
        plan = plan_zones(source, rules)
        report = None
        if not dry_run:
            report = _file_with_progress(store, authority, plan)
    _show(plan, report)


def _file_with_progress(store: _Store, authority: PartyRef, plan: ZonePlan) -> ZoneReport:
    columns = (
        TextColumn("filing zones"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("file", total=len(plan.zones))

        def advance(_: FiledZone) -> None:
            progress.advance(task)

        return file_zones(store.notices, authority, plan, advance)


@app.command("list")
def list_zones(
    party: str = typer.Option(..., "--party", "-p", help="The authority whose notices to list."),
    limit: int = typer.Option(100, "--limit", min=1, help="At most this many, newest first."),
    database: str | None = DATABASE_OPTION,
) -> None:
    """List an authority's notices (its imported zones among them), newest first."""
    with errors_as_exit(), _store(database) as store:
        authority = _authority(store, party)
        notices = store.notices.list_notices(authority, limit=limit)
    table = Table("title", "state", "volumes", "lower m", "upper m", "from", "to", "notice")
    for n in notices:
        table.add_row(
            escape(n.title),
            n.state.value,
            str(len(n.volumes)),
            f"{min(v.lower_m for v in n.volumes):,.0f}",
            f"{max(v.upper_m for v in n.volumes):,.0f}",
            f"{min(v.start for v in n.volumes):%Y-%m-%d %H:%M}Z",
            f"{max(v.end for v in n.volumes):%Y-%m-%d %H:%M}Z",
            n.id,
        )
    console.print(table)

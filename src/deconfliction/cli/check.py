"""``deconfliction check FILE.geojson``: every conflict in a file of volumes, offline.

No service and no database are needed: the check builds a throw-away store with the
service's own index and core (see :mod:`deconfliction.notices.offline`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from deconfliction.cli.context import console, err_console, errors_as_exit
from deconfliction.errors import ValidationError
from deconfliction.notices.offline import OfflineConflict, check_features, rfc3339
from deconfliction.settings import Settings

__all__ = ["check"]

PROGRESS_FROM = 200
"""Files with at least this many features get a progress bar (on stderr)."""


def check(
    file: Path = typer.Argument(
        ...,
        help="A GeoJSON FeatureCollection, one Feature per volume: a Polygon, or a Point "
        "with radius_m; properties party, notice, start, end (RFC 3339), lower_m, upper_m.",
        show_default=False,
    ),
    as_json: bool = typer.Option(
        False,
        "--json",
        help="Print a JSON list of {a, b, start, end, lower_m, upper_m}, sorted by (a, b).",
    ),
) -> None:
    """Print every conflicting pair of volumes of different parties in FILE."""
    with errors_as_exit():
        collection = _read(file)
        limits = Settings.from_env().footprint_limits
        count = _feature_count(collection)
        with Progress(
            TextColumn("checking"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
            disable=count < PROGRESS_FROM,
        ) as progress:
            task = progress.add_task("check", total=count)
            conflicts = check_features(
                collection, limits, lambda done: progress.update(task, completed=done)
            )
    if as_json:
        print(json.dumps([c.to_json() for c in conflicts], indent=2))
        return
    _show(conflicts, count)


def _read(file: Path) -> Any:
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationError(f"cannot read {file}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ValidationError(f"{file} is not UTF-8 text; GeoJSON is UTF-8 JSON") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"{file} is not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None


def _feature_count(collection: Any) -> int:
    features = collection.get("features") if isinstance(collection, dict) else None
    return len(features) if isinstance(features, list) else 0


def _show(conflicts: list[OfflineConflict], count: int) -> None:
    volumes = f"{count} volume{'s' if count != 1 else ''}"
    if not conflicts:
        console.print(f"no conflicts among {volumes}")
        return
    table = Table(
        "a",
        "party a",
        "notice a",
        "b",
        "party b",
        "notice b",
        "start (UTC)",
        "end (UTC)",
        "lower m",
        "upper m",
        title=f"{len(conflicts)} conflict{'s' if len(conflicts) != 1 else ''} among {volumes}",
    )
    for c in conflicts:
        table.add_row(
            str(c.a),
            Text(c.party_a),
            Text(c.notice_a),
            str(c.b),
            Text(c.party_b),
            Text(c.notice_b),
            rfc3339(c.start),
            rfc3339(c.end),
            f"{c.lower_m:g}",
            f"{c.upper_m:g}",
        )
    console.print(table)

"""How far a notice may reach: its window (it must end in the future, within the
horizon, and not last too long), its volumes, and the party's live notices.

The limits are the filer's (:class:`~deconfliction.limits.Limits`); the window's may
be widened by its agreements (``notice_horizon_s``, ``notice_max_duration_s``). An
authority's standing zones (airspace structure, ``zones import``) are exempt from the
window's limits and from the count of live notices; activity notices are not. Each
refusal names the limit in force (``limit`` and its value) in the problem.

>>> from datetime import UTC, datetime, timedelta
>>> now = datetime(2026, 3, 2, tzinfo=UTC)
>>> day, hour = (86_400.0, None), (3_600.0, None)
>>> check_window(now - timedelta(hours=2), now - timedelta(hours=1), now, day, hour)
Traceback (most recent call last):
...
deconfliction.errors.WindowEndedError: the notice's window ended at 2026-03-01T23:00:00+00:00, \
before now (2026-03-02T00:00:00+00:00); file notices of activity still to come
"""

from __future__ import annotations

from datetime import datetime

from deconfliction.core.units import Seconds
from deconfliction.errors import (
    BeyondHorizonError,
    QuotaExceededError,
    TooManyVolumesError,
    WindowEndedError,
    WindowTooLongError,
)

__all__ = ["check_active", "check_volumes", "check_window"]


Limit = tuple[Seconds, str | None]
"""A limit in seconds, and the agreement that set it (``None``: the party's own)."""


def check_window(
    start: datetime, end: datetime, now: datetime, horizon: Limit, max_duration: Limit
) -> None:
    """Refuse a window ``[start, end)`` that has ended, ends beyond ``now`` + the
    horizon or lasts longer than the maximum duration."""
    if end <= now:
        raise WindowEndedError(
            f"the notice's window ended at {end.isoformat()}, before now "
            f"({now.isoformat()}); file notices of activity still to come",
            end=end.isoformat(),
            now=now.isoformat(),
        )
    horizon_s, max_duration_s = horizon[0], max_duration[0]
    reach_s = (end - now).total_seconds()
    if reach_s > horizon_s:
        raise BeyondHorizonError(
            f"the notice ends {reach_s / 86_400:,.1f} days from now, beyond the horizon "
            f"of {horizon_s / 86_400:,.1f} days{_by(horizon)}; file it later, or split off "
            "what lies beyond",
            limit="notice_horizon_s",
            notice_horizon_s=horizon_s,
            ends_in_s=reach_s,
        )
    duration_s = (end - start).total_seconds()
    if duration_s > max_duration_s:
        raise WindowTooLongError(
            f"the notice's window lasts {duration_s / 86_400:,.1f} days, longer than "
            f"{max_duration_s / 86_400:,.1f} days{_by(max_duration)}; file shorter notices, one "
            "for each period of activity",
            limit="notice_max_duration_s",
            notice_max_duration_s=max_duration_s,
            duration_s=duration_s,
        )


def _by(limit: Limit) -> str:
    return f" (as the {limit[1]} allows)" if limit[1] else ""


def check_volumes(count: int, limit: int) -> None:
    """Refuse a notice of more than ``limit`` volumes."""
    if count > limit:
        raise TooManyVolumesError(
            f"a notice may have at most {limit} volumes, not {count}; split it into "
            "several notices",
            limit="max_volumes_per_notice",
            max_volumes_per_notice=limit,
            volumes=count,
        )


def check_active(party: str, live: int, limit: int) -> None:
    """Refuse one more live notice to a party that holds ``live`` of at most ``limit``."""
    if live >= limit:
        raise QuotaExceededError(
            f"party {party!r} holds {live} live notices, its limit of "
            f"{limit}; cancel notices it no longer needs, or ask the administrator for "
            "a larger quota (deconfliction party limits)",
            limit="max_active_notices",
            max_active_notices=limit,
            active=live,
        )

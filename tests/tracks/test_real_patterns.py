"""Pairs as the real recordings showed them (issue 9's quality benchmark): the warnings
the feed model must give, and the ones it must not flicker.

* Paris, 2021-10-07: an arrival on final and an aircraft rolling out on the runway
  beside it, whose feed says "on the ground" and "airborne" (at the runway's -61 m,
  16 to 100 kt) by turns every few seconds.
* Switzerland, 2018-08-01: one aircraft levelling at FL360 above another at FL350,
  reported 975 ft apart with a rate of -64 ft/min, its last report 8 s old.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from deconfliction.clock import ManualClock
from deconfliction.core.units import FOOT_M
from deconfliction.parties import PartyRef
from deconfliction.store.database import Database
from deconfliction.tracks.service import TrackService
from tests.tracks.test_service import SETTINGS, parties, report, state, tracks

__all__ = ["parties", "tracks"]  # fixtures shared with test_service


def _final_and_runway(
    tracks: TrackService, clock: ManualClock, parties: dict[str, PartyRef]
) -> list[int]:
    """Alpha's arrival descends at 4 m/s from 240 m towards Bravo's aircraft 3.6 km
    ahead on the runway, whose every fourth report says airborne, the others on the
    ground; the alerts opened at each two-second tick."""
    opened = []
    for k in range(20):
        arrival = state("A", clock, 2.40 + k * 0.0019, alt_m=240.0 - 8 * k, gs_mps=70.0)
        report(tracks, parties["Alpha"], arrival | {"vs_mps": -4.0})
        rolling = state("R", clock, 2.45, alt_m=-61.0, gs_mps=40.0, vs_mps=0.33)
        report(tracks, parties["Bravo"], rolling | {"on_ground": k % 4 != 3})
        opened.append(tracks.run_tick().opened)
        clock.advance(timedelta(seconds=2))
    return opened


def test_a_runway_aircraft_whose_flag_flickers_opens_no_alert(
    tracks: TrackService, clock: ManualClock, parties: dict[str, PartyRef]
) -> None:
    assert sum(_final_and_runway(tracks, clock, parties)) == 0


def test_without_the_ground_hold_the_runway_alert_flickers(
    database: Database, clock: ManualClock, parties: dict[str, PartyRef]
) -> None:
    flickering = TrackService(database, clock, replace(SETTINGS, track_ground_hold_s=0.0))
    assert sum(_final_and_runway(flickering, clock, parties)) > 1  # opened again and again


def test_a_departure_climbing_out_takes_part_at_once(
    tracks: TrackService, clock: ManualClock, parties: dict[str, PartyRef]
) -> None:
    report(tracks, parties["Alpha"], state("D", clock, 2.40, alt_m=-61.0, on_ground=True))
    clock.advance(timedelta(seconds=2))
    departure = state("D", clock, 2.40, alt_m=-50.0, gs_mps=80.0, vs_mps=8.0)
    report(tracks, parties["Alpha"], departure)
    arrival = state("A", clock, 2.45, alt_m=150.0, gs_mps=70.0, trk_deg=270.0, vs_mps=-3.0)
    report(tracks, parties["Bravo"], arrival)
    assert tracks.run_tick().opened == 1


def _levelling(tracks: TrackService, clock: ManualClock, parties: dict[str, PartyRef]) -> None:
    """Alpha's A at FL360 less 25 ft, head-on with Bravo's B at FL350 20 km away."""
    b = state("B", clock, 2.27, alt_m=35_000 * FOOT_M, trk_deg=270.0, gs_mps=240.0)
    report(tracks, parties["Bravo"], b)


def test_adjacent_levels_with_a_rate_step_stay_separated_between_reports(
    tracks: TrackService, clock: ManualClock, parties: dict[str, PartyRef]
) -> None:
    _levelling(tracks, clock, parties)
    a = state("A", clock, 2.0, alt_m=35_975 * FOOT_M, gs_mps=250.0, vs_mps=-0.33)
    report(tracks, parties["Alpha"], a)
    assert tracks.run_tick().opened == 0
    # 8 s on, no new report: -64 ft/min carried to the tick made them 966 ft apart.
    clock.advance(timedelta(seconds=8))
    assert tracks.run_tick().opened == 0


def test_a_slow_descent_onto_the_level_below_is_still_warned(
    tracks: TrackService, clock: ManualClock, parties: dict[str, PartyRef]
) -> None:
    _levelling(tracks, clock, parties)
    a = state("A", clock, 2.0, alt_m=35_975 * FOOT_M, gs_mps=250.0, vs_mps=-1.0)
    report(tracks, parties["Alpha"], a)
    assert tracks.run_tick().opened == 1  # -200 ft/min: through 975 ft in 8 s

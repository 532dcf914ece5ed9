"""Floors learned from the feed (issue 9): in the feed's own altitude reference, so a
high-pressure day's negative altitudes near an airport do not silence real warnings."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from deconfliction.clock import ManualClock
from deconfliction.parties import PartyRef
from deconfliction.tracks.floors import FloorMap
from deconfliction.tracks.service import TrackService
from tests.tracks.test_service import parties, report, state, tracks

__all__ = ["parties", "tracks"]  # fixtures shared with test_service


def _see(floors: FloorMap, lon: float, lat: float, alt: float, ground: bool = False) -> None:
    floors.see(np.array([lon]), np.array([lat]), np.array([alt]), np.array([ground]))


def test_the_floor_is_the_default_until_the_feed_reads_lower() -> None:
    floors = FloorMap(default_m=0.0, ground_height_m=30.0)
    assert floors.under(np.array([2.5]), np.array([49.0])).tolist() == [0.0]
    _see(floors, 2.5, 49.0, 900.0)
    assert floors.under(np.array([2.5]), np.array([49.0])).tolist() == [0.0]
    _see(floors, 2.5, 49.0, -50.0)
    near_and_far = floors.under(np.array([2.45, 3.1, 2.5]), np.array([49.05, 49.0, 50.0]))
    assert near_and_far.tolist() == [-80.0, 0.0, 0.0]  # this cell and the 8 around it


def test_an_on_ground_report_gives_the_ground_there() -> None:
    floors = FloorMap(default_m=0.0, ground_height_m=30.0)
    _see(floors, 8.55, 47.45, 420.0, ground=True)  # Zurich
    assert floors.under(np.array([8.55]), np.array([47.45])).tolist() == [420.0]
    _see(floors, 8.55, 47.45, 430.0)  # in flight just above it: lowers it by the height
    assert floors.under(np.array([8.55]), np.array([47.45])).tolist() == [400.0]


def test_the_ground_stays_in_its_own_cell() -> None:
    floors = FloorMap(default_m=0.0, ground_height_m=30.0)
    _see(floors, 8.55, 47.45, 420.0, ground=True)  # Zurich
    # The cell beside it keeps the deployment's floor: the ground there may lie lower.
    assert floors.under(np.array([8.55, 8.80]), np.array([47.45, 47.45])).tolist() == [420.0, 0.0]
    # A ground altitude derived from the floors around it is not carried a ring further:
    # seen at -50 m in one cell, the ground reported beside it at the floor there (-80 m),
    # the floor two cells from the sighting stays the deployment's.
    paris = FloorMap(default_m=0.0, ground_height_m=30.0)
    _see(paris, 2.30, 49.10, -50.0)
    ground = float(paris.under(np.array([2.55]), np.array([49.10]))[0])
    assert ground == -80.0
    _see(paris, 2.55, 49.10, ground, ground=True)
    assert paris.under(np.array([2.55, 2.80]), np.array([49.10, 49.10])).tolist() == [-80.0, 0.0]


def _arrivals(alt: float, clock: ManualClock) -> tuple[dict[str, object], dict[str, object]]:
    return (
        state("A", clock, 2.40, alt_m=alt, gs_mps=70.0, vs_mps=-5.0),
        state("B", clock, 2.70, alt_m=alt, gs_mps=70.0, trk_deg=270.0, vs_mps=-5.0),
    )


def test_the_issue_s_repro_opens_nothing_by_default(
    tracks: TrackService, clock: ManualClock, parties: dict[str, PartyRef]
) -> None:
    a, b = _arrivals(400.0, clock)
    report(tracks, parties["Alpha"], a)
    report(tracks, parties["Bravo"], b)
    assert tracks.run_tick().opened == 0
    clock.advance(timedelta(seconds=1))
    a, b = _arrivals(1_400.0, clock)  # well above the floor: they do meet
    report(tracks, parties["Alpha"], a | {"id": "A2"})
    report(tracks, parties["Bravo"], b | {"id": "B2"})
    assert tracks.run_tick().opened == 1


def test_below_sea_level_on_a_high_pressure_day_still_warns(
    tracks: TrackService, clock: ManualClock, parties: dict[str, PartyRef]
) -> None:
    # The feed has seen an aircraft at -70 m near the airport: the floor is lower there.
    report(tracks, parties["Charlie"], state("C", clock, 2.55, lat=49.3, alt_m=-70.0, gs_mps=60))
    a, b = _arrivals(-20.0, clock)
    report(tracks, parties["Alpha"], a | {"vs_mps": -0.2})
    report(tracks, parties["Bravo"], b | {"vs_mps": -0.2})
    assert tracks.run_tick().opened == 1


def test_an_aircraft_reported_on_the_ground_takes_no_part(
    tracks: TrackService, clock: ManualClock, parties: dict[str, PartyRef]
) -> None:
    report(tracks, parties["Alpha"], state("A", clock, 2.40, alt_m=3_000.0))
    report(
        tracks,
        parties["Bravo"],
        state("B", clock, 2.70, alt_m=3_000.0, trk_deg=270.0, on_ground=True),
    )
    assert tracks.run_tick().opened == 0

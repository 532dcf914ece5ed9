"""The plausibility gate (issue 9): impossible moves are refused and not predicted from;
the owner hears once per episode, with the evidence, in its events and the journal."""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from deconfliction.clock import ManualClock
from deconfliction.parties import PartyRef
from deconfliction.store.database import Database
from deconfliction.store.schema import JournalEntry
from deconfliction.tracks.service import SUSPECT, TrackService
from deconfliction.tracks.suspect import SUSPECT_REASON, Gate
from tests.tracks.test_service import SETTINGS, events, head_on, parties, state, tracks
from tests.zoo import east_of

__all__ = ["parties", "tracks"]  # fixtures shared with test_service

GATE = Gate(speed_mps=600.0, vs_mps=200.0, quantum_m=7.62)


def _judge(dt: float, metres: float, climb: float) -> dict[str, object] | None:
    lon, _ = east_of(8.0, 47.0, metres)
    one = np.ones(1)
    return GATE.judge(
        np.zeros(1), 8.0 * one, 47.0 * one, 3_000.0 * one,
        dt * one, lon * one, 47.0 * one, (3_000.0 + climb) * one,
    )[0]  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(dt=st.floats(0.0, 120.0), speed=st.floats(0.0, 590.0), rate=st.floats(0.0, 190.0))
def test_a_possible_move_passes(dt: float, speed: float, rate: float) -> None:
    assert _judge(dt, speed * dt, rate * dt) is None


@settings(max_examples=60, deadline=None)
@given(dt=st.floats(0.0, 120.0), speed=st.floats(620.0, 5_000.0))
def test_a_move_faster_than_the_ceiling_fails_with_the_evidence(dt: float, speed: float) -> None:
    evidence = _judge(dt, speed * (dt + 1.0) + 200.0, 0.0)
    assert evidence is not None
    assert evidence["reason"] == SUSPECT_REASON
    assert evidence["speed_mps"] > 600.0  # type: ignore[operator]


def test_an_altitude_spike_fails_and_a_quantum_step_does_not() -> None:
    assert _judge(1.0, 200.0, 37_000.0) is not None
    assert _judge(0.0, 0.0, 15.24) is None  # two 25 ft steps at once


def test_a_state_with_nothing_held_passes() -> None:
    nan = np.full(1, np.nan)
    assert GATE.judge(nan, nan, nan, nan, np.zeros(1), nan, nan, nan) == [None]


def test_a_jump_is_refused_left_out_and_told_once_per_episode(
    tracks: TrackService, clock: ManualClock, parties: dict[str, PartyRef], database: Database
) -> None:
    head_on(tracks, clock, parties)
    assert tracks.run_tick().opened == 1
    clock.advance(timedelta(seconds=1))
    spoofed = state("BX1", clock, 2.0, lat=48.0, trk_deg=270.0)  # 111 km south in 1 s
    for _ in range(2):  # the same glitch twice: one episode
        result = tracks.report(parties["Bravo"], [spoofed])
        (refused,) = result.rejected
        assert refused.reason.startswith(SUSPECT_REASON)
    told = [e for e in events(database, parties["Bravo"]) if e.kind == SUSPECT]
    assert len(told) == 1
    payload = json.loads(told[0].payload)
    assert payload["aircraft"] == "BX1"
    assert payload["speed_mps"] > 100_000
    assert not [e for e in events(database, parties["Alpha"]) if e.kind == SUSPECT]
    with database.read() as session:
        journaled = session.scalars(select(JournalEntry).where(JournalEntry.kind == SUSPECT))
        assert [j.subject for j in journaled] == ["BX1"]
    # Left out: nothing predicted from it, so the conflict resolves.
    reports = [tracks.run_tick() for _ in range(SETTINGS.track_resolve_ticks)]
    assert sum(r.resolved for r in reports) == 1
    # A plausible state brings it back; a glitch long after is a new episode.
    b_lon, _ = east_of(2.0, 49.0, 30_000.0 - 400.0)
    assert (
        tracks.report(parties["Bravo"], [state("BX1", clock, b_lon, trk_deg=270.0)]).rejected == ()
    )
    assert tracks.run_tick().opened == 1
    clock.advance(timedelta(seconds=SETTINGS.track_max_age_s + 1))
    tracks.run_tick()
    head_on(tracks, clock, parties)
    tracks.report(parties["Bravo"], [state("BX1", clock, 2.0, lat=48.0)])
    assert len([e for e in events(database, parties["Bravo"]) if e.kind == SUSPECT]) == 2


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_two_states_at_one_time_keep_the_plausible_one(
    tracks: TrackService, clock: ManualClock, parties: dict[str, PartyRef], order: tuple[int, int]
) -> None:
    tracks.report(parties["Alpha"], [state("AX1", clock, 2.0)])
    clock.advance(timedelta(seconds=1))
    moved, _ = east_of(2.0, 49.0, 200.0)
    good, bad = state("AX1", clock, moved), state("AX1", clock, 3.0)
    for k in order:
        tracks.report(parties["Alpha"], [(good, bad)[k]])
    (held,) = tracks.tracks_of(parties["Alpha"])
    assert held.lon == pytest.approx(moved)

"""The registry of latest states: ownership, order, ageing, dead reckoning, reused rows.

A plain dictionary of the latest state per aircraft is the reference the columnar
registry must agree with, through any sequence of reports and ticks (hypothesis).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from deconfliction.tracks.batch import TrackBatch, read_batch
from deconfliction.tracks.reckoning import advance
from deconfliction.tracks.registry import TrackRegistry

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
MAX_AGE_S = 60.0


def state(ident: str, at: datetime = NOW, **changes: Any) -> dict[str, Any]:
    good: dict[str, Any] = {
        "id": ident,
        "time": at.isoformat(),
        "lat": 47.0,
        "lon": 8.0,
        "alt_m": 3000.0,
        "gs_mps": 100.0,
        "trk_deg": 90.0,
        "vs_mps": 0.0,
    }
    return good | changes


def batch(rows: list[dict[str, Any]], now: datetime = NOW) -> TrackBatch:
    found, rejected = read_batch(rows, now, max_ahead_s=3600.0, max_age_s=3600.0)
    assert not rejected
    return found


def test_an_aircraft_belongs_to_its_reporter_until_it_ages_out() -> None:
    registry = TrackRegistry()
    now_s = NOW.timestamp()
    assert registry.report(1, batch([state("a")]), now_s, MAX_AGE_S) == ()
    taken = registry.report(2, batch([state("a"), state("b")]), now_s, MAX_AGE_S)
    assert [(r.row, r.id) for r in taken] == [(0, "a")]
    assert "another party" in taken[0].reason
    assert [t.id for t in registry.tracks_of(1)] == ["a"]
    assert [t.id for t in registry.tracks_of(2)] == ["b"]
    later = NOW + timedelta(seconds=61)
    assert registry.report(2, batch([state("a", later)], later), later.timestamp(), MAX_AGE_S) == ()
    assert registry.tracks_of(1) == []
    assert [t.id for t in registry.tracks_of(2)] == ["a", "b"]


def test_an_older_state_is_refused_and_one_of_the_same_time_replaces() -> None:
    registry = TrackRegistry()
    now_s = NOW.timestamp()
    registry.report(1, batch([state("a", lat=47.0)]), now_s, MAX_AGE_S)
    early = NOW - timedelta(seconds=1)
    refused = registry.report(1, batch([state("a", early, lat=46.0)]), now_s, MAX_AGE_S)
    assert "older than the state already held" in refused[0].reason
    assert registry.report(1, batch([state("a", lat=48.0, notice="n")]), now_s, MAX_AGE_S) == ()
    (track,) = registry.tracks_of(1)
    assert (track.lat, track.time, track.notice) == (48.0, NOW, "n")


def test_a_snapshot_dead_reckons_to_the_tick_and_forgets_the_aged() -> None:
    registry = TrackRegistry()
    rows = [
        state("old", NOW - timedelta(seconds=50)),
        state("new", NOW, lon=9.0, vs_mps=-2.0, notice="ntc"),
    ]
    registry.report(7, batch(rows), NOW.timestamp(), MAX_AGE_S)
    snap = registry.snapshot(NOW.timestamp() + 5.0, MAX_AGE_S)
    assert snap.state.ids.tolist() == ["old", "new"]
    assert snap.state.party.tolist() == [7, 7]
    assert snap.age_s.tolist() == [55.0, 5.0]
    assert snap.notice == (None, "ntc")
    one = np.ones(2)
    expected = advance(
        np.array([8.0, 9.0]),
        47.0 * one,
        3000.0 * one,
        100.0 * one,
        90.0 * one,
        np.array([0.0, -2.0]),
        np.array([55.0, 5.0]),
    )
    np.testing.assert_array_equal(snap.state.lon, expected.lon)
    np.testing.assert_array_equal(snap.state.alt_m, [3000.0, 2990.0])
    np.testing.assert_array_equal(snap.state.trk_deg, expected.trk_deg)
    later = registry.snapshot(NOW.timestamp() + 11.0, MAX_AGE_S)
    assert later.state.ids.tolist() == ["new"]
    assert len(registry) == 1


def test_a_rate_in_the_dead_band_moves_no_altitude_to_the_tick() -> None:
    registry = TrackRegistry()
    rows = [state("level", vs_mps=-0.33), state("slow", lon=9.0, vs_mps=-1.0)]
    registry.report(1, batch(rows), NOW.timestamp(), MAX_AGE_S)
    later = NOW.timestamp() + 8.0
    exact = registry.snapshot(later, MAX_AGE_S)
    np.testing.assert_allclose(exact.state.alt_m, [3000.0 - 2.64, 2992.0])
    fed = registry.snapshot(later, MAX_AGE_S, level_vs_mps=0.5)
    np.testing.assert_allclose(fed.state.alt_m, [3000.0, 2992.0])
    assert fed.state.vs_mps.tolist() == [-0.33, -1.0]  # the reported rates, as reported


def test_on_the_ground_for_the_hold_after_a_report_that_says_so() -> None:
    registry = TrackRegistry()
    t0 = NOW.timestamp()
    hold = {"ground_hold_s": 20.0, "lift_mps": 1.5}
    registry.report(1, batch([state("R", on_ground=True)]), t0, MAX_AGE_S)
    # The flag flickers: airborne two seconds later, rolling level at 50 m/s.
    later = NOW + timedelta(seconds=2)
    rolling = state("R", later, gs_mps=50.0, vs_mps=0.33)
    registry.report(1, batch([rolling], later), t0 + 2.0, MAX_AGE_S)
    assert registry.snapshot(t0 + 4.0, MAX_AGE_S).state.on_ground.tolist() == [False]
    assert registry.snapshot(t0 + 4.0, MAX_AGE_S, **hold).state.on_ground.tolist() == [True]
    assert registry.snapshot(t0 + 20.0, MAX_AGE_S, **hold).state.on_ground.tolist() == [True]
    assert registry.snapshot(t0 + 21.0, MAX_AGE_S, **hold).state.on_ground.tolist() == [False]
    # Climbing out faster than the ground height in the hold: flying at once.
    departing = state("R", later, gs_mps=80.0, vs_mps=8.0)
    registry.report(1, batch([departing], later), t0 + 2.0, MAX_AGE_S)
    assert registry.snapshot(t0 + 4.0, MAX_AGE_S, **hold).state.on_ground.tolist() == [False]
    # A new aircraft in a reused row starts with no ground report.
    registry.snapshot(t0 + 100.0, MAX_AGE_S)
    late = NOW + timedelta(seconds=100)
    registry.report(1, batch([state("S", late)], late), t0 + 100.0, MAX_AGE_S)
    assert registry.snapshot(t0 + 101.0, MAX_AGE_S, **hold).state.on_ground.tolist() == [False]


@dataclass
class _Held:
    party: int
    time_s: float
    lat: float


_operations = st.lists(
    st.one_of(
        st.tuples(
            st.just("report"),
            st.integers(1, 3),
            st.lists(
                st.tuples(st.sampled_from("abcdefghij"), st.integers(-20, 0), st.floats(-80, 80)),
                max_size=6,
                unique_by=lambda t: t[0],
            ),
        ),
        st.tuples(st.just("tick"), st.integers(0, 40)),
    ),
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(_operations)
def test_the_registry_agrees_with_a_dictionary_of_latest_states(ops: list[Any]) -> None:
    registry = TrackRegistry(capacity=2)  # small: rows are reused and the columns grow
    reference: dict[str, _Held] = {}
    now = NOW
    for op in ops:
        if op[0] == "tick":
            now += timedelta(seconds=op[1])
            snap = registry.snapshot(now.timestamp(), max_age_s=40.0)
            for ident in [i for i, h in reference.items() if now.timestamp() - h.time_s > 40]:
                del reference[ident]
            assert sorted(snap.state.ids.tolist()) == sorted(reference)
            for k, ident in enumerate(snap.state.ids.tolist()):
                assert int(snap.state.party[k]) == reference[ident].party
            continue
        _, party, rows = op
        reported = batch(
            [state(i, now + timedelta(seconds=dt), lat=lat) for i, dt, lat in rows], now
        )
        refused = {r.id for r in registry.report(party, reported, now.timestamp(), max_age_s=40.0)}
        for ident, dt, lat in rows:
            held = reference.get(ident)
            if held is not None and now.timestamp() - held.time_s > 40:
                held = None
            t = now.timestamp() + dt
            if held is not None and (held.party != party or t < held.time_s):
                assert ident in refused
                continue
            assert ident not in refused
            reference[ident] = _Held(party, t, lat)
        for party_id in (1, 2, 3):
            mine = {t.id: t.lat for t in registry.tracks_of(party_id)}
            expected = {i: h.lat for i, h in reference.items() if h.party == party_id}
            assert {i: mine[i] for i in expected} == expected

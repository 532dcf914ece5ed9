"""Hysteresis: one open per encounter, no flapping at the boundary, updates only when material."""

from __future__ import annotations

import math
from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from deconfliction.tracks.conflicts import (
    Hysteresis,
    OpenConflict,
    Step,
    fair_order,
    step,
    take,
)
from deconfliction.tracks.engine import (
    KINDS,
    NONCONFORMING,
    TRACK_TRACK,
    TRACK_VOLUME,
    Finding,
    Key,
    Side,
)

KEY: Key = (TRACK_TRACK, "a", "b")
POLICY = Hysteresis(resolve_after=3, moved_s=15.0, moved_m=500.0)


def finding(
    t: float = 0.0,
    tcpa: float = 60.0,
    dcpa: float | None = 1000.0,
    inside: bool = False,
    key: Key = KEY,
    parties: tuple[int, ...] = (1, 2),
) -> Finding:
    sides = tuple(Side(p, parties[0], None, None, tcpa, (8.0, 47.0, 3000.0)) for p in parties)
    return Finding(key, t, tcpa - 10.0, math.inf, 300.0, dcpa, inside, sides)


def run(
    seen: list[bool], policy: Hysteresis = POLICY, absent_after: int | None = None
) -> tuple[int, int, int]:
    """Opens, resolves and still-open count over ticks where the pair is found or not."""
    open_conflicts: dict[Key, OpenConflict] = {}
    opened = resolved = 0
    for tick, found in enumerate(seen):
        present = {"a", "b"} if absent_after is None or tick < absent_after else {"a"}
        findings = [finding(float(tick))] if found and "b" in present else []
        s = step(open_conflicts, findings, judged=KINDS, present=present, policy=policy)
        opened += len(s.opened)
        resolved += len(s.resolved)
        after = dict(s.kept)
        for f in s.opened:
            after[f.key] = OpenConflict(f"c{tick}", {1: "x", 2: "y"}, f, f)
        for c, f in s.updated:
            after[f.key] = replace(c, told=f, latest=f, missed=0)
        open_conflicts = after
    return opened, resolved, len(open_conflicts)


def test_a_pair_hovering_at_the_boundary_opens_once_and_resolves_at_most_once() -> None:
    hovering = [True, False] * 20 + [True, False, False, True, False, True]
    assert run(hovering) == (1, 0, 1)
    assert run([*hovering, False, False, False]) == (1, 1, 0)


def test_it_opens_on_the_first_tick_and_resolves_after_k_misses() -> None:
    assert run([True]) == (1, 0, 1)
    assert run([True, False, False]) == (1, 0, 1)
    assert run([True, False, False, False]) == (1, 1, 0)
    assert run([True, False, False, False, True]) == (2, 1, 1)
    assert run([True, False], Hysteresis(resolve_after=1)) == (1, 1, 0)


def test_an_aircraft_no_longer_reported_resolves_at_once() -> None:
    assert run([True, True, True], absent_after=2) == (1, 1, 0)
    open_conflicts = {KEY: OpenConflict("c", {1: "x", 2: "y"}, finding(), finding())}
    s = step(open_conflicts, [], judged=KINDS, present={"a"}, policy=POLICY)
    assert [reason for _, reason in s.resolved] == [
        "aircraft b is no longer reported (its last state aged out)"
    ]


def test_a_kind_not_judged_this_tick_counts_no_miss() -> None:
    held = OpenConflict("c", {1: "x", 2: "y"}, finding(), finding(), missed=2)
    judged = (TRACK_VOLUME, NONCONFORMING)
    s = step({KEY: held}, [], judged=judged, present={"a", "b"}, policy=POLICY)
    assert s.kept == {KEY: held}
    assert not s.writes
    s = step({KEY: held}, [], judged=KINDS, present={"a", "b"}, policy=POLICY)
    assert len(s.resolved) == 1


@given(
    later=st.floats(0.0, 90.0),
    moved=st.floats(-60.0, 60.0),
    dcpa=st.floats(0.0, 8000.0),
    told_dcpa=st.sampled_from([0.0, 1000.0, 5000.0]),
    inside=st.booleans(),
    third=st.booleans(),
)
def test_parties_are_updated_only_when_the_prediction_changes_materially(
    later: float, moved: float, dcpa: float, told_dcpa: float, inside: bool, third: bool
) -> None:
    """Told at t = 0 of a closest approach at t = 120 s; asked again ``later`` seconds on."""
    told = finding(t=0.0, tcpa=120.0, dcpa=told_dcpa)
    now = finding(
        t=later,
        tcpa=120.0 - later + moved,
        dcpa=dcpa,
        inside=inside,
        parties=(1, 2, 3) if third else (1, 2),
    )
    held = OpenConflict("c", {1: "x", 2: "y"}, told, told, missed=1)
    s = step({KEY: held}, [now], judged=KINDS, present={"a", "b"}, policy=POLICY)
    left = max(0.0, 120.0 - later)
    prediction = abs(moved) > max(15.0, 0.2 * left) or abs(dcpa - told_dcpa) > max(
        500.0, 0.2 * told_dcpa
    )
    material = inside or third or (later >= 30.0 and prediction)
    assert bool(s.updated) == material
    if material:
        assert s.updated == ((held, now),)
        assert KEY not in s.kept
    else:
        assert s.kept[KEY] == replace(held, latest=now, missed=0)
    assert not s.opened
    assert not s.resolved


@given(st.lists(st.booleans(), max_size=40), st.integers(1, 4))
def test_opens_and_resolves_follow_runs_of_misses(seen: list[bool], k: int) -> None:
    """Reference: a conflict is open from a tick it is found until k ticks in a row
    without it; count the transitions by walking the ticks once."""
    is_open, misses, opens, resolves = False, 0, 0, 0
    for found in seen:
        if found:
            opens += not is_open
            is_open, misses = True, 0
        elif is_open:
            misses += 1
            if misses >= k:
                is_open, resolves = False, resolves + 1
    assert run(seen, Hysteresis(resolve_after=k)) == (opens, resolves, int(is_open))


def within(plan: Step, budget: int) -> Step:
    return take(plan, fair_order(plan).writes[:budget])


def test_a_write_budget_takes_the_most_urgent_and_leaves_the_rest_due() -> None:
    soon = finding(tcpa=20.0, key=(TRACK_TRACK, "c", "d"))
    later = finding(tcpa=200.0, key=(TRACK_TRACK, "e", "f"))
    now = finding(tcpa=250.0, inside=True, key=(TRACK_TRACK, "g", "h"))
    open_conflicts = {  # all of parties 1 and 2: one queue (see the fair order below)
        KEY: OpenConflict("c1", {1: "x", 2: "y"}, finding(), finding(), missed=2),
        (TRACK_TRACK, "i", "j"): OpenConflict(
            "c2", {1: "x", 2: "y"}, finding(key=(TRACK_TRACK, "i", "j")), finding(), missed=0
        ),
    }
    moved = finding(t=40.0, tcpa=300.0, key=(TRACK_TRACK, "i", "j"))
    plan = step(
        open_conflicts,
        [later, soon, now, moved],
        judged=KINDS,
        present={"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"},
        policy=POLICY,
    )
    assert (len(plan.opened), len(plan.updated), len(plan.resolved)) == (3, 1, 1)
    everything = within(plan, 10)
    assert everything.opened == (now, soon, later)  # the most urgent first
    assert (everything.updated, everything.resolved) == (plan.updated, plan.resolved)
    two = within(plan, 2)
    assert two.opened == (now, soon)
    assert (two.updated, two.resolved) == ((), ())
    assert two.kept[(TRACK_TRACK, "i", "j")].told == open_conflicts[(TRACK_TRACK, "i", "j")].told
    assert two.kept[KEY] == open_conflicts[KEY]  # its resolution waits: still due
    assert (TRACK_TRACK, "e", "f") not in two.kept  # a deferred open is found again
    present = {"a", "b", "e", "f", "i"}  # j has aged out; a-b is missed a third time
    again = step(two.kept, [later], judged=KINDS, present=present, policy=POLICY)
    assert again.opened == (later,)
    assert sorted(c.conflict_id for c, _ in again.resolved) == ["c1", "c2"]


def test_pairs_of_parties_take_turns_so_a_burst_delays_no_other_pair() -> None:
    burst = [
        finding(tcpa=20.0 + k, inside=True, key=(TRACK_TRACK, f"a{k:02d}", f"b{k:02d}"))
        for k in range(20)
    ]
    other = finding(tcpa=250.0, key=(TRACK_TRACK, "c", "d"), parties=(3, 4))
    ef = finding(key=(TRACK_TRACK, "e", "f"))
    gone = OpenConflict("c9", {1: "x", 3: "z"}, ef, ef)  # e and f no longer reported
    plan = step(
        {(TRACK_TRACK, "e", "f"): gone},
        [*burst, other],
        judged=KINDS,
        present={"a", "b", "c", "d"} | {a for f in burst for a in f.aircraft},
        policy=POLICY,
    )
    order = fair_order(plan)
    assert order.first_round == 3  # pairs (1, 2), (3, 4) and (1, 3)
    first = take(plan, order.writes[: order.first_round])
    assert first.opened == (burst[0], other)  # the least urgent pair is not held up
    assert [c.conflict_id for c, _ in first.resolved] == ["c9"]
    assert order.parties(plan, order.writes[order.first_round :]) == {1: 19, 2: 19}

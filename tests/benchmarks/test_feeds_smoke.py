"""The feed benchmark at toy size, so that it cannot rot: what comes out of each decoder
is what went in (real Paris states written in every format); times are never checked."""

from __future__ import annotations

from collections import defaultdict

from benchmarks.feeds import PARIS, load_states, main, run

from deconfliction.core.units import FOOT_M
from deconfliction.feeds.traffic import AircraftState
from tests.feeds.realdata import shared_file


def _written(state: AircraftState, candidates: list[AircraftState]) -> bool:
    """Whether ``state`` is one of ``candidates`` to within each format's resolution."""
    return any(
        abs(c.lat - state.lat) < 1e-4
        and abs(c.lon - state.lon) < 1e-4
        and abs(c.alt_m - state.alt_m) <= 25 * FOOT_M
        and abs(c.gs_mps - state.gs_mps) < 1.5
        for c in candidates
    )


def test_every_format_gives_back_the_states_written() -> None:
    states = load_states(shared_file("traffic", PARIS.name), 300)
    by_id: defaultdict[str, list[AircraftState]] = defaultdict(list)
    for state in states:
        by_id[state.id].append(state)
    rows = {name: (messages, made) for name, messages, made, _ in run(states)}
    assert rows["sbs1"][0] == 600  # a velocity and a position line each
    assert len(rows["sbs1"][1]) == 300
    assert len(rows["asterix CAT021"][1]) == len(rows["asterix CAT062"][1]) == 300
    for name in ("beast", "avr"):
        assert rows[name][0] == 600  # a velocity and a position frame each
        # Mode S needs an even and an odd frame before the first fix of each aircraft
        assert 300 - len(by_id) <= len(rows[name][1]) < 300
    for name, (_, made) in rows.items():
        wrong = [s for s in made if not _written(s, by_id[s.id])]
        assert not wrong, (name, wrong[:3])


def test_the_benchmark_prints_its_table(capsys: object) -> None:
    shared_file("traffic", PARIS.name)
    main(["--states", "200"])
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "messages/s" in out
    assert "asterix CAT062" in out

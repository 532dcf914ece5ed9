"""Rings that revisit their vertices: loops, keyholes, spikes, and what stays invalid."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from deconfliction.feeds.rings import shell_and_holes, split_loops

SQUARE = [(0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0)]
HOLE = [(1.0, 1.0), (1.0, 3.0), (3.0, 3.0), (3.0, 1.0)]


def _edges(ring: list[tuple[float, float]]) -> Counter[tuple[tuple[float, float], ...]]:
    return Counter(tuple(ring[i : i + 2]) for i in range(len(ring) - 1))


@given(
    st.lists(
        st.tuples(st.integers(0, 4).map(float), st.integers(0, 4).map(float)),
        min_size=1,
        max_size=30,
    )
)
def test_loops_use_every_edge_of_the_ring_once(vertices: list[tuple[float, float]]) -> None:
    ring = [*vertices, vertices[0]]
    loops = split_loops(ring)
    assert sum((_edges(loop) for loop in loops), Counter()) == _edges(ring)
    for loop in loops:
        assert loop[0] == loop[-1]
        assert len(set(loop[:-1])) == len(loop) - 1  # each loop visits a vertex once


def test_a_keyhole_reads_as_a_polygon_with_a_hole() -> None:
    ring = [*SQUARE, (0.0, 0.0), *HOLE, (1.0, 1.0), (0.0, 0.0)]
    nested = shell_and_holes(ring)
    assert nested is not None
    shell, holes = nested
    assert set(shell) == set(SQUARE)
    assert [set(h) for h in holes] == [set(HOLE)]


def test_a_spike_is_dropped() -> None:
    ring = [(0.0, 0.0), (4.0, 0.0), (6.0, 1.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0), (0.0, 0.0)]
    assert shell_and_holes(ring) == (
        [(0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0), (0.0, 0.0)],
        [],
    )


def test_loops_side_by_side_are_not_a_polygon() -> None:
    # Two squares that meet at (2, 2): a figure of eight, not a shell with a hole.
    ring = [(0.0, 0.0), (2.0, 0.0), (2.0, 2.0), (4.0, 2.0), (4.0, 4.0), (2.0, 4.0), (2.0, 2.0)]
    ring += [(0.0, 2.0), (0.0, 0.0)]
    assert shell_and_holes(ring) is None


def test_a_ring_that_crosses_itself_between_vertices_is_left_invalid() -> None:
    bow_tie = [(0.0, 0.0), (2.0, 2.0), (2.0, 0.0), (0.0, 2.0), (0.0, 0.0)]
    assert shell_and_holes(bow_tie) is None


def test_a_ring_with_no_area_has_no_reading() -> None:
    assert shell_and_holes([(0.0, 0.0), (1.0, 1.0), (0.0, 0.0)]) is None

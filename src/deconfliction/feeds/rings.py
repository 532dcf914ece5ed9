"""Outlines that come back to their own vertices: keyholes and spikes, read as meant.

OpenAIR has no syntax for holes, so a file draws a ring around a hole as one outline
that runs in along a cut, around the hole, back out along the same cut, and on around
the outside (Frankfurt and Stuttgart class D in the German file). Such a ring touches
itself at vertices; OGC validity refuses it, but it has one reading (the "inverted
shell" of ESRI and others): the loops it makes between visits to the same vertex.

:func:`split_loops` cuts a ring into those loops; :func:`shell_and_holes` keeps the
ones that enclose area, and reads them as a polygon when one loop contains all others.
A ring that crosses itself between vertices makes no such loops and stays invalid.

>>> square = [(0, 0), (4, 0), (4, 4), (0, 4)]
>>> hole = [(1, 1), (1, 3), (3, 3), (3, 1)]
>>> keyhole = [*square, (0, 0), *hole, (1, 1), (0, 0)]
>>> shell, holes = shell_and_holes(keyhole)
>>> sorted(set(shell)) == sorted(square), [sorted(set(h)) for h in holes] == [sorted(hole)]
(True, True)
"""

from __future__ import annotations

from collections.abc import Sequence

from shapely.geometry import Polygon

__all__ = ["shell_and_holes", "split_loops"]

Point = tuple[float, float]


def split_loops(ring: Sequence[Point]) -> list[list[Point]]:
    """The closed loops of a closed ring, cut wherever it returns to an earlier vertex.

    >>> split_loops([(0, 0), (1, 0), (1, 1), (1, 0), (0, 0)])
    [[(1, 0), (1, 1), (1, 0)], [(0, 0), (1, 0), (0, 0)]]
    """
    loops: list[list[Point]] = []
    path: list[Point] = []
    seen: dict[Point, int] = {}
    for point in ring:
        if point in seen:
            start = seen[point]
            loops.append([*path[start:], point])
            for dropped in path[start + 1 :]:
                del seen[dropped]
            del path[start + 1 :]
        else:
            seen[point] = len(path)
            path.append(point)
    return loops


def shell_and_holes(ring: Sequence[Point]) -> tuple[list[Point], list[list[Point]]] | None:
    """The ring read as one outer loop and the holes inside it, or ``None`` when its
    loops do not nest that way (two loops side by side, or a loop crossing another).
    Loops that enclose no area (a cut run both ways, a spike) are dropped."""
    loops = [(loop, Polygon(loop)) for loop in split_loops(ring) if len(set(loop)) >= 3]
    loops = [(loop, shape) for loop, shape in loops if shape.area > 0.0]
    if not loops:
        return None
    loops.sort(key=lambda item: item[1].area, reverse=True)
    (shell, outer), inner = loops[0], loops[1:]
    if not outer.is_valid or not all(outer.contains(shape) for _, shape in inner):
        return None
    return shell, [loop for loop, _ in inner]

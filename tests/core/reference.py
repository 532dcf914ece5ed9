"""Brute-force references for the core: slow, obvious, by dense sampling.

* :func:`depth_m`: signed metres from points to a footprint's edge (positive inside).
  A polygon's inside is lon/lat containment (RFC 7946: edges are straight in lon/lat);
  a circle's inside is the true geodesic circle, not the polygon that carries it.
* :func:`distance_m`: least WGS-84 geodesic distance between two disjoint footprints.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import shapely

from deconfliction.core.earth import LocalPlane, geodesic_distance_m
from deconfliction.core.footprint import Footprint

__all__ = ["depth_m", "distance_m", "plane_for"]

FloatArray = npt.NDArray[np.float64]
_DENSE_DEG = 1e-3  # at most 111 m: boundaries are segmented this finely before projecting


def plane_for(*footprints: Footprint) -> LocalPlane:
    """A tangent plane at the centre of the footprints' joint bounding box."""
    bounds = np.array([f.bounds for f in footprints])
    lon = (bounds[:, 0].min() + bounds[:, 2].max()) / 2.0
    lat = (bounds[:, 1].min() + bounds[:, 3].max()) / 2.0
    return LocalPlane(float(lon), float(lat))


def depth_m(f: Footprint, lon: FloatArray, lat: FloatArray, plane: LocalPlane) -> FloatArray:
    """Signed metres from each point to the footprint's edge: positive inside.

    A circle: its radius minus the geodesic distance to its centre. A polygon: the
    distance to its boundary (densified in lon/lat, measured on ``plane``), positive
    where shapely finds the point inside the lon/lat polygon.
    """
    if f.circle is not None:
        c = f.circle
        return c.radius_m - geodesic_distance_m(c.lon, c.lat, lon, lat)
    boundary = shapely.segmentize(f.shape.boundary, _DENSE_DEG)
    projected = shapely.transform(boundary, lambda xy: np.column_stack(plane.to_xy(*xy.T)))
    x, y = plane.to_xy(lon, lat)
    distance = shapely.distance(projected, shapely.points(x, y))
    inside = shapely.contains_xy(f.shape, lon, lat)
    return np.where(inside, distance, -distance)


def _edges(f: Footprint) -> tuple[FloatArray, FloatArray]:
    """Start and end points (lon, lat) of every edge of every ring of a polygon."""
    starts, ends = [], []
    for ring in (f.shape.exterior, *f.shape.interiors):
        xy = np.asarray(ring.coords)
        starts.append(xy[:-1])
        ends.append(xy[1:])
    return np.concatenate(starts), np.concatenate(ends)


def _to_edges_m(points: FloatArray, f: Footprint) -> float:
    """Least geodesic distance from the points to the polygon's edges (straight in
    lon/lat): a golden-section search along every edge for every point at once (the
    distance is unimodal along an edge as short as a footprint's)."""
    p0, p1 = _edges(f)
    lon, lat = points[:, None, 0], points[:, None, 1]

    def at(t: FloatArray) -> FloatArray:
        return geodesic_distance_m(
            lon,
            lat,
            p0[None, :, 0] + t * (p1 - p0)[None, :, 0],
            p0[None, :, 1] + t * (p1 - p0)[None, :, 1],
        )

    shape = (len(points), len(p0))
    lo, hi = np.zeros(shape), np.ones(shape)
    ratio = (math.sqrt(5.0) - 1.0) / 2.0
    for _ in range(60):
        t1, t2 = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
        nearer = at(t1) < at(t2)
        hi = np.where(nearer, t2, hi)
        lo = np.where(nearer, lo, t1)
    return float(
        min(at((lo + hi) / 2.0).min(), at(np.zeros(shape)).min(), at(np.ones(shape)).min())
    )


def distance_m(a: Footprint, b: Footprint) -> float:
    """Least geodesic distance (metres) between two disjoint footprints.

    Circles are the true circles, not the polygons that carry them (those are up to
    CIRCLE_TOLERANCE_M larger, so nearer by up to that much per circle). Two circles:
    the distance between centres less both radii (the triangle inequality, attained on
    the geodesic between the centres). A circle and a polygon: the polygon's edges'
    distance from the centre, less the radius. Two polygons: the least distance from a
    vertex of either to an edge of the other.
    """
    if a.circle is not None and b.circle is not None:
        between = geodesic_distance_m(a.circle.lon, a.circle.lat, b.circle.lon, b.circle.lat)
        return float(between) - a.circle.radius_m - b.circle.radius_m
    if b.circle is not None:
        a, b = b, a
    if a.circle is not None:
        centre = np.array([[a.circle.lon, a.circle.lat]])
        return _to_edges_m(centre, b) - a.circle.radius_m
    vertices_a = np.asarray(shapely.get_coordinates(a.shape))
    vertices_b = np.asarray(shapely.get_coordinates(b.shape))
    return min(_to_edges_m(vertices_a, b), _to_edges_m(vertices_b, a))

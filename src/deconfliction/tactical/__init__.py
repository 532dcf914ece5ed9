"""The tactical engine: predicted losses of separation between live aircraft.

Every tick a service hands the engine the latest state of every aircraft
(:class:`TrafficState`, one array per field, SI units) and gets back the pairs of
different parties that will lose separation within the look-ahead
(:func:`detect` → :class:`ConflictSet`), the aircraft that will enter another
party's volumes (:func:`intrusions`) and the aircraft leaving their own notice's
volumes (:func:`nonconformance`). Everything here is pure: arrays in, arrays out; no
I/O, no clock, no global state.

Design, and why:

* **Semantics** are state-based, as in ATC short-term conflict alert and BlueSky:
  straight flight at the current ground speed, track and vertical speed; a cylinder
  of radius R and half-height H per aircraft, the larger per pair; a conflict when the
  horizontal and vertical "inside" intervals overlap, have not ended, and begin
  before the look-ahead T.
* **Earth model** (:mod:`.kinematics`, :mod:`.cpa`): ECEF ground positions and
  tangent-plane velocities, and per pair the plane perpendicular to the mean of the
  two normals (the pair's midpoint tangent plane). Horizontal distance is then the
  ellipsoid chord — 2·10⁻⁸ from the WGS-84 geodesic at 5 NM — with no map projection,
  so pairs across the antimeridian and at the poles need no special case. Altitude
  is kept apart, so vertical separation is exactly the altitude difference.
* **No O(N²) memory** (:mod:`.pruning`): a 4-D uniform grid (a rotated ECEF frame
  and altitude) over each aircraft's swept box, with a sweep along one axis within
  each cell; pairs are generated in chunks, each pair exactly once, then decided by
  the exact vectorised test. Memory is linear in N; the work grows with the pairs
  whose boxes nearly meet, not with N².
* **Intrusion and conformance** (:mod:`.volumes`): the same straight paths against
  :class:`~deconfliction.core.volume.Volume4D`, exactly: membership changes only where
  the path crosses an edge, a band limit or a window edge, so each piece between
  those instants is decided by its midpoint.
* **Exactness**: the fast path runs the same arithmetic as the brute-force
  :func:`detect_all_pairs` and returns bit-for-bit the same set, which the tests check
  with hypothesis; tolerances are explicit (:data:`SEPARATION_TOLERANCE_M`: aircraft
  exactly H apart and level are separated).
* **GPU** (:mod:`.backend`): the pairwise passes are written against the array
  interface NumPy and CuPy share; :func:`select_backend` picks CuPy only when asked
  and present, so the CPU path needs nothing beyond NumPy.
"""

from deconfliction.tactical.backend import CPU, ArrayBackend, select_backend
from deconfliction.tactical.conflicts import ConflictSet
from deconfliction.tactical.cpa import SEPARATION_TOLERANCE_M
from deconfliction.tactical.detect import detect
from deconfliction.tactical.params import DetectionParams
from deconfliction.tactical.reference import detect_all_pairs
from deconfliction.tactical.state import RowRejection, TrafficState, accept_rows, row_rejections
from deconfliction.tactical.volumes import Intrusions, Nonconformance, intrusions, nonconformance

__all__ = [
    "CPU",
    "SEPARATION_TOLERANCE_M",
    "ArrayBackend",
    "ConflictSet",
    "DetectionParams",
    "Intrusions",
    "Nonconformance",
    "RowRejection",
    "TrafficState",
    "accept_rows",
    "detect",
    "detect_all_pairs",
    "intrusions",
    "nonconformance",
    "row_rejections",
    "select_backend",
]

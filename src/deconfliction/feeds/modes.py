"""Mode S extended squitter (ADS-B, DF17/18) frames decoded and merged into aircraft states.

A small decoder of just what a state needs, written from the published descriptions
(ICAO Annex 10 vol. IV and Doc 9871, as explained in Junzi Sun's *The 1090 MHz
Riddle*, whose worked examples are this module's tests): the CRC-24 parity, the
aircraft identification (type codes 1-4), the airborne position (9-18 with barometric
altitude, 20-22 with GNSS height) in compact position reporting (CPR, decoded globally
from an even and an odd frame at most 10 s apart, then locally from the aircraft's last
position) and the airborne velocity over ground (type code 19, subtypes 1 and 2).
pyModeS does all this and more but is GPL-3.0, which does not fit this Apache-2.0
project; other frames (surveillance replies, airspeed velocity, surface position) are
counted and passed over.

:class:`ModesDecoder` takes one frame (7 or 14 bytes) with the time it was received and
hands out an :class:`~deconfliction.feeds.traffic.AircraftState` whenever a position is
decoded for an aircraft whose velocity is known and no older than
``max_velocity_age_s``. What it drops, it counts by reason in ``dropped``.

>>> decoder = ModesDecoder()
>>> from datetime import UTC, datetime, timedelta
>>> t = datetime(2016, 3, 14, 23, 0, tzinfo=UTC)
>>> for frame, dt in (("8DA05F219B06B6AF189400CBC33F", 0),   # airspeed: passed over
...                   ("8D40621D99440994083817000000", 0),   # bad parity: dropped
...                   ("8D40621D58C386435CC412692AD6", 0),   # odd position
...                   ("8D40621D58C382D690C8AC2863A7", 2)):  # even position
...     _ = decoder.feed(bytes.fromhex(frame), t + timedelta(seconds=dt))
>>> dict(decoder.dropped)
{'velocity not over ground': 1, 'parity (CRC) wrong': 1, 'no position yet': 1, 'no velocity yet': 1}
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from deconfliction.core.units import FOOT_M, Seconds, feet_to_metres, knots_to_mps
from deconfliction.feeds.traffic import AircraftState

__all__ = [
    "FORGET_AFTER",
    "ModesDecoder",
    "cpr_global",
    "cpr_local",
    "crc24",
    "identification",
    "nl",
]

_GENERATOR = 0xFFF409
_CHARSET = "#ABCDEFGHIJKLMNOPQRSTUVWXYZ##### ###############0123456789######"
_NZ = 15
_CPR_SCALE = float(1 << 17)
_PAIR_WINDOW = timedelta(seconds=10)
_LOCAL_REFERENCE_AGE = timedelta(seconds=30)
_FEET_PER_MINUTE_MPS = FOOT_M / 60.0
_SWEEP_EVERY = timedelta(minutes=1)

FORGET_AFTER = timedelta(minutes=5)
"""An aircraft not heard for this long is forgotten (its next frames start afresh)."""


def _crc_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte << 16
        for _ in range(8):
            crc = (crc << 1) ^ _GENERATOR if crc & 0x800000 else crc << 1
        table.append(crc & 0xFFFFFF)
    return table


_TABLE = _crc_table()


def crc24(data: bytes) -> int:
    """The Mode S CRC-24 of ``data`` (generator 0xFFF409): for an extended squitter,
    the remainder over all but its last 3 bytes equals those 3 bytes.

    >>> frame = bytes.fromhex("8D4840D6202CC371C32CE0576098")
    >>> crc24(frame[:-3]) == int.from_bytes(frame[-3:])
    True
    """
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFF) ^ _TABLE[((crc >> 16) ^ byte) & 0xFF]
    return crc


def identification(me: int) -> str:
    """The callsign of an identification message (56-bit ME field), trailing spaces off.

    >>> identification(int.from_bytes(bytes.fromhex("8D4840D6202CC371C32CE0576098")[4:11]))
    'KLM1023'
    """
    chars = [_CHARSET[(me >> (42 - 6 * k)) & 0x3F] for k in range(8)]
    return "".join(chars).replace("#", "").rstrip()


def nl(lat: float) -> int:
    """The number of longitude zones at latitude ``lat`` (CPR, NZ = 15).

    >>> nl(0.0), nl(52.2572), nl(87.0), nl(-88.0)
    (59, 36, 2, 1)
    """
    if lat == 0.0:
        return 59
    if abs(lat) == 87.0:
        return 2
    if abs(lat) > 87.0:
        return 1
    a = 1.0 - math.cos(math.pi / (2 * _NZ))
    b = math.cos(math.pi / 180.0 * abs(lat)) ** 2
    return math.floor(2 * math.pi / math.acos(1.0 - a / b))


def cpr_global(
    even: tuple[int, int], odd: tuple[int, int], newest_is_odd: bool
) -> tuple[float, float] | None:
    """(lat, lon) from an even and an odd airborne CPR pair (17-bit lat, lon each),
    taken at the newer one; ``None`` when the two lie in different longitude zones.

    >>> cpr_global((93000, 51372), (74158, 50194), newest_is_odd=False)
    (52.2572021484375, 3.91937255859375)
    """
    lat_e, lon_e = even[0] / _CPR_SCALE, even[1] / _CPR_SCALE
    lat_o, lon_o = odd[0] / _CPR_SCALE, odd[1] / _CPR_SCALE
    d_lat_e, d_lat_o = 360.0 / (4 * _NZ), 360.0 / (4 * _NZ - 1)
    j = math.floor(59 * lat_e - 60 * lat_o + 0.5)
    lat_even = d_lat_e * (j % 60 + lat_e)
    lat_odd = d_lat_o * (j % 59 + lat_o)
    lat_even -= 360.0 if lat_even >= 270.0 else 0.0
    lat_odd -= 360.0 if lat_odd >= 270.0 else 0.0
    if nl(lat_even) != nl(lat_odd):
        return None
    lat = lat_odd if newest_is_odd else lat_even
    zones = nl(lat)
    m = math.floor(lon_e * (zones - 1) - lon_o * zones + 0.5)
    n = max(zones - 1 if newest_is_odd else zones, 1)
    lon = (360.0 / n) * (m % n + (lon_o if newest_is_odd else lon_e))
    lon -= 360.0 if lon >= 180.0 else 0.0
    return lat, lon


def cpr_local(
    cpr: tuple[int, int], odd: bool, reference: tuple[float, float]
) -> tuple[float, float]:
    """(lat, lon) of one airborne CPR frame near ``reference`` (lat, lon), which must lie
    within 180 NM of it (here: the aircraft's own position seconds before).

    >>> cpr_local((93000, 51372), False, (52.258, 3.918))
    (52.2572021484375, 3.91937255859375)
    """
    lat_cpr, lon_cpr = cpr[0] / _CPR_SCALE, cpr[1] / _CPR_SCALE
    i = 1 if odd else 0
    d_lat = 360.0 / (4 * _NZ - i)
    ref_lat, ref_lon = reference
    j = math.floor(ref_lat / d_lat) + math.floor((ref_lat % d_lat) / d_lat - lat_cpr + 0.5)
    lat = d_lat * (j + lat_cpr)
    d_lon = 360.0 / max(nl(lat) - i, 1)
    m = math.floor(ref_lon / d_lon) + math.floor((ref_lon % d_lon) / d_lon - lon_cpr + 0.5)
    lon = d_lon * (m + lon_cpr)
    return lat, lon


@dataclass
class _Aircraft:
    heard: datetime
    callsign: str | None = None
    even: tuple[tuple[int, int], datetime] | None = None
    odd: tuple[tuple[int, int], datetime] | None = None
    position: tuple[float, float, datetime] | None = None
    velocity: tuple[float, float, float, datetime] | None = None  # gs m/s, trk deg, vs m/s


class ModesDecoder:
    """Merges DF17/18 frames per ICAO address into :class:`AircraftState` s (see the
    module). ``frames`` counts what came in; ``dropped`` what led nowhere, by reason."""

    def __init__(self, max_velocity_age_s: Seconds = 30.0) -> None:
        self.max_velocity_age = timedelta(seconds=max_velocity_age_s)
        self.frames = 0
        self.dropped: Counter[str] = Counter()
        self._aircraft: dict[str, _Aircraft] = {}
        self._swept: datetime | None = None

    def feed(self, frame: bytes, at: datetime) -> AircraftState | None:
        """Take one frame received at ``at`` (UTC); the new state of its aircraft when
        the frame completes one."""
        self.frames += 1
        df = frame[0] >> 3 if frame else -1
        if df not in (17, 18):
            self.dropped["not an extended squitter"] += 1
            return None
        if len(frame) != 14:
            self.dropped["frame too short"] += 1
            return None
        if crc24(frame[:11]) != int.from_bytes(frame[11:]):
            self.dropped["parity (CRC) wrong"] += 1
            return None
        icao = frame[1:4].hex()
        me = int.from_bytes(frame[4:11])
        tc = me >> 51
        aircraft = self._aircraft.get(icao)
        if aircraft is None:
            self._forget(at)
            aircraft = self._aircraft[icao] = _Aircraft(at)
        aircraft.heard = at
        if 1 <= tc <= 4:
            aircraft.callsign = identification(me) or None
            return None
        if tc == 19:
            self._velocity(aircraft, me, at)
            return None
        if 9 <= tc <= 18 or 20 <= tc <= 22:
            return self._position(icao, aircraft, me, tc, at)
        self.dropped["other message type"] += 1
        return None

    @property
    def aircraft(self) -> int:
        """How many aircraft the decoder remembers."""
        return len(self._aircraft)

    def _forget(self, now: datetime) -> None:
        """Drop the aircraft not heard for :data:`FORGET_AFTER` (a long-running feed
        hears thousands), at most once a minute."""
        if self._swept is not None and now - self._swept < _SWEEP_EVERY:
            return
        self._swept = now
        self._aircraft = {
            icao: a for icao, a in self._aircraft.items() if now - a.heard <= FORGET_AFTER
        }

    def _velocity(self, aircraft: _Aircraft, me: int, at: datetime) -> None:
        subtype = (me >> 48) & 0x7
        if subtype not in (1, 2):
            self.dropped["velocity not over ground"] += 1
            return
        v_ew, v_ns = (me >> 32) & 0x3FF, (me >> 21) & 0x3FF
        v_rate = (me >> 10) & 0x1FF
        if v_ew == 0 or v_ns == 0:
            self.dropped["velocity not available"] += 1
            return
        factor = 4 if subtype == 2 else 1
        east = (v_ew - 1) * factor * (-1 if (me >> 42) & 1 else 1)
        north = (v_ns - 1) * factor * (-1 if (me >> 31) & 1 else 1)
        vertical = 0.0 if v_rate == 0 else (v_rate - 1) * 64 * (-1 if (me >> 19) & 1 else 1)
        gs = knots_to_mps(math.hypot(east, north))
        trk = math.degrees(math.atan2(east, north)) % 360.0
        aircraft.velocity = (gs, trk, vertical * _FEET_PER_MINUTE_MPS, at)

    def _position(
        self, icao: str, aircraft: _Aircraft, me: int, tc: int, at: datetime
    ) -> AircraftState | None:
        alt_m = self._altitude((me >> 36) & 0xFFF, gnss=tc >= 20)
        if alt_m is None:
            return None
        odd = bool((me >> 34) & 1)
        cpr = ((me >> 17) & 0x1FFFF, me & 0x1FFFF)
        if odd:
            aircraft.odd = (cpr, at)
        else:
            aircraft.even = (cpr, at)
        position = self._locate(aircraft, cpr, odd, at)
        if position is None:
            self.dropped["no position yet"] += 1
            return None
        aircraft.position = (*position, at)
        velocity = aircraft.velocity
        if velocity is None or abs(at - velocity[3]) > self.max_velocity_age:
            self.dropped["no velocity yet"] += 1
            return None
        return AircraftState(
            id=icao,
            timestamp=at,
            lon=position[1],
            lat=position[0],
            alt_m=alt_m,
            gs_mps=velocity[0],
            trk_deg=velocity[1],
            vs_mps=velocity[2],
            callsign=aircraft.callsign,
        )

    def _altitude(self, code: int, gnss: bool) -> float | None:
        if code == 0:
            self.dropped["altitude not available"] += 1
            return None
        if gnss:
            return float(code)
        if not code & 0x10:  # Q bit clear: Gillham (100 ft) code, rare in ADS-B
            self.dropped["altitude in 100 ft Gillham code"] += 1
            return None
        n = ((code & 0xFE0) >> 1) | (code & 0xF)
        return feet_to_metres(n * 25 - 1000)

    @staticmethod
    def _locate(
        aircraft: _Aircraft, cpr: tuple[int, int], odd: bool, at: datetime
    ) -> tuple[float, float] | None:
        last = aircraft.position
        if last is not None and at - last[2] <= _LOCAL_REFERENCE_AGE:
            return cpr_local(cpr, odd, (last[0], last[1]))
        if aircraft.even is None or aircraft.odd is None:
            return None
        (even, even_at), (odd_cpr, odd_at) = aircraft.even, aircraft.odd
        if abs(even_at - odd_at) > _PAIR_WINDOW:
            return None
        return cpr_global(even, odd_cpr, newest_is_odd=odd)

"""SBS-1 BaseStation lines (the port 30003 text feed) merged into aircraft states.

Each line is one comma-separated message; the ``MSG`` ones carry, by transmission
type, the callsign (1), the airborne position with altitude (3) and the velocity with
vertical rate (4). :class:`Sbs1Decoder` keeps the latest of each per ICAO address and,
for every position, hands out an :class:`AircraftState` built from it and the latest
velocity, if that is no older than ``max_velocity_age_s``. Feet, knots and feet per
minute are converted to metres, m/s and m/s here. The message time is the
"generated" date and time (fields 7 and 8), read in ``tz`` (BaseStation writes the
receiver's clock; UTC by default).

A line that is not a well-formed SBS-1 message is counted in ``bad_lines`` and does
not stop the feed; other message kinds (``AIR``, ``ID``, ``STA``, ``SEL``, ``CLK``) and
other transmission types are counted in ``ignored_lines``.

>>> decoder = Sbs1Decoder()
>>> decoder.feed("MSG,4,1,1,4CA2D6,1,2008/11/28,23:48:18.000,2008/11/28,23:48:18.100,"
...              ",,420,271.3,,,-1024,,,,,0") is None
True
>>> state = decoder.feed("MSG,3,1,1,4CA2D6,1,2008/11/28,23:48:19.000,2008/11/28,"
...                      "23:48:19.100,,37000,,,51.45735,-1.02826,,,0,0,0,0")
>>> (state.id, state.alt_m, round(state.gs_mps, 2), round(state.vs_mps, 3))
('4ca2d6', 11277.6, 216.07, -5.202)
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from deconfliction.core.units import FOOT_M, Seconds, feet_to_metres, knots_to_mps
from deconfliction.feeds.traffic import AircraftState

__all__ = ["Sbs1Decoder", "Sbs1Stream"]

_FIELDS = 22
_MAX_LINE = 1024
_FEET_PER_MINUTE_MPS = FOOT_M / 60.0
_MESSAGE_KINDS = {"MSG", "SEL", "ID", "AIR", "STA", "CLK"}


@dataclass
class _Velocity:
    at: datetime
    gs_mps: float
    trk_deg: float
    vs_mps: float


def _number(text: str) -> float | None:
    if not text.strip():
        return None
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is not finite")
    return value


def _instant(date: str, time: str, tz: tzinfo) -> datetime:
    year, month, day = (int(p) for p in date.split("/"))
    hours, minutes, seconds = time.split(":")
    whole = float(seconds)
    moment = datetime(year, month, day, int(hours), int(minutes), tzinfo=tz)
    return (moment + timedelta(seconds=whole)).astimezone(UTC)


class Sbs1Decoder:
    """Merges SBS-1 MSG lines per ICAO address into :class:`AircraftState` s."""

    def __init__(self, tz: tzinfo = UTC, max_velocity_age_s: Seconds = 30.0) -> None:
        self.tz = tz
        self.max_velocity_age = timedelta(seconds=max_velocity_age_s)
        self.lines = 0
        self.bad_lines = 0
        self.ignored_lines = 0
        self.states: dict[str, AircraftState] = {}
        self._callsigns: dict[str, str] = {}
        self._velocities: dict[str, _Velocity] = {}

    def feed(self, line: str) -> AircraftState | None:
        """Take one line; the new state of its aircraft when the line completes one."""
        self.lines += 1
        fields = line.rstrip("\r\n").split(",")
        if fields[0] not in _MESSAGE_KINDS:
            self.bad_lines += 1
            return None
        if fields[0] != "MSG":
            self.ignored_lines += 1
            return None
        try:
            return self._message(fields)
        except ValueError:
            self.bad_lines += 1
            return None

    def decode(self, lines: Iterable[str]) -> Iterator[AircraftState]:
        """Every state the lines complete, in order."""
        for line in lines:
            state = self.feed(line)
            if state is not None:
                yield state

    def _message(self, fields: list[str]) -> AircraftState | None:
        if len(fields) != _FIELDS:
            raise ValueError(f"an SBS-1 MSG line has {_FIELDS} fields, not {len(fields)}")
        kind = int(fields[1])
        icao = fields[4].strip().lower()
        if len(icao) != 6 or any(c not in "0123456789abcdef" for c in icao):
            raise ValueError(f"{fields[4]!r} is not a 24-bit ICAO address")
        at = _instant(fields[6] or fields[8], fields[7] or fields[9], self.tz)
        if kind == 1:
            callsign = fields[10].strip()
            if callsign:
                self._callsigns[icao] = callsign
            return None
        if kind == 4:
            gs, trk, vs = _number(fields[12]), _number(fields[13]), _number(fields[16])
            if gs is None or trk is None or vs is None:
                return None
            self._velocities[icao] = _Velocity(
                at, knots_to_mps(gs), trk % 360.0, vs * _FEET_PER_MINUTE_MPS
            )
            return None
        if kind == 3:
            return self._position(icao, at, fields)
        self.ignored_lines += 1
        return None

    def _position(self, icao: str, at: datetime, fields: list[str]) -> AircraftState | None:
        alt, lat, lon = _number(fields[11]), _number(fields[14]), _number(fields[15])
        if alt is None or lat is None or lon is None:
            return None
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
            raise ValueError(f"position {lat}, {lon} is not on the Earth")
        velocity = self._velocities.get(icao)
        if velocity is None or abs(at - velocity.at) > self.max_velocity_age:
            return None
        state = AircraftState(
            id=icao,
            timestamp=at,
            lon=lon,
            lat=lat,
            alt_m=feet_to_metres(alt),
            gs_mps=velocity.gs_mps,
            trk_deg=velocity.trk_deg,
            vs_mps=velocity.vs_mps,
            callsign=self._callsigns.get(icao),
        )
        self.states[icao] = state
        return state


class Sbs1Stream:
    """The port 30003 byte stream, cut into lines for a :class:`Sbs1Decoder`, in pieces as
    they arrive (a line may straddle two reads). ``messages`` counts lines; ``dropped``
    the unreadable ones and the message kinds passed over."""

    def __init__(self, decoder: Sbs1Decoder | None = None) -> None:
        self.decoder = decoder or Sbs1Decoder()
        self._buffer = b""

    @property
    def messages(self) -> int:
        return self.decoder.lines

    @property
    def dropped(self) -> Counter[str]:
        return +Counter(
            {
                "unreadable SBS-1 line": self.decoder.bad_lines,
                "other message kind": self.decoder.ignored_lines,
            }
        )

    def restart(self) -> None:
        """A new connection: a line cut off by the one before is dropped."""
        self._buffer = b""

    def feed(self, data: bytes, at: datetime) -> list[AircraftState]:
        """Take the next bytes of the stream; the states completed (their time is the
        line's own; ``at`` is not used)."""
        *lines, self._buffer = (self._buffer + data).split(b"\n")
        if len(self._buffer) > _MAX_LINE:
            self.decoder.lines += 1
            self.decoder.bad_lines += 1
            self._buffer = b""
        text = (line.decode("ascii", "replace") for line in lines if line.strip())
        return list(self.decoder.decode(text))

"""Frames for the feed tests, with where each comes from.

Mode S: the worked examples of Junzi Sun, *The 1090 MHz Riddle* (2nd ed., 2021,
https://mode-s.org/decode), each checked there against pyModeS:

- ``8D4840D6202CC371C32CE0576098``: identification, ICAO 4840D6, callsign KLM1023;
- ``8D40621D58C382D690C8AC2863A7`` (even) and ``8D40621D58C386435CC412692AD6`` (odd):
  airborne position of 40621D, 38,000 ft, lat 52.2572, lon 3.91937 (even newest);
- ``8D485020994409940838175B284F``: airborne velocity (ground speed), 485020,
  159.20 kt, track 182.88°, -832 ft/min.

Other Mode S frames here are constructed with :func:`squitter` (ME field laid out as
the book describes, parity from :func:`~deconfliction.feeds.modes.crc24`).

ASTERIX: constructed byte by byte with :func:`cat021` and :func:`cat062` from the item
layouts of the EUROCONTROL specifications (CAT021 ed. 2.1+ and CAT062 ed. 1.18+:
FSPEC, then the items in UAP order), independently of the decoder under test.
"""

from __future__ import annotations

import math
import struct
from datetime import datetime

from deconfliction.feeds.modes import crc24, nl

KLM_IDENT = bytes.fromhex("8D4840D6202CC371C32CE0576098")
POSITION_EVEN = bytes.fromhex("8D40621D58C382D690C8AC2863A7")
POSITION_ODD = bytes.fromhex("8D40621D58C386435CC412692AD6")
VELOCITY_485020 = bytes.fromhex("8D485020994409940838175B284F")

_CHARSET = "#ABCDEFGHIJKLMNOPQRSTUVWXYZ##### ###############0123456789######"


def squitter(icao: int, me: int) -> bytes:
    """A DF17 frame (capability 5) for ``icao`` with the 56-bit ``me``, parity added."""
    head = bytes([0x8D]) + icao.to_bytes(3, "big") + me.to_bytes(7, "big")
    return head + crc24(head).to_bytes(3, "big")


def velocity_me(east_kt: int, north_kt: int, vs_fpm: int = 0) -> int:
    """Type code 19, subtype 1 (ground speed, subsonic)."""
    me = 19 << 51 | 1 << 48
    me |= (1 if east_kt < 0 else 0) << 42 | (abs(east_kt) + 1) << 32
    me |= (1 if north_kt < 0 else 0) << 31 | (abs(north_kt) + 1) << 21
    me |= (1 if vs_fpm < 0 else 0) << 19 | (abs(vs_fpm) // 64 + 1) << 10
    return me


def cpr_encode(lat: float, lon: float, odd: bool) -> tuple[int, int]:
    """The 17-bit airborne CPR latitude and longitude of a position (Annex 10)."""
    i = 1 if odd else 0
    d_lat = 360 / (60 - i)
    yz = math.floor((lat % d_lat) / d_lat * 2**17 + 0.5)
    r_lat = d_lat * (yz / 2**17 + lat // d_lat)
    d_lon = 360 / max(nl(r_lat) - i, 1)
    xz = math.floor((lon % d_lon) / d_lon * 2**17 + 0.5)
    return yz % 2**17, xz % 2**17


def position_me(lat: float, lon: float, alt_ft: float, odd: bool) -> int:
    """Type code 11 (airborne position, barometric altitude in 25 ft steps)."""
    n = round((alt_ft + 1000) / 25)
    code = (n & 0x7F0) << 1 | 0x10 | (n & 0xF)
    yz, xz = cpr_encode(lat, lon, odd)
    return 11 << 51 | code << 36 | int(odd) << 34 | yz << 17 | xz


def chars(text: str) -> bytes:
    """8 characters in the 6-bit ICAO alphabet, 6 bytes."""
    n = 0
    for c in text.ljust(8)[:8]:
        n = n << 6 | _CHARSET.index(c)
    return n.to_bytes(6, "big")


def _i24(value: int) -> bytes:
    return (value & 0xFFFFFF).to_bytes(3, "big")


def _seconds_of_day(at: datetime) -> int:
    return round((at.hour * 3600 + at.minute * 60 + at.second + at.microsecond / 1e6) * 128)


def _block(category: int, records: list[bytes]) -> bytes:
    body = b"".join(records)
    return bytes([category]) + struct.pack(">H", 3 + len(body)) + body


def cat021(
    address: int,
    at: datetime,
    lat: float,
    lon: float,
    fl: float,
    gs_kt: float,
    trk: float,
    vs_fpm: float,
    callsign: str,
) -> bytes:
    """One CAT021 record with 010, 071, 131, 080, 145, 155, 160 and 170."""
    fspec = bytes([0x8B, 0x11, 0x03, 0x29, 0x80])  # FRN 1 5 7 | 11 | 21 | 24 26 | 29
    scale = 180 / 2**30
    return (
        fspec
        + bytes([25, 1])
        + _i24(_seconds_of_day(at))
        + struct.pack(">ii", round(lat / scale), round(lon / scale))
        + _i24(address)
        + struct.pack(">h", round(fl * 4))
        + struct.pack(">h", round(vs_fpm / 6.25))
        + struct.pack(">HH", round(gs_kt / 3600 * 2**14), round(trk / 360 * 2**16) % 2**16)
        + chars(callsign)
    )


def cat062(
    address: int | None,
    track: int,
    at: datetime,
    lat: float,
    lon: float,
    fl: float,
    gs_mps: float,
    trk: float,
    vs_fpm: float,
    callsign: str,
) -> bytes:
    """One CAT062 record with 010, 070, 105, 185, 245, 380/ADR (when ``address``), 040,
    136 and 220."""
    fspec = bytes([0x9B, 0x39 if address is not None else 0x29, 0x24])
    scale = 180 / 2**25
    vx = gs_mps * math.sin(math.radians(trk))
    vy = gs_mps * math.cos(math.radians(trk))
    derived = b"" if address is None else bytes([0x80]) + _i24(address)
    return (
        fspec
        + bytes([25, 2])
        + _i24(_seconds_of_day(at))
        + struct.pack(">ii", round(lat / scale), round(lon / scale))
        + struct.pack(">hh", round(vx / 0.25), round(vy / 0.25))
        + bytes([0])
        + chars(callsign)
        + derived
        + struct.pack(">H", track)
        + struct.pack(">h", round(fl * 4))
        + struct.pack(">h", round(vs_fpm / 6.25))
    )


def datablock(category: int, records: list[bytes]) -> bytes:
    """A data block of ``category`` holding ``records``."""
    return _block(category, records)

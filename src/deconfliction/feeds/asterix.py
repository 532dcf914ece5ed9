"""ASTERIX CAT021 (ADS-B target reports) and CAT062 (system tracks) to aircraft states.

ASTERIX is EUROCONTROL's binary format for surveillance data: what ANSPs' and air
forces' ADS-B ground stations (CAT021) and tracker systems (CAT062) send, usually as
UDP datagrams of one or more data blocks. The bytes are parsed by ``libasterix``
(MIT licence, generated from the published category specifications, maintained by
Zoran Bošnjak), with the editions named in :data:`CAT021` and :data:`CAT062`; this
module picks the items a state needs and converts them to SI:

=========  ====================================================================
CAT021     target address (080), position (131, else 130), flight level (145,
           else geometric height 140), ground vector (160), vertical rate (155,
           else 157; level when neither), time of applicability (071, else 073,
           else 077), callsign (170)
CAT062     address (380/ADR; else SAC-SIC-track number), position (105),
           velocity (185), measured flight level (136, else 135, else 130), rate
           of climb (220; level when absent), time of track information (070),
           callsign (245, else 380/ID)
=========  ====================================================================

ASTERIX times are seconds since midnight UTC; the day is the one that puts the time
nearest the moment the datagram was received. A record without what a state needs is
counted in ``dropped`` with the item it lacks; an unreadable datagram likewise.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import asterix.generated as spec
from asterix.base import Bits, RawDatablock

from deconfliction.core.units import FOOT_M, feet_to_metres, flight_level_to_metres
from deconfliction.feeds.traffic import AircraftState

__all__ = ["CAT021", "CAT062", "AsterixDatagrams"]

CAT021: Any = spec.Cat_021_2_7
"""The CAT021 edition read (2.7; its record layout holds from 2.1 on)."""

CAT062: Any = spec.Cat_062_1_21
"""The CAT062 edition read (1.21)."""

_NM_M = 1852.0
_FEET_PER_MINUTE_MPS = FOOT_M / 60.0
_DAY = timedelta(days=1)


class _Missing(Exception):
    """A record lacks an item a state needs (the message names it)."""


def _item(record: Any, name: str) -> Any:
    return record.get_item(name)


def _quantity(item: Any, unit: str, *path: str) -> float:
    variation = item.variation
    for name in path:
        variation = variation.get_item(name).variation
    return float(variation.content.as_quantity(unit))


def _time_of_day(seconds: float, received: datetime) -> datetime:
    midnight = received.replace(hour=0, minute=0, second=0, microsecond=0)
    moment = midnight + timedelta(seconds=seconds)
    candidates = (moment - _DAY, moment, moment + _DAY)
    return min(candidates, key=lambda c: abs(c - received))


def _callsign(text: str) -> str | None:
    return text.replace("#", "").strip() or None


class AsterixDatagrams:
    """Datagrams of CAT021 and CAT062 data blocks to aircraft states (see the module).
    ``messages`` counts records; ``dropped`` counts what led nowhere, by reason."""

    def __init__(self) -> None:
        self.messages = 0
        self.dropped: Counter[str] = Counter()

    def restart(self) -> None:
        """Datagrams stand alone: nothing to drop."""

    def feed(self, data: bytes, at: datetime) -> list[AircraftState]:
        """Take one datagram received at ``at`` (UTC); the states of its records."""
        blocks = RawDatablock.parse(Bits.from_bytes(data))
        if isinstance(blocks, ValueError):
            self.dropped["unreadable ASTERIX data block"] += 1
            return []
        states: list[AircraftState] = []
        for block in blocks:
            category = block.get_category()
            if category not in (21, 62):
                self.dropped[f"ASTERIX category {category} not read"] += 1
                continue
            read = self._cat021 if category == 21 else self._cat062
            uap = (CAT021 if category == 21 else CAT062).cv_uap
            records = uap.parse(block.get_raw_records())
            if isinstance(records, ValueError):
                self.dropped[f"unreadable CAT{category:03d} record"] += 1
                continue
            for record in records:
                self.messages += 1
                try:
                    states.append(read(record, at))
                except _Missing as missing:
                    self.dropped[str(missing)] += 1
        return states

    @staticmethod
    def _cat021(record: Any, at: datetime) -> AircraftState:
        address = _item(record, "080")
        if address is None:
            raise _Missing("CAT021 without target address (080)")
        position = _item(record, "131") or _item(record, "130")
        if position is None:
            raise _Missing("CAT021 without position (131/130)")
        if (level := _item(record, "145")) is not None:
            alt_m = flight_level_to_metres(_quantity(level, "FL"))
        elif (height := _item(record, "140")) is not None:
            alt_m = feet_to_metres(_quantity(height, "ft"))
        else:
            raise _Missing("CAT021 without altitude (145/140)")
        vector = _item(record, "160")
        if vector is None:
            raise _Missing("CAT021 without ground vector (160)")
        if (rate := _item(record, "155")) is not None:
            vs_mps = _quantity(rate, "ft/min", "BVR") * _FEET_PER_MINUTE_MPS
        elif (rate := _item(record, "157")) is not None:
            vs_mps = _quantity(rate, "ft/min", "GVR") * _FEET_PER_MINUTE_MPS
        else:
            vs_mps = 0.0
        stamp = next(
            (i for i in (_item(record, n) for n in ("071", "073", "077")) if i is not None),
            None,
        )
        ident = _item(record, "170")
        return AircraftState(
            id=f"{address.as_uint():06x}",
            timestamp=at if stamp is None else _time_of_day(_quantity(stamp, "s"), at),
            lon=_quantity(position, "°", "LON"),
            lat=_quantity(position, "°", "LAT"),
            alt_m=alt_m,
            gs_mps=_quantity(vector, "NM/s", "GS") * _NM_M,
            trk_deg=_quantity(vector, "°", "TA") % 360.0,
            vs_mps=vs_mps,
            callsign=None if ident is None else _callsign(ident.variation.content.as_string()),
        )

    @staticmethod
    def _cat062(record: Any, at: datetime) -> AircraftState:
        position = _item(record, "105")
        if position is None:
            raise _Missing("CAT062 without WGS-84 position (105)")
        velocity = _item(record, "185")
        if velocity is None:
            raise _Missing("CAT062 without velocity (185)")
        if (level := _item(record, "136")) is not None:
            alt_m = flight_level_to_metres(_quantity(level, "FL"))
        elif (level := _item(record, "135")) is not None:
            alt_m = flight_level_to_metres(_quantity(level, "FL", "CTB"))
        elif (height := _item(record, "130")) is not None:
            alt_m = feet_to_metres(_quantity(height, "ft"))
        else:
            raise _Missing("CAT062 without altitude (136/135/130)")
        derived = _item(record, "380")
        address = None if derived is None else derived.variation.get_item("ADR")
        if address is not None:
            ident = f"{address.variation.content.as_uint():06x}"
        else:
            source, track = _item(record, "010"), _item(record, "040")
            if source is None or track is None:
                raise _Missing("CAT062 without address (380/ADR) or track number (010, 040)")
            sac = source.variation.get_item("SAC").as_uint()
            sic = source.variation.get_item("SIC").as_uint()
            ident = f"{sac}-{sic}-{track.as_uint()}"
        vx = _quantity(velocity, "m/s", "VX")
        vy = _quantity(velocity, "m/s", "VY")
        rate = _item(record, "220")
        stamp = _item(record, "070")
        name = _item(record, "245")
        callsign = None
        if name is not None:
            callsign = _callsign(name.variation.get_item("CHR").variation.content.as_string())
        elif derived is not None and (sub := derived.variation.get_item("ID")) is not None:
            callsign = _callsign(sub.variation.content.as_string())
        return AircraftState(
            id=ident,
            timestamp=at if stamp is None else _time_of_day(_quantity(stamp, "s"), at),
            lon=_quantity(position, "°", "LON"),
            lat=_quantity(position, "°", "LAT"),
            alt_m=alt_m,
            gs_mps=math.hypot(vx, vy),
            trk_deg=math.degrees(math.atan2(vx, vy)) % 360.0,
            vs_mps=0.0 if rate is None else _quantity(rate, "ft/min") * _FEET_PER_MINUTE_MPS,
            callsign=callsign,
        )

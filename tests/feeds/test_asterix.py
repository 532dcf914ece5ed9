"""ASTERIX CAT021 and CAT062 records built byte by byte (see :mod:`tests.feeds.frames`)
read into states in SI; records without what a state needs counted by the item missing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from deconfliction.core.units import FOOT_M, knots_to_mps
from deconfliction.feeds.asterix import AsterixDatagrams
from tests.feeds.frames import cat021, cat062, datablock

NOW = datetime(2026, 3, 2, 8, 0, 30, tzinfo=UTC)


def test_a_cat021_report_in_si() -> None:
    reader = AsterixDatagrams()
    record = cat021(0x4CA2D6, NOW, 46.5, 14.5, 350, 450, 271, -1000, "ADR123")
    (state,) = reader.feed(datablock(21, [record]), NOW)
    assert (state.id, state.callsign, state.timestamp) == ("4ca2d6", "ADR123", NOW)
    assert (state.lat, state.lon) == pytest.approx((46.5, 14.5), abs=1e-6)
    assert state.alt_m == pytest.approx(35000 * FOOT_M)
    assert state.gs_mps == pytest.approx(knots_to_mps(450), abs=0.2)
    assert state.trk_deg == pytest.approx(271, abs=0.01)
    assert state.vs_mps == pytest.approx(-1000 * FOOT_M / 60, abs=0.02)


def test_cat062_tracks_with_and_without_an_address() -> None:
    reader = AsterixDatagrams()
    records = [
        cat062(0x3C6544, 7, NOW, 50.1, 8.6, 120, 200.0, 45, 1500, "DLH4AB"),
        cat062(None, 4095, NOW, 50.2, 8.7, 55.5, 80.0, 180, 0, "MIL01"),
    ]
    first, second = reader.feed(datablock(62, records), NOW)
    assert (first.id, first.callsign) == ("3c6544", "DLH4AB")
    assert (first.lat, first.lon) == pytest.approx((50.1, 8.6), abs=1e-5)
    assert first.alt_m == pytest.approx(12000 * FOOT_M)
    assert first.gs_mps == pytest.approx(200.0, abs=0.3)
    assert first.trk_deg == pytest.approx(45, abs=0.1)
    assert first.vs_mps == pytest.approx(1500 * FOOT_M / 60, abs=0.02)
    assert second.id == "25-2-4095"  # SAC-SIC-track number
    assert second.alt_m == pytest.approx(5550 * FOOT_M)
    assert second.trk_deg == pytest.approx(180, abs=0.1)
    assert reader.messages == 2


def test_the_day_is_the_one_nearest_reception() -> None:
    reader = AsterixDatagrams()
    sent = NOW.replace(hour=23, minute=59, second=59)
    received = sent + timedelta(seconds=2)  # just after midnight
    (state,) = reader.feed(datablock(21, [cat021(1, sent, 46, 14, 100, 200, 0, 0, "X")]), received)
    assert state.timestamp == sent


def test_what_cannot_be_read_is_counted_by_reason() -> None:
    reader = AsterixDatagrams()
    no_position = bytes([0x80]) + bytes([25, 1])  # CAT021 with only I021/010
    other = bytes([48, 0, 4, 0x00])
    assert reader.feed(datablock(21, [no_position]) + other, NOW) == []
    assert reader.feed(b"\x15\x00\x09garbage", NOW) == []
    assert reader.feed(b"\x15\xff", NOW) == []
    assert reader.dropped["CAT021 without target address (080)"] == 1
    assert reader.dropped["ASTERIX category 48 not read"] == 1
    assert sum(reader.dropped.values()) == 4

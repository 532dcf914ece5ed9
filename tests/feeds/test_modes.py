"""Mode S decoding against the worked examples of *The 1090 MHz Riddle* (see
:mod:`tests.feeds.frames`), CPR properties, and Beast and AVR framing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deconfliction.core.units import FOOT_M, knots_to_mps
from deconfliction.feeds.beast import AvrStream, BeastStream
from deconfliction.feeds.modes import FORGET_AFTER, ModesDecoder, cpr_global, cpr_local, crc24, nl
from tests.feeds.frames import (
    KLM_IDENT,
    POSITION_EVEN,
    POSITION_ODD,
    VELOCITY_485020,
    cpr_encode,
    position_me,
    squitter,
    velocity_me,
)

T0 = datetime(2016, 3, 14, 23, 0, tzinfo=UTC)
VELOCITY_40621D = squitter(0x40621D, velocity_me(east_kt=-20, north_kt=400, vs_fpm=-640))


def test_the_books_frames_have_good_parity() -> None:
    for frame in (KLM_IDENT, POSITION_EVEN, POSITION_ODD, VELOCITY_485020):
        assert crc24(frame[:11]) == int.from_bytes(frame[11:])


def test_velocity_over_ground_as_in_the_book() -> None:
    decoder = ModesDecoder()
    assert decoder.feed(VELOCITY_485020, T0) is None
    # 159.20 kt, 182.88 degrees, -832 ft/min; a position then makes a state of it
    decoder.feed(squitter(0x485020, int.from_bytes(POSITION_ODD[4:11])), T0)
    state = decoder.feed(squitter(0x485020, int.from_bytes(POSITION_EVEN[4:11])), T0)
    assert state is not None
    assert state.gs_mps == pytest.approx(knots_to_mps(159.20), abs=0.01)
    assert state.trk_deg == pytest.approx(182.88, abs=0.01)
    assert state.vs_mps == pytest.approx(-832 * FOOT_M / 60)


def test_an_aircraft_becomes_a_state_with_the_books_position() -> None:
    decoder = ModesDecoder()
    assert decoder.feed(KLM_IDENT, T0) is None
    assert decoder.feed(VELOCITY_40621D, T0) is None
    assert decoder.feed(POSITION_ODD, T0) is None  # one frame: no position yet
    state = decoder.feed(POSITION_EVEN, T0 + timedelta(seconds=2))
    assert state is not None
    assert (state.id, state.timestamp) == ("40621d", T0 + timedelta(seconds=2))
    assert state.lat == pytest.approx(52.2572, abs=1e-4)
    assert state.lon == pytest.approx(3.91937, abs=1e-5)
    assert state.alt_m == pytest.approx(38000 * FOOT_M)
    assert state.gs_mps == pytest.approx(knots_to_mps((20**2 + 400**2) ** 0.5))
    assert state.trk_deg == pytest.approx(360 - 2.862, abs=0.01)
    assert state.vs_mps == pytest.approx(-640 * FOOT_M / 60)
    # then one frame at a time, decoded locally from the last position
    again = decoder.feed(POSITION_ODD, T0 + timedelta(seconds=3))
    assert again is not None
    assert again.lat == pytest.approx(52.2658, abs=1e-3)  # the odd frame, two seconds older


def test_frames_that_lead_nowhere_are_counted_by_reason() -> None:
    decoder = ModesDecoder()
    broken = bytearray(POSITION_EVEN)
    broken[6] ^= 0x10
    decoder.feed(bytes(broken), T0)
    decoder.feed(bytes.fromhex("5D4840D6A1B2C3"), T0)  # DF11 all-call reply
    decoder.feed(POSITION_EVEN, T0)
    decoder.feed(POSITION_ODD, T0 + timedelta(seconds=11))  # too far apart for a pair
    assert decoder.frames == 4
    assert decoder.dropped == {
        "parity (CRC) wrong": 1,
        "not an extended squitter": 1,
        "no position yet": 2,
    }


def test_the_global_decode_takes_the_newer_frame_and_refuses_straddling_pairs() -> None:
    even, odd = (93000, 51372), (74158, 50194)
    assert cpr_global(even, odd, newest_is_odd=True) == pytest.approx((52.26578, 3.93891), abs=1e-5)
    # an even frame at 10.462 N and an odd one at 10.472 N lie in different longitude
    # zones (NL 59 and 58): no global position from them
    assert nl(10.462) != nl(10.472)
    assert cpr_global((97474, 0), (93880, 0), newest_is_odd=True) is None


@given(
    lat=st.floats(min_value=-80, max_value=80),
    lon=st.floats(min_value=-179.9, max_value=179.9),
    odd=st.booleans(),
)
def test_local_decoding_finds_the_encoded_position(lat: float, lon: float, odd: bool) -> None:
    """Encode a position (the Annex 10 CPR encoding), decode it near a reference a few
    km off: the position comes back to within the CPR resolution (about 5 m)."""
    cpr = cpr_encode(lat, lon, odd)
    got_lat, got_lon = cpr_local(cpr, odd, (lat + 0.03, lon - 0.03))
    got_lon = (got_lon + 180) % 360 - 180
    assert got_lat == pytest.approx(lat, abs=1e-4)
    assert got_lon == pytest.approx(lon, abs=2e-4)


def _beast(frame: bytes) -> bytes:
    body = bytes([0x00, 0x1A, 0x02, 0x03, 0x04, 0x05]) + b"\x80" + frame  # a 0x1A in the time
    kind = b"3" if len(frame) == 14 else b"2"
    return b"\x1a" + kind + body.replace(b"\x1a", b"\x1a\x1a")


def test_beast_frames_split_anywhere_and_escaped_come_out_whole() -> None:
    frames = [KLM_IDENT, VELOCITY_40621D, POSITION_ODD, POSITION_EVEN]
    data = b"".join(_beast(f) for f in frames)
    assert data.count(b"\x1a\x1a") >= 4
    for cut in range(1, len(data)):
        stream = BeastStream()
        states = stream.feed(data[:cut], T0) + stream.feed(data[cut:], T0)
        assert [s.id for s in states] == ["40621d"], cut
        assert stream.messages == 4


def test_beast_resynchronises_after_garbage_and_broken_frames() -> None:
    stream = BeastStream()
    data = (
        b"noise"
        + _beast(VELOCITY_40621D)[:9]  # cut short by a new frame: a lone 0x1A
        + _beast(VELOCITY_40621D)
        + b"\x1a9junk"
        + _beast(POSITION_ODD)
        + b"\x1a1"
        + bytes(9)  # Mode A/C: passed over
        + _beast(POSITION_EVEN)
    )
    states = stream.feed(data, T0)
    assert [s.id for s in states] == ["40621d"]
    assert stream.dropped["bytes outside a frame"] >= 1
    assert stream.dropped["broken Beast frame"] == 1
    assert stream.dropped["unknown Beast frame type"] == 1


def test_avr_lines_with_and_without_timestamps() -> None:
    stream = AvrStream()
    lines = [
        f"*{VELOCITY_40621D.hex().upper()};",
        f"@0123456789AB{POSITION_ODD.hex().upper()};",
        "*8D40621D58C3;",  # not 2, 7 or 14 bytes long
        "garbage",
        f"*{POSITION_EVEN.hex()};",
    ]
    data = ("\r\n".join(lines) + "\r\n").encode()
    states = stream.feed(data[:50], T0) + stream.feed(data[50:], T0)
    assert [s.id for s in states] == ["40621d"]
    assert stream.messages == 3
    assert stream.dropped["unreadable AVR line"] == 2


@given(
    lat=st.floats(min_value=-80, max_value=80),
    lon=st.floats(min_value=-179.9, max_value=179.9),
    alt_ft=st.integers(min_value=-1000, max_value=50000).map(lambda a: a - a % 25),
)
def test_an_encoded_pair_decodes_to_where_it_was(lat: float, lon: float, alt_ft: int) -> None:
    """An odd and an even frame of one position, a second apart: the decoder finds the
    position (within the CPR resolution) and the altitude (exactly, 25 ft steps)."""
    decoder = ModesDecoder()
    icao = 0xABCDEF
    decoder.feed(squitter(icao, velocity_me(100, 100)), T0)
    decoder.feed(squitter(icao, position_me(lat, lon, alt_ft, odd=True)), T0)
    state = decoder.feed(
        squitter(icao, position_me(lat, lon, alt_ft, odd=False)), T0 + timedelta(seconds=1)
    )
    if state is None:  # the two latitudes straddle a longitude-zone boundary: no fix
        assert nl(lat + 0.01) != nl(lat - 0.01)
        return
    assert state.lat == pytest.approx(lat, abs=1e-4)
    assert (state.lon - lon + 180) % 360 - 180 == pytest.approx(0, abs=2e-4)
    assert state.alt_m == pytest.approx(alt_ft * FOOT_M)


def test_aircraft_not_heard_for_a_while_are_forgotten() -> None:
    decoder = ModesDecoder()
    for icao in range(100):
        decoder.feed(squitter(icao, velocity_me(100, 100)), T0)
    assert decoder.aircraft == 100
    later = T0 + FORGET_AFTER + timedelta(seconds=1)
    decoder.feed(KLM_IDENT, later)
    assert decoder.aircraft == 1
    # a position heard before the gap is not paired with one after it
    decoder.feed(VELOCITY_40621D, later)
    decoder.feed(POSITION_ODD, later)
    assert decoder.feed(POSITION_EVEN, later + FORGET_AFTER * 2) is None

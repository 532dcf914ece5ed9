"""SBS-1 BaseStation lines: merging MSG 1/3/4 per aircraft, units, bad lines counted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from deconfliction.feeds.sbs1 import Sbs1Decoder


def msg(kind: int, icao: str, time: str, **fields: str) -> str:
    """One MSG line; ``fields`` by name: callsign, alt, gs, trk, lat, lon, vr, ground."""
    values = [""] * 22
    values[0:10] = ["MSG", str(kind), "1", "1", icao, "1", "2026/03/02", time, "2026/03/02", time]
    names = {"callsign": 10, "alt": 11, "gs": 12, "trk": 13, "lat": 14, "lon": 15, "vr": 16}
    names["ground"] = 21
    for name, value in fields.items():
        values[names[name]] = value
    return ",".join(values)


VELOCITY = msg(4, "4CA2D6", "08:00:00.000", gs="420", trk="271.3", vr="-1024")
POSITION = msg(3, "4CA2D6", "08:00:01.500", alt="37000", lat="51.45735", lon="-1.02826")


def test_position_and_velocity_merge_into_a_state_in_si_units() -> None:
    decoder = Sbs1Decoder()
    assert decoder.feed(msg(1, "4CA2D6", "07:59:59.000", callsign="BAW123  ")) is None
    assert decoder.feed(VELOCITY) is None
    state = decoder.feed(POSITION + "\r\n")
    assert state is not None
    assert state.id == "4ca2d6"
    assert state.callsign == "BAW123"
    assert state.timestamp == datetime(2026, 3, 2, 8, 0, 1, 500_000, tzinfo=UTC)
    assert (state.lon, state.lat) == (-1.02826, 51.45735)
    assert state.alt_m == pytest.approx(37000 * 0.3048)
    assert state.gs_mps == pytest.approx(420 * 1852 / 3600)
    assert state.trk_deg == 271.3
    assert state.vs_mps == pytest.approx(-1024 * 0.3048 / 60)
    assert decoder.states == {"4ca2d6": state}
    assert (decoder.lines, decoder.bad_lines, decoder.ignored_lines) == (3, 0, 0)


def test_no_state_before_a_velocity_nor_after_it_goes_stale() -> None:
    decoder = Sbs1Decoder(max_velocity_age_s=30.0)
    assert decoder.feed(POSITION) is None  # no velocity yet
    decoder.feed(VELOCITY)
    assert decoder.feed(msg(3, "4CA2D6", "08:00:30.000", alt="37000", lat="51.5", lon="-1.0"))
    assert (
        decoder.feed(msg(3, "4CA2D6", "08:00:31.000", alt="37000", lat="51.5", lon="-1.0")) is None
    )


def test_aircraft_are_kept_apart() -> None:
    decoder = Sbs1Decoder()
    decoder.feed(VELOCITY)
    other = msg(3, "40621D", "08:00:01.000", alt="12000", lat="51.0", lon="0.5")
    assert decoder.feed(other) is None  # 40621D has no velocity of its own
    assert decoder.feed(POSITION) is not None
    assert set(decoder.states) == {"4ca2d6"}


def test_partial_messages_update_nothing_and_are_not_errors() -> None:
    decoder = Sbs1Decoder()
    assert decoder.feed(msg(4, "4CA2D6", "08:00:00.000", gs="420")) is None
    assert decoder.feed(msg(3, "4CA2D6", "08:00:01.000", alt="37000")) is None
    assert (
        decoder.feed(msg(3, "4CA2D6", "08:00:01.000", alt="37000", lat="51.0", lon="-1.0")) is None
    )
    assert decoder.bad_lines == 0


@pytest.mark.parametrize(
    "line",
    [
        "",
        "garbage",
        "MSG,3,1,1,4CA2D6,1,2026/03/02,08:00:01.000",  # too few fields
        msg(3, "4CA2D6", "08:00:01.000", alt="high", lat="51.0", lon="-1.0"),
        msg(3, "4CA2D6", "08:00:01.000", alt="37000", lat="151.0", lon="-1.0"),
        msg(3, "4CA2D6", "08:00:01.000", alt="nan", lat="51.0", lon="-1.0"),
        msg(3, "XYZ", "08:00:01.000", alt="37000", lat="51.0", lon="-1.0"),
        msg(3, "4CA2D6", "8 o'clock", alt="37000", lat="51.0", lon="-1.0"),
        msg(4, "4CA2D6", "08:00:00.000", gs="420", trk="east", vr="0"),
        msg(9, "4CA2D6", "08:00:00.000").replace("MSG,9", "MSG,x"),
    ],
)
def test_bad_lines_are_counted_and_the_feed_goes_on(line: str) -> None:
    decoder = Sbs1Decoder()
    decoder.feed(VELOCITY)
    assert decoder.feed(line) is None
    assert decoder.bad_lines == 1
    assert decoder.feed(POSITION) is not None


@pytest.mark.parametrize(
    "line",
    [
        "STA,,5,179,400AE7,10103,2008/11/28,14:58:51.153,2008/11/28,14:58:51.153,RM",
        "AIR,,333,5,4CA2D6,10057,2008/11/28,14:53:50.594,2008/11/28,14:58:51.153",
        "ID,,5,1,4CA2D6,10057,2008/11/28,14:53:50.594,2008/11/28,14:58:51.153,BAW123",
        msg(5, "4CA2D6", "08:00:00.000", alt="37000"),
        msg(8, "4CA2D6", "08:00:00.000", ground="0"),
    ],
)
def test_other_messages_are_ignored(line: str) -> None:
    decoder = Sbs1Decoder()
    assert decoder.feed(line) is None
    assert (decoder.ignored_lines, decoder.bad_lines) == (1, 0)


def test_message_times_in_a_receiver_time_zone_become_utc() -> None:
    decoder = Sbs1Decoder(tz=timezone(timedelta(hours=2)))
    decoder.feed(VELOCITY)
    state = decoder.feed(POSITION)
    assert state is not None
    assert state.timestamp == datetime(2026, 3, 2, 6, 0, 1, 500_000, tzinfo=UTC)


def test_decode_yields_the_states_a_stream_completes() -> None:
    lines = [VELOCITY, "garbage", POSITION, POSITION.replace("08:00:01.500", "08:00:02.500")]
    decoder = Sbs1Decoder()
    states = list(decoder.decode(lines))
    assert [s.timestamp.second for s in states] == [1, 2]
    assert decoder.bad_lines == 1

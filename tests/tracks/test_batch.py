"""Reading a reported batch: each bad row refused with its index and a reason, good rows kept."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deconfliction.tracks.batch import FIELDS, read_batch

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def row(ident: str = "a1", **changes: Any) -> dict[str, Any]:
    good: dict[str, Any] = {
        "id": ident,
        "time": NOW.isoformat(),
        "lat": 47.0,
        "lon": 8.0,
        "alt_m": 3000.0,
        "gs_mps": 100.0,
        "trk_deg": 90.0,
        "vs_mps": 0.0,
    }
    good.update(changes)
    return {k: v for k, v in good.items() if v is not ...}


def read(rows: list[Any]) -> tuple[Any, dict[int, str]]:
    batch, rejected = read_batch(rows, NOW, max_ahead_s=30.0, max_age_s=60.0)
    return batch, {r.row: r.reason for r in rejected}


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"lat": math.nan}, "lat is nan, not a finite number"),
        ({"lon": math.inf}, "lon is inf, not a finite number"),
        ({"lat": -90.5}, "latitude -90.5 is outside [-90, 90]"),
        ({"lon": 180.5}, "longitude 180.5 is outside [-180, 180]"),
        ({"gs_mps": -1.0}, "ground speed -1.0 m/s is negative"),
        ({"vs_mps": 400.0}, "vertical speed 400.0 m/s is beyond"),
        ({"alt_m": 1e6}, "altitude 1000000.0 m is outside"),
        ({"lat": "47"}, "lat is '47', not a number"),
        ({"lat": True}, "lat is True, not a number"),
        ({"alt_m": ...}, "lacks alt_m"),
        ({"callsign": "SWR12"}, "unknown field(s) callsign"),
        ({"id": ""}, "id '' must be 1 to 40 printable characters"),
        ({"id": "x" * 41}, "must be 1 to 40 printable characters"),
        ({"id": 7}, "id must be text, not 7"),
        ({"time": "2026-03-02T08:00:00"}, "has no offset"),
        ({"time": "yesterday"}, "is not an RFC 3339 time"),
        ({"time": 1772438400}, "time must be an RFC 3339 text"),
        ({"time": (NOW + timedelta(seconds=31)).isoformat()}, "31 s ahead of the service's clock"),
        ({"time": (NOW - timedelta(seconds=61)).isoformat()}, "61 s old, beyond the 60 s"),
        ({"notice": 5}, "notice must be text, not 5"),
    ],
)
def test_a_bad_row_is_refused_with_its_reason_and_the_others_kept(
    changes: dict[str, Any], reason: str
) -> None:
    batch, rejected = read([row("good0"), row("bad", **changes), row("good2")])
    assert batch.ids == ("good0", "good2")
    assert batch.rows.tolist() == [0, 2]
    assert list(rejected) == [1]
    assert reason in rejected[1]


def test_nan_and_infinity_arrive_as_json_literals() -> None:
    """What a client's JSON encoder writes for NaN (Python's json reads it as a float)."""
    text = json.dumps([row("a", lat=math.nan), row("b", gs_mps=-math.inf), row("c")])
    assert "NaN" in text
    assert "-Infinity" in text
    batch, rejected = read(json.loads(text))
    assert batch.ids == ("c",)
    assert sorted(rejected) == [0, 1]


def test_rows_that_repeat_an_id_are_refused_after_the_first() -> None:
    batch, rejected = read([row("a"), row("b"), row("a", lat=48.0), row("a")])
    assert batch.ids == ("a", "b")
    assert batch.lat.tolist() == [47.0, 47.0]
    assert rejected == {2: "id 'a' repeats row 0", 3: "id 'a' repeats row 0"}


def test_of_two_reports_of_one_aircraft_the_later_wins() -> None:
    later = (NOW + timedelta(seconds=1)).isoformat()
    batch, rejected = read(
        [row("a", time=later, lat=47.5), row("b"), row("a"), row("a", time=later)]
    )
    assert batch.ids == ("a", "b")
    assert batch.lat.tolist() == [47.5, 47.0]
    assert rejected == {2: "id 'a' repeats row 0", 3: "id 'a' repeats row 0"}
    batch, rejected = read([row("a"), row("a", time=later, lat=47.5)])
    assert batch.lat.tolist() == [47.5]
    assert rejected == {0: "id 'a' is reported again, later, in row 1"}


def test_a_repeat_of_a_bad_first_row_is_refused_too() -> None:
    batch, rejected = read([row("a", lat=95.0), row("a")])
    assert len(batch) == 0
    assert "latitude 95.0" in rejected[0]
    assert rejected[1] == "id 'a' repeats row 0"


def test_every_reason_of_a_row_is_given() -> None:
    _, rejected = read([row("a", lat=95.0, gs_mps=-3.0, callsign="X")])
    assert "latitude 95.0" in rejected[0]
    assert "negative" in rejected[0]
    assert "unknown field(s) callsign" in rejected[0]


def test_a_row_that_is_not_an_object_names_the_fields() -> None:
    _, rejected = read([["a1", 47.0], None])
    assert set(rejected) == {0, 1}
    assert all(", ".join(FIELDS) in reason for reason in rejected.values())


def test_units_offsets_and_tracks_are_normalised() -> None:
    batch, _ = read(
        [row("a", time="2026-03-02T10:00:00+02:00", trk_deg=-90.0, notice="ntc_1", lat=5)]
    )
    assert batch.time_s.tolist() == [NOW.timestamp()]
    assert batch.trk_deg.tolist() == [270.0]
    assert batch.lat.tolist() == [5.0]
    assert batch.notice == ("ntc_1",)


def test_the_time_limits_are_inclusive() -> None:
    batch, rejected = read(
        [
            row("ahead", time=(NOW + timedelta(seconds=30)).isoformat()),
            row("old", time=(NOW - timedelta(seconds=60)).isoformat()),
        ]
    )
    assert batch.ids == ("ahead", "old")
    assert rejected == {}


_values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-1000, 1000),
    st.text(max_size=3),
    st.booleans(),
    st.none(),
)


@given(
    st.lists(
        st.one_of(
            st.builds(
                row,
                st.sampled_from(["a", "b", "c", "d", ""]),
                lat=st.one_of(st.floats(-100, 100), _values),
                gs_mps=st.one_of(st.floats(-10, 1100), _values),
            ),
            _values,
        ),
        max_size=12,
    )
)
def test_every_row_is_accepted_or_refused_once(rows: list[Any]) -> None:
    batch, rejected = read(rows)
    accepted = batch.rows.tolist()
    assert sorted(accepted + list(rejected)) == list(range(len(rows)))
    assert len(set(batch.ids)) == len(batch.ids)
    for k, index in enumerate(accepted):
        r = rows[index]
        assert batch.ids[k] == r["id"]
        assert batch.lat[k] == r["lat"]
        assert -90 <= r["lat"] <= 90
        assert batch.gs_mps[k] == r["gs_mps"]
        assert 0 <= r["gs_mps"] <= 1000

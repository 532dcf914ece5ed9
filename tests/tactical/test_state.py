"""TrafficState: one read-only array per field, and bad rows named, refused or set aside."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from deconfliction.errors import ValidationError
from deconfliction.tactical import TrafficState, accept_rows, row_rejections


def columns(n: int = 3, **changes: Any) -> dict[str, Any]:
    """Valid columns for ``n`` aircraft near Zurich, with some values replaced."""
    base: dict[str, Any] = {
        "ids": [f"ac{k}" for k in range(n)],
        "party": list(range(n)),
        "lon": [8.5 + 0.01 * k for k in range(n)],
        "lat": [47.4] * n,
        "alt_m": [3000.0] * n,
        "gs_mps": [120.0] * n,
        "trk_deg": [90.0] * n,
        "vs_mps": [0.0] * n,
    }
    for name, (row, value) in changes.items():
        base[name] = list(base[name]) if name in base else [np.nan] * n
        base[name][row] = value
    return base


def test_a_valid_state_holds_read_only_copies() -> None:
    source = columns()
    lon = np.array(source["lon"])
    state = TrafficState(**{**source, "lon": lon})
    assert len(state) == 3
    assert state.ids.dtype.kind == "U"
    assert state.party.dtype == np.int64
    lon[0] = 0.0
    assert state.lon[0] == pytest.approx(8.5)
    with pytest.raises(ValueError, match="read-only"):
        state.alt_m[0] = 1.0
    assert row_rejections(**source) == ()


def test_take_selects_rows_in_order() -> None:
    state = TrafficState(**columns(4, rpz_m=(2, 500.0)))
    picked = state.take([3, 1])
    assert picked.ids.tolist() == ["ac3", "ac1"]
    assert picked.rpz_m is not None
    assert np.isnan(picked.rpz_m).all()
    assert state.take(state.party >= 2).ids.tolist() == ["ac2", "ac3"]


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"lon": (1, float("nan"))}, "lon is nan, not a finite number"),
        ({"alt_m": (1, float("inf"))}, "alt_m is inf, not a finite number"),
        ({"lat": (1, 95.0)}, "latitude 95.0 is outside [-90, 90]"),
        ({"lon": (1, -200.0)}, "longitude -200.0 is outside [-180, 180]"),
        ({"alt_m": (1, 200_000.0)}, "altitude 200000.0 m is outside"),
        ({"gs_mps": (1, -1.0)}, "ground speed -1.0 m/s is negative"),
        ({"gs_mps": (1, 5_000.0)}, "ground speed 5000.0 m/s is above 1000 m/s"),
        ({"vs_mps": (1, -400.0)}, "vertical speed -400.0 m/s is beyond"),
        ({"trk_deg": (1, float("nan"))}, "trk_deg is nan"),
        ({"ids": (1, "")}, "id is empty"),
        ({"ids": (1, "ac0")}, "id 'ac0' repeats row 0"),
        ({"rpz_m": (1, -5.0)}, "rpz_m -5.0 must be positive metres"),
        ({"hpz_m": (1, float("inf"))}, "hpz_m is inf"),
    ],
)
def test_a_bad_row_is_refused_by_name(change: dict[str, Any], fragment: str) -> None:
    bad = columns(**change)
    with pytest.raises(ValidationError) as caught:
        TrafficState(**bad)
    assert "row 1 (id " in caught.value.message
    assert fragment in caught.value.message
    assert caught.value.detail["rows"] == [1]
    (rejection,) = row_rejections(**bad)
    assert (rejection.row, fragment in rejection.reason) == (1, True)


def test_nan_in_a_zone_override_means_the_default() -> None:
    state = TrafficState(**columns(rpz_m=(0, 20_000.0)))
    assert state.rpz_m is not None
    assert np.isnan(state.rpz_m[1:]).all()


def test_every_problem_of_a_row_is_listed() -> None:
    (rejection,) = row_rejections(**columns(lat=(2, 91.0), gs_mps=(2, -3.0)))
    assert rejection.row == 2
    assert "latitude 91.0" in rejection.reason
    assert "ground speed -3.0" in rejection.reason


def test_the_message_shows_five_rows_and_counts_the_rest() -> None:
    bad = columns(9)
    bad["lat"] = [100.0] * 9
    with pytest.raises(ValidationError, match=r"9 aircraft state\(s\) are invalid: .*; and 4 more"):
        TrafficState(**bad)


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"lat": ["47", "north", "47"]}, "column lat holds values that are not numbers"),
        ({"party": [1, 2]}, "column party has 2 values but there are 3 ids"),
        ({"alt_m": [[1.0], [2.0], [3.0]]}, "column alt_m must be one value per aircraft"),
    ],
)
def test_an_unreadable_column_is_refused_whole(change: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        row_rejections(**{**columns(), **change})


def test_accept_rows_keeps_the_good_rows_of_a_batch() -> None:
    batch = columns(6)
    batch["lat"][1] = -91.0
    batch["ids"][4] = "ac2"  # a repeat: the first one stays
    batch["gs_mps"][5] = float("nan")
    state, rejected = accept_rows(**batch)
    assert state.ids.tolist() == ["ac0", "ac2", "ac3"]
    assert [(r.row, r.id) for r in rejected] == [(1, "ac1"), (4, "ac2"), (5, "ac5")]
    assert "repeats row 2" in rejected[1].reason


def test_accept_rows_of_nothing_but_bad_rows_is_an_empty_state() -> None:
    state, rejected = accept_rows(**columns(2, lat=(0, 99.0)) | {"lat": [99.0, 99.0]})
    assert len(state) == 0
    assert len(rejected) == 2

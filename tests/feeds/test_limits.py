"""Vertical limits: every form the sources write, to metres and a reference."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deconfliction.errors import AltitudeError
from deconfliction.feeds.airspace import UNLIMITED_M
from deconfliction.feeds.limits import limit_from_value, parse_limit

FT = 0.3048


@pytest.mark.parametrize(
    ("text", "metres", "reference"),
    [
        ("GND", 0.0, "agl"),
        ("SFC", 0.0, "agl"),
        ("gnd", 0.0, "agl"),
        ("MSL", 0.0, "amsl"),
        ("FL195", 195 * 100 * FT, "fl"),
        ("FL 65", 65 * 100 * FT, "fl"),
        ("fl095", 95 * 100 * FT, "fl"),
        ("4500FT AMSL", 4500 * FT, "amsl"),
        ("4500 FT AMSL", 4500 * FT, "amsl"),
        ("2100ft MSL", 2100 * FT, "amsl"),
        ("1000ft AGL", 1000 * FT, "agl"),
        ("1000ft GND", 1000 * FT, "agl"),
        ("1000 ft ASFC", 1000 * FT, "agl"),
        ("1000FT SFC", 1000 * FT, "agl"),
        ("3000ft", 3000 * FT, "amsl"),
        ("3000", 3000 * FT, "amsl"),
        ("1500 AGL", 1500 * FT, "agl"),
        ("300M AGL", 300.0, "agl"),
        ("2845m AMSL", 2845.0, "amsl"),
        ("4500M", 4500.0, "amsl"),
        ("5000ft STD", 5000 * FT, "fl"),
        ("UNL", UNLIMITED_M, "unl"),
        ("UNLIM", UNLIMITED_M, "unl"),
        ("unlimited", UNLIMITED_M, "unl"),
        ("  FL195   ", 195 * 100 * FT, "fl"),
    ],
)
def test_parse_limit_reads_every_form(text: str, metres: float, reference: str) -> None:
    limit = parse_limit(text)
    assert limit.metres == pytest.approx(metres)
    assert limit.reference == reference


@pytest.mark.parametrize("text", ["", "FL", "high", "1000 furlongs", "FL195/6000ft", "-500ft"])
def test_parse_limit_refuses_what_it_cannot_read(text: str) -> None:
    with pytest.raises(AltitudeError, match="cannot read the limit"):
        parse_limit(text)


@given(st.integers(min_value=0, max_value=60_000), st.sampled_from(["ft", "FT", " ft "]))
def test_feet_are_converted_at_the_international_foot(feet: int, unit: str) -> None:
    limit = parse_limit(f"{feet}{unit}AMSL")
    assert limit.metres == pytest.approx(feet * FT, abs=1e-9)
    assert limit.metres / FT == pytest.approx(feet, abs=1e-9)


@given(st.integers(min_value=0, max_value=660))
def test_flight_levels_are_hundreds_of_feet(level: int) -> None:
    assert parse_limit(f"FL{level:03d}").metres == pytest.approx(level * 100 * FT, abs=1e-9)


@pytest.mark.parametrize(
    ("value", "unit", "metres", "reference"),
    [
        ("195", "FL", 195 * 100 * FT, "fl"),
        (999, "FL", UNLIMITED_M, "unl"),
        ("999", "fl", UNLIMITED_M, "unl"),
        ("11500", "FT", 11500 * FT, "amsl"),
        (999, "FT", 999 * FT, "amsl"),
        ("0", "M", 0.0, "amsl"),
        (1234.5, "M", 1234.5, "amsl"),
    ],
)
def test_limit_from_value_reads_numbers_and_units(
    value: float | str, unit: str, metres: float, reference: str
) -> None:
    limit = limit_from_value(value, unit)
    assert limit.metres == pytest.approx(metres)
    assert limit.reference == reference


@pytest.mark.parametrize(
    ("value", "unit", "message"),
    [
        ("x", "FL", "not a number"),
        (None, "FL", "not a number"),
        (True, "M", "not a number"),
        ("nan", "M", "not a finite"),
        (100, "NM", "not one of FL, FT, M"),
    ],
)
def test_limit_from_value_refuses_bad_values(value: object, unit: str, message: str) -> None:
    with pytest.raises(AltitudeError, match=message):
        limit_from_value(value, unit)

"""Vertical limits of airspace, from the forms the sources write them in, to metres.

OpenAIR writes ``GND``, ``SFC``, ``FL195``, ``FL 65``, ``4500FT AMSL``, ``2100ft MSL``,
``1000ft AGL`` (also ``GND``/``ASFC`` after the number), ``300M AGL``, ``2845m AMSL``,
``5000ft STD`` (a pressure altitude, kept as ``"fl"``), a bare number (feet AMSL) and
``UNL``. GeoJSON zone files give a number and a unit
(``FL``, ``FT``, ``M``) where FL 999 means unlimited.

>>> parse_limit("FL195")
VerticalLimit(metres=5943.6, reference='fl')
>>> parse_limit("1000ft AGL")
VerticalLimit(metres=304.8, reference='agl')
>>> parse_limit("GND")
VerticalLimit(metres=0.0, reference='agl')
>>> limit_from_value(999, "FL")
VerticalLimit(metres=100000.0, reference='unl')
"""

from __future__ import annotations

import math
import re
from typing import NamedTuple

from deconfliction.core.units import Metres, feet_to_metres, flight_level_to_metres
from deconfliction.errors import AltitudeError
from deconfliction.feeds.airspace import UNLIMITED_M, LimitReference

__all__ = ["UNLIMITED_FLIGHT_LEVEL", "VerticalLimit", "limit_from_value", "parse_limit"]

UNLIMITED_FLIGHT_LEVEL = 999
"""The flight level that GeoJSON zone files (EUROCONTROL) use to mean "no upper limit"."""

_GROUND = {"GND", "SFC", "AGL", "ASFC"}
_UNLIMITED = {"UNL", "UNLIM", "UNLTD", "UNLIMITED"}
_FLIGHT_LEVEL = re.compile(r"FL\s*(\d+(?:\.\d+)?)")
_HEIGHT = re.compile(r"(\d+(?:\.\d+)?)\s*(FT|F|M)?\s*(AMSL|MSL|AGL|GND|SFC|ASFC|AAL|STD)?")
_REFERENCE: dict[str, LimitReference] = {
    "": "amsl",
    "AMSL": "amsl",
    "MSL": "amsl",
    "AGL": "agl",
    "GND": "agl",
    "SFC": "agl",
    "ASFC": "agl",
    "AAL": "agl",
    "STD": "fl",
}


class VerticalLimit(NamedTuple):
    """A floor or ceiling: metres, and the reference it was given in (see
    :mod:`deconfliction.feeds.airspace`)."""

    metres: Metres
    reference: LimitReference


def parse_limit(text: str) -> VerticalLimit:
    """An OpenAIR ``AL``/``AH`` value as metres; feet are the default unit, AMSL the
    default reference. Raises :class:`AltitudeError` for anything else."""
    value = " ".join(text.upper().split())
    if value in _GROUND:
        return VerticalLimit(0.0, "agl")
    if value == "MSL":
        return VerticalLimit(0.0, "amsl")
    if value in _UNLIMITED:
        return VerticalLimit(UNLIMITED_M, "unl")
    if match := _FLIGHT_LEVEL.fullmatch(value):
        return VerticalLimit(flight_level_to_metres(float(match[1])), "fl")
    if match := _HEIGHT.fullmatch(value):
        number = float(match[1])
        metres = number if match[2] == "M" else feet_to_metres(number)
        return VerticalLimit(metres, _REFERENCE[match[3] or ""])
    raise AltitudeError(
        f"cannot read the limit {text.strip()!r}; write GND, SFC, FLnnn, nnnnFT AMSL, "
        "nnnnFT AGL, nnnnM AMSL or UNL"
    )


def limit_from_value(value: object, unit: str) -> VerticalLimit:
    """A limit given as a number and a unit (``FL``, ``FT`` or ``M``, above mean sea
    level); FL 999 is unlimited. Raises :class:`AltitudeError` for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise AltitudeError(f"limit {value!r} is not a number")
    try:
        number = float(value)
    except ValueError:
        raise AltitudeError(f"limit {value!r} is not a number") from None
    if not math.isfinite(number):
        raise AltitudeError(f"limit {value!r} is not a finite number")
    kind = str(unit).strip().upper()
    if kind == "FL":
        if number == UNLIMITED_FLIGHT_LEVEL:
            return VerticalLimit(UNLIMITED_M, "unl")
        return VerticalLimit(flight_level_to_metres(number), "fl")
    if kind == "FT":
        return VerticalLimit(feet_to_metres(number), "amsl")
    if kind == "M":
        return VerticalLimit(number, "amsl")
    raise AltitudeError(f"limit unit {unit!r} is not one of FL, FT, M")

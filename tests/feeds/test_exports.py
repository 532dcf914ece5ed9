"""The public names of the feeds package are there and are what they say."""

from __future__ import annotations

import importlib

import pytest

import deconfliction.feeds

MODULES = [
    "airspace",
    "arcs",
    "asterix",
    "beast",
    "geojson_zones",
    "limits",
    "live",
    "modes",
    "openair",
    "repair",
    "rings",
    "sbs1",
    "traffic",
]


@pytest.mark.parametrize("name", MODULES)
def test_every_module_exports_what_it_lists(name: str) -> None:
    module = importlib.import_module(f"deconfliction.feeds.{name}")
    for export in module.__all__:
        assert hasattr(module, export), f"{name}.{export}"


def test_the_package_exports_the_main_api() -> None:
    for export in deconfliction.feeds.__all__:
        assert hasattr(deconfliction.feeds, export), export
    assert {"parse_openair", "parse_geojson_zones", "CsvReplay", "Sbs1Decoder"} <= set(
        deconfliction.feeds.__all__
    )

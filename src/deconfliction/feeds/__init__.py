"""Feeds: what comes in from outside, parsed at the edge into SI, UTC and lon/lat.

Airspace (zones-to-be) from OpenAIR and GeoJSON files becomes
:class:`~deconfliction.feeds.airspace.AirspaceRecord` s, with per-record errors beside
the good records; aircraft states from CSV replays, SBS-1 BaseStation lines, Mode S
frames (Beast, AVR) and ASTERIX records become
:class:`~deconfliction.feeds.traffic.AircraftState` s.

=====================  ==========================================================
module                 what
=====================  ==========================================================
``airspace``           the records an airspace import hands out, and its errors
``limits``             vertical limits (GND, FL195, 4500FT AMSL, …) to metres
``arcs``               arcs around a centre as geodesic points ≤ 1 km apart
``rings``              outlines that revisit their vertices: keyholes and spikes
``repair``             outlines that cross themselves, repaired within limits
``openair``            OpenAIR files, standard and extended (``AA`` windows)
``geojson_zones``      GeoJSON FeatureCollections of zones (FIRs, generic)
``traffic``            ``AircraftState`` and the CSV replay reader, in ticks
``sbs1``               SBS-1 BaseStation lines merged per aircraft into states
``modes``              Mode S extended squitter (ADS-B) frames, CPR, into states
``beast``              Beast binary and AVR text streams of Mode S frames
``asterix``            ASTERIX CAT021 and CAT062 records into states (libasterix)
``live``               live sources (TCP, UDP) read with reconnection and backoff
=====================  ==========================================================
"""

from deconfliction.feeds.airspace import (
    UNLIMITED_M,
    AirspaceImport,
    AirspaceRecord,
    Origin,
    RecordError,
)
from deconfliction.feeds.geojson_zones import load_geojson_zones, parse_geojson_zones
from deconfliction.feeds.openair import load_openair, parse_openair
from deconfliction.feeds.sbs1 import Sbs1Decoder
from deconfliction.feeds.traffic import AircraftState, CsvReplay, TrafficTick

__all__ = [
    "UNLIMITED_M",
    "AircraftState",
    "AirspaceImport",
    "AirspaceRecord",
    "CsvReplay",
    "Origin",
    "RecordError",
    "Sbs1Decoder",
    "TrafficTick",
    "load_geojson_zones",
    "load_openair",
    "parse_geojson_zones",
    "parse_openair",
]

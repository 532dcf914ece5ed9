"""Tracks: live aircraft of every party, and the tactical conflicts between them.

Parties report their aircraft's states in batches (``POST /v1/tracks`` or the
``/v1/tracks/stream`` WebSocket); every tick the engine looks at the latest state of
every aircraft and alerts both sides of what it finds. One module per concept:

==================  ==============================================================
:mod:`.batch`       a reported batch read row by row, each bad row reported (pure)
:mod:`.registry`    latest state per aircraft: ownership, ordering, ageing (pure)
:mod:`.reckoning`   dead reckoning along the geodesic (pure)
:mod:`.engine`      one tick's findings: track-track, track-volume, nonconforming,
                    track-cluster (pure, on :mod:`deconfliction.tactical`)
:mod:`.crowds`      crowds of two parties' aircraft, the pair search around them (pure)
:mod:`.conflicts`   hysteresis: open, persist, update, resolve (pure)
:mod:`.context`     what a tick reads from the store: minima per pair, volumes
:mod:`.records`     conflicts, alerts, events and journal entries in the store
:mod:`.service`     :class:`TrackService` (report, run_tick) and the tick loop
==================  ==============================================================
"""

from deconfliction.tracks.batch import TrackBatch, read_batch
from deconfliction.tracks.conflicts import Hysteresis, OpenConflict, Step, step
from deconfliction.tracks.engine import (
    KINDS,
    NONCONFORMING,
    TRACK_CLUSTER,
    TRACK_TRACK,
    TRACK_VOLUME,
    Airspace,
    Finding,
    Separation,
    Side,
    nonconforming,
    track_track,
    track_volume,
)
from deconfliction.tracks.registry import Snapshot, TrackRegistry, TrackView
from deconfliction.tracks.service import (
    BatchReport,
    LiveAlert,
    TickReport,
    TrackService,
    run_ticks,
)

__all__ = [
    "KINDS",
    "NONCONFORMING",
    "TRACK_CLUSTER",
    "TRACK_TRACK",
    "TRACK_VOLUME",
    "Airspace",
    "BatchReport",
    "Finding",
    "Hysteresis",
    "LiveAlert",
    "OpenConflict",
    "Separation",
    "Side",
    "Snapshot",
    "Step",
    "TickReport",
    "TrackBatch",
    "TrackRegistry",
    "TrackService",
    "TrackView",
    "nonconforming",
    "read_batch",
    "run_ticks",
    "step",
    "track_track",
    "track_volume",
]

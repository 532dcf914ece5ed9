"""The tactical service: tracks in from the parties, a tick that turns them into alerts.

:meth:`TrackService.report` takes one party's batch of states (from ``POST /v1/tracks``
or the ``/v1/tracks/stream`` WebSocket) and answers with a per-row report.
:meth:`TrackService.run_tick` is one tick of the engine at the injected clock's time:

1. the registry's snapshot: the latest state of every aircraft, dead-reckoned to now,
   with the floor under it (:mod:`.floors`, from the standing zones' floors of
   :mod:`.zone_floors` where no ground was reported); states older than
   ``Settings.track_max_age_s`` age out; suspect aircraft (:mod:`.suspect`) are left
   out;
2. one read of the store: separation per pair of parties (agreements), live volumes,
   the volumes of the notices aircraft are tagged with (:mod:`.context`);
3. the three stages of :mod:`.engine`, each on its own: a stage that fails is logged
   and only its kind goes unjudged this tick (no conflict of that kind opens or
   resolves), the others go on;
4. hysteresis (:mod:`.conflicts`), then one write transaction for everything that
   opened, changed or resolved (:mod:`.records`), at most ``Settings.track_max_writes``
   conflicts, in fair order (pairs of parties in turn, the most urgent first in each);
   the engine's open set moves on only once that transaction has committed, so a
   failed write is retried whole next tick.
5. **shedding**: once the tick has spent its budget (``Settings.track_tick_budget_s``,
   by default 80 % of its period) it writes no more than the first round of the fair
   order (one write of every pair of parties concerned, so no party's alert waits more
   than one period behind another's burst); what is left waits for the next ticks,
   still due, and each party whose writes wait is told with a ``tracks.shed`` event
   when its shedding begins (not again on every tick while it lasts).

:func:`run_ticks` is the loop the app runs every ``Settings.track_tick_s``: an exception
in a tick is logged and the next tick goes on. Ticks never overlap (a lock), so tests
may call :meth:`TrackService.run_tick` directly while a loop runs.

The registry is this process's memory: with several replicas, each party's tracks must
reach the one replica that runs the engine (see DESIGN: shard by H3 cells beyond one
engine). After a restart the engine holds no tracks; its first tick resolves the
tactical conflicts left open, which reopen as soon as their aircraft report again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from deconfliction.clock import Clock
from deconfliction.delivery.outbox import publish
from deconfliction.errors import PermissionDeniedError, QuotaExceededError, ValidationError
from deconfliction.journal.chain import append, lock_head
from deconfliction.limits import PartyLimits
from deconfliction.parties import PartyRef, Role
from deconfliction.party_feeds import PartyFeeds
from deconfliction.settings import Settings
from deconfliction.store.database import Database
from deconfliction.store.schema import Notice
from deconfliction.tactical import ArrayBackend, DetectionParams, RowRejection, select_backend
from deconfliction.tactical.state import FloatArray
from deconfliction.tracks.batch import TrackBatch, read_batch
from deconfliction.tracks.conflicts import (
    Hysteresis,
    OpenConflict,
    Step,
    Write,
    WriteOrder,
    fair_order,
    step,
    take,
)
from deconfliction.tracks.context import LIVE_STATES, TickContext
from deconfliction.tracks.engine import (
    NONCONFORMING,
    TRACK_CLUSTER,
    TRACK_TRACK,
    TRACK_VOLUME,
    Finding,
    Key,
    Point,
    Separation,
    nonconforming,
    track_track,
    track_volume,
)
from deconfliction.tracks.floors import FloorMap
from deconfliction.tracks.records import (
    Deadlines,
    open_conflict,
    party_names,
    resolve_conflict,
    resolve_orphans,
    track_detail,
    update_conflict,
)
from deconfliction.tracks.registry import Snapshot, TrackRegistry, TrackView
from deconfliction.tracks.suspect import SUSPECT_REASON, Gate
from deconfliction.tracks.zone_floors import ZoneFloors, ZoneFloorSet

__all__ = ["SUSPECT", "BatchReport", "LiveAlert", "TickReport", "TrackService", "run_ticks"]

_log = logging.getLogger(__name__)

SUSPECT = "track.suspect"
"""The event (and journal entry) that tells a party one of its aircraft is suspect."""


@dataclass(frozen=True)
class BatchReport:
    """How a batch went: rows received, rows accepted, and each refused row and why."""

    received: int
    accepted: int
    rejected: tuple[RowRejection, ...]


@dataclass(frozen=True)
class TickReport:
    """What one tick did. Times in seconds: ``engine_s`` reading the store and judging,
    ``store_s`` writing; ``failed`` names the stages that raised."""

    time: datetime
    aircraft: int = 0
    found: int = 0
    opened: int = 0
    updated: int = 0
    resolved: int = 0
    open: int = 0
    engine_s: float = 0.0
    store_s: float = 0.0
    failed: tuple[str, ...] = ()
    shed: int = 0
    """Writes left for the next ticks (the budget of writes or of time was spent)."""


@dataclass(frozen=True)
class LiveAlert:
    """One of a party's open tactical alerts with the latest prediction: ``track`` as in
    :func:`~deconfliction.tracks.records.track_detail`, ``point`` where (lon, lat, alt_m)."""

    alert_id: str
    conflict_id: str
    kind: str
    counterpart: str
    notice: str | None
    point: Point
    track: Mapping[str, Any]


@dataclass
class _Stages:
    findings: list[Finding] = field(default_factory=list)
    judged: set[str] = field(default_factory=set)
    failed: list[str] = field(default_factory=list)

    def run(self, kind: str, stage: Callable[[], list[Finding]]) -> list[Finding]:
        try:
            found = stage()
        except Exception:
            _log.exception("the tactical engine's %s stage failed; the others go on", kind)
            self.failed.append(kind)
            return []
        self.judged.add(kind)
        self.findings += found
        return found


class TrackService:
    """Tracks in, alerts out; see the module docstring."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        settings: Settings,
        backend: ArrayBackend | None = None,
        *,
        timer: Callable[[], float] = time.perf_counter,
        limits: PartyLimits | None = None,
        feeds: PartyFeeds | None = None,
    ) -> None:
        """``timer`` (seconds, monotonic) measures the tick against its budget;
        ``limits``: each party's (its aircraft quota); ``feeds``: how each party's feed
        is read (default: from the store, remembered for ``auth_cache_s`` as the app
        remembers tokens; a change made through ``feeds`` itself holds at once)."""
        self._db = db
        self._limits = limits or PartyLimits(db, clock, settings)
        self._feeds = feeds or PartyFeeds(db, clock, settings, cache_s=settings.auth_cache_s)
        self._timer = timer
        self._clock = clock
        self._settings = settings
        self._backend = backend or select_backend(settings.tactical_device)
        self._registry = TrackRegistry()
        self._registry_lock = threading.Lock()
        self._tick_lock = threading.Lock()
        # Each party's feed is read in the snapshot (on the ground or not, per aircraft;
        # each aircraft's quantum and dead band in its state): the core infers nothing.
        model = replace(settings.prediction_model, ground_height_m=0.0, takeoff_speed_mps=0.0)
        self._context = TickContext(
            DetectionParams(
                settings.track_rpz_m, settings.track_hpz_m, settings.track_lookahead_s, model
            )
        )
        self._floors = FloorMap(settings.track_floor_m, settings.track_ground_height_m)
        self._zone_floors = ZoneFloors(settings.auth_cache_s, timer)
        self._gate = Gate(
            settings.track_gate_speed_mps, settings.track_gate_vs_mps, model.altitude_quantum_m
        )
        self._suspect: dict[str, float] = {}  # aircraft -> its last implausible state, s
        self._held_out: set[str] = set()  # aircraft whose latest state was implausible
        self._policy = Hysteresis(
            settings.track_resolve_ticks,
            settings.track_update_s,
            settings.track_update_m,
            settings.track_update_every_s,
        )
        self._open: dict[Key, OpenConflict] = {}
        self._shedding: set[int] = set()
        self._started = False
        period = settings.track_tick_s if settings.track_tick_s > 0 else 1.0
        self._budget_s = settings.track_tick_budget_s or 0.8 * period

    # -- tracks in ----------------------------------------------------------------------
    def report(self, party: PartyRef, rows: Sequence[object]) -> BatchReport:
        """Take a batch of ``party``'s aircraft states; see :mod:`.batch` for a row."""
        if party.role == Role.OBSERVER:
            raise PermissionDeniedError(
                f"party {party.name!r} is an observer; only operators and authorities "
                "report aircraft"
            )
        limit = self._settings.track_max_batch
        if len(rows) > limit:
            raise ValidationError(
                f"a batch holds at most {limit} states, not {len(rows)}; send several batches"
            )
        now = self._clock.now()
        batch, rejected = read_batch(
            rows,
            now,
            max_ahead_s=self._settings.track_max_ahead_s,
            max_age_s=self._settings.track_max_age_s,
        )
        batch, refused = self._check_notices(party, batch)
        max_age = self._settings.track_max_age_s
        quota = self._limits.of(party.id).max_aircraft
        with self._registry_lock:
            tracked, new = self._registry.count(party.id, batch.ids, now.timestamp() - max_age)
            if tracked + new > quota:
                raise QuotaExceededError(
                    f"party {party.name!r} has {tracked} aircraft tracked and reports {new} "
                    f"more, over its limit of {quota}; report fewer aircraft, or ask the "
                    "administrator for a larger quota (deconfliction party limits)",
                    limit="max_aircraft",
                    max_aircraft=quota,
                    tracked=tracked,
                    new=new,
                )
            quantum = self._feeds.of(party.id).track_altitude_quantum_m
            batch, implausible, newly = self._check_plausible(
                party, batch, now.timestamp(), quantum
            )
            held = self._registry.report(party.id, batch, now.timestamp(), max_age)
            taken = np.ones(len(batch), dtype=bool)
            taken[np.isin(batch.rows, [r.row for r in held])] = False
            self._floors.see(
                batch.lon[taken], batch.lat[taken], batch.alt_m[taken], batch.on_ground[taken]
            )
        if newly:
            self._tell_suspect(party, newly, now)
        every = sorted((*rejected, *refused, *implausible, *held), key=lambda r: r.row)
        return BatchReport(len(rows), len(rows) - len(every), tuple(every))

    def _check_plausible(
        self, party: PartyRef, batch: TrackBatch, now_s: float, quantum_m: float
    ) -> tuple[TrackBatch, list[RowRejection], list[tuple[str, dict[str, Any]]]]:
        """Refuse the states that imply an impossible move from the aircraft's last
        accepted state (its party's feed reads altitude to ``quantum_m``); returns the
        rest, the refusals and the aircraft newly suspect with their evidence. Called
        under the registry lock."""
        since = now_s - self._settings.track_max_age_s
        held = self._registry.held(party.id, batch.ids, since)
        gate = replace(self._gate, quantum_m=quantum_m)
        verdicts = gate.judge(*held, batch.time_s, batch.lon, batch.lat, batch.alt_m)
        keep = np.ones(len(batch), dtype=bool)
        refused: list[RowRejection] = []
        newly: list[tuple[str, dict[str, Any]]] = []
        quiet = self._settings.track_max_age_s
        for k, (ident, evidence) in enumerate(zip(batch.ids, verdicts, strict=True)):
            if evidence is None:
                self._held_out.discard(ident)  # predicted from again
                continue
            self._held_out.add(ident)
            keep[k] = False
            refused.append(
                RowRejection(
                    int(batch.rows[k]),
                    ident,
                    f"{SUSPECT_REASON}: {evidence['distance_m']:g} m and "
                    f"{evidence['altitude_change_m']:g} m of altitude from its last "
                    "accepted state; the aircraft is left out of prediction until its "
                    "states are plausible again",
                )
            )
            last = self._suspect.get(ident)
            if last is None or now_s - last > quiet:  # a new episode: tell the party
                newly.append((ident, evidence))
            self._suspect[ident] = now_s
        return batch.take(keep), refused, newly

    def _tell_suspect(
        self, party: PartyRef, newly: Sequence[tuple[str, dict[str, Any]]], now: datetime
    ) -> None:
        """One ``track.suspect`` event and journal entry per aircraft newly suspect."""
        with self._db.transaction() as session:
            lock_head(session)
            for ident, evidence in newly:
                payload = {"aircraft": ident, **evidence}
                publish(session, party_id=party.id, kind=SUSPECT, at=now, payload=payload)
                append(
                    session, at=now, kind=SUSPECT, party=party.name, subject=ident, payload=payload
                )

    def _check_notices(
        self, party: PartyRef, batch: TrackBatch
    ) -> tuple[TrackBatch, list[RowRejection]]:
        """Refuse rows tagged with a notice that is not one of the party's live ones."""
        named = {n for n in batch.notice if n is not None}
        if not named:
            return batch, []
        with self._db.read() as session:
            found = dict(
                session.execute(
                    select(Notice.id, Notice.state).where(
                        Notice.id.in_(named), Notice.party_id == party.id
                    )
                ).all()
            )
        refused: list[RowRejection] = []
        keep = np.ones(len(batch), dtype=bool)
        for k, notice in enumerate(batch.notice):
            if notice is None:
                continue
            if notice not in found:
                reason = f"notice {notice!r} is not one of your notices; tag with your own"
            elif found[notice] not in LIVE_STATES:
                reason = (
                    f"notice {notice} is {found[notice]}; tag aircraft with a live notice "
                    "(filed, acknowledged or active)"
                )
            else:
                continue
            keep[k] = False
            refused.append(RowRejection(int(batch.rows[k]), batch.ids[k], reason))
        return batch.take(keep), refused

    def tracks_of(self, party: PartyRef) -> list[TrackView]:
        """The last state of each of the party's own aircraft still held."""
        with self._registry_lock:
            return self._registry.tracks_of(party.id)

    def alerts_of(self, party: PartyRef) -> list[LiveAlert]:
        """The party's open tactical alerts with the latest prediction, soonest first."""
        mine = [
            (conflict, side)
            for conflict in list(self._open.values())
            for side in conflict.latest.sides
            if side.party == party.id and side.party in conflict.alerts
        ]
        if not mine:
            return []
        concerned = {s.party for c, _ in mine for s in c.latest.sides}
        with self._db.read() as session:
            names = party_names(session, concerned | {side.counterpart for _, side in mine})
            told = Deadlines(
                session, self._settings.ack_deadlines, self._clock.now(), self._settings.disclosure
            ).told(names, party.id)
        found = [
            LiveAlert(
                conflict.alerts[side.party],
                conflict.conflict_id,
                conflict.latest.kind,
                told[side.counterpart],
                side.notice,
                side.point,
                track_detail(conflict.latest, side, told),
            )
            for conflict, side in mine
        ]
        return sorted(found, key=lambda a: (str(a.track["at"]), a.alert_id))

    # -- the tick -----------------------------------------------------------------------
    def run_tick(self, now: datetime | None = None) -> TickReport:
        """One tick at ``now`` (default: the clock); see the module docstring."""
        with self._tick_lock:
            return self._tick(self._clock.now() if now is None else now)

    def _tick(self, now: datetime) -> TickReport:
        started = self._timer()
        if not self._started:
            with self._db.transaction() as session:
                lock_head(session)
                resolved = resolve_orphans(session, set(), now)
            if resolved:
                _log.info("resolved %d tactical conflicts left open before a restart", resolved)
            self._started = True
        snapshot = self.snapshot(now)
        if len(snapshot) == 0 and not self._open:
            return TickReport(now, engine_s=self._timer() - started)
        stages = self._judge(snapshot, now)
        plan = step(
            self._open,
            stages.findings,
            judged=stages.judged,
            present=snapshot.ids,
            policy=self._policy,
        )
        order = fair_order(plan)
        judged_at = self._timer()
        if order.writes:
            done, after = self._write(plan, order, now, started + self._budget_s)
        else:
            done, after = plan, dict(plan.kept)
            self._shedding.clear()
        self._open = after
        return TickReport(
            now,
            aircraft=len(snapshot),
            found=len(stages.findings),
            opened=len(done.opened),
            updated=len(done.updated),
            resolved=len(done.resolved),
            open=len(after),
            engine_s=judged_at - started,
            store_s=self._timer() - judged_at,
            failed=tuple(stages.failed),
            shed=len(order.writes) - len(done.opened) - len(done.updated) - len(done.resolved),
        )

    def snapshot(self, now: datetime) -> Snapshot:
        """The live aircraft at ``now`` as a tick judges them, each as its party's feed
        is read (``party feed``, else the deployment's ``track_*`` settings):
        dead-reckoned (level in the dead band), with the floor under each, on the ground
        when within the ground height of it and slower than the take-off speed, or for
        the ground hold after a report that says so (unless climbing faster than the
        ground height in that time), with its altitude quantum and dead band for the
        core; those whose latest state was implausible left out.

        The floor under an aircraft (:mod:`.floors`): the ground the feed reported in
        its cell, else the lowest floor of the live standing zones around it that give
        one (:mod:`.zone_floors`, read here and remembered for ``auth_cache_s``), else
        ``track_floor_m``; never above what aircraft were seen flying at around it, less
        the ground height."""
        zones = self._zone_floors.at(self._db, now)
        with self._registry_lock:
            snapshot = self._registry.snapshot(
                now.timestamp(),
                self._settings.track_max_age_s,
                self._floors.under if zones.tree is None else self._floor_with(zones),
                feeds=self._feeds.of_many,
            )
            return self._without_suspects(snapshot)

    def _floor_with(self, zones: ZoneFloorSet) -> Callable[[FloatArray, FloatArray], FloatArray]:
        """The floor at positions (lon, lat degrees -> metres) on the zones' floors."""
        return lambda lon, lat: self._floors.under(lon, lat, zones.under(lon, lat))

    def _without_suspects(self, snapshot: Snapshot) -> Snapshot:
        """The snapshot less the aircraft whose latest state was implausible (nothing is
        predicted from them); an episode ends once an aircraft has sent no implausible
        state for ``track_max_age_s``. Called under the registry lock."""
        quiet = self._settings.track_max_age_s
        self._suspect = {i: t for i, t in self._suspect.items() if snapshot.time_s - t <= quiet}
        present = snapshot.ids
        self._held_out = {i for i in self._held_out if i in present}
        if not self._held_out:
            return snapshot
        keep = np.flatnonzero(~np.isin(snapshot.state.ids, list(self._held_out)))
        if keep.shape[0] == len(snapshot):
            return snapshot
        return Snapshot(
            snapshot.time_s,
            snapshot.state.take(keep),
            tuple(snapshot.notice[k] for k in keep.tolist()),
            snapshot.age_s[keep],
        )

    def _judge(self, snapshot: Snapshot, now: datetime) -> _Stages:
        stages = _Stages()
        if len(snapshot) == 0:
            stages.judged.update((TRACK_TRACK, TRACK_CLUSTER, TRACK_VOLUME, NONCONFORMING))
            return stages
        tagged = {n for n in snapshot.notice if n is not None}
        with self._db.read() as session:
            separation = self._context.separation(session)
            horizon = separation.widest(_involved(separation, snapshot)).lookahead_s
            airspace = self._context.airspace(session, now, horizon, tagged)
        stages.run(
            TRACK_TRACK,
            lambda: track_track(
                snapshot,
                separation,
                self._backend,
                cluster_pairs=self._settings.track_cluster_pairs,
            ),
        )
        if TRACK_TRACK in stages.judged:  # the same stage finds the clusters
            stages.judged.add(TRACK_CLUSTER)
        intruding = stages.run(TRACK_VOLUME, lambda: track_volume(snapshot, separation, airspace))
        if TRACK_VOLUME in stages.judged:
            stages.run(
                NONCONFORMING, lambda: nonconforming(snapshot, separation, airspace, intruding)
            )
        else:
            stages.failed.append(NONCONFORMING)
        return stages

    def _write(
        self, plan: Step, order: WriteOrder, now: datetime, deadline: float
    ) -> tuple[Step, dict[Key, OpenConflict]]:
        """Write ``plan`` in ``order`` until the budget of writes or of time is spent
        (the first round always); returns what was written and the open set after."""
        allowed = order.writes[: max(self._settings.track_max_writes, order.first_round)]
        made: dict[Key, OpenConflict] = {}
        written: list[Write] = []
        with self._db.transaction() as session:
            lock_head(session)
            deadlines = Deadlines(
                session, self._settings.ack_deadlines, now, self._settings.disclosure
            )
            names = party_names(session, order.parties(plan, allowed))
            for n, write in enumerate(allowed):
                if n >= order.first_round and self._timer() > deadline:
                    break
                self._write_one(session, plan, write, names, deadlines, now, made)
                written.append(write)
            self._tell_shed(session, plan, order, written, now)
        done = take(plan, written)
        return done, {**done.kept, **made}

    def _write_one(
        self,
        session: Session,
        plan: Step,
        write: Write,
        names: Mapping[int, str],
        deadlines: Deadlines,
        now: datetime,
        made: dict[Key, OpenConflict],
    ) -> None:
        stage, k = write
        if stage == "opened":
            finding = plan.opened[k]
            made[finding.key] = open_conflict(session, finding, names, deadlines, now)
        elif stage == "updated":
            conflict, finding = plan.updated[k]
            made[finding.key] = update_conflict(session, conflict, finding, names, deadlines, now)
        else:
            conflict, reason = plan.resolved[k]
            resolve_conflict(session, conflict.conflict_id, reason, names, now)

    def _tell_shed(
        self, session: Session, plan: Step, order: WriteOrder, written: list[Write], now: datetime
    ) -> None:
        """A ``tracks.shed`` event to each party whose writes now begin to wait."""
        left = order.parties(plan, order.writes[len(written) :])
        for party in sorted(set(left) - self._shedding):
            publish(
                session,
                party_id=party,
                kind="tracks.shed",
                at=now,
                payload={
                    "at": now.isoformat(),
                    "deferred": left[party],
                    "budget_s": self._budget_s,
                    "max_writes": self._settings.track_max_writes,
                    "detail": f"the tactical tick is overloaded: {left[party]} of your "
                    "conflict alerts (opens, updates, resolutions) wait for the next ticks, "
                    "the most urgent going first; every pair of parties gets a turn each "
                    "tick, so no alert waits longer than the load needs",
                },
            )
        self._shedding = set(left)


def _involved(separation: Separation, snapshot: Snapshot) -> set[int]:
    """Every party whose pairs can matter this tick: those with aircraft, and those with
    an agreement with one of them (their volumes may be intruded)."""
    parties = set(snapshot.state.party.tolist())
    for a, b in separation.pairs:
        if a in parties or b in parties:
            parties.update((a, b))
    return parties


async def run_ticks(
    service: TrackService, clock: Clock, tick_s: float, stop: asyncio.Event
) -> None:
    """Tick every ``tick_s`` seconds (from one tick's start to the next) until ``stop``
    is set; a failed tick is logged and the next one goes on. With ``tick_s`` <= 0
    there is no loop."""
    if tick_s <= 0:
        return
    while not stop.is_set():
        started = time.monotonic()
        try:
            await asyncio.to_thread(service.run_tick, clock.now())
        except Exception:
            _log.exception("a tick of the tactical engine failed; the next tick goes on")
        wait = max(0.0, tick_s - (time.monotonic() - started))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), wait)

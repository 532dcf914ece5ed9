"""Hysteresis: when a tactical conflict opens, when its parties hear more, when it resolves.

Pure: the open conflicts and one tick's findings in, a :class:`Step` out (what to open,
update and resolve, and the open conflicts after it); the service writes the step and
only then takes its ``after`` as the new open set, so a failed write changes nothing.

* **Open** on the first tick a conflict is found: a predicted loss of separation is
  not held back.
* **Persist** while it is found again; a tick without it counts as a miss.
* **Resolve** after :attr:`Hysteresis.resolve_after` consecutive misses, or at once when
  one of its aircraft is no longer reported (its last state aged out). A pair hovering
  at the edge of the protected zone, found every other tick, stays one open conflict.
  A tick in which a kind could not be judged (its stage failed) counts no miss for it.
* **Update** its parties only when what they were last told changed materially. At
  once when it began or stopped happening now (``inside``: a loss of separation, an
  intrusion, an aircraft outside its notice) or a further party became concerned (a
  nonconforming aircraft now threatens it). A changed prediction waits until
  :attr:`Hysteresis.every_s` have passed since the last word, and counts only when the
  moment warned of (closest approach, entry, leaving) moved by more than
  :attr:`Hysteresis.moved_s` and by more than :attr:`Hysteresis.moved_fraction` of the
  time that was left until it, or the distance at closest approach by more than
  :attr:`Hysteresis.moved_m` and that fraction of it. Each tick's latest finding is
  still kept for the live view (``GET /v1/tracks/alerts``).

  A cluster's counts of aircraft changing by more than that fraction is news too.

  Why so: on a day of real traffic around Paris (3 parties, an hour), updating on any
  15 s or 500 m change sent 5.8 updates per conflict, mostly pairs on near-parallel
  tracks whose closest approach swings from tick to tick; with the fraction and the
  30 s pause it is 0.6, and every start and end of a loss of separation still goes out
  at once.

* **A budget per tick**: at most so many conflicts are written in one tick, in
  :func:`fair_order`, the rest deferred (:func:`take`) and still due in the next ticks.
  A burst (a restart amid dense traffic) then costs a few slower ticks instead of one
  tick that holds everything up.
* **Fair order** (:func:`fair_order`): the writes are queued per pair of parties (opens
  by urgency: happening now, then by when it begins; then updates by urgency; then
  resolutions) and the queues take turns, so one pair's burst never holds up another
  pair's alerts: whatever the budget cuts, the first round (one write of every pair of
  parties) goes out in this tick.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from deconfliction.tracks.engine import Finding, Key

__all__ = [
    "Hysteresis",
    "OpenConflict",
    "Step",
    "Write",
    "WriteOrder",
    "fair_order",
    "step",
    "take",
]


@dataclass(frozen=True)
class Hysteresis:
    """How conflicts persist and when their parties are updated (ticks, seconds, metres)."""

    resolve_after: int = 3
    moved_s: float = 15.0
    moved_m: float = 500.0
    every_s: float = 30.0
    moved_fraction: float = 0.2

    def __post_init__(self) -> None:
        if self.resolve_after < 1:
            raise ValueError("resolve_after must be 1 tick or more")

    def material(self, told: Finding, now: Finding) -> bool:
        """Whether ``now`` is news to parties last told ``told``."""
        if told.inside != now.inside:
            return True
        if {s.party for s in now.sides} - {s.party for s in told.sides}:
            return True
        if now.time_s - told.time_s < self.every_s:
            return False
        if now.crowd is not None and told.crowd is not None:
            for party, count in now.crowd.counts.items():
                was = told.crowd.counts.get(party, 0)
                if abs(count - was) > self.moved_fraction * max(was, 1):
                    return True
        told_at = told.time_s + told.sides[0].at_s
        left = max(0.0, told_at - now.time_s)
        moved = abs(now.time_s + now.sides[0].at_s - told_at)
        if moved > max(self.moved_s, self.moved_fraction * left):
            return True
        return (
            now.dcpa_m is not None
            and told.dcpa_m is not None
            and abs(now.dcpa_m - told.dcpa_m) > max(self.moved_m, self.moved_fraction * told.dcpa_m)
        )


@dataclass(frozen=True)
class OpenConflict:
    """An open conflict: its stored id, its alert per party id, what its parties were
    last told, the latest finding and the consecutive ticks it has been missed."""

    conflict_id: str
    alerts: Mapping[int, str]
    told: Finding
    latest: Finding
    missed: int = 0


@dataclass(frozen=True)
class Step:
    """What one tick changes: findings to open, (conflict, finding) pairs to update,
    (conflict, reason) pairs to resolve; ``kept`` are the open conflicts that stay as
    they are in the store (their ``latest`` and ``missed`` may have moved)."""

    opened: tuple[Finding, ...] = ()
    updated: tuple[tuple[OpenConflict, Finding], ...] = ()
    resolved: tuple[tuple[OpenConflict, str], ...] = ()
    kept: Mapping[Key, OpenConflict] = field(default_factory=dict)

    @property
    def writes(self) -> bool:
        """Whether the store must change."""
        return bool(self.opened or self.updated or self.resolved)


def step(
    open_conflicts: Mapping[Key, OpenConflict],
    findings: Iterable[Finding],
    *,
    judged: Collection[str],
    present: Collection[str],
    policy: Hysteresis,
) -> Step:
    """One tick: ``findings`` of the kinds in ``judged``; ``present`` the aircraft ids
    still reported."""
    found = {f.key: f for f in findings}
    updated: list[tuple[OpenConflict, Finding]] = []
    resolved: list[tuple[OpenConflict, str]] = []
    kept: dict[Key, OpenConflict] = {}
    for key, conflict in open_conflicts.items():
        gone = [a for a in conflict.latest.aircraft if a not in present]
        now = found.get(key)
        if gone:
            resolved.append(
                (conflict, f"aircraft {gone[0]} is no longer reported (its last state aged out)")
            )
        elif now is not None:
            if policy.material(conflict.told, now):
                updated.append((conflict, now))
            else:
                kept[key] = replace(conflict, latest=now, missed=0)
        elif key[0] not in judged:
            kept[key] = conflict
        elif conflict.missed + 1 >= policy.resolve_after:
            ticks = policy.resolve_after
            resolved.append(
                (conflict, f"no longer predicted ({ticks} consecutive tick{'s' * (ticks > 1)})")
            )
        else:
            kept[key] = replace(conflict, missed=conflict.missed + 1)
    opened = tuple(f for key, f in sorted(found.items()) if key not in open_conflicts)
    return Step(opened, tuple(updated), tuple(resolved), kept)


def _urgency(finding: Finding) -> tuple[bool, float]:
    return (not finding.inside, finding.tin_s)


Write = tuple[str, int]
"""One write of a :class:`Step`: which tuple (``opened``, ``updated`` or ``resolved``)
and the position in it."""


@dataclass(frozen=True)
class WriteOrder:
    """A step's writes in the order to make them; the first ``first_round`` are one per
    pair of parties concerned."""

    writes: tuple[Write, ...]
    first_round: int

    def parties(self, plan: Step, writes: Iterable[Write]) -> dict[int, int]:
        """How many of ``writes`` concern each party."""
        counts: dict[int, int] = {}
        for write in writes:
            for party in _parties_of(plan, write):
                counts[party] = counts.get(party, 0) + 1
        return counts


def _parties_of(plan: Step, write: Write) -> tuple[int, ...]:
    stage, k = write
    if stage == "opened":
        return tuple(sorted({s.party for s in plan.opened[k].sides}))
    if stage == "updated":
        conflict, finding = plan.updated[k]
        return tuple(sorted(set(conflict.alerts) | {s.party for s in finding.sides}))
    return tuple(sorted(plan.resolved[k][0].alerts))


def fair_order(plan: Step) -> WriteOrder:
    """The writes of ``plan``: per pair of parties, opens by urgency, then updates by
    urgency, then resolutions; the pairs take turns (the pair with the most urgent open
    first)."""
    queues: dict[tuple[int, ...], list[Write]] = {}
    writes: list[Write] = [
        *(
            ("opened", k)
            for k in sorted(range(len(plan.opened)), key=lambda k: _urgency(plan.opened[k]))
        ),
        *(
            ("updated", k)
            for k in sorted(range(len(plan.updated)), key=lambda k: _urgency(plan.updated[k][1]))
        ),
        *(("resolved", k) for k in range(len(plan.resolved))),
    ]
    for write in writes:
        queues.setdefault(_parties_of(plan, write), []).append(write)
    order = [w for turn in itertools.zip_longest(*queues.values()) for w in turn if w is not None]
    return WriteOrder(tuple(order), len(queues))


def take(plan: Step, writes: Sequence[Write]) -> Step:
    """``plan`` with only ``writes`` (in their order), the rest deferred: a deferred open
    is not open (the next tick finds it again); a deferred update keeps what was told
    (still news next tick); a deferred resolution keeps the conflict as it was (still
    due next tick)."""
    chosen = set(writes)
    kept = dict(plan.kept)
    for k, (conflict, finding) in enumerate(plan.updated):
        if ("updated", k) not in chosen:
            kept[finding.key] = replace(conflict, latest=finding, missed=0)
    for k, (conflict, _) in enumerate(plan.resolved):
        if ("resolved", k) not in chosen:
            kept[conflict.latest.key] = conflict
    return Step(
        tuple(plan.opened[k] for stage, k in writes if stage == "opened"),
        tuple(plan.updated[k] for stage, k in writes if stage == "updated"),
        tuple(plan.resolved[k] for stage, k in writes if stage == "resolved"),
        kept,
    )

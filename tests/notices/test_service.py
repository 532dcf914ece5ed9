"""The notice service on both store backends: conflicts, need-to-know, lifecycle,
idempotency, atomicity and concurrency."""

from __future__ import annotations

import contextlib
import inspect
import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
import shapely
from shapely.geometry import box as shapely_box
from shapely.geometry import shape as shapely_shape
from sqlalchemy import func, select
from sqlalchemy.orm import DeclarativeBase

from deconfliction.agreements.service import AgreementService
from deconfliction.agreements.terms import ANONYMOUS_COUNTERPART, Disclosure, Terms
from deconfliction.clock import ManualClock
from deconfliction.core.footprint import Footprint
from deconfliction.core.volume import Buffers, Volume4D
from deconfliction.errors import (
    IdempotencyKeyReusedError,
    InvalidStateError,
    NotFoundError,
    PermissionDeniedError,
    StaleVersionError,
    ValidationError,
)
from deconfliction.journal.verify import verify_database
from deconfliction.notices.model import FilingResult, NoticeDraft, NoticeState
from deconfliction.notices.service import NoticeService
from deconfliction.parties import PartyRef
from deconfliction.settings import Settings
from deconfliction.store.database import Database
from deconfliction.store.schema import (
    Alert,
    Conflict,
    IdempotencyRecord,
    JournalEntry,
    Notice,
    Volume,
    VolumeCell,
)
from tests.conftest import T0, MakeParty

STORED = (Notice, Volume, VolumeCell, Conflict, Alert, IdempotencyRecord, JournalEntry)


def box(west: float, south: float, east: float, north: float) -> Footprint:
    ring = [(west, south), (east, south), (east, north), (west, north), (west, south)]
    return Footprint.polygon(ring)


def vol(
    footprint: Footprint,
    lower_m: float = 0.0,
    upper_m: float = 3000.0,
    start_h: float = 2.0,
    end_h: float = 4.0,
) -> Volume4D:
    """A volume; times are hours after the clock's start T0."""
    return Volume4D(
        footprint, lower_m, upper_m, T0 + timedelta(hours=start_h), T0 + timedelta(hours=end_h)
    )


def draft(*volumes: Volume4D, title: str = "") -> NoticeDraft:
    return NoticeDraft(volumes=volumes, title=title)


WEST = box(8.0, 47.0, 8.4, 47.3)
EAST = box(8.2, 47.1, 8.6, 47.5)  # overlaps WEST on [8.2, 8.4] x [47.1, 47.3]
FAR = box(9.5, 46.0, 9.7, 46.2)


@pytest.fixture
def service(database: Database, clock: ManualClock) -> NoticeService:
    return NoticeService(database, clock, Settings(max_volumes_per_notice=3))


@pytest.fixture
def parties(make_party: MakeParty) -> tuple[PartyRef, PartyRef]:
    return make_party("Alpha")[0], make_party("Bravo")[0]


def count(db: Database, table: type[DeclarativeBase]) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def counts(db: Database) -> dict[str, int]:
    return {t.__tablename__: count(db, t) for t in STORED}


def alert_rows(db: Database, party: PartyRef) -> list[dict[str, Any]]:
    with db.read() as session:
        rows = session.scalars(select(Alert).where(Alert.party_id == party.id))
        return [{c.name: getattr(a, c.key) for c in Alert.__mapper__.columns} for a in rows]


# -- conflicts and need-to-know ------------------------------------------------------------


def test_filing_returns_the_conflict_and_alerts_both_sides_without_their_names(
    service: NoticeService, database: Database, parties: tuple[PartyRef, PartyRef]
) -> None:
    """No agreement: the default disclosure, anonymous."""
    alpha, bravo = parties
    first = service.file(alpha, draft(vol(WEST), title="CAP"))
    assert first.conflicts == ()
    second = service.file(bravo, draft(vol(EAST, 1000, 5000, 3, 6), title="ISR"))

    [seen_by_bravo] = second.conflicts
    assert seen_by_bravo.counterpart == ANONYMOUS_COUNTERPART
    assert seen_by_bravo.notice_id == second.notice.id
    assert (seen_by_bravo.lower_m, seen_by_bravo.upper_m) == (1000.0, 3000.0)
    assert (seen_by_bravo.start, seen_by_bravo.end) == (
        T0 + timedelta(hours=3),
        T0 + timedelta(hours=4),
    )
    [seen_by_alpha] = service.conflicts_of(alpha, first.notice.id)
    assert seen_by_alpha.id == seen_by_bravo.id
    assert seen_by_alpha.counterpart == ANONYMOUS_COUNTERPART
    assert seen_by_alpha.notice_id == first.notice.id
    assert count(database, Conflict) == 1
    [alpha_alert] = alert_rows(database, alpha)
    [bravo_alert] = alert_rows(database, bravo)
    assert alpha_alert["conflict_id"] == bravo_alert["conflict_id"] == seen_by_bravo.id
    assert alpha_alert["counterpart"] == bravo_alert["counterpart"] == ANONYMOUS_COUNTERPART


def test_a_counterpart_sees_the_overlap_and_the_filers_name_never_the_plan(
    service: NoticeService,
    database: Database,
    clock: ManualClock,
    parties: tuple[PartyRef, PartyRef],
) -> None:
    alpha, bravo = parties
    AgreementService(database, clock).set("Alpha", "Bravo", Terms(disclosure=Disclosure.NAMED))
    mine = service.file(alpha, draft(vol(WEST), title="CAP"))
    theirs = service.file(bravo, draft(vol(FAR, 0, 900), vol(EAST, 1000, 5000, 3, 6), title="ISR"))

    [view] = service.conflicts_of(alpha, mine.notice.id)
    assert view.counterpart == "Bravo"
    assert (view.notice_id, view.position) == (mine.notice.id, 0)  # Alpha's own volume
    overlap = shapely_shape(view.geometry)
    expected = shapely_box(8.2, 47.1, 8.4, 47.3)
    assert overlap.symmetric_difference(expected).area < 1e-9
    assert overlap.area < 0.5 * EAST.shape.area  # the intersection, not Bravo's footprint
    assert (view.lower_m, view.upper_m) == (1000.0, 3000.0)
    assert (view.start, view.end) == (T0 + timedelta(hours=3), T0 + timedelta(hours=4))

    # Nothing Alpha holds names Bravo's notice, its title, its other volume or its band.
    rows = alert_rows(database, alpha)
    assert theirs.notice.id not in json.dumps(rows, default=str)
    # the random ids left out: a hex id may hold "5000" by chance
    held = json.dumps(
        [{k: v for k, v in r.items() if not k.endswith("id")} for r in rows], default=str
    )
    assert "ISR" not in held
    assert "9.5" not in held
    assert "5000" not in held
    with pytest.raises(NotFoundError):
        service.get(alpha, theirs.notice.id)


def test_touching_volumes_do_not_conflict(
    service: NoticeService, database: Database, parties: tuple[PartyRef, PartyRef]
) -> None:
    alpha, bravo = parties
    service.file(alpha, draft(vol(WEST)))
    edge = service.file(bravo, draft(vol(box(8.4, 47.0, 8.8, 47.3))))  # shared edge
    above = service.file(bravo, draft(vol(WEST, 3000, 6000)))  # stacked
    after = service.file(bravo, draft(vol(WEST, 0, 3000, 4, 6)))  # back to back
    before = service.file(bravo, draft(vol(WEST, 0, 3000, 0, 2)))
    assert [r.conflicts for r in (edge, above, after, before)] == [(), (), (), ()]
    assert count(database, Conflict) == 0


def test_a_partys_own_notices_do_not_conflict(
    service: NoticeService, database: Database, parties: tuple[PartyRef, PartyRef]
) -> None:
    alpha, _ = parties
    service.file(alpha, draft(vol(WEST)))
    assert service.file(alpha, draft(vol(WEST), vol(EAST))).conflicts == ()
    assert count(database, Conflict) == 0


def test_a_horizontal_buffer_finds_volumes_that_come_too_close(
    database: Database, clock: ManualClock, parties: tuple[PartyRef, PartyRef]
) -> None:
    alpha, bravo = parties
    buffered = NoticeService(database, clock, Settings(), Buffers(horizontal_m=2_000))
    buffered.file(alpha, draft(vol(WEST)))
    gap_deg = 1_000 / (111_320 * 0.68)  # about 1 km east of WEST at 47.15° N
    near = buffered.file(bravo, draft(vol(box(8.4 + gap_deg, 47.0, 8.8, 47.3))))
    far = buffered.file(bravo, draft(vol(box(8.5, 47.0, 8.8, 47.3))))  # ~7.6 km away
    assert len(near.conflicts) == 1
    assert far.conflicts == ()


# -- modify and cancel ---------------------------------------------------------------------


def test_modify_needs_the_current_version(
    service: NoticeService, database: Database, parties: tuple[PartyRef, PartyRef]
) -> None:
    alpha, _ = parties
    filed = service.file(alpha, draft(vol(WEST)))
    modified = service.modify(alpha, filed.notice.id, 1, draft(vol(FAR), title="moved"))
    assert (modified.notice.version, modified.notice.title) == (2, "moved")
    before = counts(database)
    with pytest.raises(StaleVersionError) as caught:
        service.modify(alpha, filed.notice.id, 1, draft(vol(WEST)))
    assert caught.value.detail["current_version"] == 2
    with pytest.raises(StaleVersionError) as caught:
        service.cancel(alpha, filed.notice.id, expected_version=1)
    assert caught.value.detail["current_version"] == 2
    assert counts(database) == before
    [stored] = service.get(alpha, filed.notice.id).volumes
    assert stored.footprint.shape.equals(FAR.shape)


def test_modify_resolves_old_conflicts_and_finds_new_ones(
    service: NoticeService,
    database: Database,
    clock: ManualClock,
    parties: tuple[PartyRef, PartyRef],
    make_party: MakeParty,
) -> None:
    alpha, bravo = parties
    charlie = make_party("Charlie")[0]
    AgreementService(database, clock).set("Bravo", "Charlie", Terms(disclosure=Disclosure.NAMED))
    a = service.file(alpha, draft(vol(WEST)))
    c = service.file(charlie, draft(vol(FAR)))
    b = service.file(bravo, draft(vol(EAST)))
    [old] = b.conflicts

    moved = service.modify(bravo, b.notice.id, 1, draft(vol(box(9.6, 46.1, 9.8, 46.3))))
    [new] = moved.conflicts
    assert new.counterpart == "Charlie"
    assert new.id != old.id
    assert service.conflicts_of(alpha, a.notice.id) == []
    assert [v.counterpart for v in service.conflicts_of(charlie, c.notice.id)] == ["Bravo"]
    with database.read() as session:
        assert session.get(Conflict, old.id).state == "resolved"  # type: ignore[union-attr]
        states = set(session.scalars(select(Alert.state).where(Alert.conflict_id == old.id)))
    assert states == {"resolved"}
    # the old volumes left the index: Alpha's next filing over EAST meets nothing of Bravo's
    assert service.file(alpha, draft(vol(EAST))).conflicts == ()


def test_cancel_resolves_conflicts_and_leaves_the_index(
    service: NoticeService, database: Database, parties: tuple[PartyRef, PartyRef]
) -> None:
    alpha, bravo = parties
    a = service.file(alpha, draft(vol(WEST)))
    b = service.file(bravo, draft(vol(EAST)))
    cancelled = service.cancel(bravo, b.notice.id)
    assert (cancelled.state, cancelled.version) == (NoticeState.CANCELLED, 2)
    assert service.conflicts_of(alpha, a.notice.id) == []
    with database.read() as session:
        cells = session.scalar(
            select(func.count())
            .select_from(VolumeCell)
            .join(Volume, Volume.id == VolumeCell.volume_id)
            .where(Volume.notice_id == b.notice.id)
        )
    assert cells == 0
    assert len(service.get(bravo, b.notice.id).volumes) == 1  # kept for the record
    assert service.file(alpha, draft(vol(EAST))).conflicts == ()
    with pytest.raises(InvalidStateError):
        service.cancel(bravo, b.notice.id)
    with pytest.raises(InvalidStateError):
        service.modify(bravo, b.notice.id, 2, draft(vol(EAST)))


def test_another_partys_notice_reads_as_not_found(
    service: NoticeService, database: Database, parties: tuple[PartyRef, PartyRef]
) -> None:
    alpha, bravo = parties
    theirs = service.file(bravo, draft(vol(EAST))).notice.id
    before = counts(database)
    actions: list[Callable[[], object]] = [
        lambda: service.get(alpha, theirs),
        lambda: service.conflicts_of(alpha, theirs),
        lambda: service.modify(alpha, theirs, 1, draft(vol(WEST))),
        lambda: service.cancel(alpha, theirs),
        lambda: service.get(alpha, "ntc_does_not_exist"),
    ]
    for action in actions:
        with pytest.raises(NotFoundError):
            action()
    assert counts(database) == before
    assert service.list_notices(alpha) == []
    assert [n.id for n in service.list_notices(bravo)] == [theirs]


def test_an_observer_may_not_file(
    service: NoticeService, database: Database, make_party: MakeParty
) -> None:
    watcher = make_party("Watcher", "observer")[0]
    before = counts(database)
    with pytest.raises(PermissionDeniedError):
        service.file(watcher, draft(vol(WEST)))
    assert counts(database) == before


# -- idempotency ---------------------------------------------------------------------------


def test_a_retried_filing_returns_the_first_result_and_files_nothing(
    service: NoticeService, database: Database, parties: tuple[PartyRef, PartyRef]
) -> None:
    alpha, bravo = parties
    service.file(alpha, draft(vol(WEST)))
    first = service.file(bravo, draft(vol(EAST), title="ISR"), idempotency_key="k-1")
    after_first = counts(database)
    again = service.file(bravo, draft(vol(EAST), title="ISR"), idempotency_key="k-1")
    assert counts(database) == after_first
    assert (first.replayed, again.replayed) == (False, True)
    assert again.notice.id == first.notice.id
    assert [c.id for c in again.conflicts] == [c.id for c in first.conflicts]
    assert len(first.conflicts) == 1

    with pytest.raises(IdempotencyKeyReusedError):
        service.file(bravo, draft(vol(FAR), title="ISR"), idempotency_key="k-1")
    assert counts(database) == after_first
    other = service.file(alpha, draft(vol(FAR)), idempotency_key="k-1")  # keys are per party
    assert not other.replayed
    assert count(database, Notice) == after_first["notices"] + 1


# -- atomicity -----------------------------------------------------------------------------


def test_invalid_drafts_store_nothing(
    service: NoticeService, database: Database, parties: tuple[PartyRef, PartyRef]
) -> None:
    alpha, _ = parties
    before = counts(database)
    with pytest.raises(ValidationError, match="at least one volume"):
        service.file(alpha, draft())
    with pytest.raises(ValidationError, match="at most 3 volumes"):
        service.file(alpha, draft(*[vol(WEST)] * 4))
    assert counts(database) == before


def test_a_failure_mid_transaction_leaves_nothing_stored(
    service: NoticeService,
    database: Database,
    parties: tuple[PartyRef, PartyRef],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alpha, bravo = parties
    a = service.file(alpha, draft(vol(WEST)))
    service.file(bravo, draft(vol(FAR)))
    before = counts(database)
    head = verify_database(database).head_hash

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    # by then the notice, its volumes and cells are written and its journal entry added, uncommitted
    monkeypatch.setattr(NoticeService, "_record_conflicts", explode)
    with pytest.raises(RuntimeError, match="disk on fire"):
        service.file(bravo, draft(vol(EAST)), idempotency_key="k")
    with pytest.raises(RuntimeError, match="disk on fire"):
        service.modify(alpha, a.notice.id, 1, draft(vol(FAR)))
    assert counts(database) == before
    assert service.get(alpha, a.notice.id).version == 1
    result = verify_database(database)
    assert result.intact
    assert result.head_hash == head


# -- concurrency ---------------------------------------------------------------------------


def test_concurrent_filings_find_every_conflict_and_keep_the_chain(
    service: NoticeService, database: Database, make_party: MakeParty
) -> None:
    """4 parties file 10 notices each, from 4 threads at once; filing i of every party
    lies in slot i, so each slot holds 4 filings of different parties made at about the
    same moment. Each of their 6 pairs is found exactly once, whatever the interleaving."""
    threads, per_thread = 4, 10
    filers = [make_party(f"Party {i}")[0] for i in range(threads)]
    slots = [box(8.0 + 0.1 * i, 47.0, 8.05 + 0.1 * i, 47.05) for i in range(per_thread)]
    start = threading.Barrier(threads)

    def file_all(party: PartyRef) -> list[FilingResult]:
        start.wait()
        return [service.file(party, draft(vol(slot))) for slot in slots]

    with ThreadPoolExecutor(threads) as pool:
        results = [r for batch in pool.map(file_all, filers) for r in batch]

    pairs = per_thread * threads * (threads - 1) // 2
    assert sum(len(r.conflicts) for r in results) == pairs
    assert count(database, Conflict) == pairs
    assert count(database, Alert) == 2 * pairs
    verification = verify_database(database)
    assert verification.first_break is None
    filings = threads * per_thread
    assert verification.head_seq == threads + filings + 3 * pairs  # parties, filings, conflicts


def _interleave(
    monkeypatch: pytest.MonkeyPatch, method: str, parties: int, wait_s: float = 0.5
) -> None:
    """Make ``NoticeService.<method>`` wait (briefly) until every thread has run it, so
    that without a lock all of them act on what they read before any commits."""
    original = getattr(NoticeService, method)
    barrier = threading.Barrier(parties)

    def waiting(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=wait_s)  # broken: the others wait (rightly) for our lock
        return result

    static = isinstance(inspect.getattr_static(NoticeService, method), staticmethod)
    monkeypatch.setattr(NoticeService, method, staticmethod(waiting) if static else waiting)


def test_concurrent_modifies_of_one_version_let_exactly_one_win(
    service: NoticeService,
    database: Database,
    parties: tuple[PartyRef, PartyRef],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Both read version 1 if they can; only a lock taken before the read (the journal
    head's) keeps PostgreSQL from letting both win and both sets of volumes stay."""
    alpha, _ = parties
    notice = service.file(alpha, draft(vol(WEST))).notice.id
    _interleave(monkeypatch, "_own", 2)
    targets = [box(9.0, 46.0, 9.1, 46.1), box(9.2, 46.0, 9.3, 46.1)]

    def modify(footprint: Footprint) -> FilingResult | StaleVersionError:
        try:
            return service.modify(alpha, notice, 1, draft(vol(footprint)))
        except StaleVersionError as exc:
            return exc

    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(modify, targets))
    won = [o for o in outcomes if isinstance(o, FilingResult)]
    lost = [o for o in outcomes if isinstance(o, StaleVersionError)]
    assert (len(won), len(lost)) == (1, 1)
    assert lost[0].detail["current_version"] == 2
    stored = service.get(alpha, notice)
    assert stored.version == 2
    [volume] = stored.volumes  # the winner's volume alone
    assert volume.footprint.shape.equals(won[0].notice.volumes[0].footprint.shape)


def test_concurrent_retries_with_one_key_file_once(
    service: NoticeService,
    database: Database,
    parties: tuple[PartyRef, PartyRef],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A client that timed out retries while its first request still runs: one files,
    the other replays it (on PostgreSQL, not a crash on the idempotency key's row)."""
    alpha, _ = parties
    _interleave(monkeypatch, "_replay", 2)
    with ThreadPoolExecutor(2) as pool:
        results = list(
            pool.map(lambda _: service.file(alpha, draft(vol(WEST)), idempotency_key="k"), [1, 2])
        )
    assert sorted(r.replayed for r in results) == [False, True]
    assert results[0].notice.id == results[1].notice.id
    assert count(database, Notice) == 1


def test_stored_geometry_round_trips(
    service: NoticeService, parties: tuple[PartyRef, PartyRef]
) -> None:
    alpha, _ = parties
    circle = Footprint.circle_at(8.55, 47.45, 5_000)
    filed = service.file(alpha, draft(vol(WEST), vol(circle, 100, 200)))
    stored = service.get(alpha, filed.notice.id)
    assert (stored.id, stored.version, stored.state) == (filed.notice.id, 1, NoticeState.FILED)
    assert stored.lead_time_s == 2 * 3600.0
    west, round_ = stored.volumes
    assert shapely.equals(west.footprint.shape, WEST.shape)
    assert round_.footprint.radius_m == 5_000
    assert (round_.lower_m, round_.upper_m) == (100.0, 200.0)
    assert round_.start == T0 + timedelta(hours=2)

"""Every state change appends its journal entries in the same transaction (both backends)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy import func, select

from deconfliction.alerts import AlertService
from deconfliction.clock import ManualClock
from deconfliction.core.footprint import Footprint
from deconfliction.core.volume import Volume4D
from deconfliction.journal import chain
from deconfliction.journal.chain import GENESIS, append, append_many
from deconfliction.journal.receipts import ensure_service_key
from deconfliction.journal.verify import verify_database
from deconfliction.jsontext import RawJSON
from deconfliction.notices.model import NoticeDraft
from deconfliction.notices.service import NoticeService
from deconfliction.parties import Registry
from deconfliction.settings import Settings
from deconfliction.store.database import Database
from deconfliction.store.schema import JournalEntry, Notice
from tests.conftest import T0, MakeParty


def notice(west: float, south: float, east: float, north: float) -> NoticeDraft:
    ring = [(west, south), (east, south), (east, north), (west, north), (west, south)]
    start = T0 + timedelta(hours=2)
    volume = Volume4D(Footprint.polygon(ring), 0.0, 3000.0, start, start + timedelta(hours=2))
    return NoticeDraft(volumes=(volume,))


WEST = notice(8.0, 47.0, 8.4, 47.3)
EAST = notice(8.2, 47.1, 8.6, 47.5)
FAR = notice(9.5, 46.0, 9.7, 46.2)


def kinds_after(db: Database, seq: int) -> Counter[str]:
    with db.read() as session:
        return Counter(session.scalars(select(JournalEntry.kind).where(JournalEntry.seq > seq)))


def head_seq(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.coalesce(func.max(JournalEntry.seq), 0))) or 0)


def test_each_state_change_appends_its_entries(
    database: Database, clock: ManualClock, registry: Registry
) -> None:
    service = NoticeService(database, clock, Settings())
    alerts = AlertService(database, clock)
    ensure_service_key(database, clock)  # as the app does on start; receipts are signed
    assert kinds_after(database, 0) == {"service.key_created": 1}

    alpha, _ = registry.add("Alpha", "operator")
    bravo, _ = registry.add("Bravo", "operator")
    assert kinds_after(database, 1) == {"party.created": 2}
    registry.issue_token("Alpha")
    assert kinds_after(database, 3) == {"party.token_issued": 1}

    seq = head_seq(database)
    a = service.file(alpha, WEST)
    assert kinds_after(database, seq) == {"notice.filed": 1}

    seq = head_seq(database)
    b = service.file(bravo, EAST)
    assert kinds_after(database, seq) == {
        "notice.filed": 1,
        "conflict.detected": 1,
        "alert.created": 2,
    }

    seq = head_seq(database)
    [alert] = alerts.list_alerts(alpha)
    alerts.acknowledge(alpha, alert.id)
    alerts.acknowledge(alpha, alert.id)  # again: nothing changes, nothing is written
    assert kinds_after(database, seq) == {"alert.acknowledged": 1}

    seq = head_seq(database)
    service.modify(bravo, b.notice.id, 1, FAR)
    assert kinds_after(database, seq) == {"conflict.resolved": 1, "notice.modified": 1}

    seq = head_seq(database)
    service.modify(bravo, b.notice.id, 2, EAST)
    assert kinds_after(database, seq) == {
        "notice.modified": 1,
        "conflict.detected": 1,
        "alert.created": 2,
    }

    seq = head_seq(database)
    service.cancel(alpha, a.notice.id)
    assert kinds_after(database, seq) == {"conflict.resolved": 1, "notice.state_changed": 1}
    with database.read() as session:
        change = session.scalars(
            select(JournalEntry.payload).where(JournalEntry.kind == "notice.state_changed")
        ).one()
    assert json.loads(change)["to"] == "cancelled"

    assert verify_database(database).intact


def test_entries_say_who_and_what(
    database: Database, clock: ManualClock, registry: Registry
) -> None:
    service = NoticeService(database, clock, Settings())
    alpha, _ = registry.add("Alpha", "operator")
    filed = service.file(alpha, WEST).notice
    with database.read() as session:
        entry = session.scalars(select(JournalEntry).order_by(JournalEntry.seq.desc())).first()
    assert entry is not None
    assert (entry.kind, entry.party, entry.subject, entry.at) == (
        "notice.filed",
        "Alpha",
        filed.id,
        clock.now(),
    )
    payload = json.loads(entry.payload)
    assert payload["notice"] == filed.id
    assert payload["version"] == 1


def test_stored_entries_carry_the_documented_hash(database: Database, registry: Registry) -> None:
    """Anyone can check an entry from its columns alone: SHA-256 of the previous hash and
    the canonical JSON of seq, at (RFC 3339 UTC, microseconds), kind, party, subject and
    the payload."""
    registry.add("Alpha", "operator")
    registry.add("Bravo", "authority")
    with database.read() as session:
        entries = list(session.scalars(select(JournalEntry).order_by(JournalEntry.seq)))
    prev = GENESIS
    for e in entries:
        body = {
            "seq": e.seq,
            "at": e.at.astimezone(UTC).isoformat(timespec="microseconds"),
            "kind": e.kind,
            "party": e.party,
            "subject": e.subject,
            "payload": json.loads(e.payload),
        }
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert e.prev_hash == prev
        assert e.hash == hashlib.sha256((prev + text).encode()).hexdigest()
        prev = e.hash


_TEXT = st.text(alphabet=st.characters(exclude_characters="\x00", exclude_categories=("Cs",)))
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=20,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    payload=st.dictionaries(_TEXT, _JSON, max_size=5),
    party=st.none() | _TEXT,
    subject=st.none() | _TEXT,
)
def test_any_payload_gets_the_documented_hash(
    database: Database, payload: dict[str, object], party: str | None, subject: str | None
) -> None:
    """Appends hash the payload's canonical text as it is (not parsed and written again):
    for any JSON payload of string keys that is the documented hash."""
    with database.transaction() as session:
        entry = append(
            session, at=T0, kind="test.any", payload=payload, party=party, subject=subject
        )
    body = {
        "seq": entry.seq,
        "at": T0.astimezone(UTC).isoformat(timespec="microseconds"),
        "kind": "test.any",
        "party": party,
        "subject": subject,
        "payload": json.loads(entry.payload),
    }
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert entry.hash == hashlib.sha256((entry.prev_hash + text).encode()).hexdigest()
    assert verify_database(database).intact


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(payloads=st.lists(st.dictionaries(_TEXT, _JSON, max_size=3), min_size=1, max_size=4))
def test_entries_appended_together_chain_as_if_appended_one_by_one(
    database: Database, payloads: list[dict[str, object]]
) -> None:
    """``append_many`` between single appends (payloads holding an outline written once,
    as RawJSON): one unbroken chain, in order, each entry with its payload."""
    outline = {"type": "Point", "coordinates": [8.5, 47.4]}
    told = RawJSON(chain.canonical_json(outline))
    with database.transaction() as session:
        first = append(session, at=T0, kind="test.before", payload={"n": 0})
        positions = append_many(
            session,
            T0,
            [("test.many", "Alpha", None, {**p, "outline": told}) for p in payloads],
        )
        seqs = [position.seq for position in positions]
        last = append(session, at=T0, kind="test.after", payload={"n": 1})
    assert seqs == list(range(first.seq + 1, first.seq + 1 + len(payloads)))
    assert last.seq == seqs[-1] + 1
    with database.read() as session:
        stored = session.scalars(
            select(JournalEntry).where(JournalEntry.seq.in_(seqs)).order_by(JournalEntry.seq)
        ).all()
    assert [json.loads(e.payload) for e in stored] == [{**p, "outline": outline} for p in payloads]
    assert [(e.seq, e.hash) for e in stored] == positions
    assert verify_database(database).intact


def test_a_failing_append_undoes_the_change(
    database: Database, clock: ManualClock, make_party: MakeParty, monkeypatch: pytest.MonkeyPatch
) -> None:
    alpha, _ = make_party("Alpha")
    service = NoticeService(database, clock, Settings())
    before = head_seq(database)

    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("journal unavailable")

    monkeypatch.setattr(chain, "canonical_json", broken)
    with pytest.raises(RuntimeError, match="journal unavailable"):
        service.file(alpha, WEST)
    with pytest.raises(RuntimeError, match="journal unavailable"):
        make_party("Bravo")
    monkeypatch.undo()
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(Notice)) == 0
    assert head_seq(database) == before
    assert [p.name for p in Registry(database, clock).all()] == ["Alpha"]


def test_entry_times_are_kept_in_utc(database: Database) -> None:
    """An aware time in another zone is stored and hashed as UTC, so the chain verifies."""
    local = datetime(2026, 3, 2, 10, 0, 0, 250, tzinfo=timezone(timedelta(hours=2)))
    with database.transaction() as session:
        entry = append(session, at=local, kind="test.event", payload={"x": 1})
    assert entry.at.utcoffset() == timedelta(0)
    assert verify_database(database).intact
    with database.read() as session:
        stored = session.scalars(select(JournalEntry.at)).one()
    assert stored == local


def test_naive_entry_times_are_refused(database: Database) -> None:
    naive = datetime(2026, 3, 2, 10, 0)  # noqa: DTZ001 - the point of the test
    with database.transaction() as session, pytest.raises(ValueError, match="aware"):
        append(session, at=naive, kind="test.event", payload={})


def test_a_head_lock_taken_in_a_rolled_back_savepoint_is_taken_again(
    database: Database,
) -> None:
    """Rolling a savepoint back releases the row locks taken in it (PostgreSQL): a lock
    first taken there must not count as held afterwards."""
    locks: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "FROM journal_head" in statement:
            locks.append(statement)

    sqlalchemy_event.listen(database.engine, "before_cursor_execute", seen)
    try:
        with database.transaction() as session:
            savepoint = session.begin_nested()
            chain.lock_head(session)
            savepoint.rollback()
            chain.lock_head(session)
            chain.lock_head(session)  # held now: not asked again
    finally:
        sqlalchemy_event.remove(database.engine, "before_cursor_execute", seen)
    assert len(locks) == 2

"""The journal as a transparency log: checkpoints cover it, proofs hold on both backends
(while others append), and a party holding an earlier checkpoint catches the two attacks
an unkeyed chain lets through: cutting entries from the end and moving the head back,
and editing an entry and recomputing every hash after it."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from deconfliction.cli import journal as journal_cli
from deconfliction.clock import ManualClock
from deconfliction.journal import merkle
from deconfliction.journal.chain import append, entry_hash
from deconfliction.journal.checkpoint import (
    check_consistency,
    check_inclusion,
    entry_leaf,
    read_checkpoint,
)
from deconfliction.journal.log import CHECKPOINT_EVENT, TransparencyLog
from deconfliction.journal.receipts import ensure_service_key
from deconfliction.parties import Registry
from deconfliction.store.database import Database
from deconfliction.store.schema import Event, JournalEntry

ENTRIES = 40


@pytest.fixture
def key(database: Database, clock: ManualClock) -> str:
    return ensure_service_key(database, clock)


@pytest.fixture
def log(database: Database, clock: ManualClock, key: str) -> TransparencyLog:
    return TransparencyLog(database, clock)


def add(database: Database, clock: ManualClock, n: int) -> None:
    with database.transaction() as session:
        for i in range(n):
            append(session, at=clock.now(), kind="test.entry", payload={"i": i})


def leaves(database: Database) -> list[bytes]:
    with database.read() as session:
        rows = session.scalars(select(JournalEntry.hash).order_by(JournalEntry.seq))
        return [entry_leaf(h) for h in rows]


def test_checkpoints_sign_the_tree_of_the_entries_and_prove_each(
    database: Database, clock: ManualClock, log: TransparencyLog, key: str
) -> None:
    kept = []
    for n in (0, 1, 14, 1, 33, 2):  # across the stored level's 16-entry blocks
        add(database, clock, n)
        clock.advance(timedelta(seconds=1))
        document = log.checkpoint()
        body, problem = read_checkpoint(document, key)
        assert problem is None
        assert body is not None
        tree = leaves(database)
        assert (body.tree_size, body.root) == (len(tree), merkle.tree_hash(tree))
        kept.append(body)
        for seq in range(1, len(tree) + 1):
            proof = log.inclusion(seq)
            assert check_inclusion(proof["entry_hash"], seq, proof["proof"], body) is None
    assert log.checkpoint() == log.latest()  # nothing new: the last one again
    for i, old in enumerate(kept):
        for new in kept[i:]:
            proof = log.consistency(old.tree_size, new.tree_size)["proof"]
            assert check_consistency(old, new, proof) is None
    assert [c["body"]["tree_size"] for c in log.checkpoints()] == [k.tree_size for k in kept]


def test_every_party_hears_of_each_checkpoint(
    database: Database, registry: Registry, log: TransparencyLog
) -> None:
    alpha, _ = registry.add("Alpha", "operator")
    bravo, _ = registry.add("Bravo", "observer")
    document = log.checkpoint()
    with database.read() as session:
        told = session.execute(
            select(Event.party_id, Event.payload).where(Event.kind == CHECKPOINT_EVENT)
        ).all()
    assert sorted(p for p, _ in told) == sorted([alpha.id, bravo.id])
    assert all(json.loads(payload) == document for _, payload in told)


def test_checkpoints_are_made_when_due_and_only_then(
    database: Database, clock: ManualClock, log: TransparencyLog
) -> None:
    add(database, clock, 3)
    assert log.run_once(clock.now(), 60) is None  # the first entry is not a minute old
    clock.advance(timedelta(seconds=60))
    assert log.run_once(clock.now(), 60) is not None
    clock.advance(timedelta(seconds=120))
    assert log.run_once(clock.now(), 60) is None  # nothing new to checkpoint
    add(database, clock, 1)
    assert log.run_once(clock.now(), 60) is not None
    add(database, clock, 1)
    assert log.run_once(clock.now(), 0) is None  # scheduled checkpoints off


def test_proofs_hold_while_others_append_and_checkpoint(
    database: Database, clock: ManualClock, log: TransparencyLog, key: str
) -> None:
    """Writers append while two checkpointers race (as two replicas would): every
    checkpoint is consistent with every later one and proves entries it covers."""
    add(database, clock, 5)
    stop = threading.Event()
    made: list[dict[str, Any]] = []
    failures: list[BaseException] = []

    def writer() -> None:
        try:
            for _ in range(30):
                add(database, clock, 3)
        except BaseException as exc:  # reported below
            failures.append(exc)

    def checkpointer() -> None:
        try:
            while not stop.is_set():
                made.append(log.checkpoint())
        except BaseException as exc:
            failures.append(exc)

    writers = [threading.Thread(target=writer) for _ in range(2)]
    checkers = [threading.Thread(target=checkpointer) for _ in range(2)]
    for t in writers + checkers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    for t in checkers:
        t.join()
    assert not failures, failures
    made.append(log.checkpoint())
    bodies = sorted({d["body"]["tree_size"]: read_checkpoint(d, key)[0] for d in made}.items())
    assert bodies[-1][0] == 1 + 5 + 2 * 30 * 3  # the service key's entry first
    tree = leaves(database)
    for size, body in bodies:
        assert body is not None
        assert body.root == merkle.tree_hash(tree[:size])
        proof = log.consistency(size)["proof"]
        assert check_consistency(body, bodies[-1][1], proof) is None  # type: ignore[arg-type]
        for seq in {1, size, (size + 1) // 2}:
            inclusion = log.inclusion(seq, size)
            assert check_inclusion(inclusion["entry_hash"], seq, inclusion["proof"], body) is None


# -- the attacks, caught offline by a party holding an earlier checkpoint ------------------


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(journal_cli.app, list(args))
    return result.exit_code, result.stdout


def _rechain(database: Database, after: int) -> None:
    """Recompute every entry's hash after seq ``after`` and move the head to the last one,
    as an operator covering an edit would (and drop the tree and checkpoints)."""
    with database.transaction() as session:
        rows = session.scalars(select(JournalEntry).order_by(JournalEntry.seq)).all()
        prev = rows[after - 1].hash if after else "0" * 64
        for row in rows[after:]:
            body = {
                "seq": row.seq,
                "at": row.at.isoformat(timespec="microseconds"),
                "kind": row.kind,
                "party": row.party,
                "subject": row.subject,
                "payload": json.loads(row.payload),
            }
            row.prev_hash, row.hash = prev, entry_hash(prev, body)
            prev = row.hash
        session.flush()
        last = rows[-1]
        session.execute(
            text("UPDATE journal_head SET seq = :seq, hash = :hash WHERE id = 1"),
            {"seq": last.seq, "hash": last.hash},
        )
        session.execute(text("DELETE FROM journal_nodes"))
        session.execute(text("DELETE FROM journal_checkpoints"))


def _truncate(database: Database, keep: int) -> None:
    with database.transaction() as session:
        session.execute(text("DELETE FROM journal WHERE seq > :keep"), {"keep": keep})
        last = session.scalars(select(JournalEntry.hash).where(JournalEntry.seq == keep)).one()
        session.execute(
            text("UPDATE journal_head SET seq = :seq, hash = :hash WHERE id = 1"),
            {"seq": keep, "hash": last},
        )
        session.execute(text("DELETE FROM journal_nodes"))
        session.execute(text("DELETE FROM journal_checkpoints"))


def _edit(database: Database, seq: int) -> None:
    with database.transaction() as session:
        session.execute(
            text("UPDATE journal SET payload = :p WHERE seq = :seq"),
            {"p": '{"i":"forged"}', "seq": seq},
        )
    _rechain(database, seq - 1)


ATTACKS = {
    "cut the last entries and move the head back": lambda db: _truncate(db, ENTRIES - 4),
    "edit an entry and recompute every hash after it": lambda db: _edit(db, 7),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_an_earlier_checkpoint_catches_the_attack(
    database: Database,
    database_url: str,
    clock: ManualClock,
    log: TransparencyLog,
    key: str,
    tmp_path: Path,
    attack: str,
) -> None:
    add(database, clock, ENTRIES - 1)
    old = tmp_path / "old.json"
    old.write_text(json.dumps(log.checkpoint()))
    honest = tmp_path / "honest.json"
    add(database, clock, 2)
    honest.write_text(json.dumps(log.checkpoint()))
    assert cli("verify", "--database", database_url, "--checkpoint", str(old))[0] == 0
    assert cli("consistency", str(old), str(honest), "--database", database_url)[0] == 0

    ATTACKS[attack](database)
    add(database, clock, 6)  # the journal goes on, and the operator signs a new head
    new = tmp_path / "new.json"
    new.write_text(json.dumps(log.checkpoint()))
    size = json.loads(old.read_text())["body"]["tree_size"]

    code, out = cli("verify", "--database", database_url)
    assert code == 0, out  # the chain alone cannot tell
    code, out = cli("verify", "--database", database_url, "--checkpoint", str(old))
    assert code == 1, out
    assert "checkpoint NOT kept" in out
    code, out = cli("consistency", str(old), str(new), "--database", database_url)
    assert code == 1, out
    # offline, with only the proof the operator can give and the key taken beforehand
    # the best the operator can serve: the proof over the journal as it now is
    served = [h.hex() for h in merkle.consistency_proof(leaves(database), size)]
    proof = tmp_path / "proof.json"
    proof.write_text(json.dumps({"first": size, "proof": served}))
    code, out = cli("consistency", str(old), str(new), "--proof", str(proof), "--public-key", key)
    assert code == 1, out
    assert "NOT consistent" in out

"""Signed receipts and journal exports: made in the store (both backends), checked offline
with only the public key, and every alteration of an export caught (hypothesis)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from typer.testing import CliRunner

from deconfliction.cli.app import build
from deconfliction.clock import ManualClock
from deconfliction.delivery.outbox import publish
from deconfliction.delivery.stream import Deliveries
from deconfliction.errors import NotFoundError, ValidationError
from deconfliction.hotline.messages import MessageDraft, MessageService
from deconfliction.journal.chain import append, entry_hash
from deconfliction.journal.receipts import (
    RECEIPT_TYPE,
    ReceiptRequest,
    ensure_service_key,
    export,
    issue_fresh_receipts,
    issue_receipt,
    item_hash,
    public_key,
    verify_export,
    verify_signed,
)
from deconfliction.journal.verify import verify_database
from deconfliction.parties import PartyRef
from deconfliction.store.database import Database
from deconfliction.store.schema import JournalEntry, Receipt, ServiceKey
from tests.conftest import MakeParty

OTHER_KEY = "3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29"
"""Some other Ed25519 public key (RFC 8032 test vector 1)."""

ALERT = {"id": "alt_1", "kind": "notice-notice", "state": "open", "priority": "routine"}


def test_the_key_is_made_once_and_journaled(database: Database, clock: ManualClock) -> None:
    with database.read() as session, pytest.raises(NotFoundError, match="start the service"):
        public_key(session)
    key = ensure_service_key(database, clock)
    assert len(bytes.fromhex(key)) == 32
    assert ensure_service_key(database, clock) == key
    with database.read() as session:
        assert public_key(session) == key
        assert session.scalar(select(func.count()).select_from(ServiceKey)) == 1
        [entry] = session.scalars(
            select(JournalEntry).where(JournalEntry.kind == "service.key_created")
        ).all()
        assert json.loads(entry.payload) == {"algorithm": "ed25519", "public_key": key}


def test_a_receipt_says_who_got_what_when_and_where_it_is_journaled(
    database: Database, clock: ManualClock, make_party: MakeParty
) -> None:
    alpha, _ = make_party("Alpha")
    key = ensure_service_key(database, clock)
    with database.transaction() as session:
        publish(
            session,
            party_id=alpha.id,
            kind="alert.created",
            payload=ALERT,
            at=clock.now(),
            item_id="alt_1",
        )
    clock.advance(timedelta(seconds=2))
    with database.transaction() as session:
        first = issue_receipt(session, alpha, "alert", "alt_1", "delivered", clock.now())
    with database.transaction() as session:  # asked again: the first receipt, nothing new
        again = issue_receipt(session, alpha, "alert", "alt_1", "delivered", clock.now())
    assert again == first
    assert verify_signed(first, key, RECEIPT_TYPE) is None
    body = first["body"]
    assert body["party"] == "Alpha"
    assert body["item"] == {"kind": "alert", "id": "alt_1", "hash": item_hash(ALERT)}
    assert (body["event"], body["at"]) == (
        "delivered",
        clock.now().isoformat(timespec="microseconds"),
    )
    assert body["key"] == key
    with database.read() as session:
        entry = session.get(JournalEntry, body["journal"]["seq"])
        assert entry is not None
        assert (entry.kind, entry.subject, entry.party, entry.hash) == (
            "alert.delivered",
            "alt_1",
            "Alpha",
            body["journal"]["hash"],
        )
        assert json.loads(entry.payload)["item"]["hash"] == item_hash(ALERT)
        assert session.scalar(select(func.count()).select_from(Receipt)) == 1


def test_receipts_issued_together_are_each_signed_and_journaled_in_order(
    database: Database, clock: ManualClock, make_party: MakeParty
) -> None:
    """A round of deliveries signs its receipts in one go: each verifies, points at its
    own entry (in the order asked), is stored once, and the chain stays whole."""
    alpha, _ = make_party("Alpha")
    bravo, _ = make_party("Bravo")
    key = ensure_service_key(database, clock)
    items = [(alpha, {"n": 1}), (bravo, {"n": 2}), (alpha, {"n": 3})]
    requests = [
        ReceiptRequest(party, "message", f"msg_{i}", "delivered", item, {"to": party.name})
        for i, (party, item) in enumerate(items)
    ]
    with database.transaction() as session:
        before = append(session, at=clock.now(), kind="test.before", payload={})
        receipts = issue_fresh_receipts(session, requests, clock.now())
    assert [r["body"]["journal"]["seq"] for r in receipts] == [before.seq + 1 + i for i in range(3)]
    with database.read() as session:
        for request, receipt in zip(requests, receipts, strict=True):
            assert verify_signed(receipt, key, RECEIPT_TYPE) is None
            body = receipt["body"]
            assert body["item"]["hash"] == item_hash(request.item_payload)
            entry = session.get(JournalEntry, body["journal"]["seq"])
            assert entry is not None
            assert (entry.subject, entry.party, entry.hash) == (
                request.item_id,
                request.party.name,
                body["journal"]["hash"],
            )
            assert json.loads(entry.payload)["to"] == request.party.name
            stored = session.get(Receipt, body["receipt"])
            assert stored is not None
            assert (json.loads(stored.body), stored.signature) == (body, receipt["signature"])
    assert verify_database(database).intact


def test_a_receipt_can_point_at_the_callers_journal_entry(
    database: Database, clock: ManualClock, make_party: MakeParty
) -> None:
    alpha, _ = make_party("Alpha")
    ensure_service_key(database, clock)
    with database.transaction() as session:
        entry = append(
            session,
            at=clock.now(),
            kind="alert.acknowledged",
            party="Alpha",
            subject="alt_1",
            payload={"alert": "alt_1"},
        )
        signed = issue_receipt(
            session, alpha, "alert", "alt_1", "acknowledged", clock.now(), ALERT, entry=entry
        )
        assert signed["body"]["journal"] == {"seq": entry.seq, "hash": entry.hash}
        with pytest.raises(ValueError, match="is about 'alt_1', not 'alt_2'"):
            issue_receipt(
                session, alpha, "alert", "alt_2", "delivered", clock.now(), ALERT, entry=entry
            )


def test_a_receipt_needs_its_item(
    database: Database, clock: ManualClock, make_party: MakeParty
) -> None:
    alpha, _ = make_party("Alpha")
    with database.transaction() as session:
        with pytest.raises(NotFoundError, match="give the item's payload"):
            issue_receipt(session, alpha, "alert", "alt_9", "delivered", clock.now())
        with pytest.raises(ValueError, match="not 'read'"):
            issue_receipt(session, alpha, "message", "m", "read", clock.now(), {})


def test_a_changed_or_foreign_signature_is_caught(
    database: Database, clock: ManualClock, make_party: MakeParty
) -> None:
    alpha, _ = make_party("Alpha")
    key = ensure_service_key(database, clock)
    with database.transaction() as session:
        signed = issue_receipt(
            session, alpha, "message", "m1", "acknowledged", clock.now(), {"t": 1}
        )
    later = copy.deepcopy(signed)
    later["body"]["at"] = (clock.now() + timedelta(minutes=5)).isoformat()
    assert "does not match" in str(verify_signed(later, key, RECEIPT_TYPE))
    assert "does not match" in str(verify_signed(signed, OTHER_KEY, RECEIPT_TYPE))
    assert "not a 'deconfliction.export" in str(
        verify_signed(signed, key, "deconfliction.export-statement/1")
    )
    assert "not a signed document" in str(verify_signed({"signature": "00"}, key, RECEIPT_TYPE))
    with pytest.raises(ValidationError, match="64 hex digits"):
        verify_signed(signed, "xyz", RECEIPT_TYPE)


# -- exports ------------------------------------------------------------------------------


def _scenario(
    database: Database, clock: ManualClock, make_party: MakeParty
) -> tuple[PartyRef, PartyRef]:
    """Alpha and Bravo talk, Bravo acknowledges; Bravo has an alert delivered; Charlie
    talks to Bravo (not Alpha's business)."""
    alpha, _ = make_party("Alpha")
    bravo, _ = make_party("Bravo")
    make_party("Charlie")
    ensure_service_key(database, clock)
    messages = MessageService(database, clock)
    one = messages.send(alpha, MessageDraft("first", to="Bravo")).message
    messages.send(alpha, MessageDraft("second", to="Bravo"))
    with database.transaction() as session:
        publish(
            session,
            party_id=bravo.id,
            kind="alert.created",
            payload=ALERT,
            at=clock.now(),
            item_id="alt_1",
        )
    charlie = messages.send(PartyRef(3, "Charlie", alpha.role), MessageDraft("c", to="Bravo"))
    clock.advance(timedelta(seconds=3))
    Deliveries(database, clock).acknowledge({bravo: 4})
    messages.acknowledge(bravo, one.id)
    messages.acknowledge(bravo, charlie.message.id)
    return alpha, bravo


@pytest.fixture
def exported(
    database: Database, clock: ManualClock, make_party: MakeParty
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    alpha, bravo = _scenario(database, clock, make_party)
    with database.read() as session:
        return (
            public_key(session),
            export(session, alpha, clock.now()),
            export(session, bravo, clock.now()),
        )


def test_an_export_holds_the_partys_slice_and_verifies_offline(
    exported: tuple[str, dict[str, Any], dict[str, Any]],
) -> None:
    key, alpha, bravo = exported
    for document in (alpha, bravo):
        check = verify_export(json.loads(json.dumps(document)), key)
        assert check.problems == ()
        assert check.ok
    # Alpha: its own entries, and the entries its receipts (on messages it sent) point at
    assert {e["party"] for e in alpha["entries"]} == {"Alpha", "Bravo"}
    assert all(e["party"] == "Alpha" or e["kind"].startswith("message.") for e in alpha["entries"])
    assert "Charlie" not in json.dumps(alpha)  # Charlie's message to Bravo is not Alpha's
    assert [r["body"]["event"] for r in alpha["receipts"]] == [
        "delivered",
        "delivered",
        "acknowledged",
    ]
    assert {i["kind"] for i in alpha["items"]} == {"message"}
    # Bravo: its receipts (two messages and the alert delivered, two acknowledged)
    assert len(bravo["receipts"]) == 6
    assert {i["kind"] for i in bravo["items"]} == {"message", "alert"}
    assert all(e["party"] == "Bravo" for e in bravo["entries"])
    assert bravo["statement"]["body"]["head"]["seq"] == max(
        e["seq"] for e in alpha["entries"] + bravo["entries"]
    )


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaves(v, (*path, i))
    else:
        yield path


def _changed(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, str):
        return value[:-1] + ("0" if value[-1:] != "0" else "1")
    return "x"


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(choice=st.data())
def test_any_change_to_any_value_of_an_export_is_caught(
    exported: tuple[str, dict[str, Any], dict[str, Any]], choice: st.DataObject
) -> None:
    key, alpha, bravo = exported
    document = choice.draw(st.sampled_from([alpha, bravo]))
    path = choice.draw(st.sampled_from(sorted(_leaves(document), key=str)))
    forged = copy.deepcopy(document)
    target = forged
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = _changed(target[path[-1]])
    try:
        check = verify_export(forged, key)
    except ValidationError:  # the type itself was changed: not an export at all
        assert path == ("type",)
        return
    assert not check.ok, path


@pytest.mark.parametrize("where", ["entries", "receipts", "items"])
def test_removing_anything_from_an_export_is_caught(
    exported: tuple[str, dict[str, Any], dict[str, Any]], where: str
) -> None:
    key, _, bravo = exported
    for index in range(len(bravo[where])):
        forged = copy.deepcopy(bravo)
        del forged[where][index]
        assert not verify_export(forged, key).ok, (where, index)


def test_a_forged_entry_with_a_consistent_hash_is_caught(
    exported: tuple[str, dict[str, Any], dict[str, Any]],
) -> None:
    """Hashes are not signatures: an entry made up by the party hashes correctly, but it
    is not among those the service vouched for."""
    key, alpha, _ = exported
    forged = copy.deepcopy(alpha)
    last = forged["entries"][-1]
    body = {
        "seq": last["seq"] + 1,
        "at": last["at"],
        "kind": "notice.filed",
        "party": "Alpha",
        "subject": "ntc_x",
        "payload": {},
    }
    forged["entries"].append(
        {**body, "prev_hash": last["hash"], "hash": entry_hash(last["hash"], body)}
    )
    check = verify_export(forged, key)
    assert any("not those the service signed" in p for p in check.problems)


def test_an_export_checked_with_another_key_fails(
    exported: tuple[str, dict[str, Any], dict[str, Any]],
) -> None:
    _, alpha, _ = exported
    check = verify_export(alpha, OTHER_KEY)
    assert not check.ok
    assert "statement" in check.problems[0]
    with pytest.raises(ValidationError, match="not a journal export"):
        verify_export([], OTHER_KEY)


# -- the command line ---------------------------------------------------------------------


def test_the_cli_prints_the_key_and_checks_receipts_and_exports(
    tmp_path: Path,
    database: Database,
    database_url: str,
    exported: tuple[str, dict[str, Any], dict[str, Any]],
) -> None:
    key, alpha, _ = exported
    runner = CliRunner()
    app = build()
    shown = runner.invoke(app, ["journal", "key", "-d", database_url])
    assert shown.exit_code == 0, shown.output
    assert shown.output.strip() == key

    receipt = tmp_path / "receipt.json"
    receipt.write_text(json.dumps(alpha["receipts"][0]))
    key_file = tmp_path / "key.json"
    key_file.write_text(json.dumps({"algorithm": "ed25519", "public_key": key}))
    ok = runner.invoke(app, ["journal", "receipt", "verify", str(receipt), "--public-key", key])
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith("receipt valid: message msg_")
    assert (
        runner.invoke(
            app, ["journal", "receipt", "verify", str(receipt), "--key-file", str(key_file)]
        ).exit_code
        == 0
    )
    bad = runner.invoke(
        app, ["journal", "receipt", "verify", str(receipt), "--public-key", OTHER_KEY]
    )
    assert bad.exit_code == 1
    assert "NOT valid" in bad.output
    no_key = runner.invoke(app, ["journal", "receipt", "verify", str(receipt)])
    assert no_key.exit_code == 2
    assert "--public-key" in no_key.output

    whole = tmp_path / "export.json"
    whole.write_text(json.dumps(alpha))
    good = runner.invoke(app, ["journal", "export", "verify", str(whole), "--public-key", key])
    assert good.exit_code == 0, good.output
    assert "export valid: party Alpha" in good.output
    alpha["entries"][0]["payload"] = {"name": "Mallory"}
    whole.write_text(json.dumps(alpha))
    broken = runner.invoke(app, ["journal", "export", "verify", str(whole), "--public-key", key])
    assert broken.exit_code == 1
    assert (
        f"entry {alpha['entries'][0]['seq']}: its content does not match its hash" in broken.output
    )
    missing = runner.invoke(
        app, ["journal", "export", "verify", str(tmp_path / "nope.json"), "--public-key", key]
    )
    assert missing.exit_code == 2


def test_the_key_command_needs_a_database_with_a_key(tmp_path: Path, database_url: str) -> None:
    runner = CliRunner()
    absent = runner.invoke(build(), ["journal", "key", "-d", f"sqlite:///{tmp_path / 'no.db'}"])
    assert absent.exit_code == 2
    assert not (tmp_path / "no.db").exists()
    unkeyed = runner.invoke(build(), ["journal", "key", "-d", database_url])
    assert unkeyed.exit_code == 2
    assert "start the service once" in unkeyed.output

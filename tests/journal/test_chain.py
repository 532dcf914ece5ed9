"""The hash chain in memory: the documented hash, and every kind of tampering caught at
the first entry it touches (hypothesis, against the tampering's own record of where)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from deconfliction.journal.chain import GENESIS, Break, verify

T = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Entry:
    seq: int
    at: datetime
    kind: str
    party: str | None
    subject: str | None
    payload: str
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Head:
    seq: int
    hash: str


def documented_hash(prev_hash: str, seq: int, at: datetime, kind: str, payload: Any) -> str:
    """The chain's hash as its docstring states it, written out independently."""
    body = {
        "seq": seq,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "kind": kind,
        "party": "Alpha",
        "subject": f"s{seq}",
        "payload": payload,
    }
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + text).encode("utf-8")).hexdigest()


def chain(n: int) -> tuple[list[Entry], Head]:
    entries, prev = [], GENESIS
    for seq in range(1, n + 1):
        at = T + timedelta(seconds=seq, microseconds=seq)
        payload = {"n": seq, "name": "Zürich", "x": seq / 3}
        digest = documented_hash(prev, seq, at, "notice.filed", payload)
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        entries.append(Entry(seq, at, "notice.filed", "Alpha", f"s{seq}", text, prev, digest))
        prev = digest
    return entries, Head(n, prev)


def test_an_intact_chain_verifies() -> None:
    entries, head = chain(20)
    assert verify(entries, head) is None
    assert verify(entries) is None
    assert verify([], Head(0, GENESIS)) is None


def test_the_chain_starts_at_genesis() -> None:
    entries, head = chain(3)
    assert entries[0].prev_hash == GENESIS == "0" * 64
    forged = dataclasses.replace(entries[0], prev_hash="1" * 64)
    found = verify([forged, *entries[1:]], head)
    assert found is not None
    assert found.seq == 1
    assert "previous-hash" in found.reason


def _reason(found: Break | None) -> str:
    assert found is not None
    return found.reason


# -- tampering -----------------------------------------------------------------------------


def edit_payload(entries: list[Entry], head: Head, k: int) -> tuple[list[Entry], Head, int]:
    entries[k - 1] = dataclasses.replace(entries[k - 1], payload='{"n":0}')
    return entries, head, k


def edit_time(entries: list[Entry], head: Head, k: int) -> tuple[list[Entry], Head, int]:
    old = entries[k - 1]
    entries[k - 1] = dataclasses.replace(old, at=old.at + timedelta(microseconds=1))
    return entries, head, k


def break_json(entries: list[Entry], head: Head, k: int) -> tuple[list[Entry], Head, int]:
    entries[k - 1] = dataclasses.replace(entries[k - 1], payload="{not json")
    return entries, head, k


def delete(entries: list[Entry], head: Head, k: int) -> tuple[list[Entry], Head, int]:
    del entries[k - 1]
    return entries, head, k


def relink(entries: list[Entry], head: Head, k: int) -> tuple[list[Entry], Head, int]:
    entries[k - 1] = dataclasses.replace(entries[k - 1], prev_hash="f" * 64)
    return entries, head, k


def swap(entries: list[Entry], head: Head, k: int) -> tuple[list[Entry], Head, int]:
    """Swap the seq of entry k and a later one (k < n), as a reordering UPDATE would."""
    j = len(entries)
    a, b = entries[k - 1], entries[j - 1]
    entries[k - 1] = dataclasses.replace(b, seq=a.seq)
    entries[j - 1] = dataclasses.replace(a, seq=b.seq)
    return entries, head, k


def truncate(entries: list[Entry], head: Head, k: int) -> tuple[list[Entry], Head, int]:
    del entries[k - 1 :]
    return entries, head, k


def append_outside(entries: list[Entry], head: Head, k: int) -> tuple[list[Entry], Head, int]:
    """An entry chained correctly onto the end, but the head was not moved."""
    last = entries[-1]
    seq = last.seq + 1
    digest = documented_hash(last.hash, seq, T, "notice.filed", {"n": seq})
    payload = json.dumps({"n": seq})
    entries.append(Entry(seq, T, "notice.filed", "Alpha", f"s{seq}", payload, last.hash, digest))
    return entries, head, seq


def rewrite_end(entries: list[Entry], head: Head, k: int) -> tuple[list[Entry], Head, int]:
    """The last entry replaced by a well-chained forgery: only the head can tell."""
    last = entries[-1]
    digest = documented_hash(last.prev_hash, last.seq, last.at, last.kind, {"n": -1})
    entries[-1] = dataclasses.replace(last, payload='{"n":-1}', hash=digest)
    return entries, head, last.seq


SPOT_TAMPERS = [edit_payload, edit_time, break_json, delete, relink, truncate]


@given(
    n=st.integers(min_value=2, max_value=30),
    data=st.data(),
    tamper=st.sampled_from([*SPOT_TAMPERS, swap]),
)
def test_tampering_is_caught_at_the_first_entry_it_touches(
    n: int, data: st.DataObject, tamper: Any
) -> None:
    entries, head = chain(n)
    last_k = n - 1 if tamper is swap else n
    k = data.draw(st.integers(min_value=1, max_value=last_k), label="k")
    tampered, head, first_bad = tamper(list(entries), head, k)
    found = verify(tampered, head)
    assert found is not None
    assert found.seq == first_bad, found.reason


@given(
    n=st.integers(min_value=1, max_value=30), tamper=st.sampled_from([append_outside, rewrite_end])
)
def test_the_head_catches_what_the_links_cannot(n: int, tamper: Any) -> None:
    entries, head = chain(n)
    tampered, head, first_bad = tamper(list(entries), head, n)
    assert verify(tampered) is None  # chained consistently...
    found = verify(tampered, head)  # ...but not where the head says it ends
    assert found is not None
    assert found.seq == first_bad, found.reason


def test_reasons_say_what_is_wrong() -> None:
    entries, head = chain(5)
    reasons = {
        tamper.__name__: _reason(verify(tamper(list(entries), head, 3)[0], head))
        for tamper in [*SPOT_TAMPERS, swap]
    }
    assert "edited" in reasons["edit_payload"]
    assert "edited" in reasons["edit_time"]
    assert "not valid JSON" in reasons["break_json"]
    assert "missing" in reasons["delete"]
    assert "previous-hash" in reasons["relink"]
    assert "previous-hash" in reasons["swap"]
    assert "removed from the end" in reasons["truncate"]

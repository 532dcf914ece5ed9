"""The party registry on both store backends: names, roles, hashed tokens."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select

from deconfliction.clock import ManualClock
from deconfliction.errors import AuthenticationError, ConflictError, NotFoundError, ValidationError
from deconfliction.parties import PartyRef, Registry, Role, hash_token
from deconfliction.store.database import Database
from deconfliction.store.schema import JournalEntry, Token


def test_a_party_gets_a_token_that_is_stored_hashed(registry: Registry, database: Database) -> None:
    party, token = registry.add("Northern Air Command", "authority")
    assert (party.name, party.role) == ("Northern Air Command", Role.AUTHORITY)
    assert registry.authenticate(token) == party
    with database.read() as session:
        stored = list(session.scalars(select(Token.token_hash)))
    assert stored == [hash_token(token)]
    assert token not in stored


def test_further_tokens_work_alongside_the_first(registry: Registry) -> None:
    party, first = registry.add("Alpha", "operator")
    _, second = registry.issue_token("Alpha")
    assert second != first
    assert registry.authenticate(first) == registry.authenticate(second) == party


def test_an_unknown_token_is_refused(registry: Registry) -> None:
    _, token = registry.add("Alpha", "operator")
    with pytest.raises(AuthenticationError, match="not valid"):
        registry.authenticate(token + "x")


def test_names_are_unique_and_roles_known(registry: Registry) -> None:
    registry.add("Alpha", "operator")
    with pytest.raises(ConflictError, match="exists already"):
        registry.add("Alpha", "observer")
    with pytest.raises(ValidationError, match="role 'pilot'"):
        registry.add("Bravo", "pilot")
    with pytest.raises(ValidationError, match="party name"):
        registry.add(" leading space", "operator")
    with pytest.raises(NotFoundError, match="no party named 'Charlie'"):
        registry.get("Charlie")
    with pytest.raises(NotFoundError):
        registry.issue_token("Charlie")
    assert [p.name for p in registry.all()] == ["Alpha"]


def test_parties_list_by_name(registry: Registry) -> None:
    for name, role in [("Charlie", "observer"), ("Alpha", "operator"), ("Bravo", "authority")]:
        registry.add(name, role)
    assert [(p.name, p.role.value) for p in registry.all()] == [
        ("Alpha", "operator"),
        ("Bravo", "authority"),
        ("Charlie", "observer"),
    ]
    assert registry.get("Bravo").role == Role.AUTHORITY


def test_concurrent_adds_of_one_name_create_it_once(registry: Registry) -> None:
    """The name check runs under the journal lock, so on PostgreSQL too the loser gets
    ConflictError (not a unique-constraint crash)."""
    threads = 4
    start = threading.Barrier(threads)

    def add(_: int) -> PartyRef | ConflictError:
        start.wait()
        try:
            return registry.add("Alpha", "operator")[0]
        except ConflictError as exc:
            return exc

    with ThreadPoolExecutor(threads) as pool:
        outcomes = list(pool.map(add, range(threads)))
    assert sum(isinstance(o, PartyRef) for o in outcomes) == 1
    assert sum(isinstance(o, ConflictError) for o in outcomes) == threads - 1
    assert [p.name for p in registry.all()] == ["Alpha"]


@pytest.mark.parametrize("cache_s", [0.0, 10.0])
def test_a_revoked_token_is_refused_once_the_cache_lets_go(
    database: Database, clock: ManualClock, cache_s: float
) -> None:
    """Accepted tokens may be remembered for ``cache_s`` (monotonic) seconds, never longer."""
    now = [100.0]
    registry = Registry(database, clock, cache_s=cache_s, monotonic=lambda: now[0])
    party, token = registry.add("Alpha", "operator")
    assert registry.authenticate(token) == party
    with database.transaction() as session:
        row = session.scalars(select(Token).where(Token.token_hash == hash_token(token))).one()
        row.revoked_at = clock.now()
    now[0] += cache_s / 2
    if cache_s:
        assert registry.authenticate(token) == party  # remembered, not asked again
    else:
        with pytest.raises(AuthenticationError):
            registry.authenticate(token)
    now[0] += cache_s
    with pytest.raises(AuthenticationError):
        registry.authenticate(token)


def test_tokens_expire_rotate_and_revoke_each_journaled(
    database: Database, clock: ManualClock
) -> None:
    now = [100.0]
    registry = Registry(database, clock, cache_s=10.0, monotonic=lambda: now[0])
    party, first = registry.add("Alpha", "operator")
    short, brief = registry.issue_token("Alpha", expires_in_s=5.0)
    assert short.expires_at == clock.now() + timedelta(seconds=5)
    assert registry.authenticate(brief) == party
    clock.advance(timedelta(seconds=6))
    now[0] += 6  # remembered no longer than the token lives, though the cache is longer
    with pytest.raises(AuthenticationError, match="expired"):
        registry.authenticate(brief)

    fresh, rotated = registry.rotate("Alpha")
    with pytest.raises(AuthenticationError):  # at once in this process, cache or not
        registry.authenticate(first)
    assert registry.authenticate(rotated) == party
    listed = registry.tokens("Alpha")
    assert [t.id for t in listed if t.is_active(clock.now())] == [fresh.id]
    assert len(listed) == 3

    revoked = registry.revoke(fresh.id)
    assert revoked.revoked_at == clock.now()
    with pytest.raises(AuthenticationError):
        registry.authenticate(rotated)
    assert registry.revoke(fresh.id) == revoked  # again: nothing changes
    with pytest.raises(NotFoundError, match="no token 999"):
        registry.revoke(999)
    with pytest.raises(ValidationError, match="positive number of seconds"):
        registry.issue_token("Alpha", expires_in_s=0)

    with database.read() as session:
        kinds = [e.kind for e in session.scalars(select(JournalEntry).order_by(JournalEntry.seq))]
        payloads = [e.payload for e in session.scalars(select(JournalEntry))]
    assert kinds[-3:] == ["party.token_issued", "party.token_rotated", "party.token_revoked"]
    assert not any(brief in p or rotated in p or hash_token(rotated) in p for p in payloads)

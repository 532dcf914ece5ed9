"""Parties and their bearer tokens (kept hashed; shown once, at creation).

A token's life: issued (with ``party add``, ``party token issue`` or a rotation),
optionally with an expiry; listed by id (never by value); revoked one by one, or all
but a fresh one by a rotation. Every issue, rotation and revocation is journaled. A
revoked or expired token is refused by every process within ``cache_s`` seconds (at
once by the process that revoked it); open streams check their token as often.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from deconfliction.clock import Clock
from deconfliction.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from deconfliction.journal.chain import append, lock_head
from deconfliction.store.database import Database
from deconfliction.store.schema import Party, Token

__all__ = ["NAME_PATTERN", "PartyRef", "Registry", "Role", "hash_token", "signed"]

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 ._()-]{0,99}$"
"""What a party name may be: 1-100 letters, digits, spaces or ._()-, not starting with
a space or punctuation."""
_NAME = re.compile(NAME_PATTERN)
TOKEN_PREFIX = "dcf_"
_MAX_REMEMBERED = 10_000  # accepted tokens remembered at once (then forgotten, all)


class Role(StrEnum):
    OPERATOR = "operator"
    AUTHORITY = "authority"
    OBSERVER = "observer"
    USS = "uss"
    """A UAS service supplier speaking F3548, enrolled by its first valid access token."""


@dataclass(frozen=True)
class PartyRef:
    """An authenticated party, as the services see it; ``signature`` is the verified
    RFC 9421 signature of the request it acts by (``SignedRequest.to_json()``), if signed."""

    id: int
    name: str
    role: Role
    signature: Mapping[str, Any] | None = field(default=None, compare=False, hash=False)


def signed(payload: Mapping[str, Any], party: PartyRef) -> Mapping[str, Any]:
    """A journal payload of ``party``'s statement, with its request signature when signed
    (``"signature"``, see ``deconfliction.signatures``)."""
    return payload if party.signature is None else {**payload, "signature": party.signature}


@dataclass(frozen=True)
class TokenInfo:
    """A token as an administrator sees it: never its value."""

    id: int
    party: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    def is_active(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


def hash_token(token: str) -> str:
    """SHA-256 hex of a bearer token; only this is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def _ref(party: Party) -> PartyRef:
    return PartyRef(party.id, party.name, Role(party.role))


class Registry:
    """Creates parties, issues tokens and tells who holds a token."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        cache_s: float = 0.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """``cache_s``: how long :meth:`authenticate` may remember a token it accepted,
        instead of asking the store again (0: never); a token revoked in the store is
        refused at most that much later."""
        self._db = db
        self._clock = clock
        self._cache_s = cache_s
        self._monotonic = monotonic
        self._accepted: dict[str, tuple[PartyRef, float]] = {}

    def add(self, name: str, role: str) -> tuple[PartyRef, str]:
        """Create a party; returns it and its first token (shown once, stored hashed)."""
        if not _NAME.match(name):
            raise ValidationError(
                f"party name {name!r} must be 1-100 letters, digits, spaces or ._()- "
                "and start with a letter or digit"
            )
        try:
            role = Role(role)
        except ValueError:
            roles = ", ".join(r.value for r in Role)
            raise ValidationError(f"role {role!r} is not one of: {roles}") from None
        now = self._clock.now()
        with self._db.transaction() as session:
            lock_head(session)  # the name check below sees every party added before us
            if session.execute(select(Party.id).where(Party.name == name)).first():
                raise ConflictError(f"a party named {name!r} exists already; choose another name")
            party = Party(name=name, role=role.value, created_at=now)
            session.add(party)
            session.flush()
            token = self._issue(session, party)
            append(
                session,
                at=now,
                kind="party.created",
                party=name,
                subject=name,
                payload={"name": name, "role": role.value},
            )
            return _ref(party), token

    def enrol_uss(self, sub: str) -> PartyRef:
        """The party of role ``uss`` named ``sub``, made (and journaled) on first sight:
        an F3548 access token that verifies is the USS's proof of who it is."""
        if not _NAME.match(sub):
            raise AuthenticationError(
                f"the token's sub {sub!r} cannot name a party (1-100 letters, digits, "
                "spaces or ._()-); ask your auth server for a plain USS identifier"
            )
        with self._db.read() as session:
            found = session.execute(select(Party).where(Party.name == sub)).scalar_one_or_none()
            if found is not None:
                return self._as_uss(found)
        now = self._clock.now()
        with self._db.transaction() as session:
            lock_head(session)  # two first requests of one USS make one party
            found = session.execute(select(Party).where(Party.name == sub)).scalar_one_or_none()
            if found is not None:
                return self._as_uss(found)
            party = Party(name=sub, role=Role.USS.value, created_at=now)
            session.add(party)
            session.flush()
            append(
                session,
                at=now,
                kind="party.created",
                party=sub,
                subject=sub,
                payload={"name": sub, "role": Role.USS.value, "enrolled_by": "f3548-token"},
            )
            return _ref(party)

    @staticmethod
    def _as_uss(party: Party) -> PartyRef:
        if party.role != Role.USS.value:
            raise PermissionDeniedError(
                f"the token's sub {party.name!r} names a {party.role} party of this service, "
                "not a USS; a USS needs a sub of its own"
            )
        return _ref(party)

    def issue_token(self, name: str, expires_in_s: float | None = None) -> tuple[TokenInfo, str]:
        """A further token for an existing party, valid for ``expires_in_s`` seconds
        (``None``: until revoked); returns it as listed, and its value (shown once)."""
        now = self._clock.now()
        with self._db.transaction() as session:
            lock_head(session)
            party = self._by_name(session, name)
            row, token = self._new_token(session, party, expires_in_s)
            append(
                session,
                at=now,
                kind="party.token_issued",
                party=name,
                subject=name,
                payload=_token_payload(name, row),
            )
            return _info(row, name), token

    def tokens(self, name: str) -> list[TokenInfo]:
        """The party's tokens, oldest first (revoked and expired ones too)."""
        with self._db.read() as session:
            party = self._by_name(session, name)
            rows = session.scalars(
                select(Token).where(Token.party_id == party.id).order_by(Token.id)
            )
            return [_info(r, name) for r in rows]

    def rotate(self, name: str, expires_in_s: float | None = None) -> tuple[TokenInfo, str]:
        """Issue the party a fresh token and revoke every other it holds, at once."""
        now = self._clock.now()
        with self._db.transaction() as session:
            lock_head(session)
            party = self._by_name(session, name)
            old = list(
                session.scalars(
                    select(Token).where(Token.party_id == party.id, Token.revoked_at.is_(None))
                )
            )
            for row in old:
                row.revoked_at = now
            row, token = self._new_token(session, party, expires_in_s)
            append(
                session,
                at=now,
                kind="party.token_rotated",
                party=name,
                subject=name,
                payload={**_token_payload(name, row), "revoked": [r.id for r in old]},
            )
            self._forget(r.token_hash for r in old)
            return _info(row, name), token

    def revoke(self, token_id: int) -> TokenInfo:
        """Revoke one token (revoking it again changes nothing)."""
        now = self._clock.now()
        with self._db.transaction() as session:
            lock_head(session)
            found = session.execute(
                select(Token, Party.name)
                .join(Party, Party.id == Token.party_id)
                .where(Token.id == token_id)
            ).one_or_none()
            if found is None:
                raise NotFoundError(
                    f"no token {token_id}; list a party's tokens with "
                    "'deconfliction party token list NAME'"
                )
            row, name = found
            if row.revoked_at is None:
                row.revoked_at = now
                append(
                    session,
                    at=now,
                    kind="party.token_revoked",
                    party=name,
                    subject=name,
                    payload=_token_payload(name, row),
                )
            self._forget([row.token_hash])
            return _info(row, name)

    def all(self) -> list[PartyRef]:
        with self._db.read() as session:
            return [_ref(p) for p in session.scalars(select(Party).order_by(Party.name))]

    def get(self, name: str) -> PartyRef:
        with self._db.read() as session:
            return _ref(self._by_name(session, name))

    def remembered(self, token: str) -> PartyRef | None:
        """The party holding this token if it was accepted within ``cache_s``, without
        asking the store (``None``: ask :meth:`authenticate`)."""
        return self._remembered(hash_token(token))

    def _remembered(self, digest: str) -> PartyRef | None:
        remembered = self._accepted.get(digest)
        if remembered is not None and self._monotonic() < remembered[1]:
            return remembered[0]
        return None

    def authenticate(self, token: str, *, fresh: bool = False) -> PartyRef:
        """The party holding this token, or AuthenticationError (revoked, expired or
        unknown). ``fresh``: ask the store even if the token was accepted lately."""
        digest = hash_token(token)
        party = None if fresh else self._remembered(digest)
        if party is not None:
            return party
        monotonic, now = self._monotonic(), self._clock.now()
        with self._db.read() as session:
            found = session.execute(
                select(Party, Token.expires_at)
                .join(Token, Token.party_id == Party.id)
                .where(
                    Token.token_hash == digest,
                    Token.revoked_at.is_(None),
                    or_(Token.expires_at.is_(None), Token.expires_at > now),
                )
            ).one_or_none()
        if found is None:
            self._accepted.pop(digest, None)
            raise AuthenticationError(
                "the bearer token is not valid (unknown, revoked or expired); ask your "
                "administrator for a token (deconfliction party token issue)"
            )
        row, expires_at = found
        party = _ref(row)
        keep_s = self._cache_s
        if expires_at is not None:
            keep_s = min(keep_s, (expires_at - now).total_seconds())
        if keep_s > 0:
            if len(self._accepted) >= _MAX_REMEMBERED:
                self._accepted.clear()
            self._accepted[digest] = (party, monotonic + keep_s)
        return party

    def _forget(self, digests: Iterable[str]) -> None:
        for digest in digests:
            self._accepted.pop(digest, None)

    def _issue(self, session: Session, party: Party) -> str:
        return self._new_token(session, party, None)[1]

    def _new_token(
        self, session: Session, party: Party, expires_in_s: float | None
    ) -> tuple[Token, str]:
        if expires_in_s is not None and not expires_in_s > 0:
            raise ValidationError(
                f"a token's expiry must be a positive number of seconds, not {expires_in_s}"
            )
        now = self._clock.now()
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = Token(
            party_id=party.id,
            token_hash=hash_token(token),
            created_at=now,
            expires_at=None if expires_in_s is None else now + timedelta(seconds=expires_in_s),
        )
        session.add(row)
        session.flush()
        return row, token

    @staticmethod
    def _by_name(session: Session, name: str) -> Party:
        party = session.execute(select(Party).where(Party.name == name)).scalar_one_or_none()
        if party is None:
            raise NotFoundError(
                f"no party named {name!r}; list them with 'deconfliction party list'"
            )
        return party


def _info(row: Token, name: str) -> TokenInfo:
    return TokenInfo(row.id, name, row.created_at, row.expires_at, row.revoked_at)


def _token_payload(name: str, row: Token) -> dict[str, object]:
    """What the journal keeps of a token: its id and times, never its value or hash."""
    return {
        "name": name,
        "token": row.id,
        "expires_at": None if row.expires_at is None else row.expires_at.isoformat(),
    }

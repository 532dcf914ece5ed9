"""Parties' own Ed25519 public keys, with which they sign their requests (RFC 9421).

A party registers a key (``POST /v1/parties/me/keys``, ``deconfliction party key add``)
under a ``keyid`` (given, or made from the key); several may be live at once, so a party
rotates by adding the new key, then revoking the old one. Registering and revoking are
journal entries (``party.key_added``, ``party.key_revoked``, with the public key), so an
offline verifier learns from the journal itself which key was a party's when.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from deconfliction.clock import Clock
from deconfliction.errors import ConflictError, NotFoundError, ValidationError
from deconfliction.journal.chain import append
from deconfliction.parties import PartyRef
from deconfliction.signatures import ALGORITHM
from deconfliction.store.database import Database
from deconfliction.store.schema import PartyKey

__all__ = ["KeyView", "PartyKeys"]

_KEY_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")


@dataclass(frozen=True)
class KeyView:
    key_id: str
    algorithm: str
    public_key: str
    created_at: datetime
    revoked_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            "keyid": self.key_id,
            "alg": self.algorithm,
            "public_key": self.public_key,
            "created_at": self.created_at.isoformat(),
            "revoked_at": None if self.revoked_at is None else self.revoked_at.isoformat(),
        }


def _view(row: PartyKey) -> KeyView:
    return KeyView(row.id, row.algorithm, row.public_key, row.created_at, row.revoked_at)


def _checked_public_key(public_key: str) -> str:
    text = public_key.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{64}", text):
        raise ValidationError(
            "public_key must be an Ed25519 public key: its 32 bytes as 64 hex digits"
        )
    return text


class PartyKeys:
    """Register, list and revoke parties' keys; the live keys a request may be signed with."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def add(self, party: PartyRef, public_key: str, key_id: str | None = None) -> KeyView:
        """Register a public key (hex) under ``key_id`` (default: made from the key)."""
        public = _checked_public_key(public_key)
        key_id = key_id or f"{party.name}-{hashlib.sha256(bytes.fromhex(public)).hexdigest()[:16]}"
        if not _KEY_ID.match(key_id):
            raise ValidationError(
                "keyid must be 1 to 100 letters, digits or . _ : -; or leave it out"
            )
        now = self._clock.now()
        with self._db.transaction() as session:
            if session.get(PartyKey, key_id) is not None:
                raise ConflictError(f"keyid {key_id!r} is taken; choose another")
            row = PartyKey(
                id=key_id, party_id=party.id, algorithm=ALGORITHM, public_key=public, created_at=now
            )
            session.add(row)
            append(
                session,
                at=now,
                kind="party.key_added",
                party=party.name,
                subject=key_id,
                payload={"keyid": key_id, "alg": ALGORITHM, "public_key": public},
            )
            return _view(row)

    def revoke(self, party: PartyRef, key_id: str) -> KeyView:
        """Revoke one of the party's keys: requests signed with it are refused from now."""
        now = self._clock.now()
        with self._db.transaction() as session:
            row = session.get(PartyKey, key_id)
            if row is None or row.party_id != party.id:
                raise NotFoundError(
                    f"you have no key {key_id!r}; list yours at GET /v1/parties/me/keys"
                )
            if row.revoked_at is None:
                row.revoked_at = now
                append(
                    session,
                    at=now,
                    kind="party.key_revoked",
                    party=party.name,
                    subject=key_id,
                    payload={"keyid": key_id},
                )
            return _view(row)

    def of(self, party: PartyRef) -> list[KeyView]:
        """The party's keys, oldest first, revoked ones included."""
        with self._db.read() as session:
            rows = session.scalars(
                select(PartyKey).where(PartyKey.party_id == party.id).order_by(PartyKey.created_at)
            )
            return [_view(r) for r in rows]

    def live(self, party_id: int) -> dict[str, str]:
        """The party's keys not revoked: ``keyid`` -> public key (hex)."""
        with self._db.read() as session:
            rows = session.execute(
                select(PartyKey.id, PartyKey.public_key).where(
                    PartyKey.party_id == party_id, PartyKey.revoked_at.is_(None)
                )
            )
            return {str(key_id): str(public) for key_id, public in rows}

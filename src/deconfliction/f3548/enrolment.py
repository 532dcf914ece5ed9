"""From an F3548 access token to the USS's party (enrolled on its first valid token)."""

from __future__ import annotations

from anyio import to_thread

from deconfliction.f3548.tokens import Claims, TokenVerifier
from deconfliction.parties import PartyRef, Registry

__all__ = ["UssAuth"]

_MAX_REMEMBERED = 10_000


class UssAuth:
    """Verifies F3548 tokens and tells the party of their ``sub`` (remembered once
    known: a party's name and role do not change)."""

    def __init__(self, verifier: TokenVerifier, registry: Registry) -> None:
        self.verifier = verifier
        self._registry = registry
        self._parties: dict[str, PartyRef] = {}

    def party_of(self, claims: Claims) -> PartyRef:
        """The USS's party, enrolled (and journaled) on first sight; blocking."""
        party = self._parties.get(claims.sub)
        if party is None:
            party = self._registry.enrol_uss(claims.sub)
            if len(self._parties) >= _MAX_REMEMBERED:
                self._parties.clear()
            self._parties[claims.sub] = party
        return party

    async def authenticate(self, token: str) -> tuple[Claims, PartyRef]:
        """The token's claims and its USS's party (401 for a bad token)."""
        claims = self.verifier.verify(token)
        party = self._parties.get(claims.sub)
        if party is None:
            party = await to_thread.run_sync(self.party_of, claims)
        return claims, party

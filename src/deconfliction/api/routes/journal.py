"""``/v1/receipts`` and ``/v1/journal``: signed receipts, your journal slice, the public key.

Everything here can be checked offline with the service's public key
(``deconfliction journal receipt verify``, ``deconfliction journal export verify``);
:mod:`deconfliction.journal.receipts` says what a receipt and an export prove.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from deconfliction.api.auth import CurrentParty, services
from deconfliction.journal.receipts import ALGORITHM

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["proof"])


class SignedOut(BaseModel):
    """A signed statement: ``signature`` is Ed25519 (hex) over ``body``'s canonical JSON."""

    body: dict[str, Any]
    signature: str


class PublicKeyOut(BaseModel):
    algorithm: str
    public_key: str


@router.get("/receipts")
def list_receipts(
    party: CurrentParty,
    request: Request,
    item: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[SignedOut]:
    """Receipts you may see (yours, and those on messages you sent), oldest first;
    ``item`` keeps those of one message or alert."""
    found = services(request).proofs.receipts(party, item, limit, offset)
    return [SignedOut.model_validate(r) for r in found]


@router.get("/journal/export")
def export_journal(party: CurrentParty, request: Request) -> dict[str, Any]:
    """Your slice of the journal with your receipts and a signed statement of the chain's
    head, to keep and verify offline (``deconfliction journal export verify FILE``)."""
    return services(request).proofs.export(party)


@router.get("/journal/key")
def public_key(request: Request) -> PublicKeyOut:
    """The service's public key (Ed25519, hex): take it once, and check receipts with it."""
    return PublicKeyOut(algorithm=ALGORITHM, public_key=services(request).proofs.public_key())

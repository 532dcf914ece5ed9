"""``/v1/receipts`` and ``/v1/journal``: signed receipts, your journal slice, the public key.

Everything here can be checked offline with the service's public key
(``deconfliction journal receipt verify``, ``deconfliction journal export verify``);
:mod:`deconfliction.journal.receipts` says what a receipt and an export prove.
"""

from __future__ import annotations

from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from deconfliction.api.auth import CurrentParty, services
from deconfliction.api.body import ContractRoute
from deconfliction.api.problems import responses
from deconfliction.api.schemas import MAX_OFFSET, MAX_SEQ
from deconfliction.journal.receipts import ALGORITHM

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["proof"], route_class=ContractRoute)


class SignedOut(BaseModel):
    """A signed statement: ``signature`` is Ed25519 (hex) over ``body``'s canonical JSON."""

    body: dict[str, Any]
    signature: str


class ReceiptOut(SignedOut):
    """A receipt, with ``log``: ``{"checkpoint", "proof"}`` putting its journal entry in a
    signed checkpoint, or ``null``."""

    log: dict[str, Any] | None = None


class PublicKeyOut(BaseModel):
    algorithm: str
    public_key: str


@router.get("/receipts")
def list_receipts(
    party: CurrentParty,
    request: Request,
    item: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[ReceiptOut]:
    """Receipts you may see (yours, and those on messages you sent), oldest first;
    ``item`` keeps those of one message or alert. Each carries ``log``: the latest
    checkpoint and the proof that its journal entry is in it (``null`` until a checkpoint
    covers it)."""
    svc = services(request)
    found = svc.log.prove_receipts(svc.proofs.receipts(party, item, limit, offset))
    return [ReceiptOut.model_validate(r) for r in found]


@router.get("/journal/export")
async def export_journal(party: CurrentParty, request: Request) -> dict[str, Any]:
    """Your slice of the journal with your receipts and a signed statement of the chain's
    head, to keep and verify offline (``deconfliction journal export verify FILE``); its
    ``log`` holds a checkpoint covering it and each entry's inclusion proof."""
    svc = services(request)

    def made() -> dict[str, Any]:
        return svc.log.prove_export(svc.proofs.export(party))

    return await to_thread.run_sync(made)


@router.get("/journal/key")
def public_key(request: Request) -> PublicKeyOut:
    """The service's public key (Ed25519, hex): take it once, and check receipts with it."""
    return PublicKeyOut(algorithm=ALGORITHM, public_key=services(request).proofs.public_key())


# -- the transparency log (issue 12) -------------------------------------------------------


@router.post(
    "/journal/checkpoints",
    status_code=201,
    responses=responses(404, s404="The journal is empty: nothing to checkpoint"),
)
async def make_checkpoint(party: CurrentParty, request: Request) -> SignedOut:
    """A signed checkpoint of the whole journal now (the last one when nothing was added
    since): keep it, and hold later checkpoints to it (``journal consistency``)."""
    made = await to_thread.run_sync(services(request).log.checkpoint)
    return SignedOut.model_validate(made)


@router.get("/journal/checkpoints")
def list_checkpoints(
    party: CurrentParty,
    request: Request,
    after: Annotated[int, Query(ge=0, le=MAX_SEQ)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[SignedOut]:
    """Checkpoints of trees larger than ``after`` entries, smallest first."""
    return [SignedOut.model_validate(c) for c in services(request).log.checkpoints(after, limit)]


@router.get("/journal/checkpoints/latest", responses=responses(404, s404="No checkpoint yet"))
def latest_checkpoint(party: CurrentParty, request: Request) -> SignedOut:
    """The last checkpoint."""
    return SignedOut.model_validate(services(request).log.latest())


@router.get(
    "/journal/proofs/inclusion",
    responses=responses(404, s404="No such entry or checkpoint (make a checkpoint first)"),
)
def inclusion_proof(
    party: CurrentParty,
    request: Request,
    seq: Annotated[int, Query(ge=1, le=MAX_SEQ)],
    tree_size: Annotated[int | None, Query(ge=1, le=MAX_SEQ)] = None,
) -> dict[str, Any]:
    """The proof (RFC 9162) that entry ``seq`` is in the checkpoint of ``tree_size``
    entries (default: the latest), with that checkpoint."""
    return services(request).log.inclusion(seq, tree_size)


@router.get(
    "/journal/proofs/consistency",
    responses=responses(404, s404="No checkpoint of that size (make a checkpoint first)"),
)
def consistency_proof(
    party: CurrentParty,
    request: Request,
    first: Annotated[int, Query(ge=1, le=MAX_SEQ)],
    second: Annotated[int | None, Query(ge=1, le=MAX_SEQ)] = None,
) -> dict[str, Any]:
    """The proof (RFC 9162) that the checkpoint of ``first`` entries is the start of that
    of ``second`` (default: the latest), with both checkpoints; check it offline with
    ``deconfliction journal consistency OLD NEW --proof FILE``."""
    return services(request).log.consistency(first, second)

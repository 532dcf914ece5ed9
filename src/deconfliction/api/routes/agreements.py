"""``/v1/agreements``: the agreements you are a party to (set by an administrator)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from deconfliction.agreements.service import AgreementView
from deconfliction.api.auth import CurrentParty, services
from deconfliction.api.body import ContractRoute
from deconfliction.api.problems import responses

__all__ = ["AgreementOut", "router"]

router = APIRouter(prefix="/v1/agreements", tags=["agreements"], route_class=ContractRoute)


class AgreementOut(BaseModel):
    """An agreement as one of its parties sees it (times UTC; terms in SI units)."""

    counterpart: str
    version: int = Field(description="Counts changes; 1 when created.")
    terms: dict[str, Any] = Field(
        description="Lead time, acknowledgment and approval rules, buffers (m), separation "
        "minima (m) and look-ahead (s), acknowledgment deadlines per priority (s), escalation "
        "ladder, largest footprint (m²), visibility."
    )
    created_at: datetime
    updated_at: datetime


def _out(view: AgreementView, party: str) -> AgreementOut:
    return AgreementOut(
        counterpart=view.counterpart_of(party),
        version=view.version,
        terms=view.terms.to_json(),
        created_at=view.created_at,
        updated_at=view.updated_at,
    )


@router.get("")
def list_agreements(party: CurrentParty, request: Request) -> list[AgreementOut]:
    """Your agreements, by counterpart name."""
    return [_out(v, party.name) for v in services(request).agreements.of(party)]


@router.get(
    "/{counterpart}",
    responses=responses(404, s404="No agreement of yours with that party"),
)
def get_agreement(counterpart: str, party: CurrentParty, request: Request) -> AgreementOut:
    """Your agreement with one counterpart (none, or another pair's, reads as 404)."""
    return _out(services(request).agreements.between(party, counterpart), party.name)

"""``/v1/me``: who the token belongs to."""

from __future__ import annotations

from fastapi import APIRouter

from deconfliction.api.auth import CurrentParty
from deconfliction.api.body import ContractRoute
from deconfliction.api.schemas import PartyOut

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["parties"], route_class=ContractRoute)


@router.get("/me")
def me(party: CurrentParty) -> PartyOut:
    """The party this token authenticates."""
    return PartyOut(name=party.name, role=party.role.value)

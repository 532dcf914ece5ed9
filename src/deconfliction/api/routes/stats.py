"""``/v1/stats``: lead-time and response statistics of your party pairs."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from deconfliction.api.auth import CurrentParty, services
from deconfliction.api.body import ContractRoute

__all__ = ["PairStatsOut", "router"]

router = APIRouter(prefix="/v1/stats", tags=["stats"], route_class=ContractRoute)


class PairStatsOut(BaseModel):
    """One direction of a pair: ``sender``'s notices, conflicts and messages as
    ``recipient`` was told of and acknowledged them. Seconds; null where none counted."""

    sender: str
    recipient: str
    notices: int = Field(description="Notices of the sender the recipient was told of.")
    short_notices: int = Field(description="Of those, below the agreed minimum lead time.")
    lead_time_min_s: float | None
    lead_time_median_s: float | None
    alerts_acknowledged: int
    alert_ack_p50_s: float | None
    alert_ack_p95_s: float | None
    messages_acknowledged: int
    message_ack_p50_s: float | None
    message_ack_p95_s: float | None
    escalations: int = Field(description="Ladder tiers climbed by the recipient's items.")
    unacknowledged: int = Field(description="Items whose last tier expired unacknowledged.")


@router.get("")
def pair_stats(party: CurrentParty, request: Request) -> list[PairStatsOut]:
    """Statistics of every pair you are in, both directions (only yours)."""
    return [PairStatsOut(**asdict(row)) for row in services(request).stats.pairs(party)]

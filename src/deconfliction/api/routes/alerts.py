"""``/v1/alerts``: your alerts (need-to-know views of conflicts) and their acknowledgment."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from deconfliction.api.auth import CurrentParty, services
from deconfliction.api.body import ContractRoute
from deconfliction.api.problems import responses
from deconfliction.api.schemas import MAX_OFFSET, AlertOut, alert_out

__all__ = ["router"]


router = APIRouter(prefix="/v1/alerts", tags=["alerts"], route_class=ContractRoute)
_NOT_YOURS = "No such alert of yours"


@router.get("")
def list_alerts(
    party: CurrentParty,
    request: Request,
    state: Literal["open", "acknowledged", "resolved"] | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[AlertOut]:
    """Your alerts, newest first; ``state`` is open, acknowledged or resolved."""
    return [alert_out(a) for a in services(request).alerts.list_alerts(party, state, limit, offset)]


@router.get("/{alert_id}", responses=responses(404, s404=_NOT_YOURS))
def get_alert(alert_id: str, party: CurrentParty, request: Request) -> AlertOut:
    return alert_out(services(request).alerts.get(party, alert_id))


@router.post("/{alert_id}/acknowledge", responses=responses(404, s404=_NOT_YOURS))
def acknowledge_alert(alert_id: str, party: CurrentParty, request: Request) -> AlertOut:
    """Acknowledge one of your alerts (it stops its escalation); again is a no-op."""
    return alert_out(services(request).alerts.acknowledge(party, alert_id))

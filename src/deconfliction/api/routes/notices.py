"""``/v1/notices``: file, read, list, modify (optimistic concurrency), cancel; and the
decisions other parties make on a notice: acknowledge, approve, reject."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from deconfliction.api.auth import CurrentParty, services
from deconfliction.api.schemas import (
    CancelIn,
    ConflictFeature,
    NoticeIn,
    NoticeModifyIn,
    NoticeOut,
    conflict_feature,
    draft_from,
    notice_out,
)
from deconfliction.errors import ValidationError
from deconfliction.notices.lifecycle import MAX_REASON
from deconfliction.notices.model import (
    ApprovalView,
    Decision,
    FilingResult,
    NoticeState,
    NoticeView,
)

__all__ = [
    "ApprovalOut",
    "DecisionOut",
    "FilingOut",
    "NoticeStatusOut",
    "RejectIn",
    "router",
]

router = APIRouter(prefix="/v1/notices", tags=["notices"])

_PROBLEMS: dict[int | str, dict[str, object]] = {
    401: {"description": "No or wrong bearer token"},
    404: {"description": "No such notice of yours"},
    409: {"description": "Stale version, reused idempotency key, or not allowed in this state"},
    422: {"description": "Invalid input (problem+json says what and where)"},
}


_DECISION_PROBLEMS: dict[int | str, dict[str, object]] = {
    401: {"description": "No or wrong bearer token"},
    403: {"description": "Approving or rejecting needs an authority"},
    404: {"description": "No such notice awaiting your decision"},
    409: {"description": "You decided otherwise already, or the notice is over"},
    422: {"description": "Invalid input (a rejection needs a reason)"},
}


class ApprovalOut(BaseModel):
    """What a notice needs (or got) from one party before it may activate."""

    party: str
    kind: str = Field(description="acknowledgment (a counterpart) or approval (an authority)")
    state: str = Field(description="pending, acknowledged, approved or rejected")
    reason: str | None
    requested_at: datetime
    decided_at: datetime | None


class NoticeStatusOut(NoticeOut):
    """A notice with its lead-time flag and what it awaits from other parties."""

    short_notice: bool = Field(
        description="Filed (or modified) later than one of your agreements' minimum lead time."
    )
    approvals: list[ApprovalOut]


class FilingOut(BaseModel):
    notice: NoticeStatusOut
    conflicts: list[ConflictFeature]


class DecisionOut(ApprovalOut):
    """Your decision on a notice, and the notice's state after it."""

    notice: str
    notice_state: str


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=MAX_REASON, description="Why, for the filer.")


def _approval(view: ApprovalView) -> ApprovalOut:
    return ApprovalOut(
        party=view.party,
        kind=view.kind.value,
        state=view.state.value,
        reason=view.reason,
        requested_at=view.requested_at,
        decided_at=view.decided_at,
    )


def _notice(view: NoticeView) -> NoticeStatusOut:
    return NoticeStatusOut(
        **notice_out(view).model_dump(),
        short_notice=view.short_notice,
        approvals=[_approval(a) for a in view.approvals],
    )


def _decision(decision: Decision) -> DecisionOut:
    return DecisionOut(
        **_approval(decision.approval).model_dump(),
        notice=decision.approval.notice_id,
        notice_state=decision.notice_state.value,
    )


def _filing(result: FilingResult) -> FilingOut:
    return FilingOut(
        notice=_notice(result.notice), conflicts=[conflict_feature(c) for c in result.conflicts]
    )


@router.post("", status_code=201, responses=_PROBLEMS)
def file_notice(
    body: NoticeIn,
    party: CurrentParty,
    request: Request,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> FilingOut:
    """File a notice; the response lists every conflict found (both sides are alerted).

    Your agreements apply: a footprint larger than one allows is refused (422); a start
    sooner than its minimum lead time is filed anyway, flagged ``short_notice``, and the
    counterpart is told at ``flash``. Send an ``Idempotency-Key`` header to retry
    safely: the same key with the same body returns the first result (header
    ``Idempotent-Replayed: true``) and files nothing.
    """
    svc = services(request)
    if idempotency_key is not None and not idempotency_key.strip():
        raise ValidationError("the Idempotency-Key header is empty; send a unique string")
    result = svc.notices.file(
        party, draft_from(body, svc.settings.footprint_limits), idempotency_key
    )
    response.headers["Location"] = f"/v1/notices/{result.notice.id}"
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return _filing(result)


@router.get("", responses=_PROBLEMS)
def list_notices(
    party: CurrentParty,
    request: Request,
    state: NoticeState | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[NoticeStatusOut]:
    """Your own notices, newest first."""
    views = services(request).notices.list_notices(party, state, limit, offset)
    return [_notice(v) for v in views]


@router.get("/{notice_id}", responses=_PROBLEMS)
def get_notice(notice_id: str, party: CurrentParty, request: Request) -> NoticeStatusOut:
    """One of your notices (another party's reads as 404)."""
    return _notice(services(request).notices.get(party, notice_id))


@router.get("/{notice_id}/conflicts", responses=_PROBLEMS)
def notice_conflicts(
    notice_id: str, party: CurrentParty, request: Request
) -> list[ConflictFeature]:
    """The open conflicts of one of your notices."""
    return [conflict_feature(c) for c in services(request).notices.conflicts_of(party, notice_id)]


@router.put("/{notice_id}", responses=_PROBLEMS)
def modify_notice(
    notice_id: str, body: NoticeModifyIn, party: CurrentParty, request: Request
) -> FilingOut:
    """Replace a notice's volumes; ``version`` must be the one you read (else 409)."""
    svc = services(request)
    draft = draft_from(body, svc.settings.footprint_limits)
    return _filing(svc.notices.modify(party, notice_id, body.version, draft))


@router.post("/{notice_id}/cancel", responses=_PROBLEMS)
def cancel_notice(
    notice_id: str, party: CurrentParty, request: Request, body: CancelIn | None = None
) -> NoticeStatusOut:
    """Cancel a notice: it stops claiming airspace and its conflicts resolve."""
    version = body.version if body is not None else None
    return _notice(services(request).notices.cancel(party, notice_id, version))


@router.post("/{notice_id}/acknowledge", responses=_DECISION_PROBLEMS)
def acknowledge_notice(notice_id: str, party: CurrentParty, request: Request) -> DecisionOut:
    """Acknowledge another party's notice delivered to you under an agreement that
    requires it before activation; acknowledging again is a no-op."""
    return _decision(services(request).lifecycle.acknowledge(party, notice_id))


@router.post("/{notice_id}/approve", responses=_DECISION_PROBLEMS)
def approve_notice(notice_id: str, party: CurrentParty, request: Request) -> DecisionOut:
    """Approve, as an authority, a notice inside your areas; approving again is a no-op."""
    return _decision(services(request).lifecycle.approve(party, notice_id))


@router.post("/{notice_id}/reject", responses=_DECISION_PROBLEMS)
def reject_notice(
    notice_id: str, body: RejectIn, party: CurrentParty, request: Request
) -> DecisionOut:
    """Reject, as an authority, a notice inside your areas, with a reason; it cannot
    activate until its filer modifies it."""
    return _decision(services(request).lifecycle.reject(party, notice_id, body.reason))

"""``/v1/notices``: file, read, list, modify (optimistic concurrency), cancel; and the
decisions other parties make on a notice: acknowledge, approve, reject."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response

from deconfliction.api.auth import CurrentParty, services
from deconfliction.api.body import ContractRoute
from deconfliction.api.problems import responses
from deconfliction.api.schemas import (
    IDEMPOTENCY_KEY_PATTERN,
    MAX_OFFSET,
    CancelIn,
    ConflictFeature,
    DecisionOut,
    FilingOut,
    NoticeIn,
    NoticeModifyIn,
    NoticeOut,
    RejectIn,
    conflict_feature,
    created,
    decision_out,
    draft_from,
    notice_out,
)
from deconfliction.notices.model import (
    FilingResult,
    NoticeState,
)

__all__ = ["router"]

router = APIRouter(prefix="/v1/notices", tags=["notices"], route_class=ContractRoute)

_NOT_YOURS = "No such notice of yours"
_FILER = "Observers do not file notices"
_DECISIONS = responses(
    403,
    404,
    409,
    s403="Approving or rejecting needs an authority",
    s404="No such notice awaiting your decision",
    s409="You decided otherwise already, or the notice is over",
)
_FILED_LINKS = {
    "GetNotice": {
        "operationRef": "#/paths/~1v1~1notices~1{notice_id}/get",
        "parameters": {"notice_id": "$response.body#/notice/id"},
    },
    "GetNoticeConflicts": {
        "operationRef": "#/paths/~1v1~1notices~1{notice_id}~1conflicts/get",
        "parameters": {"notice_id": "$response.body#/notice/id"},
    },
    "CancelNotice": {
        "operationRef": "#/paths/~1v1~1notices~1{notice_id}~1cancel/post",
        "parameters": {"notice_id": "$response.body#/notice/id"},
    },
}


def _filing(result: FilingResult) -> FilingOut:
    return FilingOut(
        notice=notice_out(result.notice),
        conflicts=[conflict_feature(c) for c in result.conflicts],
    )


@router.post(
    "",
    status_code=201,
    response_model=FilingOut,
    responses={
        201: {"description": "Filed (Location: the notice)", "links": _FILED_LINKS},
        **responses(403, 409, s403=_FILER, s409="Idempotency-Key reused for another notice"),
    },
)
def file_notice(
    body: NoticeIn,
    party: CurrentParty,
    request: Request,
    idempotency_key: Annotated[
        str | None, Header(pattern=IDEMPOTENCY_KEY_PATTERN, max_length=200)
    ] = None,
) -> Response:
    """File a notice; the response lists every conflict found (both sides are alerted).

    Your agreements apply: a footprint larger than one allows is refused (422); a start
    sooner than its minimum lead time is filed anyway, flagged ``short_notice``, and the
    counterpart is told at ``flash``. Send an ``Idempotency-Key`` header to retry
    safely: the same key with the same body returns the first result (header
    ``Idempotent-Replayed: true``) and files nothing.
    """
    svc = services(request)
    result = svc.notices.file(
        party, draft_from(body, svc.settings.footprint_limits), idempotency_key
    )
    return created(_filing(result), f"/v1/notices/{result.notice.id}", result.replayed)


@router.get("")
def list_notices(
    party: CurrentParty,
    request: Request,
    state: NoticeState | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[NoticeOut]:
    """Your own notices, newest first."""
    views = services(request).notices.list_notices(party, state, limit, offset)
    return [notice_out(v) for v in views]


@router.get("/{notice_id}", responses=responses(404, s404=_NOT_YOURS))
def get_notice(notice_id: str, party: CurrentParty, request: Request) -> NoticeOut:
    """One of your notices (another party's reads as 404)."""
    return notice_out(services(request).notices.get(party, notice_id))


@router.get("/{notice_id}/conflicts", responses=responses(404, s404=_NOT_YOURS))
def notice_conflicts(
    notice_id: str, party: CurrentParty, request: Request
) -> list[ConflictFeature]:
    """The open conflicts of one of your notices."""
    return [conflict_feature(c) for c in services(request).notices.conflicts_of(party, notice_id)]


@router.put(
    "/{notice_id}",
    responses=responses(
        403, 404, 409, s403=_FILER, s404=_NOT_YOURS, s409="Stale version, or the notice is over"
    ),
)
def modify_notice(
    notice_id: str, body: NoticeModifyIn, party: CurrentParty, request: Request
) -> FilingOut:
    """Replace a notice's volumes; ``version`` must be the one you read (else 409)."""
    svc = services(request)
    draft = draft_from(body, svc.settings.footprint_limits)
    return _filing(svc.notices.modify(party, notice_id, body.version, draft))


@router.post(
    "/{notice_id}/cancel",
    responses=responses(404, 409, s404=_NOT_YOURS, s409="Stale version, or over already"),
)
def cancel_notice(
    notice_id: str, party: CurrentParty, request: Request, body: CancelIn | None = None
) -> NoticeOut:
    """Cancel a notice: it stops claiming airspace and its conflicts resolve."""
    version = body.version if body is not None else None
    return notice_out(services(request).notices.cancel(party, notice_id, version))


@router.post("/{notice_id}/acknowledge", responses=_DECISIONS)
def acknowledge_notice(notice_id: str, party: CurrentParty, request: Request) -> DecisionOut:
    """Acknowledge another party's notice delivered to you under an agreement that
    requires it before activation; acknowledging again is a no-op."""
    return decision_out(services(request).lifecycle.acknowledge(party, notice_id))


@router.post("/{notice_id}/approve", responses=_DECISIONS)
def approve_notice(notice_id: str, party: CurrentParty, request: Request) -> DecisionOut:
    """Approve, as an authority, a notice inside your areas; approving again is a no-op."""
    return decision_out(services(request).lifecycle.approve(party, notice_id))


@router.post("/{notice_id}/reject", responses=_DECISIONS)
def reject_notice(
    notice_id: str, body: RejectIn, party: CurrentParty, request: Request
) -> DecisionOut:
    """Reject, as an authority, a notice inside your areas, with a reason; it cannot
    activate until its filer modifies it."""
    return decision_out(services(request).lifecycle.reject(party, notice_id, body.reason))

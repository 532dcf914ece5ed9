"""``/v1/messages`` and ``/v1/threads``: the hotline between two parties, with receipts.

Errors: an unknown recipient or message replied to is 404 naming it (as is any message
that is not yours); a message to yourself, empty or longer than 4,000 characters is 422;
an observer opening a thread is 403. Reading and acknowledging are for the recipient
only (404 for anyone else) and idempotent: a second time returns the same times.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from deconfliction.api.auth import CurrentParty, services
from deconfliction.api.body import ContractRoute
from deconfliction.api.problems import responses
from deconfliction.api.schemas import (
    IDEMPOTENCY_KEY_PATTERN,
    MAX_OFFSET,
    PartyName,
    Text,
    created,
)
from deconfliction.hotline.messages import (
    MAX_REFERENCE_ID,
    MAX_TEXT,
    MessageDraft,
    MessageView,
    Reference,
    SendRequest,
)

__all__ = ["MessageIn", "MessageOut", "router"]

router = APIRouter(prefix="/v1", tags=["hotline"], route_class=ContractRoute)

_NOT_YOURS = "No such message of yours"
_TO_YOU = "No such message addressed to you"
_SENT_LINKS = {
    "GetMessage": {
        "operationRef": "#/paths/~1v1~1messages~1{message_id}/get",
        "parameters": {"message_id": "$response.body#/id"},
    },
    "GetThread": {
        "operationRef": "#/paths/~1v1~1threads~1{thread_id}/get",
        "parameters": {"thread_id": "$response.body#/thread_id"},
    },
}


_STRICT = ConfigDict(extra="forbid")


class ReferenceIn(BaseModel):
    model_config = _STRICT
    kind: Literal["notice", "alert", "aircraft"]
    id: Text = Field(min_length=1, max_length=MAX_REFERENCE_ID)


class MessageIn(BaseModel):
    """A message: to a party (by name), or in reply to a message (then ``to`` may go)."""

    model_config = _STRICT
    to: PartyName | None = Field(
        None, description="The recipient party's name (not yours); not with to_conflict."
    )
    to_conflict: Annotated[Text, Field(min_length=1, max_length=40)] | None = Field(
        None,
        description=(
            "Instead of to: the id of a conflict of yours (from your alert); the message "
            "goes to its other side. Between anonymous sides, neither is shown the other's "
            "name: the message shows (another party) and carries the id as conflict. "
            "Another party's conflict reads as 404, as an unknown id does."
        ),
    )
    priority: Literal["routine", "urgent", "flash"] = "routine"
    text: Text = Field(
        min_length=1,
        max_length=MAX_TEXT,
        description=f"Free text, 1 to {MAX_TEXT:,} characters, not only spaces.",
    )
    ref: ReferenceIn | None = Field(None, description="A notice, alert or aircraft it is about.")
    in_reply_to: Annotated[Text, Field(min_length=1, max_length=100)] | None = Field(
        None, description="The message this answers (same thread)."
    )


class ReferenceOut(BaseModel):
    kind: str
    id: str


class MessageOut(BaseModel):
    id: str
    thread_id: str
    in_reply_to: str | None
    sender: str = Field(serialization_alias="from")
    to: str
    priority: str
    text: str
    ref: ReferenceOut | None
    created_at: datetime
    delivered_at: datetime | None
    read_at: datetime | None
    acknowledged_at: datetime | None
    ack_deadline: datetime | None
    escalation_tier: int
    escalation_state: str
    conflict: str | None = Field(
        description="The anonymous conflict it is about (then from/to show (another party))"
    )


def message_out(view: MessageView) -> MessageOut:
    return MessageOut(
        id=view.id,
        thread_id=view.thread_id,
        in_reply_to=view.in_reply_to,
        sender=view.sender,
        to=view.recipient,
        priority=view.priority,
        text=view.text,
        ref=None if view.ref is None else ReferenceOut(kind=view.ref.kind, id=view.ref.id),
        created_at=view.created_at,
        delivered_at=view.delivered_at,
        read_at=view.read_at,
        acknowledged_at=view.acknowledged_at,
        ack_deadline=view.ack_deadline,
        escalation_tier=view.escalation_tier,
        escalation_state=view.escalation_state,
        conflict=view.handle,
    )


@router.post(
    "/messages",
    status_code=201,
    response_model=MessageOut,
    responses={
        201: {"description": "Stored (Location: the message)", "links": _SENT_LINKS},
        **responses(
            403,
            404,
            409,
            s403="Observers may reply but not open a thread",
            s404="No such party, conflict of yours, or message of yours to reply to",
            s409="Idempotency-Key reused for a different message",
        ),
    },
)
async def send_message(
    body: MessageIn,
    party: CurrentParty,
    request: Request,
    idempotency_key: Annotated[
        str | None, Header(pattern=IDEMPOTENCY_KEY_PATTERN, max_length=200)
    ] = None,
) -> Response:
    """Send a message; 201 means it is stored and will reach the recipient's stream.

    Messages that arrive together share one commit (the service's group commit).

    Send an ``Idempotency-Key`` header to retry safely: the same key with the same body
    returns the first message (header ``Idempotent-Replayed: true``) and sends nothing.
    """
    draft = MessageDraft(
        text=body.text,
        to=body.to,
        priority=body.priority,
        ref=None if body.ref is None else Reference(body.ref.kind, body.ref.id),
        in_reply_to=body.in_reply_to,
        to_conflict=body.to_conflict,
    )
    svc = services(request)
    result = await svc.writer.submit_batched(
        svc.messages.send_many, SendRequest(party, draft, idempotency_key)
    )
    message = result.message
    return created(message_out(message), f"/v1/messages/{message.id}", result.replayed)


@router.get("/messages")
def list_messages(
    party: CurrentParty,
    request: Request,
    box: Literal["inbox", "sent"] = "inbox",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[MessageOut]:
    """Your received (``inbox``) or sent (``sent``) messages, newest first."""
    views = services(request).messages.list_messages(party, box, limit, offset)
    return [message_out(v) for v in views]


@router.get("/messages/{message_id}", responses=responses(404, s404=_NOT_YOURS))
def get_message(message_id: str, party: CurrentParty, request: Request) -> MessageOut:
    """A message you sent or received, with its receipt times."""
    return message_out(services(request).messages.get(party, message_id))


@router.post("/messages/{message_id}/read", responses=responses(404, s404=_TO_YOU))
def read_message(message_id: str, party: CurrentParty, request: Request) -> MessageOut:
    """Mark a message sent to you as read (the sender is told); again is a no-op."""
    return message_out(services(request).messages.mark_read(party, message_id))


@router.post("/messages/{message_id}/acknowledge", responses=responses(404, s404=_TO_YOU))
def acknowledge_message(message_id: str, party: CurrentParty, request: Request) -> MessageOut:
    """Acknowledge a message sent to you: the sender gets a signed receipt. Again is a
    no-op that returns the same times."""
    return message_out(services(request).messages.acknowledge(party, message_id))


@router.get("/threads/{thread_id}", responses=responses(404, s404="No such thread of yours"))
def get_thread(thread_id: str, party: CurrentParty, request: Request) -> list[MessageOut]:
    """A thread's messages, oldest first (you are one of its two parties)."""
    return [message_out(v) for v in services(request).messages.thread(party, thread_id)]

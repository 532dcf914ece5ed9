"""``/v1/me``: who the token belongs to; ``/v1/parties/{name}/tokens``, ``/v1/tokens``:
the token lifecycle, for an administrator (a party of role ``authority``).

An administrator lists a party's tokens (ids and times, never values), issues one
(optionally expiring), rotates them (a fresh token, every other revoked at once) and
revokes one. Each is journaled. A revoked token is refused at once by this process and
within the auth cache period by every other; the streams opened with it close (4401
``token-revoked``).

``/v1/parties/me/keys``: the Ed25519 keys the party signs its requests with (RFC 9421).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from anyio import to_thread
from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from deconfliction.api.auth import CurrentParty, services
from deconfliction.api.body import ContractRoute
from deconfliction.api.problems import responses
from deconfliction.api.schemas import PartyOut
from deconfliction.errors import PermissionDeniedError
from deconfliction.parties import PartyRef, Role, TokenInfo

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["parties"], route_class=ContractRoute)

_ADMIN = "Only an administrator (a party of role authority) manages tokens"
_NAME = Path(min_length=1, max_length=100, description="The party's name.")


class TokenOut(BaseModel):
    """A token as an administrator sees it (its value is shown once, when issued)."""

    id: int
    party: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    active: bool


class TokenIssued(BaseModel):
    """A token just issued: ``value`` is shown this once; keep it secret."""

    token: TokenOut
    value: str


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    expires_in_s: float | None = Field(
        None, gt=0, le=1e10, description="Seconds the token is valid (default: until revoked)."
    )


def _out(info: TokenInfo, request: Request) -> TokenOut:
    now = services(request).clock.now()
    return TokenOut(
        id=info.id,
        party=info.party,
        created_at=info.created_at,
        expires_at=info.expires_at,
        revoked_at=info.revoked_at,
        active=info.is_active(now),
    )


def _check_admin(party: PartyRef) -> None:
    if party.role != Role.AUTHORITY:
        raise PermissionDeniedError(
            f"party {party.name!r} is {party.role.value}; only an administrator (a party of "
            "role authority) manages tokens, or use 'deconfliction party token'"
        )


@router.get("/me")
def me(party: CurrentParty) -> PartyOut:
    """The party this token authenticates."""
    return PartyOut(name=party.name, role=party.role.value)


@router.get("/parties/{name}/tokens", responses=responses(403, 404, s403=_ADMIN))
async def list_tokens(party: CurrentParty, request: Request, name: str = _NAME) -> list[TokenOut]:
    """A party's tokens, oldest first, revoked and expired ones too."""
    _check_admin(party)
    infos = await to_thread.run_sync(services(request).registry.tokens, name)
    return [_out(t, request) for t in infos]


@router.post("/parties/{name}/tokens", status_code=201, responses=responses(403, 404, s403=_ADMIN))
async def issue_token(
    party: CurrentParty,
    request: Request,
    response: Response,
    name: str = _NAME,
    body: TokenIn | None = None,
) -> TokenIssued:
    """Issue a party a further token (journaled); its value is in this answer only."""
    _check_admin(party)
    return await _issued(services(request).registry.issue_token, name, body, request, response)


@router.post(
    "/parties/{name}/tokens/rotate", status_code=201, responses=responses(403, 404, s403=_ADMIN)
)
async def rotate_tokens(
    party: CurrentParty,
    request: Request,
    response: Response,
    name: str = _NAME,
    body: TokenIn | None = None,
) -> TokenIssued:
    """Issue a party a fresh token and revoke every other it holds (journaled)."""
    _check_admin(party)
    return await _issued(services(request).registry.rotate, name, body, request, response)


async def _issued(
    make: Callable[[str, float | None], tuple[TokenInfo, str]],
    name: str,
    body: TokenIn | None,
    request: Request,
    response: Response,
) -> TokenIssued:
    """A token made by ``make`` (issue or rotate) for ``name``, its value never cached."""
    expires = None if body is None else body.expires_in_s
    info, value = await to_thread.run_sync(make, name, expires)
    response.headers["Cache-Control"] = "no-store"
    return TokenIssued(token=_out(info, request), value=value)


@router.delete("/tokens/{token_id}", responses=responses(403, 404, s403=_ADMIN))
async def revoke_token(
    party: CurrentParty,
    request: Request,
    token_id: int = Path(ge=1, le=2**31 - 1, description="The token's id."),
) -> TokenOut:
    """Revoke one token (journaled); revoking it again changes nothing."""
    _check_admin(party)
    info = await to_thread.run_sync(services(request).registry.revoke, token_id)
    return _out(info, request)


class KeyIn(BaseModel):
    """An Ed25519 public key to sign requests with: 64 hex digits; ``keyid`` optional."""

    public_key: str = Field(pattern=r"^[0-9a-fA-F]{64}$", examples=["3f" * 32])
    keyid: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._:-]{1,100}$")


@router.post("/parties/me/keys", status_code=201, responses=responses(409))
def add_key(party: CurrentParty, request: Request, body: KeyIn) -> dict[str, Any]:
    """Register a public key; sign requests with its private half (RFC 9421, ``keyid``).
    Rotate by adding the new key, then revoking the old one."""
    return services(request).keys.add(party, body.public_key, body.keyid).to_json()


@router.get("/parties/me/keys")
def list_keys(party: CurrentParty, request: Request) -> list[dict[str, Any]]:
    """Your keys, oldest first, revoked ones included."""
    return [k.to_json() for k in services(request).keys.of(party)]


@router.post("/parties/me/keys/{key_id}/revoke", responses=responses(404))
def revoke_key(party: CurrentParty, request: Request, key_id: str) -> dict[str, Any]:
    """Revoke a key: requests signed with it are refused from now on."""
    return services(request).keys.revoke(party, key_id).to_json()

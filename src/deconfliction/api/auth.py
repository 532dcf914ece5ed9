"""Bearer-token authentication: every route acts as the party holding the token."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from deconfliction.api.services import Services
from deconfliction.errors import AuthenticationError
from deconfliction.parties import PartyRef

__all__ = ["CurrentParty", "current_party", "services"]

_bearer = HTTPBearer(auto_error=False, description="The party's token (deconfliction party add)")


def services(request: Request) -> Services:
    svc = request.app.state.services
    assert isinstance(svc, Services)
    return svc


def current_party(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> PartyRef:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthenticationError(
            "this route needs 'Authorization: Bearer <token>'; ask your administrator "
            "for your party's token"
        )
    return services(request).registry.authenticate(credentials.credentials)


CurrentParty = Annotated[PartyRef, Depends(current_party)]

"""The F3548 DSS's access tokens: RS256 JWTs checked against configured public keys.

A token is accepted when its signature verifies with one of the keys (PEM files or a
JWKS file named in ``Settings.f3548_public_keys``), its ``aud`` is one of
``Settings.f3548_audiences``, it has not expired, and it names a ``sub`` (the USS).
Its ``scope`` claim (space-separated) says which operations it may call.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from deconfliction.errors import AuthenticationError, PermissionDeniedError, ValidationError

__all__ = ["Claims", "TokenVerifier", "load_public_keys", "looks_like_jwt"]

_SEPARATORS = re.compile(r"[,:]")


@dataclass(frozen=True)
class Claims:
    """What an accepted token says: the USS (``sub``) and its scopes."""

    sub: str
    scopes: frozenset[str]

    def require(self, *any_of: str) -> None:
        """Refuse (403) unless the token holds at least one of ``any_of``."""
        if not self.scopes.intersection(any_of):
            raise PermissionDeniedError(
                f"this operation needs a token with scope {' or '.join(any_of)}; ask your "
                "auth server for a token with that scope",
                required=list(any_of),
            )


def looks_like_jwt(token: str) -> bool:
    """Whether a bearer token has a JWT's three dot-separated parts."""
    return token.count(".") == 2


def load_public_keys(spec: str) -> tuple[RSAPublicKey, ...]:
    """The RSA public keys in the files of ``spec`` (paths separated by ``,`` or ``:``):
    each a PEM public key or a JWKS document (``{"keys": [...]}``)."""
    keys: list[RSAPublicKey] = []
    for name in (p.strip() for p in _SEPARATORS.split(spec)):
        if not name:
            continue
        path = Path(name)
        try:
            text = path.read_text()
        except OSError as exc:
            raise ValidationError(
                f"DECONFLICTION_F3548_PUBLIC_KEYS names {name!r}, which cannot be read "
                f"({exc.strerror}); give PEM or JWKS files"
            ) from None
        keys.extend(_keys_in(text, name))
    return tuple(keys)


def _keys_in(text: str, name: str) -> Iterable[RSAPublicKey]:
    if text.lstrip().startswith("{"):
        try:
            entries = json.loads(text)["keys"]
            found = [jwt.PyJWK(entry).key for entry in entries]
        except (ValueError, KeyError, TypeError, jwt.PyJWKError) as exc:
            raise ValidationError(f"{name} is not a JWKS document of RSA keys: {exc}") from None
    else:
        try:
            found = [load_pem_public_key(text.encode())]
        except ValueError as exc:
            raise ValidationError(f"{name} is not a PEM public key: {exc}") from None
    for key in found:
        if not isinstance(key, RSAPublicKey):
            raise ValidationError(f"{name} holds a key that is not RSA; RS256 needs RSA keys")
        yield key


class TokenVerifier:
    """Checks F3548 access tokens against the configured keys and audiences."""

    def __init__(self, keys: tuple[RSAPublicKey, ...], audiences: tuple[str, ...]) -> None:
        self._keys = keys
        self._audiences = list(audiences)

    @property
    def configured(self) -> bool:
        return bool(self._keys)

    def verify(self, token: str) -> Claims:
        """The claims of a valid token, else AuthenticationError (401) saying why."""
        if not self._keys:
            raise AuthenticationError(
                "this service accepts no F3548 tokens: no public key is configured "
                "(DECONFLICTION_F3548_PUBLIC_KEYS)"
            )
        last: jwt.InvalidTokenError | None = None
        for key in self._keys:
            try:
                claims: dict[str, Any] = jwt.decode(
                    token,
                    key,
                    algorithms=["RS256"],
                    audience=self._audiences or None,
                    options={"require": ["exp", "sub"], "verify_aud": bool(self._audiences)},
                )
            except jwt.InvalidSignatureError as exc:
                last = exc
                continue
            except jwt.ExpiredSignatureError:
                raise AuthenticationError(
                    "the access token has expired; get a fresh one from your auth server"
                ) from None
            except jwt.InvalidAudienceError:
                raise AuthenticationError(
                    f"the access token's audience is not one this service accepts "
                    f"({', '.join(self._audiences)}); ask for a token for this DSS"
                ) from None
            except jwt.InvalidTokenError as exc:
                raise AuthenticationError(f"the access token is not valid: {exc}") from None
            sub = claims["sub"]
            scope = claims.get("scope", "")
            if not isinstance(sub, str) or not sub or not isinstance(scope, str):
                raise AuthenticationError("the access token's sub and scope must be text")
            return Claims(sub, frozenset(scope.split()))
        raise AuthenticationError(
            f"the access token's signature does not verify with any configured key ({last}); "
            "use a token from an auth server this DSS trusts"
        )

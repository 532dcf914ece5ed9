"""One error hierarchy for the whole package, with stable codes.

Every error a person or a client can see derives from :class:`DeconflictionError`.
Each class carries a stable ``code`` (look it up in this docstring or in the API's
problem+json ``type``) and the HTTP status the API maps it to, in one place::

    DeconflictionError                 500  internal
    ├── ValidationError                422  invalid-input
    │   ├── GeometryError              422  invalid-geometry
    │   ├── AltitudeError              422  invalid-altitude
    │   ├── FloorNotStandingError      422  floor-not-standing
    │   ├── TimeWindowError            422  invalid-time-window
    │   │   ├── WindowEndedError       422  window-ended
    │   │   ├── BeyondHorizonError     422  beyond-horizon
    │   │   └── WindowTooLongError     422  window-too-long
    │   ├── TooManyVolumesError        422  too-many-volumes
    │   ├── MalformedJSONError         422  malformed-json
    │   ├── InvalidUTF8Error           422  invalid-utf8
    │   ├── TooDeepError               422  too-deep
    │   └── ForbiddenCharacterError    422  forbidden-character
    ├── AuthenticationError            401  unauthenticated
    │   ├── TokenRevokedError          401  token-revoked
    │   └── SignatureInvalidError      401  signature-invalid
    ├── PermissionDeniedError          403  forbidden
    │   └── SignatureRequiredError     403  signature-required
    ├── NotFoundError                  404  not-found
    ├── ConflictError                  409  conflict
    │   ├── StaleVersionError          409  stale-version
    │   ├── IdempotencyKeyReusedError  409  idempotency-key-reused
    │   └── MissingEntitiesError       409  missing-entities
    ├── InvalidStateError              409  invalid-state
    ├── PreconditionFailedError        412  precondition-failed
    ├── UnsupportedMediaTypeError      415  unsupported-media-type
    ├── QuotaExceededError             429  quota-exceeded
    └── RateLimitedError               429  rate-limited

A message says what is wrong and what to do about it. ``detail`` holds facts a
client may act on (the current version of a notice, the index of a bad vertex, the
limit in force).
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "AltitudeError",
    "AuthenticationError",
    "BeyondHorizonError",
    "ConflictError",
    "DeconflictionError",
    "FloorNotStandingError",
    "ForbiddenCharacterError",
    "GeometryError",
    "IdempotencyKeyReusedError",
    "InvalidStateError",
    "InvalidUTF8Error",
    "MalformedJSONError",
    "MissingEntitiesError",
    "NotFoundError",
    "PermissionDeniedError",
    "PreconditionFailedError",
    "QuotaExceededError",
    "RateLimitedError",
    "SignatureInvalidError",
    "SignatureRequiredError",
    "StaleVersionError",
    "TimeWindowError",
    "TokenRevokedError",
    "TooDeepError",
    "TooManyVolumesError",
    "UnsupportedMediaTypeError",
    "ValidationError",
    "WindowEndedError",
    "WindowTooLongError",
]


class DeconflictionError(Exception):
    """Base of every error this package raises on purpose."""

    code: ClassVar[str] = "internal"
    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"

    def __init__(self, message: str, **detail: Any) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class ValidationError(DeconflictionError):
    code = "invalid-input"
    status = 422
    title = "Invalid input"


class GeometryError(ValidationError):
    code = "invalid-geometry"
    title = "Invalid geometry"


class AltitudeError(ValidationError):
    code = "invalid-altitude"
    title = "Invalid altitude band"


class FloorNotStandingError(ValidationError):
    code = "floor-not-standing"
    title = "Floor on a notice that is not a standing zone"


class TimeWindowError(ValidationError):
    code = "invalid-time-window"
    title = "Invalid time window"


class MalformedJSONError(ValidationError):
    code = "malformed-json"
    title = "Malformed JSON"


class InvalidUTF8Error(ValidationError):
    code = "invalid-utf8"
    title = "Body is not UTF-8"


class TooDeepError(ValidationError):
    code = "too-deep"
    title = "JSON nested too deeply"


class ForbiddenCharacterError(ValidationError):
    code = "forbidden-character"
    title = "Forbidden character in text"


class WindowEndedError(TimeWindowError):
    code = "window-ended"
    title = "Window ended"


class BeyondHorizonError(TimeWindowError):
    code = "beyond-horizon"
    title = "Window beyond the horizon"


class WindowTooLongError(TimeWindowError):
    code = "window-too-long"
    title = "Window too long"


class TooManyVolumesError(ValidationError):
    code = "too-many-volumes"
    title = "Too many volumes"


class AuthenticationError(DeconflictionError):
    code = "unauthenticated"
    status = 401
    title = "Not authenticated"


class TokenRevokedError(AuthenticationError):
    code = "token-revoked"
    title = "Token revoked"


class PermissionDeniedError(DeconflictionError):
    code = "forbidden"
    status = 403
    title = "Forbidden"


class SignatureInvalidError(AuthenticationError):
    """A request's RFC 9421 signature does not verify (or is out of its time window)."""

    code = "signature-invalid"
    title = "Signature invalid"


class SignatureRequiredError(PermissionDeniedError):
    """An agreement requires this statement to be signed, and it is not."""

    code = "signature-required"
    title = "Signature required"


class NotFoundError(DeconflictionError):
    code = "not-found"
    status = 404
    title = "Not found"


class ConflictError(DeconflictionError):
    code = "conflict"
    status = 409
    title = "Conflict with the current state"


class StaleVersionError(ConflictError):
    code = "stale-version"
    title = "Stale version"


class IdempotencyKeyReusedError(ConflictError):
    code = "idempotency-key-reused"
    title = "Idempotency key reused with a different request"


class MissingEntitiesError(ConflictError):
    """An F3548 key lacks the OVN of an entity it must hold; ``detail`` carries
    ``missing_operational_intents`` and ``missing_constraints`` (their references)."""

    code = "missing-entities"
    title = "Key misses relevant entities"


class PreconditionFailedError(DeconflictionError):
    """A precondition of the request does not hold (an F3548 USS marked Down)."""

    code = "precondition-failed"
    status = 412
    title = "Precondition failed"


class InvalidStateError(DeconflictionError):
    code = "invalid-state"
    status = 409
    title = "Not allowed in the current state"


class UnsupportedMediaTypeError(DeconflictionError):
    code = "unsupported-media-type"
    status = 415
    title = "Unsupported media type"


class QuotaExceededError(DeconflictionError):
    code = "quota-exceeded"
    status = 429
    title = "Quota exceeded"


class RateLimitedError(DeconflictionError):
    code = "rate-limited"
    status = 429
    title = "Too many requests"

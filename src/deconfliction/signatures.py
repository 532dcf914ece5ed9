"""Party-held keys: requests signed with HTTP Message Signatures (RFC 9421), Ed25519.

A party registers Ed25519 public keys (``POST /v1/parties/me/keys``), each under a
``keyid``; it may then sign a request with a key: ``Signature-Input`` and ``Signature``
over ``@method``, ``@path`` and ``content-digest`` (RFC 9530, SHA-256 of the body), with
the parameters ``created``, ``keyid`` and ``alg="ed25519"``. The signing and checking are
the ``http-message-signatures`` library's; what this module adds is the choice of what is
covered, the time window (``created`` within :data:`DEFAULT_WINDOW_S` of the service's
clock, against replays of old requests) and the statement the journal keeps.

A verified request becomes a :class:`SignedRequest`: the key id, the time, the signature
base (the exact text signed), the signature and the body. The journal keeps it in the
payload of the entry the request made (``"signature": {...}``); with the party's public
key (itself journaled when registered, ``party.key_added``), anyone can check offline
that the party sent that body to that path at that time (:func:`check_statement`),
without trusting the service's database.

:func:`sign_request` is the client's side: headers to add to a request.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature as InvalidEd25519Signature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from http_message_signatures import (
    ContentDigest,
    HTTPMessageSignaturesException,
    HTTPMessageSigner,
    HTTPMessageVerifier,
    MappingKeyResolver,
    algorithms,
)

from deconfliction.errors import SignatureInvalidError, ValidationError

__all__ = [
    "ALGORITHM",
    "COVERED",
    "DEFAULT_WINDOW_S",
    "SignedRequest",
    "check_statement",
    "load_private_key",
    "public_key_hex",
    "sign_request",
    "verify_request",
]

ALGORITHM = "ed25519"
COVERED = ("@method", "@path", "content-digest")
"""The components every party signature covers (the body through its digest)."""
DEFAULT_WINDOW_S = 300.0
"""Seconds a signature's ``created`` may lie before or after the service's clock."""


@dataclass
class _Message:
    """What the library reads of a request: its method, URL and header fields."""

    method: str
    url: str
    headers: dict[str, str]


def public_key_hex(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The raw Ed25519 public key, hex (64 digits)."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes_raw().hex()


def _public(hex_key: str) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(bytes.fromhex(hex_key))
    except ValueError:
        raise ValidationError(
            f"{hex_key!r} is not an Ed25519 public key: give its 32 bytes as 64 hex digits"
        ) from None


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """An Ed25519 private key from a file: PEM (PKCS#8) or its 32 bytes in hex."""
    data = path.read_bytes()
    if b"PRIVATE KEY" in data:
        key = serialization.load_pem_private_key(data, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValidationError(f"{path} holds a private key, but not an Ed25519 one")
        return key
    try:
        return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(data.decode().strip()))
    except ValueError:
        raise ValidationError(
            f"{path} is neither a PEM Ed25519 private key nor its 32 bytes in hex"
        ) from None


def sign_request(
    method: str,
    url: str,
    body: bytes,
    key: Ed25519PrivateKey,
    key_id: str,
    created: datetime | None = None,
) -> dict[str, str]:
    """The headers that sign a request (``Content-Digest``, ``Signature-Input``,
    ``Signature``): add them to it, and send ``body`` exactly as given.

    >>> key = Ed25519PrivateKey.generate()
    >>> sorted(sign_request("POST", "http://x/v1/messages", b"{}", key, "k1"))
    ['Content-Digest', 'Signature', 'Signature-Input']
    """
    message = _Message(method.upper(), url, {})
    signer = HTTPMessageSigner(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys={}, private_keys={key_id: key}),
    )
    signer.sign(
        message,
        key_id=key_id,
        created=created or datetime.now(UTC),
        covered_component_ids=COVERED,
        label="party",
        body=body,
    )
    return dict(message.headers)


@dataclass(frozen=True)
class SignedRequest:
    """A verified request signature, as the journal keeps it."""

    key_id: str
    created: int
    base: str
    signature: str
    body: str

    def to_json(self) -> dict[str, Any]:
        return {
            "alg": ALGORITHM,
            "keyid": self.key_id,
            "created": self.created,
            "base": self.base,
            "signature": self.signature,
            "body": self.body,
        }


class _Verifier(HTTPMessageVerifier):
    """The library's verifier, with the service's clock and window instead of its own."""

    def __init__(self, keys: Mapping[str, Ed25519PublicKey], now: datetime, window_s: float):
        super().__init__(
            signature_algorithm=algorithms.ED25519,
            key_resolver=MappingKeyResolver(public_keys=keys, private_keys={}),
        )
        self._now = now
        self._window = timedelta(seconds=window_s)

    def validate_created_and_expires(self, sig_input: Any, max_age: Any = None) -> None:
        created = sig_input.params.get("created")
        if type(created) is not int:
            raise SignatureInvalidError(
                'the signature has no "created" time; sign with created=<unix seconds>'
            )
        at = datetime.fromtimestamp(created, UTC)
        if abs(at - self._now) > self._window:
            raise SignatureInvalidError(
                f"the signature was created at {at.isoformat()}, more than "
                f"{self._window.total_seconds():.0f} s from the service's clock "
                f"({self._now.isoformat()}); sign the request afresh (a replay is refused)"
            )


def verify_request(
    method: str,
    url: str,
    headers: Iterable[tuple[str, str]],
    body: bytes | None,
    keys: Mapping[str, str],
    now: datetime,
    window_s: float = DEFAULT_WINDOW_S,
    require: Sequence[str] = COVERED,
) -> SignedRequest:
    """Check a request's signature against the party's keys (``keyid`` -> public hex):
    it must cover ``require`` (and the digest of ``body``, when given). Raises
    SignatureInvalidError saying what is wrong."""
    fields = list(headers)
    message = _Message(method.upper(), url, {})
    message.headers = _FieldLines(fields)
    verifier = _Verifier({k: _public(v) for k, v in keys.items()}, now, window_s)
    try:
        [result] = verifier.verify(message, max_age=None, require_components=require, body=body)
    except SignatureInvalidError:
        raise
    except (HTTPMessageSignaturesException, ValueError) as exc:
        known = ", ".join(sorted(keys)) or "none"
        raise SignatureInvalidError(
            f"the request's signature does not verify ({exc}); sign @method, @path and "
            f"content-digest with created and keyid, with a key you registered (yours: "
            f"{known})"
        ) from None
    base = "\n".join(f"{name}: {value}" for name, value in result.covered_components.items())
    raw = _signature_bytes(fields)
    return SignedRequest(
        key_id=str(result.parameters["keyid"]),
        created=int(result.parameters["created"]),
        base=base,
        signature=base64.b64encode(raw).decode(),
        body=(body or b"").decode("utf-8", errors="replace"),
    )


class _FieldLines(dict[str, str]):
    """Header fields for the library as received, repeated lines kept (``items``)."""

    def __init__(self, lines: list[tuple[str, str]]) -> None:
        super().__init__()
        self._lines = lines
        for name, value in lines:
            self[name] = value

    def items(self) -> Any:
        return list(self._lines)


def _signature_bytes(fields: list[tuple[str, str]]) -> bytes:
    """The one signature's bytes from the ``Signature`` field (``label=:base64:``)."""
    for name, value in fields:
        if name.lower() == "signature":
            _, _, item = value.partition("=")
            return base64.b64decode(item.strip().strip(":"))
    raise SignatureInvalidError("the request has Signature-Input but no Signature")


def check_statement(statement: Mapping[str, Any], public_key: str) -> str | None:
    """Check a journaled request signature offline with the party's public key: the
    signature over the base, and the body against the base's content-digest. ``None``
    when both hold, else what is wrong."""
    try:
        base = str(statement["base"])
        signature = base64.b64decode(str(statement["signature"]))
        body = str(statement["body"]).encode()
    except (KeyError, ValueError):
        return "the signature statement is malformed"
    try:
        _public(public_key).verify(signature, base.encode())
    except (InvalidEd25519Signature, ValidationError):
        return "the party's signature does not match its base (or the key is not the party's)"
    digest = next(
        (
            line.split(": ", 1)[1]
            for line in base.split("\n")
            if line.startswith('"content-digest"')
        ),
        None,
    )
    if digest is None:
        return "the signed base does not cover the body's digest"
    try:
        ContentDigest.verify(digest, body)
    except (HTTPMessageSignaturesException, ValueError):
        return "the body kept is not the one the party signed (its digest differs)"
    return None

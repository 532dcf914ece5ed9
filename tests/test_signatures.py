"""RFC 9421 request signatures: the RFC's own Ed25519 example (appendix B.2.6) verifies
and is reproduced byte for byte; our signatures cover method, path and body digest, and
any change to them, an unknown key or a stale time is refused."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from deconfliction.errors import SignatureInvalidError
from deconfliction.signatures import (
    check_statement,
    public_key_hex,
    sign_request,
    verify_request,
)

# RFC 9421 appendix B.1.4 (test-key-ed25519) and B.2.6
RFC_PRIVATE = (
    b"-----BEGIN PRIVATE KEY-----\n"
    b"MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF\n"
    b"-----END PRIVATE KEY-----\n"
)
RFC_PUBLIC = "26b40b8f93fff3d897112f7ebc582b232dbd72517d082fe83cfb30ddce43d1bb"
RFC_HEADERS = [
    ("Host", "example.com"),
    ("Date", "Tue, 20 Apr 2021 02:07:55 GMT"),
    ("Content-Type", "application/json"),
    (
        "Content-Digest",
        "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:",
    ),
    ("Content-Length", "18"),
    (
        "Signature-Input",
        'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length")'
        ';created=1618884473;keyid="test-key-ed25519"',
    ),
    (
        "Signature",
        "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:",
    ),
]
RFC_BASE = "\n".join(
    [
        '"date": Tue, 20 Apr 2021 02:07:55 GMT',
        '"@method": POST',
        '"@path": /foo',
        '"@authority": example.com',
        '"content-type": application/json',
        '"content-length": 18',
        '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" '
        '"content-length");created=1618884473;keyid="test-key-ed25519"',
    ]
)
RFC_CREATED = datetime.fromtimestamp(1618884473, UTC)
URL = "https://example.com/foo?param=Value&Pet=dog"


def test_the_rfc_ed25519_example_verifies_with_its_published_base() -> None:
    result = verify_request(
        "POST", URL, RFC_HEADERS, None, {"test-key-ed25519": RFC_PUBLIC}, RFC_CREATED, require=()
    )
    assert result.base == RFC_BASE
    assert result.key_id == "test-key-ed25519"
    assert result.created == 1618884473
    key = serialization.load_pem_private_key(RFC_PRIVATE, password=None)
    assert isinstance(key, Ed25519PrivateKey)
    assert public_key_hex(key) == RFC_PUBLIC
    assert base64.b64encode(key.sign(RFC_BASE.encode())).decode() == result.signature


def test_the_rfc_example_fails_when_a_covered_field_changes() -> None:
    headers = [(n, "application/xml" if n == "Content-Type" else v) for n, v in RFC_HEADERS]
    with pytest.raises(SignatureInvalidError):
        verify_request(
            "POST", URL, headers, None, {"test-key-ed25519": RFC_PUBLIC}, RFC_CREATED, require=()
        )


NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
BODY = b'{"to":"Bravo","text":"break right"}'


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def _verify(headers: dict[str, str], key: Ed25519PrivateKey, **change: object) -> object:
    args: dict[str, object] = {
        "method": "POST",
        "url": "http://testserver/v1/messages",
        "headers": list(headers.items()),
        "body": BODY,
        "keys": {"k1": public_key_hex(key)},
        "now": NOW,
    }
    args.update(change)
    return verify_request(**args)  # type: ignore[arg-type]


def test_a_signed_request_verifies_and_its_statement_checks_offline(key: Ed25519PrivateKey) -> None:
    headers = sign_request("POST", "http://testserver/v1/messages", BODY, key, "k1", NOW)
    assert 'alg="ed25519"' in headers["Signature-Input"]
    signed = _verify(headers, key)
    statement = signed.to_json()  # type: ignore[attr-defined]
    assert statement["body"] == BODY.decode()
    assert '"@path": /v1/messages' in statement["base"]
    assert check_statement(statement, public_key_hex(key)) is None
    assert check_statement(
        {**statement, "body": '{"to":"Bravo","text":"left"}'}, public_key_hex(key)
    )
    other = public_key_hex(Ed25519PrivateKey.generate())
    assert check_statement(statement, other) is not None


@pytest.mark.parametrize(
    "change",
    [
        {"body": b'{"to":"Bravo","text":"break left"}'},
        {"method": "PUT"},
        {"url": "http://testserver/v1/notices"},
        {"keys": {}},
        {"keys": {"k1": "00" * 32}},
        {"now": NOW + timedelta(seconds=301)},
        {"now": NOW - timedelta(seconds=301)},
    ],
    ids=["body", "method", "path", "unknown key", "other key", "stale", "from the future"],
)
def test_any_change_or_a_stale_time_is_refused(
    key: Ed25519PrivateKey, change: dict[str, object]
) -> None:
    headers = sign_request("POST", "http://testserver/v1/messages", BODY, key, "k1", NOW)
    _verify(headers, key, now=NOW + timedelta(seconds=299))  # inside the window
    with pytest.raises(SignatureInvalidError) as caught:
        _verify(headers, key, **change)
    assert caught.value.code == "signature-invalid"

"""A DSS app per test on each store backend, with RSA keys and access tokens.

``token(sub, *scopes)`` signs an RS256 access token the app accepts; ``key`` and
``audience`` change what is signed for the refusal tests. Times in requests are
hours after the manual clock's T0 (``extent(...)``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from deconfliction.api import create_app
from deconfliction.clock import ManualClock
from deconfliction.settings import Settings
from tests.conftest import T0

AUDIENCE = "dss.test"
SC = "utm.strategic_coordination"
CM = "utm.constraint_management"
CP = "utm.constraint_processing"
AA = "utm.availability_arbitration"
Token = Callable[..., str]


@pytest.fixture(scope="session")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def public_pem(signing_key: rsa.RSAPrivateKey, tmp_path: Path) -> Path:
    path = tmp_path / "dss-public.pem"
    path.write_bytes(
        signing_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return path


@pytest.fixture
def token(signing_key: rsa.RSAPrivateKey) -> Token:
    def make(
        sub: str,
        *scopes: str,
        key: rsa.RSAPrivateKey | None = None,
        audience: str = AUDIENCE,
        expires_in_s: float = 3600.0,
    ) -> str:
        claims = {
            "sub": sub,
            "scope": " ".join(scopes),
            "aud": audience,
            "iss": "test",
            "exp": int(time.time() + expires_in_s),
        }
        return jwt.encode(claims, key or signing_key, algorithm="RS256")

    return make


@pytest.fixture
def client(database_url: str, clock: ManualClock, public_pem: Path) -> Iterator[TestClient]:
    settings = Settings(
        database_url=database_url,
        f3548_public_keys=str(public_pem),
        f3548_audiences=AUDIENCE,
        tick_s=0,
        track_tick_s=0,
    )
    with TestClient(create_app(settings, clock), raise_server_exceptions=False) as test_client:
        yield test_client


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def when(hours: float) -> dict[str, str]:
    """An F3548 Time, hours after T0."""
    value = (T0 + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")
    return {"value": value, "format": "RFC3339"}


def extent(
    lng: float,
    lat: float,
    radius_m: float = 200.0,
    lower_m: float = 0.0,
    upper_m: float = 120.0,
    start_h: float = 1.0,
    end_h: float = 2.0,
) -> dict[str, Any]:
    """An F3548 Volume4D: a circle, a band and a window (hours after T0)."""
    return {
        "volume": {
            "outline_circle": {
                "center": {"lng": lng, "lat": lat},
                "radius": {"value": radius_m, "units": "M"},
            },
            "altitude_lower": {"value": lower_m, "reference": "W84", "units": "M"},
            "altitude_upper": {"value": upper_m, "reference": "W84", "units": "M"},
        },
        "time_start": when(start_h),
        "time_end": when(end_h),
    }


def intent(*extents: dict[str, Any], key: list[str] | None = None) -> dict[str, Any]:
    """A PUT body for an Accepted operational intent with an implicit subscription."""
    return {
        "extents": list(extents),
        "key": key or [],
        "state": "Accepted",
        "uss_base_url": "https://uss.example/base",
        "new_subscription": {"uss_base_url": "https://uss.example/base"},
    }

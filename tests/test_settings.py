"""Settings come from DECONFLICTION_* variables, then explicit overrides; bad values say which."""

from __future__ import annotations

import pytest

from deconfliction.errors import ValidationError
from deconfliction.settings import DEFAULT_DATABASE_URL, Settings


def test_environment_then_overrides() -> None:
    environ = {
        "DECONFLICTION_TICK_S": "0.5",
        "DECONFLICTION_MAX_VERTICES": "500",
        "DECONFLICTION_NATS_URL": "nats://127.0.0.1:4222",
    }
    settings = Settings.from_env(environ, max_vertices=42, database_url=None)
    assert settings.tick_s == 0.5
    assert settings.max_vertices == 42
    assert settings.nats_url == "nats://127.0.0.1:4222"
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.footprint_limits.max_vertices == 42


def test_a_bad_variable_is_named() -> None:
    with pytest.raises(ValidationError, match="DECONFLICTION_TICK_S='soon' is not a valid float"):
        Settings.from_env({"DECONFLICTION_TICK_S": "soon"})

"""The per-party limits of issue 10 lifted, so benchmarks still measure what they did
(one client files thousands of notices as fast as it can; the store holds a year)."""

from __future__ import annotations

from typing import Any

__all__ = ["LIFTED", "lifted_env"]

LIFTED: dict[str, Any] = {  # Any: spread into Settings, whose fields differ in type
    "rate_per_s": 0.0,  # no rate limit
    "max_active_notices": 1e9,
    "max_aircraft": 1e9,
    "max_streams": 1e6,
    "notice_horizon_s": 1e10,
    "notice_max_duration_s": 1e10,
}
"""Settings fields and their lifted values."""


def lifted_env() -> dict[str, str]:
    """:data:`LIFTED` as ``DECONFLICTION_*`` variables, for a ``deconfliction serve``."""
    return {
        f"DECONFLICTION_{name.upper()}": str(int(value)) if name.startswith("max_") else str(value)
        for name, value in LIFTED.items()
    }

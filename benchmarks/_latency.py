"""Latency samples summed up: percentiles in milliseconds, completions per second.

>>> s = summarise([0.001] * 98 + [0.010, 0.020], wall_s=0.5)
>>> (s.count, s.p50_ms, round(s.p99_ms, 2), s.per_s)
(100, 1.0, 10.1, 200.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Latency", "summarise"]


@dataclass(frozen=True)
class Latency:
    """``count`` operations: median and 99th percentile (ms), and how many per second.

    ``per_s`` is ``count`` over the wall time they took (seconds), whoever ran them.
    """

    count: int
    p50_ms: float
    p99_ms: float
    per_s: float


def summarise(samples_s: Sequence[float], wall_s: float) -> Latency:
    """Summarise latencies (seconds) of operations that took ``wall_s`` seconds in all."""
    if not samples_s:
        raise ValueError("no samples to summarise; run at least one operation")
    p50, p99 = np.percentile(np.asarray(samples_s, dtype=np.float64), [50.0, 99.0])
    return Latency(len(samples_s), float(p50) * 1e3, float(p99) * 1e3, len(samples_s) / wall_s)

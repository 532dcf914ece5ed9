"""The tick loop: a failing tick is logged and the next goes on; stop ends it cleanly."""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import datetime
from typing import Any, cast

import pytest

from deconfliction.clock import ManualClock
from deconfliction.tracks import service as service_module
from deconfliction.tracks.service import TrackService, run_ticks
from tests.conftest import T0


class _Flaky:
    """Stands in for the service: its ticks 1 and 3 raise; it counts them all."""

    def __init__(self, stop_after: int) -> None:
        self.times: list[datetime] = []
        self.stop_after = stop_after
        self.stop: asyncio.Event | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread_names: set[str] = set()

    def run_tick(self, now: datetime) -> None:
        self.times.append(now)
        self.thread_names.add(threading.current_thread().name)
        if len(self.times) >= self.stop_after:
            assert self.loop is not None
            assert self.stop is not None
            self.loop.call_soon_threadsafe(self.stop.set)
        if len(self.times) in (1, 3):
            raise ValueError(f"bad data in tick {len(self.times)}")


async def _run(flaky: _Flaky, tick_s: float) -> None:
    flaky.stop = asyncio.Event()
    flaky.loop = asyncio.get_running_loop()
    await asyncio.wait_for(
        run_ticks(cast(TrackService, flaky), ManualClock(T0), tick_s, flaky.stop), timeout=10
    )


def test_a_failing_tick_is_logged_and_the_loop_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    flaky = _Flaky(stop_after=5)
    with caplog.at_level(logging.ERROR, logger=service_module.__name__):
        asyncio.run(_run(flaky, tick_s=0.001))
    assert flaky.times == [T0] * 5  # it went on after each failure, then stopped
    failures = [r for r in caplog.records if "the next tick goes on" in r.getMessage()]
    assert len(failures) == 2
    assert all(r.exc_info is not None for r in failures)
    assert threading.current_thread().name not in flaky.thread_names  # off the event loop


def test_no_loop_without_a_tick_period() -> None:
    flaky = _Flaky(stop_after=1)
    asyncio.run(_run(flaky, tick_s=0.0))
    assert flaky.times == []


def test_stopping_does_not_wait_for_the_next_tick() -> None:
    flaky = _Flaky(stop_after=10**6)

    async def scenario() -> Any:
        flaky.stop = asyncio.Event()
        task = asyncio.create_task(
            run_ticks(cast(TrackService, flaky), ManualClock(T0), 3600.0, flaky.stop)
        )
        while not flaky.times:
            await asyncio.sleep(0.001)
        flaky.stop.set()
        await asyncio.wait_for(task, timeout=5)

    asyncio.run(scenario())
    assert len(flaky.times) == 1

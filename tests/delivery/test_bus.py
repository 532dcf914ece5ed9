"""The bus contract, run against every bus: wake-ups are never lost, early or misdirected."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable

import pytest

from deconfliction.bus import Bus, BusClosedError, InProcessBus, bus_for
from deconfliction.settings import Settings

BusFactory = Callable[[], Bus]


@pytest.fixture(params=["in-process"])
def make_bus(request: pytest.FixtureRequest) -> BusFactory:
    """A factory of fresh buses of each kind (each test starts and closes its own)."""
    return lambda: InProcessBus()


def run(make_bus: BusFactory, scenario: Callable[[Bus], Awaitable[None]]) -> None:
    async def main() -> None:
        bus = make_bus()
        await bus.start()
        try:
            await asyncio.wait_for(scenario(bus), 10)
        finally:
            await bus.close()

    asyncio.run(main())


def test_a_notify_from_another_thread_wakes_the_waiter(make_bus: BusFactory) -> None:
    async def scenario(bus: Bus) -> None:
        async with bus.subscribe(7) as subscription:
            loop = asyncio.get_running_loop()
            timer = threading.Timer(0.05, bus.notify, args=([7],))
            timer.start()
            started = loop.time()
            assert await subscription.wait(5.0) is True
            assert loop.time() - started < 4.0
            timer.join()

    run(make_bus, scenario)


def test_a_notify_before_the_wait_is_not_lost(make_bus: BusFactory) -> None:
    """Subscribe, read (nothing), *then* the commit's notify, then wait: it returns."""

    async def scenario(bus: Bus) -> None:
        async with bus.subscribe(1) as subscription:
            await asyncio.to_thread(bus.notify, [1])
            await asyncio.sleep(0.05)  # let a remote bus carry it
            assert await subscription.wait(5.0) is True
            assert await subscription.wait(0.1) is False  # consumed: the next wait waits

    run(make_bus, scenario)


def test_wake_ups_go_only_to_the_parties_named(make_bus: BusFactory) -> None:
    async def scenario(bus: Bus) -> None:
        async with bus.subscribe(1) as one, bus.subscribe(2) as two, bus.subscribe(2) as again:
            bus.notify([2, 3])
            assert await two.wait(5.0) is True
            assert await again.wait(5.0) is True  # every subscription of the party
            assert await one.wait(0.2) is False

    run(make_bus, scenario)


def test_a_wait_times_out_when_nothing_happens(make_bus: BusFactory) -> None:
    async def scenario(bus: Bus) -> None:
        async with bus.subscribe(5) as subscription:
            assert await subscription.wait(0.05) is False

    run(make_bus, scenario)


def test_closing_the_bus_ends_every_wait(make_bus: BusFactory) -> None:
    async def main() -> None:
        bus = make_bus()
        await bus.start()
        async with bus.subscribe(4) as subscription:
            waiting = asyncio.create_task(subscription.wait(30.0))
            await asyncio.sleep(0.05)
            await bus.close()
            with pytest.raises(BusClosedError):
                await asyncio.wait_for(waiting, 5)
            with pytest.raises(BusClosedError):
                await subscription.wait(1.0)

    asyncio.run(main())


def test_a_notify_after_the_loop_ended_is_harmless(make_bus: BusFactory) -> None:
    bus = make_bus()

    async def subscribe_and_leave() -> None:
        await bus.start()
        async with bus.subscribe(9):
            pass

    asyncio.run(subscribe_and_leave())
    bus.notify([9])  # nobody is subscribed, the loop is gone: nothing happens, nothing fails


def test_without_a_nats_url_the_bus_is_in_process() -> None:
    assert isinstance(bus_for(Settings()), InProcessBus)

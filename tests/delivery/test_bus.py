"""The bus contract, run against every bus: wake-ups are never lost, early or misdirected.

The NATS bus runs against the real server (``$DECONFLICTION_TEST_NATS_URL``, default
``nats://127.0.0.1:4222``), on a subject prefix of its own per test; its tests skip when
the server cannot be reached, except under CI.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import uuid
from collections.abc import Awaitable, Callable
from urllib.parse import urlparse

import pytest

from deconfliction.bus import Bus, BusClosedError, InProcessBus, bus_for
from deconfliction.bus.nats import NatsBus
from deconfliction.settings import Settings

BusFactory = Callable[[], Bus]
NATS_URL = os.environ.get("DECONFLICTION_TEST_NATS_URL", "nats://127.0.0.1:4222")


def _nats_reachable() -> None:
    where = urlparse(NATS_URL)
    try:
        socket.create_connection((where.hostname or "127.0.0.1", where.port or 4222), 2).close()
    except OSError as exc:
        reason = (
            f"NATS at {NATS_URL} is not reachable ({exc}); start it or point "
            "$DECONFLICTION_TEST_NATS_URL at one"
        )
        if os.environ.get("CI"):
            pytest.fail(f"CI is set, so nats tests may not skip: {reason}", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(params=["in-process", pytest.param("nats", marks=pytest.mark.nats)])
def make_bus(request: pytest.FixtureRequest) -> BusFactory:
    """A factory of fresh buses of each kind (each test starts and closes its own)."""
    if request.param == "in-process":
        return lambda: InProcessBus()
    _nats_reachable()
    prefix = f"dcf-test-{uuid.uuid4().hex[:8]}"
    return lambda: NatsBus(NATS_URL, prefix=prefix)


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


def test_a_wake_up_that_says_how_far_the_events_go_spares_a_read(make_bus: BusFactory) -> None:
    """A stream that has events 1 to 5 from memory reads the store only for what a wake-up
    announced beyond them, or for what no wake-up announced (a plain one, a time-out)."""

    async def scenario(bus: Bus) -> None:
        async with bus.subscribe(1) as subscription:
            assert subscription.must_read(0)  # nothing read yet
            subscription.reading()
            assert not subscription.must_read(0)
            await asyncio.to_thread(bus.notify, {1: 5, 2: 9})
            assert await subscription.wait(5.0) is True
            assert subscription.must_read(4)
            assert not subscription.must_read(5)  # events 1-5 in hand: nothing to read
            bus.notify([1])  # how far: not said
            assert await subscription.wait(5.0) is True
            assert subscription.must_read(5)
            subscription.reading()
            assert not subscription.must_read(5)
            assert await subscription.wait(0.05) is False
            assert subscription.must_read(5)  # a wake-up may have been missed: read

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
        await bus.close()

    asyncio.run(subscribe_and_leave())
    bus.notify([9])  # nobody is subscribed, the loop is gone: nothing happens, nothing fails


def test_the_settings_pick_the_bus() -> None:
    assert isinstance(bus_for(Settings()), InProcessBus)
    assert isinstance(bus_for(Settings(nats_url=NATS_URL)), NatsBus)


@pytest.mark.nats
def test_a_commit_on_one_replica_wakes_the_streams_of_the_others() -> None:
    _nats_reachable()
    prefix = f"dcf-test-{uuid.uuid4().hex[:8]}"

    async def main() -> None:
        here, there = NatsBus(NATS_URL, prefix), NatsBus(NATS_URL, prefix)
        await here.start()
        await there.start()
        try:
            async with there.subscribe(3) as remote, here.subscribe(3) as local:
                threading.Thread(target=here.notify, args=([3],)).start()  # a worker thread
                assert await asyncio.wait_for(remote.wait(5.0), 10) is True
                assert await local.wait(5.0) is True  # its own streams, directly
                assert await local.wait(0.3) is False  # and not a second time by echo
                there.notify([3])
                assert await local.wait(5.0) is True
        finally:
            await here.close()
            await there.close()

    asyncio.run(main())


def test_a_nats_bus_that_cannot_connect_says_so() -> None:
    async def main() -> None:
        bus = NatsBus("nats://127.0.0.1:1")
        with pytest.raises(Exception, match=r"(?i)connect|refused|no servers"):
            await bus.start()
        bus.notify([1])  # before or without a connection: nothing, no error

    asyncio.run(main())

"""OVN and key semantics under concurrent writers, on each store backend: of writers
racing into one place with empty keys exactly one gets in, the others are told what
they missed; of writers updating one intent by the same OVN exactly one succeeds."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from deconfliction.clock import ManualClock
from deconfliction.errors import ConflictError, MissingEntitiesError
from deconfliction.f3548.dss import Dss, Reply
from deconfliction.f3548.records import INTENT
from deconfliction.notices.service import NoticeService
from deconfliction.parties import Registry
from deconfliction.settings import Settings
from deconfliction.store.database import Database
from tests.f3548.conftest import extent, intent

WRITERS = 6


@pytest.fixture
def dss(database: Database, clock: ManualClock) -> Dss:
    return Dss(database, clock, NoticeService(database, clock, Settings()), 86_400.0)


def _race(calls: list[Callable[[], Reply]]) -> list[Reply | Exception]:
    def run(call: Callable[[], Reply]) -> Reply | Exception:
        try:
            return call()
        except Exception as error:  # the outcome under test
            return error

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_racing_creations_with_empty_keys_let_exactly_one_in(dss: Dss, registry: Registry) -> None:
    parties = [registry.enrol_uss(f"uss{i}") for i in range(WRITERS)]
    ids = [str(uuid.uuid4()) for _ in parties]
    body = intent(extent(8.55, 47.45))
    outcomes = _race(
        [
            lambda p=p, i=i: dss.put(INTENT, p, i, None, body)  # type: ignore[misc]
            for p, i in zip(parties, ids, strict=True)
        ]
    )
    winners = [o for o in outcomes if isinstance(o, Reply)]
    losers = [o for o in outcomes if not isinstance(o, Reply)]
    assert len(winners) == 1
    assert all(isinstance(o, MissingEntitiesError) for o in losers), losers
    won: dict[str, Any] = winners[0].body["operational_intent_reference"]
    for loser in losers:
        assert isinstance(loser, MissingEntitiesError)
        assert [r["id"] for r in loser.detail["missing_operational_intents"]] == [won["id"]]
    stored = dss.query(INTENT, parties[0], "https://dss", {"area_of_interest": extent(8.55, 47.45)})
    assert [r["id"] for r in stored.body["operational_intent_references"]] == [won["id"]]


def test_racing_updates_by_one_ovn_let_exactly_one_succeed(dss: Dss, registry: Registry) -> None:
    uss = registry.enrol_uss("uss1")
    entity_id = str(uuid.uuid4())
    created = dss.put(INTENT, uss, entity_id, None, intent(extent(8.55, 47.45)))
    ovn = created.body["operational_intent_reference"]["ovn"]
    key = [ovn]
    bodies = [intent(extent(8.55, 47.45, 100 + 10 * n), key=key) for n in range(WRITERS)]
    outcomes = _race(
        [lambda b=b: dss.put(INTENT, uss, entity_id, ovn, b) for b in bodies]  # type: ignore[misc]
    )
    winners = [o for o in outcomes if isinstance(o, Reply)]
    assert len(winners) == 1
    assert all(isinstance(o, ConflictError) for o in outcomes if o not in winners)
    ref = winners[0].body["operational_intent_reference"]
    assert ref["version"] == 2
    assert ref["ovn"] != ovn
    current = dss.get(INTENT, "uss1", entity_id).body["operational_intent_reference"]
    assert (current["version"], current["ovn"]) == (2, ref["ovn"])

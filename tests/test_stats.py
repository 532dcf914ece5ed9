"""Statistics per party pair: the percentile against a brute-force definition, and the
figures of a scenario run in fast time on both backends."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deconfliction.agreements.service import AgreedDeadlines
from deconfliction.clock import ManualClock
from deconfliction.hotline.messages import MessageDraft, MessageService
from deconfliction.journal.receipts import ensure_service_key
from deconfliction.settings import Settings
from deconfliction.stats import PairStats, StatsService, percentile
from deconfliction.store.database import Database
from tests.agreements.scenario import EAST, FAR, WEST, World, draft, vol
from tests.conftest import MakeParty


@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=60),
    st.integers(1, 100),
)
def test_percentile_is_the_smallest_value_with_q_percent_at_or_below_it(
    values: list[float], q: int
) -> None:
    # brute force, in integers: at least q % of the n values are <= v
    qualifying = [v for v in values if 100 * sum(x <= v for x in values) >= q * len(values)]
    assert percentile(values, q) == min(qualifying)


def test_percentile_refuses_what_has_none() -> None:
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)
    with pytest.raises(ValueError, match="q must be"):
        percentile([1.0], 0)


@pytest.fixture
def world(database: Database, clock: ManualClock) -> World:
    return World(database, clock, Settings())


def _row(rows: list[PairStats], sender: str, recipient: str) -> PairStats:
    [row] = [r for r in rows if (r.sender, r.recipient) == (sender, recipient)]
    return row


def test_pair_statistics_of_a_scenario(world: World, make_party: MakeParty) -> None:
    alpha, bravo = make_party("Alpha")[0], make_party("Bravo")[0]
    charlie = make_party("Charlie")[0]
    world.agree(
        alpha,
        bravo,
        min_lead_time_s=3 * 3600,
        ack_deadline_s={"routine": 600, "flash": 600},
        ladder=[{"name": "duty officer", "deadline_s": 300}],
    )
    # Bravo's one notice, 5 h ahead; then Alpha's: 1 h (short, and meets it), 4 h and 6 h
    world.notices.file(bravo, draft(vol(EAST, 5, 7)))
    world.notices.file(alpha, draft(vol(WEST, 5, 6), vol(FAR, 1, 2)))
    world.notices.file(alpha, draft(vol(FAR, 4, 5)))
    world.notices.file(alpha, draft(vol(FAR, 6, 7)))
    world.notices.file(charlie, draft(vol(EAST, 6, 8)))  # meets Bravo's: Charlie -> Bravo
    [alpha_alert] = world.alerts.list_alerts(alpha)
    bravo_alerts = world.alerts.list_alerts(bravo)
    ours = next(a for a in bravo_alerts if a.conflict.counterpart == "Alpha")

    world.after(seconds=120)
    world.alerts.acknowledge(alpha, alpha_alert.id)  # 120 s
    world.after(seconds=730)  # 850 s: Bravo's alert climbed one tier at 600 s
    world.alerts.acknowledge(bravo, ours.id)

    ensure_service_key(world.db, world.clock)
    hotline = MessageService(world.db, world.clock, AgreedDeadlines(world.settings.ack_deadlines))
    for delay in (30, 90):
        sent = hotline.send(alpha, MessageDraft("say intentions", "Bravo")).message
        world.clock.advance(timedelta(seconds=delay))
        hotline.acknowledge(bravo, sent.id)

    rows = StatsService(world.db).pairs()
    a_to_b = _row(rows, "Alpha", "Bravo")
    assert (a_to_b.notices, a_to_b.short_notices) == (3, 1)
    assert (a_to_b.lead_time_min_s, a_to_b.lead_time_median_s) == (3600.0, 4 * 3600.0)
    assert (a_to_b.alerts_acknowledged, a_to_b.alert_ack_p50_s) == (1, 850.0)
    assert (a_to_b.messages_acknowledged, a_to_b.message_ack_p50_s) == (2, 30.0)
    assert a_to_b.message_ack_p95_s == 90.0
    assert (a_to_b.escalations, a_to_b.unacknowledged) == (1, 0)

    b_to_a = _row(rows, "Bravo", "Alpha")
    assert (b_to_a.notices, b_to_a.short_notices, b_to_a.lead_time_min_s) == (1, 0, 5 * 3600.0)
    assert (b_to_a.alert_ack_p50_s, b_to_a.alert_ack_p95_s) == (120.0, 120.0)
    assert (b_to_a.messages_acknowledged, b_to_a.message_ack_p50_s) == (0, None)

    c_to_b = _row(rows, "Charlie", "Bravo")  # no agreement: told through the conflict only
    assert (c_to_b.notices, c_to_b.lead_time_min_s) == (1, 6 * 3600.0)
    assert c_to_b.alerts_acknowledged == 0
    assert {(r.sender, r.recipient) for r in rows} == {
        ("Alpha", "Bravo"),
        ("Bravo", "Alpha"),
        ("Charlie", "Bravo"),
        ("Bravo", "Charlie"),
    }

    mine = StatsService(world.db).pairs(alpha)
    assert {(r.sender, r.recipient) for r in mine} == {("Alpha", "Bravo"), ("Bravo", "Alpha")}
    assert _row(mine, "Alpha", "Bravo") == a_to_b
    assert all(math.isfinite(r.lead_time_min_s or 0.0) for r in rows)

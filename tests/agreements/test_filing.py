"""Filing under agreements, on both backends: footprint limits, lead times, buffers per
pair, what each counterpart is told, and concurrent filings that never miss each other."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from deconfliction.core.volume import Buffers
from deconfliction.errors import ValidationError
from deconfliction.notices.model import FilingResult
from deconfliction.notices.service import NoticeService
from deconfliction.parties import PartyRef
from deconfliction.settings import Settings
from deconfliction.store.schema import Alert, Conflict, Notice
from tests.agreements.scenario import EAST, FAR, WEST, World, draft, vol
from tests.conftest import T0, MakeParty
from tests.zoo import box, east_of


def test_a_footprint_larger_than_an_agreement_allows_is_refused(
    world: World, make_party: MakeParty
) -> None:
    alpha, bravo = make_party("Alpha")[0], make_party("Bravo")[0]
    world.agree(alpha, bravo, max_footprint_area_m2=500e6)  # 500 km²; WEST is ~1,000 km²
    with pytest.raises(ValidationError) as caught:
        world.notices.file(alpha, draft(vol(FAR), vol(WEST)))
    message = caught.value.message
    assert "volumes[1]" in message
    assert "agreement of Alpha and Bravo (version 1)" in message
    assert "500.0 km²" in message
    assert caught.value.detail["limit_m2"] == 500e6
    with world.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Notice)) == 0
    assert world.notices.file(alpha, draft(vol(FAR))).notice.version == 1  # ~450 km²
    # the limit binds the other party of the agreement too, and no one else
    with pytest.raises(ValidationError):
        world.notices.file(bravo, draft(vol(WEST)))
    charlie = make_party("Charlie")[0]
    assert world.notices.file(charlie, draft(vol(WEST))).notice.version == 1


def test_a_late_notice_is_filed_flagged_short_and_its_counterpart_told_at_flash(
    world: World, make_party: MakeParty
) -> None:
    alpha, bravo, charlie = (make_party(n)[0] for n in ("Alpha", "Bravo", "Charlie"))
    world.agree(alpha, bravo, min_lead_time_s=3 * 3600, ack_deadline_s={"flash": 90})
    world.agree(alpha, charlie, min_lead_time_s=3600)
    world.notices.file(bravo, draft(vol(EAST)))
    filed = world.notices.file(alpha, draft(vol(WEST, start_h=2)))  # 2 h ahead

    assert filed.notice.short_notice
    assert filed.notice.lead_time_s == 2 * 3600.0
    [to_bravo] = world.events(bravo, "notice.filed")
    [to_charlie] = world.events(charlie, "notice.filed")
    assert (to_bravo["short_notice"], to_bravo["priority"]) == (True, "flash")
    assert (to_charlie["short_notice"], to_charlie["priority"]) == (False, "routine")
    for told in (to_bravo, to_charlie):
        assert told["notice"] == filed.notice.id
        assert told["party"] == "Alpha"
        assert told["lead_time_s"] == 7200.0
        assert told["start"] == (T0 + timedelta(hours=2)).isoformat()
        assert told["end"] == (T0 + timedelta(hours=4)).isoformat()
        assert "volumes" not in told  # overlap visibility: no plan
        assert "title" not in told
    # the conflict with Bravo is alerted at flash on both sides, with the flash deadline
    with world.db.read() as session:
        alerts = list(session.scalars(select(Alert)))
    assert {(a.priority, a.ack_deadline) for a in alerts} == {("flash", T0 + timedelta(seconds=90))}
    assert len(alerts) == 2
    assert [e["_party"] for e in world.journal("notice.filed")][-1] == "Alpha"
    assert world.journal("notice.filed")[-1]["short_notice"] is True


def test_enough_lead_time_and_no_agreement_change_nothing(
    world: World, make_party: MakeParty
) -> None:
    alpha, bravo, charlie = (make_party(n)[0] for n in ("Alpha", "Bravo", "Charlie"))
    world.agree(alpha, bravo, min_lead_time_s=3600)
    world.notices.file(charlie, draft(vol(EAST)))
    filed = world.notices.file(alpha, draft(vol(WEST)))
    assert not filed.notice.short_notice
    assert world.events(charlie, "notice.filed") == []  # need-to-know: only its alert
    [alert] = [e for e in world.events(charlie) if e["_kind"] == "alert.created"]
    assert alert["priority"] == "routine"
    assert alert["ack_deadline"] == (T0 + timedelta(seconds=3600)).isoformat()  # default


def test_full_visibility_delivers_the_volumes_and_title(
    world: World, make_party: MakeParty
) -> None:
    alpha, bravo = make_party("Alpha")[0], make_party("Bravo")[0]
    world.agree(alpha, bravo, visibility="full")
    filed = world.notices.file(alpha, draft(vol(FAR), title="tanker track"))
    [told] = world.events(bravo, "notice.filed")
    assert told["title"] == "tanker track"
    [v] = told["volumes"]
    assert v["geometry"] == _json(FAR.to_geojson())
    assert (v["lower_m"], v["upper_m"]) == (0.0, 3000.0)
    moved = world.notices.modify(alpha, filed.notice.id, 1, draft(vol(WEST)))
    [modified] = world.events(bravo, "notice.modified")
    assert (modified["version"], modified["volumes"][0]["geometry"]) == (
        2,
        _json(WEST.to_geojson()),
    )
    assert moved.notice.version == 2


def test_each_pair_is_checked_with_its_own_buffers(world: World, make_party: MakeParty) -> None:
    alpha, bravo, charlie = (make_party(n)[0] for n in ("Alpha", "Bravo", "Charlie"))
    world.agree(alpha, bravo, buffers={"horizontal_m": 5_000})
    lon, _ = east_of(8.4, 47.15, 2_000)  # 2 km east of WEST's east edge
    near = box(lon, 47.0, 0.2, 0.3)
    world.notices.file(bravo, draft(vol(near)))
    world.notices.file(charlie, draft(vol(near)))
    filed = world.notices.file(alpha, draft(vol(WEST)))
    assert [c.counterpart for c in filed.conflicts] == ["Bravo"]  # 2 km < Bravo's 5 km
    assert filed.conflicts[0].geometry["type"] == "LineString"  # met through the buffer


def _json(value: object) -> object:
    return json.loads(json.dumps(value))


def _race(
    service: NoticeService, parties: tuple[PartyRef, PartyRef], round_: int
) -> list[FilingResult]:
    """Two overlapping filings released at the same instant from two threads."""
    start = threading.Barrier(2)

    def file(party: PartyRef, west: float) -> FilingResult:
        start.wait()
        footprint = box(west + round_ * 0.01, 47.0, 0.4, 0.3)
        return service.file(party, draft(vol(footprint, 10 * round_ + 2, 10 * round_ + 4)))

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(file, parties, (8.0, 8.2)))


def _conflicts(world: World) -> int:
    with world.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Conflict)) or 0)


@pytest.mark.parametrize("agreed", [False, True], ids=["no-agreement", "agreement"])
def test_two_overlapping_filings_at_once_always_make_exactly_one_conflict(
    world: World, make_party: MakeParty, agreed: bool
) -> None:
    """Both filings run at once, each in its own thread and transaction; whatever the
    interleaving, the second to commit finds the first (a lock before the search)."""
    alpha, bravo = make_party("Alpha")[0], make_party("Bravo")[0]
    if agreed:
        world.agree(alpha, bravo, buffers={"horizontal_m": 1_000})
    service = NoticeService(world.db, world.clock, Settings(), Buffers())
    rounds = 8
    for round_ in range(rounds):
        results = _race(service, (alpha, bravo), round_)
        assert sum(len(r.conflicts) for r in results) == 1, f"round {round_}"
    assert _conflicts(world) == rounds

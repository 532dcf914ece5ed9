"""Agreements on both backends: set by an administrator, versioned, journaled, told to
both parties, and visible to no one else."""

from __future__ import annotations

import pytest

from deconfliction.agreements.terms import Terms
from deconfliction.errors import NotFoundError, ValidationError
from deconfliction.journal.verify import verify_database
from tests.agreements.scenario import World
from tests.conftest import MakeParty


def test_an_agreement_is_versioned_journaled_and_told_to_both_parties(
    world: World, make_party: MakeParty
) -> None:
    alpha, bravo = make_party("Alpha")[0], make_party("Bravo")[0]
    first = world.agreements.set("Bravo", "Alpha", Terms(min_lead_time_s=1800))
    assert (first.parties, first.version) == (("Alpha", "Bravo"), 1)  # lower id first
    second = world.agreements.set("Alpha", "Bravo", Terms(min_lead_time_s=3600))
    assert second.version == 2
    assert second.created_at == first.created_at

    for party in (alpha, bravo):
        events = world.events(party, "agreement.updated")
        assert [e["version"] for e in events] == [1, 2]
        assert events[-1]["terms"]["min_lead_time_s"] == 3600.0
        assert events[-1]["parties"] == ["Alpha", "Bravo"]
    entries = world.journal("agreement.updated")
    assert [(e["version"], e["terms"]["min_lead_time_s"]) for e in entries] == [
        (1, 1800.0),
        (2, 3600.0),
    ]
    assert verify_database(world.db).intact

    [seen_by_alpha] = world.agreements.of(alpha)
    assert seen_by_alpha.counterpart_of("Alpha") == "Bravo"
    assert world.agreements.between(bravo, "Alpha").terms.min_lead_time_s == 3600.0


def test_a_third_party_sees_no_agreement_of_others(world: World, make_party: MakeParty) -> None:
    make_party("Alpha")
    make_party("Bravo")
    charlie = make_party("Charlie")[0]
    world.agreements.set("Alpha", "Bravo", Terms())
    assert world.agreements.of(charlie) == []
    with pytest.raises(NotFoundError, match="no agreement with 'Bravo'"):
        world.agreements.between(charlie, "Bravo")
    assert world.events(charlie) == []
    assert [v.parties for v in world.agreements.all()] == [("Alpha", "Bravo")]


def test_bad_pairs_are_refused_and_change_nothing(world: World, make_party: MakeParty) -> None:
    alpha = make_party("Alpha")[0]
    with pytest.raises(NotFoundError, match="no party named 'Nobody'"):
        world.agreements.set("Alpha", "Nobody", Terms())
    with pytest.raises(ValidationError, match="two different parties"):
        world.agreements.set("Alpha", "Alpha", Terms())
    assert world.agreements.all() == []
    assert world.events(alpha) == []
    assert world.journal("agreement.updated") == []

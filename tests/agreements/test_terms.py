"""Terms: JSON in and out, defaults, and refusals that name the key and say what to do."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deconfliction.agreements.terms import (
    AckDeadlines,
    Disclosure,
    Priority,
    Terms,
    Tier,
    Visibility,
)
from deconfliction.core.footprint import DEFAULT_MAX_AREA_M2
from deconfliction.errors import ValidationError
from deconfliction.settings import Settings

seconds = st.floats(min_value=1e-3, max_value=1e7, allow_nan=False)
metres = st.floats(min_value=0.0, max_value=1e5, allow_nan=False)
names = st.text(st.characters(categories=["L", "N", "Zs"]), min_size=1, max_size=30).filter(
    lambda s: s.strip() == s and s.strip()
)

tiers = st.builds(
    lambda name, contacts, deadline: {"name": name, "contacts": contacts, "deadline_s": deadline},
    names,
    st.lists(names, max_size=3),
    seconds,
)

terms_json = st.fixed_dictionaries(
    {},
    optional={
        "min_lead_time_s": st.floats(min_value=0, max_value=1e6, allow_nan=False),
        "activation_requires_acknowledgment": st.booleans(),
        "authority_approval_required": st.booleans(),
        "buffers": st.fixed_dictionaries(
            {}, optional={"horizontal_m": metres, "vertical_m": metres}
        ),
        "separation": st.fixed_dictionaries(
            {}, optional={"rpz_m": seconds, "hpz_m": seconds, "lookahead_s": seconds}
        ),
        "ack_deadline_s": st.dictionaries(st.sampled_from([p.value for p in Priority]), seconds),
        "ladder": st.lists(tiers, max_size=4),
        "max_footprint_area_m2": st.floats(min_value=1.0, max_value=1e13, allow_nan=False),
        "visibility": st.sampled_from(["overlap", "full"]),
    },
)


@given(terms_json)
def test_terms_round_trip_through_json_and_keep_what_was_given(data: dict[str, Any]) -> None:
    terms = Terms.from_json(data)
    assert Terms.from_json(terms.to_json()) == terms
    out = terms.to_json()
    for key, value in data.items():
        if isinstance(value, dict):
            assert {k: out[key][k] for k in value} == pytest.approx(value)
        else:
            assert out[key] == (pytest.approx(value) if isinstance(value, float) else value)


def test_left_out_keys_take_the_defaults() -> None:
    terms = Terms.from_json({})
    assert terms == Terms()
    assert terms.min_lead_time_s == 0.0
    assert not terms.activation_requires_acknowledgment
    assert terms.ladder == ()
    assert terms.max_footprint_area_m2 == DEFAULT_MAX_AREA_M2
    assert terms.visibility is Visibility.OVERLAP
    assert terms.ack_deadlines == AckDeadlines(3600.0, 600.0, 120.0)
    only_flash = Terms.from_json({"ack_deadline_s": {"flash": 30}}).ack_deadlines
    assert (only_flash.for_priority("flash"), only_flash.for_priority("routine")) == (30.0, 3600.0)


BAD: list[tuple[str, Any, str]] = [
    (
        "negative routine deadline",
        {"ack_deadline_s": {"routine": -5}},
        "terms.ack_deadline_s.routine must be a positive number of seconds",
    ),
    (
        "zero flash deadline",
        {"ack_deadline_s": {"flash": 0}},
        "terms.ack_deadline_s.flash must be a positive",
    ),
    (
        "unknown priority",
        {"ack_deadline_s": {"sometimes": 60}},
        "'sometimes' is not a priority; use routine, urgent, flash",
    ),
    (
        "empty tier name",
        {"ladder": [{"name": "ops", "deadline_s": 60}, {"name": " ", "deadline_s": 60}]},
        "terms.ladder[1].name is empty",
    ),
    ("tier name missing", {"ladder": [{"deadline_s": 60}]}, "terms.ladder[0].name is empty"),
    (
        "negative tier deadline",
        {"ladder": [{"name": "ops", "deadline_s": -1}]},
        "terms.ladder[0].deadline_s must be a positive",
    ),
    (
        "empty contact",
        {"ladder": [{"name": "ops", "contacts": [""]}]},
        "terms.ladder[0].contacts[0] is empty",
    ),
    ("tier not an object", {"ladder": ["ops"]}, "terms.ladder[0]: must be a JSON object"),
    ("unknown tier key", {"ladder": [{"name": "ops", "phone": "1"}]}, "unknown key 'phone'"),
    (
        "negative lead time",
        {"min_lead_time_s": -60},
        "terms.min_lead_time_s must be zero or a positive",
    ),
    ("lead time as text", {"min_lead_time_s": "30 min"}, "terms.min_lead_time_s must be"),
    (
        "nan area",
        {"max_footprint_area_m2": float("nan")},
        "terms.max_footprint_area_m2 must be a positive",
    ),
    ("negative buffer", {"buffers": {"horizontal_m": -1}}, "terms.buffers: buffer horizontal_m"),
    (
        "zero look-ahead",
        {"separation": {"lookahead_s": 0}},
        "terms.separation.lookahead_s must be a positive",
    ),
    ("yes for a bool", {"activation_requires_acknowledgment": "yes"}, "must be true or false"),
    (
        "unknown visibility",
        {"visibility": "everything"},
        "terms.visibility 'everything' is not one of: overlap, full",
    ),
    ("typo in a key", {"min_lead_time": 60}, "terms has unknown key 'min_lead_time'"),
    ("not an object", [1, 2], "terms must be a JSON object"),
    ("eleven tiers", {"ladder": [{"name": f"t{i}"} for i in range(11)]}, "more than 10 tiers"),
]


@pytest.mark.parametrize(("name", "data", "words"), BAD, ids=[b[0] for b in BAD])
def test_invalid_terms_are_refused_naming_the_key(name: str, data: Any, words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Terms.from_json(data)
    assert words in caught.value.message


def test_terms_built_in_code_are_checked_too() -> None:
    with pytest.raises(ValidationError, match="deadline_s must be a positive"):
        Tier("duty officer", (), 0)
    with pytest.raises(ValidationError, match="urgent must be a positive"):
        AckDeadlines(urgent_s=-1)
    with pytest.raises(ValidationError, match="'asap' is not a priority"):
        AckDeadlines().for_priority("asap")
    assert Tier(" duty officer ", (" +1 555 0100 ",)).name == "duty officer"


def test_disclosure_is_named_within_an_agreement_and_full_is_visibility_full() -> None:
    assert Terms().disclosure == Disclosure.NAMED
    assert Terms.from_json({"visibility": "full"}).disclosure == Disclosure.FULL
    full = Terms.from_json({"disclosure": "full"})
    assert full.visibility == Visibility.FULL
    assert Terms.from_json(full.to_json()) == full
    anonymous = Terms.from_json({"disclosure": "anonymous"})
    assert anonymous.to_json()["disclosure"] == "anonymous"
    assert Terms.from_json(anonymous.to_json()) == anonymous


@pytest.mark.parametrize(
    ("terms", "message"),
    [
        ({"disclosure": "secret"}, "disclosure 'secret' is not one of: anonymous, named, full"),
        ({"disclosure": "named", "visibility": "full"}, "contradicts terms.visibility"),
        ({"disclosure": "anonymous", "visibility": "full"}, "contradicts terms.visibility"),
        (
            {"disclosure": "anonymous", "activation_requires_acknowledgment": True},
            "needs disclosure 'named' or 'full'",
        ),
    ],
)
def test_bad_disclosures_are_refused(terms: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        Terms.from_json(terms)


def test_the_deployment_default_is_anonymous_and_checked() -> None:
    assert Settings().disclosure == Disclosure.ANONYMOUS
    assert Settings.from_env({"DECONFLICTION_DISCLOSURE_DEFAULT": "named"}).disclosure == (
        Disclosure.NAMED
    )
    with pytest.raises(ValidationError, match="disclosure_default 'open' is not one of"):
        Settings(disclosure_default="open")

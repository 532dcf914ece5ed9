"""``deconfliction agreement`` and ``deconfliction stats``: an administrator's commands,
with one-line errors (exit 2) for unknown parties, oneself and invalid terms."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deconfliction.agreements.service import AgreementService
from deconfliction.cli.app import build
from deconfliction.clock import ManualClock
from deconfliction.store.database import Database
from tests.conftest import MakeParty


@pytest.fixture
def run(database_url: str, make_party: MakeParty) -> CliRunner:
    make_party("Alpha")
    make_party("Bravo", "authority")
    return CliRunner()


def _invoke(runner: CliRunner, url: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(build(), [*args, "-d", url], env={"COLUMNS": "200"})
    return result.exit_code, result.output


def test_set_from_a_file_then_flags_then_list_and_show(
    run: CliRunner, database_url: str, database: Database, clock: ManualClock, tmp_path: Path
) -> None:
    terms = tmp_path / "terms.json"
    terms.write_text(json.dumps({"min_lead_time_s": 1800, "visibility": "full"}))
    code, out = _invoke(
        run, database_url, "agreement", "set", "Alpha", "Bravo", "--terms", str(terms)
    )
    assert code == 0, out
    assert "agreement of Alpha and Bravo (version 1) set" in out
    code, out = _invoke(
        run,
        database_url,
        "agreement",
        "set",
        "Bravo",
        "Alpha",
        "--require-approval",
        "--ack-deadline",
        "flash=45",
        "--tier",
        "duty officer:300:+1 555 0100, ops@example.org",
        "--tier",
        "command:900",
    )
    assert code == 0, out
    view = AgreementService(database, clock).get("Alpha", "Bravo")
    assert view is not None
    t = view.terms
    assert view.version == 2
    assert (t.min_lead_time_s, t.visibility.value) == (1800.0, "full")  # kept
    assert t.authority_approval_required
    assert t.ack_deadlines.flash_s == 45.0
    assert [(x.name, x.contacts, x.deadline_s) for x in t.ladder] == [
        ("duty officer", ("+1 555 0100", "ops@example.org"), 300.0),
        ("command", (), 900.0),
    ]

    code, out = _invoke(run, database_url, "agreement", "list")
    assert code == 0
    assert "Alpha ↔ Bravo" in out
    assert "duty officer (300 s) → command (900 s)" in out
    code, out = _invoke(run, database_url, "agreement", "show", "Alpha", "Bravo")
    assert json.loads(out)["terms"] == t.to_json()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["Alpha", "Nobody"], "no party named 'Nobody'"),
        (["Alpha", "Alpha"], "two different parties"),
        (["Alpha", "Bravo", "--ack-deadline", "flash=-5"], "flash must be a positive"),
        (["Alpha", "Bravo", "--ack-deadline", "asap=5"], "'asap' is not a priority"),
        (["Alpha", "Bravo", "--tier", ":300"], "terms.ladder[0].name is empty"),
        (["Alpha", "Bravo", "--tier", "duty officer"], "NAME:DEADLINE_S"),
        (["Alpha", "Bravo", "--visibility", "all"], "'all' is not one of: overlap, full"),
    ],
)
def test_bad_agreements_exit_2_with_one_line_and_change_nothing(
    run: CliRunner,
    database_url: str,
    database: Database,
    clock: ManualClock,
    args: list[str],
    words: str,
) -> None:
    code, out = _invoke(run, database_url, "agreement", "set", *args)
    assert code == 2
    assert words in " ".join(out.split())
    assert "Traceback" not in out
    assert AgreementService(database, clock).all() == []


def test_a_terms_file_that_is_not_json_is_refused(
    run: CliRunner, database_url: str, tmp_path: Path
) -> None:
    bad = tmp_path / "terms.json"
    bad.write_text("{min_lead_time_s: 60")
    code, out = _invoke(
        run, database_url, "agreement", "set", "Alpha", "Bravo", "--terms", str(bad)
    )
    assert code == 2
    assert "is not valid JSON" in out


def test_stats_prints_every_pair(run: CliRunner, database_url: str) -> None:
    code, out = _invoke(run, database_url, "stats", "--json")
    assert (code, json.loads(out)) == (0, [])
    code, out = _invoke(run, database_url, "stats")
    assert code == 0
    assert "lead and response times per party pair" in out

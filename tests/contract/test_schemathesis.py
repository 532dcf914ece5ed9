"""Schemathesis against a real ``deconfliction serve``: the OpenAPI document is the whole
contract, and requests generated from it find no failure.

The server runs on SQLite on a free loopback port with two parties made by the CLI,
Alpha (operator, whose token the run uses) and Bravo (authority). Every phase runs
(examples, coverage, fuzzing, stateful) with every check and a fixed seed. Two values
no schema can hold are given to the generator as dictionaries: the counterpart's name
for a message's ``to`` (a dictionary), and a window ahead of the service's clock for
a schema-valid notice's volumes (``tests/contract/hooks.py``); the rest comes from the
schema alone. The run's HAR log must then show notices filed and
messages sent (2xx), so that a schema too loose to generate valid input fails here.

The server runs without a rate limit (429 would answer most of a run this fast; the
limit has tests of its own). Marked ``slow`` (a few minutes on two cores): ``.ci/run``
runs it as a step of its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.servers import free_port, served

pytestmark = pytest.mark.slow

SEED = 20261207
MAX_EXAMPLES = 40
MANY_EXAMPLES = 150  # filing and sending, which the run must show succeeding
MIN_FILED = 10
MIN_SENT = 10

# Besides 2xx, what a schema-valid request may get: 404 for ids and parties that do
# not exist, 409 for states, 403 for roles; and, on these operations only, 422 where the
# meaning of valid JSON is wrong in ways JSON Schema cannot say (a ring that is not
# closed or crosses itself, a band upside down, a window that ends before it starts, a
# message to yourself, a position beyond the end of your events or of the journal).
AS_BRAVO = [
    "/v1/messages/{message_id}/read",
    "/v1/messages/{message_id}/acknowledge",
    "/v1/notices/{notice_id}/acknowledge",
    "/v1/notices/{notice_id}/approve",
    "/v1/notices/{notice_id}/reject",
]
MEANING = [
    "/v1/notices",
    "/v1/notices/{notice_id}",
    "/v1/notices/{notice_id}/reject",
    "/v1/messages",
    "/v1/events",
    "/v1/journal/proofs/inclusion",
    "/v1/journal/proofs/consistency",
]
_CONFIG = """
workers = 2
request-timeout = 30
headers = { Authorization = "Bearer @ALPHA@" }

[generation]
max-examples = @MAX_EXAMPLES@

[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409", "429"]

[dictionaries]
counterpart = { values = ["Bravo"] }

[[operations]]
include-path = "/v1/messages"
include-method = "POST"
generation.max-examples = @MANY@
parameters = { "body.to" = { dictionary = "counterpart", probability = 0.9 } }

[[operations]]
include-path = ["/v1/notices", "/v1/notices/{notice_id}"]
include-method = ["POST", "PUT"]
generation.max-examples = @MANY@

# What the recipient of a message, or the counterpart of a notice, does: as Bravo.
[[operations]]
include-path = [@AS_BRAVO@]
headers = { Authorization = "Bearer @BRAVO@" }

# Meaning that JSON Schema cannot say: 422 for schema-valid input.
[[operations]]
include-path = [@MEANING@]
checks.positive_data_acceptance.expected-statuses = ["2xx", "403", "404", "409", "422", "429"]
"""


def _window(now: datetime) -> str:
    """A window from an hour ahead to a day later (``START,END``), for the hooks."""
    start = now + timedelta(hours=1)
    return f"{start.isoformat()},{(start + timedelta(days=1)).isoformat()}"


def _token(database: str, name: str, role: str) -> str:
    made = subprocess.run(
        [
            sys.executable,
            "-m",
            "deconfliction",
            "party",
            "add",
            name,
            "--role",
            role,
            "-d",
            database,
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return made.stdout.strip().splitlines()[-1]


def _statuses(har: Path) -> Counter[tuple[str, str, int]]:
    """(method, path, status) of every exchange the run logged."""
    entries = json.loads(har.read_text())["log"]["entries"]
    return Counter(
        (e["request"]["method"], urlsplit(e["request"]["url"]).path, e["response"]["status"])
        for e in entries
    )


def test_schemathesis_finds_no_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The rate limit has tests of its own; here it would answer most requests with 429.
    monkeypatch.setenv("DECONFLICTION_RATE_PER_S", "0")
    database = f"sqlite:///{tmp_path / 'fuzz.db'}"
    alpha = _token(database, "Alpha", "operator")
    bravo = _token(database, "Bravo", "authority")
    config = tmp_path / "schemathesis.toml"
    settings = {
        "@MAX_EXAMPLES@": str(MAX_EXAMPLES),
        "@MANY@": str(MANY_EXAMPLES),
        "@ALPHA@": alpha,
        "@BRAVO@": bravo,
        "@AS_BRAVO@": ", ".join(json.dumps(path) for path in AS_BRAVO),
        "@MEANING@": ", ".join(json.dumps(path) for path in MEANING),
    }
    text = _CONFIG
    for placeholder, value in settings.items():
        text = text.replace(placeholder, value)
    config.write_text(text)
    har = tmp_path / "run.har"
    port = free_port()
    st = Path(sysconfig.get_path("scripts")) / "st"
    with served(database, port):
        run = subprocess.run(
            [
                str(st),
                "--config-file",
                str(config),
                "--no-color",
                "run",
                f"http://127.0.0.1:{port}/openapi.json",
                "--checks",
                "all",
                "--seed",
                str(SEED),
                "--phases",
                "examples,coverage,fuzzing,stateful",
                "--include-path-regex",
                "^/v1/",
                "--report",
                "har",
                "--report-har-path",
                str(har),
            ],
            capture_output=True,
            text=True,
            cwd=tmp_path,  # its caches (crashes seen, examples) start empty each run
            env={
                **os.environ,
                "SCHEMATHESIS_TELEMETRY": "false",
                "SCHEMATHESIS_HOOKS": "tests.contract.hooks",
                "DECONFLICTION_FUZZ_WINDOW": _window(datetime.now(UTC)),
                "PYTHONPATH": str(Path(__file__).parents[2]),
            },
            check=False,
        )
    assert run.returncode == 0, run.stdout + run.stderr
    counts = _statuses(har)
    filed = sum(
        n for (m, p, s), n in counts.items() if (m, p) == ("POST", "/v1/notices") and s < 300
    )
    sent = sum(
        n for (m, p, s), n in counts.items() if (m, p) == ("POST", "/v1/messages") and s < 300
    )
    assert filed >= MIN_FILED, (filed, run.stdout[-5_000:])
    assert sent >= MIN_SENT, (sent, run.stdout[-5_000:])

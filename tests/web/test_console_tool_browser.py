"""The console as a duty officer's tool, in Chromium against the real server: writing and
replying on the hotline, deciding on notices with their deadline counting down, the
agreements and lead-time statistics per counterpart, and the journal slice checked with
the service's Ed25519 key in the browser. Effects are checked through the API."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from tests.web.cdp import Page
from tests.web.seeded import ZONE_BOX, Service, file_notice, polygon, sign_in, text, volume

pytestmark = pytest.mark.timeout(120)


def _inbox(service: Service, party: str) -> list[dict[str, Any]]:
    with service.api(party) as api:
        return list(api.get("/v1/messages", params={"box": "inbox"}).json())


def _choose(page: Page, selector: str, value: str) -> None:
    page.evaluate(
        f"(() => {{ const s = document.querySelector({json.dumps(selector)});"
        f" s.value = {json.dumps(value)}; s.dispatchEvent(new Event('change')); }})()"
    )


def test_a_message_composed_in_the_console_reaches_the_counterpart(
    page: Page, service: Service
) -> None:
    sign_in(page, service, "Alpha")
    page.wait_for("document.querySelector('#live').dataset.mode === 'stream'")
    words = "Alpha to Bravo: holding at FL090 over the lake, confirm"
    page.type("#compose-to", "Bravo")
    _choose(page, "#compose-priority", "urgent")
    page.type("#compose-text", words)
    page.click("#compose-form button[type=submit]")

    page.wait_for(
        "[...document.querySelectorAll('#sent li')].some(li =>"
        f" li.textContent.includes({json.dumps(words)}))"
    )
    assert page.evaluate("document.getElementById('compose-text').value") == ""
    got = next(m for m in _inbox(service, "Bravo") if m["text"] == words)
    assert (got["from"], got["priority"]) == ("Alpha", "urgent")

    # Bravo answers; the answer arrives live and Alpha replies to it in its thread
    with service.api("Bravo") as bravo:
        answer = bravo.post(
            "/v1/messages", json={"in_reply_to": got["id"], "text": "Bravo: copied, FL090"}
        ).json()
    item = f"#messages li[data-message={json.dumps(answer['id'])}]"
    page.wait_for(f"!!document.querySelector({json.dumps(item)})")
    page.click(f"{item} button.reply")
    assert page.evaluate("document.getElementById('compose-to').value") == "Bravo"
    assert "Replying to Bravo" in text(page, "#compose-reply")
    page.type("#compose-text", "Alpha: thanks, out")
    page.click("#compose-form button[type=submit]")

    page.wait_for("document.getElementById('compose-reply').hidden")
    reply = next(m for m in _inbox(service, "Bravo") if m["text"] == "Alpha: thanks, out")
    assert reply["in_reply_to"] == answer["id"]
    assert reply["thread_id"] == got["thread_id"]


def test_a_refused_message_shows_the_problem(page: Page, service: Service) -> None:
    sign_in(page, service, "Alpha")
    page.type("#compose-to", "Nobody")
    page.type("#compose-text", "hello?")
    page.click("#compose-form button[type=submit]")
    with service.api("Alpha") as api:
        refused = api.post("/v1/messages", json={"to": "Nobody", "text": "hello?"})
    assert refused.status_code == 404
    shown = page.wait_for("document.getElementById('compose-problem').textContent")
    assert shown == refused.json()["detail"]


def test_a_decision_asked_counts_down_and_is_made_in_the_console(
    page: Page, service: Service
) -> None:
    sign_in(page, service, "Alpha")
    page.wait_for("document.querySelector('#live').dataset.mode === 'stream'")
    start = service.start + timedelta(hours=1)
    filed = file_notice(
        service,
        "Charlie",
        "Charlie survey",
        volume(polygon(9.5, 46.4, 9.6, 46.5), start, 1),
    )
    notice = filed["notice"]["id"]
    item = f"#decisions li[data-notice={json.dumps(notice)}]"
    page.wait_for(f"!!document.querySelector({json.dumps(item + ' button.acknowledge')})")
    # Charlie's title is not Alpha's to see (their agreement shows the default, not all)
    assert text(page, f"{item} strong") == f"Charlie: {notice}"
    first = text(page, f"{item} time.countdown")
    assert first.endswith("left)")
    page.wait_for(
        f"document.querySelector({json.dumps(item + ' time.countdown')}).textContent"
        f" !== {json.dumps(first)}",
        timeout_s=5,
    )

    page.click(f"{item} button.acknowledge")

    page.wait_for(
        f"document.querySelector({json.dumps(item + ' .state')})?.textContent === 'acknowledged'"
    )
    with service.api("Charlie") as charlie:
        approvals = charlie.get(f"/v1/notices/{notice}").json()["approvals"]
    assert [(a["party"], a["state"]) for a in approvals] == [("Alpha", "acknowledged")]


def test_agreements_and_lead_times_per_counterpart(page: Page, service: Service) -> None:
    sign_in(page, service, "Alpha")
    row = "#pairs tr[data-counterpart='Charlie']"
    page.wait_for(f"!!document.querySelector({json.dumps(row)})")
    assert "acknowledgment before activation" in text(page, f"{row} td")
    with service.api("Alpha") as api:
        stats = api.get("/v1/stats").json()
    mine = next(r for r in stats if r["sender"] == "Alpha" and r["recipient"] == "Bravo")
    cells = page.evaluate(
        "[...document.querySelectorAll(\"#pairs tr[data-counterpart='Bravo'] td\")]"
        ".map(td => td.textContent)"
    )
    assert cells[0] == "none"  # no agreement between Alpha and Bravo
    assert cells[2].startswith(f"{mine['notices']} notice(s), {mine['short_notices']} short")


def test_the_journal_slice_is_verified_in_the_browser(page: Page, service: Service) -> None:
    sign_in(page, service, "Alpha")
    # The lists still loading above the button move it down the page; a click that
    # landed where it was is clicked again, as a person would (nothing started).
    for _ in range(3):
        page.click("#audit-load")
        try:
            page.wait_for("document.getElementById('audit-result').textContent", timeout_s=5)
            break
        except AssertionError:
            continue
    page.wait_for("document.getElementById('audit-result').dataset.verified", timeout_s=30)
    assert text(page, "#audit-problem") == ""
    assert page.evaluate("document.getElementById('audit-result').dataset.verified") == "true", (
        text(page, "#audit-result")
    )
    with service.api("Alpha") as api:
        exported = api.get("/v1/journal/export").json()
    assert exported["receipts"], "Alpha holds receipts (messages and alerts delivered)"
    said = text(page, "#audit-result")
    assert said.startswith("Verified in this browser")
    assert f"all {len(exported['receipts'])} receipt(s)" in said
    assert page.evaluate("document.getElementById('audit-download').hidden") is False

    # the same check, on a copy with one receipt's time moved, finds it out
    verdict = page.evaluate(
        """(async () => {
            const { audit } = await import("/console/audit.js");
            const token = sessionStorage.getItem("deconfliction.token");
            const headers = { Authorization: `Bearer ${token}` };
            const exported = await (await fetch("/v1/journal/export", { headers })).json();
            const key = (await (await fetch("/v1/journal/key", { headers })).json()).public_key;
            exported.receipts[0].body.at = "2000-01-01T00:00:00Z";
            return audit(exported, key);
        })()"""
    )
    assert verdict["ok"] is False
    assert "1 of" in verdict["summary"]


def test_an_authority_rejects_a_notice_in_its_zone_with_a_reason(
    page: Page, service: Service
) -> None:
    west, south, east, north = ZONE_BOX
    inside = polygon(west + 0.05, south + 0.05, east - 0.05, north - 0.05)
    filed = file_notice(service, "Charlie", "Charlie low pass", volume(inside, service.start, 1))
    notice = filed["notice"]["id"]
    sign_in(page, service, "Delta")
    item = f"#decisions li[data-notice={json.dumps(notice)}]"
    page.wait_for(f"!!document.querySelector({json.dumps(item + ' button.reject')})")
    assert "approval asked" in text(page, f"{item} .state")

    page.click(f"{item} button.reject")  # without a reason: the console asks for one
    assert page.wait_for("document.getElementById('decisions-problem').textContent").startswith(
        "Say why"
    )
    page.type(f"{item} input", "live firing in LSR99 all day")
    page.click(f"{item} button.reject")

    page.wait_for(
        f"document.querySelector({json.dumps(item + ' .state')})?.textContent === 'rejected'"
    )
    with service.api("Charlie") as charlie:
        approvals = charlie.get(f"/v1/notices/{notice}").json()["approvals"]
    delta = next(a for a in approvals if a["party"] == "Delta")
    assert (delta["kind"], delta["state"], delta["reason"]) == (
        "approval",
        "rejected",
        "live firing in LSR99 all day",
    )

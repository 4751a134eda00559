"""A teammate answers a customer by hand while a reply draft waits in the review channel."""

from __future__ import annotations

import asyncio

from tests.e2e.helpers import decisions, finals, review_draft
from tests.support.harness import Harness, button_values, text_of

NOTE = "answered the customer by hand"


async def _customer_asked(h: Harness) -> tuple[str, str, dict]:
    """Carol's message in the shared channel, its review thread and finished draft."""
    assert h.slack is not None
    ts = await h.slack.post("acme-shared", "carol", "We were charged twice in November")
    draft = await h.slack.wait_for(lambda: review_draft(h))
    return ts, draft["thread_ts"], draft


async def _notes(h: Harness, thread: str) -> list[dict]:
    assert h.slack is not None
    return [m for m in await h.slack.messages("C0REVIEWS", thread_ts=thread)
            if NOTE in text_of(m)]


async def test_a_teammates_answer_in_the_customers_thread_is_shown_to_the_drafts_reviewers(
        tandem: Harness) -> None:
    slack = tandem.slack
    assert slack is not None
    ts, thread, draft = await _customer_asked(tandem)
    await slack.post("acme-shared", "bob", "Hi <!here>, refunded the second charge just now.",
                     thread_ts=ts)

    (note,) = await slack.wait_for(lambda: _notes(tandem, thread))
    said = text_of(note)
    assert "<@U0BOB>" in said and "refunded the second charge just now." in said
    assert "<!here>" not in said  # quoting bob pings nobody
    assert "/archives/C0ACME/" in said  # a link to bob's reply
    # The reviewers still decide: the draft keeps its buttons and nothing was recorded.
    now = next(m for m in await slack.messages("C0REVIEWS", thread_ts=thread)
               if m["ts"] == draft["ts"])
    assert "tandem_approve" in button_values(now)
    assert decisions(tandem) == []


async def test_a_redelivered_hand_reply_is_noted_once(tandem: Harness) -> None:
    slack, sandbox = tandem.slack, tandem.sandbox
    assert slack is not None and sandbox is not None
    ts, thread, _draft = await _customer_asked(tandem)
    reply = await slack.post("acme-shared", "bob", "Refunded it.", thread_ts=ts)
    await slack.wait_for(lambda: _notes(tandem, thread))
    event = next(d for d in await slack.deliveries()
                 if d.get("payload", {}).get("event", {}).get("ts") == reply)
    for _ in range(2):
        assert (await sandbox.deliver("events_api", event["payload"])).acked
    await asyncio.sleep(0.5)
    assert len(await _notes(tandem, thread)) == 1


async def test_a_teammates_message_after_the_reply_was_decided_adds_no_note(
        tandem: Harness) -> None:
    slack = tandem.slack
    assert slack is not None
    ts, thread, draft = await _customer_asked(tandem)
    await slack.click("bob", "tandem_approve", channel="C0REVIEWS", ts=draft["ts"])
    await slack.wait_for(lambda: finals(tandem, "C0ACME", ts))
    await slack.post("acme-shared", "bob", "Let us know if anything else comes up.",
                     thread_ts=ts)
    # A customer's follow-up is drafted anew; the teammate's message before it is no note.
    await slack.post("acme-shared", "carol", "Thanks! And the receipt?", thread_ts=ts)
    await slack.wait_for(lambda: review_draft(tandem, after=draft["ts"]))
    assert await _notes(tandem, thread) == []


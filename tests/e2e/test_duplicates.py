"""Redeliveries, double clicks and racing reviewers end in one decision and one post."""

from __future__ import annotations

import asyncio

from tests.e2e.helpers import decisions, finals, requests, wait_text
from tests.support.harness import Harness


async def test_double_click_approve_posts_once(tandem: Harness) -> None:
    slack = tandem.slack
    assert slack is not None
    ts = await slack.post("general", "alice", "<@U0BOT> write the weekly update")
    draft = await tandem.wait_draft("C0GENERAL", ts)
    await asyncio.gather(*(slack.click("bob", "tandem_approve", channel="C0GENERAL",
                                       ts=draft["ts"]) for _ in range(2)))
    await slack.wait_for(lambda: finals(tandem, "C0GENERAL", ts))
    await wait_text(tandem, "C0GENERAL", ts, "already approved", as_user="U0BOB")
    assert len(await finals(tandem, "C0GENERAL", ts)) == 1
    assert len(decisions(tandem)) == 1


async def test_racing_reviewers_button_and_reaction_end_in_one_decision(tandem: Harness) -> None:
    slack = tandem.slack
    assert slack is not None
    ts = await slack.post("general", "alice", "<@U0BOT> write the weekly update")
    draft = await tandem.wait_draft("C0GENERAL", ts)
    await asyncio.gather(
        slack.click("bob", "tandem_approve", channel="C0GENERAL", ts=draft["ts"]),
        slack.react("C0GENERAL", draft["ts"], "alice", "x"),
        slack.click("alice", "tandem_approve", channel="C0GENERAL", ts=draft["ts"]),
    )
    await asyncio.sleep(1.0)
    (decision,) = decisions(tandem)
    expected_posts = 1 if decision.verdict == "approved" else 0
    assert len(await finals(tandem, "C0GENERAL", ts)) == expected_posts


async def test_slack_redelivery_of_a_mention_drafts_once(tandem: Harness) -> None:
    slack, sandbox = tandem.slack, tandem.sandbox
    assert slack is not None and sandbox is not None
    ts = await slack.post("general", "alice", "<@U0BOT> write the weekly update")
    await tandem.wait_draft("C0GENERAL", ts)
    mention = next(d for d in await slack.deliveries()
                   if d.get("payload", {}).get("event", {}).get("type") == "app_mention")
    # Slack redelivers the same event_id when it thinks an ack was lost.
    for _ in range(2):
        result = await sandbox.deliver("events_api", mention["payload"])
        assert result.acked
    await asyncio.sleep(0.5)
    assert len(requests(tandem)) == 1
    bot_msgs = [m for m in await slack.messages("C0GENERAL", thread_ts=ts) if m.get("bot_id")]
    assert len(bot_msgs) == 1

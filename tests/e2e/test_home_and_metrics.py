"""App Home and the Prometheus endpoint."""

from __future__ import annotations

import aiohttp
import pytest

from tests.e2e.helpers import finals
from tests.support.harness import Harness, _free_port


async def test_app_home_shows_waiting_draft_recent_decision_and_rates(tandem: Harness) -> None:
    slack = tandem.slack
    assert slack is not None
    ts = await slack.post("general", "alice", "<@U0BOT> write the weekly update")
    draft = await tandem.wait_draft("C0GENERAL", ts)
    await slack.home("bob")
    home = await slack.wait_for(lambda: slack.home_view("bob"))
    assert "Waiting for your review" in str(home) and "document for <@U0ALICE>" in str(home)
    await slack.click("bob", "tandem_approve", channel="C0GENERAL", ts=draft["ts"])
    await slack.wait_for(lambda: finals(tandem, "C0GENERAL", ts))
    await slack.home("bob")

    async def updated() -> dict | None:
        view = await slack.home_view("bob")
        return view if view and "100% approved" in str(view) else None

    view = await slack.wait_for(updated)
    assert "Nothing is waiting for you" in str(view) and "approved · document" in str(view)


@pytest.mark.harness(settings_overrides={"tandem_metrics_port": _free_port()})
async def test_metrics_endpoint_exports_acks_drafts_and_llm_timings(tandem: Harness) -> None:
    slack = tandem.slack
    assert slack is not None and tandem.bot is not None
    ts = await slack.post("general", "alice", "<@U0BOT> write the weekly update")
    await tandem.wait_draft("C0GENERAL", ts)
    port = tandem.bot.services.settings.tandem_metrics_port
    async with aiohttp.ClientSession() as session, \
            session.get(f"http://127.0.0.1:{port}/metrics") as resp:
        body = await resp.text()
    assert 'tandem_drafts_total{job="document",outcome="ready"} 1.0' in body
    assert "tandem_slack_ack_seconds_count" in body
    assert "tandem_llm_time_to_first_token_seconds_count" in body

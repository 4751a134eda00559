"""Every way to ask: mentions (both transports), DMs, the shortcut, the slash command."""

from __future__ import annotations

import pytest

from tests.e2e.helpers import decisions, finals, requests, wait_text
from tests.support.fake_llm import FakeLLM
from tests.support.harness import Harness, button_values, text_of


@pytest.mark.harness(mode="http")
async def test_http_mode_mention_draft_and_approve(tandem: Harness) -> None:
    slack = tandem.slack
    assert slack is not None
    ts = await slack.post("general", "alice", "<@U0BOT> write the launch announcement")
    draft = await tandem.wait_draft("C0GENERAL", ts)
    await slack.click("bob", "tandem_approve", channel="C0GENERAL", ts=draft["ts"])
    await slack.wait_for(lambda: finals(tandem, "C0GENERAL", ts))
    assert decisions(tandem)[0].verdict == "approved"
    deliveries = await slack.deliveries()
    assert deliveries and all("envelope_id" not in d for d in deliveries)  # real HTTP posts


async def test_dm_to_bot_drafts_in_thread_with_assistant_status(tandem: Harness) -> None:
    slack = tandem.slack
    assert slack is not None
    ts = await slack.post("dm:alice", "alice", "what is our on-call escalation policy?")
    draft = await tandem.wait_draft("D0ALICE", ts)
    assert "tandem_approve" in button_values(draft)
    statuses = [c["args"].get("status") for c in await slack.calls("assistant.threads.setStatus")]
    assert statuses[0] and statuses[-1] == ""  # shown at once, cleared when done
    (request,) = requests(tandem)
    assert request.trigger == "dm" and request.job == "question"


async def test_message_shortcut_drafts_support_reply_for_that_message(tandem: Harness) -> None:
    slack = tandem.slack
    assert slack is not None
    ts = await slack.post("acme-shared", "carol", "Hi, where is our export file?")
    # carol's own message already triggers an automatic support draft; use a fresh channel
    await slack.wait_for(lambda: _n_requests(tandem, 1))
    general_ts = await slack.post("general", "bob", "Customer asked: where is our export?")
    await slack.shortcut("alice", "tandem_draft_reply", channel="C0GENERAL", ts=general_ts)
    draft = await tandem.wait_draft("C0GENERAL", general_ts)
    assert "customer reply" in text_of(draft)
    shortcut_request = [r for r in requests(tandem) if r.trigger == "shortcut"][0]
    assert shortcut_request.job == "support" and shortcut_request.user_id == "U0ALICE"
    assert shortcut_request.route_reason == "the “Draft a reply with Tandem” shortcut"
    assert ts


async def _n_requests(h: Harness, n: int) -> bool:
    return len(requests(h)) >= n


async def test_slash_command_with_subcommand_forces_the_job(tandem: Harness) -> None:
    slack = tandem.slack
    assert slack is not None
    await slack.command("general", "alice", "/tandem", "ask write me a poem about Mondays")
    await slack.wait_for(lambda: _n_requests(tandem, 1))
    (request,) = requests(tandem)
    assert request.job == "question" and request.route_source == "explicit"
    anchor = await wait_text(tandem, "C0GENERAL", None, "asked Tandem")
    draft = await tandem.wait_draft("C0GENERAL", anchor["ts"])
    # The reason names the word the person typed, not the job it maps to.
    assert "routed: asked for by name (“ask”)" in text_of(draft)


async def test_empty_slash_command_answers_with_help(tandem: Harness) -> None:
    slack = tandem.slack
    assert slack is not None
    await slack.command("general", "alice", "/tandem", "")
    await wait_text(tandem, "C0GENERAL", None, "Tell me what to draft", as_user="U0ALICE")
    assert requests(tandem) == []


async def test_help_by_command_or_mention_answers_with_the_usage_not_a_draft(
        tandem: Harness) -> None:
    slack = tandem.slack
    assert slack is not None
    await slack.command("general", "alice", "/tandem", "help")
    await wait_text(tandem, "C0GENERAL", None, "Tell me what to draft", as_user="U0ALICE")
    ts = await slack.post("general", "bob", "<@U0BOT> help?")
    await wait_text(tandem, "C0GENERAL", ts, "Tell me what to draft")
    # Before, each became a draft of "help", and the command left an "asked Tandem: help"
    # message in the channel.
    assert requests(tandem) == []
    assert [m for m in await slack.messages("C0GENERAL") if "asked Tandem" in text_of(m)] == []
    # "help" as the text of a job named by its word is that job's ask.
    await slack.command("general", "alice", "/tandem", "doc help")
    draft = await wait_text(tandem, "C0GENERAL", None, "asked Tandem: help")
    await tandem.wait_draft("C0GENERAL", draft["ts"])
    assert [(r.job, r.text) for r in requests(tandem)] == [("document", "help")]


async def test_thread_context_reaches_the_model(tandem: Harness, fake_llm: FakeLLM) -> None:
    slack = tandem.slack
    assert slack is not None
    root = await slack.post("general", "bob", "Release 2.3 ships the new exporter and SSO.")
    await slack.post("general", "bob", "Also: dark mode is delayed to 2.4", thread_ts=root)
    await slack.post("general", "alice", "<@U0BOT> write the release announcement from the "
                     "notes above", thread_ts=root)
    await tandem.wait_draft("C0GENERAL", root)
    seen = "\n".join(str(m["content"]) for m in fake_llm.requests[-1]["messages"])
    assert "new exporter and SSO" in seen and "dark mode is delayed" in seen
    assert fake_llm.requests[-1]["messages"][0]["role"] == "system"
    # The thread travels as a routing key, so a vLLM router keeps its prefix cache warm.
    assert fake_llm.headers[-1]["X-Tandem-Thread"] == f"T0TANDEM:C0GENERAL:{root}"


async def test_reroute_button_redrafts_as_another_job(tandem: Harness) -> None:
    slack = tandem.slack
    assert slack is not None
    ts = await slack.post("general", "alice", "<@U0BOT> write the launch announcement")
    draft = await tandem.wait_draft("C0GENERAL", ts)
    assert requests(tandem)[0].job == "document"
    await slack.click("alice", "tandem_reroute_question", channel="C0GENERAL", ts=draft["ts"])
    second = await slack.wait_for(lambda: _draft_with(tandem, ts, "*answer*"))
    assert second["ts"] != draft["ts"]
    (request,) = requests(tandem)
    assert request.job == "question" and request.route_source == "person"


async def _draft_with(h: Harness, ts: str, needle: str) -> dict | None:
    assert h.slack is not None
    for m in await h.slack.messages("C0GENERAL", thread_ts=ts):
        if "tandem_approve" in button_values(m) and needle in text_of(m):
            return m
    return None

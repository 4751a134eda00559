"""Failure paths: every ask gets a visible answer, and Retry works once the cause is gone."""

from __future__ import annotations

import sqlite3

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.drafting.split import MESSAGE_LIMIT, split_text
from bot.settings import LLMTimeouts
from tests.e2e.helpers import decisions, drafts, finals, wait_text
from tests.support.fake_llm import FakeLLM
from tests.support.harness import Harness, button_values, text_of


@pytest.mark.parametrize("mode,what", [
    ("error500", "HTTP 500"),
    ("refuse", "unreachable"),
    ("cut", "cut off"),
])
async def test_llm_failure_shows_what_failed_with_retry_then_retry_drafts(
        tandem: Harness, fake_llm: FakeLLM, mode: str, what: str) -> None:
    slack = tandem.slack
    assert slack is not None
    if mode == "cut":
        fake_llm.reply = lambda _body: " ".join(f"token{i}" for i in range(40))
    await fake_llm.set_mode(mode)
    ts = await slack.post("general", "alice", "<@U0BOT> write the weekly update")
    failed = await wait_text(tandem, "C0GENERAL", ts, "Drafting failed", timeout=5)
    assert what in text_of(failed)
    assert "tandem_retry" in button_values(failed)
    assert [d.status for d in drafts(tandem)] == ["failed"]
    await fake_llm.set_mode("ok")
    fake_llm.reply = lambda _body: "The weekly update, second try."
    await slack.click("bob", "tandem_retry", channel="C0GENERAL", ts=failed["ts"])
    draft = await wait_text(tandem, "C0GENERAL", ts, "second try")
    await slack.wait_for(lambda: _has_approve(tandem, ts, draft["ts"]))
    assert [d.status for d in drafts(tandem)] == ["superseded", "pending_review"]


async def _has_approve(h: Harness, thread: str, ts: str) -> bool:
    assert h.slack is not None
    return any(m["ts"] == ts and "tandem_approve" in button_values(m)
               for m in await h.slack.messages("C0GENERAL", thread_ts=thread))


@pytest.mark.harness(settings_overrides={"llm_timeouts": LLMTimeouts(first_token=1.0)})
async def test_llm_that_never_answers_times_out_visibly_within_5s(tandem: Harness,
                                                                 fake_llm: FakeLLM) -> None:
    slack = tandem.slack
    assert slack is not None
    await fake_llm.set_mode("hang")
    ts = await slack.post("general", "alice", "<@U0BOT> write the weekly update")
    failed = await wait_text(tandem, "C0GENERAL", ts, "Drafting failed", timeout=5)
    assert "too long" in text_of(failed)
    await fake_llm.set_mode("ok")


async def test_restart_mid_draft_marks_it_failed_with_retry(tandem: Harness,
                                                            fake_llm: FakeLLM) -> None:
    slack = tandem.slack
    assert slack is not None
    fake_llm.token_delay = 0.5
    fake_llm.reply = lambda _body: " ".join(f"slow{i}" for i in range(60))
    ts = await slack.post("general", "alice", "<@U0BOT> write the weekly update")
    await wait_text(tandem, "C0GENERAL", ts, "slow1")  # streaming has begun
    await tandem.restart_bot()
    failed = await wait_text(tandem, "C0GENERAL", ts, "restarted")
    assert "tandem_retry" in button_values(failed)
    fake_llm.token_delay = 0.0
    fake_llm.reply = lambda _body: "Fresh draft after the restart."
    await slack.click("bob", "tandem_retry", channel="C0GENERAL", ts=failed["ts"])
    await wait_text(tandem, "C0GENERAL", ts, "Fresh draft after the restart")


async def test_approval_survives_restart_and_posts_once(tandem: Harness) -> None:
    slack = tandem.slack
    assert slack is not None
    ts = await slack.post("general", "alice", "<@U0BOT> write the weekly update")
    draft = await tandem.wait_draft("C0GENERAL", ts)
    await slack.click("bob", "tandem_approve", channel="C0GENERAL", ts=draft["ts"])
    await slack.wait_for(lambda: _final_count(tandem, ts, 1))
    await tandem.restart_bot()
    assert await _final_count(tandem, ts, 1)  # not re-posted on start


async def test_final_post_made_just_before_a_stop_is_found_not_posted_again(
        tandem: Harness) -> None:
    slack = tandem.slack
    assert slack is not None and tandem.bot is not None
    ts = await slack.post("general", "alice", "<@U0BOT> write the weekly update")
    draft = await tandem.wait_draft("C0GENERAL", ts)
    await slack.click("bob", "tandem_approve", channel="C0GENERAL", ts=draft["ts"])
    await slack.wait_for(lambda: _final_count(tandem, ts, 1))
    await tandem.bot.stop()
    # The stop came between chat.postMessage and the record of where the post went.
    _forget_where_the_final_post_went(tandem)
    await tandem.start_bot()
    assert await _final_count(tandem, ts, 1)
    assert _recorded_final_ts(tandem) is not None


async def test_a_long_final_post_cut_short_by_a_stop_is_completed_not_repeated(
        tandem: Harness, fake_llm: FakeLLM) -> None:
    slack = tandem.slack
    assert slack is not None and tandem.bot is not None and tandem.sandbox is not None
    # Long, and no loop (`bot.drafting.loops` would cut one).
    long_draft = "Section one. " + " ".join(f"milestone{i:03d}-reached" for i in range(250))
    fake_llm.reply = lambda _body: long_draft
    ts = await slack.post("general", "alice", "<@U0BOT> write the weekly update")
    draft = await tandem.wait_draft("C0GENERAL", ts)
    # The reviewer's edit makes the final text longer than one Slack message.
    await slack.click("bob", "tandem_edit", channel="C0GENERAL", ts=draft["ts"])
    modal = (await slack.wait_for(lambda: slack.views("bob")))[-1]
    halves = ["First half. " + "steady progress " * 180, "Second half. " + "on track " * 300]
    await slack.submit(modal["id"], "bob", {
        f"edit_part_{i}": {"text": {"type": "plain_text_input", "value": half}}
        for i, half in enumerate(halves)})
    # The decision is recorded before its final post goes out.
    await slack.wait_for(lambda: _final_count(tandem, ts, 2))
    (decision,) = decisions(tandem)
    parts = split_text(decision.final_text or "", MESSAGE_LIMIT)
    assert len(parts) == 2
    first, *rest = await finals(tandem, "C0GENERAL", ts)
    await tandem.bot.stop()
    # The stop came after the first part was posted: the rest never went out.
    client = AsyncWebClient(token="xoxb-sandbox", base_url=tandem.sandbox.api_url)
    for message in rest:
        await client.chat_delete(channel="C0GENERAL", ts=message["ts"])
    _forget_where_the_final_post_went(tandem)
    await tandem.start_bot()
    await slack.wait_for(lambda: _final_count(tandem, ts, len(parts)))
    posted = await finals(tandem, "C0GENERAL", ts)
    assert posted[0]["ts"] == first["ts"]
    assert [m["text"] for m in posted] == parts
    assert _recorded_final_ts(tandem) == first["ts"]


def _forget_where_the_final_post_went(h: Harness) -> None:
    """What a stop between chat.postMessage and its record leaves in the database."""
    with sqlite3.connect(h.tmp / "tandem.sqlite") as db:
        assert db.execute("UPDATE decision SET final_ts = NULL").rowcount == 1


def _recorded_final_ts(h: Harness) -> str | None:
    with sqlite3.connect(h.tmp / "tandem.sqlite") as db:
        ts: str | None = db.execute("SELECT final_ts FROM decision").fetchone()[0]
    return ts


async def _final_count(h: Harness, ts: str, n: int) -> bool:
    return len(await finals(h, "C0GENERAL", ts)) == n

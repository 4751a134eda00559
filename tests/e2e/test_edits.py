"""Editing the message that asked: the open draft is drafted again from the new text."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from tests.e2e.helpers import drafts, requests, wait_verdict
from tests.support.fake_llm import FakeLLM
from tests.support.harness import Harness, text_of


@pytest.fixture(autouse=True)
def _echo(fake_llm: FakeLLM) -> None:
    """The fake model drafts the release notes its ask names."""
    def reply(body: dict[str, Any]) -> str:
        asked = str(body["messages"][-1]["content"])
        return f"Here are the {re.findall(r'release notes for [0-9.]+', asked)[-1]}."
    fake_llm.reply = reply


async def _draft_saying(h: Harness, ts: str, needle: str) -> dict[str, Any]:
    assert h.slack is not None

    async def found() -> dict[str, Any] | None:
        draft = await h.wait_draft("C0GENERAL", ts, timeout=30)
        return draft if needle in text_of(draft) else None

    return await h.slack.wait_for(found, timeout=30)


async def test_editing_the_ask_redrafts_from_the_new_text_and_supersedes_the_old_draft(
        tandem: Harness, fake_llm: FakeLLM) -> None:
    slack = tandem.slack
    assert slack is not None
    ts = await slack.post("general", "alice", "<@U0BOT> write the release notes for 2.3")
    first = await _draft_saying(tandem, ts, "release notes for 2.3")
    await slack.edit("general", ts, "alice", "<@U0BOT> write the release notes for 2.4")
    second = await _draft_saying(tandem, ts, "release notes for 2.4")
    assert second["ts"] != first["ts"]
    await wait_verdict(tandem, "C0GENERAL", ts, first["ts"], "Replaced at")
    old_message = [m for m in await slack.messages("C0GENERAL", thread_ts=ts)
                   if m["ts"] == first["ts"]]
    assert "the request was edited" in text_of(old_message[0])
    (request,) = requests(tandem)
    assert request.text == "write the release notes for 2.4"
    old, new = sorted(drafts(tandem), key=lambda d: d.version)
    assert old.status == "superseded" and new.status == "pending_review"
    # Each version keeps the ask its model saw.
    assert "2.3" in str(old.messages[-1]["content"]) and "2.4" in str(new.messages[-1]["content"])
    assert "2.4" in str(fake_llm.requests[-1]["messages"][-1]["content"])


async def test_an_edit_that_leaves_the_text_as_it_was_redrafts_nothing(
        tandem: Harness) -> None:
    slack = tandem.slack
    assert slack is not None
    ts = await slack.post("general", "alice", "<@U0BOT> write the release notes for 2.3")
    await _draft_saying(tandem, ts, "release notes for 2.3")
    # Slack sends message_changed when a link unfurls under a message: same text.
    await slack.edit("general", ts, "alice", "<@U0BOT> write the release notes for 2.3")
    await slack.edit("general", ts, "alice", "<@U0BOT> write the release notes for 2.5")
    await _draft_saying(tandem, ts, "release notes for 2.5")
    assert sorted(d.version for d in drafts(tandem)) == [1, 2]


async def test_an_edit_after_the_draft_was_approved_changes_nothing_and_says_so(
        tandem: Harness) -> None:
    slack = tandem.slack
    assert slack is not None
    ts = await slack.post("general", "alice", "<@U0BOT> write the release notes for 2.3")
    draft = await _draft_saying(tandem, ts, "release notes for 2.3")
    await slack.click("bob", "tandem_approve", channel="C0GENERAL", ts=draft["ts"])
    await wait_verdict(tandem, "C0GENERAL", ts, draft["ts"], "Approved by <@U0BOB>")
    await slack.edit("general", ts, "alice", "<@U0BOT> write the release notes for 2.4")

    async def told() -> list[dict[str, Any]]:
        return [m for m in await slack.messages("C0GENERAL", thread_ts=ts, as_user="U0ALICE")
                if m.get("ephemeral_for") == "U0ALICE" and "I saw your edit" in m["text"]]

    (note,) = await slack.wait_for(told, timeout=10)
    assert "already approved and posted" in note["text"]
    # Only alice sees it, and the approved draft stands alone.
    assert not [m for m in await slack.messages("C0GENERAL", thread_ts=ts, as_user="U0BOB")
                if "I saw your edit" in m["text"]]
    assert [d.status for d in drafts(tandem)] == ["approved"]


async def test_an_edit_while_the_draft_is_being_written_stops_it_and_drafts_the_new_text(
        tandem: Harness, fake_llm: FakeLLM) -> None:
    slack = tandem.slack
    assert slack is not None
    fake_llm.token_delay = 0.3
    ts = await slack.post("general", "alice", "<@U0BOT> write the release notes for 2.3")

    async def writing() -> bool:
        return [d.status for d in drafts(tandem)] == ["generating"]

    await slack.wait_for(writing, timeout=10)
    await slack.edit("general", ts, "alice", "<@U0BOT> write the release notes for 2.6")
    await _draft_saying(tandem, ts, "release notes for 2.6")
    statuses = {d.version: d.status for d in drafts(tandem)}
    assert statuses == {1: "superseded", 2: "pending_review"}
    # The first stream was left, not read to its end.
    assert await fake_llm.wait_dropped() >= 0


@pytest.mark.parametrize(("first", "edited"), [
    # Slack sends no app_mention for an edit that adds one: the edit is the ask.
    ("write the release notes for 2.3", "<@U0BOT> write the release notes for 2.3"),
    # Edited at once, before the first text's app_mention was taken: the new text wins.
    ("<@U0BOT> write the release notes for 2.3", "<@U0BOT> write the release notes for 2.7"),
    # A bare mention got the help text; the edit says what to draft.
    ("<@U0BOT>", "<@U0BOT> write the release notes for 2.8"),
], ids=["adds_a_mention", "before_the_ask_was_taken", "after_a_bare_mention"])
async def test_an_edit_of_a_message_not_yet_asked_for_is_what_gets_drafted(
        tandem: Harness, first: str, edited: str) -> None:
    slack = tandem.slack
    assert slack is not None
    ts = await slack.post("general", "alice", first)
    await slack.edit("general", ts, "alice", edited)
    wanted = edited.removeprefix("<@U0BOT> ")
    await _draft_saying(tandem, ts, wanted.removeprefix("write the "))
    (request,) = requests(tandem)
    assert request.text == wanted and request.message_ts == ts and request.trigger == "mention"


async def test_an_edit_waits_for_its_ask_however_long_taking_it_lasts(
        tandem: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    slack = tandem.slack
    assert slack is not None and tandem.bot is not None
    # The edit alone would give up on its ask after 0.1 s; taking the ask lasts 1.5 s
    # (its routing queued behind other drafts at the model, as under load).
    monkeypatch.setattr("bot.drafting.service.EDIT_WAIT_TRIES", 2)
    monkeypatch.setattr("bot.drafting.service.EDIT_WAIT_STEP", 0.05)
    router = tandem.bot.services.router
    decide = router.decide

    async def slow_decide(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(1.5)
        return await decide(*args, **kwargs)

    monkeypatch.setattr(router, "decide", slow_decide)
    ts = await slack.post("general", "alice", "<@U0BOT> write the release notes for 2.3")

    async def taking() -> bool:
        return bool(tandem.bot.services.drafting._taking)

    await slack.wait_for(taking, timeout=10)
    await slack.edit("general", ts, "alice", "<@U0BOT> write the release notes for 2.9")
    await _draft_saying(tandem, ts, "release notes for 2.9")
    (request,) = requests(tandem)
    assert request.text == "write the release notes for 2.9"


async def _release_notes_drafted(h: Harness, fake_llm: FakeLLM) -> tuple[str, dict[str, Any]]:
    """alice asks for release notes, routed as a document: (her message's ts, its draft).
    The fake model answers a question prompt with " an answer."."""
    assert h.slack is not None
    fake_llm.reply = lambda body: " an answer." if "Question:" in str(
        body["messages"]) else "Here are the release notes."
    ts = await h.slack.post("general", "alice", "<@U0BOT> write the release notes for 2.3")
    return ts, await _draft_saying(h, ts, "Here are the release notes.")


async def test_an_ask_edited_into_another_job_is_drafted_as_that_job(
        tandem: Harness, fake_llm: FakeLLM) -> None:
    slack = tandem.slack
    assert slack is not None
    ts, first = await _release_notes_drafted(tandem, fake_llm)
    await slack.edit("general", ts, "alice",
                     "<@U0BOT> what is our on-call escalation policy?")
    second = await _draft_saying(tandem, ts, "an answer.")
    await wait_verdict(tandem, "C0GENERAL", ts, first["ts"], "Replaced at")
    (request,) = requests(tandem)
    assert request.job == "question" and request.route_source in ("classifier", "llm")
    assert f"routed: {request.route_reason}" in text_of(second)
    old, new = sorted(drafts(tandem), key=lambda d: d.version)
    assert (old.job, old.status, new.job) == ("document", "superseded", "question")


async def test_an_edit_keeps_the_job_a_person_chose_for_the_ask(
        tandem: Harness, fake_llm: FakeLLM) -> None:
    slack = tandem.slack
    assert slack is not None
    ts, first = await _release_notes_drafted(tandem, fake_llm)
    await slack.click("alice", "tandem_reroute_question", channel="C0GENERAL", ts=first["ts"])
    second = await _draft_saying(tandem, ts, "an answer.")
    # Reads as a document to routing; alice said it is a question, and it stays one.
    await slack.edit("general", ts, "alice", "<@U0BOT> write the release notes for 2.4")
    await wait_verdict(tandem, "C0GENERAL", ts, second["ts"], "Replaced at")
    (request,) = requests(tandem)
    assert request.job == "question" and request.route_source == "person"
    assert [d.job for d in sorted(drafts(tandem), key=lambda d: d.version)] == \
        ["document", "question", "question"]

"""The core loop through the sandbox: mention → draft → review → final post → record."""

from __future__ import annotations

from tests.e2e.helpers import decisions, drafts, wait_verdict
from tests.support.fake_llm import FakeLLM
from tests.support.harness import Harness, button_values, text_of


async def test_mention_streams_draft_and_approve_posts_final(tandem: Harness) -> None:
    slack = tandem.slack
    assert slack is not None
    ts = await slack.post("general", "alice", "<@U0BOT> write a short announcement about the "
                          "new coffee machine")
    draft = await tandem.wait_draft("C0GENERAL", ts)
    assert "Here is a short draft" in text_of(draft)
    assert "Draft" in text_of(draft)
    assert await slack.calls("chat.startStream"), "the draft should have been streamed"
    # Nothing final yet: only the draft is in the thread.
    assert [m for m in await tandem.thread("C0GENERAL", ts) if m.get("bot_id")] == [draft]
    await slack.click("bob", "tandem_approve", channel="C0GENERAL", ts=draft["ts"])

    async def final_posted() -> list[dict]:
        msgs = await tandem.thread("C0GENERAL", ts)
        return [m for m in msgs if m.get("bot_id") and not button_values(m)
                and m["ts"] != draft["ts"] and "Here is a short draft" in (m.get("text") or "")]

    finals = await slack.wait_for(final_posted)
    assert len(finals) == 1
    async def verdict_shown() -> dict | None:
        msgs = await tandem.thread("C0GENERAL", ts)
        updated = [m for m in msgs if m["ts"] == draft["ts"]][0]
        return updated if "Approved by <@U0BOB>" in text_of(updated) else None

    updated = await slack.wait_for(verdict_shown)
    assert "tandem_approve" not in button_values(updated)
    (decision,) = decisions(tandem)
    assert decision.verdict == "approved" and decision.reviewer_id == "U0BOB"
    assert decision.job == "document" and decision.model == "fake-model"
    assert decision.final_text and decision.final_ts == finals[0]["ts"]



async def test_a_draft_that_loops_is_cut_after_its_first_copy_and_says_so(
        tandem: Harness, fake_llm: FakeLLM) -> None:
    slack = tandem.slack
    assert slack is not None and tandem.bot is not None
    # What the packaged model wrote, asked about deploys: one line to its token limit.
    opening = "Deploys on Fridays need an exception:\n#deploys\n"
    fake_llm.reply = lambda _body: opening + "#security\n" * 200
    fake_llm.token_delay = 0.01
    ts = await slack.post("general", "alice", "<@U0BOT> write a note on Friday deploys")
    draft = await tandem.wait_draft("C0GENERAL", ts, timeout=60)
    assert str(draft["blocks"]).count("#security") == 1
    assert "cut where the model began repeating itself" in text_of(draft)
    # The generation was stopped soon after the loop was plain, not at its token limit.
    assert await fake_llm.wait_dropped() < 60  # of 207
    (record,) = drafts(tandem)
    assert record.text == opening + "#security"
    assert record.usage["cut"] == "repetition"
    assert tandem.bot.services.metrics.registry.get_sample_value(
        "tandem_drafts_flagged_total", {"job": "document", "flag": "repetition"}) == 1
    # Decided, the draft still says it was cut.
    await slack.click("bob", "tandem_approve", channel="C0GENERAL", ts=draft["ts"])
    decided = await wait_verdict(tandem, "C0GENERAL", ts, draft["ts"], "Approved by <@U0BOB>")
    assert "cut where the model began repeating itself" in text_of(decided)


async def test_a_draft_that_drifts_into_a_script_no_one_used_is_cut_there_and_says_so(
        tandem: Harness, fake_llm: FakeLLM) -> None:
    slack = tandem.slack
    assert slack is not None and tandem.bot is not None
    # What the packaged model wrote, asked in English: a line, a junk word streamed on
    # its own, then an invented dialogue.
    kept = "Deploys on Fridays need an exception from the engineering manager."
    fake_llm.reply = lambda _body: kept + " yerine 我可以\n mennesu\n" + "Thank you.我可以\n" * 100
    fake_llm.token_delay = 0.01
    ts = await slack.post("general", "alice", "<@U0BOT> write a note on Friday deploys")
    draft = await tandem.wait_draft("C0GENERAL", ts, timeout=60)
    assert "我" not in str(draft["blocks"]) and "yerine" not in str(draft["blocks"])
    assert "switched to a script no one in the conversation writes in" in text_of(draft)
    assert await fake_llm.wait_dropped() < 60  # of 213: the stream was stopped there
    (record,) = drafts(tandem)
    assert record.text == kept and record.usage["cut"] == "script"
    assert tandem.bot.services.metrics.registry.get_sample_value(
        "tandem_drafts_flagged_total", {"job": "document", "flag": "script"}) == 1


async def test_a_streamed_draft_ends_without_the_lines_echoing_its_prompts_frame(
        tandem: Harness, fake_llm: FakeLLM) -> None:
    slack = tandem.slack
    assert slack is not None
    kept = "Deploys on Fridays need an exception from the engineering manager."
    fake_llm.reply = lambda _body: kept + "\n\nConversation sofar:\n(none)\n"
    fake_llm.token_delay = 0.01
    ts = await slack.post("general", "alice", "<@U0BOT> write a note on Friday deploys")
    draft = await tandem.wait_draft("C0GENERAL", ts, timeout=60)
    # What was streamed of the echo is taken back from the message too.
    assert "sofar" not in str(draft["blocks"]) and "(none)" not in str(draft["blocks"])
    assert kept in text_of(draft)
    (record,) = drafts(tandem)
    assert record.text == kept and record.usage["echo_chars"] == 28


async def test_a_draft_stopped_at_the_length_limit_drops_its_unfinished_sentence_and_says_so(
        tandem: Harness, fake_llm: FakeLLM) -> None:
    slack = tandem.slack
    assert slack is not None and tandem.bot is not None
    # More words than the document prompt's max_tokens: the fake stops there, "length".
    fake_llm.reply = lambda _body: " ".join(
        f"Milestone {i} ships on day {i} of the quarter, e.g. after review." for i in range(400))
    ts = await slack.post("general", "alice", "<@U0BOT> write the quarter's milestone plan")
    draft = await tandem.wait_draft("C0GENERAL", ts, timeout=60)
    assert "stopped at the model's length limit" in text_of(draft)
    (record,) = drafts(tandem)
    assert record.usage["cut"] == "length"
    # It ends on a whole sentence, where the model had written a part of one more.
    assert record.text.startswith("Milestone 0 ships") and record.text.endswith("after review.")
    assert tandem.bot.services.metrics.registry.get_sample_value(
        "tandem_drafts_flagged_total", {"job": "document", "flag": "length"}) == 1

"""Support visibility and the reviewer policy, end to end."""

from __future__ import annotations

import asyncio

import pytest

from bot.settings import ChannelPolicy
from bot.tuning.rows import DecisionRecord, examples_for_decision, rows_for
from tests.e2e.helpers import (
    decisions,
    drafts,
    finals,
    requests,
    review_draft,
    wait_posted,
    wait_text,
)
from tests.support.fake_llm import FakeLLM
from tests.support.harness import Harness, button_values, text_of


async def test_customer_message_in_shared_channel_drafts_in_review_channel_only(
        tandem: Harness) -> None:
    slack = tandem.slack
    assert slack is not None
    ts = await slack.post("acme-shared", "carol", "My invoice for October is wrong, please fix")
    draft = await slack.wait_for(lambda: review_draft(tandem))
    assert "customer" in text_of(draft).lower()
    # Never where the customer can see it: carol's channel holds only her own message.
    shared = await slack.messages("C0ACME", thread_ts=ts, as_user="U0CAROL")
    assert [m for m in shared if m.get("bot_id")] == []
    (request,) = requests(tandem)
    assert request.job == "support" and request.author == "external"
    # The reason shown to reviewers is where it came from, not a request carol never made.
    assert request.route_reason == "external customer in a support channel"
    assert "external customer in a support channel" in text_of(draft)
    assert request.review_channel_id == "C0REVIEWS"
    await slack.click("bob", "tandem_approve", channel="C0REVIEWS", ts=draft["ts"])
    posted = await slack.wait_for(lambda: finals(tandem, "C0ACME", ts))
    assert len(posted) == 1 and posted[0]["thread_ts"] == ts
    # The draft itself never reached the shared channel, even after approval.
    assert all("*Draft*" not in text_of(m) for m in await slack.messages("C0ACME", thread_ts=ts))


async def test_a_customers_help_in_a_shared_channel_is_drafted_a_reply_not_told_the_usage(
        tandem: Harness) -> None:
    slack = tandem.slack
    assert slack is not None
    await slack.post("acme-shared", "carol", "help")
    await slack.wait_for(lambda: review_draft(tandem))
    (request,) = requests(tandem)
    assert (request.job, request.author, request.text) == ("support", "external", "help")


async def test_a_reply_starts_with_the_prompts_opening_in_the_customers_language(
        tandem: Harness, fake_llm: FakeLLM) -> None:
    slack = tandem.slack
    assert slack is not None
    fake_llm.reply = lambda _body: " prüfen Ihre Rechnung und melden uns heute."
    ts = await slack.post("acme-shared", "carol",
                          "Meine Rechnung für Oktober ist falsch, bitte korrigieren Sie das")
    draft = await slack.wait_for(lambda: review_draft(tandem))
    # The model was asked to go on from the German opening, as its own turn.
    body = fake_llm.requests[-1]
    assert body["messages"][-1] == {"role": "assistant",
                                    "content": "Hallo, danke für Ihre Nachricht. Wir"}
    assert body["continue_final_message"] is True and body["add_generation_prompt"] is False
    reply = "Hallo, danke für Ihre Nachricht. Wir prüfen Ihre Rechnung und melden uns heute."
    (record,) = drafts(tandem)
    assert record.text == reply and reply in text_of(draft)
    await slack.click("bob", "tandem_approve", channel="C0REVIEWS", ts=draft["ts"])
    (posted,) = await slack.wait_for(lambda: finals(tandem, "C0ACME", ts))
    assert posted["text"] == reply
    # A dataset's prompt side is what was asked; the opening is part of the completion.
    ((_job, row),) = rows_for(examples_for_decision(decision_record(tandem)), "sft")
    assert row["messages"][-2]["role"] == "user"
    assert row["messages"][-1] == {"role": "assistant", "content": reply}
    # … and the row says how the model's turn began, for training to render it the same.
    assert row["opening"] == "Hallo, danke für Ihre Nachricht. Wir"


async def test_a_customer_writing_in_russian_gets_a_reply_opened_in_russian_not_english(
        tandem: Harness, fake_llm: FakeLLM) -> None:
    slack = tandem.slack
    assert slack is not None
    fake_llm.reply = lambda _body: " проверим деплои и ответим в течение часа."
    await slack.post("acme-shared", "carol",
                     "Здравствуйте! Наши деплои падают с утра, ошибка 502. Можете помочь?")
    draft = await slack.wait_for(lambda: review_draft(tandem))
    # Opened in English, the model went on in English (seen live before the fix).
    assert fake_llm.requests[-1]["messages"][-1] == {
        "role": "assistant", "content": "Здравствуйте, спасибо, что написали нам. Мы"}
    reply = "Здравствуйте, спасибо, что написали нам. Мы проверим деплои и ответим в течение часа."
    (record,) = drafts(tandem)
    assert record.text == reply and reply in text_of(draft)


@pytest.mark.parametrize(("tail", "gone", "echo_chars"), [
    # The stop "\nCustomer message:" does not catch the frame written a little off: the
    # drafting drops those lines (`bot.drafting.echo`).
    ("\n(none)\n\ncustomer email (not yet received):\n((no))", ["(none)", "customer email"],
     50),
    # Live, the packaged model wrote the template's next turn in lower case and a whole
    # made-up customer message after it: the prompt's lower-case stop ends it there.
    ("\n\ncustomer message: My phone number has been called by another user and i am "
     "unable to respond.", ["phone number"], None),
])
async def test_what_a_reply_writes_after_it_in_the_prompts_frame_is_left_out_of_the_draft(
        tandem: Harness, fake_llm: FakeLLM, tail: str, gone: list[str],
        echo_chars: int | None) -> None:
    slack = tandem.slack
    assert slack is not None
    fake_llm.reply = lambda _body: " will resend the invoice today." + tail
    await slack.post("acme-shared", "carol", "My invoice shows the wrong VAT number")
    draft = await slack.wait_for(lambda: review_draft(tandem))
    (record,) = drafts(tandem)
    assert record.text == "Hi, thanks for reaching out to us. We will resend the invoice today."
    assert record.usage.get("echo_chars") == echo_chars
    assert not [words for words in gone if words in str(draft["blocks"])]


async def _flagged_then_approved(tandem: Harness, ask: str, warning: str,
                                 flag: str) -> tuple[dict, dict]:
    """Carol asks; the draft in #reviews shows `warning` and counts as `flag`; approved,
    it keeps the warning beside the verdict. Returns the draft and what Carol got."""
    slack = tandem.slack
    assert slack is not None and tandem.bot is not None
    ts = await slack.post("acme-shared", "carol", ask)
    draft = await slack.wait_for(lambda: review_draft(tandem))
    assert warning in text_of(draft)
    assert tandem.bot.services.metrics.registry.get_sample_value(
        "tandem_drafts_flagged_total", {"job": "support", "flag": flag}) == 1
    await slack.click("bob", "tandem_approve", channel="C0REVIEWS", ts=draft["ts"])
    decided = await slack.wait_for(
        lambda: _shows_verdict(tandem, draft["ts"], "Approved by <@U0BOB>"))
    assert warning in text_of(decided)
    (posted,) = await slack.wait_for(lambda: finals(tandem, "C0ACME", ts))
    return draft, posted


async def test_a_reply_giving_an_address_or_number_no_one_gave_is_flagged_to_the_reviewer(
        tandem: Harness, fake_llm: FakeLLM) -> None:
    slack = tandem.slack
    assert slack is not None and tandem.bot is not None
    # The customer's own address is given; the model's support address and phone are not
    # (the packaged model made one up for a customer in the sandbox).
    fake_llm.reply = lambda _body: (" will write to carol@acme.test today. You can also "
                                    "email customer service@thrivetech.com or call "
                                    "+1 (555) 010-0199.")
    warning = ("*gives contact details it was not given*: `service@thrivetech.com`, "
               "`+1 (555) 010-0199`: in none of the conversation, the request or the "
               "sources; check them before approving")
    draft, posted = await _flagged_then_approved(
        tandem, "My invoice is wrong. I'm at Carol@acme.test", warning, "invented_contact")
    assert "`carol@acme.test`" not in text_of(draft)
    assert "not given" not in text_of(posted)
    # A reply with only the customer's own address is not flagged.
    fake_llm.reply = lambda _body: " will write to carol@acme.test today."
    await slack.post("acme-shared", "carol", "Still waiting on that invoice, carol@acme.test")
    second = await slack.wait_for(lambda: review_draft(tandem, after=draft["ts"]))
    assert "not given" not in text_of(second)


async def test_a_reply_slipping_in_words_of_another_language_is_flagged_to_the_reviewer(
        tandem: Harness, fake_llm: FakeLLM) -> None:
    slack = tandem.slack
    assert slack is not None and tandem.bot is not None
    # What the packaged model wrote to a customer, live: two Indonesian words in English.
    fake_llm.reply = lambda _body: (" will check your account. If there were no errors on "
                                    "our end, we will refund the mendatang pembelian.")
    warning = ("*has words in another language*: `mendatang`, `pembelian`: in none of the "
               "conversation, the request or the sources; check them before approving")
    draft, posted = await _flagged_then_approved(
        tandem, "I was charged twice for my order", warning, "foreign_words")
    assert "another language" not in text_of(posted)
    # A customer's own word in her language, repeated in the reply, is hers.
    fake_llm.reply = lambda _body: " are glad the treinamento helped, Carol."
    await slack.post("acme-shared", "carol", "Thanks, the treinamento was great")
    second = await slack.wait_for(lambda: review_draft(tandem, after=draft["ts"]))
    assert "We are glad the treinamento helped" in text_of(second)
    assert "another language" not in text_of(second)


async def test_a_reply_stating_figures_no_one_gave_is_flagged_to_the_reviewer(
        tandem: Harness, fake_llm: FakeLLM) -> None:
    slack = tandem.slack
    assert slack is not None and tandem.bot is not None
    # What the packaged model wrote in customer replies: an order number, a deadline and
    # an amount of its own. The customer's order number is hers.
    fake_llm.reply = lambda _body: (" found order 5521 and order 106352984. A corrected "
                                    "invoice follows within 3 business days, with $250 "
                                    "credited.")
    warning = ("*gives figures it was not given*: `106352984`, `3`, `$250`: in none of the "
               "conversation, the request or the sources; check them before approving")
    draft, posted = await _flagged_then_approved(
        tandem, "The invoice for order 5521 is wrong", warning, "invented_figure")
    assert "`5521`" not in text_of(draft)
    assert "not given" not in text_of(posted) and "$250" in text_of(posted)


async def test_a_reply_promising_a_refund_no_one_on_the_team_offered_is_flagged_to_the_reviewer(
        tandem: Harness, fake_llm: FakeLLM) -> None:
    slack = tandem.slack
    assert slack is not None and tandem.bot is not None
    # What the packaged model wrote when asked about returns: a refund of its own.
    fake_llm.reply = lambda _body: (" will refund all returned swimwear within a week. "
                                    "We cannot refund worn items.")
    warning = ("*promises what no one on the team offered*: `refund`: in none of the "
               "request, the sources or the prompt; check the team offers it before approving")
    draft, posted = await _flagged_then_approved(
        tandem, "what's your return policy on swimwear?", warning, "unoffered_promise")
    assert "offered" not in text_of(posted) and "will refund" in text_of(posted)
    # A customer asking for one does not offer it ...
    await slack.post("acme-shared", "carol", "Can I get a refund for my swimsuit?")
    second = await slack.wait_for(lambda: review_draft(tandem, after=draft["ts"]))
    assert warning in text_of(second)
    # ... a teammate asking for the reply in her thread does.
    ts = await slack.post("acme-shared", "alice", "<@U0BOT> tell her we refund swimwear "
                          "returned unworn", thread_ts=posted["thread_ts"])
    third = await slack.wait_for(lambda: review_draft(tandem, after=second["ts"]))
    (request,) = [r for r in requests(tandem) if r.message_ts == ts]
    assert request.job == "support" and request.author == "member"
    assert "offered" not in text_of(third)
    assert tandem.bot.services.metrics.registry.get_sample_value(
        "tandem_drafts_flagged_total", {"job": "support", "flag": "unoffered_promise"}) == 2


@pytest.mark.harness(channels={"support": ChannelPolicy(auto_post=["support"])})
async def test_a_reply_promising_a_refund_waits_for_review_where_replies_post_unreviewed(
        tandem: Harness, fake_llm: FakeLLM) -> None:
    slack = tandem.slack
    assert slack is not None
    fake_llm.reply = lambda _body: " will refund the swimsuit today."
    ts = await slack.post("support", "alice", "<@U0BOT> reply: what's your return policy "
                          "on swimwear?")
    held = await tandem.wait_draft("C0SUPPORT", ts, timeout=60)
    assert "held for review" in text_of(held)
    assert "but this one promises what no one on the team offered" in text_of(held)
    assert await finals(tandem, "C0SUPPORT", ts) == []
    # Where the teammate offered it, the reply posts.
    ts = await slack.post("support", "alice", "<@U0BOT> reply: yes, we refund unworn "
                          "swimwear")
    posted = await wait_posted(tandem, "C0SUPPORT", ts)
    assert "will refund" in text_of(posted) and "held for review" not in text_of(posted)


async def test_a_reply_that_starts_over_after_signing_off_ends_at_its_sign_off(
        tandem: Harness, fake_llm: FakeLLM) -> None:
    slack = tandem.slack
    assert slack is not None and tandem.bot is not None
    # What a learning-loop adapter wrote for 1 of 20 held-out questions: its reply, the
    # sign-off it had learnt, then the prompt's opening again and a second reply.
    fake_llm.reply = lambda _body: (" will correct the invoice today.\n\n— The Tandem team. "
                                    "Hi, thanks for reaching out to us. We are sorry about "
                                    "the invoice and " + "will check it again " * 40)
    fake_llm.token_delay = 0.01
    ts = await slack.post("acme-shared", "carol", "My invoice is wrong")
    draft = await slack.wait_for(lambda: review_draft(tandem), timeout=30)
    (record,) = drafts(tandem)
    assert record.text == ("Hi, thanks for reaching out to us. We will correct the invoice "
                           "today.\n\n— The Tandem team.")
    assert record.usage["cut"] == "restart"
    assert "cut where the model wrote its opening again" in text_of(draft)
    assert "check it again" not in text_of(draft)
    # The stream was dropped there, not run to the model's limit.
    assert await fake_llm.wait_dropped() < 100  # of 184
    assert tandem.bot.services.metrics.registry.get_sample_value(
        "tandem_drafts_flagged_total", {"job": "support", "flag": "restart"}) == 1
    # Approved, the customer gets the one reply.
    await slack.click("bob", "tandem_approve", channel="C0REVIEWS", ts=draft["ts"])
    (posted,) = await slack.wait_for(lambda: finals(tandem, "C0ACME", ts))
    assert text_of(posted).count("thanks for reaching out") == 1


@pytest.mark.harness(settings_overrides={"contacts": ["billing@tandem-team.test",
                                                      "https://status.tandem-team.test"]})
async def test_the_teams_own_contacts_from_its_config_are_given_to_every_draft(
        tandem: Harness, fake_llm: FakeLLM) -> None:
    slack = tandem.slack
    assert slack is not None
    fake_llm.reply = lambda _body: (" will fix it. Write to Billing@tandem-team.test, see "
                                    "https://status.tandem-team.test/ or mail x@other.test.")
    await slack.post("acme-shared", "carol", "My invoice is wrong")
    draft = await slack.wait_for(lambda: review_draft(tandem))
    assert "*gives contact details it was not given*: `x@other.test`: in none" \
        in text_of(draft)


def decision_record(h: Harness) -> DecisionRecord:
    (decision,) = decisions(h)
    (draft,) = drafts(h)
    return DecisionRecord(verdict=decision.verdict, job=draft.job, messages=draft.messages,
                          draft_text=draft.text or "", final_text=decision.final_text)


async def _shows_verdict(h: Harness, ts: str, verdict: str) -> dict | None:
    """The review channel's message `ts` once it shows `verdict`."""
    assert h.slack is not None
    for top in await h.slack.messages("C0REVIEWS"):
        for m in await h.slack.messages("C0REVIEWS", thread_ts=top["ts"]):
            if m["ts"] == ts and verdict in text_of(m):
                return m
    return None


async def test_external_user_cannot_review_and_nothing_changes(tandem: Harness) -> None:
    slack = tandem.slack
    assert slack is not None
    ts = await slack.post("acme-shared", "alice", "<@U0BOT> write a welcome note for Acme")
    draft = await tandem.wait_draft("C0ACME", ts)
    await slack.click("carol", "tandem_approve", channel="C0ACME", ts=draft["ts"])
    await wait_text(tandem, "C0ACME", ts, "outside the workspace", as_user="U0CAROL")
    assert decisions(tandem) == []
    assert await finals(tandem, "C0ACME", ts) == []


@pytest.mark.harness(channels={"general": ChannelPolicy(reviewers=["@reviewers"],
                                                         allow_self_approve=False)})
async def test_only_configured_reviewers_may_approve(tandem: Harness) -> None:
    slack = tandem.slack
    assert slack is not None
    ts = await slack.post("general", "alice", "<@U0BOT> write the sprint summary")
    draft = await tandem.wait_draft("C0GENERAL", ts)
    await slack.click("alice", "tandem_approve", channel="C0GENERAL", ts=draft["ts"])
    refusal = await wait_text(tandem, "C0GENERAL", ts, "can't review", as_user="U0ALICE")
    assert "reviewers" in text_of(refusal)
    await asyncio.sleep(0.3)
    assert decisions(tandem) == []
    await slack.click("bob", "tandem_approve", channel="C0GENERAL", ts=draft["ts"])
    await slack.wait_for(lambda: finals(tandem, "C0GENERAL", ts))
    (decision,) = decisions(tandem)
    assert decision.reviewer_id == "U0BOB"


@pytest.mark.harness(channels={"general": ChannelPolicy(allow_self_approve=False)})
async def test_requester_cannot_approve_own_draft_when_policy_forbids(tandem: Harness) -> None:
    slack = tandem.slack
    assert slack is not None
    ts = await slack.post("general", "alice", "<@U0BOT> write the sprint summary")
    draft = await tandem.wait_draft("C0GENERAL", ts)
    await slack.react("C0GENERAL", draft["ts"], "alice", "white_check_mark")
    await wait_text(tandem, "C0GENERAL", ts, "someone other than the requester", as_user="U0ALICE")
    assert decisions(tandem) == []


async def test_requester_may_approve_own_draft_by_default(tandem: Harness) -> None:
    slack = tandem.slack
    assert slack is not None
    ts = await slack.post("general", "alice", "<@U0BOT> write the sprint summary")
    draft = await tandem.wait_draft("C0GENERAL", ts)
    await slack.click("alice", "tandem_approve", channel="C0GENERAL", ts=draft["ts"])
    await slack.wait_for(lambda: finals(tandem, "C0GENERAL", ts))
    assert decisions(tandem)[0].reviewer_id == "U0ALICE"


@pytest.mark.harness(channels={"general": ChannelPolicy(auto_post=["question"])})
async def test_auto_post_job_posts_with_feedback_buttons_and_records_feedback(
        tandem: Harness) -> None:
    slack = tandem.slack
    assert slack is not None
    ts = await slack.post("general", "alice", "<@U0BOT> what is our on-call escalation policy?")
    answer = await wait_posted(tandem, "C0GENERAL", ts)
    assert "tandem_approve" not in button_values(answer)
    await slack.click("bob", "tandem_feedback_up", channel="C0GENERAL", ts=answer["ts"])
    await slack.wait_for(lambda: _decided(tandem))
    (decision,) = decisions(tandem)
    assert decision.verdict == "approved" and decision.source == "feedback"
    assert decision.job == "question"


async def _decided(h: Harness) -> bool:
    return bool(decisions(h))


@pytest.mark.harness(settings_overrides={"draft_expiry_seconds": 1.0})
async def test_unreviewed_draft_expires_and_is_recorded_as_expired(tandem: Harness) -> None:
    slack = tandem.slack
    assert slack is not None
    ts = await slack.post("general", "alice", "<@U0BOT> write the sprint summary")
    draft = await tandem.wait_draft("C0GENERAL", ts)
    await slack.wait_for(lambda: _decided(tandem), timeout=10)
    (decision,) = decisions(tandem)
    assert decision.verdict == "expired" and decision.reviewer_id is None
    expired = await wait_text(tandem, "C0GENERAL", ts, "Expired")
    assert expired["ts"] == draft["ts"]
    assert "tandem_approve" not in button_values(expired)  # nothing left to approve
    assert await finals(tandem, "C0GENERAL", ts) == []

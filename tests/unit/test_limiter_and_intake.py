from __future__ import annotations

import asyncio
import time

from bot.drafting.intake import channel_kind, check_text, placement
from bot.settings import ChannelPolicy
from bot.slack.limiter import SlackLimiter
from bot.slack.tiers import TIERS


def test_limiter_allows_a_tier_burst_then_refuses_optional_calls() -> None:
    limiter = SlackLimiter()
    burst = TIERS[2].burst - 1  # one token of margin under Slack's bucket
    assert all(limiter.try_acquire("chat.startStream", team="T") for _ in range(burst))
    assert not limiter.available("chat.startStream", team="T")
    assert limiter.available("chat.startStream", team="OTHER")  # per workspace


def test_post_message_budget_is_per_channel() -> None:
    limiter = SlackLimiter()
    for _ in range(9):
        assert limiter.try_acquire("chat.postMessage", team="T", channel="C1")
    assert not limiter.available("chat.postMessage", team="T", channel="C1")
    assert limiter.available("chat.postMessage", team="T", channel="C2")


def test_a_refilled_stream_goes_to_the_channel_with_the_most_drafts_waiting_to_post() -> None:
    limiter = SlackLimiter()
    with limiter.queued_post(team="T", channel="C1"), \
            limiter.queued_post(team="T", channel="C1"), \
            limiter.queued_post(team="T", channel="C2"), \
            limiter.queued_post(team="OTHER", channel="C9"), \
            limiter.queued_post(team="OTHER", channel="C9"), \
            limiter.queued_post(team="OTHER", channel="C9"):
        assert limiter.longest_post_queue(team="T", channel="C1")
        assert not limiter.longest_post_queue(team="T", channel="C2")  # C1 waits longer
        with limiter.queued_post(team="T", channel="C2"):  # a tie: either may take it
            assert limiter.longest_post_queue(team="T", channel="C2")
            assert limiter.longest_post_queue(team="T", channel="C1")
        assert limiter.longest_post_queue(team="OTHER", channel="C9")  # other teams: their own
    assert limiter.longest_post_queue(team="T", channel="C2")  # nobody waits any more


async def test_acquire_queues_until_refill_instead_of_failing() -> None:
    limiter = SlackLimiter(scale=60.0)  # tier 4: 100/min * 60 = 100/s
    for _ in range(TIERS[4].burst * 60):
        limiter.try_acquire("users.info", team="T")
    started = time.monotonic()
    await asyncio.gather(*(limiter.acquire("users.info", team="T") for _ in range(5)))
    assert time.monotonic() - started > 0.02  # it waited for the refill instead of failing


def test_check_text_flags_empty_and_truncates() -> None:
    assert check_text("  :tada: 🎉 ", 100) == ("", "empty")
    assert check_text("x" * 150, 100) == ("x" * 100, "truncated")
    assert check_text("write it", 100) == ("write it", None)


def test_support_in_shared_channel_is_placed_in_review_channel() -> None:
    kind = channel_kind(is_im=False, is_shared=True, policy=ChannelPolicy())
    where = placement(job="support", kind=kind, channel="C1", thread_ts="1.0",
                      review_channel="C9")
    assert where.hidden_from_customer and where.review_channel == "C9"
    assert where.final_channel == "C1" and where.final_thread_ts == "1.0"


def test_documents_stay_in_their_thread() -> None:
    where = placement(job="document", kind="internal", channel="C1", thread_ts="1.0",
                      review_channel="C9")
    assert not where.hidden_from_customer and where.review_channel == "C1"

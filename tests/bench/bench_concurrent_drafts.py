"""P3: 200 concurrent drafts against a fake LLM with 1 s latency, in two runs.

1. Slack's rate limits off (sandbox and bot): measures the bot alone.
   Goal: makespan ≤ 2 s, so the bot never serialises.
2. Slack's tiers on. chat.startStream/stopStream are Tier 2 (20/min, a bucket of
   20) and chat.postMessage ≈ 1/s per channel (a burst of 10), so 200 streams
   cannot all start at once. Goals: zero 429s, every draft delivered, makespan
   ≤ 1.2 × the lower bound the tiers impose (computed below).

Makespan runs from the first mention posted to the last draft finished (review
buttons shown, stream stopped). Prints one JSON object.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script from anywhere

from sqlmodel import Session, col, func, select  # noqa: E402

from bot.slack.tiers import POST_MESSAGE_PER_CHANNEL, TIERS  # noqa: E402
from bot.store.models import Draft, DraftStatus  # noqa: E402
from tests.bench._common import CHANNELS, finishing_calls, post_elsewhere, start  # noqa: E402

LLM_LATENCY = 1.0


def tier_lower_bound(n: int, channels: int) -> float:
    """Smallest T with enough message-creating calls for n drafts by time T.

    Each draft needs at least one call that creates its message: a stream
    (startStream, plus a stopStream from the same-sized Tier 2 bucket) or one
    chat.postMessage. By time T the tiers allow B2 + r2·T streams and, per
    channel, Bp + rp·T posts. Nothing can be posted before the model's first
    token (LLM_LATENCY), so the bound is LLM_LATENCY + the smallest such T.
    """
    t2, post = TIERS[2], POST_MESSAGE_PER_CHANNEL
    burst = t2.burst + channels * post.burst
    rate = t2.per_second + channels * post.per_second
    return LLM_LATENCY + max(0.0, (n - burst) / rate)


def _reviewable(session: Session) -> int:
    """Drafts whose text is final (their review buttons are on the way or shown)."""
    statement = select(func.count()).select_from(Draft).where(
        col(Draft.status).in_([DraftStatus.pending_review, DraftStatus.posted]))
    return int(session.exec(statement).one())


async def run(n: int, *, rate_limits: bool, timeout: float) -> dict[str, object]:
    stack = await start(first_token_delay=LLM_LATENCY, rate_limits=rate_limits)
    try:
        slack = stack.slack
        assert slack is not None
        # The mentions come from another process, so that their posting does not
        # spend the CPU of the bot being measured.
        started = await post_elsewhere(stack, [(CHANNELS[i % len(CHANNELS)], "alice",
                                                f"<@U0BOT> write status update {i}")
                                               for i in range(n)])
        # The sandbox logs every Web API call with its time: a draft is finished when the
        # call showing its review buttons succeeds (stopStream, or a post/update with them).
        # Waiting polls the bot's records (cheap) rather than the whole call log, whose
        # parsing would land in the bot's process and slow the bot being measured.
        assert stack.bot is not None
        store = stack.bot.services.store
        while time.time() - started < timeout and await store.run(_reviewable) < n:
            await asyncio.sleep(0.25)
        done: list[dict[str, object]] = []
        while len(done) < n and time.time() - started < timeout:
            await asyncio.sleep(0.25)
            done = finishing_calls(await slack.calls())
        makespan = max(float(c["time"]) for c in done) - started if done else float("nan")  # type: ignore[arg-type]
        calls = await slack.calls()
        by_method = Counter(c["method"] for c in calls)
        ratelimited = sum(1 for c in calls if c.get("status") == 429
                          or c.get("error") == "ratelimited")
        streamed = by_method.get("chat.startStream", 0)
        return {"rate_limits": rate_limits, "drafts": n, "delivered": len(done),
                "makespan_s": round(makespan, 2), "http_429": ratelimited,
                "streamed_drafts": streamed, "posted_once_drafts": n - streamed,
                "slack_calls_per_draft": round(len(calls) / n, 2),
                "calls_by_method": dict(sorted(by_method.items()))}
    finally:
        await stack.stop()


async def main(n: int = 200) -> dict[str, object]:
    off = await run(n, rate_limits=False, timeout=60)
    on = await run(n, rate_limits=True, timeout=240)
    bound = tier_lower_bound(n, len(CHANNELS))
    on["lower_bound_s"] = round(bound, 2)
    on["ratio_to_bound"] = round(float(on["makespan_s"]) / bound, 3)  # type: ignore[arg-type]
    return {
        "bench": "concurrent_drafts", "llm_latency_s": LLM_LATENCY, "channels": len(CHANNELS),
        "limits_off": {**off, "goal_makespan_s": 2.0,
                       "met": off["delivered"] == n and float(off["makespan_s"]) <= 2.0},  # type: ignore[arg-type]
        "limits_on": {**on, "goal_ratio": 1.2,
                      "met": on["delivered"] == n and on["http_429"] == 0
                      and float(on["ratio_to_bound"]) <= 1.2},  # type: ignore[arg-type]
        "bound_formula": "1 s + (n − (B2 + C·Bp)) / (r2 + C·rp), B2=20, r2=1/3 s⁻¹, "
                         "Bp=10, rp=1 s⁻¹ per channel, C=4",
    }


if __name__ == "__main__":
    result = asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200))
    print(json.dumps(result))  # noqa: T201

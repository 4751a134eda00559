"""P1: ack latency under a burst of 200 mentions (goal p99 < 50 ms).

The bot times each Socket Mode envelope from its arrival to the ack it sends
(`ack_ms_bot`, what the goal is about); the sandbox, in its own process, also
times the round trip from its send to the ack's arrival, which adds its own
busy event loop (it is also serving the bot's 200 streams). 200 mentions are
posted at once across four channels while the fake
LLM (1 s to first token) keeps every draft in flight. Prints one JSON object.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script from anywhere

from tests.bench._common import CHANNELS, post_elsewhere, start, summary  # noqa: E402


async def main(n: int = 200) -> dict[str, object]:
    stack = await start(first_token_delay=1.0, rate_limits=False)
    try:
        slack = stack.slack
        assert slack is not None
        # Posted from another process, as real users would: the bot's process holds
        # only the bot whose acks are timed.
        started = await post_elsewhere(stack, [(CHANNELS[i % len(CHANNELS)], "alice",
                                                f"<@U0BOT> write update number {i}")
                                               for i in range(n)])
        posted = time.time() - started
        acks: list[float] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            log = await slack.deliveries()
            acks = [d["ack_ms"] for d in log if "ack_ms" in d
                    and d.get("payload", {}).get("event", {}).get("type") == "app_mention"]
            if len(acks) >= n:
                break
            await asyncio.sleep(0.2)
        retries = sum(1 for d in log if d.get("retry_attempt"))
        stats = summary(acks)
        assert stack.bot is not None
        bot_side = summary([x * 1000 for x in stack.bot.services.metrics.ack_samples])
        return {"bench": "ack_latency_burst", "mentions": n,
                "burst_posted_within_s": round(posted, 3),
                "ack_ms_bot": bot_side, "ack_ms_round_trip_at_sandbox": stats,
                "redeliveries": retries, "goal_p99_ms": 50,
                "met": bot_side.get("n", 0) >= n and bot_side["p99"] < 50}
    finally:
        await stack.stop()


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main())))  # noqa: T201

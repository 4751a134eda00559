"""Slack's rate limits: per method tier and per channel for chat.postMessage, 429 + Retry-After."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.ratelimit import POST_MESSAGE_BURST, RateLimiter
from bot.sandbox.server import Sandbox, SandboxConfig


@pytest.fixture
async def limited() -> AsyncIterator[Sandbox]:
    sb = Sandbox(SandboxConfig())  # production limits, unscaled
    await sb.start()
    yield sb
    await sb.stop()


async def test_post_message_burst_then_429_with_retry_after(limited: Sandbox,
                                                            http: aiohttp.ClientSession) -> None:
    headers = {"Authorization": f"Bearer {limited.cfg.bot_token}"}
    statuses = []
    for i in range(POST_MESSAGE_BURST + 2):
        async with http.post(limited.api_url + "chat.postMessage", headers=headers,
                             json={"channel": "C0GENERAL", "text": f"m{i}"}) as r:
            statuses.append((r.status, r.headers.get("Retry-After"), (await r.json())["ok"]))
    assert statuses[:POST_MESSAGE_BURST] == [(200, None, True)] * POST_MESSAGE_BURST
    assert statuses[-1] == (429, "1", False)
    # Another channel has its own bucket.
    async with http.post(limited.api_url + "chat.postMessage", headers=headers,
                         json={"channel": "C0SUPPORT", "text": "elsewhere"}) as r:
        assert r.status == 200


async def test_slack_sdk_sees_ratelimited_error(limited: Sandbox) -> None:
    web = AsyncWebClient(token=limited.cfg.bot_token, base_url=limited.api_url)
    first = await web.chat_postMessage(channel="C0GENERAL", text="x")
    stream = await web.chat_startStream(channel="C0GENERAL", thread_ts=first["ts"],
                                        markdown_text="a", recipient_user_id="U0ALICE",
                                        recipient_team_id="T0TANDEM")
    with pytest.raises(SlackApiError) as info:
        for _ in range(25):  # chat.startStream is Tier 2: about 20 a minute
            await web.chat_getPermalink(channel="C0GENERAL", message_ts=stream["ts"])
            await web.chat_startStream(channel="C0GENERAL", thread_ts=first["ts"],
                                       markdown_text="a", recipient_user_id="U0ALICE",
                                       recipient_team_id="T0TANDEM")
    assert info.value.response.status_code == 429
    assert info.value.response["error"] == "ratelimited"
    assert int(info.value.response.headers["Retry-After"]) >= 1
    calls = [c for c in limited.calls if c["method"] == "chat.startStream"]
    assert sum(c["status"] == 200 for c in calls) == 20


async def test_limits_off_never_429() -> None:
    sb = Sandbox(SandboxConfig(rate_limits=False))
    await sb.start()
    try:
        web = AsyncWebClient(token=sb.cfg.bot_token, base_url=sb.api_url)
        for i in range(30):
            await web.chat_postMessage(channel="C0GENERAL", text=str(i))
    finally:
        await sb.stop()


def test_bucket_refills_at_tier_rate() -> None:
    now = [1000.0]
    limiter = RateLimiter(clock=lambda: now[0])
    assert [limiter.check("T", "chat.update") for _ in range(50)] == [0] * 50
    assert limiter.check("T", "chat.update") == 2  # Tier 3: 50/min, one every 1.2 s
    now[0] += 1.2
    assert limiter.check("T", "chat.update") == 0


def test_scale_multiplies_rate_and_burst() -> None:
    now = [0.0]
    limiter = RateLimiter(scale=10, clock=lambda: now[0])
    allowed = sum(limiter.check("T", "chat.postMessage", "C1") == 0 for _ in range(200))
    assert allowed == POST_MESSAGE_BURST * 10

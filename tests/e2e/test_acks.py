"""Events are acked when they are read, not when the bot gets round to them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.e2e.helpers import requests
from tests.support.harness import Harness


def _mentions(deliveries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in deliveries
            if d.get("payload", {}).get("event", {}).get("type") == "app_mention"]


@pytest.mark.harness(ack_timeout=1.0)
async def test_an_event_is_acked_while_the_bots_dispatch_is_stalled(tandem: Harness) -> None:
    slack = tandem.slack
    assert slack is not None and tandem.bot is not None and tandem.bot.socket is not None
    client = tandem.bot.socket.client
    release = asyncio.Event()
    dispatch = client.run_message_listeners

    async def stalled(message: dict[str, Any], raw: str) -> None:
        await release.wait()  # a dispatch queue held up, as by a burst of drafts
        await dispatch(message, raw)

    client.run_message_listeners = stalled  # type: ignore[method-assign]
    ts = await slack.post("general", "alice", "<@U0BOT> write the weekly update")

    async def acked() -> list[dict[str, Any]]:
        return [d for d in _mentions(await slack.deliveries()) if "ack_ms" in d]

    await slack.wait_for(acked, timeout=5)
    await asyncio.sleep(1.5)  # past the sandbox's ack timeout: no redelivery may follow
    mentions = _mentions(await slack.deliveries())
    assert len(mentions) == 1 and not mentions[0].get("retry_attempt")
    release.set()
    await tandem.wait_draft("C0GENERAL", ts)
    assert len(requests(tandem)) == 1

"""The draft writer against the sandbox's real Web API: what reaches Slack, in how many calls."""

from __future__ import annotations

import asyncio

from bot.drafting.writer import DraftWriter, Surface
from bot.sandbox.server import Sandbox
from bot.slack.client import LimitedWebClient
from bot.slack.limiter import SlackLimiter
from tests.support.sandbox_client import SandboxClient

BUTTONS = [{"type": "actions", "elements": [{"type": "button", "action_id": "tandem_approve",
                                             "text": {"type": "plain_text", "text": "Approve"},
                                             "value": "d1"}]}]


async def _writer(sandbox: Sandbox, client: SandboxClient) -> DraftWriter:
    ts = await client.post("general", "alice", "<@U0BOT> write the update")
    web = LimitedWebClient(limiter=SlackLimiter(enabled=False), token="xoxb-sandbox",
                           base_url=sandbox.url + "/api/")
    writer = DraftWriter(web, Surface(channel="C0GENERAL", thread_ts=ts, team_id="T0TANDEM",
                                          recipient_user_id="U0ALICE"), allowed_users=set())
    await writer.open()
    return writer


async def _shown(client: SandboxClient, writer: DraftWriter) -> str:
    assert writer.ts is not None
    (message,) = [m for m in await client.messages("C0GENERAL", thread_ts=writer.surface.thread_ts)
                  if m["ts"] == writer.ts]
    return str(message["text"])


async def test_an_answer_that_arrived_whole_is_shown_by_start_and_stop_alone(
        sandbox: Sandbox, client: SandboxClient) -> None:
    writer = await _writer(sandbox, client)
    for delta in ("Hello ", "team, ", "the update."):  # all buffered: no turn of the loop
        await writer.append(delta)
    writer.hold_first_append()
    await writer.finish(text="Hello team, the update.", blocks=BUTTONS, stream_blocks=BUTTONS)
    assert writer.calls == ["chat.startStream", "chat.stopStream"]
    assert (await _shown(client, writer)).endswith("Hello team, the update.")
    assert writer.first_visible_at is not None


async def test_a_slow_answer_shows_its_first_text_at_once_and_nothing_twice(
        sandbox: Sandbox, client: SandboxClient) -> None:
    writer = await _writer(sandbox, client)
    await writer.append("Hello ")
    await writer.append("team, ")
    await client.wait_for(lambda: _appended(client))  # the model is slow: the loop turns
    assert writer.calls == ["chat.startStream", "chat.appendStream"]
    assert (await client.calls("chat.appendStream"))[0]["args"]["markdown_text"] == "Hello team, "
    await writer.append("the update.")
    writer.hold_first_append()
    await writer.finish(text="Hello team, the update.", blocks=BUTTONS, stream_blocks=BUTTONS)
    assert writer.calls == ["chat.startStream", "chat.appendStream", "chat.stopStream"]
    shown = await _shown(client, writer)
    assert shown.endswith("Hello team, the update.") and shown.count("Hello team") == 1


async def test_a_failure_before_the_first_append_sends_no_stale_append(
        sandbox: Sandbox, client: SandboxClient) -> None:
    writer = await _writer(sandbox, client)
    await writer.append("Half an ans")
    await writer.fail([{"type": "section", "text": {"type": "mrkdwn", "text": "Drafting failed"}}],
                      "Drafting failed")
    await asyncio.sleep(0.05)  # a leftover append would have gone out by now
    assert "chat.appendStream" not in writer.calls
    assert await client.calls("chat.appendStream") == []
    assert "Drafting failed" in await _shown(client, writer)


async def test_a_first_turn_that_showed_nothing_leaves_the_next_text_to_stream(
        sandbox: Sandbox, client: SandboxClient) -> None:
    writer = await _writer(sandbox, client)
    await writer.append("<@U0AL")  # a mention still being written: nothing safe to show yet
    await asyncio.sleep(0.05)
    assert writer.calls == ["chat.startStream"]
    await writer.append("ICE> hello")
    await client.wait_for(lambda: _appended(client))  # streams without waiting for the end
    assert writer.calls == ["chat.startStream", "chat.appendStream"]


async def _appended(client: SandboxClient) -> bool:
    return bool(await client.calls("chat.appendStream"))


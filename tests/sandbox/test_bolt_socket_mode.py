"""A minimal plain Bolt AsyncApp over Socket Mode, unchanged apart from base_url."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.server import Sandbox
from tests.support.sandbox_client import SandboxClient

BUTTONS = [
    {"type": "section", "block_id": "s", "text": {"type": "mrkdwn", "text": "Pick one"}},
    {"type": "actions", "block_id": "a", "elements": [
        {"type": "button", "action_id": "approve", "value": "draft-1",
         "text": {"type": "plain_text", "text": "Approve"}},
        {"type": "button", "action_id": "edit", "value": "draft-1",
         "text": {"type": "plain_text", "text": "Edit"}},
    ]},
]
MODAL = {
    "type": "modal", "callback_id": "edit_modal", "title": {"type": "plain_text", "text": "Edit"},
    "submit": {"type": "plain_text", "text": "Save"}, "private_metadata": "draft-1",
    "blocks": [{"type": "input", "block_id": "body",
                "label": {"type": "plain_text", "text": "Text"},
                "element": {"type": "plain_text_input", "action_id": "text",
                            "initial_value": "draft text"}}],
}


@pytest.fixture
async def bolt(sandbox: Sandbox) -> AsyncIterator[dict[str, Any]]:
    web = AsyncWebClient(token=sandbox.cfg.bot_token, base_url=sandbox.api_url)
    app = AsyncApp(token=sandbox.cfg.bot_token, client=web)
    seen: dict[str, Any] = {"reactions": [], "submitted": []}

    @app.event("app_mention")
    async def on_mention(event: dict[str, Any], say: Any) -> None:
        await say(text="Here is a draft", blocks=BUTTONS, thread_ts=event["ts"])

    @app.event("message")
    async def on_message() -> None:
        return None

    @app.action("approve")
    async def on_approve(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        await respond(replace_original=True, text=f"Approved by <@{body['user']['id']}>")

    @app.action("edit")
    async def on_edit(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=MODAL)

    @app.view("edit_modal")
    async def on_submit(ack: Any, view: dict[str, Any]) -> None:
        text = view["state"]["values"]["body"]["text"]["value"]
        if not text.strip():
            await ack(response_action="errors", errors={"body": "Say something"})
            return
        seen["submitted"].append((view["private_metadata"], text))
        await ack()

    @app.event("reaction_added")
    async def on_reaction(event: dict[str, Any]) -> None:
        seen["reactions"].append((event["reaction"], event["user"], event["item"]["ts"]))

    handler = AsyncSocketModeHandler(app, sandbox.cfg.app_token)
    await handler.connect_async()
    yield seen
    await handler.close_async()


async def _draft(client: SandboxClient) -> tuple[str, dict[str, Any]]:
    ts = await client.post("general", "alice", "<@U0BOT> draft the notes")

    async def reply() -> dict[str, Any] | None:
        msgs = await client.messages("general", thread_ts=ts)
        return next((m for m in msgs if m["bot_id"] == "B0BOT"), None)

    return ts, await client.wait_for(reply)


@pytest.mark.usefixtures("bolt")
async def test_mention_gets_threaded_reply_with_buttons(client: SandboxClient) -> None:
    ts, reply = await _draft(client)
    assert reply["thread_ts"] == ts
    assert reply["blocks"][1]["elements"][0]["action_id"] == "approve"
    top = await client.messages("general")
    assert [m["reply_count"] for m in top if m["ts"] == ts] == [1]


@pytest.mark.usefixtures("bolt")
async def test_button_click_respond_replaces_original(client: SandboxClient) -> None:
    ts, reply = await _draft(client)
    result = await client.click("bob", "approve", channel="general", ts=reply["ts"])
    assert result["acked"] is True

    async def approved() -> bool:
        msgs = await client.messages("general", thread_ts=ts)
        return any(m["text"] == "Approved by <@U0BOB>" for m in msgs)

    assert await client.wait_for(approved)


async def test_modal_submit_delivers_values_and_closes(client: SandboxClient,
                                                       bolt: dict[str, Any]) -> None:
    _, reply = await _draft(client)
    await client.click("bob", "edit", channel="general", ts=reply["ts"])
    views = await client.wait_for(lambda: client.views("bob"))
    assert views[0]["callback_id"] == "edit_modal"

    rejected = await client.submit(views[0]["id"], "bob", {"text": "  "})
    assert rejected["response_action"] == "errors"
    assert len(await client.views("bob")) == 1

    done = await client.submit(views[0]["id"], "bob", {"body": {"text": "better text"}})
    assert done["acked"] and done["response_action"] is None
    assert bolt["submitted"] == [("draft-1", "better text")]
    assert await client.views("bob") == []


async def test_reaction_reaches_app(client: SandboxClient, bolt: dict[str, Any]) -> None:
    ts = await client.post("general", "alice", "hello")
    await client.react("general", ts, "bob", "white_check_mark")

    async def reacted() -> list[Any]:
        return list(bolt["reactions"])

    assert await client.wait_for(reacted) == [("white_check_mark", "U0BOB", ts)]
    msgs = await client.messages("general")
    assert msgs[0]["reactions"] == [{"name": "white_check_mark", "users": ["U0BOB"], "count": 1}]

"""HTTP mode answers signed inert `message` events itself; everything else goes to Bolt."""

from __future__ import annotations

import json
import time
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from slack_sdk.signature import SignatureVerifier

from bot.slack.http import events_handler, is_inert_body
from tests.support.bolt_app import recording_app

SECRET = "test-signing-secret"
EDIT = {"type": "message", "subtype": "message_changed", "channel": "C1",
        "message": {"user": "U0BOT", "text": "Draft"}}
TWIN = {"type": "message", "user": "U1", "text": "<@U0BOT> hi", "channel": "C1"}
MENTION = {"type": "app_mention", "user": "U1", "text": "<@U0BOT> hi", "channel": "C1"}
CUSTOMER = {"type": "message", "user": "U7", "text": "is the export broken?", "channel": "C1"}


def _body(event: dict[str, Any], n: int) -> str:
    return json.dumps({"type": "event_callback", "team_id": "T1", "api_app_id": "A1",
                       "event_id": f"Ev{n}", "event": event})


def _signed(body: str) -> dict[str, str]:
    stamp = str(int(time.time()))
    return {"X-Slack-Request-Timestamp": stamp, "Content-Type": "application/json",
            "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(
                timestamp=stamp, body=body)}


def test_only_event_callbacks_carrying_inert_messages_are_inert_bodies() -> None:
    assert is_inert_body(_body(EDIT, 1), "U0BOT") and is_inert_body(_body(TWIN, 2), "U0BOT")
    assert not is_inert_body(_body(MENTION, 3), "U0BOT")
    assert not is_inert_body(_body(CUSTOMER, 4), "U0BOT")
    assert not is_inert_body("payload=%7B%22type%22%3A%22block_actions%22%7D", "U0BOT")
    assert not is_inert_body("{not json", "U0BOT")


async def test_signed_inert_events_skip_bolt_and_the_rest_reach_it() -> None:
    app, seen = recording_app(signing_secret=SECRET)

    @app.event("app_mention")
    async def mentioned() -> None:
        pass

    @app.event("message")
    async def messaged() -> None:
        pass

    web_app = web.Application()
    web_app.router.add_post("/slack/events", events_handler(app, signing_secret=SECRET,
                                                            bot_user_id="U0BOT"))
    async with TestClient(TestServer(web_app)) as http:
        statuses = []
        for n, event in enumerate((EDIT, TWIN, MENTION, CUSTOMER)):
            body = _body(event, n)
            resp = await http.post("/slack/events", data=body, headers=_signed(body))
            statuses.append(resp.status)
        forged = _body(EDIT, 9)
        refused = await http.post("/slack/events", data=forged, headers={
            "X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=bad",
            "Content-Type": "application/json"})
    assert statuses == [200, 200, 200, 200]
    assert seen == ["app_mention", "message"]  # the edit and the mention's twin never reach Bolt
    assert refused.status == 401  # unsigned: Bolt's verification answers, not the shortcut

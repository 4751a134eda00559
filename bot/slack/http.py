"""HTTP Events API mode: Bolt's aiohttp adapter on /slack/events, with the inert drop.

As in Socket Mode (`bot.slack.socket`), three of a burst's four events per draft
are `message` events that can never start one: the mention's twin and our draft
echoed back. A signed one is answered 200 at once instead of being parsed,
authorized and dispatched by Bolt; an unsigned one still goes to Bolt, which
refuses it.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.slack.mentions import is_inert_callback

__all__ = ["events_handler", "is_inert_body"]


def is_inert_body(body: str, bot_user_id: str) -> bool:
    """True for an Events API callback whose event is an inert `message`."""
    if not body.startswith("{"):
        return False  # interactive payloads and slash commands are form-encoded
    try:
        payload: Any = json.loads(body)
    except ValueError:
        return False
    return is_inert_callback(payload, bot_user_id)


def events_handler(app: AsyncApp, *, signing_secret: str, bot_user_id: str,
                   ) -> Callable[[web.Request], Awaitable[web.Response]]:
    verifier = SignatureVerifier(signing_secret)

    async def handle(request: web.Request) -> web.Response:
        body = await request.text()
        if is_inert_body(body, bot_user_id) \
                and verifier.is_valid_request(body, dict(request.headers)):
            return web.Response(status=200)
        bolt_request = AsyncBoltRequest(body=body, query=request.query_string,
                                        headers=request.headers)  # type: ignore[arg-type]
        return await to_aiohttp_response(await app.async_dispatch(bolt_request))

    return handle

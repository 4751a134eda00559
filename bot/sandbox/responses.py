"""response_url replies: what Slack does when an app POSTs to a response_url.

`replace_original` / `delete_original` act on the message the action came from
(ephemeral or not); otherwise a new message is posted, ephemeral to the user
unless `response_type` is "in_channel". A response_url works 5 times, as in Slack.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.sandbox.api_chat import checked_content, save_message
from bot.sandbox.apierror import ApiError
from bot.sandbox.blocks import rich_text_from
from bot.sandbox.messages import bot_message
from bot.sandbox.workspace import BOT_USER_ID

if TYPE_CHECKING:
    from bot.sandbox.server import Sandbox

__all__ = ["respond", "handle_response_url"]

MAX_USES = 5


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def respond(sb: Sandbox, ctx: dict[str, Any], body: dict[str, Any]) -> None:
    original = sb.store.get_message(ctx["channel"], ctx["ts"]) if ctx.get("ts") else None
    if _truthy(body.get("delete_original")):
        if original is None:
            raise ApiError("message_not_found")
        sb.store.delete_message(original["channel"], original["ts"])
        sb.notify(channel=original["channel"])
        return
    text, blocks = checked_content(body)
    if _truthy(body.get("replace_original")):
        if original is None:
            raise ApiError("message_not_found")
        new = {**original, "text": text, "blocks": blocks or rich_text_from(text),
               "edited": {"user": BOT_USER_ID, "ts": f"{time.time():.6f}"}}
        save_message(sb, new, previous=original)
        return
    thread_ts = body.get("thread_ts") or ctx.get("thread_ts")
    extra = {} if body.get("response_type") == "in_channel" else {"ephemeral_for": ctx["user"]}
    save_message(sb, bot_message(sb.store, channel=ctx["channel"], text=text, blocks=blocks,
                                 thread_ts=str(thread_ts) if thread_ts else None, extra=extra))


async def handle_response_url(sb: Sandbox, request: web.Request) -> web.Response:
    ctx = sb.response_urls.get(request.match_info["key"])
    if ctx is None or ctx.get("uses", 0) >= MAX_USES:
        return web.Response(status=404, text="expired_url")
    ctx["uses"] = ctx.get("uses", 0) + 1
    try:
        body = await request.json()
        if not isinstance(body, dict):
            raise ApiError("invalid_payload")
        respond(sb, ctx, body)
    except ValueError:
        return web.json_response({"ok": False, "error": "invalid_payload"})
    except ApiError as exc:
        return web.json_response(exc.body())
    return web.json_response({"ok": True})

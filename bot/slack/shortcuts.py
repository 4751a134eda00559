"""The message shortcut "Draft a reply with Tandem": the support route for that message."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.container import Services
from bot.drafting.intake import Ask
from bot.slack import ids

__all__ = ["register"]


def register(app: AsyncApp) -> None:
    app.shortcut(ids.DRAFT_SHORTCUT)(on_shortcut)


async def on_shortcut(ack: Callable[..., Awaitable[None]], body: dict[str, Any],
                      services: Services) -> None:
    await ack()
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id")
    user = body.get("user") or {}
    if not channel or not user.get("id") or not message.get("ts"):
        return
    services.spawn(services.drafting.handle_ask(Ask(
        event_key=f"shortcut:{body.get('trigger_id') or message['ts'] + user['id']}",
        team_id=(body.get("team") or {}).get("id", ""), channel_id=channel,
        user_id=user["id"], user_team_id=user.get("team_id"), text=message.get("text") or "",
        trigger="shortcut", message_ts=message["ts"], thread_ts=message.get("thread_ts"))))

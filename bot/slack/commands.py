"""The slash command `/tandem [doc|ask|reply] <text>`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.container import Services
from bot.drafting.intake import Ask
from bot.slack import ids

__all__ = ["register"]


def register(app: AsyncApp) -> None:
    app.command(ids.SLASH_COMMAND)(on_command)


async def on_command(ack: Callable[..., Awaitable[None]], command: dict[str, Any],
                     services: Services) -> None:
    await ack()
    services.spawn(services.drafting.handle_command(Ask(
        event_key=f"command:{command.get('trigger_id')}", team_id=command.get("team_id", ""),
        channel_id=command.get("channel_id", ""), user_id=command.get("user_id", ""),
        user_team_id=command.get("team_id"), text=command.get("text") or "", trigger="command",
        response_url=command.get("response_url"))))

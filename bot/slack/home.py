"""App Home: drafts waiting for the viewer, recent decisions, approval rates."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.container import Services

__all__ = ["register"]


def register(app: AsyncApp) -> None:
    app.event("app_home_opened")(on_home)


async def on_home(event: dict[str, Any], services: Services) -> None:
    if event.get("tab", "home") != "home" or not event.get("user"):
        return
    services.spawn(services.review.home(event["user"]))

"""A real Bolt `AsyncApp` that records which events reach its middleware."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult

__all__ = ["recording_app"]


def recording_app(**options: Any) -> tuple[AsyncApp, list[str]]:
    """An app authorised as bot U0BOT in team T1; the list fills with each event's
    subtype, bot_id or type as Bolt dispatches it."""

    async def authorize(**_: Any) -> AuthorizeResult:
        return AuthorizeResult(enterprise_id=None, team_id="T1", bot_token="xoxb-test",
                               bot_user_id="U0BOT", bot_id="B0BOT")

    app = AsyncApp(authorize=authorize, process_before_response=True, **options)
    seen: list[str] = []

    @app.middleware
    async def record(body: dict[str, Any], next: Any) -> None:  # noqa: A002
        event = body["event"]
        seen.append(str(event.get("subtype") or event.get("bot_id") or event["type"]))
        await next()

    return app, seen

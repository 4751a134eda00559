"""The Bolt app: every Slack surface registered, services injected via context."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult

from bot.container import Services
from bot.slack import actions, commands, home, mentions, reactions, shortcuts, views

__all__ = ["build_app"]

log = logging.getLogger(__name__)


def build_app(services: Services) -> AsyncApp:
    settings = services.settings
    # Authorization is known from start-up's auth.test; Bolt's default would call
    # auth.test again for every concurrent event until its cache fills.
    known = AuthorizeResult(enterprise_id=None, team_id=services.team_id,
                            bot_user_id=services.bot_user_id, bot_id=services.bot_id,
                            bot_token=services.client.token)

    async def authorize() -> AuthorizeResult:
        return known

    app = AsyncApp(
        client=services.client,
        authorize=authorize,
        signing_secret=settings.slack_signing_secret or "unused-in-socket-mode",
        request_verification_enabled=not settings.socket_mode,
        process_before_response=False,
    )

    @app.middleware
    async def inject(context: dict[str, Any], next: Callable[[], Awaitable[None]]) -> None:  # noqa: A002
        context["services"] = services
        await next()

    @app.error
    async def on_error(error: Exception, body: dict[str, Any]) -> None:
        log.error("listener failed on %s: %r", body.get("type"), error)

    for surface in (mentions, actions, views, reactions, shortcuts, commands, home):
        surface.register(app)
    return app
